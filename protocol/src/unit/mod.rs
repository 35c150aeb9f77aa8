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
//!
//! # Organisation
//!
//! * this file: the API, frames in and out, unit hellos, the LAN test, time;
//! * `rules`: the group rules and the transitions of section 4 (with the
//!   seam `path_step` where configuration and bulk sync will plug in);
//! * `requests`: role requests (manual moves, preempt, boot claims), the one
//!   place the reliable channel will replace;
//! * `iface`: interface monitoring;
//! * `commands`: operator commands;
//! * `timer`: the closed set of timers ([`Timer`]) in a fixed table;
//! * `group`: per-group state, [`Reason`] and [`HistoryEntry`];
//! * `stateful`: the connection tables, their replication and bulk sync.
//!
//! In debug builds [`Unit::invariants`] runs after every input.
//!
//! # Time
//!
//! `now` is this unit's own clock and may go backwards or jump forwards. A
//! step back moves every stored deadline back with it; a forward step of
//! more than a polltime between two inputs restarts every silence window
//! (hold, LAN test reply, negotiation, interface tests), so that a jump alone
//! never makes the unit declare its peer or an interface failed.

mod commands;
mod config_plane;
mod group;
mod iface;
mod pairing;
mod requests;
mod rules;
mod show;
mod stateful;
mod timer;

pub use config_plane::{FLASH_BYTES_DEFAULT, SYSLOG_HEAL_DISCARD, default_running_config};
pub use group::{HistoryEntry, Reason};
pub use stateful::ReplicationMark;
pub use timer::Timer;

use crate::config::flash::Flash;
use crate::config::settings::{ConfigError, UnitConfig};
use crate::constants::*;
use crate::planted::{self, PlantedBug};
use crate::time::Instant;
use crate::types::{Group, GroupState, InterfaceStatus, Role, Space};
use crate::wire::auth::{self, AuthError, Opened, Session};
use crate::wire::{self, Control, Frame, GroupHealth, InterfaceHealth, LanTest, Message, UnitHello};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::time::Duration;
use group::GroupMachine;
use std::collections::VecDeque;
use timer::TimerTable;

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
    InterfacePolicy(crate::config::settings::InterfacePolicy),
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

/// Whether and how the unit takes part in failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Mode {
    /// `failover`: the protocol runs.
    Enabled,
    /// `no failover` entered while running: roles are frozen until reload or
    /// `failover`. Hellos (with `failover_on` false), LAN test replies and
    /// interface monitoring go on, so the peer neither declares this unit
    /// failed nor takes its groups; nothing here changes automatically.
    Frozen,
    /// Failover disabled at power-on: standalone, every group active, no
    /// failover traffic.
    Standalone,
}

/// What this unit knows of its peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Peer {
    /// Boot nonce of the peer's last hello.
    boot: Option<u64>,
    /// The peer's last hello.
    hello: Option<UnitHello>,
    /// When it arrived.
    last_hello_at: Option<Instant>,
    /// A hello arrived and the hold deadline has not passed since: decisions
    /// may rely on the peer's group states. False while a LAN test runs and
    /// while failover is suspended.
    fresh: bool,
    /// Declared failed: no hello and no reply to a LAN test by the holdtime.
    failed: bool,
    /// An authenticated peer frame arrived on a data interface since power-on.
    seen_on_data: bool,
    /// Frame sequence number of the last hello taken in (from `boot`): an
    /// older hello arriving late is ignored.
    hello_seq: u64,
    /// Highest channel sequence number of a role request taken in (from
    /// `boot`): a duplicate or late request is ignored.
    request_seq: u64,
    /// Frame sequence number of that role request: a hello the peer sent
    /// before it (overtaken on the way) shows a state the request changed,
    /// and is ignored.
    request_frame_seq: u64,
    /// Earlier boots of the peer, newest last, at most [`PEER_BOOTS_RETIRED_MAX`]:
    /// their frames are stale.
    retired_boots: Vec<u64>,
    /// Per group: the peer handed the group over (WantYouActive) after its
    /// last hello was sent, so that hello's state for the group is superseded
    /// and no rule may act on it until the next hello.
    handed_over: [bool; 2],
}

/// A LAN test in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct LanTestRun {
    nonce: u32,
    sent_at: Instant,
    /// A reply came back on a data interface (not on the failover link).
    data_reply: bool,
}

/// Everything that defines the protocol state of a unit, apart from its
/// configuration and its session (see [`Unit::state_digest`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    /// The latest reading of the unit's clock (after rebasing).
    clock: Instant,
    mode: Mode,
    timers: TimerTable,
    groups: [GroupMachine; 2],
    peer: Peer,
    /// The failover link is marked failed: automatic failover is suspended.
    link_failed: bool,
    lan_test: Option<LanTestRun>,
    /// One per configured data interface.
    ifaces: Vec<iface::Monitor>,
    /// The group of each data interface (through its context).
    iface_groups: Vec<Group>,
    /// Sequence number of the last control message sent (see `requests`).
    channel_seq: u64,
    /// SplitMix64 state, seeded from the boot nonce (LAN test and probe nonces).
    rng: u64,
    /// Running config, flash, the reliable channel and config syncs.
    cp: config_plane::ConfigPlane,
    /// Connection tables and their replication (stateful failover).
    st: stateful::StatePlane,
}

/// Frames and events waiting for the caller.
#[derive(Clone, Debug, Default)]
struct Outputs {
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// A group changed state during this input: send a hello at its end.
    hello_due: bool,
    /// A role request was made during this input: send it after the hello.
    requests_due: bool,
}

/// One appliance's failover state machine.
///
/// See the module documentation for the drain contract. Every `handle_*`
/// method takes `now`, the reading of this unit's own clock; it may go
/// backwards or jump forwards (see PROTOCOL.md section 3, [fover] Clocks).
#[derive(Clone, Debug)]
pub struct Unit {
    config: UnitConfig,
    boot_nonce: u64,
    session: Session,
    s: State,
    out: Outputs,
    stats: Statistics,
    /// Stateful failover counters per object type.
    st_stats: stateful::StateCounters,
    /// Bumped by every input but a no-op (see [`Unit::state_version`]). Not protocol state.
    version: u64,
    /// Bumped by every input that may change more than deadlines (see
    /// [`Unit::observed_version`]). Not protocol state.
    observed_version: u64,
    /// What the last input may have changed (see [`Unit::check_last_input`]). Not protocol state.
    last_input: LastInput,
    /// The last input's end left nothing for the end of another input to do
    /// on the same state (see [`Unit::traffic_changes_nothing`]). Not protocol state.
    settled: bool,
}

impl Unit {
    /// Powers a unit on at `now` with the given settings and a boot nonce drawn
    /// by the caller (fresh at every power-on).
    pub fn new(config: UnitConfig, boot_nonce: u64, now: Instant) -> Result<Unit, ConfigError> {
        let device = config.device();
        let flash = Flash::factory(FLASH_BYTES_DEFAULT, &device.serial, &device.factory_license);
        Unit::boot(config, flash, boot_nonce, now)
    }

    /// Powers a unit on with the flash it kept across the power cycle: its
    /// running config is the startup config there, or, with none saved,
    /// [`default_running_config`].
    pub fn boot(config: UnitConfig, flash: Flash, boot_nonce: u64, now: Instant) -> Result<Unit, ConfigError> {
        Unit::boot_with_default(config, flash, boot_nonce, now, None)
    }

    /// [`Unit::boot`], given `default`, the [`default_running_config`] of
    /// this `config` computed before (a harness booting the same unit many
    /// times keeps it): the same unit, without building it again. A `default`
    /// of another config is a bug of the caller (checked in debug builds).
    pub fn boot_with_default(
        mut config: UnitConfig,
        flash: Flash,
        boot_nonce: u64,
        now: Instant,
        default: Option<&crate::config::running::RunningConfig>,
    ) -> Result<Unit, ConfigError> {
        config.validate()?;
        let serial = config.device().serial;
        let running = if flash.startup(&Space::System).is_some() {
            flash.boot().map_err(|e| ConfigError::Invalid { field: "startup-config", detail: e.to_string() })?
        } else if let Some(default) = default {
            debug_assert!(default_running_config(&config).as_ref() == Ok(default), "default of another config");
            default.clone()
        } else {
            default_running_config(&config)?
        };
        let session = Session::new(config.role, boot_nonce, config.failover_key.as_ref());
        let iface_groups = config.interfaces.iter().map(|i| config.group_of_context(&i.context)).collect();
        let ifaces = config.interfaces.iter().map(|_| iface::Monitor::new()).collect();
        // A saved `no failover` keeps the unit standalone (section 5).
        if running.failover_disabled() {
            config.failover_enabled = false;
        }
        let mode = if config.failover_enabled { Mode::Enabled } else { Mode::Standalone };
        let mut unit = Unit {
            session,
            boot_nonce,
            s: State {
                clock: now,
                mode,
                timers: TimerTable::default(),
                groups: [GroupMachine::new(), GroupMachine::new()],
                peer: Peer::default(),
                link_failed: false,
                lan_test: None,
                ifaces,
                iface_groups,
                channel_seq: 0,
                rng: boot_nonce ^ 0x6a09_e667_f3bc_c908,
                cp: config_plane::ConfigPlane::new(boot_nonce, running, flash, &serial),
                st: stateful::StatePlane::default(),
            },
            config,
            out: Outputs::default(),
            stats: Statistics::default(),
            st_stats: stateful::StateCounters::default(),
            version: 0,
            observed_version: 0,
            last_input: LastInput::Anything,
            settled: false,
        };
        match mode {
            Mode::Standalone => {
                for g in Group::ALL {
                    unit.go_active(now, *g, Reason::FailoverDisabled);
                }
            }
            _ => {
                for g in Group::ALL {
                    unit.transition(now, *g, GroupState::Negotiation, Reason::NoError);
                }
                unit.start_failover_timers(now);
                unit.s.timers.set(Timer::Negotiation, now + unit.config.unit_holdtime);
            }
        }
        unit.out.hello_due = false;
        unit.check_invariants();
        Ok(unit)
    }

    // ----- observers -------------------------------------------------------

    /// The settings this unit runs with.
    pub fn config(&self) -> &UnitConfig {
        &self.config
    }

    /// The boot nonce of this power-on.
    pub fn boot_nonce(&self) -> u64 {
        self.boot_nonce
    }

    /// `failover lan unit`: primary or secondary.
    pub fn role(&self) -> Role {
        self.config.role
    }

    /// Whether failover runs (false when disabled at power-on or after `no failover`).
    pub fn failover_enabled(&self) -> bool {
        self.s.mode == Mode::Enabled
    }

    /// Whether `no failover` froze the roles (hellos go on; nothing changes automatically).
    pub fn is_frozen(&self) -> bool {
        self.s.mode == Mode::Frozen
    }

    /// Whether this unit runs standalone: failover disabled from power-on
    /// (section 5), or its mate refused to pair (section 9). It sends no
    /// failover traffic and keeps every group it can active.
    pub fn is_standalone(&self) -> bool {
        self.s.mode == Mode::Standalone
    }

    /// The state of `group` on this unit.
    #[inline]
    pub fn group_state(&self, group: Group) -> GroupState {
        self.s.groups[group.index()].state
    }

    /// `show failover history` for `group`: oldest first, at most [`HISTORY_MAX`] entries.
    pub fn history(&self, group: Group) -> &[HistoryEntry] {
        &self.s.groups[group.index()].history
    }

    /// Whether automatic failover is suspended (failover link failed).
    pub fn is_suspended(&self) -> bool {
        self.s.link_failed
    }

    /// Whether the failover link is marked failed (same as [`Unit::is_suspended`]).
    pub fn failover_link_failed(&self) -> bool {
        self.s.link_failed
    }

    /// Whether the peer has been declared failed (and not heard since).
    pub fn peer_failed(&self) -> bool {
        self.s.peer.failed
    }

    /// Whether a hello from the peer has been heard since power-on.
    pub fn peer_heard(&self) -> bool {
        self.s.peer.hello.is_some()
    }

    /// The peer's state for `group` as its last hello reported it, while that
    /// report is current (a hello within the hold time).
    pub fn peer_group_state(&self, group: Group) -> Option<GroupState> {
        self.fresh_peer().map(|h| h.groups[group.index()].state)
    }

    /// The boot nonce of the peer's last hello.
    pub fn peer_boot_nonce(&self) -> Option<u64> {
        self.s.peer.boot
    }

    /// Whether a LAN test is running.
    pub fn lan_test_running(&self) -> bool {
        self.s.lan_test.is_some()
    }

    /// This unit's status of data interface `iface` (`No Link` for an unknown id).
    pub fn interface_status(&self, iface: IfaceId) -> InterfaceStatus {
        self.s.ifaces.get(iface.0 as usize).map_or(InterfaceStatus::NoLink, |m| m.status)
    }

    /// The peer's status of `iface`, as its last hello reported it.
    pub fn peer_interface_status(&self, iface: IfaceId) -> Option<InterfaceStatus> {
        self.s.ifaces.get(iface.0 as usize).and_then(|m| m.peer_status)
    }

    /// Whether `iface` is still *Waiting*: no frame from the peer has been
    /// heard on it, so it is not tested yet.
    pub fn interface_waiting(&self, iface: IfaceId) -> bool {
        self.s.ifaces.get(iface.0 as usize).is_some_and(|m| !m.peer_known)
    }

    /// Failed and monitored interfaces of `group` on this unit (Unknown ones are not counted as failed).
    pub fn failed_interfaces(&self, group: Group) -> (u16, u16) {
        self.interface_counts(group)
    }

    /// Whether a group's placement was set by a manual move that preempt will not undo.
    pub fn is_pinned(&self, group: Group) -> bool {
        self.s.groups[group.index()].pinned
    }

    /// The deadline of one timer, if armed.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.s.timers.get(timer)
    }

    /// Counters (not protocol state).
    pub fn statistics(&self) -> &Statistics {
        &self.stats
    }

    /// A counter that every input bumps, except one that changes nothing but
    /// the unit's clock (forwards, within a polltime) and its statistics:
    /// other hosts' traffic on an interface the traffic leaves as it is, when
    /// the end of an input has nothing to do (see `traffic_changes_nothing`).
    /// While it is unchanged, so are the unit's observable state
    /// ([`Unit::group_state`], [`Unit::config_digest`], ...), its next deadline
    /// ([`Unit::poll_timeout`]) and the result of [`Unit::invariants`] (no
    /// invariant can break by the clock moving forwards: every bound on a
    /// deadline is relative to it), so a caller may keep what it derived from
    /// them. Its value means nothing across power cycles.
    #[inline]
    pub fn state_version(&self) -> u64 {
        self.version
    }

    /// Like [`Unit::state_version`], but an input that only moved deadlines
    /// and frame numbers leaves it alone too: the peer's interface hello that
    /// restarts the hold window of an interface already known, hellos sent on
    /// their timers, a peer's hello that repeats the last one (see
    /// [`Unit::check_last_input`]). While it is unchanged, so is everything
    /// the observers report but the deadlines ([`Unit::timer`],
    /// [`Unit::poll_timeout`]) and the statistics.
    #[inline]
    pub fn observed_version(&self) -> u64 {
        self.observed_version
    }

    /// A deterministic hash (`StateHasher`) of all protocol state: configuration,
    /// session (sequence numbers, replay windows), groups and their history,
    /// peer view, timers, interface monitors. Output queues and statistics are
    /// left out, so a frame that is rejected leaves the digest unchanged.
    pub fn state_digest(&self) -> u64 {
        let mut h = StateHasher::new();
        self.config.hash(&mut h);
        self.boot_nonce.hash(&mut h);
        self.session.hash_state(&mut h);
        self.s.hash(&mut h);
        h.finish()
    }

    // ----- inputs ----------------------------------------------------------

    /// A frame arrived on `link`.
    ///
    /// On a data interface, a datagram that is not a failover frame (its first
    /// two bytes are not the wire magic) is other hosts' traffic: it counts as
    /// network activity for the interface test. A failover frame that fails
    /// [`Session::open`] yields [`Event::FrameRejected`] and changes no state.
    pub fn handle_datagram(&mut self, now: Instant, link: Link, bytes: &[u8]) {
        if let Link::Data(iface) = link {
            if iface.0 as usize >= self.s.ifaces.len() {
                return;
            }
            if !is_failover_frame(bytes) {
                self.stats.network_datagrams += 1;
                if self.traffic_changes_nothing(now, iface) {
                    #[cfg(debug_assertions)]
                    let reference = self.clone();
                    // All that `observe_time` does here.
                    self.s.clock = now;
                    self.last_input = LastInput::Nothing;
                    #[cfg(debug_assertions)]
                    self.check_shortcut(reference, "traffic taken for a no-op", |u| {
                        u.observe_time(now);
                        u.on_interface_traffic(now, iface, false);
                        u.finish_input(now);
                    });
                    return;
                }
                self.observe_time(now);
                self.on_interface_traffic(now, iface, false);
                self.finish_input(now);
                return;
            }
        }
        // On a data interface an interface hello, the most frequent frame, is
        // read without copying its names, which nothing here reads.
        let path = auth_path(&self.config, link);
        let opened = match link {
            Link::Data(_) => self.session.open_lean(path, bytes),
            _ => self.session.open_on(path, bytes).map(Opened::Frame),
        };
        let frame = match opened {
            Ok(Opened::Frame(frame)) => {
                if let (Link::Failover, Message::UnitHello(hello)) = (link, &frame.message) {
                    if self.peer_hello_repeats(now, frame.boot_nonce, frame.seq, hello) {
                        #[cfg(debug_assertions)]
                        let reference = self.clone();
                        self.version = self.version.wrapping_add(1);
                        self.last_input = LastInput::Timers;
                        self.stats.frames_received += 1;
                        self.stats.hellos_received += 1;
                        self.s.clock = now;
                        self.s.peer.hello_seq = frame.seq;
                        self.s.peer.last_hello_at = Some(now);
                        self.s.timers.set(Timer::UnitHold, now + self.hold_window());
                        #[cfg(debug_assertions)]
                        self.check_shortcut(reference, "a repeated hello taken for a deadline", |u| {
                            u.observe_time(now);
                            u.on_frame(now, link, Received::from(frame));
                            u.finish_input(now);
                        });
                        return;
                    }
                }
                Received::from(frame)
            }
            Ok(Opened::InterfaceHello { header, .. }) => {
                let frame = Received { boot_nonce: header.boot_nonce, seq: header.seq, message: None };
                if let Link::Data(iface) = link {
                    if self.interface_hello_moves_only_deadlines(now, iface, header.boot_nonce) {
                        #[cfg(debug_assertions)]
                        let reference = self.clone();
                        self.version = self.version.wrapping_add(1);
                        self.last_input = LastInput::InterfaceHold(iface.0 as usize);
                        self.stats.frames_received += 1;
                        self.s.clock = now;
                        self.on_interface_traffic(now, iface, true);
                        #[cfg(debug_assertions)]
                        self.check_shortcut(reference, "an interface hello taken for a deadline", |u| {
                            u.observe_time(now);
                            u.on_frame(now, link, frame);
                            u.finish_input(now);
                        });
                        return;
                    }
                }
                frame
            }
            Err(error) => match self.forged_frame(bytes, &error) {
                Some(frame) => Received::from(frame),
                None => {
                    self.changed_anything();
                    self.stats.frames_rejected += 1;
                    self.push_event(Event::FrameRejected { link, error });
                    return;
                }
            },
        };
        self.stats.frames_received += 1;
        self.observe_time(now);
        self.on_frame(now, link, frame);
        self.finish_input(now);
    }

    /// The deadline returned by [`Unit::poll_timeout`] has been reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        let settled = self.settled_before(now);
        self.observe_time(now);
        let mut fired = 0;
        let mut hellos_only = true;
        while let Some(timer) = self.s.timers.expired(now) {
            if fired >= TIMER_FIRINGS_PER_INPUT_MAX {
                debug_assert!(false, "timer {timer:?} keeps firing at {now}");
                break;
            }
            fired += 1;
            hellos_only &= matches!(timer, Timer::UnitHello | Timer::InterfaceHello(_));
            self.s.timers.stop(timer);
            self.on_timer(now, timer);
        }
        // Hellos sent on a settled unit whose channel has no deadline due:
        // they changed nothing the end of input reads (neither the group
        // rules nor the configuration plane read the hello timers or the
        // frame numbers), so of the end of input only the role requests a
        // unit hello re-sends are left. In debug builds every such input is
        // checked against the full path.
        if settled && hellos_only && !self.s.cp.channel.timeout_due(now) {
            #[cfg(debug_assertions)]
            let reference = self.clone();
            self.version = self.version.wrapping_add(1);
            self.last_input = LastInput::Timers;
            if std::mem::take(&mut self.out.requests_due) {
                self.resend_requests();
            }
            #[cfg(debug_assertions)]
            self.check_shortcut(reference, "hellos sent without the end of input", |u| {
                u.cp_timeout(now);
                u.finish_input(now);
            });
            return;
        }
        self.cp_timeout(now);
        self.finish_input(now);
    }

    /// An operator command. Returns what the CLI prints.
    pub fn handle_command(&mut self, now: Instant, command: Command) -> Result<String, CommandError> {
        self.observe_time(now);
        let result = self.command(now, command);
        self.finish_input(now);
        result
    }

    /// The physical link of a data interface went up or down.
    pub fn handle_link_change(&mut self, now: Instant, iface: IfaceId, up: bool) {
        self.observe_time(now);
        self.on_link_change(now, iface, up);
        self.finish_input(now);
    }

    // ----- outputs ---------------------------------------------------------

    /// The next frame to send, if any.
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event, if any.
    #[inline]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.out.events.pop_front()
    }

    /// When to call [`Unit::handle_timeout`] next, on this unit's clock.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.s.timers.next(), self.s.cp.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Checks the state machine's internal invariants; panics on a bug.
    pub fn invariants(&self) {
        let s = &self.s;
        assert!(self.out.transmits.len() <= TRANSMITS_QUEUED_MAX, "transmit queue over its bound");
        assert!(self.out.events.len() <= EVENTS_QUEUED_MAX, "event queue over its bound");
        assert_eq!(s.ifaces.len(), self.config.interfaces.len(), "one monitor per interface");
        assert_eq!(s.iface_groups.len(), self.config.interfaces.len(), "one group per interface");
        let latest = s.clock + Duration::from_millis(DEADLINE_SPAN_MS_MAX);
        if !s.timers.all_at_or_before(latest) {
            for (timer, at) in s.timers.armed() {
                assert!(at <= latest, "{timer:?} at {at} is beyond the clock {} plus the span", s.clock);
            }
        }
        self.check_interfaces(latest);
        let promote_failed = self.planted(PlantedBug::PromoteFailedGroup);
        for g in Group::ALL.iter().copied() {
            let gm = &s.groups[g.index()];
            assert!(gm.history.len() <= HISTORY_MAX, "history of group {g} over its bound");
            // Each entry is checked when it is recorded; the newest again here.
            if let Some(e) = gm.history.last() {
                assert!(
                    group::is_legal_transition(e.from, e.to) || (promote_failed && e.from == GroupState::Failed),
                    "group {g}: illegal transition {} -> {} ({})",
                    e.from,
                    e.to,
                    e.reason
                );
            }
            if let Some(last) = gm.history.last() {
                assert_eq!(last.to, gm.state, "group {g}: history ends in the current state");
            }
            match gm.request {
                Some(group::Request::Claim(_)) => {
                    assert_eq!(gm.state, GroupState::StandbyReady, "group {g}: only Standby Ready claims")
                }
                Some(group::Request::Handover) => {
                    assert!(!gm.state.is_active(), "group {g}: an active group hands nothing over")
                }
                None => {}
            }
            if s.timers.is_armed(Timer::Preempt(g)) {
                assert_eq!(gm.state, GroupState::StandbyReady, "group {g}: preempt armed only when Standby Ready");
            }
            assert!(
                gm.state != GroupState::Disabled || s.mode == Mode::Standalone && gm.history.is_empty(),
                "group {g}: Disabled only before power-on"
            );
            if s.mode == Mode::Standalone {
                assert!(
                    gm.state.is_active() || (s.cp.refused.is_some() && gm.state == GroupState::Failed),
                    "group {g}: a standalone unit is active for every group (a Failed one stays Failed)"
                );
                assert!(gm.request.is_none(), "group {g}: a standalone unit sends no role requests");
            }
        }
        assert_eq!(s.timers.is_armed(Timer::LanTestVerdict), s.lan_test.is_some(), "verdict armed iff a LAN test runs");
        assert!(!s.link_failed || !s.peer.fresh, "a suspended unit has no current view of its peer");
        assert!(!s.peer.fresh || s.peer.hello.is_some(), "a current peer view has a hello");
        assert!(!s.peer.fresh || s.timers.is_armed(Timer::UnitHold), "a current peer view has a hold deadline");
        assert!(!(s.peer.failed && s.peer.fresh), "a failed peer is not current");
        assert!(s.peer.retired_boots.len() <= PEER_BOOTS_RETIRED_MAX, "retired boots over their bound");
        assert!(s.peer.boot.is_none_or(|b| !s.peer.retired_boots.contains(&b)), "the peer's boot is retired");
        assert!(s.lan_test.is_none() || !s.peer.fresh, "a LAN test runs only when the peer is not current");
        assert_eq!(s.timers.is_armed(Timer::UnitHello), s.mode != Mode::Standalone, "hellos iff not standalone");
        if s.timers.is_armed(Timer::Negotiation) {
            assert!(
                s.groups.iter().any(|g| g.state == GroupState::Negotiation),
                "negotiation timer without a negotiating group"
            );
        }
        if s.mode == Mode::Standalone {
            assert!(s.timers.armed().next().is_none(), "a standalone unit has no timers");
        }
        self.st_invariants();
    }

    /// Checks the invariants the last input could have broken, assuming
    /// that they held before it: all of them ([`Unit::invariants`]) after
    /// most inputs; none after one that changed nothing but the clock
    /// (forwards) and statistics; after one that only restarted an
    /// interface's hold window, the bound on every deadline, that
    /// interface's rules and its group's interface-check timer; after one
    /// that only sent hellos or took in a hello that repeats the last one,
    /// the bound on every deadline and on the transmit queue, that the hello
    /// timer runs, and that a current peer view has a hold deadline. Panics on a
    /// bug, like [`Unit::invariants`]. For a caller that checks after every
    /// input.
    pub fn check_last_input(&self) {
        match self.last_input {
            LastInput::Anything => self.invariants(),
            LastInput::Nothing => {}
            LastInput::Timers => {
                let s = &self.s;
                let latest = s.clock + Duration::from_millis(DEADLINE_SPAN_MS_MAX);
                if !s.timers.all_at_or_before(latest) {
                    for (timer, at) in s.timers.armed() {
                        assert!(at <= latest, "{timer:?} at {at} is beyond the clock {} plus the span", s.clock);
                    }
                }
                assert!(self.out.transmits.len() <= TRANSMITS_QUEUED_MAX, "transmit queue over its bound");
                assert_eq!(
                    s.timers.is_armed(Timer::UnitHello),
                    s.mode != Mode::Standalone,
                    "hellos iff not standalone"
                );
                assert!(!s.peer.fresh || s.timers.is_armed(Timer::UnitHold), "a current peer view has a hold deadline");
            }
            LastInput::InterfaceHold(i) => {
                let s = &self.s;
                let latest = s.clock + Duration::from_millis(DEADLINE_SPAN_MS_MAX);
                if !s.timers.all_at_or_before(latest) {
                    for (timer, at) in s.timers.armed() {
                        assert!(at <= latest, "{timer:?} at {at} is beyond the clock {} plus the span", s.clock);
                    }
                }
                self.check_interface(i, latest);
            }
        }
    }

    // ----- time ------------------------------------------------------------

    /// Takes in a new reading of the clock: rebases deadlines when it went
    /// back, restarts silence windows after a forward gap ([fover] Clocks).
    fn observe_time(&mut self, now: Instant) {
        let last = self.s.clock;
        if now < last {
            self.rebase_back(last.saturating_since(now));
        } else if self.s.mode != Mode::Standalone && now.saturating_since(last) > self.gap_threshold() {
            self.restart_silence_windows(now);
        }
        self.s.clock = now;
    }

    /// The clock stepped back by `back`: every stored instant moves with it,
    /// so the time left on each timer and window is unchanged.
    fn rebase_back(&mut self, back: Duration) {
        self.s.timers.rebase_back(back);
        self.s.cp.rebase_back(back);
        if let Some(at) = &mut self.s.peer.last_hello_at {
            *at = *at - back;
        }
        if let Some(run) = &mut self.s.lan_test {
            run.sent_at = run.sent_at - back;
        }
        for m in &mut self.s.ifaces {
            m.rebase_back(back);
        }
    }

    fn gap_threshold(&self) -> Duration {
        let p = self.config.unit_polltime;
        p + p / CLOCK_GAP_SLACK_DIVISOR
    }

    /// After a forward gap the unit heard nothing for a while through no fault
    /// of the peer's: each silence window gets its full length from `now`.
    fn restart_silence_windows(&mut self, now: Instant) {
        let p = self.config.unit_polltime;
        self.s.timers.extend_to(Timer::UnitHold, now + self.hold_window());
        self.s.timers.extend_to(Timer::LanTestVerdict, now + p);
        self.s.timers.extend_to(Timer::Negotiation, now + p);
        for i in 0..self.s.ifaces.len() {
            let g = self.s.iface_groups[i];
            let half = self.iface_half_hold(g);
            let phase = self.iface_phase_len(g);
            self.s.ifaces[i].restart_windows(now, half, phase);
        }
        for g in Group::ALL {
            self.rearm_interface_check(*g);
            // A jump must not make preempt fire early either: the delay starts again.
            if !self.planted(PlantedBug::PreemptIgnoresDelay) {
                let delay = self.config.groups[g.index()].preempt_delay.unwrap_or_default();
                self.s.timers.extend_to(Timer::Preempt(*g), now + delay);
            }
        }
    }

    /// Three polltimes with no hello before the LAN test.
    fn hold_window(&self) -> Duration {
        let p = self.config.unit_polltime;
        if self.planted(PlantedBug::HoldTimerTooShort) { p } else { p * UNIT_HELLOS_MISSED_MAX as u32 }
    }

    fn planted(&self, bug: PlantedBug) -> bool {
        planted::is_planted(self.config.planted_bug, bug)
    }

    // ----- frames ----------------------------------------------------------

    /// With the planted `ForgedFrameAccepted` bug, a frame that failed only its
    /// checksum or tag is decoded anyway.
    fn forged_frame(&self, bytes: &[u8], error: &AuthError) -> Option<Frame> {
        if !self.planted(PlantedBug::ForgedFrameAccepted)
            || !matches!(error, AuthError::Checksum | AuthError::Decryption)
        {
            return None;
        }
        let header = wire::decode_header(bytes).ok()?;
        let trailer = if header.flags & wire::FLAG_SEALED != 0 { auth::TAG_LEN } else { auth::CRC_LEN };
        let body = bytes.get(..bytes.len().checked_sub(trailer)?)?;
        let frame = wire::decode(body).ok()?;
        (frame.sender != self.config.role).then_some(frame)
    }

    fn on_frame(&mut self, now: Instant, link: Link, frame: Received) {
        let is_hello = matches!(frame.message, Some(Message::UnitHello(_)));
        if self.s.mode == Mode::Standalone && link == Link::Failover {
            if let Some(message) = &frame.message {
                self.cp_ack_while_refused(now, frame.boot_nonce, message);
            }
        }
        if self.s.mode == Mode::Standalone
            && !self.pairing_may_resume(now, frame.boot_nonce, link == Link::Failover && is_hello)
        {
            return;
        }
        if self.s.peer.retired_boots.contains(&frame.boot_nonce) {
            return;
        }
        if let Link::Data(iface) = link {
            self.s.peer.seen_on_data = true;
            self.on_interface_traffic(now, iface, true);
            if let Some(run) = &mut self.s.lan_test {
                // Any peer frame on a data interface during a LAN test shows
                // the peer alive, like a reply there: the test's own probes
                // or their replies may have been lost while the peer's later
                // frames get through.
                run.data_reply = true;
            }
            if self.s.peer.failed && self.s.mode == Mode::Enabled && self.s.peer.boot == Some(frame.boot_nonce) {
                // The peer it declared failed speaks on a data interface: it is
                // alive. Without this, a unit that declared its peer failed
                // during a full partition would take groups the peer still
                // holds once only the data links heal. A LAN test decides
                // whether the failover link failed (section 3); until its
                // verdict the peer is neither failed nor fresh, so no group
                // is taken for want of an active unit.
                self.s.peer.failed = false;
                if self.s.lan_test.is_none() {
                    self.start_lan_test(now);
                }
            }
        } else if link == Link::Failover
            && self.s.peer.failed
            && self.s.mode == Mode::Enabled
            && self.s.peer.boot == Some(frame.boot_nonce)
            && !is_hello
        {
            // The peer's current boot speaks on the failover link (a role
            // request, a LAN test, a late reply): it is alive and not gone,
            // so the verdict is withdrawn. Its hellos are still missing: the
            // hold timer brings the next LAN test. Without this, a unit that
            // yielded a group on the peer's request took it straight back.
            self.s.peer.failed = false;
            self.s.timers.set(Timer::UnitHold, now + self.hold_window());
        }
        // (Interface hellos without their message come from data interfaces only.)
        if let (Link::Failover | Link::State, Some(message)) = (link, &frame.message) {
            self.cp_on_frame(now, frame.boot_nonce, message);
        }
        match frame.message {
            Some(Message::UnitHello(hello)) if link == Link::Failover => {
                self.on_hello(now, frame.boot_nonce, frame.seq, hello)
            }
            Some(Message::LanTest(test)) => self.send(link, Message::LanTestReply(test)),
            Some(Message::LanTestReply(reply)) => self.on_lan_test_reply(link, reply),
            // Only from the boot whose hellos this unit has heard, each once.
            Some(Message::Control { channel_seq, body: Control::RoleRequest { group, request } })
                if self.s.peer.boot == Some(frame.boot_nonce) && channel_seq > self.s.peer.request_seq =>
            {
                self.s.peer.request_seq = channel_seq;
                self.s.peer.request_frame_seq = frame.seq;
                self.on_role_request(now, group, request)
            }
            // Interface hellos matter as traffic (above); the peer's view of
            // each interface comes with its unit hello. Other control
            // messages belong to later parts of the protocol.
            _ => {}
        }
    }

    fn on_hello(&mut self, now: Instant, boot: u64, seq: u64, hello: UnitHello) {
        if self.s.peer.boot == Some(boot) && seq <= self.s.peer.hello_seq {
            return; // an older hello, late
        }
        if self.s.peer.boot == Some(boot) && seq < self.s.peer.request_frame_seq {
            // Overtaken by a role request sent after it: its states may be
            // superseded, so they are not taken in. But it is the peer's
            // current boot, heard on the failover link: the peer is alive and
            // the link works. Ignoring that too left a unit that had marked
            // the link failed suspended for as long as every hello was
            // overtaken by the request resent with it (sweep seed 359675).
            self.on_peer_heard_on_failover_link(now);
            return;
        }
        self.stats.hellos_received += 1;
        if let Some(old) = self.s.peer.boot.filter(|b| *b != boot) {
            let retired = &mut self.s.peer.retired_boots;
            if retired.len() >= PEER_BOOTS_RETIRED_MAX {
                retired.remove(0);
            }
            retired.push(old);
            self.s.peer.request_seq = 0;
            self.s.peer.request_frame_seq = 0;
            self.on_peer_reboot();
        }
        self.s.peer.hello_seq = seq;
        self.s.peer.handed_over = [false; 2];
        for m in &mut self.s.ifaces {
            m.peer_status = None;
        }
        for entry in &hello.interfaces {
            if let Some(m) = self.s.ifaces.get_mut(entry.iface as usize) {
                m.peer_status = Some(entry.status);
            }
        }
        self.on_peer_interface_report(now);
        let peer = &mut self.s.peer;
        peer.boot = Some(boot);
        peer.hello = Some(hello);
        peer.fresh = true;
        self.on_peer_heard_on_failover_link(now);
        self.settle_requests();
    }

    /// A hello of the peer's current boot arrived on the failover link (taken
    /// in or not): a LAN test has passed, a failed link works again, and the
    /// hold window starts again.
    fn on_peer_heard_on_failover_link(&mut self, now: Instant) {
        let peer = &mut self.s.peer;
        peer.last_hello_at = Some(now);
        peer.failed = false;
        if self.s.lan_test.take().is_some() {
            self.s.timers.stop(Timer::LanTestVerdict);
            self.push_event(Event::LanTestPassed);
        }
        if self.s.link_failed {
            self.s.link_failed = false;
            self.push_event(Event::FailoverLinkRecovered);
            self.push_event(Event::FailoverResumed);
        }
        self.s.timers.set(Timer::UnitHold, now + self.hold_window());
    }

    /// The peer's hello carries a new boot nonce: what it was asked or
    /// promised in its previous life is void, and so are manual moves.
    fn on_peer_reboot(&mut self) {
        for gm in &mut self.s.groups {
            gm.request = None;
            gm.pinned = false;
        }
    }

    fn on_lan_test_reply(&mut self, link: Link, reply: LanTest) {
        let Some(run) = &mut self.s.lan_test else { return };
        if run.nonce != reply.nonce {
            return;
        }
        match link {
            Link::Failover => {
                if planted::is_planted(self.config.planted_bug, PlantedBug::LanTestReplyIgnored) {
                    return;
                }
                self.s.lan_test = None;
                self.s.timers.stop(Timer::LanTestVerdict);
                self.s.timers.set(Timer::UnitHold, self.s.clock + self.hold_window());
                self.push_event(Event::LanTestPassed);
            }
            _ => run.data_reply = true,
        }
    }

    // ----- timers ----------------------------------------------------------

    fn start_failover_timers(&mut self, now: Instant) {
        self.s.timers.set(Timer::UnitHello, now);
        for g in Group::ALL {
            self.s.timers.set(Timer::InterfaceHello(*g), now);
        }
    }

    fn on_timer(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::UnitHello => {
                self.send_hello();
                self.out.hello_due = false;
                self.out.requests_due = true;
                self.s.timers.set(Timer::UnitHello, now + self.config.unit_polltime);
            }
            Timer::UnitHold => {
                self.s.peer.fresh = false;
                self.confirm_interface_failures();
                if self.s.mode != Mode::Enabled || self.s.link_failed {
                    return;
                }
                if self.planted(PlantedBug::HoldTimerTooShort) && !self.s.peer.failed {
                    self.declare_peer_failed(now);
                } else {
                    self.start_lan_test(now);
                }
            }
            Timer::LanTestVerdict => self.lan_test_verdict(now),
            Timer::Negotiation => self.negotiation_timeout(now),
            Timer::InterfaceHello(g) => {
                self.send_interface_hellos(g);
                let p = self.config.groups[g.index()].interface_polltime;
                self.s.timers.set(Timer::InterfaceHello(g), now + p);
            }
            Timer::InterfaceCheck(g) => self.interface_check(now, g),
            Timer::Preempt(g) => self.preempt_due(now, g),
        }
    }

    /// Three polltimes without a hello: probe the peer on every link.
    fn start_lan_test(&mut self, now: Instant) {
        let nonce = self.next_random() as u32;
        self.send(Link::Failover, Message::LanTest(LanTest { nonce }));
        for i in 0..self.s.ifaces.len() {
            if self.s.ifaces[i].link_up {
                self.send(Link::Data(IfaceId(i as u16)), Message::LanTest(LanTest { nonce }));
            }
        }
        self.stats.lan_tests_sent += 1;
        self.s.lan_test = Some(LanTestRun { nonce, sent_at: now, data_reply: false });
        let hold_end = self.s.peer.last_hello_at.map_or(now, |at| at + self.config.unit_holdtime);
        let verdict = hold_end.max(now + self.config.unit_polltime);
        self.s.timers.set(Timer::LanTestVerdict, verdict);
        self.push_event(Event::LanTestStarted);
    }

    fn lan_test_verdict(&mut self, now: Instant) {
        let Some(run) = self.s.lan_test.take() else { return };
        debug_assert!(now >= run.sent_at + self.config.unit_polltime, "a LAN test always gets its full reply window");
        if run.data_reply {
            self.mark_failover_link_failed();
        } else if self.s.peer.failed {
            // Still silent: test again after another hold window.
            self.s.timers.set(Timer::UnitHold, now + self.hold_window());
        } else {
            self.declare_peer_failed(now);
        }
    }

    fn mark_failover_link_failed(&mut self) {
        if self.s.link_failed {
            return;
        }
        self.s.link_failed = true;
        self.s.peer.fresh = false;
        self.confirm_interface_failures();
        self.s.timers.stop(Timer::UnitHold);
        for g in Group::ALL {
            self.s.timers.stop(Timer::Preempt(*g));
            // The mate cannot be asked any more: a claim still waiting for its
            // answer is abandoned, as `failover active` would be refused now.
            // A hand-over stays: this unit gave the group up and must not take
            // it back on its own.
            let gm = &mut self.s.groups[g.index()];
            if matches!(gm.request, Some(group::Request::Claim(_))) {
                gm.request = None;
            }
        }
        self.push_event(Event::FailoverLinkFailed);
        self.push_event(Event::FailoverSuspended);
        let text =
            format!("({}) Lost Failover communications with mate on interface {FAILOVER_LINK_NAME}", self.role());
        self.syslog(105005, text);
    }

    /// No hello and no LAN test reply by the holdtime: the peer is gone; take
    /// over every group it was active for (only Standby Ready groups).
    fn declare_peer_failed(&mut self, now: Instant) {
        let peer = &mut self.s.peer;
        peer.failed = true;
        peer.fresh = false;
        self.confirm_interface_failures();
        self.s.lan_test = None;
        self.s.timers.stop(Timer::LanTestVerdict);
        // The peer keeps being tested: if it is only its hellos that are
        // lost, a LAN test reply withdraws the verdict (see `on_frame`).
        self.s.timers.set(Timer::UnitHold, now + self.hold_window());
        self.push_event(Event::PeerDeclaredFailed);
        for g in Group::ALL {
            let g = *g;
            self.s.groups[g.index()].request = None;
            self.s.timers.stop(Timer::Preempt(g));
            match self.group_state(g) {
                GroupState::StandbyReady => self.go_active(now, g, Reason::HelloNotHeard),
                GroupState::Negotiation => self.go_active(now, g, Reason::NoActiveUnitFound),
                GroupState::Failed if self.planted(PlantedBug::PromoteFailedGroup) => {
                    self.go_active(now, g, Reason::HelloNotHeard)
                }
                // Failed is never promoted; the standby path before Standby
                // Ready cannot be promoted by a failure either (it completes
                // at once today; see `path_step`).
                _ => {}
            }
        }
    }

    /// The negotiation holdtime passed. With no hello heard, this unit takes
    /// every negotiating group; if the peer answered on a data interface, the
    /// failover link is down at startup: it is marked failed.
    fn negotiation_timeout(&mut self, now: Instant) {
        if self.s.mode != Mode::Enabled || self.s.peer.hello.is_some() {
            return;
        }
        for g in Group::ALL {
            if self.group_state(*g) == GroupState::Negotiation {
                self.go_active(now, *g, Reason::NoActiveUnitFound);
            }
        }
        if self.s.peer.seen_on_data {
            self.mark_failover_link_failed();
        }
    }

    // ----- sending ---------------------------------------------------------

    fn send(&mut self, link: Link, message: Message) {
        let bytes = self.session.seal_on(auth_path(&self.config, link), message);
        self.queue_transmit(link, bytes);
    }

    /// Queues a sealed frame for the caller.
    fn queue_transmit(&mut self, link: Link, bytes: Vec<u8>) {
        if self.out.transmits.len() >= TRANSMITS_QUEUED_MAX {
            self.out.transmits.pop_front();
            self.stats.transmits_dropped += 1;
        }
        self.out.transmits.push_back(Transmit { link, bytes });
    }

    fn send_hello(&mut self) {
        let groups = [Group::One, Group::Two].map(|g| {
            let (failed, monitored) = self.interface_counts(g);
            GroupHealth { state: self.group_state(g), monitored, failed }
        });
        let interfaces = self
            .config
            .interfaces
            .iter()
            .zip(&self.s.ifaces)
            .enumerate()
            .filter(|(_, (c, _))| c.monitored)
            .take(wire::HELLO_INTERFACES_MAX)
            .map(|(i, (_, m))| InterfaceHealth { iface: i as u16, status: m.status })
            .collect();
        let hello =
            UnitHello { failover_on: self.s.mode == Mode::Enabled, version: self.config.version, groups, interfaces };
        self.send(Link::Failover, Message::UnitHello(hello));
        self.stats.hellos_sent += 1;
    }

    fn push_event(&mut self, event: Event) {
        if self.out.events.len() >= EVENTS_QUEUED_MAX {
            self.out.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.out.events.push_back(event);
    }

    fn syslog(&mut self, id: u32, text: String) {
        self.push_event(Event::Syslog { id, text });
    }

    fn next_random(&mut self) -> u64 {
        crate::rng::step(&mut self.s.rng)
    }

    /// The end of every input: settle the group rules, send a hello if a group
    /// changed state, check the invariants.
    fn finish_input(&mut self, now: Instant) {
        self.changed_anything();
        self.evaluate(now);
        if std::mem::take(&mut self.out.hello_due) && self.s.mode != Mode::Standalone {
            self.send_hello();
        }
        if std::mem::take(&mut self.out.requests_due) {
            self.resend_requests();
        }
        let bulk_received = self.bulk_sync_received();
        let quiet = self.cp_quiet();
        let channel = (self.s.cp.channel.stats(), self.s.cp.channel.queued());
        self.cp_after_input(now);
        // Settled: the group rules ran on what the configuration plane left
        // (it changes only their view of the bulk sync), no rule waits for
        // time to pass (a group handed back a polltime after a simultaneous
        // boot, `boot_yield`, is decided by whatever input comes after it),
        // and the plane had no work before and did none: nothing queued for
        // the channel, no config or bulk sync running or just ended (its end
        // can start the next one at the next input), and nothing sent or
        // queued by the channel (a plane that acted may act again on the same
        // state: a mate active for a group this unit holds is resynced at
        // every end of input while it lasts).
        self.settled = quiet
            && self.cp_quiet()
            && channel == (self.s.cp.channel.stats(), self.s.cp.channel.queued())
            && bulk_received == self.bulk_sync_received()
            && self.s.groups.iter().all(|g| g.boot_yield.is_none());
        self.check_invariants();
    }

    /// Whether other hosts' traffic on `iface` at `now` would change nothing
    /// but the clock: the clock moves forwards within the gap that restarts
    /// silence windows, the interface is not being tested nor failed (traffic
    /// only ends tests and failures), and the last input's end left nothing
    /// to do (`settled`): the group rules are at a fixed point (running them
    /// again on the same state changes nothing) and so is the configuration
    /// plane. In debug builds every such input is checked against the full
    /// path.
    /// Before an input at `now`: the last input's end settled (see
    /// `traffic_changes_nothing`), nothing waits for the end of this one, and
    /// the clock moves forwards within the gap that restarts silence windows.
    fn settled_before(&self, now: Instant) -> bool {
        let clock_only = now >= self.s.clock
            && (self.s.mode == Mode::Standalone || now.saturating_since(self.s.clock) <= self.gap_threshold());
        self.settled && clock_only && !self.out.hello_due && !self.out.requests_due
    }

    fn traffic_changes_nothing(&self, now: Instant, iface: IfaceId) -> bool {
        let i = iface.0 as usize;
        let clock_only = now >= self.s.clock
            && (self.s.mode == Mode::Standalone || now.saturating_since(self.s.clock) <= self.gap_threshold());
        let interface_unchanged = !self.s.ifaces[i].link_up
            || !self.config.interfaces[i].monitored
            || self.s.mode == Mode::Standalone
            || !matches!(
                self.s.ifaces[i].status,
                InterfaceStatus::Testing | InterfaceStatus::Failed | InterfaceStatus::Unknown
            );
        self.settled && clock_only && interface_unchanged && !self.out.hello_due && !self.out.requests_due
    }

    /// Whether the peer's interface hello on `iface` at `now` (from boot
    /// `boot`) would only restart the interface's hold window, and so move the
    /// interface-check timer: the clock moves forwards within the gap that
    /// restarts silence windows, the unit takes part in failover (no pairing
    /// decision waits), the peer is not declared failed and no LAN test runs
    /// (any peer frame counts for them), the boot is not retired, the peer
    /// was heard on a data interface before, the interface is not being
    /// tested nor failed, and the last input's end left nothing to do: the
    /// end of this input would do nothing either, since neither the group
    /// rules nor the configuration plane read interface deadlines. In debug
    /// builds every such input is checked against the full path.
    fn interface_hello_moves_only_deadlines(&self, now: Instant, iface: IfaceId, boot: u64) -> bool {
        let i = iface.0 as usize;
        let clock_only = now >= self.s.clock && now.saturating_since(self.s.clock) <= self.gap_threshold();
        let status = self.s.ifaces.get(i).map(|m| m.status);
        let known = self.s.ifaces.get(i).is_some_and(|m| m.peer_known);
        self.settled
            && known
            && clock_only
            && self.s.mode == Mode::Enabled
            && !self.s.peer.failed
            && self.s.lan_test.is_none()
            && self.s.peer.seen_on_data
            && !self.s.peer.retired_boots.contains(&boot)
            && !matches!(
                status,
                None | Some(InterfaceStatus::Testing | InterfaceStatus::Failed | InterfaceStatus::Unknown)
            )
            && !self.out.hello_due
            && !self.out.requests_due
    }

    /// The input may have changed anything.
    fn changed_anything(&mut self) {
        self.version = self.version.wrapping_add(1);
        self.observed_version = self.observed_version.wrapping_add(1);
        self.last_input = LastInput::Anything;
    }

    /// Whether the peer's hello (boot `boot`, frame `seq`) at `now` repeats
    /// the last one and would only move the hold deadline: a settled unit
    /// (see `settled_before`) taking part in failover, the peer's current
    /// boot (for the channel too), a newer frame, the same hello as the one
    /// held, a current peer view that is neither failed, suspended, under a
    /// LAN test nor handed a group over, no role request pending (a hello
    /// settles them), and no interface failed or Unknown (a hello confirms
    /// failures). Then neither the group rules nor the configuration plane
    /// see anything new. In debug builds every such input is checked against
    /// the full path.
    fn peer_hello_repeats(&self, now: Instant, boot: u64, seq: u64, hello: &UnitHello) -> bool {
        let peer = &self.s.peer;
        self.settled_before(now)
            && self.s.mode == Mode::Enabled
            && peer.boot == Some(boot)
            && self.s.cp.channel.peer_boot() == Some(boot)
            && seq > peer.hello_seq
            && seq >= peer.request_frame_seq
            && peer.fresh
            && !peer.failed
            && !self.s.link_failed
            && self.s.lan_test.is_none()
            && peer.handed_over == [false; 2]
            && !peer.retired_boots.contains(&boot)
            && self.s.groups.iter().all(|g| g.request.is_none())
            && self.s.ifaces.iter().all(|m| !matches!(m.status, InterfaceStatus::Failed | InterfaceStatus::Unknown))
            && peer.hello.as_ref() == Some(hello)
    }

    /// Debug builds: a shortcut left the unit as `full`, the whole path of
    /// the input, leaves `reference` (the unit before it): the same protocol
    /// state and no other output.
    #[cfg(debug_assertions)]
    fn check_shortcut(&self, mut reference: Unit, what: &str, full: impl FnOnce(&mut Unit)) {
        full(&mut reference);

        assert!(
            reference.s == self.s
                && reference.out.transmits.len() == self.out.transmits.len()
                && reference.out.events.len() == self.out.events.len(),
            "{what} changed the unit unlike the full path"
        );
    }

    fn check_invariants(&self) {
        #[cfg(debug_assertions)]
        self.invariants();
    }

    /// The peer's last hello, while it is current.
    fn fresh_peer(&self) -> Option<&UnitHello> {
        self.s.peer.hello.as_ref().filter(|_| self.s.peer.fresh)
    }
}

/// What an input may have changed (see [`Unit::check_last_input`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LastInput {
    Anything,
    /// Only the clock (forwards) and statistics.
    Nothing,
    /// Only the hold window of this interface, and so its group's interface-check timer.
    InterfaceHold(usize),
    /// Only timers re-armed (the hello timers, the peer's hold timer), frame
    /// numbers and frames sent (hellos, role requests re-sent).
    Timers,
}

/// A received frame as [`Unit::on_frame`] takes it: an interface hello read
/// in place comes without its message (only its arrival matters).
struct Received {
    boot_nonce: u64,
    seq: u64,
    message: Option<Message>,
}

impl From<Frame> for Received {
    fn from(frame: Frame) -> Received {
        Received { boot_nonce: frame.boot_nonce, seq: frame.seq, message: Some(frame.message) }
    }
}

/// The path the failover key binds a frame on `link` to: a data interface by
/// its configured names (the mate's interface on that link has the same).
fn auth_path(config: &UnitConfig, link: Link) -> auth::Path<'_> {
    match link {
        Link::Failover => auth::Path::Failover,
        Link::State => auth::Path::State,
        Link::Data(i) => match config.interfaces.get(i.0 as usize) {
            Some(c) => auth::Path::Data { context: &c.context, interface: &c.name },
            None => auth::Path::Data { context: "", interface: "" },
        },
    }
}

/// Whether `bytes` start with the wire magic (a failover frame, valid or not).
fn is_failover_frame(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && u16::from_be_bytes([bytes[0], bytes[1]]) == wire::MAGIC
}

use crate::connections::StateHasher;

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
