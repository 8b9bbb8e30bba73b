//! The deployment's policy and marking classes as the store holds them.

use rastro_policy::{Class, Org, OrgKind, Policy};
use rastro_store::{Store, StoreError};

/// The deployment setting that names the host nation.
pub const HOST_NATION_SETTING: &str = "host_nation";
/// The host nation when none is set.
pub const DEFAULT_HOST_NATION: &str = "MX";

/// Loads the policy (host nation and organisations) from the store.
pub fn load_policy(store: &Store) -> Result<Policy, StoreError> {
    let host = store
        .setting(HOST_NATION_SETTING)?
        .unwrap_or_else(|| DEFAULT_HOST_NATION.to_string());
    let orgs = store.orgs()?.into_iter().map(|o| Org {
        kind: OrgKind::parse(&o.kind).unwrap_or(OrgKind::Other),
        code: o.code,
        name: o.name,
        nation: o.nation,
    });
    Ok(Policy::new(&host, orgs))
}

/// Every marking class the store holds.
pub fn classes(store: &Store) -> Result<Vec<Class>, StoreError> {
    Ok(store
        .classes()?
        .into_iter()
        .map(|c| Class {
            id: c.id,
            originator: c.originator,
            marking: c.marking,
        })
        .collect())
}
