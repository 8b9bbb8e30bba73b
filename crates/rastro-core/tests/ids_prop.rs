//! Property tests for identifiers: valid values round-trip, and every single-digit corruption
//! that a check-digit scheme can detect is detected. Where a scheme has a mathematical blind
//! spot (weight x change divisible by the modulus), the test asserts the blind spot exactly,
//! so the documentation of what each check digit catches is itself tested.

use proptest::prelude::*;
use rastro_core::{
    format_time_ms, parse_time_ms, Cas, ContainerNumber, Country, HsCode, Imo, Mmsi, Position, Rfc,
    UnLocode,
};

fn cas_strategy() -> impl Strategy<Value = String> {
    (
        1u32..10,
        proptest::collection::vec(0u32..10, 1..6),
        proptest::collection::vec(0u32..10, 2),
    )
        .prop_map(|(first, rest, mid)| {
            let mut a = vec![first];
            a.extend(rest);
            let body: Vec<u32> = a.iter().chain(mid.iter()).copied().collect();
            let c = Cas::check_digit(&body);
            let s = |v: &[u32]| {
                v.iter()
                    .map(|d| char::from_digit(*d, 10).unwrap())
                    .collect::<String>()
            };
            format!("{}-{}-{c}", s(&a), s(&mid))
        })
}

fn replace_digit(s: &str, idx: usize, d: u32) -> String {
    s.char_indices()
        .map(|(i, c)| {
            if i == idx {
                char::from_digit(d, 10).unwrap()
            } else {
                c
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn cas_roundtrip_and_corruption(cas in cas_strategy(), pos in 0usize..12, new in 0u32..10) {
        let parsed = Cas::parse(&cas).unwrap();
        prop_assert_eq!(parsed.to_string(), cas.clone());
        let digit_pos: Vec<usize> = cas.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
        let idx = digit_pos[pos % digit_pos.len()];
        let old = cas[idx..].chars().next().unwrap().to_digit(10).unwrap();
        prop_assume!(old != new);
        let bad = replace_digit(&cas, idx, new);
        let is_check = idx == cas.len() - 1;
        // Weight of the corrupted body digit: 1 for the digit next to the check digit, rising leftwards.
        let weight = digit_pos.iter().rev().skip(1).position(|&i| i == idx).map(|p| p as u32 + 1);
        let leading_zero = idx == 0 && new == 0;
        let detectable = is_check || leading_zero || weight.is_some_and(|w| !(w * (new + 10 - old)).is_multiple_of(10));
        prop_assert_eq!(Cas::parse(&bad).is_err(), detectable, "{} -> {}", cas, bad);
    }

    #[test]
    fn imo_roundtrip_and_corruption(first6 in proptest::collection::vec(0u32..10, 6), pos in 0usize..7, new in 0u32..10) {
        let c = Imo::check_digit(&first6);
        let s: String = first6.iter().chain(std::iter::once(&c)).map(|d| char::from_digit(*d, 10).unwrap()).collect();
        prop_assert_eq!(Imo::parse(&s).unwrap().to_string(), s.clone());
        let old = s[pos..].chars().next().unwrap().to_digit(10).unwrap();
        prop_assume!(old != new);
        let bad = replace_digit(&s, pos, new);
        let detectable = pos == 6 || !((7 - pos as u32) * (new + 10 - old)).is_multiple_of(10);
        prop_assert_eq!(Imo::parse(&bad).is_err(), detectable, "{} -> {}", s, bad);
    }

    #[test]
    fn container_roundtrip_and_every_digit_corruption(owner in "[A-Z]{3}", cat in "[UJZ]", serial in "[0-9]{6}", pos in 4usize..11, new in 0u32..10) {
        let first10 = format!("{owner}{cat}{serial}");
        match ContainerNumber::check_digit(&first10) {
            None => { let zero = format!("{}0", first10); prop_assert!(ContainerNumber::parse(&zero).is_err()) }
            Some(c) => {
                let s = format!("{first10}{c}");
                prop_assert_eq!(ContainerNumber::parse(&s).unwrap().to_string(), s.clone());
                let old = s[pos..].chars().next().unwrap().to_digit(10).unwrap();
                prop_assume!(old != new);
                // Powers of two are never multiples of 11, so every digit change moves the
                // remainder, and a remainder of 10 is refused: every corruption is caught.
                prop_assert!(ContainerNumber::parse(&replace_digit(&s, pos, new)).is_err());
            }
        }
    }

    #[test]
    fn rfc_roundtrip_and_date_or_check_corruption(letters in "[A-Z]{3,4}", y in 0u32..100, m in 1u32..13, d in 1u32..29, hc in "[A-Z0-9]{2}", pos in 0usize..7, new in 0u32..10) {
        let body: String = format!("{letters}{y:02}{m:02}{d:02}{hc}");
        let chars: Vec<char> = body.chars().collect();
        let c = Rfc::check_char(&chars).unwrap();
        let s = format!("{body}{c}");
        prop_assert_eq!(Rfc::parse(&s).unwrap().to_string(), s.clone());
        // Corrupt a date digit (positions after the letters) or the check character.
        let n = letters.len();
        let idx = if pos == 6 { s.chars().count() - 1 } else { n + pos };
        let old = s.chars().nth(idx).unwrap();
        let new_c = char::from_digit(new, 10).unwrap();
        prop_assume!(old != new_c);
        let bad: String = s.chars().enumerate().map(|(i, ch)| if i == idx { new_c } else { ch }).collect();
        prop_assert!(Rfc::parse(&bad).is_err(), "{} -> {}", s, bad);
    }

    #[test]
    fn mmsi_hs_locode_country(mmsi in "[0-9]{9}", short in "[0-9]{1,8}", hs in "(0[1-9]|[1-8][0-9]|9[0-7])[0-9]{4}", ext in "([0-9]{2}){0,2}", loc in "[A-Z2-9]{3}", ci in 0usize..249) {
        prop_assert_eq!(Mmsi::parse(&mmsi).unwrap().to_string(), mmsi.clone());
        prop_assert!(Mmsi::parse(&short).is_err());
        let code = format!("{hs}{ext}");
        prop_assert_eq!(HsCode::parse(&code).unwrap().to_string(), code.clone());
        let dotted = format!("{}.{}{ext}", &hs[..4], &hs[4..]);
        prop_assert_eq!(HsCode::parse(&dotted).unwrap().to_string(), code.clone());
        let country = Country::all().nth(ci).unwrap();
        prop_assert_eq!(Country::parse(country).unwrap().to_string(), country.to_string());
        let l = format!("{country}{loc}");
        prop_assert_eq!(UnLocode::parse(&l).unwrap().to_string(), l.clone());
    }

    #[test]
    fn times_roundtrip(ms in -2_000_000_000_000i64..4_000_000_000_000, off_min in -720i32..=840) {
        let text = format_time_ms(ms);
        prop_assert_eq!(parse_time_ms(&text).unwrap(), ms);
        // The same instant written with another offset is the same UTC time.
        let off = chrono::FixedOffset::east_opt(off_min * 60).unwrap();
        let dt = chrono::DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&off);
        prop_assert_eq!(parse_time_ms(&dt.to_rfc3339()).unwrap(), ms);
        prop_assert!(parse_time_ms(&dt.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string()).is_err());
    }

    #[test]
    fn positions_in_range_only(lat in -200.0f64..200.0, lon in -400.0f64..400.0) {
        let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        prop_assert_eq!(Position::new(lat, lon).is_ok(), ok);
    }
}
