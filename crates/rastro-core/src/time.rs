//! RFC 3339 timestamps: parsed with a mandatory offset, stored as UTC milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 time that carries an offset (`Z` or `+hh:mm`) into UTC milliseconds
/// since the Unix epoch. A time without an offset is ambiguous and rejected.
pub fn parse_time_ms(s: &str) -> Result<i64, String> {
    let t = s.trim();
    match DateTime::parse_from_rfc3339(t) {
        Ok(dt) => Ok(dt.with_timezone(&Utc).timestamp_millis()),
        Err(err) => {
            // Tell the common mistake apart from other malformed times.
            if chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
                Err("time has no UTC offset; write it as RFC 3339 with Z or +hh:mm".into())
            } else {
                Err(format!("not an RFC 3339 time ({err})"))
            }
        }
    }
}

/// Formats UTC milliseconds as RFC 3339 with a `Z` offset, with milliseconds only when
/// they are not zero.
pub fn format_time_ms(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(dt) if ms % 1000 == 0 => dt.to_rfc3339_opts(SecondsFormat::Secs, true),
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => format!("invalid-time({ms})"),
    }
}

/// Serde adapter that writes `i64` milliseconds as RFC 3339 text.
pub mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time_ms(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_time_ms(&s).map_err(serde::de::Error::custom)
    }
}

/// Serde adapter for `Option<i64>` milliseconds.
pub mod rfc3339_ms_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(v) => s.serialize_str(&super::format_time_ms(*v)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| super::parse_time_ms(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_required_and_normalised() {
        assert_eq!(
            parse_time_ms("2026-01-01T00:00:00Z").unwrap(),
            1_767_225_600_000
        );
        assert_eq!(
            parse_time_ms("2025-12-31T18:00:00-06:00").unwrap(),
            1_767_225_600_000
        );
        let e = parse_time_ms("2026-01-01T00:00:00").unwrap_err();
        assert!(e.contains("no UTC offset"), "{e}");
        assert!(parse_time_ms("yesterday").is_err());
        assert_eq!(format_time_ms(1_767_225_600_000), "2026-01-01T00:00:00Z");
        assert_eq!(
            format_time_ms(1_767_225_600_250),
            "2026-01-01T00:00:00.250Z"
        );
    }
}
