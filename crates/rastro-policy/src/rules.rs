//! Who may read what (BRIEF section 8), as pure functions.
//!
//! A record's audience is its marking made explicit ([`Marking::explicit`]): CLEAR and GREEN
//! admit every member of the community; AMBER admits the originator's nation; AMBER+STRICT and
//! RED admit the originator organisation; each also admits whoever its releasable-to list
//! names (an organisation code or an ISO 3166 nation). Derived data (alerts, leads) carries
//! the combination of its inputs' explicit markings, so its audience is at most the
//! intersection of theirs: a viewer sees a derived item only if every input admitted them.

use rastro_core::{Marking, Tlp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an organisation is; informs roles and the host-nation rules, not visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Customs,
    Navy,
    Army,
    Police,
    Intelligence,
    Regulator,
    Prosecutor,
    FinancialIntelligence,
    ForeignLiaison,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 10] = [
        OrgKind::Customs,
        OrgKind::Navy,
        OrgKind::Army,
        OrgKind::Police,
        OrgKind::Intelligence,
        OrgKind::Regulator,
        OrgKind::Prosecutor,
        OrgKind::FinancialIntelligence,
        OrgKind::ForeignLiaison,
        OrgKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Customs => "customs",
            OrgKind::Navy => "navy",
            OrgKind::Army => "army",
            OrgKind::Police => "police",
            OrgKind::Intelligence => "intelligence",
            OrgKind::Regulator => "regulator",
            OrgKind::Prosecutor => "prosecutor",
            OrgKind::FinancialIntelligence => "financial_intelligence",
            OrgKind::ForeignLiaison => "foreign_liaison",
            OrgKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        let t = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        OrgKind::ALL.into_iter().find(|k| k.as_str() == t)
    }
}

/// A user's role. Roles decide what a user may do; what a user may see is decided by their
/// organisation and nation alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Analyst,
    Commander,
    Liaison,
    Regulator,
    Auditor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Analyst,
        Role::Commander,
        Role::Liaison,
        Role::Regulator,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::Commander => "commander",
            Role::Liaison => "liaison",
            Role::Regulator => "regulator",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        let t = s.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|k| k.as_str() == t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub code: String,
    pub name: String,
    /// ISO 3166 alpha-2.
    pub nation: String,
    pub kind: OrgKind,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub user: String,
    pub org: String,
    pub nation: String,
    pub role: Role,
}

/// The deployment's organisations and host nation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub host_nation: String,
    orgs: BTreeMap<String, Org>,
}

impl Policy {
    pub fn new(host_nation: &str, orgs: impl IntoIterator<Item = Org>) -> Policy {
        Policy {
            host_nation: host_nation.trim().to_ascii_uppercase(),
            orgs: orgs.into_iter().map(|o| (o.code.clone(), o)).collect(),
        }
    }

    pub fn org(&self, code: &str) -> Option<&Org> {
        self.orgs.get(code)
    }

    /// Every registered organisation, by code.
    pub fn orgs(&self) -> impl Iterator<Item = &Org> {
        self.orgs.values()
    }

    /// The nation of an originator. Records from an organisation this deployment does not
    /// know are taken to be the host nation's: the node belongs to it, and the data reached
    /// the node through one of its agencies.
    pub fn nation_of(&self, originator: &str) -> &str {
        self.orgs
            .get(originator)
            .map(|o| o.nation.as_str())
            .unwrap_or(&self.host_nation)
    }

    /// The record's marking with its default audience spelled out, and every nation it names
    /// spelled out as that nation's registered organisations too. A nation admits its
    /// organisations, so a list naming `MX` and one naming `FGR` (a Mexican agency) share
    /// FGR; with the organisations spelled out, combining two explicit markings (an
    /// intersection of lists) keeps exactly whom both admit. The nation stays listed, so an
    /// organisation registered later is admitted as before.
    pub fn explicit(&self, originator: &str, marking: &Marking) -> Marking {
        let mut m = marking.explicit(originator, self.nation_of(originator));
        if m.tlp > Tlp::Green {
            let named: Vec<String> = m.releasable_to.iter().cloned().collect();
            for o in self.orgs.values() {
                if named.contains(&o.nation) {
                    m.releasable_to.insert(o.code.clone());
                }
            }
        }
        m
    }

    /// Whether an explicit marking admits the viewer.
    pub fn admits(&self, v: &Viewer, explicit: &Marking) -> bool {
        self.admits_org(&v.org, &v.nation, explicit)
    }

    /// Whether an explicit marking admits an organisation of a nation.
    pub fn admits_org(&self, org: &str, nation: &str, explicit: &Marking) -> bool {
        explicit.tlp <= Tlp::Green
            || explicit.releasable_to.contains(org)
            || explicit.releasable_to.contains(nation)
    }

    /// Whether the viewer may read a record with this originator and marking.
    pub fn may_read(&self, v: &Viewer, originator: &str, marking: &Marking) -> bool {
        v.org == originator || self.admits(v, &self.explicit(originator, marking))
    }

    /// Whether the viewer may read a derived item (alert, lead) with this combined marking.
    /// Its inputs' markings were made explicit before combining, so no originator is needed.
    pub fn may_read_derived(&self, v: &Viewer, combined: &Marking) -> bool {
        self.admits(v, combined)
    }

    /// Whether the viewer may post a record with this originator and marking: only as their
    /// own organisation, and a partner (an organisation of another nation) only at AMBER or
    /// above, so that nothing a partner sends reaches the whole community without a release.
    pub fn may_originate(
        &self,
        v: &Viewer,
        originator: &str,
        marking: &Marking,
    ) -> Result<(), String> {
        if v.role == Role::Auditor {
            return Err(format!(
                "{} is an auditor; auditors read, they do not write",
                v.user
            ));
        }
        if originator != v.org {
            return Err(format!(
                "originator {originator} is not your organisation {}; post only your own records",
                v.org
            ));
        }
        if v.nation != self.host_nation && marking.tlp < Tlp::Amber {
            return Err(format!(
                "marking {marking} is weaker than a partner may use; partners post at TLP:AMBER or above"
            ));
        }
        Ok(())
    }

    /// Whether the viewer may read the audit log.
    pub fn may_read_audit(&self, v: &Viewer) -> bool {
        matches!(v.role, Role::Auditor | Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn policy() -> Policy {
        let org = |c: &str, n: &str, k| Org {
            code: c.into(),
            name: c.into(),
            nation: n.into(),
            kind: k,
        };
        Policy::new(
            "MX",
            [
                org("ANAM", "MX", OrgKind::Customs),
                org("SEMAR", "MX", OrgKind::Navy),
                org("FGR", "MX", OrgKind::Prosecutor),
                org("DEA", "US", OrgKind::ForeignLiaison),
                org("RCMP", "CA", OrgKind::ForeignLiaison),
            ],
        )
    }

    fn viewer(org: &str, p: &Policy) -> Viewer {
        Viewer {
            user: format!("u-{org}"),
            org: org.into(),
            nation: p.nation_of(org).into(),
            role: Role::Analyst,
        }
    }

    fn marking() -> impl Strategy<Value = Marking> {
        (
            0u8..5,
            proptest::collection::btree_set(
                prop_oneof![
                    Just("MX".to_string()),
                    Just("US".to_string()),
                    Just("CA".to_string()),
                    Just("ANAM".to_string()),
                    Just("SEMAR".to_string()),
                    Just("FGR".to_string()),
                    Just("DEA".to_string()),
                    Just("RCMP".to_string())
                ],
                0..3,
            ),
        )
            .prop_map(|(c, r)| Marking {
                tlp: Tlp::from_code(c).unwrap_or(Tlp::Red),
                releasable_to: r,
            })
    }

    fn org_code() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("ANAM".to_string()),
            Just("SEMAR".to_string()),
            Just("FGR".to_string()),
            Just("DEA".to_string()),
            Just("RCMP".to_string()),
            Just("UNKNOWN".to_string())
        ]
    }

    #[test]
    fn the_tlp_levels_mean_what_brief_section_8_says() {
        let p = policy();
        let (anam, semar, dea) = (viewer("ANAM", &p), viewer("SEMAR", &p), viewer("DEA", &p));
        let amber = Marking::new(Tlp::Amber);
        assert!(
            p.may_read(&semar, "ANAM", &amber),
            "AMBER: the originator's nation"
        );
        assert!(
            !p.may_read(&dea, "ANAM", &amber),
            "AMBER is not for partners"
        );
        let mut amber_us = amber.clone();
        amber_us.releasable_to = BTreeSet::from(["US".to_string()]);
        assert!(
            p.may_read(&dea, "ANAM", &amber_us),
            "unless released to them"
        );
        let red = Marking::new(Tlp::Red);
        assert!(p.may_read(&anam, "ANAM", &red), "RED: the originator");
        assert!(
            !p.may_read(&semar, "ANAM", &red),
            "RED: named recipients only"
        );
        let strict = Marking::new(Tlp::AmberStrict);
        assert!(
            !p.may_read(&semar, "ANAM", &strict),
            "AMBER+STRICT stays in the org"
        );
        assert!(p.may_read(&dea, "ANAM", &Marking::new(Tlp::Green)));
        assert!(p.may_read(&dea, "ANAM", &Marking::new(Tlp::Clear)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Derived data never reaches a viewer that any of its inputs would have refused.
        #[test]
        fn derived_data_admits_no_one_an_input_refused(
            inputs in proptest::collection::vec((org_code(), marking()), 1..6),
            who in org_code(),
        ) {
            let p = policy();
            let v = viewer(&who, &p);
            let explicit: Vec<Marking> = inputs.iter().map(|(o, m)| p.explicit(o, m)).collect();
            let combined = Marking::combine(explicit.iter());
            if p.may_read_derived(&v, &combined) {
                for (o, m) in &inputs {
                    prop_assert!(p.may_read(&v, o, m), "{v:?} sees {combined} derived from {o} {m}");
                }
            }
        }

        /// Derived data reaches every viewer all of its inputs admit: nothing is lost when a
        /// list names a nation and another one of its organisations.
        #[test]
        fn derived_data_admits_everyone_every_input_admits(
            inputs in proptest::collection::vec((org_code(), marking()), 1..6),
            who in org_code(),
        ) {
            let p = policy();
            // Users belong to registered organisations (an unregistered originator's records
            // are still read exactly, but no one reads as an unregistered organisation).
            prop_assume!(p.org(&who).is_some());
            let v = viewer(&who, &p);
            let explicit: Vec<Marking> = inputs.iter().map(|(o, m)| p.explicit(o, m)).collect();
            let combined = Marking::combine(explicit.iter());
            let all = inputs.iter().all(|(o, m)| p.may_read(&v, o, m));
            prop_assert_eq!(p.may_read_derived(&v, &combined), all, "{:?} and {}", v, combined);
        }

        /// A more restrictive marking never admits more viewers.
        #[test]
        fn restricting_never_widens(a in marking(), b in marking(), o in org_code(), who in org_code()) {
            let p = policy();
            let v = viewer(&who, &p);
            let ea = p.explicit(&o, &a);
            let both = ea.most_restrictive(&p.explicit(&o, &b));
            if p.may_read_derived(&v, &both) {
                prop_assert!(p.may_read(&v, &o, &a));
            }
        }
    }
}
