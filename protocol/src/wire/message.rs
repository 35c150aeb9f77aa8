//! The messages two units exchange, as typed values (their encoding is in `codec`).

#[cfg(feature = "arbitrary")]
use super::FLAG_SEALED;
use crate::types::{Group, GroupState, InterfaceStatus, Role, SoftwareVersion, Space, code_enum};
use core::fmt;

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
    /// [`HELLO_INTERFACES_MAX`](super::HELLO_INTERFACES_MAX)), so that the receiver can tell an interface
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
/// without copying the names into a [`Message`] ([`encode_interface_hello`](super::encode_interface_hello)),
/// or one read in place from a frame ([`decode_lean`](super::decode_lean)).
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
/// (none or [`FLAG_SEALED`](super::FLAG_SEALED)): undefined flags never encode to an accepted
/// frame, so drawing them would only waste the fuzzer's inputs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub sender: Role,
    /// Header flags (only [`FLAG_SEALED`](super::FLAG_SEALED) is defined).
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
