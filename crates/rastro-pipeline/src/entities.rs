//! Party records resolved into entities (Fellegi–Sunter, [`rastro_resolve`]) and linked to the
//! entities they share a phone, an RFC or an address with: the [`PartyLinks`] that front-
//! consignee and structuring detection read. Built per view from the records that view may
//! see, so a link resting on a hidden record does not exist for that view.

use rastro_core::Party;
use rastro_detect::links::{LinkPath, PartyLinks};
use rastro_resolve::incremental::Resolver;
use rastro_resolve::{normalise, Settings, Table};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How party records compare: names as organisation names (legal forms, stop words and word
/// order ignored; a person's name loses only its order), RFC, phone, address and city.
/// Blocking on the identifiers and on a name prefix, so records of one entity meet even when
/// each identifier is missing from one of them.
pub const PARTY_SETTINGS: &str = r#"
id = "id"
blocking = [["rfc"], ["phone"], ["name.first(4)"], ["city", "address.first(4)"]]
threshold = 0.9
u_sample_pairs = 200000
max_cluster = 50

[[columns]]
name = "name"
type = "org_name"
tf = true

[[columns]]
name = "rfc"
type = "rfc"

[[columns]]
name = "phone"
type = "phone"

[[columns]]
name = "address"
type = "address"

[[columns]]
name = "city"
type = "name"
"#;

/// Why two party records are linked.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    /// One entity: the match probability and the columns that said so, strongest first.
    SameEntity { probability: f64, because: String },
    /// Different records sharing an identifier (`phone`, `RFC`, `address`) with its value.
    Shared { kind: &'static str, value: String },
}

impl Edge {
    pub fn describe(&self) -> String {
        match self {
            Edge::SameEntity {
                probability,
                because,
            } => format!("same entity (p {probability:.3}: {because})"),
            Edge::Shared { kind, value } => format!("{kind} {value}"),
        }
    }
}

/// Entities and links over one view's party records.
pub struct Entities {
    ids: Vec<String>,
    /// Each record's marking, for the marking of a chain of links.
    markings: Vec<rastro_core::Marking>,
    index: HashMap<String, usize>,
    /// Each record's entity: the index of its first record.
    entity: Vec<usize>,
    /// Each record's linked group (entities joined by shared identifiers): its first record.
    group: Vec<usize>,
    adjacency: Vec<Vec<(usize, Edge)>>,
    /// What the resolver said about its training, for the analysis report.
    pub notes: Vec<String>,
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent[hi] = lo;
    }
}

impl Entities {
    pub fn new<'a>(parties: impl IntoIterator<Item = &'a Party>) -> Entities {
        let mut list: Vec<&Party> = parties.into_iter().collect();
        // Id order, so indices (and so entity and group ids) do not depend on input order.
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list.dedup_by(|a, b| a.id == b.id);
        let n = list.len();
        let settings = Settings::from_toml(PARTY_SETTINGS, "PARTY_SETTINGS")
            .expect("the built-in party settings are valid (tested)");
        let mut table = Table::new(&settings);
        for p in &list {
            let rfc = p.rfc.as_ref().map(|r| r.as_str().to_string());
            table.push(
                p.id.clone(),
                0,
                &[
                    Some(p.name.as_str()),
                    rfc.as_deref(),
                    p.phone.as_deref(),
                    p.address.as_deref(),
                    p.city.as_deref(),
                ],
                None,
            );
        }
        let mut adjacency: Vec<Vec<(usize, Edge)>> = vec![Vec::new(); n];
        let mut entity: Vec<usize> = (0..n).collect();
        let mut notes = Vec::new();
        match Resolver::train(&settings, table) {
            Ok(mut r) => {
                notes.extend(r.model().notes.iter().cloned());
                for (i, slot) in entity.iter_mut().enumerate() {
                    *slot = r.cluster(i);
                }
                for i in 0..n {
                    let links: Vec<_> = r.links(i).to_vec();
                    for s in links {
                        let (a, b) = (s.a as usize, s.b as usize);
                        // Only links the cluster guard accepted make records one entity.
                        if a >= b || i != a || entity[a] != entity[b] {
                            continue;
                        }
                        let mut parts = r.explain(a, b);
                        parts.sort_by(|x, y| y.weight.total_cmp(&x.weight));
                        let because = parts
                            .iter()
                            .filter(|c| c.weight > 0.0)
                            .map(|c| format!("{} {} {:+.1}", c.column, c.level, c.weight))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let e = Edge::SameEntity {
                            probability: s.probability,
                            because,
                        };
                        adjacency[a].push((b, e.clone()));
                        adjacency[b].push((a, e));
                    }
                }
            }
            Err(e) => notes.push(format!("party resolution skipped: {e}")),
        }
        // Shared identifiers, each joining the records that hold it to the first that does.
        let mut first: BTreeMap<(&'static str, String), usize> = BTreeMap::new();
        for (i, p) in list.iter().enumerate() {
            let mut keys: Vec<(&'static str, String)> = Vec::new();
            if let Some(r) = &p.rfc {
                keys.push(("RFC", r.as_str().to_string()));
            }
            if let Some(ph) = p.phone.as_deref().and_then(normalise::phone) {
                keys.push(("phone", ph));
            }
            if let Some(a) = p.address.as_deref() {
                let parts = normalise::address(a);
                // A street with a number identifies a place; a bare colonia does not.
                if !parts.street.is_empty() && !parts.number.is_empty() {
                    keys.push(("address", parts.all));
                }
            }
            for k in keys {
                match first.get(&k) {
                    Some(&j) => {
                        if entity[i] != entity[j] {
                            let e = Edge::Shared {
                                kind: k.0,
                                value: k.1.clone(),
                            };
                            adjacency[i].push((j, e.clone()));
                            adjacency[j].push((i, e));
                        }
                    }
                    None => {
                        first.insert(k, i);
                    }
                }
            }
        }
        let mut parent: Vec<usize> = (0..n).collect();
        for (i, adj) in adjacency.iter().enumerate() {
            for (j, _) in adj {
                union(&mut parent, i, *j);
            }
        }
        for (i, e) in entity.iter().enumerate() {
            union(&mut parent, i, *e);
        }
        let group: Vec<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        let ids: Vec<String> = list.iter().map(|p| p.id.clone()).collect();
        let markings = list.iter().map(|p| p.marking.clone()).collect();
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        Entities {
            ids,
            markings,
            index,
            entity,
            group,
            adjacency,
            notes,
        }
    }

    /// The entity a record belongs to, as `ENT-` and the id of its first record; `None` for an
    /// unknown record.
    pub fn entity_of(&self, party_id: &str) -> Option<String> {
        let i = *self.index.get(party_id)?;
        Some(format!("ENT-{}", self.ids[self.entity[i]]))
    }

    /// The records of an entity (by entity id or by any of its records' ids), in id order.
    pub fn members(&self, id: &str) -> Vec<&str> {
        let key = id.strip_prefix("ENT-").unwrap_or(id);
        let Some(&i) = self.index.get(key) else {
            return Vec::new();
        };
        let e = self.entity[i];
        (0..self.ids.len())
            .filter(|&j| self.entity[j] == e)
            .map(|j| self.ids[j].as_str())
            .collect()
    }

    /// Every record with its entity id, in record id order.
    pub fn assignments(&self) -> Vec<(String, String)> {
        (0..self.ids.len())
            .map(|i| {
                (
                    self.ids[i].clone(),
                    format!("ENT-{}", self.ids[self.entity[i]]),
                )
            })
            .collect()
    }

    /// The direct links of a record: (other record, why).
    pub fn edges(&self, party_id: &str) -> Vec<(&str, &Edge)> {
        let Some(&i) = self.index.get(party_id) else {
            return Vec::new();
        };
        self.adjacency[i]
            .iter()
            .map(|(j, e)| (self.ids[*j].as_str(), e))
            .collect()
    }

    /// The shortest chain of links from record `a` to record `b`: each hop (from, to, why);
    /// `None` when they are not linked at all, empty for the same record.
    pub fn path(&self, a: &str, b: &str) -> Option<Vec<(&str, &str, &Edge)>> {
        let (&s, &t) = (self.index.get(a)?, self.index.get(b)?);
        if s == t {
            return Some(Vec::new());
        }
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; self.ids.len()];
        let mut q = VecDeque::from([s]);
        let mut seen = vec![false; self.ids.len()];
        seen[s] = true;
        while let Some(x) = q.pop_front() {
            if x == t {
                break;
            }
            for (k, (y, _)) in self.adjacency[x].iter().enumerate() {
                if !seen[*y] {
                    seen[*y] = true;
                    prev[*y] = Some((x, k));
                    q.push_back(*y);
                }
            }
        }
        prev[t]?;
        let mut hops = Vec::new();
        let mut cur = t;
        while let Some((p, k)) = prev[cur] {
            let (_, e) = &self.adjacency[p][k];
            hops.push((self.ids[p].as_str(), self.ids[cur].as_str(), e));
            cur = p;
        }
        hops.reverse();
        Some(hops)
    }
}

/// Every party record the store holds resolved into entities: (record id, entity id), for the
/// node operator's evaluation against simulator truth.
pub fn resolve_all(
    store: &rastro_store::Store,
) -> Result<Vec<(String, String)>, rastro_store::StoreError> {
    let policy = crate::load_policy(store)?;
    let inputs = crate::inputs::Inputs::load(store, &policy)?;
    Ok(Entities::new(inputs.parties.iter().map(|h| &h.r)).assignments())
}

impl PartyLinks for Entities {
    fn cluster(&self, party_id: &str) -> String {
        match self.index.get(party_id) {
            Some(&i) => self.ids[self.group[i]].clone(),
            None => party_id.to_string(),
        }
    }

    fn explain(&self, a: &str, b: &str) -> Option<LinkPath> {
        let hops = self.path(a, b)?;
        if hops.is_empty() {
            return None;
        }
        let text = hops
            .iter()
            .map(|(x, y, e)| format!("{x}–{y}: {}", e.describe()))
            .collect::<Vec<_>>()
            .join("; ");
        let mut records: Vec<String> = vec![a.to_string()];
        records.extend(hops.iter().map(|(_, y, _)| y.to_string()));
        let marking = rastro_core::Marking::combine(
            records
                .iter()
                .filter_map(|r| self.index.get(r.as_str()))
                .map(|&i| &self.markings[i]),
        );
        Some(LinkPath {
            text,
            records,
            marking,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rastro_core::{Country, Marking, PartyKind, Rfc, Tlp};

    fn party(
        id: &str,
        name: &str,
        rfc: Option<&str>,
        phone: Option<&str>,
        address: Option<&str>,
    ) -> Party {
        Party {
            id: id.into(),
            originator: "SAT".into(),
            marking: Marking::new(Tlp::Amber),
            party_kind: PartyKind::Organisation,
            name: name.into(),
            rfc: rfc.map(|r| Rfc::parse(r).unwrap()),
            country: Country::parse("MX").unwrap(),
            address: address.map(str::to_string),
            city: Some("Guadalajara".into()),
            phone: phone.map(str::to_string),
            registered: None,
            licence: None,
            watch_list: None,
            relations: Vec::new(),
        }
    }

    #[test]
    fn built_in_settings_are_valid() {
        Settings::from_toml(PARTY_SETTINGS, "PARTY_SETTINGS").unwrap();
    }

    #[test]
    fn spellings_of_one_company_are_one_entity_and_shared_phones_link_entities() {
        let rfc = {
            let body: Vec<char> = "QPA010101AB".chars().collect();
            format!("QPA010101AB{}", Rfc::check_char(&body).unwrap())
        };
        let mut ps = vec![
            party(
                "P1",
                "Químicos del Pacífico, S.A. de C.V.",
                Some(&rfc),
                Some("+52 33 1234 5678"),
                Some("Av. Industria 245, Col. Centro"),
            ),
            party(
                "P2",
                "QUIMICOS DEL PACIFICO SA DE CV",
                None,
                Some("(33) 1234-5678"),
                Some("Avenida Industria No. 245"),
            ),
            party(
                "P3",
                "Distribuidora Norteña S. de R.L.",
                None,
                Some("33 1234 5678"),
                Some("Calle Hidalgo 12"),
            ),
            party(
                "P4",
                "Reactivos Azteca SA",
                None,
                Some("55 9999 0000"),
                Some("Calle Morelos 7"),
            ),
        ];
        // Background records, so u is learned from something like a registry.
        for i in 0..60 {
            ps.push(party(
                &format!("Q{i:02}"),
                &format!("Empresa {i} Comercial"),
                None,
                Some(&format!("81 {:04} {:04}", 1000 + i, 2000 + i)),
                Some(&format!("Calle {i} {}", i + 1)),
            ));
        }
        let e = Entities::new(ps.iter());
        assert_eq!(e.entity_of("P1"), e.entity_of("P2"));
        assert_ne!(e.entity_of("P1"), e.entity_of("P3"));
        // P3 shares the phone: linked, not the same entity.
        assert_eq!(e.cluster("P1"), e.cluster("P3"));
        assert_ne!(e.cluster("P1"), e.cluster("P4"));
        let why = e.explain("P2", "P3").unwrap();
        assert!(why.text.contains("phone 3312345678"), "{why:?}");
        assert_eq!(why.records.first().map(String::as_str), Some("P2"));
        assert_eq!(why.records.last().map(String::as_str), Some("P3"));
        let same = e.explain("P1", "P2").unwrap();
        assert!(same.text.starts_with("P1–P2: same entity"), "{same:?}");
        assert_eq!(same.records, ["P1", "P2"]);
        assert!(e.path("P1", "P4").is_none());
        assert_eq!(e.members("ENT-P1"), vec!["P1", "P2"]);
    }
}
