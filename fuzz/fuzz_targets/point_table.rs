//! Fuzzes the column-mapped point-table reader behind `rastro stops` and `rastro hotspots`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_ingest::table::{read_points, PointColumns};

fuzz_target!(|data: &[u8]| {
    let cols = PointColumns { id: Some("id".into()), time: Some("time".into()), x: "x".into(), y: "y".into(), value: None };
    let _ = read_points(data, "fuzz", &cols);
});
