//! Rastro's domain model: identifiers with validating constructors, markings, the chemical
//! catalogue, units, and the record kinds that flow through the pipeline.
//!
//! This crate does no I/O and has no async: every other crate builds on these types, and the
//! analysis crates are tested with plain values made from them.

pub mod address;
pub mod alert;
pub mod catalogue;
pub mod geo;
pub mod grid;
pub mod ids;
pub mod lead;
pub mod marking;
pub mod quarantine;
pub mod record;
pub mod state;
pub mod status;
pub mod time;
pub mod units;

pub use address::{Address, SettlementKind};
pub use alert::{Alert, Typology};
pub use catalogue::{Catalogue, Chemical, ControlList};
pub use ids::{Cas, ContainerNumber, Country, HsCode, IdError, Imo, Mmsi, Position, Rfc, UnLocode};
pub use lead::{Contribution, Evidence, EvidenceKind, Lead, LeadStatus};
pub use marking::{Marking, Tlp};
pub use quarantine::Quarantine;
pub use record::{
    Consignment, Custody, CustodyKind, Kind, LandUse, Observation, ObservationSource, Party,
    PartyKind, Place, PlaceKind, PowerState, Record, Relation, RelationRole, Report, ReportKind,
    Sample, SubjectKind, Vehicle,
};
pub use state::{ConsignmentState, StopClass, StopSummary, SubjectWindow};
pub use status::{ConsignmentStatus, TripWindow};
pub use time::{format_time_ms, parse_time_ms};
pub use units::{Base, Unit};
