//! Releases: a host-nation commander shares a lead, as they saw and approved it, with named
//! recipients. TLP 2.0 RED is for named recipients only, so a RED lead goes to organisations,
//! never to a whole nation; other levels may name nations.

use crate::rules::{Policy, Role, Viewer};
use rastro_core::{Country, Tlp};

impl Policy {
    /// The recipients a release may name, normalised and deduplicated, or why not.
    pub fn release_recipients(&self, tlp: Tlp, to: &[String]) -> Result<Vec<String>, String> {
        let mut out: Vec<String> = Vec::new();
        if to.is_empty() {
            return Err("name at least one recipient organisation".into());
        }
        if to.len() > 32 {
            return Err(format!(
                "at most 32 recipients per release; got {}",
                to.len()
            ));
        }
        for t in to {
            let code = t.trim().to_ascii_uppercase();
            let printable: String = code.chars().take(24).collect();
            if self.org(&code).is_some() {
                out.push(code);
                continue;
            }
            let is_nation = code.len() == 2 && Country::parse(&code).is_ok();
            if is_nation && tlp == Tlp::Red {
                return Err(format!(
                    "{printable} is a nation; a TLP:RED lead goes to named organisations only (`rastro org list`)"
                ));
            }
            if is_nation {
                out.push(code);
                continue;
            }
            return Err(format!(
                "{printable:?} is not a registered organisation code{}",
                if tlp == Tlp::Red {
                    ""
                } else {
                    " or an ISO 3166 nation"
                }
            ));
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Whether a release to `recipients` reaches `v`.
    pub fn release_reaches(&self, v: &Viewer, recipients: &[String]) -> bool {
        recipients.iter().any(|r| *r == v.org || *r == v.nation)
    }

    /// Releases are the host nation's decision: its commanders make them.
    pub fn may_release(&self, v: &Viewer) -> Result<(), String> {
        if v.nation == self.host_nation && v.role == Role::Commander {
            Ok(())
        } else {
            Err(format!(
                "only host-nation commanders release leads; {} has the role {} at {}",
                v.user,
                v.role.as_str(),
                v.org
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::{Org, OrgKind, Policy};
    use rastro_core::Tlp;

    #[test]
    fn red_goes_to_named_organisations_only() {
        let p = Policy::new(
            "MX",
            [Org {
                code: "DEA".into(),
                name: "DEA".into(),
                nation: "US".into(),
                kind: OrgKind::ForeignLiaison,
            }],
        );
        assert_eq!(
            p.release_recipients(Tlp::Red, &["dea".into()]).unwrap(),
            vec!["DEA"]
        );
        assert!(p.release_recipients(Tlp::Red, &["US".into()]).is_err());
        assert_eq!(
            p.release_recipients(Tlp::Amber, &["US".into(), "DEA".into()])
                .unwrap(),
            vec!["DEA", "US"]
        );
        let e = p
            .release_recipients(Tlp::Amber, &["Estados Unidos".into()])
            .unwrap_err();
        assert!(e.contains("not a registered organisation"), "{e}");
        assert!(p.release_recipients(Tlp::Amber, &[]).is_err());
    }
}
