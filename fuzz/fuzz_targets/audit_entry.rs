//! Fuzzes audit verification over arbitrary stored entries: it must report, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_audit::{verify_log, StoredEntry};

fuzz_target!(|data: &[u8]| {
    let entries: Vec<StoredEntry> = data
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| StoredEntry { seq: i as u64, bytes: l.to_vec(), leaf_hash: rastro_audit::leaf_hash(l).to_vec() })
        .collect();
    let _ = verify_log(&entries, &[], None, None);
});
