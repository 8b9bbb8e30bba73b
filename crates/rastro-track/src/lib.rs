//! Tracking: turns a consignment's custody events and the observations of the vehicles that
//! carried it into a clean trajectory, its stops and reporting gaps, a status and an ETA.
//!
//! Everything here is a pure function of its inputs, so the same code serves batch analysis
//! of the store and, later, a live feed.

pub mod stops;
pub mod trajectory;

pub use stops::{detect_stops, Metric, Stop};
pub use trajectory::{clean, gaps, Cleaned, Fix, Gap, Rejected, Status};
