//! What normal looks like, learned from the data rather than from a map: which road cells and
//! which stop places the fleet uses, and how many *unrelated* carriers use each. Popularity
//! across unrelated fleets is what separates a truck stop from a laboratory and a real
//! corridor from a detour; a carrier never makes its own habits normal (every query excludes
//! the carrier asking).
//!
//! - [`grid`]: a square grid of about `cell_m` metres, cheaper than H3 on the hot path (every
//!   fix and every interpolated point is placed).
//! - [`model`]: the learned model, how a track is learned into it, the queries the detectors
//!   ask, and its binary encoding (stored per view; exported thresholded at `k` carriers).
//!
//! The model is derived data: the pipeline learns one per view from exactly the fixes that
//! view may see, so it obeys non-interference like every other derived item. Learning is a set
//! union, so it is incremental and idempotent: learning a track twice changes nothing, and
//! popularity only grows as data arrives.

pub mod grid;
pub mod model;

pub use grid::Grid;
pub use model::{carrier_id, LearnConfig, Model, TrackCells, TrackPoint};
