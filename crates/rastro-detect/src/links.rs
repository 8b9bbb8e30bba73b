//! Links between party records that are (or act as) one party: the seam where entity
//! resolution (`rastro_pipeline::entities`) plugs into structuring and front-consignee
//! detection.

use rastro_core::Marking;

/// How two party records are linked: the hops in words, the party records the chain passes
/// through (ends included), and their most restrictive marking, which an alert quoting the
/// chain must carry.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPath {
    pub text: String,
    pub records: Vec<String>,
    pub marking: Marking,
}

/// Which party records belong together.
pub trait PartyLinks {
    /// A cluster key: records with the same key are linked. Unknown ids are their own cluster.
    fn cluster(&self, party_id: &str) -> String;

    /// How two linked records are linked, hop by hop, for an alert to name the links it used;
    /// `None` for the same record or records not linked.
    fn explain(&self, a: &str, b: &str) -> Option<LinkPath> {
        let _ = (a, b);
        None
    }
}
