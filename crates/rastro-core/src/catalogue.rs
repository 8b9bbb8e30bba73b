//! The catalogue of controlled and watched chemicals (BRIEF sections 5 and C1).
//!
//! The 1988 Convention Table I fentanyl precursors are built in; a TOML file can add
//! national lists, watch lists, synonyms and per-substance reporting thresholds.

use crate::ids::{Cas, HsCode, IdError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ControlList {
    /// 1988 UN Convention, Table I.
    #[serde(rename = "table-i")]
    TableI,
    /// 1988 UN Convention, Table II.
    #[serde(rename = "table-ii")]
    TableII,
    /// A national control list (configuration names which).
    #[serde(rename = "national")]
    National,
    /// Not scheduled; under voluntary surveillance.
    #[serde(rename = "watch")]
    Watch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chemical {
    pub cas: Cas,
    pub name: String,
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// HS 2022 subheading(s) under which the substance is properly declared.
    pub hs: Vec<HsCode>,
    pub list: ControlList,
    /// Year the substance entered its list, when known.
    #[serde(default)]
    pub since: Option<u16>,
    /// Per-consignment reporting threshold in kg, when the deployment sets one.
    #[serde(default)]
    pub threshold_kg: Option<f64>,
}

/// Every chemical Rastro watches, keyed by CAS number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub chemicals: BTreeMap<Cas, Chemical>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue file is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("catalogue entry {index}: {source}")]
    Id { index: usize, source: IdError },
}

#[derive(Deserialize)]
struct CatalogueFile {
    #[serde(default, rename = "chemical")]
    chemicals: Vec<ChemicalEntry>,
}

#[derive(Deserialize)]
struct ChemicalEntry {
    cas: String,
    name: String,
    #[serde(default)]
    synonyms: Vec<String>,
    #[serde(default)]
    hs: Vec<String>,
    list: ControlList,
    #[serde(default)]
    since: Option<u16>,
    #[serde(default)]
    threshold_kg: Option<f64>,
}

fn builtin(cas: &str, name: &str, synonyms: &[&str], hs: &str, since: u16) -> Chemical {
    Chemical {
        // The literals below are BRIEF section 5 and are checked by a unit test.
        cas: Cas::parse(cas).expect("built-in CAS numbers are valid (tested)"),
        name: name.into(),
        synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
        hs: vec![HsCode::parse(hs).expect("built-in HS codes are valid (tested)")],
        list: ControlList::TableI,
        since: Some(since),
        threshold_kg: None,
    }
}

impl Catalogue {
    /// The fentanyl precursors of the 1988 Convention Table I (BRIEF section 5).
    pub fn builtin() -> Catalogue {
        let list = [
            builtin(
                "21409-26-7",
                "ANPP",
                &["4-anilino-N-phenethylpiperidine", "despropionyl fentanyl"],
                "2933.36",
                2017,
            ),
            builtin(
                "39742-60-4",
                "NPP",
                &["N-phenethyl-4-piperidone", "1-phenethyl-4-piperidone"],
                "2933.37",
                2017,
            ),
            builtin(
                "23056-29-3",
                "4-AP",
                &["4-anilinopiperidine", "N-phenylpiperidin-4-amine"],
                "2933.39",
                2022,
            ),
            builtin(
                "125541-22-2",
                "1-boc-4-AP",
                &[
                    "tert-butyl 4-(phenylamino)piperidine-1-carboxylate",
                    "boc-4-AP",
                ],
                "2933.39",
                2022,
            ),
            builtin(
                "1609-66-1",
                "norfentanyl",
                &["N-phenyl-N-(piperidin-4-yl)propanamide"],
                "2933.39",
                2022,
            ),
            builtin(
                "41661-47-6",
                "4-piperidone",
                &["piperidin-4-one"],
                "2933.39",
                2024,
            ),
            builtin(
                "79099-07-3",
                "1-boc-4-piperidone",
                &[
                    "tert-butyl 4-oxopiperidine-1-carboxylate",
                    "N-boc-4-piperidone",
                ],
                "2933.39",
                2024,
            ),
        ];
        Catalogue {
            chemicals: list.into_iter().map(|c| (c.cas.clone(), c)).collect(),
        }
    }

    /// Merges a TOML catalogue (`[[chemical]]` tables) over `self`; an entry with a CAS
    /// already present replaces it, so a deployment can set thresholds on built-ins.
    pub fn merge_toml(&mut self, text: &str) -> Result<(), CatalogueError> {
        let file: CatalogueFile = toml::from_str(text)?;
        for (index, e) in file.chemicals.into_iter().enumerate() {
            let cas = Cas::parse(&e.cas).map_err(|source| CatalogueError::Id { index, source })?;
            let hs =
                e.hs.iter()
                    .map(|h| HsCode::parse(h))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| CatalogueError::Id { index, source })?;
            let chem = Chemical {
                cas: cas.clone(),
                name: e.name,
                synonyms: e.synonyms,
                hs,
                list: e.list,
                since: e.since,
                threshold_kg: e.threshold_kg,
            };
            self.chemicals.insert(cas, chem);
        }
        Ok(())
    }

    pub fn get(&self, cas: &Cas) -> Option<&Chemical> {
        self.chemicals.get(cas)
    }

    /// Whether an HS code is a proper declaration for the chemical: the 6-digit subheadings
    /// must agree.
    pub fn hs_consistent(&self, cas: &Cas, hs: &HsCode) -> Option<bool> {
        self.get(cas)
            .map(|c| c.hs.iter().any(|h| h.subheading() == hs.subheading()))
    }

    /// Finds a chemical by any of its names, ignoring case.
    pub fn find_by_name(&self, name: &str) -> Option<&Chemical> {
        let n = name.trim().to_lowercase();
        self.chemicals.values().find(|c| {
            c.name.to_lowercase() == n || c.synonyms.iter().any(|s| s.to_lowercase() == n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_matches_brief() {
        let c = Catalogue::builtin();
        assert_eq!(c.chemicals.len(), 7);
        let anpp = c.get(&Cas::parse("21409-26-7").unwrap()).unwrap();
        assert_eq!(anpp.hs[0].dotted_subheading(), "2933.36");
        assert_eq!(
            c.find_by_name("n-phenethyl-4-piperidone").unwrap().name,
            "NPP"
        );
    }

    #[test]
    fn toml_extends_and_overrides() {
        let mut c = Catalogue::builtin();
        c.merge_toml(
            r#"
            [[chemical]]
            cas = "110-89-4"
            name = "piperidine"
            hs = ["2933.32"]
            list = "table-ii"
            threshold_kg = 0.5

            [[chemical]]
            cas = "39742-60-4"
            name = "NPP"
            hs = ["2933.37"]
            list = "table-i"
            threshold_kg = 0.001
            "#,
        )
        .unwrap();
        assert_eq!(c.chemicals.len(), 8);
        assert_eq!(
            c.get(&Cas::parse("39742-60-4").unwrap())
                .unwrap()
                .threshold_kg,
            Some(0.001)
        );
        assert!(c
            .merge_toml("[[chemical]]\ncas = \"110-89-5\"\nname = \"x\"\nlist = \"watch\"")
            .is_err());
    }
}
