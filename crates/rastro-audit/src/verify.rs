//! Verification of a whole log from its stored bytes: every leaf hash, the hash chain, every
//! stored signed tree head, and (optionally) an earlier head held by a partner.

use crate::entry::Entry;
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::sth::SignedTreeHead;
use serde::Serialize;

/// One stored entry as the store returns it.
pub struct StoredEntry {
    pub seq: u64,
    pub bytes: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub entries: u64,
    pub heads_checked: usize,
    pub root_hash: String,
    /// The first entry found bad, and why.
    pub first_bad_entry: Option<u64>,
    pub problems: Vec<String>,
}

/// Recomputes the log. `heads` are the heads the node stored; `earlier` a head a partner kept.
pub fn verify_log(
    entries: &[StoredEntry],
    heads: &[SignedTreeHead],
    earlier: Option<&SignedTreeHead>,
    trusted_key: Option<&str>,
) -> VerifyReport {
    let mut problems = Vec::new();
    let mut first_bad: Option<u64> = None;
    let mut bad = |seq: u64, msg: String, problems: &mut Vec<String>| {
        if first_bad.is_none() {
            first_bad = Some(seq);
        }
        problems.push(format!("entry {seq}: {msg}"));
    };
    let mut tree = Tree::new();
    let mut prev: Option<Hash> = None;
    for (i, e) in entries.iter().enumerate() {
        let i = i as u64;
        let h = leaf_hash(&e.bytes);
        if e.seq != i {
            bad(i, format!("stored at position {i} with sequence number {} (entries deleted, inserted or reordered)", e.seq), &mut problems);
        }
        if e.leaf_hash != h {
            bad(
                i,
                "its bytes do not hash to its stored leaf hash (the entry was modified)".into(),
                &mut problems,
            );
        }
        match Entry::from_bytes(&e.bytes) {
            Ok(parsed) => {
                if parsed.seq != i {
                    bad(i, format!("its content says it is entry {} (entries deleted, inserted or reordered)", parsed.seq), &mut problems);
                }
                let want = prev.map(hex::encode).unwrap_or_default();
                if parsed.prev != want {
                    bad(i, "it does not chain to the entry before it (an entry before it was removed, inserted or changed)".into(), &mut problems);
                }
            }
            Err(err) => bad(
                i,
                format!("its bytes are not an audit entry ({err})"),
                &mut problems,
            ),
        }
        tree.push(h);
        prev = Some(h);
    }
    let n = tree.len();
    let mut heads_checked = 0;
    // Heads in size order: entries below the largest size whose head still verifies are vouched
    // for; if a later head fails, the first bad entry is the first one no good head covers.
    let mut all: Vec<(&SignedTreeHead, &str)> =
        heads.iter().map(|h| (h, "signed tree head")).collect();
    if let Some(e) = earlier {
        all.push((e, "earlier head"));
    }
    all.sort_by_key(|(h, _)| h.tree_size);
    let mut vouched = 0u64;
    for (sth, label) in all {
        heads_checked += 1;
        if let Err(e) = sth.verify_signature(trusted_key) {
            problems.push(format!("{label} at size {}: {e}", sth.tree_size));
            continue;
        }
        if sth.tree_size > n {
            problems.push(format!("{label} at size {} but the log has only {n} entries: the log was truncated after entry {}", sth.tree_size, n.saturating_sub(1)));
            first_bad.get_or_insert(n);
            continue;
        }
        if tree.root(sth.tree_size) == sth.root() {
            vouched = vouched.max(sth.tree_size);
        } else {
            problems.push(format!("{label} at size {}: the recomputed root differs, so an entry from {vouched} to {} was changed, removed or inserted", sth.tree_size, sth.tree_size - 1));
            // An entry-level finding is exact; without one, the first entry no valid head vouches
            // for is as precise as a re-chained forgery allows.
            first_bad.get_or_insert(vouched);
        }
    }
    let root = tree.root(n).map(hex::encode).unwrap_or_default();
    VerifyReport {
        ok: problems.is_empty(),
        entries: n,
        heads_checked,
        root_hash: root,
        first_bad_entry: first_bad,
        problems,
    }
}
