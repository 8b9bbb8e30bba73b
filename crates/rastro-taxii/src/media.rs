//! Media types (TAXII 2.1 section 1.6.8): what a request accepts and what a body is.

/// The TAXII 2.1 media type, as sent.
pub const TAXII: &str = "application/taxii+json;version=2.1";
/// STIX 2.1 objects, the only content a Rastro collection holds.
pub const STIX: &str = "application/stix+json;version=2.1";

/// Whether a media type (with parameters) is TAXII JSON of version 2.1, or of no stated
/// version (which the specification reads as the newest).
pub fn is_taxii(v: &str) -> bool {
    let mut parts = v.split(';').map(str::trim);
    let base = parts.next().unwrap_or_default();
    if !base.eq_ignore_ascii_case("application/taxii+json") {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some((k, val)) if k.trim().eq_ignore_ascii_case("version") => {
            val.trim().trim_matches('"') == "2.1"
        }
        _ => true,
    })
}

/// Whether an `Accept` header admits TAXII 2.1: one of its entries is TAXII 2.1, or
/// `application/*` or `*/*`. A missing header admits anything (RFC 9110 12.5.1).
pub fn accepts_taxii(accept: Option<&str>) -> bool {
    let Some(a) = accept else { return true };
    a.split(',').any(|entry| {
        let base = entry.split(';').next().unwrap_or_default().trim();
        is_taxii(entry.trim()) || base == "*/*" || base.eq_ignore_ascii_case("application/*")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert!(is_taxii(TAXII));
        assert!(is_taxii("application/taxii+json"));
        assert!(is_taxii("Application/TAXII+json; version=\"2.1\""));
        assert!(!is_taxii("application/taxii+json;version=2.0"));
        assert!(!is_taxii("application/json"));
        assert!(accepts_taxii(None));
        assert!(accepts_taxii(Some("text/html, */*;q=0.1")));
        assert!(accepts_taxii(Some(TAXII)));
        assert!(!accepts_taxii(Some("application/taxii+json;version=2.0")));
        assert!(!accepts_taxii(Some("text/html")));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any header text is answered, never a panic; an entry list that names TAXII 2.1
        /// anywhere is accepted, whatever else it names.
        #[test]
        fn accept_headers(a in "[ -~]{0,80}", b in "[ -~]{0,40}") {
            let _ = accepts_taxii(Some(&a));
            let _ = is_taxii(&a);
            let with = format!("{a},{TAXII},{b}");
            prop_assert!(accepts_taxii(Some(&with)));
        }
    }
}
