//! TAXII 2.1 collections through the guard. Each organisation of another nation has two: the
//! one it reads (`shared`: what the host published for it, each object under its own marking)
//! and the one it writes (`inbox`: what it posts, imported as its own data). A reader is
//! checked against every entry, never by collection: an entry it may not read answers exactly
//! like an entry that does not exist, so neither a page, a count, `more`, a date header nor a
//! version list tells it anything about what it may not see.

use crate::guard::Guard;
use crate::ingest::IngestLimits;
use crate::share::{is_definition, ImportReportV1};
use crate::AppError;
use rastro_core::Tlp;
use rastro_policy::Role;
use rastro_store::{stamp_ms, AuditEvent, EntryQuery, EntryRow, NewEntry};
use rastro_taxii::{Collection, Status, StatusDetail, STIX};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The namespace of collection and status ids (UUIDv5), fixed so a collection has the same id
/// on every node and across restarts.
const TAXII_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6a1f_3c52_9d0e_4b8a_a7c4_52e1_0f93_d7b6);

/// The objects one POST may carry at most (each is checked before any is applied).
pub const MAX_POST_OBJECTS: usize = 100_000;

/// What a collection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionKind {
    /// What the host published for the audience; read-only.
    Shared,
    /// What the audience posts; the audience may write and read it.
    Inbox,
}

impl CollectionKind {
    fn as_str(self) -> &'static str {
        match self {
            CollectionKind::Shared => "shared",
            CollectionKind::Inbox => "inbox",
        }
    }
}

/// The id of an audience's collection of a kind: the same on every node.
pub fn collection_id(audience: &str, kind: CollectionKind) -> String {
    uuid::Uuid::new_v5(
        &TAXII_NAMESPACE,
        format!("collection:{}:{audience}", kind.as_str()).as_bytes(),
    )
    .to_string()
}

/// A read of a collection's objects, manifest or versions (TAXII's URL parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiQuery {
    pub added_after_ms: Option<i64>,
    /// The `next` cursor of a previous page.
    pub next: Option<String>,
    pub limit: usize,
    pub ids: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub version: VersionSel,
    pub spec_versions: Option<Vec<String>>,
}

impl Default for TaxiiQuery {
    fn default() -> Self {
        TaxiiQuery {
            added_after_ms: None,
            next: None,
            limit: DEFAULT_PAGE,
            ids: None,
            types: None,
            version: VersionSel::Last,
            spec_versions: None,
        }
    }
}

/// Objects a page holds when the client names no limit.
pub const DEFAULT_PAGE: usize = 1_000;
/// Objects a page holds at most.
pub const MAX_PAGE: usize = rastro_store::MAX_ENTRY_PAGE;

pub use rastro_store::VersionSel;

/// One page as the server sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiPage {
    pub entries: Vec<TaxiiEntry>,
    pub more: bool,
    pub next: Option<String>,
}

impl TaxiiPage {
    pub fn date_added_first(&self) -> Option<&str> {
        self.entries.first().map(|e| e.date_added.as_str())
    }
    pub fn date_added_last(&self) -> Option<&str> {
        self.entries.last().map(|e| e.date_added.as_str())
    }
}

/// One object version of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxiiEntry {
    pub id: String,
    pub version: String,
    pub date_added: String,
    /// The object as stored (JSON text).
    pub body: String,
}

/// What one publication did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublishReportV1 {
    pub audience: String,
    pub collection: String,
    pub objects: usize,
    pub added: u64,
    pub withdrawn: u64,
}

fn bad_next(n: &str) -> AppError {
    AppError::Invalid(format!(
        "next {:?} is not a cursor this server gave; start again without it",
        n.chars().take(40).collect::<String>()
    ))
}

impl Guard<'_> {
    /// The organisations with collections: every registered organisation of another nation.
    fn audiences(&self) -> Vec<String> {
        let host = self.policy().host_nation.clone();
        self.policy()
            .orgs()
            .filter(|o| o.nation != host)
            .map(|o| o.code.clone())
            .collect()
    }

    /// Whether the caller sees a collection: a partner's users their organisation's two; the
    /// host nation's users every inbox (what partners contributed, entry by entry as they may
    /// read it); the operator all. A shared collection is a publication for one partner, read
    /// by it alone: a host agency reads the same content, as it may, with `share export`.
    fn sees(&self, audience: &str, kind: CollectionKind) -> bool {
        match self.viewer() {
            None => true,
            Some(v) => {
                v.org == audience
                    || (kind == CollectionKind::Inbox && v.nation == self.policy().host_nation)
            }
        }
    }

    fn may_write(&self, audience: &str, kind: CollectionKind) -> bool {
        kind == CollectionKind::Inbox && self.viewer().is_some_and(|v| v.org == audience)
    }

    /// The collections the caller may see.
    pub fn taxii_collections(&self) -> Vec<Collection> {
        let mut out = Vec::new();
        for a in self.audiences() {
            for kind in [CollectionKind::Shared, CollectionKind::Inbox] {
                if self.sees(&a, kind) {
                    out.push(self.describe(&a, kind));
                }
            }
        }
        out
    }

    fn describe(&self, audience: &str, kind: CollectionKind) -> Collection {
        let (title, description) = match kind {
            CollectionKind::Shared => (
                format!("Shared with {audience}"),
                format!("What the host nation published for {audience}, each object under its own TLP 2.0 marking"),
            ),
            CollectionKind::Inbox => (
                format!("Contributions of {audience}"),
                format!("What {audience} posts: imported as its own data, under the markings it states"),
            ),
        };
        Collection {
            id: collection_id(audience, kind),
            title,
            description: Some(description),
            alias: Some(format!(
                "{}-{}",
                kind.as_str(),
                audience.to_ascii_lowercase()
            )),
            can_read: true,
            can_write: self.may_write(audience, kind),
            media_types: vec![STIX.into()],
        }
    }

    /// The audience and kind of a collection id the caller may see; any other id is not found.
    fn resolve(&self, id: &str) -> Result<(String, CollectionKind), AppError> {
        for a in self.audiences() {
            for kind in [CollectionKind::Shared, CollectionKind::Inbox] {
                if collection_id(&a, kind) == id && self.sees(&a, kind) {
                    return Ok((a, kind));
                }
            }
        }
        Err(AppError::NotFound(format!(
            "no collection {:?}; GET the collections resource for the ones you may read",
            id.chars().take(64).collect::<String>()
        )))
    }

    /// One collection the caller may see.
    pub fn taxii_collection(&self, id: &str) -> Result<Collection, AppError> {
        let (a, kind) = self.resolve(id)?;
        Ok(self.describe(&a, kind))
    }

    fn page(
        &mut self,
        collection: &str,
        object: Option<&str>,
        q: &TaxiiQuery,
    ) -> Result<TaxiiPage, AppError> {
        let _ = self.resolve(collection)?;
        if q.spec_versions
            .as_ref()
            .is_some_and(|v| !v.iter().any(|s| s == "2.1"))
        {
            // Everything a Rastro collection holds is STIX 2.1.
            return Ok(TaxiiPage {
                entries: Vec::new(),
                more: false,
                next: None,
            });
        }
        // The cursor names the last entry the caller was given (its object and version, which
        // it has read), never a position in the table: a position would count entries the
        // caller may not see.
        let after = match &q.next {
            None => None,
            Some(n) => {
                let key = hex::decode(n)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| bad_next(n))?;
                let (id, version) = key.split_once('\n').ok_or_else(|| bad_next(n))?;
                let row = self.store().taxii_entry(collection, id, version)?;
                Some((n.clone(), row))
            }
        };
        let ids = match object {
            Some(o) => Some(vec![o.to_string()]),
            None => q.ids.clone(),
        };
        // Whether the caller may read one entry: definitions are anyone's; a record's object
        // is read as the record would be, an alert's or lead's by its combined marking as is.
        let (policy, viewer) = (self.policy().clone(), self.viewer().cloned());
        let reads = |e: &EntryRow| {
            let (Some(v), Some(orig)) = (viewer.as_ref(), e.originator.as_deref()) else {
                return true;
            };
            if e.derived {
                policy.may_read_derived(v, &e.marking)
            } else {
                policy.may_read(v, orig, &e.marking)
            }
        };
        let after_seq = match after {
            None => 0,
            // A cursor naming an entry the caller may not read answers like one naming none.
            Some((_, Some(r))) if reads(&r) => r.seq,
            Some((n, _)) => {
                return Err(AppError::Invalid(format!(
                    "the cursor {:?} names no object of this collection that you may read (withdrawn, deleted, or never given); page again with added_after",
                    n.chars().take(40).collect::<String>()
                )))
            }
        };
        let eq = EntryQuery {
            after_seq,
            added_after_ms: q.added_after_ms,
            ids,
            types: q.types.clone(),
            version: q.version.clone(),
        };
        let (rows, more) = self.store().taxii_page(collection, &eq, q.limit, reads)?;
        let next = more
            .then(|| {
                rows.last()
                    .map(|r| hex::encode(format!("{}\n{}", r.stix_id, r.version)))
            })
            .flatten();
        let ids: Vec<String> = rows
            .iter()
            .filter(|r| r.marking.tlp != Tlp::Clear)
            .map(|r| format!("{}@{}", r.stix_id, r.version))
            .collect();
        self.log_read("taxii", ids)?;
        Ok(TaxiiPage {
            entries: rows
                .into_iter()
                .map(|r| TaxiiEntry {
                    id: r.stix_id,
                    version: r.version,
                    date_added: stamp_ms(r.added_ms),
                    body: r.body,
                })
                .collect(),
            more,
            next,
        })
    }

    /// A page of a collection's objects (or of one object's versions when `object` is given).
    pub fn taxii_objects(
        &mut self,
        collection: &str,
        object: Option<&str>,
        q: &TaxiiQuery,
    ) -> Result<TaxiiPage, AppError> {
        let p = self.page(collection, object, q)?;
        if object.is_some() && p.entries.is_empty() && q.next.is_none() {
            return Err(AppError::NotFound(format!(
                "no object {:?} in this collection that you may read",
                object
                    .unwrap_or_default()
                    .chars()
                    .take(80)
                    .collect::<String>()
            )));
        }
        Ok(p)
    }

    /// Publishes to `audience`'s shared collection what the caller may read and it may read
    /// (the export of [`Guard::export_bundle`]): versions not held yet are added at one
    /// `date_added`; objects no longer exported are withdrawn. Host analysts, commanders and
    /// administrators only.
    pub fn taxii_publish(
        &mut self,
        audience: &str,
        now_ms: i64,
    ) -> Result<PublishReportV1, AppError> {
        self.require_host_role(&[Role::Analyst, Role::Commander, Role::Admin])?;
        if !self.audiences().iter().any(|a| a == audience) {
            return Err(AppError::Invalid(format!(
                "{audience:?} is no registered organisation of another nation; a shared collection is for a partner (`rastro org list`)"
            )));
        }
        let (ex, by_kind, shared) = self.export_objects(audience, None, now_ms)?;
        let entries: Vec<NewEntry> = ex
            .entries()
            .into_iter()
            .map(|e| NewEntry {
                stix_id: e.id.to_string(),
                ty: e.ty,
                version_ms: e
                    .version
                    .as_deref()
                    .and_then(rastro_stix::object::timestamp_ms),
                version: e.version,
                originator: e.meta.as_ref().map(|m| m.originator.clone()),
                marking: e
                    .meta
                    .as_ref()
                    .map(|m| m.marking.clone())
                    .unwrap_or_else(|| rastro_core::Marking::new(Tlp::Clear)),
                derived: e.meta.as_ref().is_some_and(|m| m.derived),
                body: e.object.to_string(),
            })
            .collect();
        let collection = collection_id(audience, CollectionKind::Shared);
        let (added, withdrawn) = self
            .store()
            .put_taxii(&collection, &entries, true, now_ms)?;
        let mut ev = AuditEvent::new("taxii.publish");
        ev.detail = serde_json::json!({"to": audience, "collection": collection, "objects": entries.len(), "added": added, "withdrawn": withdrawn, "by_kind": by_kind});
        ev.records = shared;
        self.log(ev)?;
        Ok(PublishReportV1 {
            audience: audience.to_string(),
            collection,
            objects: entries.len(),
            added,
            withdrawn,
        })
    }

    /// Posts an envelope to a collection: only an organisation's own inbox, by its users. The
    /// objects are imported as the caller's organisation ([`Guard::import_bundle`]: all or
    /// nothing) and kept in the inbox under the markings they state; the status says which
    /// were taken, or why none was. Malformed envelopes are refused before any status exists.
    pub fn taxii_post(
        &mut self,
        collection: &str,
        body: &[u8],
        limits: &IngestLimits,
        now_ms: i64,
    ) -> Result<Status, AppError> {
        let (audience, kind) = self.resolve(collection)?;
        if !self.may_write(&audience, kind) {
            return Err(AppError::Forbidden(format!(
                "this collection is not writable by you; {audience}'s users post to its inbox collection"
            )));
        }
        let env: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            AppError::Invalid(format!(
                "the body is not JSON ({e}); send a TAXII envelope {{\"objects\": [...]}}"
            ))
        })?;
        let Some(objects) = env.get("objects").and_then(|o| o.as_array()) else {
            return Err(AppError::Invalid(
                "the body is not a TAXII envelope: it has no \"objects\" list".into(),
            ));
        };
        if objects.len() > MAX_POST_OBJECTS {
            return Err(AppError::Invalid(format!(
                "{} objects in one envelope; post at most {MAX_POST_OBJECTS} at a time",
                objects.len()
            )));
        }
        let detail = |o: &serde_json::Value, message: Option<String>| StatusDetail {
            id: o["id"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect(),
            version: o["modified"]
                .as_str()
                .or(o["created"].as_str())
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect(),
            message,
        };
        let hash = xxhash_rust::xxh3::xxh3_64(body);
        let status_id = uuid::Uuid::new_v5(
            &TAXII_NAMESPACE,
            format!("status:{collection}:{}:{now_ms}:{hash:016x}", self.actor()).as_bytes(),
        )
        .to_string();
        // The envelope as a bundle, so that it meets exactly the import's checks.
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": format!("bundle--{}", uuid::Uuid::new_v5(&TAXII_NAMESPACE, format!("envelope:{hash:016x}").as_bytes())),
            "objects": objects,
        });
        // Parsed once: a bundle that does not parse is refused like any other import.
        let parsed =
            rastro_stix::parse_bundle(bundle.to_string().as_bytes()).map_err(|e| e.to_string());
        let imported = match &parsed {
            Ok(p) => self.import_objects(p, limits, now_ms, None),
            Err(m) => Err(AppError::Invalid(m.clone())),
        };
        let (report, successes, failures, reason) = match imported {
            Ok(r) => (
                Some(r),
                objects.iter().map(|o| detail(o, None)).collect::<Vec<_>>(),
                Vec::new(),
                None,
            ),
            Err(AppError::Invalid(m) | AppError::Forbidden(m) | AppError::TooMany(m)) => (
                None,
                Vec::new(),
                objects
                    .iter()
                    .map(|o| detail(o, Some(m.chars().take(600).collect())))
                    .collect(),
                Some(m),
            ),
            Err(e) => return Err(e),
        };
        if let (Some(_), Ok(parsed)) = (&report, &parsed) {
            let org = self.org();
            let entries: Vec<NewEntry> = parsed
                .iter()
                .map(|o| {
                    let def = is_definition(o);
                    let version = o.modified.clone().or_else(|| o.created.clone());
                    NewEntry {
                        stix_id: o.id.to_string(),
                        ty: o.ty.clone(),
                        version_ms: version
                            .as_deref()
                            .and_then(rastro_stix::object::timestamp_ms),
                        version,
                        originator: (!def).then(|| org.clone()),
                        marking: if def {
                            rastro_core::Marking::new(Tlp::Clear)
                        } else {
                            rastro_stix::marking_of(o)
                                .unwrap_or_else(|_| rastro_core::Marking::new(Tlp::Red))
                        },
                        derived: false,
                        body: serde_json::to_string(o).expect("an object serialises"),
                    }
                })
                .collect();
            self.store()
                .put_taxii(collection, &entries, false, now_ms)?;
        }
        let status = Status {
            id: status_id.clone(),
            status: "complete".into(),
            request_timestamp: Some(stamp_ms(now_ms)),
            total_count: objects.len() as u64,
            success_count: successes.len() as u64,
            successes,
            failure_count: failures.len() as u64,
            failures,
            pending_count: 0,
            pendings: Vec::new(),
        };
        let org = self.org();
        self.store().put_taxii_status(
            &status_id,
            collection,
            &org,
            now_ms,
            &serde_json::to_string(&status).expect("a status serialises"),
        )?;
        let mut ev = AuditEvent::new("taxii.post");
        ev.detail = serde_json::json!({"collection": collection, "audience": audience, "status": status_id,
            "total": status.total_count, "taken": status.success_count, "refused": reason, "import": report});
        let actor = self.actor().clone();
        self.store().audit(&actor, ev)?;
        Ok(status)
    }

    /// A status resource: only the posting organisation's users (and the operator) see it.
    pub fn taxii_status(&mut self, id: &str) -> Result<Status, AppError> {
        let org = self.org();
        match self.store().taxii_status(id)? {
            Some((by, body)) if org == "*" || by == org => serde_json::from_str(&body)
                .map_err(|e| AppError::Invalid(format!("stored status {id} is unreadable: {e}"))),
            _ => Err(AppError::NotFound(format!(
                "no status {:?}",
                id.chars().take(64).collect::<String>()
            ))),
        }
    }

    /// Deletes an object (every version) from the caller's own inbox: what an organisation
    /// posted it may take back from the collection (the records it carried stay, as any
    /// ingested record does). Published collections change only by publishing.
    pub fn taxii_delete(&mut self, collection: &str, object: &str) -> Result<u64, AppError> {
        let (audience, kind) = self.resolve(collection)?;
        // Not found first: whether an object the caller may not read exists is not told.
        let q = TaxiiQuery {
            version: VersionSel::All,
            limit: 1,
            ..Default::default()
        };
        if self.page(collection, Some(object), &q)?.entries.is_empty() {
            return Err(AppError::NotFound(format!(
                "no object {:?} in this collection that you may read",
                object.chars().take(80).collect::<String>()
            )));
        }
        if !self.may_write(&audience, kind) {
            return Err(AppError::Forbidden(
                "objects are deleted only from an organisation's own inbox, by its users; a shared collection changes when it is published again".into(),
            ));
        }
        let n = self.store().delete_taxii(collection, object)?;
        let mut ev = AuditEvent::new("taxii.delete");
        ev.detail = serde_json::json!({"collection": collection, "object": object, "versions": n});
        self.log(ev)?;
        Ok(n)
    }
}

/// What one page pulled from a peer did.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct PullReportV1 {
    pub objects: usize,
    /// Objects created by this node's own nation's organisations: already ours, not taken.
    pub own: usize,
    pub import: ImportReportV1,
}

impl Guard<'_> {
    /// Imports objects pulled from `peer`'s node (the operator's: a pull is the node's, not a
    /// user's). Every object must be created by an organisation of the peer's nation
    /// registered here, or be a definition; objects of this node's own nation are skipped (a
    /// peer serving back what it was sent changes nothing). Then the import's checks, all or
    /// nothing. Each object keeps the marking its originator gave it.
    pub fn import_from_peer(
        &mut self,
        peer: &str,
        objects: &[serde_json::Value],
        limits: &IngestLimits,
        now_ms: i64,
    ) -> Result<PullReportV1, AppError> {
        if self.viewer().is_some() {
            return Err(AppError::Forbidden(
                "a pull from a peer node is the node operator's; run it without --as".into(),
            ));
        }
        let policy = self.policy().clone();
        let Some(p) = policy.org(peer) else {
            return Err(AppError::Invalid(format!(
                "{peer:?} is no organisation registered here; register the peer (`rastro org add`) first"
            )));
        };
        let nation = p.nation.clone();
        let by_id: std::collections::HashMap<String, (String, String)> = policy
            .orgs()
            .map(|o| {
                (
                    rastro_stix::organisation_id(&o.code).to_string(),
                    (o.code.clone(), o.nation.clone()),
                )
            })
            .collect();
        let mut keep: Vec<&serde_json::Value> = Vec::new();
        let mut own = 0;
        let rastro = rastro_stix::marking::rastro_identity().to_string();
        for o in objects {
            let id = o["id"].as_str().unwrap_or_default();
            let Some(by) = o.get("created_by_ref").and_then(|b| b.as_str()) else {
                keep.push(o);
                continue;
            };
            if by == rastro {
                // Rastro's own definitions and the organisations' identities.
                keep.push(o);
                continue;
            }
            match by_id.get(by) {
                Some((_, n)) if *n == policy.host_nation => own += 1,
                Some((_, n)) if *n == nation => keep.push(o),
                Some((code, n)) => {
                    return Err(AppError::Forbidden(format!(
                        "nothing was imported: {} is created by {code} ({n}), but {peer}'s node speaks for {nation} only",
                        id.chars().take(80).collect::<String>()
                    )))
                }
                None => {
                    return Err(AppError::Invalid(format!(
                        "nothing was imported: {} is created by {by}, which is no organisation registered here; register it or ask {peer} not to relay it",
                        id.chars().take(80).collect::<String>()
                    )))
                }
            }
        }
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": format!("bundle--{}", uuid::Uuid::new_v5(&TAXII_NAMESPACE, format!("pull:{peer}:{now_ms}:{}", keep.len()).as_bytes())),
            "objects": keep,
        });
        let import =
            self.import_bundle_from(bundle.to_string().as_bytes(), limits, now_ms, Some(peer))?;
        let mut ev = AuditEvent::new("federate.pull");
        ev.detail = serde_json::json!({"peer": peer, "objects": objects.len(), "own": own, "import": import});
        self.log(ev)?;
        Ok(PullReportV1 {
            objects: objects.len(),
            own,
            import,
        })
    }

    /// Where a pull from a peer's collection has got to: the `added_after` to resume from
    /// and how many objects it has brought (the operator's).
    pub fn federation_cursor(
        &mut self,
        url: &str,
        collection: &str,
    ) -> Result<Option<(String, i64)>, AppError> {
        Ok(self.store().federation_cursor(url, collection)?)
    }

    pub fn set_federation_cursor(
        &mut self,
        url: &str,
        collection: &str,
        added_after: &str,
        pulled: i64,
        now_ms: i64,
    ) -> Result<(), AppError> {
        if self.viewer().is_some() {
            return Err(AppError::Forbidden(
                "a pull's progress is the node operator's".into(),
            ));
        }
        Ok(self
            .store()
            .set_federation_cursor(url, collection, added_after, pulled, now_ms)?)
    }
}
