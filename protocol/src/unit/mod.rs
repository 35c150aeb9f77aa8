//! One appliance's failover logic as a sans-IO state machine.
//!
//! # The drain contract
//!
//! A [`Unit`] never touches a socket or a clock. The caller feeds it inputs
//! through `handle_*` (each with `now`, the reading of this unit's own clock)
//! and, after *every* input, drains its outputs in this order:
//!
//! ```
//! use fover_protocol::unit::{Unit, Link};
//! use fover_protocol::{Instant, UnitConfig};
//!
//! let mut unit = Unit::new(UnitConfig::default(), 0x5eed, Instant::ZERO).unwrap();
//! let now = Instant::from_ms(1);
//! unit.handle_timeout(now);
//! while let Some(t) = unit.poll_transmit() {
//!     let _ = (t.link, t.bytes); // send t.bytes on t.link
//! }
//! while let Some(e) = unit.poll_event() {
//!     let _ = e; // record it
//! }
//! let _wake_at = unit.poll_timeout(); // call handle_timeout at (or after) this instant
//! ```
//!
//! [`drain`] does exactly this; the async driver, the pure test harness and
//! the fuzz targets all use it.

use crate::auth::AuthError;
use crate::config::{ConfigError, UnitConfig};
use crate::time::Instant;
use crate::wire::{Group, GroupState, InterfaceStatus, Role};
use core::fmt;
use core::time::Duration;

/// Index of a data interface in [`UnitConfig::interfaces`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfaceId(pub u16);

/// Where a frame goes or came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Link {
    /// The failover (control) link.
    Failover,
    /// The state link, when separate from the failover link.
    State,
    /// A data interface.
    Data(IfaceId),
}

/// A frame to send.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Transmit {
    pub link: Link,
    pub bytes: Vec<u8>,
}

/// An operator command that the state machine understands (the typed subset
/// of the CLI; the configuration issue adds the text CLI on top).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `failover`: enable failover.
    Failover,
    /// `no failover`: freeze the current roles until reload.
    NoFailover,
    /// `failover active [group N]`: make this unit active for the group(s).
    FailoverActive(Option<Group>),
    /// `no failover active [group N]`: make this unit standby for the group(s).
    NoFailoverActive(Option<Group>),
    /// `failover reset [group N]`: clear Failed.
    FailoverReset(Option<Group>),
    /// `failover lan unit primary|secondary`.
    LanUnit(Role),
    /// `failover polltime unit [msec] N holdtime [msec] M`.
    UnitPolltime { polltime: Duration, holdtime: Duration },
    /// `failover group N` followed by one option.
    GroupOption(Group, GroupOption),
    /// `[no] monitor-interface NAME` in a context.
    MonitorInterface { iface: IfaceId, monitored: bool },
}

/// One option of `failover group N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupOption {
    Preferred(Role),
    /// `preempt [delay]` (`Some`) or `no preempt` (`None`).
    Preempt(Option<Duration>),
    InterfacePolicy(crate::config::InterfacePolicy),
    /// `polltime interface [msec] N holdtime M`.
    InterfacePolltime {
        polltime: Duration,
        holdtime: Duration,
    },
    ReplicationHttp(bool),
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Refused(String),
}

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
    /// A LAN test reply came back on the failover link: no failover.
    LanTestPassed,
    /// A received frame was refused; it changed no protocol state.
    FrameRejected { link: Link, error: AuthError },
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
        }
    }
}

/// One appliance's failover state machine.
#[derive(Clone, Debug)]
pub struct Unit {
    config: UnitConfig,
    boot_nonce: u64,
}

impl Unit {
    /// Powers a unit on at `now` with the given settings and a boot nonce drawn
    /// by the caller (fresh at every power-on).
    pub fn new(config: UnitConfig, boot_nonce: u64, now: Instant) -> Result<Unit, ConfigError> {
        config.validate()?;
        let _ = now;
        Ok(Unit { config, boot_nonce })
    }

    /// The settings this unit runs with.
    pub fn config(&self) -> &UnitConfig {
        &self.config
    }

    /// The boot nonce of this power-on.
    pub fn boot_nonce(&self) -> u64 {
        self.boot_nonce
    }

    /// A frame arrived on `link`.
    pub fn handle_datagram(&mut self, now: Instant, link: Link, bytes: &[u8]) {
        let _ = (now, link, bytes);
    }

    /// The deadline returned by [`Unit::poll_timeout`] has been reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        let _ = now;
    }

    /// An operator command. Returns what the CLI prints.
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Result<String, CommandError> {
        let _ = (now, command);
        Ok(String::new())
    }

    /// The physical link of a data interface went up or down.
    pub fn handle_link_change(&mut self, now: Instant, iface: IfaceId, up: bool) {
        let _ = (now, iface, up);
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        None
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        None
    }

    /// When to call [`Unit::handle_timeout`] next, on this unit's clock.
    pub fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    /// The state of `group` on this unit.
    pub fn group_state(&self, group: Group) -> GroupState {
        let _ = group;
        GroupState::Disabled
    }

    /// Whether automatic failover is suspended (failover link failed).
    pub fn is_suspended(&self) -> bool {
        false
    }

    /// Whether failover is enabled (`failover` / `no failover`).
    pub fn failover_enabled(&self) -> bool {
        self.config.failover_enabled
    }

    /// The status of a data interface on this unit.
    pub fn interface_status(&self, iface: IfaceId) -> InterfaceStatus {
        let _ = iface;
        InterfaceStatus::Normal
    }

    /// A deterministic hash of the protocol state (not output queues or counters).
    pub fn state_digest(&self) -> u64 {
        self.boot_nonce
    }

    /// Checks the state machine's internal invariants; panics on a bug.
    pub fn invariants(&self) {}
}

/// Drains a unit after an input, as the drain contract requires: every frame
/// to `transmit`, every event to `event`; returns the next deadline.
pub fn drain(unit: &mut Unit, mut transmit: impl FnMut(Transmit), mut event: impl FnMut(Event)) -> Option<Instant> {
    while let Some(t) = unit.poll_transmit() {
        transmit(t);
    }
    while let Some(e) = unit.poll_event() {
        event(e);
    }
    unit.poll_timeout()
}
