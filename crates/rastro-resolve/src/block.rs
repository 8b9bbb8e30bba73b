//! Blocking: which pairs are compared at all. Each rule is a list of terms; records whose
//! terms all agree fall into one block. The number of comparisons is estimated before any pair
//! is made, and a job that would compare too many is refused with that number.

use crate::settings::{FieldType, Settings, Term, TermKind};
use crate::table::Table;
use crate::ResolveError;
use xxhash_rust::xxh3::xxh3_64;

/// No key: the record lacks a value a term needs and sits in no block of that rule.
pub const NO_KEY: u64 = 0;

/// Each record's block key under one rule.
pub fn keys(table: &Table, rule: &[Term]) -> Vec<u64> {
    let mut buf = String::new();
    (0..table.len())
        .map(|r| key_of(table, rule, r, &mut buf))
        .collect()
}

/// One record's block key under one rule (`buf` is scratch space).
pub fn key_of(table: &Table, rule: &[Term], r: usize, buf: &mut String) -> u64 {
    buf.clear();
    for t in rule {
        let c = &table.columns[t.column];
        let Some(v) = c.get(r) else {
            return NO_KEY;
        };
        let base = match c.field_type {
            FieldType::OrgName | FieldType::PersonName | FieldType::Name => &v.folded,
            _ => &v.exact,
        };
        let part: String = match t.kind {
            TermKind::Value => base.clone(),
            TermKind::First(n) => base.chars().take(n).collect(),
            TermKind::Last(n) => {
                let k = base.chars().count();
                base.chars().skip(k.saturating_sub(n)).collect()
            }
            TermKind::Sound => {
                if v.sound.is_empty() {
                    crate::normalise::phonetic(base)
                } else {
                    v.sound.clone()
                }
            }
            TermKind::Year => base.chars().take(4).collect(),
        };
        if part.is_empty() {
            return NO_KEY;
        }
        buf.push_str(&part);
        buf.push('\u{1f}');
    }
    // Never NO_KEY for a real key.
    xxh3_64(buf.as_bytes()) | 1
}

/// Records grouped by key: each block's members, records in ascending order.
pub struct Blocks {
    pub members: Vec<u32>,
    /// Start offsets into `members`, one past the end last.
    pub starts: Vec<usize>,
}

impl Blocks {
    pub fn new(keys: &[u64]) -> Blocks {
        let mut order: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| **k != NO_KEY)
            .map(|(i, k)| (*k, i as u32))
            .collect();
        order.sort_unstable();
        let mut starts = Vec::new();
        let mut prev = NO_KEY;
        for (i, (k, _)) in order.iter().enumerate() {
            if i == 0 || *k != prev {
                starts.push(i);
                prev = *k;
            }
        }
        starts.push(order.len());
        Blocks {
            members: order.into_iter().map(|(_, r)| r).collect(),
            starts,
        }
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn block(&self, b: usize) -> &[u32] {
        &self.members[self.starts[b]..self.starts[b + 1]]
    }

    /// Pairs this rule compares: within a block (dedupe) or across sources (link).
    pub fn comparisons(&self, table: &Table, link: bool) -> u64 {
        (0..self.len())
            .map(|b| {
                let m = self.block(b);
                if link {
                    let a = m.iter().filter(|&&r| table.source[r as usize] == 0).count() as u64;
                    a * (m.len() as u64 - a)
                } else {
                    let n = m.len() as u64;
                    n * n.saturating_sub(1) / 2
                }
            })
            .sum()
    }
}

/// Keys and blocks of every rule, checked against the comparison limit.
pub struct Blocking {
    pub keys: Vec<Vec<u64>>,
    pub blocks: Vec<Blocks>,
    /// Comparisons per rule, before removing pairs an earlier rule already compared.
    pub comparisons: Vec<u64>,
}

impl Blocking {
    pub fn new(table: &Table, settings: &Settings, link: bool) -> Result<Blocking, ResolveError> {
        let rules = settings.rules();
        let mut keys = Vec::with_capacity(rules.len());
        let mut blocks = Vec::with_capacity(rules.len());
        let mut comparisons = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let k = crate::block::keys(table, rule);
            let b = Blocks::new(&k);
            let n = b.comparisons(table, link);
            if n > settings.max_comparisons {
                return Err(ResolveError::TooManyComparisons {
                    rule: settings.blocking[i].join(" & "),
                    comparisons: n,
                    limit: settings.max_comparisons,
                });
            }
            keys.push(k);
            blocks.push(b);
            comparisons.push(n);
        }
        let total: u64 = comparisons.iter().sum();
        if total > settings.max_comparisons {
            return Err(ResolveError::TooManyComparisons {
                rule: "all rules together".into(),
                comparisons: total,
                limit: settings.max_comparisons,
            });
        }
        Ok(Blocking {
            keys,
            blocks,
            comparisons,
        })
    }

    /// Whether a rule before `rule` already puts `a` and `b` in one block: then this rule
    /// skips the pair, so every pair is scored once.
    pub fn earlier(&self, rule: usize, a: usize, b: usize) -> bool {
        self.keys[..rule]
            .iter()
            .any(|k| k[a] != NO_KEY && k[a] == k[b])
    }
}

/// Calls `f(a, b)` for each pair a block of `rule` compares (a < b; across sources when
/// linking).
pub fn for_pairs(table: &Table, block: &[u32], link: bool, mut f: impl FnMut(usize, usize)) {
    for (i, &a) in block.iter().enumerate() {
        for &b in &block[i + 1..] {
            let (a, b) = (a as usize, b as usize);
            if link && table.source[a] == table.source[b] {
                continue;
            }
            f(a, b);
        }
    }
}
