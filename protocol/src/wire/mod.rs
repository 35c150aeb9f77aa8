//! The wire format: every message two units exchange, and its binary encoding.
//!
//! A *frame* is a fixed header followed by a payload:
//!
//! ```text
//! offset size field
//!      0    2 magic        0xF0A5
//!      2    1 version      1
//!      3    1 kind         see `Kind`
//!      4    1 sender role  1 primary, 2 secondary
//!      5    1 flags        bit 0: sealed with the failover key (see `auth`); other bits zero
//!      6    8 seq          per-sender frame sequence number (replay protection)
//!     14    8 boot nonce   drawn by the sender at power-on
//!     22    4 payload len  bytes that follow the header
//!     26    . payload
//! ```
//!
//! Every integer is fixed-width big-endian. Text is a `u16` length then UTF-8;
//! lists are a `u16` count then the items. Booleans are one byte, 0 or 1.
//! The encoding is canonical: for every frame that [`decode`] accepts,
//! [`encode`] gives back the same bytes, and [`decode`] rejects anything else
//! (trailing bytes, unknown kinds or enum codes, non-UTF-8 text, lengths that
//! disagree) with a [`DecodeError`] that says what was wrong and where.
//!
//! The codec is written by hand rather than with a serialization crate: the
//! canonical-encoding property, offsets in every error and a hard allocation
//! bound are easier to guarantee in 400 lines we own than to audit in a
//! general-purpose format (postcard's varints, for instance, accept overlong forms).
//!
//! This module handles the plaintext frame; `auth` adds the checksum or the
//! authenticated encryption on top.

pub mod auth;
mod codec;
mod message;

pub use codec::*;
pub use message::*;

/// First two bytes of every frame.
pub const MAGIC: u16 = 0xF0A5;
/// The only wire version this build speaks.
pub const WIRE_VERSION: u8 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 26;
/// Largest frame (header plus payload) a unit sends or accepts, before `auth`'s trailer.
pub const FRAME_LEN_MAX: usize = 16 * 1024;
/// Largest payload.
pub const PAYLOAD_LEN_MAX: usize = FRAME_LEN_MAX - HEADER_LEN;
/// Longest text field (a command line, a context or interface name), in bytes.
pub const TEXT_LEN_MAX: usize = 1024;
/// Most configuration lines in one sync chunk.
pub const CHUNK_LINES_MAX: usize = 64;
/// Most per-interface entries in one unit hello (one per monitored interface).
pub const HELLO_INTERFACES_MAX: usize = crate::constants::MONITORED_INTERFACES_MAX;
/// Header flag: the frame is sealed with the failover key.
pub const FLAG_SEALED: u8 = 0b0000_0001;
/// Offset of the payload length, the last field of the header.
pub const PAYLOAD_LEN_OFFSET: usize = 22;

const _: () = assert!(HEADER_LEN + PAYLOAD_LEN_MAX == FRAME_LEN_MAX);
const _: () = assert!(PAYLOAD_LEN_OFFSET + 4 == HEADER_LEN);
// A context name always fits in a text field.
const _: () = assert!(crate::constants::CONTEXT_NAME_LEN_MAX < TEXT_LEN_MAX);
// One maximal line (space tag, context name, line) always fits in a chunk; the
// sender also cuts chunks by encoded size, not only by line count.
const _: () = assert!(64 + 3 * (2 + TEXT_LEN_MAX) <= PAYLOAD_LEN_MAX);
// A hello with every monitored interface listed fits in one frame.
const _: () = assert!(1 + 4 + 2 * 5 + 2 + 3 * HELLO_INTERFACES_MAX <= PAYLOAD_LEN_MAX);

/// Why a frame was rejected. Offsets are from the start of the frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {len} bytes is shorter than the {HEADER_LEN}-byte header")]
    ShortHeader { len: usize },
    #[error("frame of {len} bytes exceeds the maximum of {FRAME_LEN_MAX}")]
    FrameTooLong { len: usize },
    #[error("bad magic 0x{found:04x} at offset 0 (expected 0x{MAGIC:04x})")]
    BadMagic { found: u16 },
    #[error("unsupported wire version {found} at offset 2 (this build speaks {WIRE_VERSION})")]
    BadVersion { found: u8 },
    #[error("unknown message kind {kind} at offset 3")]
    UnknownKind { kind: u8 },
    #[error("unknown flag bits 0x{flags:02x} at offset 5")]
    BadFlags { flags: u8 },
    #[error("header declares a {declared}-byte payload but {actual} bytes follow")]
    LengthMismatch { declared: u32, actual: usize },
    #[error("truncated {field} at offset {offset}")]
    Truncated { offset: usize, field: &'static str },
    #[error("invalid {field} value {value} at offset {offset}")]
    InvalidValue { offset: usize, field: &'static str, value: u64 },
    #[error("{field} at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize, field: &'static str },
    #[error("{field} at offset {offset} is {len} bytes long (maximum {TEXT_LEN_MAX})")]
    TextTooLong { offset: usize, field: &'static str, len: usize },
    #[error("{field} at offset {offset} has {count} items (maximum {max})")]
    TooMany { offset: usize, field: &'static str, count: usize, max: usize },
    #[error("{count} trailing bytes at offset {offset}")]
    TrailingBytes { offset: usize, count: usize },
}
