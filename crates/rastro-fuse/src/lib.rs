//! Fusion of weak signals into places: the Getis-Ord local statistics ([`gistar`]) that turn
//! per-place evidence into hot spots, and [`leads`], which weights evidence onto H3 cells,
//! subtracts the expected background, and merges significant cells into ranked sites.

pub mod gistar;
pub mod leads;

pub use gistar::{distance_band, g_local, g_local_geo, GLocal, GeoIndex, Transform};
pub use leads::{build_leads, Background, LeadConfig, LeadSet, PriorLead, UrbanArea};
