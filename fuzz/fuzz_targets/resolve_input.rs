//! Fuzzes what `rastro resolve` reads from users: the settings TOML and the CSV records, then
//! a whole linkage job on what was read. No input panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rastro_resolve::{Settings, Table};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Settings::from_toml(&text, "fuzz.toml");
    let Ok(s) = Settings::from_toml(
        "id = \"id\"\nblocking = [[\"n.first(2)\"], [\"t\"]]\n[[columns]]\nname = \"n\"\ntype = \"org_name\"\n[[columns]]\nname = \"t\"\ntype = \"phone\"\n",
        "fuzz.toml",
    ) else {
        return;
    };
    let mut t = Table::new(&s);
    let mut csv = b"id,n,t\n".to_vec();
    csv.extend_from_slice(data);
    if t.read_csv(&s, &csv[..], "fuzz.csv", 0).is_ok() {
        let _ = rastro_resolve::run(&t, &s, false);
    }
});
