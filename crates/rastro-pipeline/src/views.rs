//! Planning the views an analysis run computes: group every audience (each registered
//! organisation, and the operator) by the marking classes it may see; each group is one view.
//! A view that already exists under the same key continues incrementally from its cursors; a
//! view that only gained classes whose records all arrived after its cursors is re-keyed and
//! continues too; any other view is computed from scratch. Views no audience uses any more are
//! deleted with everything derived under them.

use rastro_policy::{Audience, Class, Policy, ViewSpec};
use rastro_store::{Store, StoreError, ViewRow};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One view this run computes.
#[derive(Debug, Clone)]
pub struct PlannedView {
    pub vid: i64,
    pub spec: ViewSpec,
    pub audiences: Vec<Audience>,
    /// Recompute everything rather than what changed since the cursors.
    pub full: bool,
    pub obs_cursor: i64,
    pub rec_cursor: i64,
    visible: HashSet<i64>,
}

impl PlannedView {
    /// Whether this view may see records of class `class`.
    pub fn sees(&self, class: i64) -> bool {
        self.visible.contains(&class)
    }

    /// Audiences as text, for reports.
    pub fn audience_names(&self) -> Vec<String> {
        self.audiences.iter().map(Audience::key).collect()
    }
}

/// Every audience of the deployment: the operator and each registered organisation.
pub fn audiences(policy: &Policy) -> Vec<Audience> {
    std::iter::once(Audience::Operator)
        .chain(policy.orgs().map(|o| Audience::Org(o.code.clone())))
        .collect()
}

/// Whether every record and observation of `added` classes arrived after the cursors.
fn all_after(
    store: &Store,
    added: &[i64],
    obs_cursor: i64,
    rec_cursor: i64,
) -> Result<bool, StoreError> {
    for &c in added {
        let (rec_min, obs_min) = store.class_first_seqs(c)?;
        if rec_min.is_some_and(|s| s <= rec_cursor) || obs_min.is_some_and(|s| s <= obs_cursor) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Plans this run's views (creating, re-keying and deleting stored views as needed, inside
/// the caller's transaction) and maps every audience to its view.
pub fn plan(
    store: &mut Store,
    policy: &Policy,
    classes: &[Class],
    full: bool,
) -> Result<Vec<PlannedView>, StoreError> {
    let mut groups: BTreeMap<String, (ViewSpec, Vec<Audience>)> = BTreeMap::new();
    for a in audiences(policy) {
        let spec = policy.view_of(&a, classes);
        groups
            .entry(spec.key.clone())
            .or_insert_with(|| (spec, Vec::new()))
            .1
            .push(a);
    }
    let stored: Vec<ViewRow> = store.views()?;
    let mut used: BTreeSet<i64> = BTreeSet::new();
    let mut out = Vec::new();
    let by_class: BTreeMap<i64, &Class> = classes.iter().map(|c| (c.id, c)).collect();
    for (key, (spec, auds)) in groups {
        let existing = stored.iter().find(|v| v.key == key);
        let (vid, incremental, obs_cursor, rec_cursor) = match existing {
            Some(v) => (v.vid, !full, v.obs_cursor, v.rec_cursor),
            None => {
                // A view an audience of this group used before, holding a subset of these
                // classes under the same policy, can carry on if what it gains is all new.
                let mut carried = None;
                for a in &auds {
                    let Some(old) = store.audience_view(&a.key())? else {
                        continue;
                    };
                    if used.contains(&old) {
                        continue;
                    }
                    let Some(v) = stored.iter().find(|v| v.vid == old) else {
                        continue;
                    };
                    let subset = v.classes.iter().all(|c| spec.classes.contains(c));
                    let old_classes: Vec<Class> = v
                        .classes
                        .iter()
                        .filter_map(|c| by_class.get(c).map(|c| (*c).clone()))
                        .collect();
                    let same_policy = old_classes.len() == v.classes.len()
                        && policy.key_of_classes(&old_classes) == v.key;
                    let added: Vec<i64> = spec
                        .classes
                        .iter()
                        .copied()
                        .filter(|c| !v.classes.contains(c))
                        .collect();
                    if subset
                        && same_policy
                        && !full
                        && all_after(store, &added, v.obs_cursor, v.rec_cursor)?
                    {
                        store.rekey_view(v.vid, &key, &spec.classes)?;
                        carried = Some((v.vid, true, v.obs_cursor, v.rec_cursor));
                        break;
                    }
                }
                match carried {
                    Some(c) => c,
                    None => (store.create_view(&key, &spec.classes)?, false, 0, 0),
                }
            }
        };
        if !incremental {
            store.reset_view(vid)?;
        }
        used.insert(vid);
        out.push(PlannedView {
            vid,
            visible: spec.classes.iter().copied().collect(),
            spec,
            audiences: auds,
            full: !incremental,
            obs_cursor: if incremental { obs_cursor } else { 0 },
            rec_cursor: if incremental { rec_cursor } else { 0 },
        });
    }
    for v in &stored {
        if !used.contains(&v.vid) {
            store.delete_view(v.vid)?;
        }
    }
    let map: Vec<(String, i64)> = out
        .iter()
        .flat_map(|v| v.audiences.iter().map(move |a| (a.key(), v.vid)))
        .collect();
    store.set_audience_views(&map)?;
    Ok(out)
}
