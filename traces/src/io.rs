//! Writing and reading trace files (JSON lines). Reading is streaming and
//! bounded: a corrupt, truncated or future-version file gives a [`ReadError`]
//! with the line number, never a panic.
//!
//! [`TraceReader`] streams records one at a time and checks each line;
//! [`read_trace`] (and [`read_any`], the same over bytes) reads a whole file
//! and also checks its shape: the last record, and only the last, is the
//! [`Event::Verdict`].

use crate::{Event, FORMAT_NAME, FORMAT_VERSION, Header, Record};
use std::io::{BufRead, Write};

/// Longest line a reader accepts (a record is far smaller).
pub const LINE_LEN_MAX: usize = 1 << 20;

/// The oldest trace format version this build reads.
pub const FORMAT_VERSION_MIN: u32 = 1;
const _: () = assert!(FORMAT_VERSION_MIN <= FORMAT_VERSION);

/// Why a trace could not be read. Every variant names the line (1-based; the
/// header is line 1); callers add the file name.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("line {line}: {source}")]
    Io { line: usize, source: std::io::Error },
    #[error("line 1: the file is empty: expected a fover trace header")]
    Empty,
    #[error("line 1: not a fover trace header: {detail}")]
    BadHeader { detail: String },
    #[error("line 1: no trace header: the file starts with a record (the header line is missing)")]
    MissingHeader,
    #[error("line 1: trace format version {found} is newer than this build reads ({FORMAT_VERSION}); upgrade fover")]
    FutureVersion { found: u32 },
    #[error(
        "line 1: trace format version {found} is not supported (this build reads {FORMAT_VERSION_MIN} to {FORMAT_VERSION})"
    )]
    OldVersion { found: u32 },
    #[error("line {line}: bad record: {detail}")]
    BadRecord { line: usize, detail: String },
    #[error("line {line}: longer than {LINE_LEN_MAX} bytes")]
    LineTooLong { line: usize },
    #[error("line {line}: the last line is truncated (no newline and not valid JSON)")]
    Truncated { line: usize },
    #[error("line {line}: the trace ends without a verdict record (cut short?)")]
    NoVerdict { line: usize },
    #[error("line {line}: a record follows the verdict (two traces in one file?)")]
    AfterVerdict { line: usize },
}

impl ReadError {
    /// The line the error is about.
    pub fn line(&self) -> usize {
        match self {
            ReadError::Io { line, .. }
            | ReadError::BadRecord { line, .. }
            | ReadError::LineTooLong { line }
            | ReadError::Truncated { line }
            | ReadError::NoVerdict { line }
            | ReadError::AfterVerdict { line } => *line,
            ReadError::Empty
            | ReadError::BadHeader { .. }
            | ReadError::MissingHeader
            | ReadError::FutureVersion { .. }
            | ReadError::OldVersion { .. } => 1,
        }
    }
}

/// serde_json's message without its "at line 1 column N" (each line is
/// parsed alone, so its line would always be 1): `..., column N`.
fn json_detail(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => format!("{}, column {}", &text[..i], e.column()),
        None => text,
    }
}

/// Writes a whole trace.
pub fn write_trace(mut out: impl Write, header: &Header, records: &[Record]) -> std::io::Result<()> {
    serde_json::to_writer(&mut out, header)?;
    out.write_all(b"\n")?;
    for r in records {
        serde_json::to_writer(&mut out, r)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Reads a trace line by line.
pub struct TraceReader<R> {
    input: R,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> TraceReader<R> {
    /// Reads and checks the header.
    pub fn open(input: R) -> Result<(Header, TraceReader<R>), ReadError> {
        let mut reader = TraceReader { input, line: 0, buf: Vec::new() };
        let Some((text, complete)) = reader.next_line()? else {
            return Err(ReadError::Empty);
        };
        let value: serde_json::Value = match serde_json::from_slice(text) {
            Ok(v) => v,
            Err(_) if !complete => return Err(ReadError::Truncated { line: 1 }),
            Err(e) => return Err(ReadError::BadHeader { detail: json_detail(&e) }),
        };
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            if value.get("t_ns").is_some() && value.get("kind").is_some() {
                return Err(ReadError::MissingHeader);
            }
            return Err(ReadError::BadHeader { detail: format!("missing \"format\": \"{FORMAT_NAME}\"") });
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v > FORMAT_VERSION as u64 => {
                return Err(ReadError::FutureVersion { found: v.min(u32::MAX as u64) as u32 });
            }
            Some(v) if v < FORMAT_VERSION_MIN as u64 => return Err(ReadError::OldVersion { found: v as u32 }),
            Some(_) => {}
            None => return Err(ReadError::BadHeader { detail: "missing \"version\" (a whole number)".into() }),
        }
        let header: Header =
            serde_json::from_value(value).map_err(|e| ReadError::BadHeader { detail: json_detail(&e) })?;
        Ok((header, reader))
    }

    /// The number of the line read last.
    pub fn line(&self) -> usize {
        self.line
    }

    fn next_line(&mut self) -> Result<Option<(&[u8], bool)>, ReadError> {
        self.buf.clear();
        self.line += 1;
        let line = self.line;
        let mut limited = std::io::Read::take(&mut self.input, LINE_LEN_MAX as u64 + 1);
        let n = limited.read_until(b'\n', &mut self.buf).map_err(|source| ReadError::Io { line, source })?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.len() > LINE_LEN_MAX {
            return Err(ReadError::LineTooLong { line });
        }
        let complete = self.buf.last() == Some(&b'\n');
        let text = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        Ok(Some((text, complete)))
    }

    /// The next record, or `None` at the end of the file. Blank lines are skipped.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        self.next_numbered().map(|r| r.map(|(_, r)| r))
    }

    /// The next record with its line number.
    pub fn next_numbered(&mut self) -> Result<Option<(usize, Record)>, ReadError> {
        loop {
            let line = self.line + 1;
            let Some((text, complete)) = self.next_line()? else {
                return Ok(None);
            };
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return match serde_json::from_slice::<Record>(text) {
                Ok(r) => Ok(Some((line, r))),
                Err(_) if !complete => Err(ReadError::Truncated { line }),
                Err(e) => Err(ReadError::BadRecord { line, detail: json_detail(&e) }),
            };
        }
    }
}

/// Reads a whole trace into memory and checks that it ends with its verdict.
pub fn read_trace(input: impl BufRead) -> Result<(Header, Vec<Record>), ReadError> {
    let (header, mut reader) = TraceReader::open(input)?;
    let mut records = Vec::new();
    let mut verdict_seen = false;
    while let Some((line, r)) = reader.next_numbered()? {
        if verdict_seen {
            return Err(ReadError::AfterVerdict { line });
        }
        verdict_seen = matches!(r.event, Event::Verdict { .. });
        records.push(r);
    }
    if !verdict_seen {
        return Err(ReadError::NoVerdict { line: reader.line() });
    }
    Ok((header, records))
}

/// Reads a trace from any bytes: the entry point of the `trace_read` fuzz
/// target and of the reader's robustness tests.
///
/// It never panics, whatever the input (not UTF-8, cut anywhere, deeply
/// nested, huge numbers, lines of any length): the answer is a trace or a
/// [`ReadError`] naming the line. Memory stays within a small multiple of
/// the input's size, and no line longer than [`LINE_LEN_MAX`] is parsed.
/// A trace it accepts writes back ([`write_trace`]) to bytes that read as the
/// same trace; a fuzz target may check that too.
///
/// ```
/// let err = fover_traces::io::read_any(b"{\"t_ns\":0,\"kind\":\"note\",\"text\":\"x\"}\n").unwrap_err();
/// assert!(err.to_string().starts_with("line 1: no trace header"));
/// ```
pub fn read_any(bytes: &[u8]) -> Result<(Header, Vec<Record>), ReadError> {
    read_trace(bytes)
}

/// Reads a trace file; errors name the file and the line.
pub fn read_file(path: &std::path::Path) -> Result<(Header, Vec<Record>), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    read_trace(std::io::BufReader::new(file)).map_err(|e| format!("{}: {e}", path.display()))
}
