//! Fuzzes the STIX bundle reader every import goes through: no panics on any bytes, and every
//! object it accepts passes its own checks again after a round trip through JSON, with a
//! marking and a record reader that never panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(objects) = rastro_stix::parse_bundle(data) {
        for o in objects {
            let v = serde_json::to_value(&o).expect("an accepted object serialises");
            let back = rastro_stix::Object::from_value(v).expect("and reads back");
            assert_eq!(back, o);
            let _ = rastro_stix::marking_of(&o);
            let _ = rastro_stix::record_of(&o);
        }
    }
});
