//! The failover key: how frames are protected on the failover and state links.
//!
//! * Without a key, a frame is `header | payload | CRC-32(header | payload)`:
//!   the checksum catches corruption, nothing more.
//! * With a key, a frame is `header | XChaCha20-Poly1305(payload) | tag`, the
//!   header (with [`FLAG_SEALED`] set) being the associated data.
//!
//! Each [`Path`] (the failover link, the state link, each data interface) has
//! its own sequence numbers, replay window and, with a key, its own AEAD key:
//! HKDF-SHA256 of the secret with the fixed info string [`KDF_INFO`] followed
//! by the path's name (nothing for the failover link), so a frame sealed for
//! one link does not open on another. The 24-byte nonce is `sender role |
//! boot nonce | frame seq | zeros`: the boot nonce is fresh at every power-on
//! and a path's sequence numbers never repeat within a boot, so a nonce never
//! repeats for a key. The receiver keeps a sliding window of sequence numbers
//! per path for the sender's boot, rejects replays, and refuses frames from
//! boots it has seen retire. Paths are kept apart because links have their own
//! latencies and loads: with one numbering for all links, a delayed failover
//! link's frames arrived more than a window behind the busy state link's and
//! were taken for replays.
//!
//! [`Session`] is one unit's end of the link: it numbers and seals what the
//! unit sends, and opens, authenticates and decodes what it receives.

use crate::types::{InterfaceStatus, Role};
use crate::wire::{self, DecodeError, FLAG_SEALED, Frame, HEADER_LEN, Header, InterfaceHelloRef, Message};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// HKDF info string binding derived keys to this protocol and version.
pub const KDF_INFO: &[u8] = b"fover failover key v1";
/// Bytes of the AEAD tag at the end of a sealed frame.
pub const TAG_LEN: usize = 16;
/// Bytes of the checksum at the end of a plain frame.
pub const CRC_LEN: usize = 4;
/// Width of the replay window, in sequence numbers.
pub const REPLAY_WINDOW: u64 = 64;
/// How many retired peer boots are remembered (frames from them are refused).
pub const RETIRED_BOOTS_MAX: usize = 8;
/// Longest secret accepted by `failover key`.
pub const SECRET_LEN_MAX: usize = 63;
/// Hex digits of `failover key hex`.
pub const HEX_KEY_DIGITS: usize = 32;

/// The rule a rejected failover key breaks: the `rule` of a [`KeyError`],
/// one text per rule so callers and tests can tell them apart.
pub mod key_rule {
    pub const SECRET_EMPTY: &str = "a secret is at least 1 character long";
    pub const SECRET_TOO_LONG: &str = "a secret is at most 63 characters long";
    pub const SECRET_CHARACTERS: &str = "a secret has only printable ASCII characters, without spaces";
    pub const HEX_DIGIT_COUNT: &str = "a hex key is exactly 32 hexadecimal digits";
    pub const HEX_DIGITS: &str = "a hex key has only the digits 0-9, a-f and A-F";
}

/// A failover key that breaks a rule of `failover key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("failover key: {rule}")]
pub struct KeyError {
    /// One of the [`key_rule`] texts.
    pub rule: &'static str,
}

/// A failover key as configured with `failover key {secret | hex key}`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FailoverKey {
    /// The shared secret's bytes (the text of a secret, or the 16 bytes of a hex key).
    material: Vec<u8>,
    hex: bool,
}

impl core::fmt::Debug for FailoverKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.hex { "FailoverKey(hex, redacted)" } else { "FailoverKey(secret, redacted)" })
    }
}

impl FailoverKey {
    /// A shared secret of 1 to 63 printable characters, without spaces.
    pub fn secret(text: &str) -> Result<FailoverKey, KeyError> {
        let rule = if text.is_empty() {
            key_rule::SECRET_EMPTY
        } else if text.chars().count() > SECRET_LEN_MAX {
            key_rule::SECRET_TOO_LONG
        } else if !text.chars().all(|c| c.is_ascii_graphic()) {
            key_rule::SECRET_CHARACTERS
        } else {
            return Ok(FailoverKey { material: text.as_bytes().to_vec(), hex: false });
        };
        Err(KeyError { rule })
    }

    /// A key of exactly 32 hexadecimal digits (`failover key hex ...`).
    pub fn hex(digits: &str) -> Result<FailoverKey, KeyError> {
        if digits.chars().count() != HEX_KEY_DIGITS {
            return Err(KeyError { rule: key_rule::HEX_DIGIT_COUNT });
        }
        let mut material = Vec::with_capacity(HEX_KEY_DIGITS / 2);
        let mut high = None;
        for c in digits.chars() {
            let Some(nibble) = c.to_digit(16) else {
                return Err(KeyError { rule: key_rule::HEX_DIGITS });
            };
            // `to_digit(16)` is below 16, so both casts are lossless.
            match high.take() {
                None => high = Some(nibble as u8),
                Some(h) => material.push((h << 4) | nibble as u8),
            }
        }
        Ok(FailoverKey { material, hex: true })
    }

    /// Parses the argument of `failover key`: `hex DIGITS` or a secret.
    pub fn parse(text: &str) -> Result<FailoverKey, KeyError> {
        match text.trim().split_once(' ') {
            Some(("hex", digits)) => FailoverKey::hex(digits.trim()),
            _ => FailoverKey::secret(text.trim()),
        }
    }

    /// The cipher of one path: HKDF-SHA256 of the secret, with [`KDF_INFO`]
    /// and the path's `suffix` as info.
    fn cipher(&self, suffix: &[u8]) -> XChaCha20Poly1305 {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &self.material);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 255 * 32: this cannot fail.
        let _ = hk.expand_multi_info(&[KDF_INFO, suffix], &mut okm);
        XChaCha20Poly1305::new(&okm.into())
    }
}

/// Why a received frame was refused. None of these changes the unit's state.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("malformed frame: {0}")]
    Decode(#[from] DecodeError),
    #[error("frame of {len} bytes is too short for its {trailer}-byte trailer")]
    Truncated { len: usize, trailer: usize },
    #[error("checksum mismatch")]
    Checksum,
    #[error("unsealed frame received while a failover key is configured")]
    Unsealed,
    #[error("sealed frame received but no failover key is configured")]
    UnexpectedSeal,
    #[error("Failover message decryption failure")]
    Decryption,
    #[error("replayed frame: seq {seq} from boot {boot:#x}")]
    Replay { seq: u64, boot: u64 },
    #[error("frame claims to come from {claimed}, which is this unit's own role")]
    WrongSender { claimed: Role },
}

/// The link a frame travels on, as the session sees it: each has its own
/// sequence numbers, replay window and (with a key) derived key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path<'a> {
    /// The failover link (and the state link when it shares it).
    Failover,
    /// A separate state link.
    State,
    /// A data interface, named as in the configuration.
    Data { context: &'a str, interface: &'a str },
}

impl Path<'_> {
    fn is(self, key: &PathKey) -> bool {
        match (self, key) {
            (Path::Failover, PathKey::Failover) | (Path::State, PathKey::State) => true,
            (Path::Data { context, interface }, PathKey::Data(c, i)) => **c == *context && **i == *interface,
            _ => false,
        }
    }

    fn key(self) -> PathKey {
        match self {
            Path::Failover => PathKey::Failover,
            Path::State => PathKey::State,
            Path::Data { context, interface } => PathKey::Data(context.into(), interface.into()),
        }
    }

    /// What the key derivation's info adds to [`KDF_INFO`] for this path:
    /// nothing for the failover link, so its key is the one derived for the
    /// whole link before paths had keys of their own.
    fn kdf_suffix(self) -> Vec<u8> {
        match self {
            Path::Failover => Vec::new(),
            Path::State => b" state".to_vec(),
            Path::Data { context, interface } => {
                let mut info = b" data ".to_vec();
                info.extend_from_slice(context.as_bytes());
                info.push(0);
                info.extend_from_slice(interface.as_bytes());
                info
            }
        }
    }
}

/// A [`Path`] that a session keeps state for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum PathKey {
    Failover,
    State,
    Data(Box<str>, Box<str>),
}

/// A session's state on one path.
#[derive(Clone)]
struct PathState {
    key: PathKey,
    next_seq: u64,
    cipher: Option<XChaCha20Poly1305>,
    /// Replay state for the peer boot the session last authenticated.
    window: Option<Window>,
}

impl core::fmt::Debug for PathState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PathState")
            .field("key", &self.key)
            .field("next_seq", &self.next_seq)
            .field("window", &self.window)
            .finish()
    }
}

/// Replay state for one peer boot on one path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Window {
    highest: u64,
    /// Bit `i` set: `highest - i` has been seen.
    seen: u64,
}

impl Window {
    fn check_and_mark(&mut self, seq: u64) -> bool {
        if seq > self.highest {
            let shift = seq - self.highest;
            self.seen = if shift >= REPLAY_WINDOW { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.highest = seq;
            return true;
        }
        let back = self.highest - seq;
        if back >= REPLAY_WINDOW || self.seen & (1 << back) != 0 {
            return false;
        }
        self.seen |= 1 << back;
        true
    }
}

/// A frame [`Session::open_lean`] accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// Any frame but an interface hello.
    Frame(Frame),
    /// An interface hello, whose names the caller does not read.
    InterfaceHello { header: Header, status: InterfaceStatus },
}

/// One unit's end of the failover, state and data links.
#[derive(Clone)]
pub struct Session {
    role: Role,
    boot_nonce: u64,
    key: Option<FailoverKey>,
    /// In the order of first use; the failover link's first.
    paths: Vec<PathState>,
    /// The peer boot whose frames the replay windows hold.
    peer_boot: Option<u64>,
    retired: Vec<u64>,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("boot_nonce", &self.boot_nonce)
            .field("keyed", &self.key.is_some())
            .field("paths", &self.paths)
            .field("peer_boot", &self.peer_boot)
            .finish()
    }
}

impl Session {
    /// A session for a unit of `role` that booted with `boot_nonce`.
    pub fn new(role: Role, boot_nonce: u64, key: Option<&FailoverKey>) -> Session {
        let mut session =
            Session { role, boot_nonce, key: key.cloned(), paths: Vec::new(), peer_boot: None, retired: Vec::new() };
        session.path(Path::Failover);
        session
    }

    /// Whether frames are sealed with a key.
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// Feeds the session's protocol state to `h` (role, boot, each path's
    /// next sequence number and replay window, retired boots; whether it is
    /// keyed, not the key), for state fingerprints such as `Unit::state_digest`.
    pub fn hash_state<H: core::hash::Hasher>(&self, h: &mut H) {
        use core::hash::Hash;
        self.role.hash(h);
        self.boot_nonce.hash(h);
        self.key.is_some().hash(h);
        for p in &self.paths {
            p.key.hash(h);
            p.next_seq.hash(h);
            p.window.hash(h);
        }
        self.peer_boot.hash(h);
        self.retired.hash(h);
    }

    /// The index of `path`'s state, created at first use.
    fn path(&mut self, path: Path<'_>) -> usize {
        if let Some(at) = self.paths.iter().position(|p| path.is(&p.key)) {
            return at;
        }
        let cipher = self.key.as_ref().map(|k| k.cipher(&path.kdf_suffix()));
        self.paths.push(PathState { key: path.key(), next_seq: 1, cipher, window: None });
        self.paths.len() - 1
    }

    /// Numbers, encodes and protects one message for the failover link.
    pub fn seal(&mut self, message: Message) -> Vec<u8> {
        self.seal_on(Path::Failover, message)
    }

    /// Numbers, encodes and protects one message for `path`.
    pub fn seal_on(&mut self, path: Path<'_>, message: Message) -> Vec<u8> {
        let at = self.path(path);
        let (seq, flags) = self.number(at);
        let frame = Frame { sender: self.role, flags, seq, boot_nonce: self.boot_nonce, message };
        self.protect(at, seq, wire::encode(&frame))
    }

    /// [`Session::seal_on`] of an interface hello for its own interface,
    /// without building the message (its names are not copied): the same bytes.
    pub fn seal_interface_hello(&mut self, hello: InterfaceHelloRef<'_>) -> Vec<u8> {
        let at = self.path(Path::Data { context: hello.context, interface: hello.interface });
        let (seq, flags) = self.number(at);
        self.protect(at, seq, wire::encode_interface_hello(self.role, flags, seq, self.boot_nonce, hello))
    }

    /// The sequence number and flags of the next frame sent on path `at`.
    fn number(&mut self, at: usize) -> (u64, u8) {
        let seq = self.paths[at].next_seq;
        self.paths[at].next_seq += 1;
        (seq, if self.key.is_some() { FLAG_SEALED } else { 0 })
    }

    /// Adds the checksum to an encoded frame, or seals its payload.
    fn protect(&self, at: usize, seq: u64, mut bytes: Vec<u8>) -> Vec<u8> {
        match &self.paths[at].cipher {
            None => {
                let crc = crc32fast::hash(&bytes);
                bytes.extend_from_slice(&crc.to_be_bytes());
                bytes
            }
            Some(cipher) => {
                let (header, payload) = bytes.split_at(HEADER_LEN);
                let nonce = nonce(self.role, self.boot_nonce, seq);
                // Encryption with a valid key and nonce only fails for inputs
                // beyond 256 GiB; frames are at most 16 KiB.
                let sealed = cipher.encrypt(&nonce, Payload { msg: payload, aad: header }).unwrap_or_default();
                let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
                out.extend_from_slice(header);
                out.extend_from_slice(&sealed);
                out
            }
        }
    }

    /// [`Session::open_on`], except that an interface hello is read in place
    /// and given without its names (no copy of them): the same frames are
    /// accepted, with the same effect on the session, and the same errors
    /// given for the others.
    pub fn open_lean(&mut self, path: Path<'_>, bytes: &[u8]) -> Result<Opened, AuthError> {
        let header = wire::decode_header(bytes)?;
        let sealed = header.flags & FLAG_SEALED != 0;
        if header.kind == wire::Kind::InterfaceHello && sealed && self.key.is_some() && header.sender != self.role {
            // Read in place from the decrypted bytes, as `open_on` reads them.
            return self.open_sealed(path, bytes, &header, |plain| {
                Ok(match wire::decode_lean(plain)? {
                    wire::Lean::InterfaceHello(header, hello) => {
                        Opened::InterfaceHello { header, status: hello.status }
                    }
                    wire::Lean::Frame(frame) => Opened::Frame(frame),
                })
            });
        }
        let plain = self.key.is_none() && !sealed && header.sender != self.role;
        if !plain || header.kind != wire::Kind::InterfaceHello {
            return self.open_on(path, bytes).map(|frame| match frame.message {
                Message::InterfaceHello(h) => Opened::InterfaceHello {
                    header: Header {
                        kind: wire::Kind::InterfaceHello,
                        sender: frame.sender,
                        flags: frame.flags,
                        seq: frame.seq,
                        boot_nonce: frame.boot_nonce,
                        payload_len: header.payload_len,
                    },
                    status: h.status,
                },
                _ => Opened::Frame(frame),
            });
        }
        // What `open` checks of a plain frame.
        let Some((body, crc)) = bytes.split_last_chunk::<CRC_LEN>() else {
            return Err(AuthError::Truncated { len: bytes.len(), trailer: CRC_LEN });
        };
        if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
            return Err(AuthError::Checksum);
        }
        Ok(match wire::decode_lean(body)? {
            wire::Lean::InterfaceHello(header, hello) => Opened::InterfaceHello { header, status: hello.status },
            wire::Lean::Frame(frame) => Opened::Frame(frame),
        })
    }

    /// Checks, decrypts and decodes one frame received on the failover link.
    pub fn open(&mut self, bytes: &[u8]) -> Result<Frame, AuthError> {
        self.open_on(Path::Failover, bytes)
    }

    /// Checks, decrypts and decodes one frame received on `path`.
    pub fn open_on(&mut self, path: Path<'_>, bytes: &[u8]) -> Result<Frame, AuthError> {
        let header = wire::decode_header(bytes)?;
        if header.sender == self.role {
            return Err(AuthError::WrongSender { claimed: header.sender });
        }
        let sealed = header.flags & FLAG_SEALED != 0;
        match (self.key.is_some(), sealed) {
            (false, true) => Err(AuthError::UnexpectedSeal),
            (true, false) => Err(AuthError::Unsealed),
            (false, false) => {
                let Some((body, crc)) = bytes.split_last_chunk::<CRC_LEN>() else {
                    return Err(AuthError::Truncated { len: bytes.len(), trailer: CRC_LEN });
                };
                if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
                    return Err(AuthError::Checksum);
                }
                Ok(wire::decode(body)?)
            }
            (true, true) => self.open_sealed(path, bytes, &header, wire::decode),
        }
    }

    /// The checks, decryption and replay window of a sealed frame (the
    /// session is keyed), around `read`, which decodes the decrypted frame.
    fn open_sealed<T>(
        &mut self,
        path: Path<'_>,
        bytes: &[u8],
        header: &Header,
        read: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, AuthError> {
        let Some((head, sealed)) = bytes.split_at_checked(HEADER_LEN).filter(|(_, s)| s.len() >= TAG_LEN) else {
            return Err(AuthError::Truncated { len: bytes.len(), trailer: TAG_LEN });
        };
        if bytes.len() > wire::FRAME_LEN_MAX + TAG_LEN {
            return Err(DecodeError::FrameTooLong { len: bytes.len() }.into());
        }
        if self.retired.contains(&header.boot_nonce) {
            return Err(AuthError::Replay { seq: header.seq, boot: header.boot_nonce });
        }
        // A path first heard from gets its state only once a frame on
        // it is accepted: a refused frame changes nothing.
        let at = self.paths.iter().position(|p| path.is(&p.key));
        let derived;
        let cipher = match at.map(|at| &self.paths[at].cipher) {
            Some(Some(cipher)) => cipher,
            _ => match &self.key {
                Some(key) => {
                    derived = key.cipher(&path.kdf_suffix());
                    &derived
                }
                None => return Err(AuthError::UnexpectedSeal),
            },
        };
        let nonce = nonce(header.sender, header.boot_nonce, header.seq);
        let payload = cipher.decrypt(&nonce, Payload { msg: sealed, aad: head }).map_err(|_| AuthError::Decryption)?;
        let mut plain = Vec::with_capacity(HEADER_LEN + payload.len());
        plain.extend_from_slice(head);
        plain.extend_from_slice(&payload);
        let frame = read(&plain)?;
        let at = at.unwrap_or_else(|| self.path(path));
        self.check_replay(at, header.boot_nonce, header.seq)?;
        Ok(frame)
    }

    /// Only authenticated frames reach this point, so a new boot nonce is a
    /// real reboot of the peer: the old boot retires for good, on every path.
    fn check_replay(&mut self, at: usize, boot: u64, seq: u64) -> Result<(), AuthError> {
        if self.peer_boot != Some(boot) {
            if let Some(old) = self.peer_boot.replace(boot) {
                if self.retired.len() == RETIRED_BOOTS_MAX {
                    self.retired.remove(0);
                }
                self.retired.push(old);
            }
            for p in &mut self.paths {
                p.window = None;
            }
        }
        let window = self.paths[at].window.get_or_insert(Window { highest: 0, seen: 0 });
        if window.check_and_mark(seq) { Ok(()) } else { Err(AuthError::Replay { seq, boot }) }
    }
}

fn nonce(role: Role, boot: u64, seq: u64) -> XNonce {
    let mut n = [0u8; 24];
    let fields = core::iter::once(role.code()).chain(boot.to_be_bytes()).chain(seq.to_be_bytes());
    for (byte, value) in n.iter_mut().zip(fields) {
        *byte = value;
    }
    XNonce::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::LanTest;

    /// An interface hello sealed without building the message is the same
    /// frame, and `open_lean` reads it as `open` does, keyed or not.
    #[test]
    fn interface_hello_sealed_and_opened_lean_as_in_full() {
        use crate::types::InterfaceStatus;
        use crate::wire::InterfaceHello;
        let key = FailoverKey::secret("s3cret").unwrap();
        for key in [None, Some(&key)] {
            let (mut a, mut b) = (Session::new(Role::Primary, 1, key), Session::new(Role::Primary, 1, key));
            let hello =
                InterfaceHello { context: "ctx2".into(), interface: "inside".into(), status: InterfaceStatus::Testing };
            let path = Path::Data { context: "ctx2", interface: "inside" };
            let full = a.seal_on(path, Message::InterfaceHello(hello.clone()));
            let lean = b.seal_interface_hello(InterfaceHelloRef {
                context: &hello.context,
                interface: &hello.interface,
                status: hello.status,
            });
            assert_eq!(full, lean, "keyed {}", key.is_some());
            let mut receiver = Session::new(Role::Secondary, 2, key);
            let Ok(Opened::InterfaceHello { header, status }) = receiver.open_lean(path, &lean) else {
                panic!("refused")
            };
            assert_eq!((header.seq, header.boot_nonce, status), (1, 1, InterfaceStatus::Testing));
            let mut corrupt = lean.clone();
            corrupt[HEADER_LEN + 3] ^= 1;
            let mut other = Session::new(Role::Secondary, 2, key);
            assert_eq!(other.clone().open_lean(path, &corrupt).err(), other.open_on(path, &corrupt).err());
        }
    }

    #[test]
    fn sealed_frame_opens_with_the_same_key_only() {
        let key = FailoverKey::secret("s3cret").unwrap();
        let mut a = Session::new(Role::Primary, 1, Some(&key));
        let mut b = Session::new(Role::Secondary, 2, Some(&key));
        let other = FailoverKey::secret("other").unwrap();
        let mut c = Session::new(Role::Secondary, 3, Some(&other));
        let bytes = a.seal(Message::LanTest(LanTest { nonce: 9 }));
        assert_eq!(c.open(&bytes), Err(AuthError::Decryption));
        assert_eq!(b.open(&bytes).unwrap().message, Message::LanTest(LanTest { nonce: 9 }));
        assert_eq!(b.open(&bytes), Err(AuthError::Replay { seq: 1, boot: 1 }));
    }
}
