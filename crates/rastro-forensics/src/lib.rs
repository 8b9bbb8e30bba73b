//! Forensic linkage of seized samples by their impurity profiles.
//!
//! The stages, each testable without I/O: [`config`] names the target compounds and the
//! methods to consider; [`profile`] turns samples (compound → peak area) into checked vectors,
//! with a reason for every sample it refuses; [`method`] holds the pretreatments and distances
//! (equal to scipy's to 1e-12, tested); [`calibrate`] measures each pretreatment-and-distance
//! pair on known-linked and known-unlinked pairs, picks the best by ROC AUC and sets the
//! threshold at the stated false-link rate; [`link`] compares all pairs in tiles and reports
//! each link with its score and that rate; [`groups`] clusters linked samples by average
//! linkage; [`plot`] draws the two score distributions and the ROC curve as SVG.
//!
//! Thresholds are never set by hand: they come from the score distributions of the
//! reference collection a laboratory supplies, which is why calibration is a stage of its own.

pub mod calibrate;
pub mod config;
pub mod groups;
pub mod link;
pub mod method;
pub mod plot;
pub mod profile;

pub use calibrate::{calibrate, Calibration, Candidate};
pub use config::Config;
pub use groups::{groups, Group};
pub use link::{link_all, Link, Links};
pub use method::{Distance, Method, Pretreatment};
pub use profile::{Profile, ProfileSet, Rejected, SampleInput};

#[derive(Debug, thiserror::Error)]
pub enum ForensicsError {
    #[error("forensics configuration {file}: {reason}")]
    Config { file: String, reason: String },
    #[error(
        "not calibrated: the reference collection gives {linked} known-linked and {unlinked} known-unlinked pairs, and calibration needs at least {min_linked} and {min_unlinked}; add reference samples with their case group (the reference_group column)"
    )]
    TooFewReferencePairs {
        linked: usize,
        unlinked: usize,
        min_linked: usize,
        min_unlinked: usize,
    },
    #[error(
        "linking stopped at {limit} links (limits.max_links); state a lower false_link_rate or compare fewer samples"
    )]
    TooManyLinks { limit: usize },
    #[error("{samples} samples is more than limits.max_samples = {limit}; raise the limit or split the collection")]
    TooManySamples { samples: usize, limit: usize },
}
