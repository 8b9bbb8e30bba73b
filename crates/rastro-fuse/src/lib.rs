//! Fusion of weak signals into places. So far: the Getis-Ord local statistics ([`gistar`]) that
//! turn per-place evidence into hot spots; evidence weighting, the H3 baseline and leads build
//! on it (issue 7).

pub mod gistar;

pub use gistar::{distance_band, g_local, GLocal, Transform};
