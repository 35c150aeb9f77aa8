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

use core::fmt;

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

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $code:expr => $text:expr),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name { $($(#[$vm])* $var = $code),+ }
        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The one-byte wire code.
            pub const fn code(self) -> u8 { self as u8 }
            /// The value for a wire code, if there is one.
            pub const fn from_code(code: u8) -> Option<$name> {
                match code { $($code => Some($name::$var),)+ _ => None }
            }
            /// The name the appliance prints.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$var => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

code_enum!(
    /// A unit's failover role (`failover lan unit primary|secondary`).
    Role {
        Primary = 1 => "Primary",
        Secondary = 2 => "Secondary",
    }
);

impl Role {
    /// The other unit's role.
    pub const fn peer(self) -> Role {
        match self {
            Role::Primary => Role::Secondary,
            Role::Secondary => Role::Primary,
        }
    }
    /// Lower-case name, as used in configuration and scenario files.
    pub const fn as_lower(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Secondary => "secondary",
        }
    }
}

code_enum!(
    /// A failover group: there are exactly two.
    Group {
        One = 1 => "1",
        Two = 2 => "2",
    }
);

impl Group {
    /// Index into per-group arrays.
    pub const fn index(self) -> usize {
        self as usize - 1
    }
    /// The group stored at `index` of a per-group array.
    pub const fn from_index(index: usize) -> Group {
        match index {
            0 => Group::One,
            _ => Group::Two,
        }
    }
}

code_enum!(
    /// The state of one failover group on one unit, with the appliance's names.
    GroupState {
        Disabled = 1 => "Disabled",
        Negotiation = 2 => "Negotiation",
        JustActive = 3 => "Just Active",
        ActiveDrain = 4 => "Active Drain",
        ActiveApplyingConfig = 5 => "Active Applying Config",
        ActiveConfigApplied = 6 => "Active Config Applied",
        Active = 7 => "Active",
        ColdStandby = 8 => "Cold Standby",
        SyncConfig = 9 => "Sync Config",
        SyncFileSystem = 10 => "Sync File System",
        BulkSync = 11 => "Bulk Sync",
        StandbyReady = 12 => "Standby Ready",
        Failed = 13 => "Failed",
    }
);

impl GroupState {
    /// From Just Active to Active: the group passes traffic on this unit.
    pub const fn is_active(self) -> bool {
        matches!(
            self,
            GroupState::JustActive
                | GroupState::ActiveDrain
                | GroupState::ActiveApplyingConfig
                | GroupState::ActiveConfigApplied
                | GroupState::Active
        )
    }
    /// On the standby path (Cold Standby to Standby Ready).
    pub const fn is_standby(self) -> bool {
        matches!(
            self,
            GroupState::ColdStandby
                | GroupState::SyncConfig
                | GroupState::SyncFileSystem
                | GroupState::BulkSync
                | GroupState::StandbyReady
        )
    }
    /// Parses the appliance's name (as printed by `show failover`), ignoring case.
    pub fn parse(name: &str) -> Option<GroupState> {
        GroupState::ALL.iter().copied().find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

code_enum!(
    /// The status of a monitored interface (`show failover interface`).
    InterfaceStatus {
        Normal = 1 => "Normal",
        Testing = 2 => "Testing",
        LinkDown = 3 => "Link Down",
        NoLink = 4 => "No Link",
        Failed = 5 => "Failed",
        Unknown = 6 => "Unknown",
    }
);

impl InterfaceStatus {
    /// Counts against the interface policy.
    pub const fn is_failed(self) -> bool {
        matches!(self, InterfaceStatus::Failed | InterfaceStatus::LinkDown | InterfaceStatus::NoLink)
    }
}

code_enum!(
    /// What a role request asks of the receiving unit for one group.
    RoleRequestKind {
        /// The sender wants to become active: the receiver goes standby.
        WantMeActive = 1 => "WantMeActive",
        /// The sender wants the receiver to go standby (the sender takes the group).
        WantYouStandby = 2 => "WantYouStandby",
        /// The sender has given the group up (it is not active for it): the receiver takes it.
        WantYouActive = 3 => "WantYouActive",
        /// The sender sees the group active nowhere and wants it: the receiver
        /// hands it over, unless it is active for it (the sender's view is stale).
        WantVacant = 4 => "WantVacant",
    }
);

code_enum!(
    /// Add, update or remove one replicated object.
    StateOp {
        Add = 1 => "add",
        Update = 2 => "update",
        Remove = 3 => "remove",
    }
);

code_enum!(
    /// Protocol of a replicated connection.
    ConnProtocol {
        Tcp = 1 => "TCP",
        Udp = 2 => "UDP",
        Http = 3 => "HTTP",
    }
);

/// The kind byte of a frame. Control kinds (`0x20` and up) travel through the
/// reliable channel and carry its sequence number first in their payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Kind {
    UnitHello = 0x01,
    LanTest = 0x02,
    LanTestReply = 0x03,
    InterfaceHello = 0x04,
    Ack = 0x10,
    RoleRequest = 0x20,
    ConfigSyncBegin = 0x21,
    ConfigSyncChunk = 0x22,
    ConfigSyncEnd = 0x23,
    CommandReplication = 0x24,
    WriteMemory = 0x25,
    WriteStandby = 0x26,
    StateUpdate = 0x27,
    BulkSyncBegin = 0x28,
    BulkSyncEnd = 0x29,
    Pairing = 0x2A,
}

impl Kind {
    /// Every kind, in code order.
    pub const ALL: &'static [Kind] = &[
        Kind::UnitHello,
        Kind::LanTest,
        Kind::LanTestReply,
        Kind::InterfaceHello,
        Kind::Ack,
        Kind::RoleRequest,
        Kind::ConfigSyncBegin,
        Kind::ConfigSyncChunk,
        Kind::ConfigSyncEnd,
        Kind::CommandReplication,
        Kind::WriteMemory,
        Kind::WriteStandby,
        Kind::StateUpdate,
        Kind::BulkSyncBegin,
        Kind::BulkSyncEnd,
        Kind::Pairing,
    ];

    /// The wire code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The kind for a wire code, if there is one.
    pub fn from_code(code: u8) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.code() == code)
    }

    /// Travels through the reliable channel.
    pub const fn is_control(self) -> bool {
        self as u8 >= 0x20
    }

    /// Short kebab-case name, used by traces and by `drop` faults in scenario files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::UnitHello => "hello",
            Kind::LanTest => "lan-test",
            Kind::LanTestReply => "lan-test-reply",
            Kind::InterfaceHello => "interface-hello",
            Kind::Ack => "ack",
            Kind::RoleRequest => "role-request",
            Kind::ConfigSyncBegin => "config-sync-begin",
            Kind::ConfigSyncChunk => "config-sync-chunk",
            Kind::ConfigSyncEnd => "config-sync-end",
            Kind::CommandReplication => "command-replication",
            Kind::WriteMemory => "write-memory",
            Kind::WriteStandby => "write-standby",
            Kind::StateUpdate => "state-update",
            Kind::BulkSyncBegin => "bulk-sync-begin",
            Kind::BulkSyncEnd => "bulk-sync-end",
            Kind::Pairing => "pairing",
        }
    }

    /// Parses a name produced by [`Kind::as_str`].
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A software version `major.minor(patch)`, e.g. `7.2(4)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SoftwareVersion {
    pub major: u8,
    pub minor: u8,
    pub patch: u16,
}

impl SoftwareVersion {
    /// Parses `major.minor(patch)`.
    pub fn parse(text: &str) -> Option<SoftwareVersion> {
        let (major, rest) = text.trim().split_once('.')?;
        let (minor, rest) = rest.split_once('(')?;
        let patch = rest.strip_suffix(')')?;
        Some(SoftwareVersion { major: major.parse().ok()?, minor: minor.parse().ok()?, patch: patch.parse().ok()? })
    }
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}({})", self.major, self.minor, self.patch)
    }
}

/// Where a configuration command applies: the system space or one context.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Space {
    System,
    Context(String),
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Space::System => f.write_str("system"),
            Space::Context(name) => f.write_str(name),
        }
    }
}

/// One group's part of a hello: its state and interface health on the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct GroupHealth {
    pub state: GroupState,
    /// Monitored interfaces of this group on the sender.
    pub monitored: u16,
    /// Of those, how many are failed on the sender.
    pub failed: u16,
}

/// One monitored interface's status on the sender of a hello.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InterfaceHealth {
    /// Index of the interface in the sender's interface list (`IfaceId`).
    pub iface: u16,
    pub status: InterfaceStatus,
}

/// The unit hello, sent on the failover link every unit polltime.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct UnitHello {
    /// `failover` is configured on the sender.
    pub failover_on: bool,
    pub version: SoftwareVersion,
    /// Group 1 then group 2.
    pub groups: [GroupHealth; 2],
    /// The sender's status of each of its monitored interfaces (at most
    /// [`HELLO_INTERFACES_MAX`]), so that the receiver can tell an interface
    /// failed on both units (Unknown) from one failed on one side only.
    pub interfaces: Vec<InterfaceHealth>,
}

/// A LAN test or its reply; the reply echoes the nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct LanTest {
    pub nonce: u32,
}

/// An interface hello, sent on each monitored data interface every interface polltime.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InterfaceHello {
    pub context: String,
    pub interface: String,
    /// The sender's view of this interface.
    pub status: InterfaceStatus,
}

/// An interface hello whose names borrow another's storage: one to encode
/// without copying the names into a [`Message`] ([`encode_interface_hello`]),
/// or one read in place from a frame ([`decode_lean`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceHelloRef<'a> {
    pub context: &'a str,
    pub interface: &'a str,
    pub status: InterfaceStatus,
}

impl InterfaceHelloRef<'_> {
    /// The owned message.
    pub fn to_owned(&self) -> InterfaceHello {
        InterfaceHello { context: self.context.to_owned(), interface: self.interface.to_owned(), status: self.status }
    }
}

/// Acknowledges the reliable channel stream of the receiving unit's boot `stream_boot`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ack {
    /// Boot nonce of the unit whose stream this acknowledges.
    pub stream_boot: u64,
    /// Every control message up to and including this sequence number has arrived.
    pub cumulative: u64,
}

/// One line of configuration, with the space it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ConfigLine {
    pub space: Space,
    pub line: String,
}

/// One replicated stateful object.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum StateObject {
    Connection { context: String, id: u64, protocol: ConnProtocol, state: u8 },
    Xlate { context: String, id: u64, real: u32, mapped: u32 },
    Arp { context: String, ip: u32, mac: [u8; 6] },
    Bridge { context: String, mac: [u8; 6], interface: String },
    Sa { context: String, spi: u32, peer: u32 },
    GtpPdp { context: String, teid: u32, imsi: u64 },
}

/// Most kinds of physical interface a [`Pairing`] lists.
pub const PAIRING_INTERFACE_TYPES_MAX: usize = 16;

/// One kind of physical interface and how many of them a unit has.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InterfaceCount {
    pub hardware: String,
    pub count: u16,
}

/// What a unit tells its mate so that both can check they may pair
/// (PROTOCOL.md section 9; `license::PairingInfo` is its checked form).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Pairing {
    pub model: String,
    pub ram_mb: u32,
    pub flash_bytes: u64,
    /// At most [`PAIRING_INTERFACE_TYPES_MAX`] entries.
    pub interfaces: Vec<InterfaceCount>,
    /// Bit 0: transparent firewall; bit 1: multiple context mode; bit 2: Active/Active.
    pub modes: u8,
    pub version: SoftwareVersion,
    /// The license kind's code (`license::LicenseKind`).
    pub license: u8,
    pub contexts: u16,
    pub vpn_peers: u16,
    /// Bit 0: DHCP, bit 1: PPPoE, bit 2: IPv6 on a failover interface.
    pub addressing: u8,
}

/// The body of a control message (delivered exactly once, in order, by the channel).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Control {
    RoleRequest {
        group: Group,
        request: RoleRequestKind,
    },
    ConfigSyncBegin {
        sync_id: u32,
        scope: Space,
        lines: u32,
    },
    ConfigSyncChunk {
        sync_id: u32,
        index: u32,
        lines: Vec<ConfigLine>,
    },
    ConfigSyncEnd {
        sync_id: u32,
        lines: u32,
        digest: u32,
    },
    CommandReplication {
        space: Space,
        line: String,
        command_seq: u64,
    },
    WriteMemory {
        space: Space,
        all: bool,
    },
    WriteStandby {
        space: Space,
    },
    StateUpdate {
        op: StateOp,
        object: StateObject,
    },
    BulkSyncBegin {
        sync_id: u32,
    },
    BulkSyncEnd {
        sync_id: u32,
        objects: u32,
    },
    /// Sent to every new boot of the mate; the receiver checks it may pair.
    Pairing(Pairing),
}

impl Control {
    /// The frame kind that carries this body.
    pub const fn kind(&self) -> Kind {
        match self {
            Control::RoleRequest { .. } => Kind::RoleRequest,
            Control::ConfigSyncBegin { .. } => Kind::ConfigSyncBegin,
            Control::ConfigSyncChunk { .. } => Kind::ConfigSyncChunk,
            Control::ConfigSyncEnd { .. } => Kind::ConfigSyncEnd,
            Control::CommandReplication { .. } => Kind::CommandReplication,
            Control::WriteMemory { .. } => Kind::WriteMemory,
            Control::WriteStandby { .. } => Kind::WriteStandby,
            Control::StateUpdate { .. } => Kind::StateUpdate,
            Control::BulkSyncBegin { .. } => Kind::BulkSyncBegin,
            Control::BulkSyncEnd { .. } => Kind::BulkSyncEnd,
            Control::Pairing(_) => Kind::Pairing,
        }
    }
}

/// Every message of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Message {
    UnitHello(UnitHello),
    LanTest(LanTest),
    LanTestReply(LanTest),
    InterfaceHello(InterfaceHello),
    Ack(Ack),
    /// A control message with its reliable-channel sequence number.
    Control {
        channel_seq: u64,
        body: Control,
    },
}

impl Message {
    /// The frame kind that carries this message.
    pub const fn kind(&self) -> Kind {
        match self {
            Message::UnitHello(_) => Kind::UnitHello,
            Message::LanTest(_) => Kind::LanTest,
            Message::LanTestReply(_) => Kind::LanTestReply,
            Message::InterfaceHello(_) => Kind::InterfaceHello,
            Message::Ack(_) => Kind::Ack,
            Message::Control { body, .. } => body.kind(),
        }
    }
}

/// The header fields of a frame other than those derived from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Header {
    pub kind: Kind,
    pub sender: Role,
    pub flags: u8,
    pub seq: u64,
    pub boot_nonce: u64,
    pub payload_len: u32,
}

/// A decoded frame: who sent it, its sequence number and boot, and the message.
///
/// With the `arbitrary` feature, arbitrary frames carry only defined flags
/// (none or [`FLAG_SEALED`]): undefined flags never encode to an accepted
/// frame, so drawing them would only waste the fuzzer's inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub sender: Role,
    /// Header flags (only [`FLAG_SEALED`] is defined).
    pub flags: u8,
    pub seq: u64,
    pub boot_nonce: u64,
    pub message: Message,
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Frame {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Frame> {
        Ok(Frame {
            sender: u.arbitrary()?,
            flags: if u.arbitrary()? { FLAG_SEALED } else { 0 },
            seq: u.arbitrary()?,
            boot_nonce: u.arbitrary()?,
            message: u.arbitrary()?,
        })
    }

    fn arbitrary_take_rest(mut u: arbitrary::Unstructured<'a>) -> arbitrary::Result<Frame> {
        Ok(Frame {
            sender: u.arbitrary()?,
            flags: if u.arbitrary()? { FLAG_SEALED } else { 0 },
            seq: u.arbitrary()?,
            boot_nonce: u.arbitrary()?,
            message: Message::arbitrary_take_rest(u)?,
        })
    }
}

/// Reads only the header of a frame (the fabric uses it to drop by kind).
pub fn decode_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::ShortHeader { len: bytes.len() });
    }
    let mut r = Reader::new(bytes);
    let magic = r.u16("magic")?;
    if magic != MAGIC {
        return Err(DecodeError::BadMagic { found: magic });
    }
    let version = r.u8("version")?;
    if version != WIRE_VERSION {
        return Err(DecodeError::BadVersion { found: version });
    }
    let kind_code = r.u8("kind")?;
    let kind = Kind::from_code(kind_code).ok_or(DecodeError::UnknownKind { kind: kind_code })?;
    let sender = r.code("sender role", Role::from_code)?;
    let flags = r.u8("flags")?;
    if flags & !FLAG_SEALED != 0 {
        return Err(DecodeError::BadFlags { flags });
    }
    let seq = r.u64("seq")?;
    let boot_nonce = r.u64("boot nonce")?;
    let payload_len = r.u32("payload length")?;
    Ok(Header { kind, sender, flags, seq, boot_nonce, payload_len })
}

/// Decodes one plaintext frame. Never panics; allocates at most in proportion to `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
    let (header, message) = decode_with(bytes, decode_payload)?;
    Ok(Frame { sender: header.sender, flags: header.flags, seq: header.seq, boot_nonce: header.boot_nonce, message })
}

/// A frame decoded by [`decode_lean`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lean<'a> {
    /// Any frame but an interface hello.
    Frame(Frame),
    /// An interface hello, its names borrowing the frame's bytes.
    InterfaceHello(Header, InterfaceHelloRef<'a>),
}

/// [`decode`], except that an interface hello is read in place (its names
/// are not copied): the same frames are accepted, with the same content, and
/// the same errors given for the others. The most frequent frame of a
/// simulation, received for its arrival only.
pub fn decode_lean(bytes: &[u8]) -> Result<Lean<'_>, DecodeError> {
    let (header, lean) = decode_with(bytes, |kind, r| match kind {
        Kind::InterfaceHello => interface_hello_payload(r).map(Err),
        kind => decode_payload(kind, r).map(Ok),
    })?;
    Ok(match lean {
        Ok(message) => Lean::Frame(Frame {
            sender: header.sender,
            flags: header.flags,
            seq: header.seq,
            boot_nonce: header.boot_nonce,
            message,
        }),
        Err(hello) => Lean::InterfaceHello(header, hello),
    })
}

/// The checks of a whole frame around its payload, which `payload` reads.
fn decode_with<'a, T>(
    bytes: &'a [u8],
    payload: impl FnOnce(Kind, &mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<(Header, T), DecodeError> {
    if bytes.len() > FRAME_LEN_MAX {
        return Err(DecodeError::FrameTooLong { len: bytes.len() });
    }
    let header = decode_header(bytes)?;
    let actual = bytes.len().saturating_sub(HEADER_LEN);
    if header.payload_len as usize != actual {
        return Err(DecodeError::LengthMismatch { declared: header.payload_len, actual });
    }
    let mut r = Reader { bytes, pos: HEADER_LEN };
    let content = payload(header.kind, &mut r)?;
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: r.pos, count: r.remaining() });
    }
    Ok((header, content))
}

fn interface_hello_payload<'a>(r: &mut Reader<'a>) -> Result<InterfaceHelloRef<'a>, DecodeError> {
    Ok(InterfaceHelloRef {
        context: r.text_ref("context name")?,
        interface: r.text_ref("interface name")?,
        status: r.code("interface status", InterfaceStatus::from_code)?,
    })
}

/// Encodes a frame. Callers keep text and lists within the limits of this
/// module (see [`Frame::fits`]); the unit validates what it accepts.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let kind = frame.message.kind();
    encode_with(kind, frame.sender, frame.flags, frame.seq, frame.boot_nonce, |w| encode_payload(&frame.message, w))
}

/// The bytes [`encode`] gives for an interface hello frame with these fields,
/// without building the message (no copy of the names).
pub fn encode_interface_hello(
    sender: Role,
    flags: u8,
    seq: u64,
    boot_nonce: u64,
    hello: InterfaceHelloRef<'_>,
) -> Vec<u8> {
    encode_with(Kind::InterfaceHello, sender, flags, seq, boot_nonce, |w| encode_interface_hello_payload(hello, w))
}

/// A header with these fields, the payload `payload` writes, and its length
/// patched into the header. The buffer has room for a trailer (a checksum or a tag).
fn encode_with(
    kind: Kind,
    sender: Role,
    flags: u8,
    seq: u64,
    boot_nonce: u64,
    payload: impl FnOnce(&mut Writer),
) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(80));
    w.u16(MAGIC);
    w.u8(WIRE_VERSION);
    w.u8(kind.code());
    w.u8(sender.code());
    w.u8(flags);
    w.u64(seq);
    w.u64(boot_nonce);
    w.u32(0); // payload length, patched below
    payload(&mut w);
    let payload_len = u32::try_from(w.0.len().saturating_sub(HEADER_LEN)).unwrap_or(u32::MAX);
    if let Some(field) = w.0.get_mut(PAYLOAD_LEN_OFFSET..HEADER_LEN) {
        field.copy_from_slice(&payload_len.to_be_bytes());
    }
    w.0
}

fn encode_interface_hello_payload(h: InterfaceHelloRef<'_>, w: &mut Writer) {
    w.text(h.context);
    w.text(h.interface);
    w.u8(h.status.code());
}

impl Frame {
    /// Whether this frame respects the wire limits: only defined flags, no
    /// text longer than [`TEXT_LEN_MAX`], no chunk of more than
    /// [`CHUNK_LINES_MAX`] lines, at most [`FRAME_LEN_MAX`] bytes encoded.
    ///
    /// The limits are checked one by one, not by decoding, so that the
    /// property "every frame that fits round-trips, `decode(&encode(f)) ==
    /// Ok(f)`" is something the tests and the fuzzers can check rather than
    /// a definition.
    pub fn fits(&self) -> bool {
        self.flags & !FLAG_SEALED == 0 && self.message.fits() && encode(self).len() <= FRAME_LEN_MAX
    }
}

impl Message {
    /// Every text and list of the message is within its limit (see [`Frame::fits`]).
    fn fits(&self) -> bool {
        let text = |s: &str| s.len() <= TEXT_LEN_MAX;
        let space = |s: &Space| match s {
            Space::System => true,
            Space::Context(name) => text(name),
        };
        match self {
            Message::UnitHello(h) => h.interfaces.len() <= HELLO_INTERFACES_MAX,
            Message::LanTest(_) | Message::LanTestReply(_) | Message::Ack(_) => true,
            Message::InterfaceHello(h) => text(&h.context) && text(&h.interface),
            Message::Control { body, .. } => match body {
                Control::RoleRequest { .. }
                | Control::ConfigSyncEnd { .. }
                | Control::BulkSyncBegin { .. }
                | Control::BulkSyncEnd { .. } => true,
                Control::ConfigSyncBegin { scope, .. } => space(scope),
                Control::Pairing(p) => {
                    text(&p.model)
                        && p.interfaces.len() <= PAIRING_INTERFACE_TYPES_MAX
                        && p.interfaces.iter().all(|i| text(&i.hardware))
                }
                Control::ConfigSyncChunk { lines, .. } => {
                    lines.len() <= CHUNK_LINES_MAX && lines.iter().all(|l| space(&l.space) && text(&l.line))
                }
                Control::CommandReplication { space: s, line, .. } => space(s) && text(line),
                Control::WriteMemory { space: s, .. } | Control::WriteStandby { space: s } => space(s),
                Control::StateUpdate { object, .. } => match object {
                    StateObject::Bridge { context, interface, .. } => text(context) && text(interface),
                    StateObject::Connection { context, .. }
                    | StateObject::Xlate { context, .. }
                    | StateObject::Arp { context, .. }
                    | StateObject::Sa { context, .. }
                    | StateObject::GtpPdp { context, .. } => text(context),
                },
            },
        }
    }
}

fn encode_payload(message: &Message, w: &mut Writer) {
    match message {
        Message::UnitHello(h) => {
            w.bool(h.failover_on);
            w.u8(h.version.major);
            w.u8(h.version.minor);
            w.u16(h.version.patch);
            for g in &h.groups {
                w.u8(g.state.code());
                w.u16(g.monitored);
                w.u16(g.failed);
            }
            w.u16(h.interfaces.len() as u16);
            for i in &h.interfaces {
                w.u16(i.iface);
                w.u8(i.status.code());
            }
        }
        Message::LanTest(t) | Message::LanTestReply(t) => w.u32(t.nonce),
        Message::InterfaceHello(h) => encode_interface_hello_payload(
            InterfaceHelloRef { context: &h.context, interface: &h.interface, status: h.status },
            w,
        ),
        Message::Ack(a) => {
            w.u64(a.stream_boot);
            w.u64(a.cumulative);
        }
        Message::Control { channel_seq, body } => {
            w.u64(*channel_seq);
            encode_control(body, w);
        }
    }
}

fn encode_control(body: &Control, w: &mut Writer) {
    match body {
        Control::RoleRequest { group, request } => {
            w.u8(group.code());
            w.u8(request.code());
        }
        Control::ConfigSyncBegin { sync_id, scope, lines } => {
            w.u32(*sync_id);
            w.space(scope);
            w.u32(*lines);
        }
        Control::ConfigSyncChunk { sync_id, index, lines } => {
            w.u32(*sync_id);
            w.u32(*index);
            w.u16(u16::try_from(lines.len()).unwrap_or(u16::MAX));
            for l in lines {
                w.space(&l.space);
                w.text(&l.line);
            }
        }
        Control::ConfigSyncEnd { sync_id, lines, digest } => {
            w.u32(*sync_id);
            w.u32(*lines);
            w.u32(*digest);
        }
        Control::CommandReplication { space, line, command_seq } => {
            w.space(space);
            w.text(line);
            w.u64(*command_seq);
        }
        Control::WriteMemory { space, all } => {
            w.space(space);
            w.bool(*all);
        }
        Control::WriteStandby { space } => w.space(space),
        Control::StateUpdate { op, object } => {
            w.u8(op.code());
            encode_state_object(object, w);
        }
        Control::BulkSyncBegin { sync_id } => w.u32(*sync_id),
        Control::BulkSyncEnd { sync_id, objects } => {
            w.u32(*sync_id);
            w.u32(*objects);
        }
        Control::Pairing(p) => {
            w.text(&p.model);
            w.u32(p.ram_mb);
            w.u64(p.flash_bytes);
            w.u16(u16::try_from(p.interfaces.len()).unwrap_or(u16::MAX));
            for i in &p.interfaces {
                w.text(&i.hardware);
                w.u16(i.count);
            }
            w.u8(p.modes);
            w.u8(p.version.major);
            w.u8(p.version.minor);
            w.u16(p.version.patch);
            w.u8(p.license);
            w.u16(p.contexts);
            w.u16(p.vpn_peers);
            w.u8(p.addressing);
        }
    }
}

const OBJ_CONNECTION: u8 = 1;
const OBJ_XLATE: u8 = 2;
const OBJ_ARP: u8 = 3;
const OBJ_BRIDGE: u8 = 4;
const OBJ_SA: u8 = 5;
const OBJ_GTP_PDP: u8 = 6;

fn encode_state_object(object: &StateObject, w: &mut Writer) {
    match object {
        StateObject::Connection { context, id, protocol, state } => {
            w.u8(OBJ_CONNECTION);
            w.text(context);
            w.u64(*id);
            w.u8(protocol.code());
            w.u8(*state);
        }
        StateObject::Xlate { context, id, real, mapped } => {
            w.u8(OBJ_XLATE);
            w.text(context);
            w.u64(*id);
            w.u32(*real);
            w.u32(*mapped);
        }
        StateObject::Arp { context, ip, mac } => {
            w.u8(OBJ_ARP);
            w.text(context);
            w.u32(*ip);
            w.0.extend_from_slice(mac);
        }
        StateObject::Bridge { context, mac, interface } => {
            w.u8(OBJ_BRIDGE);
            w.text(context);
            w.0.extend_from_slice(mac);
            w.text(interface);
        }
        StateObject::Sa { context, spi, peer } => {
            w.u8(OBJ_SA);
            w.text(context);
            w.u32(*spi);
            w.u32(*peer);
        }
        StateObject::GtpPdp { context, teid, imsi } => {
            w.u8(OBJ_GTP_PDP);
            w.text(context);
            w.u32(*teid);
            w.u64(*imsi);
        }
    }
}

fn decode_payload(kind: Kind, r: &mut Reader) -> Result<Message, DecodeError> {
    Ok(match kind {
        Kind::UnitHello => {
            let failover_on = r.bool("failover-on flag")?;
            let version = SoftwareVersion {
                major: r.u8("version major")?,
                minor: r.u8("version minor")?,
                patch: r.u16("version patch")?,
            };
            let mut groups = [GroupHealth { state: GroupState::Disabled, monitored: 0, failed: 0 }; 2];
            for g in &mut groups {
                g.state = r.code("group state", GroupState::from_code)?;
                g.monitored = r.u16("monitored interfaces")?;
                g.failed = r.u16("failed interfaces")?;
            }
            let at = r.pos;
            let count = r.u16("interface count")? as usize;
            if count > HELLO_INTERFACES_MAX {
                return Err(DecodeError::TooMany {
                    offset: at,
                    field: "hello interfaces",
                    count,
                    max: HELLO_INTERFACES_MAX,
                });
            }
            let mut interfaces = Vec::with_capacity(count);
            for _ in 0..count {
                interfaces.push(InterfaceHealth {
                    iface: r.u16("interface index")?,
                    status: r.code("interface status", InterfaceStatus::from_code)?,
                });
            }
            Message::UnitHello(UnitHello { failover_on, version, groups, interfaces })
        }
        Kind::LanTest => Message::LanTest(LanTest { nonce: r.u32("nonce")? }),
        Kind::LanTestReply => Message::LanTestReply(LanTest { nonce: r.u32("nonce")? }),
        Kind::InterfaceHello => Message::InterfaceHello(interface_hello_payload(r)?.to_owned()),
        Kind::Ack => Message::Ack(Ack { stream_boot: r.u64("stream boot")?, cumulative: r.u64("cumulative ack")? }),
        // Control kinds: the reliable channel's sequence number, then the body.
        Kind::RoleRequest => control(r, |r| {
            Ok(Control::RoleRequest {
                group: r.code("group", Group::from_code)?,
                request: r.code("role request", RoleRequestKind::from_code)?,
            })
        })?,
        Kind::ConfigSyncBegin => control(r, |r| {
            Ok(Control::ConfigSyncBegin { sync_id: r.u32("sync id")?, scope: r.space()?, lines: r.u32("line count")? })
        })?,
        Kind::ConfigSyncChunk => control(r, |r| {
            let sync_id = r.u32("sync id")?;
            let index = r.u32("chunk index")?;
            let at = r.pos;
            let count = r.u16("line count")? as usize;
            if count > CHUNK_LINES_MAX {
                return Err(DecodeError::TooMany { offset: at, field: "config lines", count, max: CHUNK_LINES_MAX });
            }
            // Reserve no more lines than the remaining bytes can hold, so a
            // short frame cannot make the decoder allocate for 64 lines.
            let mut lines = Vec::with_capacity(count.min(r.remaining() / CONFIG_LINE_LEN_MIN));
            for _ in 0..count {
                lines.push(ConfigLine { space: r.space()?, line: r.text("config line")? });
            }
            Ok(Control::ConfigSyncChunk { sync_id, index, lines })
        })?,
        Kind::ConfigSyncEnd => control(r, |r| {
            Ok(Control::ConfigSyncEnd {
                sync_id: r.u32("sync id")?,
                lines: r.u32("line count")?,
                digest: r.u32("digest")?,
            })
        })?,
        Kind::CommandReplication => control(r, |r| {
            Ok(Control::CommandReplication {
                space: r.space()?,
                line: r.text("command line")?,
                command_seq: r.u64("command seq")?,
            })
        })?,
        Kind::WriteMemory => control(r, |r| Ok(Control::WriteMemory { space: r.space()?, all: r.bool("all flag")? }))?,
        Kind::WriteStandby => control(r, |r| Ok(Control::WriteStandby { space: r.space()? }))?,
        Kind::StateUpdate => control(r, |r| {
            Ok(Control::StateUpdate { op: r.code("state op", StateOp::from_code)?, object: decode_state_object(r)? })
        })?,
        Kind::BulkSyncBegin => control(r, |r| Ok(Control::BulkSyncBegin { sync_id: r.u32("sync id")? }))?,
        Kind::BulkSyncEnd => {
            control(r, |r| Ok(Control::BulkSyncEnd { sync_id: r.u32("sync id")?, objects: r.u32("object count")? }))?
        }
        Kind::Pairing => control(r, |r| {
            let model = r.text("model")?;
            let ram_mb = r.u32("RAM")?;
            let flash_bytes = r.u64("flash size")?;
            let at = r.pos;
            let count = r.u16("interface type count")? as usize;
            if count > PAIRING_INTERFACE_TYPES_MAX {
                return Err(DecodeError::TooMany {
                    offset: at,
                    field: "interface types",
                    count,
                    max: PAIRING_INTERFACE_TYPES_MAX,
                });
            }
            let mut interfaces = Vec::with_capacity(count);
            for _ in 0..count {
                interfaces
                    .push(InterfaceCount { hardware: r.text("interface hardware")?, count: r.u16("interface count")? });
            }
            Ok(Control::Pairing(Pairing {
                model,
                ram_mb,
                flash_bytes,
                interfaces,
                modes: r.u8("modes")?,
                version: SoftwareVersion {
                    major: r.u8("version major")?,
                    minor: r.u8("version minor")?,
                    patch: r.u16("version patch")?,
                },
                license: r.u8("license kind")?,
                contexts: r.u16("licensed contexts")?,
                vpn_peers: r.u16("licensed VPN peers")?,
                addressing: r.u8("failover addressing")?,
            }))
        })?,
    })
}

/// Smallest encoding of a [`ConfigLine`]: the system space tag and an empty line.
const CONFIG_LINE_LEN_MIN: usize = 1 + 2;

/// Reads a control message: the channel sequence number, then the body.
fn control(
    r: &mut Reader,
    body: impl FnOnce(&mut Reader) -> Result<Control, DecodeError>,
) -> Result<Message, DecodeError> {
    let channel_seq = r.u64("channel seq")?;
    Ok(Message::Control { channel_seq, body: body(r)? })
}

fn decode_state_object(r: &mut Reader) -> Result<StateObject, DecodeError> {
    let at = r.pos;
    let tag = r.u8("state object type")?;
    Ok(match tag {
        OBJ_CONNECTION => StateObject::Connection {
            context: r.text("context name")?,
            id: r.u64("connection id")?,
            protocol: r.code("connection protocol", ConnProtocol::from_code)?,
            state: r.u8("connection state")?,
        },
        OBJ_XLATE => StateObject::Xlate {
            context: r.text("context name")?,
            id: r.u64("xlate id")?,
            real: r.u32("real address")?,
            mapped: r.u32("mapped address")?,
        },
        OBJ_ARP => StateObject::Arp { context: r.text("context name")?, ip: r.u32("ip address")?, mac: r.mac()? },
        OBJ_BRIDGE => StateObject::Bridge {
            context: r.text("context name")?,
            mac: r.mac()?,
            interface: r.text("interface name")?,
        },
        OBJ_SA => {
            StateObject::Sa { context: r.text("context name")?, spi: r.u32("spi")?, peer: r.u32("peer address")? }
        }
        OBJ_GTP_PDP => {
            StateObject::GtpPdp { context: r.text("context name")?, teid: r.u32("teid")?, imsi: r.u64("imsi")? }
        }
        other => return Err(DecodeError::InvalidValue { offset: at, field: "state object type", value: other as u64 }),
    })
}

const SPACE_SYSTEM: u8 = 0;
const SPACE_CONTEXT: u8 = 1;

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn text(&mut self, s: &str) {
        self.u16(u16::try_from(s.len()).unwrap_or(u16::MAX));
        self.0.extend_from_slice(s.as_bytes());
    }
    fn space(&mut self, space: &Space) {
        match space {
            Space::System => self.u8(SPACE_SYSTEM),
            Space::Context(name) => {
                self.u8(SPACE_CONTEXT);
                self.text(name);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let raw = self.bytes.get(self.pos..self.pos.saturating_add(N));
        let Some(Ok(out)) = raw.map(<[u8; N]>::try_from) else {
            return Err(DecodeError::Truncated { offset: self.pos, field });
        };
        self.pos += N;
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.take(field)?))
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take(field)?))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(field)?))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take(field)?))
    }
    fn mac(&mut self) -> Result<[u8; 6], DecodeError> {
        self.take("mac address")
    }
    fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let offset = self.pos;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(DecodeError::InvalidValue { offset, field, value: v as u64 }),
        }
    }
    fn code<T>(&mut self, field: &'static str, from: fn(u8) -> Option<T>) -> Result<T, DecodeError> {
        let offset = self.pos;
        let v = self.u8(field)?;
        from(v).ok_or(DecodeError::InvalidValue { offset, field, value: v as u64 })
    }
    fn text(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.text_ref(field).map(str::to_owned)
    }
    fn text_ref(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let len = self.u16(field)? as usize;
        if len > TEXT_LEN_MAX {
            return Err(DecodeError::TextTooLong { offset, field, len });
        }
        let start = self.pos;
        let Some(raw) = self.bytes.get(start..start.saturating_add(len)) else {
            return Err(DecodeError::Truncated { offset: start, field });
        };
        let text = core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { offset: start, field })?;
        self.pos = start.saturating_add(len);
        Ok(text)
    }
    fn space(&mut self) -> Result<Space, DecodeError> {
        let offset = self.pos;
        match self.u8("space")? {
            SPACE_SYSTEM => Ok(Space::System),
            SPACE_CONTEXT => Ok(Space::Context(self.text("context name")?)),
            v => Err(DecodeError::InvalidValue { offset, field: "space", value: v as u64 }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Frame {
        Frame {
            sender: Role::Primary,
            flags: 0,
            seq: 7,
            boot_nonce: 0xdead_beef,
            message: Message::UnitHello(UnitHello {
                failover_on: true,
                version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
                groups: [
                    GroupHealth { state: GroupState::Active, monitored: 4, failed: 0 },
                    GroupHealth { state: GroupState::StandbyReady, monitored: 2, failed: 1 },
                ],
                interfaces: vec![
                    InterfaceHealth { iface: 0, status: InterfaceStatus::Normal },
                    InterfaceHealth { iface: 3, status: InterfaceStatus::Failed },
                ],
            }),
        }
    }

    #[test]
    fn hello_roundtrips_and_is_canonical() {
        let frame = hello();
        let bytes = encode(&frame);
        assert_eq!(bytes.len(), HEADER_LEN + 1 + 4 + 2 * 5 + 2 + 2 * 3);
        assert_eq!(decode(&bytes), Ok(frame));
    }

    #[test]
    fn hello_interface_list_roundtrips_at_its_bound_and_is_refused_beyond() {
        let mut frame = hello();
        let Message::UnitHello(h) = &mut frame.message else { unreachable!() };
        h.interfaces = (0..HELLO_INTERFACES_MAX as u16)
            .map(|i| InterfaceHealth {
                iface: i,
                status: InterfaceStatus::ALL[i as usize % InterfaceStatus::ALL.len()],
            })
            .collect();
        let bytes = encode(&frame);
        assert_eq!(decode(&bytes), Ok(frame.clone()));

        let Message::UnitHello(h) = &mut frame.message else { unreachable!() };
        h.interfaces.push(InterfaceHealth { iface: 0, status: InterfaceStatus::Normal });
        let count_at = HEADER_LEN + 1 + 4 + 2 * 5;
        assert_eq!(
            decode(&encode(&frame)),
            Err(DecodeError::TooMany {
                offset: count_at,
                field: "hello interfaces",
                count: HELLO_INTERFACES_MAX + 1,
                max: HELLO_INTERFACES_MAX
            })
        );
    }

    #[test]
    fn hello_interface_status_code_is_checked_with_its_offset() {
        let mut bytes = encode(&hello());
        let status_at = HEADER_LEN + 1 + 4 + 2 * 5 + 2 + 2;
        bytes[status_at] = 0;
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::InvalidValue { offset: status_at, field: "interface status", value: 0 })
        );
    }

    #[test]
    fn role_request_want_you_active_roundtrips() {
        let frame = Frame {
            sender: Role::Secondary,
            flags: 0,
            seq: 3,
            boot_nonce: 9,
            message: Message::Control {
                channel_seq: 4,
                body: Control::RoleRequest { group: Group::Two, request: RoleRequestKind::WantYouActive },
            },
        };
        assert_eq!(decode(&encode(&frame)), Ok(frame));
    }

    #[test]
    fn trailing_byte_is_rejected_with_its_offset() {
        let mut bytes = encode(&hello());
        let len = bytes.len();
        bytes.push(0);
        bytes[22..26].copy_from_slice(&((len + 1 - HEADER_LEN) as u32).to_be_bytes());
        assert_eq!(decode(&bytes), Err(DecodeError::TrailingBytes { offset: len, count: 1 }));
    }

    #[test]
    fn bad_bool_names_field_and_offset() {
        let mut bytes = encode(&hello());
        bytes[HEADER_LEN] = 2;
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::InvalidValue { offset: HEADER_LEN, field: "failover-on flag", value: 2 })
        );
    }
}
