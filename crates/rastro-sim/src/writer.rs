//! Output files of one simulation: one CSV per record kind, a fast path for observations, and
//! JSON Lines truth files.

use rastro_core::{Kind, Record};
use rastro_ingest::CsvWriter;
use serde::Serialize;
use std::fmt::Write as _;
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
    pub observations: BufWriter<File>,
    pub truth: Truth,
    line: String,
    pub observation_count: u64,
}

pub struct Truth {
    pub diversions: BufWriter<File>,
    pub labs: BufWriter<File>,
    pub entities: BufWriter<File>,
    pub seizures: BufWriter<File>,
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
        observations.write_all(
            rastro_ingest::columns(Kind::Observation)
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
            observations,
            truth: Truth {
                diversions: create(&dir.join("truth/diversions.jsonl"))?,
                labs: create(&dir.join("truth/labs.jsonl"))?,
                entities: create(&dir.join("truth/entities.jsonl"))?,
                seizures: create(&dir.join("truth/seizures.jsonl"))?,
                noise: create(&dir.join("truth/noise.jsonl"))?,
            },
            line: String::with_capacity(256),
            observation_count: 0,
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
        self.line.clear();
        let _ = write!(
            self.line,
            "SYN-O-{:09},{originator},{tlp},{rel},{source},{subject_kind},{subject},",
            self.observation_count
        );
        push_time(&mut self.line, t_s);
        let _ = writeln!(
            self.line,
            ",{lat:.6},{lon:.6},{accuracy_m:.0},{confidence:.2}"
        );
        self.observations.write_all(self.line.as_bytes())
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
        self.observations.flush()?;
        for w in [
            &mut self.truth.diversions,
            &mut self.truth.labs,
            &mut self.truth.entities,
            &mut self.truth.seizures,
            &mut self.truth.noise,
        ] {
            w.flush()?;
        }
        Ok(self.observation_count)
    }
}

/// Appends `t_s` (Unix seconds, UTC) as RFC 3339 with `Z`, without going through a calendar
/// library: days-to-civil conversion after Howard Hinnant's public-domain algorithm.
pub fn push_time(out: &mut String, t_s: i64) {
    let days = t_s.div_euclid(86_400);
    let secs = t_s.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
}

#[cfg(test)]
mod tests {
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
            let mut s = String::new();
            super::push_time(&mut s, t);
            assert_eq!(s, rastro_core::format_time_ms(t * 1000), "{t}");
        }
    }
}
