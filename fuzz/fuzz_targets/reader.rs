//! Fuzzes the exchange-format readers (CSV and JSON Lines, kind detection, every field
//! validator): any bytes must yield records or quarantine entries, never a panic, and every
//! non-blank line must be accounted for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_core::Kind;

fuzz_target!(|data: &[u8]| {
    // The first byte picks a kind hint (or none), the rest is the file.
    let (hint, body) = match data.split_first() {
        Some((b, rest)) => (Kind::ALL.get(usize::from(*b) % 8).copied(), rest),
        None => (None, data),
    };
    if let Ok(mut r) = rastro_ingest::open(body, "fuzz", hint) {
        let mut n = 0usize;
        while let Ok(Some(_item)) = r.next_item() {
            n += 1;
            assert!(n <= body.len() + 1, "more items than lines");
        }
    }
});
