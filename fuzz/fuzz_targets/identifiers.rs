//! Fuzzes every identifier parser and the time parser: no panics, and whatever parses
//! round-trips through its text form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_core::{Cas, ContainerNumber, Country, HsCode, Imo, Mmsi, Rfc, UnLocode};

fuzz_target!(|s: &str| {
    if let Ok(v) = Cas::parse(s) {
        assert_eq!(Cas::parse(v.as_str()).as_ref(), Ok(&v));
    }
    if let Ok(v) = ContainerNumber::parse(s) {
        assert_eq!(ContainerNumber::parse(v.as_str()).as_ref(), Ok(&v));
    }
    if let Ok(v) = Imo::parse(s) {
        assert_eq!(Imo::parse(v.as_str()).as_ref(), Ok(&v));
    }
    if let Ok(v) = Rfc::parse(s) {
        assert_eq!(Rfc::parse(v.as_str()).as_ref(), Ok(&v));
    }
    let _ = (HsCode::parse(s), UnLocode::parse(s), Country::parse(s), Mmsi::parse(s));
    if let Ok(ms) = rastro_core::parse_time_ms(s) {
        assert_eq!(rastro_core::parse_time_ms(&rastro_core::format_time_ms(ms)), Ok(ms));
    }
    let _ = rastro_core::Tlp::parse(s);
});
