//! Diversion detection: one detector per typology of BRIEF section 7.
//!
//! Per-consignment detectors ([`consignment`]) look at one consignment's declaration, chain of
//! custody and track. Fleet detectors ([`fleet`]) look across consignments: structuring (linked
//! parties splitting imports) and convergence (stops and deliveries of different consignments
//! meeting at one place). Party linking is behind the [`links::PartyLinks`] trait so that the
//! entity-resolution capability plugs in without changing the detectors.
//!
//! Every alert carries a score in [0, 1] whose meaning each detector documents, the ids of the
//! records that produced it, and the most restrictive marking of that evidence. Alerts are
//! raised at score >= [`Config::alert_threshold`].

pub mod config;
pub mod consignment;
pub mod detour;
pub mod fleet;
pub mod links;
pub mod normal;

pub use config::Config;
pub use consignment::{analyse, Analysis, Case, Context};
pub use detour::Normal;
pub use fleet::{convergence, structuring, Corroboration, FleetItem, SuspiciousPoint};
pub use links::{LinkPath, PartyLinks};
pub use normal::{explain, explains_stop};
