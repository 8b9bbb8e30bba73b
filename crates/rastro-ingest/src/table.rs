//! Reading point tables with user-named columns (for general tools such as `rastro stops` and
//! `rastro hotspots`): an id, a time and two coordinates per row. Bad rows are returned with
//! their line and reason, never dropped silently.

use std::collections::HashMap;
use std::io::BufRead;

/// Which columns hold what. `id` and `time` are optional (one trajectory; no time).
#[derive(Debug, Clone)]
pub struct PointColumns {
    pub id: Option<String>,
    pub time: Option<String>,
    pub x: String,
    pub y: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PointRow {
    pub line: u64,
    /// Shared between consecutive rows of one trajectory (cloning is a reference count).
    pub id: std::sync::Arc<str>,
    pub t_ms: i64,
    pub x: f64,
    pub y: f64,
    pub value: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{source_name}: {err}")]
    Io {
        source_name: String,
        err: std::io::Error,
    },
    #[error("{source_name}:1: missing column {column:?} (columns are: {available})")]
    MissingColumn {
        source_name: String,
        column: String,
        available: String,
    },
    #[error("{source_name}: empty file")]
    Empty { source_name: String },
}

/// A time as RFC 3339 or as (fractional) seconds since the Unix epoch.
pub fn parse_time_flexible(s: &str) -> Result<i64, String> {
    if let Ok(v) = s.trim().parse::<f64>() {
        if v.is_finite() {
            return Ok((v * 1000.0).round() as i64);
        }
    }
    rastro_core::parse_time_ms(s)
}

/// Good rows, and `(line, reason)` for each bad one.
pub type PointTable = (Vec<PointRow>, Vec<(u64, String)>);

/// Reads every row; returns the good rows and `(line, reason)` for the bad ones.
pub fn read_points<R: BufRead>(
    mut r: R,
    source_name: &str,
    cols: &PointColumns,
) -> Result<PointTable, TableError> {
    let io = |err| TableError::Io {
        source_name: source_name.into(),
        err,
    };
    let mut line = String::new();
    if r.read_line(&mut line).map_err(io)? == 0 {
        return Err(TableError::Empty {
            source_name: source_name.into(),
        });
    }
    let header: Vec<String> = split(
        line.trim_end_matches(['\n', '\r'])
            .trim_start_matches('\u{feff}'),
    )
    .into_iter()
    .map(|h| h.trim().to_string())
    .collect();
    let index: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let col = |name: &str| {
        index
            .get(name)
            .copied()
            .ok_or_else(|| TableError::MissingColumn {
                source_name: source_name.into(),
                column: name.into(),
                available: header.join(", "),
            })
    };
    let (xi, yi) = (col(&cols.x)?, col(&cols.y)?);
    let idi = cols.id.as_deref().map(col).transpose()?;
    let ti = cols.time.as_deref().map(col).transpose()?;
    let vi = cols.value.as_deref().map(col).transpose()?;
    let (mut rows, mut bad) = (Vec::new(), Vec::new());
    let mut n = 1u64;
    let mut fields: Vec<String> = Vec::new();
    let mut last_id: std::sync::Arc<str> = std::sync::Arc::from("");
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(io)? == 0 {
            break;
        }
        n += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        // Unquoted lines (the common case) are split by borrowing; quoted ones are unescaped.
        let borrowed: Vec<&str>;
        let view: &[&str] = if text.contains('"') {
            split_into(text, &mut fields);
            borrowed = fields.iter().map(String::as_str).collect();
            &borrowed
        } else {
            borrowed = text.split(',').collect();
            &borrowed
        };
        let get = |i: usize| view.get(i).map(|s| s.trim()).unwrap_or("");
        let num = |i: usize, what: &str| {
            get(i)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} {:?} is not a number", get(i)))
        };
        let row = (|| -> Result<PointRow, String> {
            // Consecutive rows usually share an id: reuse the previous allocation.
            let id = match idi {
                Some(i) if get(i) == &*last_id => last_id.clone(),
                Some(i) => std::sync::Arc::from(get(i)),
                None => last_id.clone(),
            };
            Ok(PointRow {
                line: n,
                id,
                t_ms: match ti {
                    Some(i) => parse_time_flexible(get(i)).map_err(|e| format!("time: {e}"))?,
                    None => 0,
                },
                x: num(xi, &cols.x)?,
                y: num(yi, &cols.y)?,
                value: match vi {
                    Some(i) => num(i, cols.value.as_deref().unwrap_or("value"))?,
                    None => 0.0,
                },
            })
        })();
        match row {
            Ok(p) => {
                if !std::sync::Arc::ptr_eq(&p.id, &last_id) {
                    last_id = p.id.clone();
                }
                rows.push(p)
            }
            Err(reason) => bad.push((n, reason)),
        }
    }
    Ok((rows, bad))
}

/// Splits one CSV line (RFC 4180 quotes) into `out`, reusing its strings.
fn split_into(line: &str, out: &mut Vec<String>) {
    let mut k = 0;
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    let field = |k: usize, out: &mut Vec<String>| {
        if out.len() <= k {
            out.push(String::new());
        }
        out[k].clear();
    };
    field(0, out);
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                out[k].push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => {
                k += 1;
                field(k, out);
            }
            (c, _) => out[k].push(c),
        }
    }
    out.truncate(k + 1);
}

/// Splits one CSV line (RFC 4180 quotes) into fields.
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn reads_named_columns_and_reports_bad_rows() {
        let data = "traj,t,px,py\nA,0,1.5,2\nA,60,x,2\n\"B,1\",2026-01-01T00:00:00Z,3,4\n";
        let cols = PointColumns {
            id: Some("traj".into()),
            time: Some("t".into()),
            x: "px".into(),
            y: "py".into(),
            value: None,
        };
        let (rows, bad) = read_points(data.as_bytes(), "t.csv", &cols).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(&*rows[1].id, "B,1");
        assert_eq!(bad, vec![(3, "px \"x\" is not a number".to_string())]);
        let missing = PointColumns {
            x: "lon".into(),
            ..cols
        };
        assert!(read_points(data.as_bytes(), "t.csv", &missing)
            .unwrap_err()
            .to_string()
            .contains("missing column \"lon\""));
    }
}
