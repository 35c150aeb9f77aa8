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
//! * `rules`: the group rules and the transitions of section 4;
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
mod effect;
mod event;
mod group;
mod health;
mod iface;
mod invariants;
mod observe;
mod pairing;
mod requests;
mod route;
mod rules;
mod show;
mod stateful;
mod timer;
mod view;

pub use config_plane::{FLASH_BYTES_DEFAULT, SYSLOG_HEAL_DISCARD, default_running_config};
pub use event::{Event, Statistics};
pub use group::{HistoryEntry, Reason};
pub use stateful::ReplicationMark;
pub use timer::Timer;
pub use view::{ConfigPlaneView, GroupView, IfaceView, NodeView, PeerView, StatePlaneView};

use crate::config::command::{Command, CommandError};
use crate::config::flash::Flash;
use crate::config::settings::{ConfigError, UnitConfig};
use crate::constants::*;
use crate::planted::{self, PlantedBug};
use crate::time::Instant;
pub use crate::types::IfaceId;
use crate::types::{Group, GroupState, InterfaceStatus, Role, Space};
use crate::wire::auth::{self, AuthError, Opened, Session};
use crate::wire::{self, Control, Frame, GroupHealth, InterfaceHealth, LanTest, Message, UnitHello};
use core::hash::{Hash, Hasher};
use core::time::Duration;
use group::GroupMachine;
use health::{LanTestRun, Peer};
use invariants::{Ifaces, LastInput, Work};
use std::collections::VecDeque;
use timer::TimerTable;

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
    /// Bumped by every input but a no-op (see [`Unit::state_version`]). Not protocol state.
    version: u64,
    /// Bumped by every input that may change more than deadlines (see
    /// [`Unit::observed_version`]). Not protocol state.
    observed_version: u64,
    /// What the last input may have changed (see [`Unit::check_last_input`]). Not protocol state.
    last_input: LastInput,
    /// The last full end of input left nothing for the end of another input
    /// to do on the same state (see [`Unit::finish_input`]). Not protocol state.
    settled: bool,
    /// What the current input changed, marked by the code that changes it
    /// (see [`Work`]). Not protocol state.
    work: Work,
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
            version: 0,
            observed_version: 0,
            last_input: LastInput::Anything,
            settled: false,
            work: Work::default(),
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
                self.work = Work::CLEAN;
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
            Ok(Opened::Frame(frame)) => Received::from(frame),
            Ok(Opened::InterfaceHello { header, .. }) => {
                Received { boot_nonce: header.boot_nonce, seq: header.seq, message: None }
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
        // Opening the frame moved the session's replay window: a frame number.
        self.work = Work { timers: true, ..Work::CLEAN };
        self.observe_time(now);
        self.on_frame(now, link, frame);
        self.finish_input(now);
    }

    /// The deadline returned by [`Unit::poll_timeout`] has been reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.work = Work::CLEAN;
        self.observe_time(now);
        let mut fired = 0;
        while let Some(timer) = self.s.timers.expired(now) {
            if fired >= TIMER_FIRINGS_PER_INPUT_MAX {
                debug_assert!(false, "timer {timer:?} keeps firing at {now}");
                break;
            }
            fired += 1;
            self.s.timers.stop(timer);
            self.on_timer(now, timer);
        }
        if self.s.cp.channel.timeout_due(now) {
            self.work.state = true;
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

    // ----- frames ----------------------------------------------------------

    /// With the planted `ForgedFrameAccepted` bug, a frame that failed only its
    /// checksum or tag is decoded anyway.
    pub(super) fn forged_frame(&self, bytes: &[u8], error: &AuthError) -> Option<Frame> {
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
        // A unit hello on the failover link and an interface hello mark what
        // they change; any other frame may change anything.
        let marked =
            matches!((link, &frame.message), (Link::Failover, Some(Message::UnitHello(_))) | (Link::Data(_), None));
        if !marked || self.s.mode != Mode::Enabled {
            self.work.state = true;
        }
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
            self.work.state |= !self.s.peer.seen_on_data;
            self.s.peer.seen_on_data = true;
            self.on_interface_traffic(now, iface, true);
            if let Some(run) = &mut self.s.lan_test {
                self.work.state = true;
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
                self.work.state = true;
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
            Some(Message::LanTestReply(reply)) => self.on_lan_test_reply(now, link, reply),
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

    // ----- sending ---------------------------------------------------------

    pub(super) fn send(&mut self, link: Link, message: Message) {
        let bytes = self.session.seal_on(auth_path(&self.config, link), message);
        self.queue_transmit(link, bytes);
    }

    /// Queues a sealed frame for the caller.
    pub(super) fn queue_transmit(&mut self, link: Link, bytes: Vec<u8>) {
        self.work.timers = true;
        if self.out.transmits.len() >= TRANSMITS_QUEUED_MAX {
            self.out.transmits.pop_front();
            self.stats.transmits_dropped += 1;
        }
        self.out.transmits.push_back(Transmit { link, bytes });
    }

    pub(super) fn push_event(&mut self, event: Event) {
        self.work.state = true;
        if self.out.events.len() >= EVENTS_QUEUED_MAX {
            self.out.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.out.events.push_back(event);
    }

    pub(super) fn syslog(&mut self, id: u32, text: String) {
        self.push_event(Event::Syslog { id, text });
    }

    pub(super) fn next_random(&mut self) -> u64 {
        self.s.rng = self.s.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.s.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The end of every input: settle the group rules, send a hello if a group
    /// changed state, check the invariants.
    ///
    /// An input whose code marked no change but to the clock, deadlines,
    /// frame numbers and frames sent ([`Work`]) on a settled unit skips it:
    /// neither the group rules nor the planes read any of those, so they
    /// would do nothing; only the role requests a unit hello re-sends go out.
    #[inline]
    pub(super) fn finish_input(&mut self, now: Instant) {
        if !self.work.state && self.settled {
            debug_assert!(!self.out.hello_due, "a group changed state unmarked");
            if std::mem::take(&mut self.out.requests_due) {
                self.resend_requests();
            }
            let work = std::mem::take(&mut self.work);
            self.last_input = match (work.timers, work.ifaces) {
                (false, Ifaces::None) => LastInput::Nothing,
                (_, ifaces) => LastInput::Deadlines(ifaces),
            };
            if self.last_input != LastInput::Nothing {
                self.version = self.version.wrapping_add(1);
            }
            return;
        }
        self.finish_input_fully(now);
    }

    /// The end of an input that may have changed state, or on a unit not settled.
    #[inline(never)]
    fn finish_input_fully(&mut self, now: Instant) {
        self.work = Work::default();
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

    /// The input may have changed anything.
    pub(super) fn changed_anything(&mut self) {
        self.version = self.version.wrapping_add(1);
        self.observed_version = self.observed_version.wrapping_add(1);
        self.last_input = LastInput::Anything;
    }

    pub(super) fn check_invariants(&self) {
        #[cfg(debug_assertions)]
        self.invariants();
    }

    /// The peer's last hello, while it is current.
    pub(super) fn fresh_peer(&self) -> Option<&UnitHello> {
        self.s.peer.hello.as_ref().filter(|_| self.s.peer.fresh)
    }
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

/// What a unit hands out after an input, in the order [`drain`] takes it.
pub enum Output {
    /// A frame to send.
    Transmit(Transmit),
    /// An event to report.
    Event(Event),
}

/// Drains a unit after an input, as the drain contract requires: every frame,
/// then every event, to `output`; then `deadline` reads the unit's next
/// deadline ([`Unit::poll_timeout`], or a copy of it kept while
/// [`Unit::state_version`] stands) and its answer is returned.
#[inline]
pub fn drain<D>(unit: &mut Unit, mut output: impl FnMut(Output), deadline: impl FnOnce(&Unit) -> D) -> D {
    while let Some(t) = unit.poll_transmit() {
        output(Output::Transmit(t));
    }
    while let Some(e) = unit.poll_event() {
        output(Output::Event(e));
    }
    deadline(unit)
}
