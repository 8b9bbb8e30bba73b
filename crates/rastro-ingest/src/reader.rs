//! Streaming readers for CSV (with a header row) and JSON Lines files.
//!
//! A file is read one line at a time and every line becomes exactly one [`Item`]: a record or a
//! quarantine entry. Nothing is dropped silently; blank lines are the only lines that yield
//! nothing, because they carry nothing.

use crate::format::{detect_kind, missing_columns, parse_fields, Fields, TRUTH_MARKERS};
use rastro_core::{Kind, Quarantine, Record};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, BufRead};

/// Longest line a reader accepts, in bytes. Longer lines are skipped without being buffered
/// and quarantined, so one hostile line cannot exhaust memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How much of a bad line is kept in its quarantine entry.
const RAW_KEEP_BYTES: usize = 512;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Jsonl,
}

/// One line's outcome.
// Records are the common case; boxing them would add an allocation per line on the hot path.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Record { line: u64, record: Record },
    Quarantine(Quarantine),
}

/// Why a whole file cannot be read. Each carries the quarantine entry the pipeline stores so
/// that the file is accounted for.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Rejected(Box<Quarantine>),
    #[error("{source_name}: {err}")]
    Io { source_name: String, err: io::Error },
}

fn raw_of(bytes: &[u8]) -> String {
    let end = bytes.len().min(RAW_KEEP_BYTES);
    let mut s = String::from_utf8_lossy(&bytes[..end]).into_owned();
    if bytes.len() > RAW_KEEP_BYTES {
        s.push('…');
    }
    s
}

enum LineRead {
    Line { newline: bool },
    TooLong { len: usize },
    Eof,
}

/// Reads one line into `buf` (without its terminator), refusing to buffer more than `max`.
fn read_line<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
    consumed: &mut u64,
) -> io::Result<LineRead> {
    buf.clear();
    let mut too_long = 0usize;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(match (buf.is_empty(), too_long) {
                (true, 0) => LineRead::Eof,
                (_, 0) => LineRead::Line { newline: false },
                (_, len) => LineRead::TooLong { len },
            });
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let body = if done {
            &available[..take - 1]
        } else {
            &available[..take]
        };
        if too_long > 0 || buf.len() + body.len() > max {
            too_long = too_long.max(buf.len()) + body.len();
            buf.clear();
        } else {
            buf.extend_from_slice(body);
        }
        r.consume(take);
        *consumed += take as u64;
        if done {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long > 0 {
                LineRead::TooLong { len: too_long }
            } else {
                LineRead::Line { newline: true }
            });
        }
    }
}

/// Splits one CSV line into fields with `csv-core` (RFC 4180 quoting; a record is one line).
struct CsvSplitter {
    rdr: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl CsvSplitter {
    fn new() -> Self {
        CsvSplitter {
            rdr: csv_core::Reader::new(),
            out: vec![0; 4096],
            ends: vec![0; 64],
        }
    }

    /// Splits `line` (no terminator); afterwards field `i` is `out[ends[i-1]..ends[i]]`.
    fn split(&mut self, line: &[u8]) -> usize {
        self.rdr.reset();
        let mut input = line;
        let (mut nout, mut nend) = (0, 0);
        let mut fed_eof = false;
        loop {
            let (res, nin, o, e) =
                self.rdr
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            input = &input[nin..];
            nout += o;
            nend += e;
            match res {
                csv_core::ReadRecordResult::InputEmpty if !fed_eof => {
                    // Signal end of input so the last field is closed.
                    fed_eof = true;
                }
                csv_core::ReadRecordResult::OutputFull => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                _ => return nend,
            }
        }
    }
}

struct CsvFields<'a> {
    cols: &'a HashMap<String, usize>,
    text: &'a str,
    ends: &'a [usize],
}

impl Fields for CsvFields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let &i = self.cols.get(name)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let end = *self.ends.get(i)?;
        let v = self.text.get(start..end)?.trim();
        (!v.is_empty()).then_some(v)
    }
}

struct JsonFields(HashMap<String, String>);

impl Fields for JsonFields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

fn json_text(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(a) => Some(a.iter().filter_map(json_text).collect::<Vec<_>>().join(";")),
        Value::Object(_) => Some(v.to_string()),
    }
}

/// A streaming reader of one file.
pub struct Reader<R> {
    inner: R,
    source: String,
    format: FileFormat,
    kind: Kind,
    line: u64,
    bytes: u64,
    buf: Vec<u8>,
    pending: Option<(u64, Vec<u8>, bool)>,
    cols: HashMap<String, usize>,
    ncols: usize,
    csv: CsvSplitter,
    max_line: usize,
    done: bool,
}

/// Opens a stream: reads the header (CSV) or first record (JSON Lines) to learn the format
/// and kind. `kind_hint` is what the user said (`--kind`); the header must agree with it.
pub fn open<R: BufRead>(
    mut inner: R,
    source: &str,
    kind_hint: Option<Kind>,
) -> Result<Reader<R>, OpenError> {
    let reject = |line: u64, field: Option<&str>, reason: String, raw: &[u8]| {
        OpenError::Rejected(Box::new(Quarantine {
            source: source.to_string(),
            line,
            kind: kind_hint,
            field: field.map(str::to_string),
            reason,
            raw: raw_of(raw),
        }))
    };
    let io_err = |err| OpenError::Io {
        source_name: source.to_string(),
        err,
    };
    let mut buf = Vec::new();
    let mut bytes = 0u64;
    let mut line = 0u64;
    // Find the first non-blank line.
    let newline = loop {
        line += 1;
        match read_line(&mut inner, &mut buf, MAX_LINE_BYTES, &mut bytes).map_err(io_err)? {
            LineRead::Eof => {
                return Err(reject(
                    line.saturating_sub(1).max(1),
                    None,
                    "empty file: no header or record".into(),
                    b"",
                ))
            }
            LineRead::TooLong { len, .. } => {
                return Err(reject(
                    line,
                    None,
                    format!("first line is {len} bytes, over the {MAX_LINE_BYTES}-byte limit"),
                    b"",
                ))
            }
            LineRead::Line { newline } => {
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    buf.drain(..3);
                }
                if !buf.iter().all(u8::is_ascii_whitespace) {
                    break newline;
                }
            }
        }
    };
    let is_json = buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let mut rdr = Reader {
        inner,
        source: source.to_string(),
        format: if is_json {
            FileFormat::Jsonl
        } else {
            FileFormat::Csv
        },
        kind: Kind::Observation,
        line,
        bytes,
        buf: Vec::with_capacity(4096),
        pending: None,
        cols: HashMap::new(),
        ncols: 0,
        csv: CsvSplitter::new(),
        max_line: MAX_LINE_BYTES,
        done: false,
    };
    let names: Vec<String> = if is_json {
        let keys =
            match serde_json::from_slice::<serde_json::Value>(&buf) {
                Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect::<Vec<_>>(),
                _ => return Err(reject(
                    line,
                    None,
                    "first line is not a JSON object, so the file's kind cannot be read from it"
                        .into(),
                    &buf,
                )),
            };
        rdr.pending = Some((line, std::mem::take(&mut buf), newline));
        keys
    } else {
        let text = std::str::from_utf8(&buf)
            .map_err(|_| reject(line, None, "header row is not valid UTF-8".into(), &buf))?;
        let n = rdr.csv.split(text.as_bytes());
        let mut names = Vec::with_capacity(n);
        for i in 0..n {
            let start = if i == 0 { 0 } else { rdr.csv.ends[i - 1] };
            let name = String::from_utf8_lossy(&rdr.csv.out[start..rdr.csv.ends[i]])
                .trim()
                .to_ascii_lowercase();
            if rdr.cols.insert(name.clone(), i).is_some() {
                return Err(reject(
                    line,
                    Some(&name),
                    format!("column {name:?} appears twice in the header"),
                    &buf,
                ));
            }
            names.push(name);
        }
        rdr.ncols = n;
        names
    };
    if let Some(m) = names.iter().find(|n| TRUTH_MARKERS.contains(&n.as_str())) {
        return Err(reject(
            line,
            Some(m),
            "this is a simulator truth file; truth is for evaluation only and is never ingested"
                .into(),
            &buf,
        ));
    }
    let detected = detect_kind(&names);
    rdr.kind = match (kind_hint, detected) {
        (Some(k), _) => {
            let missing = missing_columns(k, &names);
            if !missing.is_empty() {
                let looks = detected
                    .filter(|d| *d != k)
                    .map(|d| format!("; it looks like a {d} file"))
                    .unwrap_or_default();
                return Err(reject(
                    line,
                    Some(missing[0]),
                    format!(
                        "not a {k} file: missing column(s) {}{looks}",
                        missing.join(", ")
                    ),
                    &buf,
                ));
            }
            k
        }
        (None, Some(k)) => {
            let missing = missing_columns(k, &names);
            if !missing.is_empty() {
                return Err(reject(
                    line,
                    Some(missing[0]),
                    format!(
                        "looks like a {k} file but lacks column(s) {}",
                        missing.join(", ")
                    ),
                    &buf,
                ));
            }
            k
        }
        (None, None) => {
            return Err(reject(
                line,
                None,
                "cannot tell the record kind from the columns; pass --kind".into(),
                &buf,
            ))
        }
    };
    Ok(rdr)
}

impl<R: BufRead> Reader<R> {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// Bytes consumed so far, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Number of the last line read (1-based).
    pub fn line(&self) -> u64 {
        self.line
    }

    fn quarantine(&self, line: u64, field: Option<&str>, reason: String, raw: &[u8]) -> Item {
        Item::Quarantine(Quarantine {
            source: self.source.clone(),
            line,
            kind: Some(self.kind),
            field: field.map(str::to_string),
            reason,
            raw: raw_of(raw),
        })
    }

    fn parse_line(&mut self, line: u64, bytes: &[u8], newline: bool) -> Item {
        let item = match self.format {
            FileFormat::Csv => self.parse_csv(line, bytes),
            FileFormat::Jsonl => self.parse_json(line, bytes),
        };
        match item {
            Item::Quarantine(mut q) if !newline => {
                q.reason = format!(
                    "truncated last line (no newline at end of file): {}",
                    q.reason
                );
                Item::Quarantine(q)
            }
            other => other,
        }
    }

    fn parse_csv(&mut self, line: u64, bytes: &[u8]) -> Item {
        let n = self.csv.split(bytes);
        if n != self.ncols {
            return self.quarantine(
                line,
                None,
                format!("expected {} fields as in the header, found {n}", self.ncols),
                bytes,
            );
        }
        let used = self.csv.ends[n - 1];
        let text = match std::str::from_utf8(&self.csv.out[..used]) {
            Ok(t) => t,
            Err(e) => {
                let at = e.valid_up_to();
                let idx = self.csv.ends[..n]
                    .iter()
                    .position(|&end| end > at)
                    .unwrap_or(0);
                let name = self
                    .cols
                    .iter()
                    .find(|(_, &i)| i == idx)
                    .map(|(k, _)| k.clone())
                    .unwrap_or_default();
                return self.quarantine(
                    line,
                    Some(&name),
                    "field is not valid UTF-8".into(),
                    bytes,
                );
            }
        };
        let fields = CsvFields {
            cols: &self.cols,
            text,
            ends: &self.csv.ends[..n],
        };
        match parse_fields(self.kind, &fields) {
            Ok(record) => Item::Record { line, record },
            Err(e) => self.quarantine(line, Some(&e.field), e.reason, bytes),
        }
    }

    fn parse_json(&mut self, line: u64, bytes: &[u8]) -> Item {
        if std::str::from_utf8(bytes).is_err() {
            return self.quarantine(line, None, "line is not valid UTF-8".into(), bytes);
        }
        let map = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => {
                return self.quarantine(line, None, "line is JSON but not an object".into(), bytes)
            }
            Err(e) => return self.quarantine(line, None, format!("not valid JSON: {e}"), bytes),
        };
        if let Some(k) = map.get("kind").and_then(|v| v.as_str()) {
            if Kind::parse(k) != Some(self.kind) {
                return self.quarantine(
                    line,
                    Some("kind"),
                    format!(
                        "record kind {k:?} differs from the file's kind {}",
                        self.kind
                    ),
                    bytes,
                );
            }
        }
        let fields = JsonFields(
            map.iter()
                .filter_map(|(k, v)| json_text(v).map(|t| (k.clone(), t)))
                .collect(),
        );
        match parse_fields(self.kind, &fields) {
            Ok(record) => Item::Record { line, record },
            Err(e) => self.quarantine(line, Some(&e.field), e.reason, bytes),
        }
    }

    /// The next item, or `None` at end of file. An I/O error ends the stream with an error.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        if let Some((line, bytes, newline)) = self.pending.take() {
            return Ok(Some(self.parse_line(line, &bytes, newline)));
        }
        loop {
            if self.done {
                return Ok(None);
            }
            self.line += 1;
            let mut buf = std::mem::take(&mut self.buf);
            let r = read_line(&mut self.inner, &mut buf, self.max_line, &mut self.bytes);
            let out = match r {
                Err(e) => {
                    self.buf = buf;
                    return Err(e);
                }
                Ok(LineRead::Eof) => {
                    self.done = true;
                    None
                }
                Ok(LineRead::TooLong { len, .. }) => Some(self.quarantine(
                    self.line,
                    None,
                    format!("line is {len} bytes, over the {}-byte limit", self.max_line),
                    b"",
                )),
                Ok(LineRead::Line { newline }) => {
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        if !newline {
                            self.done = true;
                        }
                        self.buf = buf;
                        continue;
                    }
                    Some(self.parse_line(self.line, &buf, newline))
                }
            };
            self.buf = buf;
            return Ok(out);
        }
    }
}
