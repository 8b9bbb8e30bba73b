//! Markings: the TLP 2.0 level and releasable-to list every record carries (BRIEF section 8).
//!
//! The policy crate decides who may see a marked record; this module only says what a marking
//! is, how it is written, and how markings combine when data is derived from other data.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Traffic Light Protocol 2.0 level, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    #[serde(rename = "CLEAR")]
    Clear,
    #[serde(rename = "GREEN")]
    Green,
    #[serde(rename = "AMBER")]
    Amber,
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    /// Accepts `CLEAR`, `TLP:CLEAR`, `tlp:amber+strict`, and the TLP 1.0 `WHITE` (as CLEAR).
    pub fn parse(s: &str) -> Option<Tlp> {
        let t = s.trim().to_ascii_uppercase();
        let t = t.strip_prefix("TLP:").unwrap_or(&t);
        Some(match t {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// Stable small integer used in storage; the order matches restrictiveness.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(c: u8) -> Option<Tlp> {
        Tlp::ALL.get(usize::from(c)).copied()
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str())
    }
}

/// A record's marking: TLP level plus an optional releasable-to list of organisation codes
/// or ISO 3166 nations. An empty list means the TLP level alone governs release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Marking {
    pub tlp: Tlp,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub releasable_to: BTreeSet<String>,
}

impl Marking {
    pub fn new(tlp: Tlp) -> Self {
        Marking {
            tlp,
            releasable_to: BTreeSet::new(),
        }
    }

    /// A marking as stored: a TLP code and the releasable-to text. A code this build does not
    /// know can only come from a foreign or damaged writer, and the most restrictive reading
    /// (RED) is the safe one.
    pub fn from_stored(tlp_code: u8, releasable: Option<&str>) -> Marking {
        Marking {
            tlp: Tlp::from_code(tlp_code).unwrap_or(Tlp::Red),
            releasable_to: releasable
                .map(Marking::parse_releasable)
                .unwrap_or_default(),
        }
    }

    /// Parses a `;`-separated releasable-to list; blanks are ignored, entries upper-cased.
    pub fn parse_releasable(s: &str) -> BTreeSet<String> {
        s.split([';', ','])
            .map(|p| p.trim().to_ascii_uppercase())
            .filter(|p| !p.is_empty())
            .collect()
    }

    pub fn releasable_text(&self) -> String {
        self.releasable_to
            .iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The marking of data derived from both `self` and `other`: the more restrictive TLP
    /// level, and a release list that only admits who both inputs admit.
    ///
    /// A release list widens an AMBER-or-above marking beyond its default audience. CLEAR and
    /// GREEN inputs already admit the whole community, so they do not narrow the list; an
    /// AMBER-or-above input without a list admits no one beyond its default audience, so the
    /// derived list is empty (taking the other input's list would leak the first input to
    /// whoever the second was released to).
    pub fn most_restrictive(&self, other: &Marking) -> Marking {
        let open = |m: &Marking| m.tlp <= Tlp::Green;
        let releasable_to = match (open(self), open(other)) {
            (true, true) => BTreeSet::new(),
            (true, false) => other.releasable_to.clone(),
            (false, true) => self.releasable_to.clone(),
            (false, false) => self
                .releasable_to
                .intersection(&other.releasable_to)
                .cloned()
                .collect(),
        };
        Marking {
            tlp: self.tlp.max(other.tlp),
            releasable_to,
        }
    }

    /// The same audience with the defaults spelled out, so the marking no longer depends on
    /// who originated the record: AMBER admits the originator's nation; AMBER+STRICT and RED
    /// admit the originator organisation; both plus whoever is listed. CLEAR and GREEN are
    /// unchanged. Derived data combines explicit markings, which is what makes
    /// [`Marking::most_restrictive`] exact rather than merely safe.
    pub fn explicit(&self, originator: &str, originator_nation: &str) -> Marking {
        let mut m = self.clone();
        match self.tlp {
            Tlp::Clear | Tlp::Green => {}
            Tlp::Amber => {
                m.releasable_to
                    .insert(originator_nation.trim().to_ascii_uppercase());
            }
            Tlp::AmberStrict | Tlp::Red => {
                m.releasable_to
                    .insert(originator.trim().to_ascii_uppercase());
            }
        }
        m
    }

    /// Folds [`Marking::most_restrictive`] over inputs; no inputs gives CLEAR.
    pub fn combine<'a>(inputs: impl IntoIterator<Item = &'a Marking>) -> Marking {
        inputs
            .into_iter()
            .fold(Marking::new(Tlp::Clear), |acc, m| acc.most_restrictive(m))
    }
}

impl fmt::Display for Marking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tlp)?;
        if !self.releasable_to.is_empty() {
            write!(f, " REL TO {}", self.releasable_text())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn marking() -> impl Strategy<Value = Marking> {
        (0u8..5, proptest::collection::btree_set("[A-C]{2}", 0..3)).prop_map(|(c, r)| Marking {
            tlp: Tlp::from_code(c).unwrap(),
            releasable_to: r,
        })
    }

    proptest! {
        #[test]
        fn combining_never_loosens(a in marking(), b in marking()) {
            let m = a.most_restrictive(&b);
            prop_assert!(m.tlp >= a.tlp && m.tlp >= b.tlp);
            // Whoever the derived marking releases to, every restricted input released to.
            for x in [&a, &b] {
                if x.tlp >= Tlp::Amber {
                    prop_assert!(m.releasable_to.is_subset(&x.releasable_to), "{m} from {a} and {b}");
                }
            }
            prop_assert_eq!(m.clone(), b.most_restrictive(&a));
        }
    }

    #[test]
    fn explicit_spells_out_the_default_audience() {
        let amber = Marking::new(Tlp::Amber).explicit("ANAM", "MX");
        assert_eq!(amber.releasable_text(), "MX");
        let red = Marking::new(Tlp::Red).explicit("FGR", "MX");
        assert_eq!(red.releasable_text(), "FGR");
        // An alert from an AMBER consignment and a RED tip: the lists share no entry, so the
        // derived item is released to no one beyond an explicit release (conservative: FGR is
        // in MX, but lists are compared as written).
        let derived = amber.most_restrictive(&red);
        assert_eq!(derived.tlp, Tlp::Red);
        assert!(derived.releasable_to.is_empty());
        let green = Marking::new(Tlp::Green).explicit("FGR", "MX");
        assert!(green.releasable_to.is_empty());
    }

    #[test]
    fn parse_levels() {
        assert_eq!(Tlp::parse("tlp:amber+strict"), Some(Tlp::AmberStrict));
        assert_eq!(Tlp::parse("WHITE"), Some(Tlp::Clear));
        assert_eq!(Tlp::parse("purple"), None);
        for t in Tlp::ALL {
            assert_eq!(Tlp::from_code(t.code()), Some(t));
            assert_eq!(Tlp::parse(t.as_str()), Some(t));
        }
    }
}
