//! Lead packages: a self-contained intelligence package for a commander, built from one or
//! more leads exactly as the caller sees them (a partner's package holds only what it may
//! see), with the alerts, consignments and parties behind them, the hit rates operations have
//! taught, a PAP, the most restrictive marking of everything in it, and its provenance. The
//! package is stored (so an operation can link it) and its creation is audited with its
//! SHA-256; rendering to HTML or PDF is `rastro-report`'s.

use crate::guard::Guard;
use crate::ops_views::KindRateV1;
use crate::views::{AlertV1, LeadV1, MarkingV1};
use crate::AppError;
use rastro_core::{Kind, Marking, Record, Tlp};
use rastro_store::{AuditEvent, DocKind, DocRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use utoipa::ToSchema;

/// Leads one package holds at most.
pub const MAX_PACKAGE_LEADS: usize = 20;

/// FIRST's Permissible Actions Protocol: what recipients may do with the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Pap {
    #[serde(rename = "PAP:CLEAR")]
    Clear,
    #[serde(rename = "PAP:GREEN")]
    Green,
    #[serde(rename = "PAP:AMBER")]
    Amber,
    #[serde(rename = "PAP:RED")]
    Red,
}

impl Pap {
    pub fn parse(s: &str) -> Option<Pap> {
        match s.trim().to_ascii_uppercase().trim_start_matches("PAP:") {
            "CLEAR" => Some(Pap::Clear),
            "GREEN" => Some(Pap::Green),
            "AMBER" => Some(Pap::Amber),
            "RED" => Some(Pap::Red),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pap::Clear => "PAP:CLEAR",
            Pap::Green => "PAP:GREEN",
            Pap::Amber => "PAP:AMBER",
            Pap::Red => "PAP:RED",
        }
    }
}

/// A consignment behind a lead, as the package shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageConsignmentV1 {
    pub id: String,
    pub declaration: String,
    pub cas: String,
    pub description: String,
    pub quantity: f64,
    pub unit: String,
    pub importer: String,
    pub consignee: String,
    pub destination: String,
    pub port: String,
    pub arrival: String,
    pub marking: MarkingV1,
}

/// A party named by those consignments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackagePartyV1 {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub rfc: Option<String>,
    pub city: Option<String>,
    pub marking: MarkingV1,
}

/// A lead package, as built for the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PackageV1 {
    /// `pkg-` and the first 16 hex digits of `sha256`.
    pub id: String,
    /// SHA-256 of the package's content (everything but `id` and `sha256`).
    pub sha256: String,
    pub created: String,
    pub created_by: String,
    pub org: String,
    /// `es` or `en`: the language it is rendered in.
    pub lang: String,
    pub pap: Pap,
    pub marking: MarkingV1,
    pub leads: Vec<LeadV1>,
    pub alerts: Vec<AlertV1>,
    pub consignments: Vec<PackageConsignmentV1>,
    pub parties: Vec<PackagePartyV1>,
    /// What closed operations taught about each evidence kind in these leads.
    pub hit_rates: Vec<KindRateV1>,
    /// The software that built it. (Not the audit log's size: that grows with activity on
    /// records the builder may not see.)
    pub generator: String,
}

fn content_sha(p: &PackageV1) -> String {
    let mut c = p.clone();
    c.id.clear();
    c.sha256.clear();
    let body = serde_json::to_string(&c).unwrap_or_default();
    hex::encode(Sha256::digest(body.as_bytes()))
}

impl Guard<'_> {
    /// Builds, stores and returns a package of leads the caller can see. A lead the caller
    /// cannot see is refused exactly like a missing one.
    pub fn create_package(
        &mut self,
        lead_ids: &[String],
        lang: &str,
        pap: Pap,
        t_ms: i64,
    ) -> Result<PackageV1, AppError> {
        if self.viewer().is_none() {
            return Err(AppError::Invalid(
                "a package is built for a named user: give --as USER".into(),
            ));
        }
        if !matches!(lang, "es" | "en") {
            return Err(AppError::Invalid(format!(
                "language {lang:?}: give es or en"
            )));
        }
        if lead_ids.is_empty() || lead_ids.len() > MAX_PACKAGE_LEADS {
            return Err(AppError::Invalid(format!(
                "give 1 to {MAX_PACKAGE_LEADS} leads (got {})",
                lead_ids.len()
            )));
        }
        let mut leads = Vec::new();
        for id in lead_ids {
            match self.lead_plain(id)? {
                Some(l) => leads.push(l),
                None => return Err(AppError::Invalid(format!("no lead {id:?} in your view"))),
            }
        }
        self.fill_forensics(&mut leads)?;
        let vid = self.vid();
        let mut marking: Marking = Marking::new(Tlp::Clear);
        let mut alerts = Vec::new();
        let mut consignment_ids = BTreeSet::new();
        let mut kinds: BTreeSet<String> = BTreeSet::new();
        for l in &leads {
            let Some(vid) = vid else { continue };
            if let Some(core) = self.store().lead(vid, &l.id)? {
                marking = marking.most_restrictive(&core.marking);
                kinds.extend(rastro_ops::evidence_kinds(&core));
            }
            for c in l.evidence.iter().filter(|c| c.kind == "alert") {
                if let Some(a) = self.store().alert(vid, &c.origin)? {
                    if !a.subject.starts_with("cell:") {
                        consignment_ids.insert(a.subject.clone());
                    }
                    if !alerts.iter().any(|x: &AlertV1| x.id == a.id) {
                        alerts.push(AlertV1::from(&a));
                    }
                }
            }
        }
        let mut consignments = Vec::new();
        let mut party_ids = BTreeSet::new();
        for id in &consignment_ids {
            if let Some(Record::Consignment(c)) = self.record(Kind::Consignment, id)? {
                let m = self.policy().explicit(&c.originator, &c.marking);
                marking = marking.most_restrictive(&m);
                party_ids.insert(c.importer.clone());
                party_ids.insert(c.consignee.clone());
                consignments.push(PackageConsignmentV1 {
                    id: c.id.clone(),
                    declaration: c.declaration.clone(),
                    cas: c.cas.to_string(),
                    description: c.description.clone(),
                    quantity: c.quantity,
                    unit: c.unit.as_str().into(),
                    importer: c.importer.clone(),
                    consignee: c.consignee.clone(),
                    destination: c.destination.clone(),
                    port: c.port.to_string(),
                    arrival: rastro_core::format_time_ms(c.arrival_ms),
                    marking: (&m).into(),
                });
            }
        }
        let mut parties = Vec::new();
        for id in &party_ids {
            if let Some(Record::Party(p)) = self.record(Kind::Party, id)? {
                let m = self.policy().explicit(&p.originator, &p.marking);
                marking = marking.most_restrictive(&m);
                parties.push(PackagePartyV1 {
                    id: p.id.clone(),
                    kind: serde_json::to_value(p.party_kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    name: p.name.clone(),
                    rfc: p.rfc.as_ref().map(|r| r.to_string()),
                    city: p.city.clone(),
                    marking: (&m).into(),
                });
            }
        }
        let hit_rates = self
            .hit_rates()?
            .into_iter()
            .filter(|r| kinds.contains(&r.kind))
            .collect();
        let v = self.viewer().cloned().expect("checked above");
        let mut p = PackageV1 {
            id: String::new(),
            sha256: String::new(),
            created: rastro_core::format_time_ms(t_ms),
            created_by: v.user.clone(),
            org: v.org.clone(),
            lang: lang.into(),
            pap,
            marking: (&marking).into(),
            leads,
            alerts,
            consignments,
            parties,
            hit_rates,
            generator: format!("rastro {}", env!("CARGO_PKG_VERSION")),
        };
        p.sha256 = content_sha(&p);
        p.id = format!("pkg-{}", &p.sha256[..16]);
        let row = DocRow {
            id: p.id.clone(),
            org: v.org.clone(),
            version: 1,
            body: serde_json::to_string(&p).unwrap_or_default(),
            t_ms,
        };
        let mut ev = AuditEvent::new("package.create");
        ev.records = std::iter::once(p.id.clone())
            .chain(p.leads.iter().map(|l| l.id.clone()))
            .collect();
        ev.detail = serde_json::json!({"sha256": p.sha256, "lang": lang, "pap": pap.as_str(), "marking": p.marking.text});
        let actor = self.actor().clone();
        // The same content twice is the same package (its id is its hash): not an error.
        self.store()
            .put_doc(&actor, DocKind::Package, None, &row, ev, &[])?;
        Ok(p)
    }

    /// A stored package, for its organisation (or the operator).
    pub fn package(&mut self, id: &str) -> Result<Option<PackageV1>, AppError> {
        let org = self.org();
        let operator = self.viewer().is_none();
        let Some(row) = self.store().doc(DocKind::Package, id)? else {
            return Ok(None);
        };
        if !operator && row.org != org {
            return Ok(None);
        }
        let p: PackageV1 = serde_json::from_str(&row.body)
            .map_err(|e| rastro_store::Store::doc_error(DocKind::Package, id, e))?;
        self.log_read("package", vec![id.to_string()])?;
        Ok(Some(p))
    }
}
