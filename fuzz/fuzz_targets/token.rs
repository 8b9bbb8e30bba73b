//! Fuzzes the bearer-token parser every API request goes through: no panics, and whatever it
//! accepts has the documented shape (16 hex digits of id, 64 of secret).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    if let Some((id, secret)) = rastro_policy::token::split(s) {
        assert_eq!(id.len(), 16);
        assert_eq!(secret.len(), 64);
        assert!(id.bytes().chain(secret.bytes()).all(|b| b.is_ascii_hexdigit()));
    }
});
