//! The record kinds Rastro ingests (BRIEF section 3) and the fields every record shares:
//! an id, the originator organisation, and a marking. Provenance (source and line) is added
//! by the store when a record is accepted, so it is not part of a record's content.

use crate::ids::{Cas, ContainerNumber, Country, HsCode, Imo, Mmsi, Position, Rfc, UnLocode};
use crate::marking::Marking;
use crate::time::{rfc3339_ms, rfc3339_ms_opt};
use crate::units::Unit;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of record in the exchange formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Party,
    Place,
    Consignment,
    Vehicle,
    Custody,
    Observation,
    Report,
    Sample,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Party,
        Kind::Place,
        Kind::Consignment,
        Kind::Vehicle,
        Kind::Custody,
        Kind::Observation,
        Kind::Report,
        Kind::Sample,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Party => "party",
            Kind::Place => "place",
            Kind::Consignment => "consignment",
            Kind::Vehicle => "vehicle",
            Kind::Custody => "custody",
            Kind::Observation => "observation",
            Kind::Report => "report",
            Kind::Sample => "sample",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_suffix('s').unwrap_or(&t);
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == t || (t == "partie" && *k == Kind::Party))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! simple_enum {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<$name> {
                let t = s.trim().to_ascii_lowercase();
                match t.as_str() { $($text => Some($name::$variant),)+ _ => None }
            }
            /// Stable small integer used in storage.
            pub fn code(self) -> u8 { self as u8 }
            pub fn from_code(c: u8) -> Option<$name> { Self::ALL.get(usize::from(c)).copied() }
            /// The accepted spellings, for error messages.
            pub fn choices() -> String { [$($text),+].join(", ") }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

simple_enum!(PartyKind { Organisation => "organisation", Person => "person" });
simple_enum!(PlaceKind {
    Port => "port", City => "city", Depot => "depot", Warehouse => "warehouse", Customer => "customer",
    RestStop => "rest_stop", FuelStation => "fuel_station", Checkpoint => "checkpoint",
    TollPlaza => "toll_plaza", Residence => "residence", Other => "other",
});
simple_enum!(CustodyKind {
    Released => "released", Loaded => "loaded", Delivered => "delivered", Received => "received", Inspected => "inspected",
    Transfer => "transfer",
});
simple_enum!(ObservationSource { Gps => "gps", Checkpoint => "checkpoint", Aerial => "aerial", Ais => "ais", Inspection => "inspection" });
simple_enum!(SubjectKind { Vehicle => "vehicle", Plate => "plate", Container => "container", Vessel => "vessel", Consignment => "consignment" });
simple_enum!(RelationRole {
    Shareholder => "shareholder", LegalRepresentative => "legal_representative", Director => "director",
    Related => "related",
});
simple_enum!(LandUse {
    Industrial => "industrial", Logistics => "logistics", Commercial => "commercial", Residential => "residential",
    Mixed => "mixed", Rural => "rural",
});
simple_enum!(PowerState { Main => "main", Battery => "battery", LowBattery => "low_battery", Off => "off" });
simple_enum!(ReportKind { Tip => "tip", Seizure => "seizure", LabFound => "lab_found", EquipmentPurchase => "equipment_purchase", Other => "other" });

/// An organisation or a person: importer, consignee, carrier, driver, or other party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub party_kind: PartyKind,
    pub name: String,
    pub rfc: Option<Rfc>,
    pub country: Country,
    pub address: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    /// Date the party was registered (company incorporation, tax registration).
    pub registered: Option<chrono::NaiveDate>,
    /// Import licence number, for licensed importers.
    pub licence: Option<String>,
    /// A watch list the party is on (a financial-intelligence or sanctions list), by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_list: Option<String>,
    /// Declared links to other parties: shareholders, legal representatives, directors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
}

/// A declared link from one party to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub role: RelationRole,
    pub party: String,
}

/// A named place: port, depot, customer site, rest stop, checkpoint...
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub place_kind: PlaceKind,
    pub name: String,
    pub position: Position,
    /// Radius in metres within which an observation counts as being at this place.
    pub radius_m: f64,
    pub locode: Option<UnLocode>,
    pub country: Country,
    /// The party that operates the place (a consignee's plant, a carrier's depot).
    pub operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub land_use: Option<LandUse>,
    /// Daily opening hours in local time, `HH:MM-HH:MM` (a receiving window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
    /// The place's offset from UTC in minutes (local time of `opening_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_min: Option<i32>,
}

/// A declared import of a watched chemical.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consignment {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    /// Customs declaration (pedimento) number.
    pub declaration: String,
    pub cas: Cas,
    pub hs: HsCode,
    pub description: String,
    pub quantity: f64,
    pub unit: Unit,
    pub importer: String,
    pub consignee: String,
    /// Place id of the declared final destination.
    pub destination: String,
    pub port: UnLocode,
    pub vessel_imo: Option<Imo>,
    pub container: Option<ContainerNumber>,
    #[serde(with = "rfc3339_ms")]
    pub arrival_ms: i64,
    /// MMSI of the vessel, when the declaration gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vessel_mmsi: Option<Mmsi>,
    /// A planned or permitted route: waypoints from port to destination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<Position>,
    /// Half-width of the permitted corridor around `route`, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corridor_m: Option<f64>,
    /// A declared multi-drop trip: consignments sharing this id travel on one vehicle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trip: Option<String>,
}

impl Consignment {
    /// Declared quantity in its base unit (kg or L).
    pub fn quantity_base(&self) -> f64 {
        self.unit.convert(self.quantity).0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub plate: String,
    pub vehicle_kind: String,
    pub carrier: Option<String>,
    /// Expected interval between tracker reports, in seconds.
    pub report_interval_s: Option<u32>,
    /// For vessels: IMO number and MMSI, which tie AIS positions to declarations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imo: Option<Imo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmsi: Option<Mmsi>,
}

/// A chain-of-custody event for one consignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Custody {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub consignment: String,
    pub event: CustodyKind,
    #[serde(with = "rfc3339_ms")]
    pub time_ms: i64,
    pub place: Option<String>,
    pub position: Option<Position>,
    pub vehicle: Option<String>,
    pub party: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<Unit>,
    /// The chemical actually found, for inspections.
    pub cas_found: Option<Cas>,
    /// For transfers: the vehicle that took (part of) the load; `vehicle` is the one it left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_vehicle: Option<String>,
}

/// One sighting of a subject at a place and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub source: ObservationSource,
    pub subject_kind: SubjectKind,
    pub subject: String,
    #[serde(with = "rfc3339_ms")]
    pub time_ms: i64,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    /// The source's confidence that the subject is what it says, in [0, 1].
    pub confidence: f64,
    /// Telematics, when the tracker reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed_kmh: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading_deg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignition: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerState>,
    /// The partner request it was collected under, as its contributor claims. Provenance,
    /// not content: it is checked on ingest and kept in the store's collection table (the
    /// first verdict stands), and is left out of the content hash and the observation blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl Observation {
    /// Whether any telematics field is present.
    pub fn has_telematics(&self) -> bool {
        self.speed_kmh.is_some()
            || self.heading_deg.is_some()
            || self.ignition.is_some()
            || self.power.is_some()
    }
}

/// A human or documentary report: tip, seizure, lab found, equipment purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    pub report_kind: ReportKind,
    #[serde(with = "rfc3339_ms")]
    pub time_ms: i64,
    pub position: Option<Position>,
    /// Admiralty source reliability, A (reliable) to F (cannot be judged).
    pub reliability: char,
    /// Admiralty information credibility, 1 (confirmed) to 6 (cannot be judged).
    pub credibility: u8,
    /// Ids of the records the report is about (parties, consignments, vehicles).
    pub subjects: Vec<String>,
    pub summary: String,
    /// Seized quantity in kg, for seizures.
    pub quantity_kg: Option<f64>,
    /// Impurity profile (relative peak areas), for seizures.
    pub profile: Vec<f64>,
    #[serde(
        default,
        with = "rfc3339_ms_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub valid_until_ms: Option<i64>,
    /// How precisely `position` is known, metres (a tip "somewhere in this colonia").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision_m: Option<f64>,
}

/// A forensic sample's impurity profile: peak areas of target compounds from one analysis
/// (GC-MS). Missing peaks are absent; which compounds count is the forensics configuration's
/// business, so any number of them arrives here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub id: String,
    pub originator: String,
    pub marking: Marking,
    /// The seizure report the sample was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seizure: Option<String>,
    /// For a sample of the laboratory's reference collection: its case group (samples of one
    /// group are known linked, of different groups known unlinked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_group: Option<String>,
    #[serde(with = "rfc3339_ms")]
    pub analysed_ms: i64,
    /// The laboratory and instrument that measured it (calibrations are per instrument).
    pub instrument: String,
    /// Compound → peak area, in the order given.
    pub areas: Vec<(String, f64)>,
}

/// Any record, tagged by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    Party(Party),
    Place(Place),
    Consignment(Consignment),
    Vehicle(Vehicle),
    Custody(Custody),
    Observation(Observation),
    Report(Report),
    Sample(Sample),
}

macro_rules! each {
    ($self:ident, $r:ident => $e:expr) => {
        match $self {
            Record::Party($r) => $e,
            Record::Place($r) => $e,
            Record::Consignment($r) => $e,
            Record::Vehicle($r) => $e,
            Record::Custody($r) => $e,
            Record::Observation($r) => $e,
            Record::Report($r) => $e,
            Record::Sample($r) => $e,
        }
    };
}

impl Record {
    pub fn kind(&self) -> Kind {
        match self {
            Record::Party(_) => Kind::Party,
            Record::Place(_) => Kind::Place,
            Record::Consignment(_) => Kind::Consignment,
            Record::Vehicle(_) => Kind::Vehicle,
            Record::Custody(_) => Kind::Custody,
            Record::Observation(_) => Kind::Observation,
            Record::Report(_) => Kind::Report,
            Record::Sample(_) => Kind::Sample,
        }
    }

    pub fn id(&self) -> &str {
        each!(self, r => &r.id)
    }

    pub fn originator(&self) -> &str {
        each!(self, r => &r.originator)
    }

    pub fn marking(&self) -> &Marking {
        each!(self, r => &r.marking)
    }

    /// Replaces the marking with its explicit form (see [`Marking::explicit`]), so that data
    /// derived from this record can be released without knowing who originated it.
    pub fn make_marking_explicit(&mut self, originator_nation: &str) {
        each!(self, r => {
            r.marking = r.marking.explicit(&r.originator, originator_nation);
        })
    }

    /// The time the record is about, when it has one.
    pub fn time_ms(&self) -> Option<i64> {
        match self {
            Record::Consignment(c) => Some(c.arrival_ms),
            Record::Custody(c) => Some(c.time_ms),
            Record::Observation(o) => Some(o.time_ms),
            Record::Report(r) => Some(r.time_ms),
            Record::Sample(s) => Some(s.analysed_ms),
            _ => None,
        }
    }

    /// The position the record is about, when it has one.
    pub fn position(&self) -> Option<Position> {
        match self {
            Record::Place(p) => Some(p.position),
            Record::Custody(c) => c.position,
            Record::Observation(o) => Some(Position {
                lat: o.lat,
                lon: o.lon,
            }),
            Record::Report(r) => r.position,
            _ => None,
        }
    }

    /// The record this one hangs off, for indexing: a custody event's consignment, a
    /// vehicle's plate, a consignment's consignee.
    pub fn reference(&self) -> Option<&str> {
        match self {
            Record::Custody(c) => Some(&c.consignment),
            Record::Vehicle(v) => Some(&v.plate),
            Record::Consignment(c) => Some(&c.consignee),
            Record::Observation(o) => Some(&o.subject),
            Record::Sample(s) => s.seizure.as_deref(),
            _ => None,
        }
    }

    /// Canonical JSON of the record's content (no provenance). Field order is fixed by the
    /// struct definitions, so equal records give equal bytes.
    pub fn canonical_json(&self) -> String {
        // Serialising these plain structs to a String cannot fail: every key is a string and
        // every float is finite (validated at construction).
        serde_json::to_string(self).unwrap_or_default()
    }

    /// 64-bit content hash used to tell a duplicate (same id, same content) from a conflict
    /// (same id, different content).
    pub fn content_hash(&self) -> u64 {
        match self {
            Record::Observation(o) => o.content_hash(),
            _ => xxhash_rust::xxh3::xxh3_64(self.canonical_json().as_bytes()),
        }
    }
}

impl Observation {
    /// Hash of the observation's fields without going through JSON: observations are the
    /// bulk of the data and this is on the ingest hot path.
    pub fn content_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for s in [&self.id, &self.originator, &self.subject] {
            h.update(s.as_bytes());
            h.update(&[0xff]);
        }
        h.update(&[
            self.marking.tlp.code(),
            self.source.code(),
            self.subject_kind.code(),
        ]);
        for r in &self.marking.releasable_to {
            h.update(r.as_bytes());
            h.update(&[0xfe]);
        }
        h.update(&self.time_ms.to_le_bytes());
        h.update(&self.lat.to_bits().to_le_bytes());
        h.update(&self.lon.to_bits().to_le_bytes());
        h.update(&self.accuracy_m.map_or(u64::MAX, f64::to_bits).to_le_bytes());
        h.update(&self.confidence.to_bits().to_le_bytes());
        // Telematics are hashed only when present, so an observation without them keeps the
        // hash it had before these fields existed (re-ingesting an old file is a duplicate).
        if self.has_telematics() {
            h.update(&[0xfd]);
            h.update(&self.speed_kmh.map_or(u64::MAX, f64::to_bits).to_le_bytes());
            h.update(
                &self
                    .heading_deg
                    .map_or(u64::MAX, f64::to_bits)
                    .to_le_bytes(),
            );
            h.update(&[
                self.ignition.map_or(2, u8::from),
                self.power.map_or(0xff, |p| p.code()),
            ]);
        }
        h.digest()
    }
}

/// Admiralty reliability grades, A to F.
pub fn valid_reliability(c: char) -> bool {
    ('A'..='F').contains(&c)
}

/// Admiralty credibility grades, 1 to 6.
pub fn valid_credibility(n: u8) -> bool {
    (1..=6).contains(&n)
}
