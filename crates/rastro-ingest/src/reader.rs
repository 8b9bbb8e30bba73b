//! Streaming readers for CSV (with a header row) and JSON Lines files.
//!
//! A file is read one line at a time and every line becomes exactly one [`Item`]: a record or a
//! quarantine entry. Nothing is dropped silently; blank lines are the only lines that yield
//! nothing, because they carry nothing.

use crate::format::{detect_kind, missing_columns, parse_fields, Fields, TRUTH_MARKERS};
use rastro_core::{Kind, Quarantine, Record};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, BufRead};

/// Header names to column positions. Every field of every row is looked up by name, so the
/// hasher is a fast one (foldhash) rather than the DoS-resistant default: the keys come from
/// one header row of at most a few dozen names, not from per-row input.
type Columns = HashMap<String, usize, foldhash::fast::RandomState>;

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

// A fresh splitter, not a copy: csv-core 0.1's `Clone` for its reader drops part of the DFA
// it builds, and the clone then splits every line into one field.
impl Clone for CsvSplitter {
    fn clone(&self) -> Self {
        CsvSplitter::new()
    }
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

/// The column positions of the names a record parser asks for, in the order it asks. The
/// parser asks for the same names in the same order on every line, so after the first line
/// each lookup is one short string comparison instead of a hash-map probe.
#[derive(Clone, Default)]
struct Memo {
    asked: RefCell<Vec<(String, Option<usize>)>>,
}

struct CsvFields<'a> {
    cols: &'a Columns,
    text: &'a str,
    ends: &'a [usize],
    memo: &'a Memo,
    calls: Cell<usize>,
}

impl CsvFields<'_> {
    fn position(&self, name: &str) -> Option<usize> {
        let k = self.calls.get();
        self.calls.set(k + 1);
        let mut asked = self.memo.asked.borrow_mut();
        if let Some((n, i)) = asked.get(k) {
            if n == name {
                return *i;
            }
        }
        let i = self.cols.get(name).copied();
        if k < asked.len() {
            asked[k] = (name.to_string(), i);
        } else if k == asked.len() && k < 64 {
            asked.push((name.to_string(), i));
        }
        i
    }
}

impl Fields for CsvFields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let i = self.position(name)?;
        let start = if i == 0 { 0 } else { *self.ends.get(i - 1)? };
        let end = *self.ends.get(i)?;
        let v = self.text.get(start..end)?;
        // Most fields have no surrounding space; the Unicode-aware trim is for those that do.
        let clean = |b: Option<&u8>| b.is_some_and(|&b| b > b' ' && b < 0x80);
        let v = if clean(v.as_bytes().first()) && clean(v.as_bytes().last()) {
            v
        } else {
            v.trim()
        };
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

/// A streaming reader of one file: a line source and the [`Parser`] of its lines.
pub struct Reader<R> {
    inner: R,
    parser: Parser,
    line: u64,
    bytes: u64,
    buf: Vec<u8>,
    pending: Option<(u64, Vec<u8>, bool)>,
    /// The one-line run [`Reader::next_item`] reads into.
    one: RawLines,
    done: bool,
}

/// Turns one line of a file into an [`Item`], knowing the file's format, kind and columns.
/// Cloneable, so that several threads can parse the lines of one file (see
/// [`Reader::next_lines`]).
#[derive(Clone)]
pub struct Parser {
    source: String,
    format: FileFormat,
    kind: Kind,
    cols: Columns,
    ncols: usize,
    csv: CsvSplitter,
    memo: Memo,
}

/// What one raw line is: a line's bytes, or a line too long to keep.
#[derive(Debug, Clone, Copy)]
enum RawKind {
    Line { newline: bool },
    TooLong { len: usize },
}

/// A run of raw lines read from a file, to be parsed elsewhere: the bytes of every line end to
/// end, and where each starts and ends. Reused from run to run to avoid allocation.
#[derive(Debug, Default)]
pub struct RawLines {
    data: Vec<u8>,
    lines: Vec<(u64, usize, usize, RawKind)>,
    /// Bytes of the file consumed once these lines were read, for progress.
    pub bytes_read: u64,
}

impl RawLines {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn clear(&mut self) {
        self.data.clear();
        self.lines.clear();
    }
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
        parser: Parser {
            source: source.to_string(),
            format: if is_json {
                FileFormat::Jsonl
            } else {
                FileFormat::Csv
            },
            kind: Kind::Observation,
            cols: Columns::default(),
            ncols: 0,
            csv: CsvSplitter::new(),
            memo: Memo::default(),
        },
        line,
        bytes,
        buf: Vec::with_capacity(4096),
        pending: None,
        one: RawLines::default(),
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
        let p = &mut rdr.parser;
        let n = p.csv.split(text.as_bytes());
        let mut names = Vec::with_capacity(n);
        for i in 0..n {
            let start = if i == 0 { 0 } else { p.csv.ends[i - 1] };
            let name = String::from_utf8_lossy(&p.csv.out[start..p.csv.ends[i]])
                .trim()
                .to_ascii_lowercase();
            if p.cols.insert(name.clone(), i).is_some() {
                return Err(reject(
                    line,
                    Some(&name),
                    format!("column {name:?} appears twice in the header"),
                    &buf,
                ));
            }
            names.push(name);
        }
        p.ncols = n;
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
    rdr.parser.kind = match (kind_hint, detected) {
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
        self.parser.kind
    }

    pub fn format(&self) -> FileFormat {
        self.parser.format
    }

    /// A parser of this file's lines, for parsing on other threads.
    pub fn parser(&self) -> Parser {
        self.parser.clone()
    }

    /// Bytes consumed so far, for progress reporting.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Number of the last line read (1-based).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The next item, or `None` at end of file. An I/O error ends the stream with an error.
    pub fn next_item(&mut self) -> io::Result<Option<Item>> {
        // One line through the same path as parallel ingest, so blank lines, long lines and
        // the end of the file are handled in one place.
        let mut one = std::mem::take(&mut self.one);
        let read = self.next_lines(&mut one, 1);
        let mut item = None;
        if read.is_ok() {
            self.parser.parse_lines(&one, |i| item = Some(i));
        }
        self.one = one;
        read.map(|_| item)
    }

    /// Reads up to `max` lines into `out` (cleared first) without parsing them: the sequential
    /// half of parallel ingest, each run then parsed by a [`Parser`] on another thread. Returns
    /// `false` once the file is exhausted (`out` may still hold its last lines). Blank lines
    /// are skipped as in [`Reader::next_item`].
    pub fn next_lines(&mut self, out: &mut RawLines, max: usize) -> io::Result<bool> {
        out.clear();
        if let Some((line, bytes, newline)) = self.pending.take() {
            out.data.extend_from_slice(&bytes);
            out.lines
                .push((line, 0, bytes.len(), RawKind::Line { newline }));
        }
        while out.lines.len() < max {
            if self.done {
                out.bytes_read = self.bytes;
                return Ok(false);
            }
            self.line += 1;
            let start = out.data.len();
            let r = read_line(
                &mut self.inner,
                &mut self.buf,
                MAX_LINE_BYTES,
                &mut self.bytes,
            )?;
            match r {
                LineRead::Eof => self.done = true,
                LineRead::TooLong { len } => {
                    out.lines
                        .push((self.line, start, start, RawKind::TooLong { len }))
                }
                LineRead::Line { newline } => {
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        if !newline {
                            self.done = true;
                        }
                        continue;
                    }
                    out.data.extend_from_slice(&self.buf);
                    out.lines
                        .push((self.line, start, out.data.len(), RawKind::Line { newline }));
                }
            }
        }
        out.bytes_read = self.bytes;
        Ok(!self.done)
    }
}

impl Parser {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Parses every line of `lines` in order, handing each item to `emit`.
    pub fn parse_lines(&mut self, lines: &RawLines, mut emit: impl FnMut(Item)) {
        for &(line, start, end, kind) in &lines.lines {
            emit(match kind {
                RawKind::Line { newline } => {
                    self.parse_line(line, &lines.data[start..end], newline)
                }
                RawKind::TooLong { len } => self.too_long(line, len),
            });
        }
    }

    fn too_long(&self, line: u64, len: usize) -> Item {
        self.quarantine(
            line,
            None,
            format!("line is {len} bytes, over the {MAX_LINE_BYTES}-byte limit"),
            b"",
        )
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
            memo: &self.memo,
            calls: Cell::new(0),
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
}
