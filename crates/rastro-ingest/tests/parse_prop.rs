//! Property tests for the exchange-format readers: arbitrary bytes never panic and every
//! non-blank line is accounted for; records written by the writer read back identically.

use proptest::prelude::*;
use rastro_core::{Kind, Marking, Observation, ObservationSource, Record, SubjectKind, Tlp};
use rastro_ingest::{open, CsvWriter, Item};

const HEADER: &str = "id,originator,tlp,releasable_to,source,subject_kind,subject,time,lat,lon,accuracy_m,confidence\n";

fn observation() -> impl Strategy<Value = Observation> {
    (
        "[A-Za-z0-9-]{1,20}",
        "[A-Z]{2,8}",
        0u8..5,
        proptest::collection::btree_set("[A-Z]{2,5}", 0..3),
        0u8..5,
        0u8..5,
        "[^\\p{C}]{1,30}",
        0i64..4_000_000_000_000,
        -90.0f64..90.0,
        -180.0f64..180.0,
        proptest::option::of(0.0f64..1000.0),
        0.0f64..=1.0,
    )
        .prop_flat_map(|base| {
            (
                Just(base),
                (
                    proptest::option::of(0.0f64..400.0),
                    proptest::option::of(0.0f64..360.0),
                    proptest::option::of(any::<bool>()),
                    proptest::option::of(0u8..4),
                ),
            )
        })
        .prop_map(
            |(
                (
                    id,
                    originator,
                    tlp,
                    rel,
                    src,
                    sk,
                    subject,
                    time_ms,
                    lat,
                    lon,
                    accuracy_m,
                    confidence,
                ),
                (speed_kmh, heading_deg, ignition, power),
            )| Observation {
                id,
                originator,
                marking: Marking {
                    tlp: Tlp::from_code(tlp).unwrap(),
                    releasable_to: rel,
                },
                source: ObservationSource::from_code(src).unwrap(),
                subject_kind: SubjectKind::from_code(sk).unwrap(),
                subject: subject.trim().to_string(),
                time_ms,
                lat,
                lon,
                accuracy_m,
                confidence,
                speed_kmh,
                heading_deg,
                ignition,
                power: power.and_then(rastro_core::PowerState::from_code),
                request: None,
            },
        )
        .prop_filter("subject must not be blank", |o| !o.subject.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_and_every_line_is_accounted_for(body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut data = HEADER.as_bytes().to_vec();
        data.extend_from_slice(&body);
        let mut r = open(&data[..], "fuzz.csv", None).unwrap();
        let mut items = 0usize;
        while let Some(_item) = r.next_item().unwrap() {
            items += 1;
        }
        let nonblank = body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count();
        prop_assert_eq!(items, nonblank);
    }

    #[test]
    fn written_observations_read_back_identically(obs in proptest::collection::vec(observation(), 1..20)) {
        let mut w = CsvWriter::new(Vec::new(), Kind::Observation).unwrap();
        for o in &obs {
            w.write(&Record::Observation(o.clone())).unwrap();
        }
        let bytes = w.into_inner();
        let mut r = open(&bytes[..], "t.csv", None).unwrap();
        for o in &obs {
            match r.next_item().unwrap() {
                Some(Item::Record { record: Record::Observation(back), .. }) => {
                    let mut want = o.clone();
                    want.originator = want.originator.to_ascii_uppercase();
                    prop_assert_eq!(back, want);
                }
                other => prop_assert!(false, "expected a record, got {:?}", other),
            }
        }
        prop_assert!(r.next_item().unwrap().is_none());
    }
}
