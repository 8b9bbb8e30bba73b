//! Fuzzes the bus's batch decoder (a worker reads whatever is on the stream): no panics, and
//! a batch it accepts encodes and decodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_bus::Envelope;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::decode(data) {
        let again = Envelope::decode(&env.encode()).expect("a decoded batch re-encodes");
        assert_eq!(again, env);
    }
});
