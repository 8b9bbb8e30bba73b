//! Audiences and views. An audience is an organisation (or the node operator); what it may see
//! is decided by its organisation and nation alone, so every user of one organisation sees the
//! same records and shares one view. A view is the set of marking classes (originator, TLP
//! level, releasable-to) an audience may see; derived data is computed per view from exactly
//! those records, which is what makes non-interference hold by construction: deleting records
//! an audience may not see deletes none of its view's inputs.
//!
//! A view's key is a hash of the policy's fingerprint and of the *content* of its classes
//! (originator and marking, sorted), never of row ids, so two databases holding the same data
//! visible to an audience give it the same key.

use crate::rules::Policy;
use rastro_core::Marking;
use sha2::{Digest, Sha256};

/// Who a view is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Audience {
    /// The node operator at the console: sees everything.
    Operator,
    /// Every user of this organisation.
    Org(String),
}

impl Audience {
    /// The text form stored in the audience map: `*` or the organisation code.
    pub fn key(&self) -> String {
        match self {
            Audience::Operator => "*".into(),
            Audience::Org(o) => o.clone(),
        }
    }

    pub fn parse(s: &str) -> Audience {
        if s == "*" {
            Audience::Operator
        } else {
            Audience::Org(s.to_string())
        }
    }
}

/// One marking class as stored: an id and the originator and marking it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub id: i64,
    pub originator: String,
    pub marking: Marking,
}

/// What an audience may see: the classes, by id, and the view's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewSpec {
    pub key: String,
    /// Sorted class ids.
    pub classes: Vec<i64>,
}

impl Policy {
    /// Whether `audience` may see records of class `c`.
    pub fn audience_sees(&self, audience: &Audience, c: &Class) -> bool {
        match audience {
            Audience::Operator => true,
            Audience::Org(org) => {
                org == &c.originator
                    || self.admits_org(
                        org,
                        self.nation_of(org),
                        &self.explicit(&c.originator, &c.marking),
                    )
            }
        }
    }

    /// A stable text of everything in the policy that visibility and derived markings depend
    /// on: the host nation and every organisation's nation.
    pub fn fingerprint(&self) -> String {
        let mut s = format!("host={}", self.host_nation);
        for o in self.orgs() {
            s.push_str(&format!(";{}={}", o.code, o.nation));
        }
        s
    }

    /// The view of `audience` over `classes`.
    pub fn view_of(&self, audience: &Audience, classes: &[Class]) -> ViewSpec {
        let mut seen: Vec<&Class> = classes
            .iter()
            .filter(|c| self.audience_sees(audience, c))
            .collect();
        let key = self.key_of(&seen);
        seen.sort_by_key(|c| c.id);
        ViewSpec {
            key,
            classes: seen.iter().map(|c| c.id).collect(),
        }
    }

    /// The key of a view holding exactly `classes`.
    pub fn key_of_classes(&self, classes: &[Class]) -> String {
        self.key_of(&classes.iter().collect::<Vec<_>>())
    }

    fn key_of(&self, seen: &[&Class]) -> String {
        let mut content: Vec<String> = seen
            .iter()
            .map(|c| {
                format!(
                    "{}\u{1f}{}\u{1f}{}",
                    c.originator,
                    c.marking.tlp.code(),
                    c.marking.releasable_text()
                )
            })
            .collect();
        content.sort();
        content.dedup();
        let mut h = Sha256::new();
        h.update(self.fingerprint().as_bytes());
        for c in &content {
            h.update(b"\n");
            h.update(c.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Org, OrgKind};
    use rastro_core::Tlp;

    fn policy() -> Policy {
        let org = |c: &str, n: &str| Org {
            code: c.into(),
            name: c.into(),
            nation: n.into(),
            kind: OrgKind::Other,
        };
        Policy::new(
            "MX",
            [org("ANAM", "MX"), org("SEMAR", "MX"), org("DEA", "US")],
        )
    }

    fn class(id: i64, o: &str, tlp: Tlp, rel: &[&str]) -> Class {
        Class {
            id,
            originator: o.into(),
            marking: Marking {
                tlp,
                releasable_to: rel.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn keys_depend_on_content_not_on_ids() {
        let p = policy();
        let a = [
            class(1, "ANAM", Tlp::Amber, &[]),
            class(2, "SEMAR", Tlp::Red, &[]),
        ];
        let b = [class(7, "ANAM", Tlp::Amber, &[])];
        let semar = Audience::Org("SEMAR".into());
        let anam = Audience::Org("ANAM".into());
        // ANAM cannot see SEMAR's RED class: its view is the same whether or not it exists.
        assert_eq!(p.view_of(&anam, &a).key, p.view_of(&anam, &b).key);
        assert_ne!(p.view_of(&semar, &a).key, p.view_of(&anam, &a).key);
        assert_eq!(p.view_of(&semar, &a).classes, vec![1, 2]);
        let dea = Audience::Org("DEA".into());
        assert!(p.view_of(&dea, &a).classes.is_empty());
        assert_eq!(p.view_of(&Audience::Operator, &a).classes, vec![1, 2]);
    }
}
