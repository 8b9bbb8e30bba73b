//! The collection check on ingest: an observation a partner organisation contributes is
//! lawful only under an approved surveillance request of that organisation covering the
//! sighting's place (or subject) and time. Each such observation is stamped with the request
//! it was collected under (the one it names, or the first that covers it) or flagged with the
//! reason none does; an observation that names a request is checked whoever sent it. Flagged
//! observations are kept, never dropped: the host nation decides what to do with them.

use rastro_core::{Observation, Record};
use rastro_ops::Request;
use rastro_policy::Policy;
use rastro_store::{CollectionRow, DocKind, Store, StoreError};
use std::collections::HashMap;

/// The requests and nations a check needs, read once per ingest.
#[derive(Debug, Clone)]
pub struct CollectionCheck {
    host_nation: String,
    nations: HashMap<String, String>,
    requests: HashMap<String, Request>,
    by_org: HashMap<String, Vec<String>>,
}

impl CollectionCheck {
    /// The node's requests (any state: a refused or pending one is named in the flag) and
    /// organisations. A request body that does not decode is an error naming it.
    pub fn load(store: &Store, policy: &Policy) -> Result<CollectionCheck, StoreError> {
        let mut requests = HashMap::new();
        let mut by_org: HashMap<String, Vec<String>> = HashMap::new();
        for row in store.docs(DocKind::Request)? {
            let r: Request = rastro_ops::codec::decode(&row.body)
                .map_err(|e| Store::doc_error(DocKind::Request, &row.id, e))?;
            by_org.entry(r.org.clone()).or_default().push(r.id.clone());
            requests.insert(r.id.clone(), r);
        }
        Ok(CollectionCheck {
            host_nation: policy.host_nation.clone(),
            nations: policy
                .orgs()
                .map(|o| (o.code.clone(), o.nation.clone()))
                .collect(),
            requests,
            by_org,
        })
    }

    fn is_partner(&self, org: &str) -> bool {
        // An organisation the node does not know is of the host nation, as everywhere in the
        // policy (`Policy::nation_of`); a partner is always registered with its nation.
        self.nations
            .get(org)
            .is_some_and(|n| !n.eq_ignore_ascii_case(&self.host_nation))
    }

    /// The verdict on one record, if it is an observation that needs one.
    pub fn check(&self, record: &Record) -> Option<CollectionRow> {
        let Record::Observation(o) = record else {
            return None;
        };
        if o.request.is_none() && !self.is_partner(&o.originator) {
            return None;
        }
        let (request, flag) = self.verdict(o);
        Some(CollectionRow {
            originator: o.originator.clone(),
            obs_id: o.id.clone(),
            marking: o.marking.clone(),
            subject: o.subject.clone(),
            time_ms: o.time_ms,
            lat: o.lat,
            lon: o.lon,
            request,
            flag,
        })
    }

    fn verdict(&self, o: &Observation) -> (Option<String>, Option<String>) {
        let covers =
            |r: &Request| r.why_not_covering(&o.originator, &o.subject, o.lat, o.lon, o.time_ms);
        match &o.request {
            // Another organisation's request reads as unknown: the flag is told to the
            // contributor, who must not learn which requests others hold.
            Some(id) => match self.requests.get(id).filter(|r| r.org == o.originator) {
                None => (
                    None,
                    Some(format!(
                        "it names request {id}, which is not a request of {}",
                        o.originator
                    )),
                ),
                Some(r) => match covers(r) {
                    None => (Some(id.clone()), None),
                    Some(why) => (None, Some(why)),
                },
            },
            None => {
                let found = self
                    .by_org
                    .get(&o.originator)
                    .into_iter()
                    .flatten()
                    .find(|id| self.requests.get(*id).is_some_and(|r| covers(r).is_none()));
                match found {
                    Some(id) => (Some(id.clone()), None),
                    None => (
                        None,
                        Some(format!(
                            "no approved surveillance request of {} covers {:.4},{:.4} at {}",
                            o.originator,
                            o.lat,
                            o.lon,
                            rastro_core::format_time_ms(o.time_ms)
                        )),
                    ),
                }
            }
        }
    }
}
