//! The settings of a linkage job, read from TOML: which column is the id, which columns compare
//! and as what type, the blocking rules, and the limits. Every mistake is refused with what was
//! wrong and where, before any record is read.

use crate::ResolveError;
use serde::Deserialize;

/// How a column compares: each type has its own normalisation and comparison levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// An organisation name: legal forms, stop words and word order ignored.
    OrgName,
    /// A person name: particles and word order ignored.
    PersonName,
    /// Any other name or short text (a given name, a suburb): folded and compared as is.
    Name,
    /// A Mexican RFC: the name letters and date, homoclave and check character.
    Rfc,
    /// A phone number under the Mexican numbering plan.
    Phone,
    /// A one-line address: street, number, colonia, postcode.
    Address,
    /// A postcode.
    Postcode,
    /// A date (YYYYMMDD, YYYY-MM-DD, DD/MM/YYYY).
    Date,
    /// A free identifier: licence, social security number, street number.
    Id,
    /// A category compared for equality only (a state, a country).
    Exact,
}

impl FieldType {
    /// The names of the comparison levels above "else", best first; level 0 is "null" (one side
    /// empty, a neutral comparison) and the last is "else" (disagree).
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            FieldType::OrgName | FieldType::PersonName | FieldType::Name => &[
                "exact",
                "exact without ñ",
                "jaro-winkler ≥ 0.92",
                "jaro-winkler ≥ 0.80 or same sound",
            ],
            FieldType::Rfc => &["exact", "same letters and date", "one edit"],
            FieldType::Phone => &["exact", "same local number", "one edit"],
            FieldType::Address => &[
                "exact",
                "same street and number",
                "same postcode and number",
                "half the words shared",
            ],
            FieldType::Postcode | FieldType::Id => &["exact", "one edit"],
            FieldType::Date => &["exact", "one edit or day and month swapped", "same year"],
            FieldType::Exact => &["exact"],
        }
    }
}

/// One compared column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Term-frequency adjustment at the exact level: agreeing on a rare value is stronger
    /// evidence than agreeing on a common one.
    #[serde(default)]
    pub tf: bool,
}

/// Where the truth is, for evaluation: a column whose value (or the first capture group of
/// `pattern` in it) names the true entity.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    pub column: String,
    #[serde(default)]
    pub pattern: Option<String>,
}

/// A linkage job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The column holding each record's id.
    pub id: String,
    pub columns: Vec<Column>,
    /// Blocking rules: only records that agree on every term of at least one rule are
    /// compared. A term is `column` (normalised value), `column.first(N)`, `column.last(N)`,
    /// `column.sound` (phonetic key) or `column.year`.
    pub blocking: Vec<Vec<String>>,
    #[serde(default)]
    pub truth: Option<Truth>,
    /// Match probability at or above which a pair is reported and clustered.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// A weak link (below this probability) joins two clusters only when enough of their
    /// records are linked; see [`crate::cluster`].
    #[serde(default = "default_strong")]
    pub strong: f64,
    /// Largest share of cross pairs two clusters must have linked for a weak link to join them.
    #[serde(default = "default_density")]
    pub min_density: f64,
    /// No cluster grows past this many records.
    #[serde(default = "default_max_cluster")]
    pub max_cluster: usize,
    /// Refuse the job when the blocking rules would compare more pairs than this.
    #[serde(default = "default_max_comparisons")]
    pub max_comparisons: u64,
    /// Random pairs drawn to estimate u probabilities.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: usize,
    #[serde(default = "default_em_iterations")]
    pub em_iterations: usize,
    #[serde(default)]
    pub seed: u64,
}

fn default_threshold() -> f64 {
    0.5
}
fn default_strong() -> f64 {
    0.99
}
fn default_density() -> f64 {
    0.5
}
fn default_max_cluster() -> usize {
    200
}
fn default_max_comparisons() -> u64 {
    200_000_000
}
fn default_u_pairs() -> usize {
    1_000_000
}
fn default_em_iterations() -> usize {
    40
}

/// A parsed blocking term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Value,
    First(usize),
    Last(usize),
    Sound,
    Year,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Index into `Settings::columns`.
    pub column: usize,
    pub kind: TermKind,
}

/// The most compared columns a job may have (each pair's levels pack into 4 bits a column).
pub const MAX_COLUMNS: usize = 16;

impl Settings {
    pub fn from_toml(text: &str, file: &str) -> Result<Settings, ResolveError> {
        let s: Settings = toml::from_str(text).map_err(|e| ResolveError::Settings {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        s.validate(file)?;
        Ok(s)
    }

    fn validate(&self, file: &str) -> Result<(), ResolveError> {
        let bad = |reason: String| ResolveError::Settings {
            file: file.to_string(),
            reason,
        };
        if self.columns.is_empty() {
            return Err(bad("no columns to compare: add [[columns]] entries".into()));
        }
        if self.columns.len() > MAX_COLUMNS {
            return Err(bad(format!(
                "{} columns compared; at most {MAX_COLUMNS}",
                self.columns.len()
            )));
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].iter().any(|o| o.name == c.name) {
                return Err(bad(format!("column {:?} is listed twice", c.name)));
            }
        }
        if self.blocking.is_empty() {
            return Err(bad(
                "no blocking rules: add blocking = [[\"column\"], …]; comparing every record with every other does not scale"
                    .into(),
            ));
        }
        for r in &self.blocking {
            if r.is_empty() {
                return Err(bad(
                    "a blocking rule with no terms compares everything with everything".into(),
                ));
            }
            for t in r {
                self.term(t).map_err(&bad)?;
            }
        }
        for (name, v) in [
            ("threshold", self.threshold),
            ("strong", self.strong),
            ("min_density", self.min_density),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!("{name} = {v}: must be between 0 and 1")));
            }
        }
        if self.max_cluster < 2 {
            return Err(bad("max_cluster must be at least 2".into()));
        }
        if let Some(t) = &self.truth {
            if let Some(p) = &t.pattern {
                let re = regex::Regex::new(p).map_err(|e| bad(format!("truth pattern: {e}")))?;
                if re.captures_len() < 2 {
                    return Err(bad(
                        "truth pattern needs one capture group naming the entity".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Parses one blocking term against the columns.
    pub fn term(&self, t: &str) -> Result<Term, String> {
        let (name, kind) = match t.split_once('.') {
            None => (t, TermKind::Value),
            Some((n, "sound")) => (n, TermKind::Sound),
            Some((n, "year")) => (n, TermKind::Year),
            Some((n, f)) => {
                let num = |inner: &str| -> Result<usize, String> {
                    inner
                        .strip_suffix(')')
                        .and_then(|x| x.parse::<usize>().ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| format!("blocking term {t:?}: expected {n}.first(N) or {n}.last(N) with N ≥ 1"))
                };
                if let Some(x) = f.strip_prefix("first(") {
                    (n, TermKind::First(num(x)?))
                } else if let Some(x) = f.strip_prefix("last(") {
                    (n, TermKind::Last(num(x)?))
                } else {
                    return Err(format!(
                        "blocking term {t:?}: unknown function {f:?}; use first(N), last(N), sound or year"
                    ));
                }
            }
        };
        let column = self
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| format!("blocking term {t:?} names column {name:?}, which is not among the compared columns"))?;
        Ok(Term { column, kind })
    }

    /// All blocking rules parsed (validated at load, so this cannot fail afterwards).
    pub fn rules(&self) -> Vec<Vec<Term>> {
        self.blocking
            .iter()
            .map(|r| r.iter().filter_map(|t| self.term(t).ok()).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(s: &str) -> Result<Settings, ResolveError> {
        Settings::from_toml(s, "t.toml")
    }

    #[test]
    fn mistakes_are_refused_with_the_reason() {
        let cols = "[[columns]]\nname = \"n\"\ntype = \"name\"\n";
        let load = |top: &str| load(&format!("id = \"id\"\n{top}{cols}"));
        assert!(load("blocking = [[\"n\"]]\n").is_ok());
        let e = load("blocking = [[\"x\"]]\n").unwrap_err().to_string();
        assert!(e.contains("\"x\"") && e.contains("t.toml"), "{e}");
        let e = Settings::from_toml(
            "id = \"id\"\nblocking=[[\"n\"]]\n[[columns]]\nname = \"n\"\ntype = \"colour\"\n",
            "t.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("colour"), "{e}");
        let e = load("blocking = [[]]\n").unwrap_err().to_string();
        assert!(e.contains("everything"), "{e}");
        let e = load("blocking = [[\"n.first(0)\"]]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("first(N)"), "{e}");
        let e = load("blocking = [[\"n.upper\"]]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown function"), "{e}");
        let e = load("blocking = [[\"n\"]]\nthreshold = 2.0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("threshold"), "{e}");
    }
}
