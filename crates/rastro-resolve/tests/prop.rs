//! Property tests of the normalisers and the settings and CSV readers: no input panics, the
//! normalisers are idempotent where they should be, every written form of one phone number
//! agrees, and a pair's levels do not depend on which record comes first.

use proptest::prelude::*;
use rastro_resolve::compare::{jaro_winkler, level_of, one_edit};
use rastro_resolve::normalise::{self, phone};
use rastro_resolve::table::prepare;
use rastro_resolve::{FieldType, Settings, Table};

const TYPES: [FieldType; 10] = [
    FieldType::OrgName,
    FieldType::PersonName,
    FieldType::Name,
    FieldType::Rfc,
    FieldType::Phone,
    FieldType::Address,
    FieldType::Postcode,
    FieldType::Date,
    FieldType::Id,
    FieldType::Exact,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn normalisers_never_panic_and_settle(s in "\\PC{0,60}") {
        // Organisation names are not idempotent by design: sorting words can bring a legal
        // form's letters together ("a", "c"), so only the absence of panics is checked.
        let _ = normalise::org_name(&s);
        let p = normalise::person_name(&s);
        prop_assert_eq!(normalise::person_name(&p), p);
        let _ = normalise::phonetic(&s);
        let _ = normalise::rfc(&s);
        let _ = normalise::address(&s);
        let _ = normalise::date(&s);
        if let Some(n) = phone(&s) {
            prop_assert_eq!(phone(&n), Some(n.clone()));
        }
        for t in TYPES {
            let _ = prepare(t, &s);
        }
    }

    #[test]
    fn one_phone_written_many_ways_is_one_number(area in 20u32..99, local in 10_000_000u32..99_999_999) {
        let national = format!("{area}{local}");
        for written in [
            format!("+52 {area} {local}"),
            format!("+52 1 {area} {local}"),
            format!("044 {area} {local}"),
            format!("01 ({area}) {}-{}", &local.to_string()[..4], &local.to_string()[4..]),
            format!("0052{area}{local}"),
            national.clone(),
        ] {
            let got = phone(&written);
            prop_assert_eq!(got.as_deref(), Some(national.as_str()), "{}", written);
        }
    }

    #[test]
    fn levels_are_symmetric(a in "[a-zñ ]{1,20}", b in "[a-zñ ]{1,20}", t in 0usize..10) {
        let t = TYPES[t];
        if let (Some(x), Some(y)) = (prepare(t, &a), prepare(t, &b)) {
            prop_assert_eq!(level_of(t, &x, &y), level_of(t, &y, &x));
        }
        prop_assert!((jaro_winkler(&a, &b) - strsim::jaro_winkler(&a, &b)).abs() < 1e-12);
        prop_assert_eq!(one_edit(&a, &b), strsim::damerau_levenshtein(&a, &b) <= 1);
    }

    #[test]
    fn settings_and_csv_never_panic(settings in "\\PC{0,200}", csv in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Settings::from_toml(&settings, "p.toml");
        let s = Settings::from_toml(
            "id = \"id\"\nblocking = [[\"n\"]]\n[[columns]]\nname = \"n\"\ntype = \"name\"\n",
            "p.toml",
        ).unwrap();
        let mut t = Table::new(&s);
        let mut data = b"id,n\n".to_vec();
        data.extend(csv);
        if t.read_csv(&s, &data[..], "p.csv", 0).is_ok() {
            let _ = rastro_resolve::run(&t, &s, false);
        }
    }
}
