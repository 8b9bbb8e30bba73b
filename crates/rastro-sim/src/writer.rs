//! Output files of one simulation: one CSV per record kind, a fast path for observations, and
//! JSON Lines truth files.

use rastro_core::{Kind, Record};
use rastro_ingest::CsvWriter;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub struct Out {
    pub parties: CsvWriter<BufWriter<File>>,
    pub places: CsvWriter<BufWriter<File>>,
    pub consignments: CsvWriter<BufWriter<File>>,
    pub vehicles: CsvWriter<BufWriter<File>>,
    pub custody: CsvWriter<BufWriter<File>>,
    pub reports: CsvWriter<BufWriter<File>>,
    /// Impurity profiles of seized samples and of the forensic reference collection.
    pub samples: CsvWriter<BufWriter<File>>,
    pub observations: BufWriter<File>,
    /// Sightings from partner surveillance flights, each naming the request it flew under.
    pub partner_observations: CsvWriter<BufWriter<File>>,
    partner_count: u64,
    pub truth: Truth,
    line: Vec<u8>,
    pub observation_count: u64,
}

pub struct Truth {
    pub diversions: BufWriter<File>,
    pub labs: BufWriter<File>,
    pub entities: BufWriter<File>,
    pub seizures: BufWriter<File>,
    pub samples: BufWriter<File>,
    pub noise: BufWriter<File>,
}

fn create(p: &Path) -> io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(p)?))
}

impl Out {
    pub fn create(dir: &Path) -> io::Result<Out> {
        std::fs::create_dir_all(dir.join("truth"))?;
        let csv = |name: &str, kind: Kind| CsvWriter::new(create(&dir.join(name))?, kind);
        let mut observations = create(&dir.join("observations.csv"))?;
        // The hot path writes the twelve base columns only (no telematics).
        observations.write_all(
            rastro_ingest::columns(Kind::Observation)[..12]
                .join(",")
                .as_bytes(),
        )?;
        observations.write_all(b"\n")?;
        Ok(Out {
            parties: csv("parties.csv", Kind::Party)?,
            places: csv("places.csv", Kind::Place)?,
            consignments: csv("consignments.csv", Kind::Consignment)?,
            vehicles: csv("vehicles.csv", Kind::Vehicle)?,
            custody: csv("custody.csv", Kind::Custody)?,
            reports: csv("reports.csv", Kind::Report)?,
            samples: csv("samples.csv", Kind::Sample)?,
            observations,
            truth: Truth {
                diversions: create(&dir.join("truth/diversions.jsonl"))?,
                labs: create(&dir.join("truth/labs.jsonl"))?,
                entities: create(&dir.join("truth/entities.jsonl"))?,
                seizures: create(&dir.join("truth/seizures.jsonl"))?,
                samples: create(&dir.join("truth/samples.jsonl"))?,
                noise: create(&dir.join("truth/noise.jsonl"))?,
            },
            line: Vec::with_capacity(256),
            observation_count: 0,
            partner_observations: csv("partner-observations.csv", Kind::Observation)?,
            partner_count: 0,
        })
    }

    pub fn record(&mut self, r: &Record) -> io::Result<()> {
        match r.kind() {
            Kind::Party => self.parties.write(r),
            Kind::Place => self.places.write(r),
            Kind::Consignment => self.consignments.write(r),
            Kind::Vehicle => self.vehicles.write(r),
            Kind::Custody => self.custody.write(r),
            Kind::Report => self.reports.write(r),
            Kind::Sample => self.samples.write(r),
            Kind::Observation => Err(io::Error::other("observations go through Out::observation")),
        }
    }

    /// Writes one observation row without building a record: this is the simulator's hot path.
    #[allow(clippy::too_many_arguments)]
    pub fn observation(
        &mut self,
        originator: &str,
        tlp: &str,
        rel: &str,
        source: &str,
        subject_kind: &str,
        subject: &str,
        t_s: i64,
        lat: f64,
        lon: f64,
        accuracy_m: f64,
        confidence: f64,
    ) -> io::Result<()> {
        self.observation_count += 1;
        let l = &mut self.line;
        l.clear();
        l.extend_from_slice(b"SYN-O-");
        push_uint(l, self.observation_count, 9);
        for part in [originator, tlp, rel, source, subject_kind, subject] {
            l.push(b',');
            l.extend_from_slice(part.as_bytes());
        }
        l.push(b',');
        push_time_bytes(l, t_s);
        l.push(b',');
        push_fixed_bytes(l, lat, 6);
        l.push(b',');
        push_fixed_bytes(l, lon, 6);
        l.push(b',');
        push_uint(l, accuracy_m.round().max(0.0) as u64, 1);
        l.push(b',');
        push_fixed_bytes(l, confidence, 2);
        l.push(b'\n');
        self.observations.write_all(&self.line)
    }

    /// Writes one partner sighting (not the hot path: flights are sparse).
    pub fn partner_observation(&mut self, mut o: rastro_core::Observation) -> io::Result<()> {
        self.partner_count += 1;
        o.id = format!("SYN-OP-{:09}", self.partner_count);
        self.observation_count += 1;
        self.partner_observations.write(&Record::Observation(o))
    }

    pub fn truth<T: Serialize>(w: &mut BufWriter<File>, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut *w, v)?;
        w.write_all(b"\n")
    }

    pub fn finish(mut self) -> io::Result<u64> {
        self.parties.inner_mut().flush()?;
        self.places.inner_mut().flush()?;
        self.consignments.inner_mut().flush()?;
        self.vehicles.inner_mut().flush()?;
        self.custody.inner_mut().flush()?;
        self.reports.inner_mut().flush()?;
        self.samples.inner_mut().flush()?;
        self.observations.flush()?;
        self.partner_observations.inner_mut().flush()?;
        for w in [
            &mut self.truth.diversions,
            &mut self.truth.labs,
            &mut self.truth.entities,
            &mut self.truth.seizures,
            &mut self.truth.samples,
            &mut self.truth.noise,
        ] {
            w.flush()?;
        }
        Ok(self.observation_count)
    }
}

/// Appends `v` in decimal, zero-padded to at least `width` digits, without `core::fmt`.
pub fn push_uint(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `v` rounded to `decimals` places with integer arithmetic, several times faster
/// than `{:.6}`; halves round away from zero.
pub fn push_fixed_bytes(out: &mut Vec<u8>, v: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let n = (v * scale as f64).round() as i64;
    if n < 0 {
        out.push(b'-');
    }
    let a = n.unsigned_abs();
    push_uint(out, a / scale, 1);
    out.push(b'.');
    push_uint(out, a % scale, decimals as usize);
}

/// Appends `t_s` (Unix seconds, UTC) as RFC 3339 with `Z`.
pub fn push_time_bytes(out: &mut Vec<u8>, t_s: i64) {
    let days = t_s.div_euclid(86_400);
    let secs = t_s.rem_euclid(86_400) as u64;
    let (y, m, d) = civil(days);
    push_uint(out, y as u64, 4);
    out.push(b'-');
    push_uint(out, m as u64, 2);
    out.push(b'-');
    push_uint(out, d as u64, 2);
    out.push(b'T');
    push_uint(out, secs / 3600, 2);
    out.push(b':');
    push_uint(out, secs / 60 % 60, 2);
    out.push(b':');
    push_uint(out, secs % 60, 2);
    out.push(b'Z');
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's public-domain
/// days-to-civil algorithm.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_point_matches_float_formatting() {
        for v in [
            19.0601234,
            -104.2998765,
            0.0,
            -0.0000004,
            1.0,
            0.97,
            -99.1332,
            32.5149999,
        ] {
            let mut b = Vec::new();
            super::push_fixed_bytes(&mut b, v, 6);
            let s = String::from_utf8(b).unwrap();
            // Ties may round the other way than `{:.6}` (half away from zero against the exact
            // binary value); either is a correct 6-decimal rounding.
            assert!(
                (s.parse::<f64>().unwrap() - v).abs() <= 5.000001e-7,
                "{v} -> {s}"
            );
        }
    }

    #[test]
    fn fast_time_matches_chrono() {
        for t in [
            0i64,
            1_767_225_600,
            1_709_251_199,
            951_782_400,
            4_102_444_799,
            1_772_550_123,
        ] {
            let mut b = Vec::new();
            super::push_time_bytes(&mut b, t);
            assert_eq!(
                String::from_utf8(b).unwrap(),
                rastro_core::format_time_ms(t * 1000),
                "{t}"
            );
        }
    }
}
