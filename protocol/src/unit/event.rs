//! What a unit tells its caller: events and statistics.

use super::{IfaceId, Link};
use crate::config::flash::Flash;
use crate::types::{Group, GroupState, InterfaceStatus, Space};
use crate::wire::auth::AuthError;
use core::fmt;

/// Something the caller should know (record, log, check).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A group changed state on this unit, with the appliance's reason string.
    GroupTransition { group: Group, from: GroupState, to: GroupState, reason: String },
    /// A syslog message with the appliance's message id (104001, 105005, ...).
    Syslog { id: u32, text: String },
    /// The peer was declared failed (no hello, no LAN test reply by the holdtime).
    PeerDeclaredFailed,
    /// The failover link was marked failed while a data interface still answered.
    FailoverLinkFailed,
    /// The failover link carries hellos again.
    FailoverLinkRecovered,
    /// Automatic failover is suspended (failover link failed).
    FailoverSuspended,
    /// Automatic failover is possible again.
    FailoverResumed,
    /// A monitored interface changed status on this unit.
    InterfaceStatusChanged { iface: IfaceId, from: InterfaceStatus, to: InterfaceStatus },
    /// A LAN test was started (three hellos missed).
    LanTestStarted,
    /// A LAN test ended well: its reply (or a hello) came back on the failover link; no failover.
    LanTestPassed,
    /// A received frame was refused; it changed no protocol state.
    FrameRejected { link: Link, error: AuthError },
    /// A configuration or file command entered here was sent to the peer.
    CommandReplicated { space: Space, line: String },
    /// A command replicated by the peer was received (and applied).
    ReplicatedCommandReceived { space: Space, line: String },
    /// The flash was written (a save, a file command, a key): its new contents,
    /// which survive a power cycle.
    FlashWritten { flash: Box<Flash> },
    /// This unit cannot pair with its mate (the requirement that failed): it runs standalone.
    PairingRefused { reason: String },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::GroupTransition { group, from, to, reason } => {
                write!(f, "group {group}: {from} -> {to} ({reason})")
            }
            Event::Syslog { id, text } => write!(f, "%ASA-{id}: {text}"),
            Event::PeerDeclaredFailed => f.write_str("peer declared failed"),
            Event::FailoverLinkFailed => f.write_str("failover link failed"),
            Event::FailoverLinkRecovered => f.write_str("failover link recovered"),
            Event::FailoverSuspended => f.write_str("failover suspended"),
            Event::FailoverResumed => f.write_str("failover resumed"),
            Event::InterfaceStatusChanged { iface, from, to } => {
                write!(f, "interface {}: {from} -> {to}", iface.0)
            }
            Event::LanTestStarted => f.write_str("LAN test started"),
            Event::LanTestPassed => f.write_str("LAN test passed"),
            Event::FrameRejected { link, error } => write!(f, "frame on {link:?} rejected: {error}"),
            Event::CommandReplicated { space, line } => write!(f, "replicated to mate ({space}): {line}"),
            Event::ReplicatedCommandReceived { space, line } => write!(f, "replicated from mate ({space}): {line}"),
            Event::FlashWritten { flash } => write!(f, "flash written ({} bytes used)", flash.used_bytes()),
            Event::PairingRefused { reason } => write!(f, "pairing refused: {reason}"),
        }
    }
}

/// Counters for `show failover` statistics. Not part of [`Unit::state_digest`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statistics {
    pub hellos_sent: u64,
    pub hellos_received: u64,
    pub lan_tests_sent: u64,
    pub frames_received: u64,
    pub frames_rejected: u64,
    /// Datagrams on data interfaces that were not failover frames (other hosts' traffic).
    pub network_datagrams: u64,
    pub role_requests_sent: u64,
    /// Frames dropped because the caller did not drain (queue full).
    pub transmits_dropped: u64,
    /// Events dropped because the caller did not drain (queue full).
    pub events_dropped: u64,
}
