//! Records prepared for comparison: each column's values normalised once and interned, so a
//! million records with a few thousand distinct surnames hold a few thousand prepared names,
//! and term frequencies come with the interning.

use crate::normalise::{self, AddressParts, RfcParts};
use crate::settings::{FieldType, Settings};
use crate::ResolveError;
use rustc_hash::FxHashMap;

/// Marks a missing value in [`ColumnData::value_of`].
pub const NULL: u32 = u32::MAX;

/// One distinct value of a column, normalised every way its comparisons need.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The exact-level form (folded, ñ kept; for structured types their canonical form).
    pub exact: String,
    /// Folded with ñ as n.
    pub folded: String,
    /// Spanish phonetic key (name types only; empty otherwise).
    pub sound: String,
    pub extra: Extra,
}

#[derive(Debug, Clone)]
pub enum Extra {
    None,
    Rfc(RfcParts),
    /// The local number: a 10-digit national number without its area code.
    Phone(String),
    Address(AddressParts),
}

/// One compared column over all records.
#[derive(Debug, Clone)]
pub struct ColumnData {
    pub field_type: FieldType,
    /// Each record's value index, or [`NULL`].
    pub value_of: Vec<u32>,
    pub values: Vec<Prepared>,
    /// How many records hold each value.
    pub count: Vec<u32>,
    index: FxHashMap<String, u32>,
    raw_index: FxHashMap<String, u32>,
    /// Records with a value.
    pub non_null: u32,
    pub cache: crate::compare::LevelCache,
}

impl ColumnData {
    pub fn new(field_type: FieldType) -> Self {
        ColumnData {
            field_type,
            value_of: Vec::new(),
            values: Vec::new(),
            count: Vec::new(),
            index: FxHashMap::default(),
            raw_index: FxHashMap::default(),
            non_null: 0,
            cache: crate::compare::LevelCache::new(),
        }
    }

    /// Adds one record's raw value.
    pub fn push(&mut self, raw: Option<&str>) {
        let raw = raw.map(str::trim).filter(|r| !r.is_empty());
        // A raw spelling seen before maps to its value without normalising again.
        if let Some(&id) = raw.and_then(|r| self.raw_index.get(r)) {
            if id != NULL {
                self.count[id as usize] += 1;
                self.non_null += 1;
            }
            self.value_of.push(id);
            return;
        }
        let v = raw.and_then(|r| prepare(self.field_type, r));
        let id = match v {
            None => NULL,
            Some(p) => {
                let id = match self.index.get(&p.exact) {
                    Some(&id) => id,
                    None => {
                        let id = self.values.len() as u32;
                        self.index.insert(p.exact.clone(), id);
                        self.values.push(p);
                        self.count.push(0);
                        id
                    }
                };
                self.count[id as usize] += 1;
                self.non_null += 1;
                id
            }
        };
        if let Some(r) = raw {
            // Bounded: past a million spellings, new ones are normalised each time.
            if self.raw_index.len() < 1 << 20 {
                self.raw_index.insert(r.to_string(), id);
            }
        }
        self.value_of.push(id);
    }

    pub fn get(&self, record: usize) -> Option<&Prepared> {
        match self.value_of[record] {
            NULL => None,
            v => Some(&self.values[v as usize]),
        }
    }

    /// The share of records holding `record`'s value: the chance a random record agrees with
    /// it exactly, the u probability a term-frequency adjustment uses.
    pub fn tf(&self, record: usize) -> Option<f64> {
        match self.value_of[record] {
            NULL => None,
            v => Some(f64::from(self.count[v as usize]) / f64::from(self.non_null.max(1))),
        }
    }
}

/// Normalises a raw value for a column type; `None` for a value that identifies nothing (empty,
/// one character for names, zeros for ids), which compares neutrally.
pub fn prepare(t: FieldType, raw: &str) -> Option<Prepared> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let named = |exact: String| -> Option<Prepared> {
        // A name of one character ("X", an initial) identifies nobody.
        if exact.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
            return None;
        }
        let folded = exact.replace('ñ', "n");
        Some(Prepared {
            sound: normalise::phonetic(&folded),
            exact,
            folded,
            extra: Extra::None,
        })
    };
    let plain = |exact: String, extra: Extra| Prepared {
        folded: exact.clone(),
        exact,
        sound: String::new(),
        extra,
    };
    match t {
        FieldType::OrgName => named(normalise::org_name(raw)),
        FieldType::PersonName => named(normalise::person_name(raw)),
        FieldType::Name => named(normalise::fold_keep_enye(raw)),
        FieldType::Rfc => {
            let p = normalise::rfc(raw)?;
            let exact = format!("{}{}{}{}", p.letters, p.date, p.homoclave, p.check);
            Some(plain(exact, Extra::Rfc(p)))
        }
        FieldType::Phone => {
            let n = normalise::phone(raw)?;
            let local = match normalise::area_code(&n) {
                Some(a) => n[a.len()..].to_string(),
                None => n.clone(),
            };
            Some(plain(n, Extra::Phone(local)))
        }
        FieldType::Address => {
            let a = normalise::address(raw);
            if a.all.len() < 2 {
                return None;
            }
            Some(plain(a.all.clone(), Extra::Address(a)))
        }
        FieldType::Postcode | FieldType::Id => {
            normalise::identifier(raw).map(|v| plain(v, Extra::None))
        }
        FieldType::Date => normalise::date(raw).map(|v| plain(v, Extra::None)),
        FieldType::Exact => {
            let f = normalise::fold(raw);
            (!f.is_empty()).then(|| plain(f, Extra::None))
        }
    }
}

/// A row the reader could not take, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Records of one or two sources (dedupe, or link A to B), prepared.
#[derive(Debug, Clone)]
pub struct Table {
    pub ids: Vec<String>,
    /// 0 for the first input, 1 for the `--link` input.
    pub source: Vec<u8>,
    pub columns: Vec<ColumnData>,
    /// Each record's truth key, when the settings name one.
    pub truth: Vec<Option<String>>,
    pub quarantined: Vec<Quarantined>,
    /// Each record's value index per column, record by record: a pair's comparison reads two
    /// short rows instead of one cell in each column's array.
    pub rows: Vec<u32>,
}

impl Table {
    pub fn new(settings: &Settings) -> Table {
        Table {
            ids: Vec::new(),
            source: Vec::new(),
            columns: settings
                .columns
                .iter()
                .map(|c| ColumnData::new(c.field_type))
                .collect(),
            truth: Vec::new(),
            quarantined: Vec::new(),
            rows: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Record `r`'s value index in each column.
    pub fn row(&self, r: usize) -> &[u32] {
        let n = self.columns.len();
        &self.rows[r * n..(r + 1) * n]
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Adds one record: its id, source and the raw value of each compared column in settings
    /// order.
    pub fn push(&mut self, id: String, source: u8, values: &[Option<&str>], truth: Option<String>) {
        debug_assert_eq!(values.len(), self.columns.len());
        self.ids.push(id);
        self.source.push(source);
        for (c, v) in self.columns.iter_mut().zip(values) {
            c.push(*v);
            self.rows.push(*c.value_of.last().unwrap_or(&NULL));
        }
        self.truth.push(truth);
    }

    /// Reads CSV text (a header row naming the columns; cells trimmed, as Febrl's start with a
    /// space). A row with too few cells or an empty id is quarantined with its line; a column
    /// of the settings missing from the header refuses the file.
    pub fn read_csv(
        &mut self,
        settings: &Settings,
        text: impl std::io::Read,
        file: &str,
        source: u8,
    ) -> Result<(), ResolveError> {
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text);
        let header: Vec<String> = r
            .headers()
            .map_err(|e| ResolveError::Input {
                file: file.into(),
                line: 1,
                reason: e.to_string(),
            })?
            .iter()
            .map(str::to_string)
            .collect();
        let col = |name: &str| -> Result<usize, ResolveError> {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| ResolveError::Input {
                    file: file.into(),
                    line: 1,
                    reason: format!(
                        "column {name:?} named in the settings is not in the header ({})",
                        header.join(", ")
                    ),
                })
        };
        let id_col = col(&settings.id)?;
        let cols: Vec<usize> = settings
            .columns
            .iter()
            .map(|c| col(&c.name))
            .collect::<Result<_, _>>()?;
        let truth = match &settings.truth {
            None => None,
            Some(t) => Some((
                col(&t.column)?,
                t.pattern
                    .as_deref()
                    .map(regex::Regex::new)
                    .transpose()
                    .map_err(|e| ResolveError::Input {
                        file: file.into(),
                        line: 1,
                        reason: e.to_string(),
                    })?,
            )),
        };
        let need = cols.iter().chain([&id_col]).max().copied().unwrap_or(0);
        let mut rec = csv::StringRecord::new();
        loop {
            let line = r.position().line();
            match r.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    self.quarantined.push(Quarantined {
                        file: file.into(),
                        line,
                        reason: e.to_string(),
                    });
                    continue;
                }
            }
            if rec.len() <= need {
                self.quarantined.push(Quarantined {
                    file: file.into(),
                    line,
                    reason: format!("{} cells, {} expected", rec.len(), header.len()),
                });
                continue;
            }
            let id = &rec[id_col];
            if id.is_empty() {
                self.quarantined.push(Quarantined {
                    file: file.into(),
                    line,
                    reason: format!("empty id in column {:?}", settings.id),
                });
                continue;
            }
            let values: Vec<Option<&str>> = cols
                .iter()
                .map(|&c| Some(&rec[c]).filter(|v| !v.is_empty()))
                .collect();
            let t = truth.as_ref().and_then(|(c, re)| {
                let v = &rec[*c];
                match re {
                    None => Some(v.to_string()),
                    Some(re) => re
                        .captures(v)
                        .and_then(|m| m.get(1))
                        .map(|m| m.as_str().to_string()),
                }
            });
            self.push(id.to_string(), source, &values, t);
        }
        Ok(())
    }
}
