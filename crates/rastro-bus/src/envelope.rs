//! One batch on the bus: a versioned wire codec, not the store's.

use rastro_core::{Kind, Quarantine, Record};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version this build writes; a worker refuses (and quarantines) any other, so a
/// publisher and a worker of different releases never misread each other silently.
pub const ENVELOPE_VERSION: u32 = 1;

/// Most records in one batch: a batch is one store transaction on the worker.
pub const MAX_ENVELOPE_RECORDS: usize = 2_000;

/// Most bytes of one encoded batch, under the NATS server's default 1 MiB payload limit
/// (a publisher splits a batch that would exceed it).
pub const MAX_ENVELOPE_BYTES: usize = 900 * 1024;

/// A line that parsed into a record, with its line number in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub line: u64,
    pub record: Record,
}

/// One batch: records of one kind from one file, in file order, and the file's rejected lines
/// that fell into this batch's partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    /// The file the records came from (its canonical path on the publisher), so quarantine
    /// and provenance name the file, as a direct ingest does.
    pub source: String,
    pub kind: Kind,
    pub partition: u32,
    pub records: Vec<Line>,
    #[serde(default)]
    pub quarantine: Vec<Quarantine>,
}

/// Most threads that check one batch's records.
const MAX_CHECKERS: usize = 4;

fn check_all(lines: &[Line]) -> Vec<Result<(), rastro_ingest::FieldError>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_CHECKERS);
    if threads == 1 || lines.len() < 256 {
        return lines
            .iter()
            .map(|l| rastro_ingest::revalidate(&l.record))
            .collect();
    }
    let chunk = lines.len().div_ceil(threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = lines
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .map(|l| rastro_ingest::revalidate(&l.record))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![Err(rastro_ingest::FieldError::new("record", "the check failed")); chunk]
                })
            })
            .collect()
    })
}

impl Envelope {
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain data cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decodes a batch, refusing one that is too large, of another version, or whose records
    /// are not all of its kind.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, String> {
        if bytes.len() > 4 * MAX_ENVELOPE_BYTES {
            return Err(format!(
                "{} bytes, over the {}-byte limit",
                bytes.len(),
                4 * MAX_ENVELOPE_BYTES
            ));
        }
        let env: Envelope =
            serde_json::from_slice(bytes).map_err(|e| format!("not a batch: {e}"))?;
        if env.v != ENVELOPE_VERSION {
            return Err(format!(
                "batch version {} but this worker reads version {ENVELOPE_VERSION}; run publisher and workers of one release",
                env.v
            ));
        }
        if env.records.len() > MAX_ENVELOPE_RECORDS {
            return Err(format!(
                "{} records, over the {MAX_ENVELOPE_RECORDS}-record limit",
                env.records.len()
            ));
        }
        if let Some(l) = env.records.iter().find(|l| l.record.kind() != env.kind) {
            return Err(format!(
                "line {} is a {} in a batch of {}",
                l.line,
                l.record.kind().as_str(),
                env.kind.as_str()
            ));
        }
        // The worker trusts no publisher: each record is checked as a line of a file would
        // be, and one that fails is quarantined with its file and line, the rest kept.
        // The check is a pure function of each record, so it spreads over the cores (it costs
        // about as much as decoding the batch).
        let mut env = env;
        let verdicts = check_all(&env.records);
        let (mut kept, mut refused) = (Vec::with_capacity(env.records.len()), Vec::new());
        for (l, verdict) in std::mem::take(&mut env.records).into_iter().zip(verdicts) {
            match verdict {
                Ok(()) => kept.push(l),
                Err(e) => refused.push(Quarantine {
                    source: env.source.clone(),
                    line: l.line,
                    kind: Some(env.kind),
                    field: Some(e.field),
                    reason: format!("refused on the ingest bus: {}", e.reason),
                    raw: String::new(),
                }),
            }
        }
        env.records = kept;
        env.quarantine.extend(refused);
        Ok(env)
    }

    /// The bus's de-duplication id: the hash of the encoded batch, so a publisher's retry of
    /// the same batch is stored once by JetStream (and, past its window, is harmless anyway).
    pub fn msg_id(encoded: &[u8]) -> String {
        hex::encode(&Sha256::digest(encoded)[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn observation(lat: f64, lon: f64, acc: f64) -> Record {
        let j = serde_json::json!({
            "kind": "observation", "id": "O-1", "originator": "ANAM",
            "marking": {"tlp": "AMBER"}, "source": "gps", "subject_kind": "vehicle",
            "subject": "TRK-1", "time_ms": "2026-03-03T15:10:00.123Z", "lat": lat, "lon": lon,
            "accuracy_m": acc, "confidence": 0.9
        });
        serde_json::from_value(j).expect("an observation")
    }

    proptest! {
        /// A batch read back is the batch written, down to every float's last bit, so a
        /// record stored from the bus hashes as it would from the file.
        #[test]
        fn a_batch_decodes_to_the_records_it_encoded(lat in -90.0f64..90.0, lon in -180.0f64..180.0, acc in 0.0f64..1e4) {
            let r = observation(lat, lon, acc);
            let env = Envelope {
                v: ENVELOPE_VERSION,
                source: "/data/observations.csv".into(),
                kind: Kind::Observation,
                partition: 3,
                records: vec![Line { line: 2, record: r.clone() }],
                quarantine: vec![],
            };
            let back = Envelope::decode(&env.encode()).unwrap();
            prop_assert_eq!(&back, &env);
            prop_assert_eq!(back.records[0].record.content_hash(), r.content_hash());
        }
    }

    #[test]
    fn a_record_no_valid_line_gives_is_quarantined_and_the_rest_kept() {
        let env = Envelope {
            v: ENVELOPE_VERSION,
            source: "/data/o.csv".into(),
            kind: Kind::Observation,
            partition: 0,
            records: vec![
                Line {
                    line: 2,
                    record: observation(95.0, -99.0, 5.0),
                },
                Line {
                    line: 3,
                    record: observation(19.0, -99.0, 5.0),
                },
            ],
            quarantine: vec![],
        };
        let back = Envelope::decode(&env.encode()).unwrap();
        assert_eq!(back.records.len(), 1);
        assert_eq!(back.records[0].line, 3);
        assert_eq!(back.quarantine.len(), 1);
        let q = &back.quarantine[0];
        assert_eq!(
            (q.line, q.field.as_deref(), q.source.as_str()),
            (2, Some("lat"), "/data/o.csv")
        );
    }

    #[test]
    fn a_batch_of_another_version_or_a_mixed_kind_is_refused() {
        let mut env = Envelope {
            v: ENVELOPE_VERSION + 1,
            source: "f".into(),
            kind: Kind::Observation,
            partition: 0,
            records: vec![Line {
                line: 2,
                record: observation(19.0, -99.0, 5.0),
            }],
            quarantine: vec![],
        };
        assert!(Envelope::decode(&env.encode())
            .unwrap_err()
            .contains("version"));
        env.v = ENVELOPE_VERSION;
        env.kind = Kind::Party;
        assert!(Envelope::decode(&env.encode())
            .unwrap_err()
            .contains("line 2"));
        assert!(Envelope::decode(b"{not json")
            .unwrap_err()
            .contains("not a batch"));
    }
}
