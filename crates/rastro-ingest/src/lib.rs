//! Readers and writers of Rastro's exchange formats.
//!
//! A reader turns the bytes of one CSV or JSON Lines file into a stream of [`Item`]s: a
//! validated [`rastro_core::Record`] or a [`Quarantine`] entry that names the source, line,
//! field and reason. Readers hold one line at a time (bounded by [`MAX_LINE_BYTES`]), so memory
//! stays constant whatever the file size. They never touch the store: the pipeline crate
//! decides where records go.

pub mod format;
pub mod reader;
pub mod table;
pub mod writer;

pub use format::{columns, detect_kind, parse_fields, FieldError, Fields};
pub use rastro_core::Quarantine;
pub use reader::{open, FileFormat, Item, OpenError, Parser, RawLines, Reader, MAX_LINE_BYTES};
pub use writer::{record_to_row, revalidate, CsvWriter};
