//! Comparison levels: for each compared column, which level two records' values reach. Level 0
//! is "null" (a side without a value: neutral, weight 0); then the type's levels best first
//! ([`FieldType::levels`]); the last is "else".

use crate::settings::FieldType;
use crate::table::{ColumnData, Extra, Prepared, Table, NULL};
use strsim::damerau_levenshtein;

/// Levels of a type, null and else included.
pub fn n_levels(t: FieldType) -> usize {
    t.levels().len() + 2
}

/// The name of level `l` of a type.
pub fn level_name(t: FieldType, l: usize) -> &'static str {
    let named = t.levels();
    if l == 0 {
        "null"
    } else if l <= named.len() {
        named[l - 1]
    } else {
        "else"
    }
}

/// The level records `a` and `b` reach on one column.
pub fn level(c: &ColumnData, a: usize, b: usize) -> u8 {
    level_values(c, c.value_of[a], c.value_of[b])
}

/// The level two value indices of one column reach.
pub fn level_values(c: &ColumnData, va: u32, vb: u32) -> u8 {
    if va == NULL || vb == NULL {
        return 0;
    }
    if va == vb {
        return 1;
    }
    match c.field_type {
        FieldType::Exact => return 2,
        // Cheaper to compute than to look up.
        FieldType::Id
        | FieldType::Postcode
        | FieldType::Date
        | FieldType::Phone
        | FieldType::Rfc => {
            return level_of(c.field_type, &c.values[va as usize], &c.values[vb as usize]);
        }
        _ => {}
    }
    // Distinct values of one column recur across many pairs (a few thousand given names over
    // millions of pairs): their level is computed once and kept.
    if let Some(l) = c.cache.get(va, vb) {
        return l;
    }
    let l = level_of(c.field_type, &c.values[va as usize], &c.values[vb as usize]);
    c.cache.put(va, vb, l);
    l
}

/// A lossy, lock-free cache of the levels of value pairs: a direct-mapped table of words
/// holding (value a, value b, level); a slot holds one pair at a time and is checked on read,
/// so a collision costs a recomputation, never a wrong level.
pub struct LevelCache {
    slots: Vec<std::sync::atomic::AtomicU64>,
}

const CACHE_SLOTS: usize = 1 << 18;

impl LevelCache {
    pub fn new() -> Self {
        LevelCache {
            slots: (0..CACHE_SLOTS)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        }
    }

    fn key(a: u32, b: u32) -> Option<(usize, u64)> {
        let (a, b) = (a.min(b), a.max(b));
        // Values past 2^30 are not cached (the word holds 30 bits each).
        if b >= 1 << 30 {
            return None;
        }
        let packed = (u64::from(a) << 34) | (u64::from(b) << 4);
        let h = (packed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        Some((h & (CACHE_SLOTS - 1), packed))
    }

    pub fn get(&self, a: u32, b: u32) -> Option<u8> {
        let (i, k) = Self::key(a, b)?;
        let w = self.slots[i].load(std::sync::atomic::Ordering::Relaxed);
        // Level 0 never reaches the cache, so an empty slot (0) never matches.
        (w & !0xF == k && w & 0xF != 0).then_some((w & 0xF) as u8)
    }

    pub fn put(&self, a: u32, b: u32, level: u8) {
        if let Some((i, k)) = Self::key(a, b) {
            self.slots[i].store(
                k | u64::from(level & 0xF),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }
}

impl Default for LevelCache {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LevelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LevelCache")
    }
}

impl Clone for LevelCache {
    fn clone(&self) -> Self {
        LevelCache::new()
    }
}

/// Whether two strings are at most one edit apart (a substitution, an insertion or deletion,
/// or a swap of neighbours: Damerau–Levenshtein ≤ 1), in one pass and without allocating.
pub fn one_edit(a: &str, b: &str) -> bool {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() {
        return a.chars().count().abs_diff(b.chars().count()) <= 1
            && damerau_levenshtein(a, b) <= 1;
    }
    let p = x.iter().zip(y).take_while(|(c, d)| c == d).count();
    if x.len() == y.len() {
        if p == x.len() {
            return true;
        }
        // A substitution at p, or a swap of p and p + 1.
        x[p + 1..] == y[p + 1..]
            || (p + 1 < x.len() && x[p] == y[p + 1] && x[p + 1] == y[p] && x[p + 2..] == y[p + 2..])
    } else if x.len().abs_diff(y.len()) == 1 {
        let (long, short) = if x.len() > y.len() { (x, y) } else { (y, x) };
        long[p + 1..] == short[p..]
    } else {
        false
    }
}

/// Jaro–Winkler similarity (prefix scale 0.1, up to 4 characters). Written here for ASCII
/// strings up to 64 bytes, with bit masks and no allocation, because it is the inner loop of
/// every name comparison; longer or non-ASCII text goes to `strsim`, which it equals.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > 64 || y.len() > 64 {
        return strsim::jaro_winkler(a, b);
    }
    if x.is_empty() && y.is_empty() {
        return 1.0;
    }
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    let (mut used_y, mut matched_x) = (0u64, 0u64);
    let mut m = 0usize;
    for (i, c) in x.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(y.len());
        for (j, d) in y.iter().enumerate().take(hi).skip(lo) {
            if used_y & (1 << j) == 0 && d == c {
                used_y |= 1 << j;
                matched_x |= 1 << i;
                m += 1;
                break;
            }
        }
    }
    if m == 0 {
        return 0.0;
    }
    let mut t = 0usize;
    let mut j = 0usize;
    for (i, c) in x.iter().enumerate() {
        if matched_x & (1 << i) == 0 {
            continue;
        }
        while used_y & (1 << j) == 0 {
            j += 1;
        }
        if *c != y[j] {
            t += 1;
        }
        j += 1;
    }
    let m = m as f64;
    let jaro = (m / x.len() as f64 + m / y.len() as f64 + (m - (t / 2) as f64) / m) / 3.0;
    // Winkler's boost for a shared prefix applies only to strings already similar.
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(c, d)| c == d).count() as f64;
    jaro + 0.1 * prefix * (1.0 - jaro)
}

/// The level of two distinct prepared values (equal exact forms are level 1).
pub fn level_of(t: FieldType, a: &Prepared, b: &Prepared) -> u8 {
    if a.exact == b.exact {
        return 1;
    }
    match t {
        FieldType::OrgName | FieldType::PersonName | FieldType::Name => {
            if a.folded == b.folded {
                2
            } else {
                let jw = jaro_winkler(&a.folded, &b.folded);
                if jw >= 0.92 {
                    3
                } else if jw >= 0.80 || (!a.sound.is_empty() && a.sound == b.sound) {
                    4
                } else {
                    5
                }
            }
        }
        FieldType::Rfc => match (&a.extra, &b.extra) {
            (Extra::Rfc(x), Extra::Rfc(y)) if x.root() == y.root() => 2,
            _ if one_edit(&a.exact, &b.exact) => 3,
            _ => 4,
        },
        FieldType::Phone => match (&a.extra, &b.extra) {
            (Extra::Phone(x), Extra::Phone(y)) if x.len() >= 7 && x == y => 2,
            _ if one_edit(&a.exact, &b.exact) => 3,
            _ => 4,
        },
        FieldType::Address => {
            let (Extra::Address(x), Extra::Address(y)) = (&a.extra, &b.extra) else {
                return 5;
            };
            let number = !x.number.is_empty() && x.number == y.number;
            if number && !x.street.is_empty() && jaro_winkler(&x.street, &y.street) >= 0.9 {
                2
            } else if number && !x.postcode.is_empty() && x.postcode == y.postcode {
                3
            } else if jaccard(&x.all, &y.all) >= 0.5 {
                4
            } else {
                5
            }
        }
        FieldType::Postcode | FieldType::Id => {
            if one_edit(&a.exact, &b.exact) {
                2
            } else {
                3
            }
        }
        FieldType::Date => {
            let (x, y) = (a.exact.as_str(), b.exact.as_str());
            let swapped = x.len() == 8
                && y.len() == 8
                && x[..4] == y[..4]
                && x[4..6] == y[6..8]
                && x[6..8] == y[4..6];
            if swapped || one_edit(x, y) {
                2
            } else if x.len() >= 4 && y.len() >= 4 && x[..4] == y[..4] {
                3
            } else {
                4
            }
        }
        FieldType::Exact => 2,
    }
}

/// Shared words over all words of two space-separated word sets.
fn jaccard(a: &str, b: &str) -> f64 {
    let wa: Vec<&str> = a.split(' ').collect();
    let wb: Vec<&str> = b.split(' ').collect();
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    let union = wa.len() + wb.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// A pair's levels on every column, packed 4 bits a column (at most 16 columns), so patterns
/// count in a hash map for expectation–maximisation.
pub type Pattern = u64;

pub fn pattern(table: &Table, a: usize, b: usize) -> Pattern {
    let mut p = 0u64;
    let (ra, rb) = (table.row(a), table.row(b));
    for (i, c) in table.columns.iter().enumerate() {
        p |= u64::from(level_values(c, ra[i], rb[i])) << (4 * i);
    }
    p
}

/// Level of column `i` in a pattern.
pub fn level_in(p: Pattern, i: usize) -> usize {
    ((p >> (4 * i)) & 0xF) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::prepare;

    fn lv(t: FieldType, a: &str, b: &str) -> u8 {
        level_of(t, &prepare(t, a).unwrap(), &prepare(t, b).unwrap())
    }

    #[test]
    fn fast_kernels_equal_strsim() {
        let words = [
            "",
            "a",
            "martha",
            "marhta",
            "dixon",
            "dicksonx",
            "jellyfish",
            "smellyfish",
            "gonzalez",
            "gonzales",
            "abc",
            "cab",
            "ab",
            "ba",
            "abcd",
            "abdc",
            "x",
            "xy",
        ];
        for a in words {
            for b in words {
                assert!(
                    (jaro_winkler(a, b) - strsim::jaro_winkler(a, b)).abs() < 1e-12,
                    "{a} {b}"
                );
                assert_eq!(one_edit(a, b), damerau_levenshtein(a, b) <= 1, "{a} {b}");
            }
        }
    }

    #[test]
    fn levels_per_type() {
        use FieldType::*;
        assert_eq!(
            lv(
                OrgName,
                "Químicos del Pacífico, S.A. de C.V.",
                "QUIMICOS DEL PACIFICO SA DE CV"
            ),
            1
        );
        assert_eq!(lv(PersonName, "Peña Ruiz", "Pena Ruiz"), 2);
        assert_eq!(lv(Name, "Gonzalez", "Gonzales"), 3);
        assert_eq!(lv(Name, "Vázquez", "Basques"), 4);
        assert_eq!(lv(Name, "Vázquez", "Ortiz"), 5);
        assert_eq!(lv(Rfc, "QPA010101AB4", "QPA010101XY3"), 2);
        assert_eq!(lv(Phone, "+52 33 1234 5678", "(33) 1234-5678"), 1);
        assert_eq!(lv(Phone, "3312345678", "5512345678"), 2);
        assert_eq!(
            lv(
                Address,
                "Av. Industria 245, Col. Centro",
                "Avenida Industria No. 245"
            ),
            2
        );
        assert_eq!(lv(Date, "19990219", "20010912"), 4);
        assert_eq!(lv(Date, "19990305", "19990503"), 2);
        assert_eq!(lv(Date, "19990219", "19990129"), 2);
        assert_eq!(lv(Date, "19990219", "19991103"), 3);
        assert_eq!(lv(Id, "6988048", "6988049"), 2);
        assert_eq!(lv(Exact, "wa", "qld"), 2);
    }
}
