//! The field-by-field schema of each record kind (documented in `docs/formats.md`) and the
//! conversion of named text fields into validated records.
//!
//! CSV and JSON Lines share this code: both readers present a line as [`Fields`], so a rule
//! is written once and a record is valid or invalid the same way in either format.

use rastro_core::ids::Mmsi;
use rastro_core::record::{valid_credibility, valid_reliability};
use rastro_core::{
    Cas, Consignment, ContainerNumber, Country, Custody, CustodyKind, HsCode, Imo, Kind, LandUse,
    Marking, Observation, ObservationSource, Party, PartyKind, Place, PlaceKind, Position,
    PowerState, Record, Relation, RelationRole, Report, ReportKind, Rfc, Sample, SubjectKind, Tlp,
    UnLocode, Unit, Vehicle,
};

/// A problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// Named access to one line's fields. `get` returns `None` for a missing or blank field.
pub trait Fields {
    fn get(&self, name: &str) -> Option<&str>;
}

/// Fields every record kind has, first in every header.
pub const COMMON: &[&str] = &["id", "originator", "tlp", "releasable_to"];

/// The columns of each kind, in the order writers emit them.
pub fn columns(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Party => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "party_kind",
            "name",
            "rfc",
            "country",
            "address",
            "city",
            "phone",
            "registered",
            "licence",
            "watch_list",
            "relations",
        ],
        Kind::Place => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "place_kind",
            "name",
            "lat",
            "lon",
            "radius_m",
            "locode",
            "country",
            "operator",
            "land_use",
            "opening_hours",
            "utc_offset",
        ],
        Kind::Consignment => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "declaration",
            "cas",
            "hs",
            "description",
            "quantity",
            "unit",
            "importer",
            "consignee",
            "destination",
            "port",
            "vessel_imo",
            "container",
            "arrival",
            "vessel_mmsi",
            "route",
            "corridor_m",
            "trip",
        ],
        Kind::Vehicle => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "plate",
            "vehicle_kind",
            "carrier",
            "report_interval_s",
            "imo",
            "mmsi",
        ],
        Kind::Custody => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "consignment",
            "event",
            "time",
            "place",
            "lat",
            "lon",
            "vehicle",
            "party",
            "quantity",
            "unit",
            "cas_found",
            "to_vehicle",
        ],
        Kind::Observation => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "source",
            "subject_kind",
            "subject",
            "time",
            "lat",
            "lon",
            "accuracy_m",
            "confidence",
            "speed_kmh",
            "heading_deg",
            "ignition",
            "power",
            "request",
        ],
        Kind::Report => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "report_kind",
            "time",
            "lat",
            "lon",
            "reliability",
            "credibility",
            "subjects",
            "summary",
            "quantity_kg",
            "profile",
            "precision_m",
        ],
        Kind::Sample => &[
            "id",
            "originator",
            "tlp",
            "releasable_to",
            "seizure",
            "reference_group",
            "analysed",
            "instrument",
            "areas",
        ],
    }
}

/// Columns that must be present in a header (and non-blank in every record) for a kind.
pub fn required(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Party => &["id", "originator", "tlp", "party_kind", "name", "country"],
        Kind::Place => &[
            "id",
            "originator",
            "tlp",
            "place_kind",
            "name",
            "lat",
            "lon",
            "country",
        ],
        Kind::Consignment => &[
            "id",
            "originator",
            "tlp",
            "declaration",
            "cas",
            "hs",
            "quantity",
            "unit",
            "importer",
            "consignee",
            "destination",
            "port",
            "arrival",
        ],
        Kind::Vehicle => &["id", "originator", "tlp", "plate"],
        Kind::Custody => &["id", "originator", "tlp", "consignment", "event", "time"],
        Kind::Observation => &[
            "id",
            "originator",
            "tlp",
            "source",
            "subject",
            "time",
            "lat",
            "lon",
        ],
        Kind::Report => &[
            "id",
            "originator",
            "tlp",
            "report_kind",
            "time",
            "reliability",
            "credibility",
        ],
        Kind::Sample => &["id", "originator", "tlp", "analysed", "instrument", "areas"],
    }
}

/// Column names that mark a simulator truth file; ingest refuses those files, so ground truth
/// can never reach the analytics through the store.
pub const TRUTH_MARKERS: &[&str] = &["truth_kind"];

/// Guesses the kind of a file from its column names (a CSV header or the keys of the first
/// JSON line). Each kind has one distinctive column.
pub fn detect_kind<S: AsRef<str>>(names: &[S]) -> Option<Kind> {
    let has = |n: &str| names.iter().any(|c| c.as_ref() == n);
    [
        ("party_kind", Kind::Party),
        ("place_kind", Kind::Place),
        ("declaration", Kind::Consignment),
        ("plate", Kind::Vehicle),
        ("event", Kind::Custody),
        ("report_kind", Kind::Report),
        ("areas", Kind::Sample),
    ]
    .into_iter()
    .find(|(c, _)| has(c))
    .map(|(_, k)| k)
    .or_else(|| (has("source") && has("subject")).then_some(Kind::Observation))
}

/// The required columns of `kind` that `names` lacks.
pub fn missing_columns<S: AsRef<str>>(kind: Kind, names: &[S]) -> Vec<&'static str> {
    required(kind)
        .iter()
        .copied()
        .filter(|r| !names.iter().any(|n| n.as_ref() == *r))
        .collect()
}

fn req<'a>(f: &'a impl Fields, name: &str) -> Result<&'a str, FieldError> {
    f.get(name)
        .ok_or_else(|| FieldError::new(name, "required field is missing or blank"))
}

fn opt_string(f: &impl Fields, name: &str) -> Option<String> {
    f.get(name).map(str::to_string)
}

fn parse_f64(name: &str, s: &str) -> Result<f64, FieldError> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| FieldError::new(name, format!("{s:?} is not a number")))?;
    if !v.is_finite() {
        return Err(FieldError::new(name, "number must be finite"));
    }
    Ok(v)
}

fn opt_f64(f: &impl Fields, name: &str) -> Result<Option<f64>, FieldError> {
    f.get(name).map(|s| parse_f64(name, s)).transpose()
}

fn id_of<T>(name: &str, r: Result<T, rastro_core::IdError>) -> Result<T, FieldError> {
    r.map_err(|e| FieldError::new(name, e.to_string()))
}

fn time(f: &impl Fields, name: &str) -> Result<i64, FieldError> {
    rastro_core::parse_time_ms(req(f, name)?).map_err(|e| FieldError::new(name, e))
}

fn position(f: &impl Fields, required: bool) -> Result<Option<Position>, FieldError> {
    let (lat, lon) = (f.get("lat"), f.get("lon"));
    match (lat, lon) {
        (None, None) if !required => Ok(None),
        (Some(la), Some(lo)) => {
            let (la, lo) = (parse_f64("lat", la)?, parse_f64("lon", lo)?);
            if !(-90.0..=90.0).contains(&la) {
                return Err(FieldError::new(
                    "lat",
                    format!("latitude {la} is outside -90..90"),
                ));
            }
            if !(-180.0..=180.0).contains(&lo) {
                return Err(FieldError::new(
                    "lon",
                    format!("longitude {lo} is outside -180..180"),
                ));
            }
            Ok(Some(Position { lat: la, lon: lo }))
        }
        (None, _) => Err(FieldError::new("lat", "latitude is missing")),
        (_, None) => Err(FieldError::new("lon", "longitude is missing")),
    }
}

fn marking(f: &impl Fields) -> Result<Marking, FieldError> {
    let t = req(f, "tlp")?;
    let tlp = Tlp::parse(t).ok_or_else(|| {
        FieldError::new(
            "tlp",
            format!("{t:?} is not a TLP 2.0 level (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)"),
        )
    })?;
    Ok(Marking {
        tlp,
        releasable_to: f
            .get("releasable_to")
            .map(Marking::parse_releasable)
            .unwrap_or_default(),
    })
}

fn ident(f: &impl Fields, name: &str) -> Result<String, FieldError> {
    let v = req(f, name)?;
    if v.len() > 200 {
        return Err(FieldError::new(name, "identifier longer than 200 bytes"));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            name,
            "identifier contains control characters",
        ));
    }
    Ok(v.to_string())
}

fn enum_field<T>(
    f: &impl Fields,
    name: &str,
    parse: fn(&str) -> Option<T>,
    // A function, not the text: the list is only built for a rejected value.
    choices: fn() -> String,
) -> Result<T, FieldError> {
    let v = req(f, name)?;
    parse(v).ok_or_else(|| FieldError::new(name, format!("{v:?} is not one of: {}", choices())))
}

fn quantity(f: &impl Fields, name: &str, required: bool) -> Result<Option<f64>, FieldError> {
    let v = if required {
        Some(parse_f64(name, req(f, name)?)?)
    } else {
        opt_f64(f, name)?
    };
    if let Some(q) = v {
        if q < 0.0 {
            return Err(FieldError::new(name, format!("quantity {q} is negative")));
        }
    }
    Ok(v)
}

fn unit(f: &impl Fields, required: bool) -> Result<Option<Unit>, FieldError> {
    match f.get("unit") {
        None if required => Err(FieldError::new(
            "unit",
            "required field is missing or blank",
        )),
        None => Ok(None),
        Some(u) => Unit::parse(u).map(Some).ok_or_else(|| {
            FieldError::new(
                "unit",
                format!("unknown unit {u:?}; use one of mg, g, kg, t, lb, mL, L, m3, gal"),
            )
        }),
    }
}

fn opt_enum<T>(
    f: &impl Fields,
    name: &str,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
) -> Result<Option<T>, FieldError> {
    f.get(name)
        .map(|v| {
            parse(v)
                .ok_or_else(|| FieldError::new(name, format!("{v:?} is not one of: {}", choices())))
        })
        .transpose()
}

/// `relations`: `role:party_id` entries separated by `;`.
fn relations(f: &impl Fields) -> Result<Vec<Relation>, FieldError> {
    let Some(text) = f.get("relations") else {
        return Ok(Vec::new());
    };
    text.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            let (role, party) = x.split_once(':').ok_or_else(|| {
                FieldError::new("relations", format!("{x:?} is not role:party_id"))
            })?;
            let role = RelationRole::parse(role).ok_or_else(|| {
                FieldError::new(
                    "relations",
                    format!("{role:?} is not one of: {}", RelationRole::choices()),
                )
            })?;
            let party = party.trim();
            if party.is_empty() || party.len() > 200 || party.chars().any(char::is_control) {
                return Err(FieldError::new(
                    "relations",
                    format!("bad party id in {x:?}"),
                ));
            }
            Ok(Relation {
                role,
                party: party.to_string(),
            })
        })
        .collect()
}

/// `HH:MM-HH:MM`, local time.
fn opening_hours(f: &impl Fields) -> Result<Option<String>, FieldError> {
    let Some(v) = f.get("opening_hours") else {
        return Ok(None);
    };
    let hm = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    let ok = v
        .split_once('-')
        .and_then(|(a, b)| Some((hm(a)?, hm(b)?)))
        .is_some();
    if !ok {
        return Err(FieldError::new(
            "opening_hours",
            format!("{v:?} is not HH:MM-HH:MM in local time"),
        ));
    }
    Ok(Some(v.trim().to_string()))
}

/// `utc_offset`: `+hh:mm` or `-hh:mm`, as minutes.
fn utc_offset(f: &impl Fields) -> Result<Option<i32>, FieldError> {
    let Some(v) = f.get("utc_offset") else {
        return Ok(None);
    };
    let t = v.trim();
    let bad = || FieldError::new("utc_offset", format!("{v:?} is not an offset like -06:00"));
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').ok_or_else(bad)?;
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 14 || !(0..60).contains(&m) {
        return Err(bad());
    }
    Ok(Some(sign * (h * 60 + m)))
}

/// `route`: waypoints `lat lon` separated by `;`.
fn route(f: &impl Fields) -> Result<Vec<Position>, FieldError> {
    let Some(text) = f.get("route") else {
        return Ok(Vec::new());
    };
    text.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            let mut it = x.split_whitespace();
            let (Some(la), Some(lo), None) = (it.next(), it.next(), it.next()) else {
                return Err(FieldError::new(
                    "route",
                    format!("{x:?} is not \"lat lon\""),
                ));
            };
            let (la, lo) = (parse_f64("route", la)?, parse_f64("route", lo)?);
            Position::new(la, lo).map_err(|e| FieldError::new("route", e.to_string()))
        })
        .collect()
}

fn opt_bool(f: &impl Fields, name: &str) -> Result<Option<bool>, FieldError> {
    f.get(name)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok(true),
            "0" | "false" | "off" | "no" => Ok(false),
            _ => Err(FieldError::new(
                name,
                format!("{v:?} is not on/off, true/false or 1/0"),
            )),
        })
        .transpose()
}

/// Builds a validated record of `kind` from named fields.
pub fn parse_fields(kind: Kind, f: &impl Fields) -> Result<Record, FieldError> {
    let id = ident(f, "id")?;
    let originator = ident(f, "originator")?.to_ascii_uppercase();
    let marking = marking(f)?;
    Ok(match kind {
        Kind::Party => Record::Party(Party {
            id,
            originator,
            marking,
            party_kind: enum_field(f, "party_kind", PartyKind::parse, PartyKind::choices)?,
            name: req(f, "name")?.to_string(),
            rfc: f
                .get("rfc")
                .map(|s| id_of("rfc", Rfc::parse(s)))
                .transpose()?,
            country: id_of("country", Country::parse(req(f, "country")?))?,
            address: opt_string(f, "address"),
            city: opt_string(f, "city"),
            phone: opt_string(f, "phone"),
            registered: f
                .get("registered")
                .map(|s| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                        FieldError::new("registered", format!("{s:?} is not a date YYYY-MM-DD"))
                    })
                })
                .transpose()?,
            licence: opt_string(f, "licence"),
            watch_list: opt_string(f, "watch_list"),
            relations: relations(f)?,
        }),
        Kind::Place => {
            let radius_m = opt_f64(f, "radius_m")?.unwrap_or(200.0);
            if radius_m <= 0.0 {
                return Err(FieldError::new("radius_m", "radius must be positive"));
            }
            Record::Place(Place {
                id,
                originator,
                marking,
                place_kind: enum_field(f, "place_kind", PlaceKind::parse, PlaceKind::choices)?,
                name: req(f, "name")?.to_string(),
                position: position(f, true)?
                    .ok_or_else(|| FieldError::new("lat", "position is required"))?,
                radius_m,
                locode: f
                    .get("locode")
                    .map(|s| id_of("locode", UnLocode::parse(s)))
                    .transpose()?,
                country: id_of("country", Country::parse(req(f, "country")?))?,
                operator: opt_string(f, "operator"),
                land_use: opt_enum(f, "land_use", LandUse::parse, LandUse::choices)?,
                opening_hours: opening_hours(f)?,
                utc_offset_min: utc_offset(f)?,
            })
        }
        Kind::Consignment => Record::Consignment(Consignment {
            id,
            originator,
            marking,
            declaration: req(f, "declaration")?.to_string(),
            cas: id_of("cas", Cas::parse(req(f, "cas")?))?,
            hs: id_of("hs", HsCode::parse(req(f, "hs")?))?,
            description: f.get("description").unwrap_or_default().to_string(),
            quantity: quantity(f, "quantity", true)?.unwrap_or_default(),
            unit: unit(f, true)?.unwrap_or(Unit::Kg),
            importer: ident(f, "importer")?,
            consignee: ident(f, "consignee")?,
            destination: ident(f, "destination")?,
            port: id_of("port", UnLocode::parse(req(f, "port")?))?,
            vessel_imo: f
                .get("vessel_imo")
                .map(|s| id_of("vessel_imo", Imo::parse(s)))
                .transpose()?,
            container: f
                .get("container")
                .map(|s| id_of("container", ContainerNumber::parse(s)))
                .transpose()?,
            arrival_ms: time(f, "arrival")?,
            vessel_mmsi: f
                .get("vessel_mmsi")
                .map(|s| id_of("vessel_mmsi", Mmsi::parse(s)))
                .transpose()?,
            route: route(f)?,
            corridor_m: match opt_f64(f, "corridor_m")? {
                Some(c) if c <= 0.0 => {
                    return Err(FieldError::new("corridor_m", "corridor must be positive"))
                }
                c => c,
            },
            trip: opt_string(f, "trip"),
        }),
        Kind::Vehicle => Record::Vehicle(Vehicle {
            id,
            originator,
            marking,
            plate: req(f, "plate")?
                .to_ascii_uppercase()
                .replace([' ', '-'], ""),
            vehicle_kind: f.get("vehicle_kind").unwrap_or("truck").to_string(),
            carrier: opt_string(f, "carrier"),
            report_interval_s: f
                .get("report_interval_s")
                .map(|s| {
                    s.parse::<u32>().map_err(|_| {
                        FieldError::new(
                            "report_interval_s",
                            format!("{s:?} is not a whole number of seconds"),
                        )
                    })
                })
                .transpose()?,
            imo: f
                .get("imo")
                .map(|s| id_of("imo", Imo::parse(s)))
                .transpose()?,
            mmsi: f
                .get("mmsi")
                .map(|s| id_of("mmsi", Mmsi::parse(s)))
                .transpose()?,
        }),
        Kind::Custody => {
            let quantity = quantity(f, "quantity", false)?;
            let unit = unit(f, false)?;
            if quantity.is_some() && unit.is_none() {
                return Err(FieldError::new("unit", "a quantity needs a unit"));
            }
            let event = enum_field(f, "event", CustodyKind::parse, CustodyKind::choices)?;
            let to_vehicle = opt_string(f, "to_vehicle");
            if event == CustodyKind::Transfer && to_vehicle.is_none() {
                return Err(FieldError::new(
                    "to_vehicle",
                    "a transfer names the vehicle that took the load",
                ));
            }
            Record::Custody(Custody {
                id,
                originator,
                marking,
                consignment: ident(f, "consignment")?,
                event,
                time_ms: time(f, "time")?,
                place: opt_string(f, "place"),
                position: position(f, false)?,
                vehicle: opt_string(f, "vehicle"),
                party: opt_string(f, "party"),
                quantity,
                unit,
                cas_found: f
                    .get("cas_found")
                    .map(|s| id_of("cas_found", Cas::parse(s)))
                    .transpose()?,
                to_vehicle,
            })
        }
        Kind::Observation => {
            let p =
                position(f, true)?.ok_or_else(|| FieldError::new("lat", "position is required"))?;
            let confidence = opt_f64(f, "confidence")?.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&confidence) {
                return Err(FieldError::new(
                    "confidence",
                    format!("confidence {confidence} is outside 0..1"),
                ));
            }
            let accuracy_m = opt_f64(f, "accuracy_m")?;
            if accuracy_m.is_some_and(|a| a < 0.0) {
                return Err(FieldError::new(
                    "accuracy_m",
                    "accuracy must not be negative",
                ));
            }
            Record::Observation(Observation {
                id,
                originator,
                marking,
                source: enum_field(
                    f,
                    "source",
                    ObservationSource::parse,
                    ObservationSource::choices,
                )?,
                subject_kind: match f.get("subject_kind") {
                    None => SubjectKind::Vehicle,
                    Some(_) => {
                        enum_field(f, "subject_kind", SubjectKind::parse, SubjectKind::choices)?
                    }
                },
                subject: ident(f, "subject")?,
                time_ms: time(f, "time")?,
                lat: p.lat,
                lon: p.lon,
                accuracy_m,
                confidence,
                speed_kmh: match opt_f64(f, "speed_kmh")? {
                    Some(v) if !(0.0..=400.0).contains(&v) => {
                        return Err(FieldError::new(
                            "speed_kmh",
                            format!("speed {v} is outside 0..400 km/h"),
                        ))
                    }
                    v => v,
                },
                heading_deg: match opt_f64(f, "heading_deg")? {
                    Some(v) if !(0.0..=360.0).contains(&v) => {
                        return Err(FieldError::new(
                            "heading_deg",
                            format!("heading {v} is outside 0..360"),
                        ))
                    }
                    v => v,
                },
                ignition: opt_bool(f, "ignition")?,
                power: opt_enum(f, "power", PowerState::parse, PowerState::choices)?,
                request: match f.get("request") {
                    Some(_) => Some(ident(f, "request")?),
                    None => None,
                },
            })
        }
        Kind::Report => {
            let rel = req(f, "reliability")?;
            let reliability = rel
                .trim()
                .chars()
                .next()
                .map(|c| c.to_ascii_uppercase())
                .filter(|c| rel.trim().len() == 1 && valid_reliability(*c));
            let reliability = reliability.ok_or_else(|| {
                FieldError::new(
                    "reliability",
                    format!("{rel:?} is not an Admiralty reliability grade A-F"),
                )
            })?;
            let cred = req(f, "credibility")?;
            let credibility = cred
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|c| valid_credibility(*c));
            let credibility = credibility.ok_or_else(|| {
                FieldError::new(
                    "credibility",
                    format!("{cred:?} is not an Admiralty credibility grade 1-6"),
                )
            })?;
            let profile = match f.get("profile") {
                None => Vec::new(),
                Some(p) => p
                    .split(';')
                    .map(|x| parse_f64("profile", x))
                    .collect::<Result<Vec<_>, _>>()?,
            };
            Record::Report(Report {
                id,
                originator,
                marking,
                report_kind: enum_field(f, "report_kind", ReportKind::parse, ReportKind::choices)?,
                time_ms: time(f, "time")?,
                position: position(f, false)?,
                reliability,
                credibility,
                subjects: f
                    .get("subjects")
                    .map(|s| {
                        s.split(';')
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
                summary: f.get("summary").unwrap_or_default().to_string(),
                quantity_kg: quantity(f, "quantity_kg", false)?,
                profile,
                valid_until_ms: None,
                precision_m: match opt_f64(f, "precision_m")? {
                    Some(v) if v < 0.0 => {
                        return Err(FieldError::new(
                            "precision_m",
                            "precision must not be negative",
                        ))
                    }
                    v => v,
                },
            })
        }
        Kind::Sample => {
            let seizure = f.get("seizure").map(|_| ident(f, "seizure")).transpose()?;
            let reference_group = f
                .get("reference_group")
                .map(|_| ident(f, "reference_group"))
                .transpose()?;
            if seizure.is_none() && reference_group.is_none() {
                return Err(FieldError::new(
                    "seizure",
                    "a sample names its seizure, or its reference_group if it belongs to the reference collection",
                ));
            }
            Record::Sample(Sample {
                id,
                originator,
                marking,
                seizure,
                reference_group,
                analysed_ms: time(f, "analysed")?,
                instrument: ident(f, "instrument")?,
                areas: areas(req(f, "areas")?)?,
            })
        }
    })
}

/// Most compounds one profile may name (the largest published target lists have ~160).
pub const MAX_COMPOUNDS: usize = 1000;

/// `compound=area;compound=area`: a missing peak is simply not named.
fn areas(text: &str) -> Result<Vec<(String, f64)>, FieldError> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((c, a)) = part.split_once('=') else {
            return Err(FieldError::new(
                "areas",
                format!("{part:?} is not compound=area"),
            ));
        };
        let c = c.trim();
        if c.is_empty() || c.len() > 200 || c.chars().any(char::is_control) {
            return Err(FieldError::new(
                "areas",
                format!("{part:?}: the compound name must be 1-200 printable characters"),
            ));
        }
        let a = parse_f64("areas", a)
            .map_err(|e| FieldError::new("areas", format!("{c}: {}", e.reason)))?;
        if a < 0.0 {
            return Err(FieldError::new(
                "areas",
                format!("{c}: area {a} is negative; a peak area is ≥ 0"),
            ));
        }
        if out.iter().any(|(x, _)| x == c) {
            return Err(FieldError::new(
                "areas",
                format!("{c} appears twice in the profile"),
            ));
        }
        if out.len() == MAX_COMPOUNDS {
            return Err(FieldError::new(
                "areas",
                format!("more than {MAX_COMPOUNDS} compounds in one profile"),
            ));
        }
        out.push((c.to_string(), a));
    }
    if out.is_empty() {
        return Err(FieldError::new("areas", "profile has no compounds"));
    }
    Ok(out)
}
