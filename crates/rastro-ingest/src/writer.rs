//! Writers of the exchange formats, used by the simulator and by exports, so that what Rastro
//! writes is exactly what its readers accept.

use crate::format::columns;
use rastro_core::{format_time_ms, Kind, Marking, Record};
use std::io::{self, Write};

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn num(v: f64) -> String {
    // `{}` on f64 prints the shortest text that reads back to the same value.
    format!("{v}")
}

fn common(id: &str, originator: &str, m: &Marking) -> Vec<String> {
    vec![
        id.to_string(),
        originator.to_string(),
        m.tlp.as_str().to_string(),
        m.releasable_text(),
    ]
}

/// A record as text fields in the order of [`columns`] for its kind.
pub fn record_to_row(r: &Record) -> Vec<String> {
    let mut row = common(r.id(), r.originator(), r.marking());
    match r {
        Record::Party(p) => row.extend([
            p.party_kind.as_str().into(),
            p.name.clone(),
            opt(&p.rfc),
            p.country.to_string(),
            opt(&p.address),
            opt(&p.city),
            opt(&p.phone),
            p.registered
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            opt(&p.licence),
            opt(&p.watch_list),
            p.relations
                .iter()
                .map(|r| format!("{}:{}", r.role, r.party))
                .collect::<Vec<_>>()
                .join(";"),
        ]),
        Record::Place(p) => row.extend([
            p.place_kind.as_str().into(),
            p.name.clone(),
            num(p.position.lat),
            num(p.position.lon),
            num(p.radius_m),
            opt(&p.locode),
            p.country.to_string(),
            opt(&p.operator),
            opt(&p.land_use),
            opt(&p.opening_hours),
            p.utc_offset_min.map(offset_text).unwrap_or_default(),
        ]),
        Record::Consignment(c) => row.extend([
            c.declaration.clone(),
            c.cas.to_string(),
            c.hs.to_string(),
            c.description.clone(),
            num(c.quantity),
            c.unit.as_str().into(),
            c.importer.clone(),
            c.consignee.clone(),
            c.destination.clone(),
            c.port.to_string(),
            opt(&c.vessel_imo),
            opt(&c.container),
            format_time_ms(c.arrival_ms),
            opt(&c.vessel_mmsi),
            c.route
                .iter()
                .map(|p| format!("{} {}", num(p.lat), num(p.lon)))
                .collect::<Vec<_>>()
                .join(";"),
            c.corridor_m.map(num).unwrap_or_default(),
            opt(&c.trip),
        ]),
        Record::Vehicle(v) => row.extend([
            v.plate.clone(),
            v.vehicle_kind.clone(),
            opt(&v.carrier),
            opt(&v.report_interval_s),
            opt(&v.imo),
            opt(&v.mmsi),
        ]),
        Record::Custody(c) => row.extend([
            c.consignment.clone(),
            c.event.as_str().into(),
            format_time_ms(c.time_ms),
            opt(&c.place),
            c.position.map(|p| num(p.lat)).unwrap_or_default(),
            c.position.map(|p| num(p.lon)).unwrap_or_default(),
            opt(&c.vehicle),
            opt(&c.party),
            c.quantity.map(num).unwrap_or_default(),
            c.unit.map(|u| u.as_str().to_string()).unwrap_or_default(),
            opt(&c.cas_found),
            opt(&c.to_vehicle),
        ]),
        Record::Observation(o) => row.extend([
            o.source.as_str().into(),
            o.subject_kind.as_str().into(),
            o.subject.clone(),
            format_time_ms(o.time_ms),
            num(o.lat),
            num(o.lon),
            o.accuracy_m.map(num).unwrap_or_default(),
            num(o.confidence),
            o.speed_kmh.map(num).unwrap_or_default(),
            o.heading_deg.map(num).unwrap_or_default(),
            o.ignition
                .map(|b| if b { "on" } else { "off" }.to_string())
                .unwrap_or_default(),
            opt(&o.power),
            o.request.clone().unwrap_or_default(),
        ]),
        Record::Report(p) => row.extend([
            p.report_kind.as_str().into(),
            format_time_ms(p.time_ms),
            p.position.map(|x| num(x.lat)).unwrap_or_default(),
            p.position.map(|x| num(x.lon)).unwrap_or_default(),
            p.reliability.to_string(),
            p.credibility.to_string(),
            p.subjects.join(";"),
            p.summary.clone(),
            p.quantity_kg.map(num).unwrap_or_default(),
            p.profile
                .iter()
                .map(|v| num(*v))
                .collect::<Vec<_>>()
                .join(";"),
            p.precision_m.map(num).unwrap_or_default(),
        ]),
        Record::Sample(p) => row.extend([
            opt(&p.seizure),
            opt(&p.reference_group),
            format_time_ms(p.analysed_ms),
            p.instrument.clone(),
            p.areas
                .iter()
                .map(|(c, a)| format!("{c}={}", num(*a)))
                .collect::<Vec<_>>()
                .join(";"),
        ]),
    }
    row
}

/// Minutes from UTC as `+hh:mm` / `-hh:mm`.
pub fn offset_text(min: i32) -> String {
    let sign = if min < 0 { '-' } else { '+' };
    let a = min.unsigned_abs();
    format!("{sign}{:02}:{:02}", a / 60, a % 60)
}

/// Writes one field with RFC 4180 quoting when needed. Newlines are not allowed inside a
/// record (one record per line), so they are replaced by spaces.
pub fn write_field<W: Write>(w: &mut W, s: &str) -> io::Result<()> {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        let clean = s.replace(['\n', '\r'], " ").replace('"', "\"\"");
        write!(w, "\"{clean}\"")
    } else {
        w.write_all(s.as_bytes())
    }
}

/// A CSV writer for one record kind.
pub struct CsvWriter<W: Write> {
    w: W,
    kind: Kind,
}

impl<W: Write> CsvWriter<W> {
    pub fn new(mut w: W, kind: Kind) -> io::Result<Self> {
        w.write_all(columns(kind).join(",").as_bytes())?;
        w.write_all(b"\n")?;
        Ok(CsvWriter { w, kind })
    }

    pub fn write(&mut self, r: &Record) -> io::Result<()> {
        if r.kind() != self.kind {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a {} record in a {} file", r.kind(), self.kind),
            ));
        }
        self.write_row(&record_to_row(r))
    }

    pub fn write_row(&mut self, row: &[String]) -> io::Result<()> {
        for (i, f) in row.iter().enumerate() {
            if i > 0 {
                self.w.write_all(b",")?;
            }
            write_field(&mut self.w, f)?;
        }
        self.w.write_all(b"\n")
    }

    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.w
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

/// Checks a record that arrived already built (a batch off the ingest bus) as strictly as a
/// line of a file: it is written as an exchange row and parsed back with the readers'
/// validation, and must come back unchanged. A record no valid line could give (a latitude of
/// 95, an oversized id, text with stray spaces) is refused with the field and reason.
pub fn revalidate(r: &Record) -> Result<(), crate::FieldError> {
    struct Row<'a>(Vec<(&'static str, &'a str)>);
    impl crate::Fields for Row<'_> {
        fn get(&self, name: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        }
    }
    let row = record_to_row(r);
    let fields = Row(columns(r.kind())
        .iter()
        .copied()
        .zip(row.iter().map(String::as_str))
        .collect());
    let back = crate::parse_fields(r.kind(), &fields)?;
    if &back != r {
        return Err(crate::FieldError::new(
            "record",
            "does not read back unchanged from the exchange format: no valid line gives it",
        ));
    }
    Ok(())
}
