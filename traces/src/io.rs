//! Writing and reading trace files (JSON lines). Reading is streaming and
//! bounded: a corrupt, truncated or future-version file gives a [`ReadError`]
//! with the line number, never a panic.

use crate::{FORMAT_NAME, FORMAT_VERSION, Header, Record};
use std::io::{BufRead, Write};

/// Longest line a reader accepts (a record is far smaller).
pub const LINE_LEN_MAX: usize = 1 << 20;

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("line {line}: {source}")]
    Io { line: usize, source: std::io::Error },
    #[error("the trace is empty: no header line")]
    Empty,
    #[error("line 1: not a fover trace header: {detail}")]
    BadHeader { detail: String },
    #[error("line 1: trace format version {found} is newer than this build reads ({FORMAT_VERSION}); upgrade fover")]
    FutureVersion { found: u32 },
    #[error("line {line}: bad record: {detail}")]
    BadRecord { line: usize, detail: String },
    #[error("line {line}: longer than {LINE_LEN_MAX} bytes")]
    LineTooLong { line: usize },
    #[error("line {line}: the last line is truncated (no newline and not valid JSON)")]
    Truncated { line: usize },
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
        let Some((text, _)) = reader.next_line()? else {
            return Err(ReadError::Empty);
        };
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|e| ReadError::BadHeader { detail: e.to_string() })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
            return Err(ReadError::BadHeader { detail: format!("missing \"format\": \"{FORMAT_NAME}\"") });
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v > FORMAT_VERSION as u64 => {
                return Err(ReadError::FutureVersion { found: v.min(u32::MAX as u64) as u32 });
            }
            Some(_) => {}
            None => return Err(ReadError::BadHeader { detail: "missing \"version\"".into() }),
        }
        let header: Header =
            serde_json::from_value(value).map_err(|e| ReadError::BadHeader { detail: e.to_string() })?;
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

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, ReadError> {
        loop {
            let line = self.line + 1;
            let Some((text, complete)) = self.next_line()? else {
                return Ok(None);
            };
            if text.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return match serde_json::from_slice::<Record>(text) {
                Ok(r) => Ok(Some(r)),
                Err(_) if !complete => Err(ReadError::Truncated { line }),
                Err(e) => Err(ReadError::BadRecord { line, detail: e.to_string() }),
            };
        }
    }
}

/// Reads a whole trace into memory.
pub fn read_trace(input: impl BufRead) -> Result<(Header, Vec<Record>), ReadError> {
    let (header, mut reader) = TraceReader::open(input)?;
    let mut records = Vec::new();
    while let Some(r) = reader.next_record()? {
        records.push(r);
    }
    Ok((header, records))
}
