//! Fuzzes the Mexican address parser (declarations and registries are untrusted free text):
//! no panics, and ASCII case never changes what it reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_core::Address;

fuzz_target!(|s: &str| {
    let a = Address::parse(s);
    let _ = a.land_use();
    assert_eq!(Address::parse(&s.to_ascii_uppercase()), a);
});
