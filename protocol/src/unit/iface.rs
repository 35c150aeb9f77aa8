//! Interface health monitoring (PROTOCOL.md section 3, "Interface health").
//!
//! Each monitored data interface has a [`Monitor`]. The peer's frames on the
//! interface (interface hellos, probes and their replies) keep it Normal. With
//! no frame from the peer for half the interface holdtime it goes to Testing:
//! up to [`INTERFACE_TEST_PHASES`] phases of `holdtime / 16`, each opened with
//! a probe (a LAN test on the interface, which the peer answers). Any traffic
//! heard during a phase (the peer's, or other hosts' datagrams) ends the test:
//! Normal. Nothing heard in every phase: Failed, or Unknown (not counted)
//! when the peer reports the same interface failed too. A Failed or Unknown
//! interface becomes Normal again as soon as it hears traffic. Link down is a
//! failure at once.
//!
//! An interface is *Waiting* until the first frame from the peer arrives on
//! it: the peer's address is unknown, so it is not tested.

use super::{Event, IfaceId, Mode, Timer, Unit};
use crate::constants::{INTERFACE_TEST_PHASE_DIVISOR, INTERFACE_TEST_PHASES};
use crate::time::Instant;
use crate::types::{Group, InterfaceStatus};
use crate::wire::{InterfaceHelloRef, LanTest, Message};
use core::time::Duration;

/// The earlier of two optional instants (`None`: no deadline).
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// One data interface's monitoring state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Monitor {
    pub(crate) status: InterfaceStatus,
    /// The physical link is up.
    pub(crate) link_up: bool,
    /// A frame from the peer has been heard on this interface (not Waiting).
    pub(crate) peer_known: bool,
    /// No peer frame by then: start testing.
    pub(crate) hold: Option<Instant>,
    /// Test phase, 1 to [`INTERFACE_TEST_PHASES`] while Testing; 0 otherwise.
    pub(crate) phase: u8,
    /// End of the current test phase.
    pub(crate) phase_end: Option<Instant>,
    /// The peer's status of this interface, from its last hello.
    pub(crate) peer_status: Option<InterfaceStatus>,
    /// A Failed status counts against the policy only once confirmed: by a
    /// hello from the peer, sent after the failure, that does not show the
    /// peer still testing the same interface (else both units failing it at
    /// once would fail over before either learns it is Unknown), or at once
    /// when there is no current peer to ask.
    pub(crate) confirmed: bool,
}

impl Monitor {
    pub(crate) fn new() -> Monitor {
        Monitor {
            status: InterfaceStatus::Normal,
            link_up: true,
            peer_known: false,
            hold: None,
            phase: 0,
            phase_end: None,
            peer_status: None,
            confirmed: true,
        }
    }

    pub(crate) fn rebase_back(&mut self, back: Duration) {
        for at in [&mut self.hold, &mut self.phase_end].into_iter().flatten() {
            *at = *at - back;
        }
    }

    /// After a forward clock gap: the hold and the current phase restart.
    pub(crate) fn restart_windows(&mut self, now: Instant, half_hold: Duration, phase_len: Duration) {
        if let Some(at) = &mut self.hold {
            *at = (*at).max(now + half_hold);
        }
        if let Some(at) = &mut self.phase_end {
            *at = (*at).max(now + phase_len);
        }
    }

    /// Counted against the interface policy: failed (Unknown is not), and a
    /// Failed status only once confirmed.
    fn counts_as_failed(&self) -> bool {
        self.status.is_failed() && (self.confirmed || self.status != InterfaceStatus::Failed)
    }

    #[inline]
    pub(crate) fn check(&self, index: usize, latest: Instant) {
        // The whole rule set as one expression first (this runs after every
        // input of every simulated run); `check_failed` says which rule broke.
        let testing = self.status == InterfaceStatus::Testing;
        let ok = testing == (self.phase > 0)
            && testing == self.phase_end.is_some()
            && self.phase as u64 <= INTERFACE_TEST_PHASES
            && !(testing && self.hold.is_some())
            && self.link_up == (self.status != InterfaceStatus::LinkDown)
            && (self.hold.is_none() || self.peer_known)
            && self.hold.map_or(0, |at| at.0) <= latest.0
            && self.phase_end.map_or(0, |at| at.0) <= latest.0;
        if !ok {
            self.check_failed(index, latest);
        }
    }

    #[cold]
    #[inline(never)]
    fn check_failed(&self, index: usize, latest: Instant) {
        let testing = self.status == InterfaceStatus::Testing;
        assert_eq!(testing, self.phase > 0, "interface {index}: Testing iff in a test phase");
        assert_eq!(testing, self.phase_end.is_some(), "interface {index}: a phase has an end iff Testing");
        assert!(self.phase as u64 <= INTERFACE_TEST_PHASES, "interface {index}: phase beyond the last");
        assert!(!testing || self.hold.is_none(), "interface {index}: no hold deadline while Testing");
        assert_eq!(
            self.link_up,
            self.status != InterfaceStatus::LinkDown,
            "interface {index}: Link Down iff the link is down"
        );
        assert!(self.hold.is_none() || self.peer_known, "interface {index}: a Waiting interface is not held");
        for at in [self.hold, self.phase_end].into_iter().flatten() {
            assert!(at <= latest, "interface {index}: deadline {at} too far ahead");
        }
    }
}

impl Unit {
    /// Failed and monitored interfaces of each group (indexed by
    /// [`Group::index`]), in one pass: what [`Unit::failed_interfaces`] gives
    /// per group.
    pub(crate) fn failed_interfaces_by_group(&self) -> [(u16, u16); 2] {
        let mut counts = [(0u16, 0u16); 2];
        let ifaces = self.s.ifaces.iter().zip(&self.s.iface_groups).zip(&self.config.interfaces);
        for ((m, g), c) in ifaces {
            if c.monitored {
                let n = &mut counts[g.index()];
                n.1 = n.1.saturating_add(1);
                n.0 = n.0.saturating_add(u16::from(m.counts_as_failed()));
            }
        }
        counts
    }

    /// Failed and monitored interfaces of group `g` here.
    pub(super) fn interface_counts(&self, g: Group) -> (u16, u16) {
        let mut failed = 0u16;
        let mut monitored = 0u16;
        let ifaces = self.s.ifaces.iter().zip(&self.s.iface_groups).zip(&self.config.interfaces);
        for ((m, ig), c) in ifaces {
            if *ig == g && c.monitored {
                monitored = monitored.saturating_add(1);
                failed = failed.saturating_add(u16::from(m.counts_as_failed()));
            }
        }
        (failed, monitored)
    }

    pub(super) fn iface_half_hold(&self, g: Group) -> Duration {
        self.config.groups[g.index()].interface_holdtime / 2
    }

    pub(super) fn iface_phase_len(&self, g: Group) -> Duration {
        self.config.groups[g.index()].interface_holdtime / INTERFACE_TEST_PHASE_DIVISOR as u32
    }

    fn is_monitored(&self, i: usize) -> bool {
        self.s.mode != Mode::Standalone && self.config.interfaces[i].monitored
    }

    fn iface_name(&self, i: usize) -> &str {
        &self.config.interfaces[i].name
    }

    fn set_interface_status(&mut self, i: usize, to: InterfaceStatus) {
        let from = self.s.ifaces[i].status;
        if from == to {
            return;
        }
        self.work.state = true;
        self.s.ifaces[i].status = to;
        if self.config.interfaces[i].monitored {
            self.push_event(Event::InterfaceStatusChanged { iface: IfaceId(i as u16), from, to });
        }
    }

    /// The earliest interface deadline of each group (indexed by [`Group::index`]).
    fn interface_deadlines(&self) -> [Option<Instant>; 2] {
        let mut next = [None::<Instant>; 2];
        for (m, g) in self.s.ifaces.iter().zip(&self.s.iface_groups) {
            let n = &mut next[g.index()];
            for at in [m.hold, m.phase_end].into_iter().flatten() {
                if n.is_none_or(|n| at < n) {
                    *n = Some(at);
                }
            }
        }
        next
    }

    /// Invariants of the interfaces: each monitor's rules (deadlines at most
    /// `latest`), and `InterfaceCheck(g)` armed at the earliest interface
    /// deadline of each group (the timer is re-armed whenever one changes).
    /// One pass over the interfaces.
    pub(super) fn check_interfaces(&self, latest: Instant) {
        let mut next = [None::<Instant>; 2];
        for (i, (m, g)) in self.s.ifaces.iter().zip(&self.s.iface_groups).enumerate() {
            m.check(i, latest);
            let n = &mut next[g.index()];
            *n = earliest(earliest(*n, m.hold), m.phase_end);
        }
        debug_assert_eq!(next, self.interface_deadlines(), "one pass finds the deadlines rearm_interface_check does");
        for g in Group::ALL.iter().copied() {
            assert_eq!(
                self.s.timers.get(Timer::InterfaceCheck(g)),
                next[g.index()],
                "group {g}: the interface check timer is not at the earliest interface deadline"
            );
        }
    }

    /// The invariants of interface `i` alone: its monitor's rules, and its
    /// group's interface-check timer at the earliest deadline of the group.
    pub(super) fn check_interface(&self, i: usize, latest: Instant) {
        self.s.ifaces[i].check(i, latest);
        let g = self.s.iface_groups[i];
        let mut next = None;
        for (m, _) in self.s.ifaces.iter().zip(&self.s.iface_groups).filter(|(_, ig)| **ig == g) {
            next = earliest(earliest(next, m.hold), m.phase_end);
        }
        assert_eq!(
            self.s.timers.get(Timer::InterfaceCheck(g)),
            next,
            "group {g}: the interface check timer is not at the earliest interface deadline"
        );
    }

    /// Re-arms `InterfaceCheck(g)` at the earliest deadline of the group's interfaces.
    pub(super) fn rearm_interface_check(&mut self, g: Group) {
        let mut next = None;
        for (m, _) in self.s.ifaces.iter().zip(&self.s.iface_groups).filter(|(_, ig)| **ig == g) {
            next = earliest(earliest(next, m.hold), m.phase_end);
        }
        match next {
            Some(at) => self.s.timers.set(Timer::InterfaceCheck(g), at),
            None => self.s.timers.stop(Timer::InterfaceCheck(g)),
        }
    }

    /// Traffic heard on `iface`: a frame from the peer (`from_peer`), or other
    /// hosts' datagrams.
    #[inline]
    pub(super) fn on_interface_traffic(&mut self, now: Instant, iface: IfaceId, from_peer: bool) {
        let i = iface.0 as usize;
        let (Some(m), Some(c)) = (self.s.ifaces.get(i), self.config.interfaces.get(i)) else { return };
        if self.s.mode == Mode::Standalone || !c.monitored || !m.link_up {
            return;
        }
        // Other hosts' traffic on an interface that is neither tested nor
        // failed, the common input, changes nothing.
        if !from_peer
            && !matches!(m.status, InterfaceStatus::Testing | InterfaceStatus::Failed | InterfaceStatus::Unknown)
        {
            return;
        }
        self.interface_traffic_heard(now, i, from_peer);
    }

    /// [`Unit::on_interface_traffic`] on a monitored interface whose link is
    /// up, when the traffic may change something.
    #[inline(never)]
    fn interface_traffic_heard(&mut self, now: Instant, i: usize, from_peer: bool) {
        let g = self.s.iface_groups[i];
        let half = self.iface_half_hold(g);
        let m = &mut self.s.ifaces[i];
        let deadlines = (m.hold, m.phase_end);
        if from_peer {
            self.work.state |= !m.peer_known;
            self.work.iface_hold(i);
            m.peer_known = true;
            m.hold = Some(now + half);
        }
        match m.status {
            InterfaceStatus::Testing => {
                m.phase = 0;
                m.phase_end = None;
                m.hold = Some(now + half);
                let text = format!("({}) Testing on interface {} Passed", self.config.role, self.iface_name(i));
                self.syslog(105009, text);
                self.set_interface_status(i, InterfaceStatus::Normal);
            }
            InterfaceStatus::Failed | InterfaceStatus::Unknown => {
                if m.peer_known {
                    m.hold = Some(now + half);
                }
                self.set_interface_status(i, InterfaceStatus::Normal);
            }
            _ => {}
        }
        // `InterfaceCheck(g)` is at the earliest deadline of the group (an
        // invariant): only a changed deadline can move it. Other hosts'
        // traffic on a Normal interface, the common input, changes none.
        if (self.s.ifaces[i].hold, self.s.ifaces[i].phase_end) != deadlines {
            self.rearm_interface_check(g);
        }
    }

    /// `InterfaceCheck(g)` fired: start or advance the tests that are due.
    pub(super) fn interface_check(&mut self, now: Instant, g: Group) {
        for i in 0..self.s.ifaces.len() {
            if self.s.iface_groups[i] != g {
                continue;
            }
            if !self.is_monitored(i) {
                let m = &mut self.s.ifaces[i];
                m.hold = None;
                debug_assert!(m.phase_end.is_none(), "an unmonitored interface is never tested");
                continue;
            }
            let phase_len = self.iface_phase_len(g);
            let m = &mut self.s.ifaces[i];
            if m.phase == 0 && m.hold.is_some_and(|at| at <= now) {
                m.hold = None;
                if m.status == InterfaceStatus::Normal && m.link_up {
                    m.phase = 1;
                    m.phase_end = Some(now + phase_len);
                    let text = format!("({}) Testing Interface {}", self.config.role, self.iface_name(i));
                    self.syslog(105008, text);
                    self.set_interface_status(i, InterfaceStatus::Testing);
                    self.send_probe(i);
                }
            } else if m.phase > 0 && m.phase_end.is_some_and(|at| at <= now) {
                if (m.phase as u64) < INTERFACE_TEST_PHASES {
                    m.phase += 1;
                    m.phase_end = Some(now + phase_len);
                    self.send_probe(i);
                } else {
                    m.phase = 0;
                    m.phase_end = None;
                    m.confirmed = !self.s.peer.fresh;
                    let text = format!("({}) Testing on interface {} Failed", self.config.role, self.iface_name(i));
                    self.syslog(105009, text);
                    self.set_interface_status(i, InterfaceStatus::Failed);
                    self.apply_unknown_rule(IfaceId(i as u16));
                }
            }
        }
        self.rearm_interface_check(g);
    }

    /// One probe exchange: a LAN test on the interface, which the peer answers.
    fn send_probe(&mut self, i: usize) {
        let nonce = self.next_random() as u32;
        self.send(super::Link::Data(IfaceId(i as u16)), Message::LanTest(LanTest { nonce }));
    }

    /// An interface failed on both units is Unknown (not counted); Unknown
    /// goes back to Failed when the peer no longer reports it failed.
    pub(super) fn apply_unknown_rule(&mut self, iface: IfaceId) {
        let i = iface.0 as usize;
        let m = &mut self.s.ifaces[i];
        let peer_failed = matches!(m.peer_status, Some(InterfaceStatus::Failed | InterfaceStatus::Unknown));
        match m.status {
            InterfaceStatus::Failed if peer_failed => self.set_interface_status(i, InterfaceStatus::Unknown),
            InterfaceStatus::Unknown if !peer_failed => {
                m.confirmed = true;
                self.set_interface_status(i, InterfaceStatus::Failed)
            }
            _ => {}
        }
    }

    /// A hello from the peer arrived (its statuses are in `peer_status`): it
    /// confirms the failures it does not show the peer still testing, then
    /// the Unknown rule applies.
    pub(super) fn on_peer_interface_report(&mut self) {
        for i in 0..self.s.ifaces.len() {
            let m = &mut self.s.ifaces[i];
            if m.status == InterfaceStatus::Failed && m.peer_status != Some(InterfaceStatus::Testing) {
                self.work.state |= !m.confirmed;
                m.confirmed = true;
            }
            self.apply_unknown_rule(IfaceId(i as u16));
        }
    }

    /// The peer's view is no longer current: nobody to compare with, so
    /// pending failures count.
    pub(super) fn confirm_interface_failures(&mut self) {
        for m in &mut self.s.ifaces {
            m.confirmed = true;
        }
    }

    /// Interface hellos on each monitored interface of `g` whose link is up.
    pub(super) fn send_interface_hellos(&mut self, g: Group) {
        for i in 0..self.s.ifaces.len() {
            if self.s.iface_groups[i] != g || !self.is_monitored(i) || !self.s.ifaces[i].link_up {
                continue;
            }
            let c = &self.config.interfaces[i];
            let hello = InterfaceHelloRef { context: &c.context, interface: &c.name, status: self.s.ifaces[i].status };
            let bytes = self.session.seal_interface_hello(hello);
            self.queue_transmit(super::Link::Data(IfaceId(i as u16)), bytes);
        }
    }

    /// The physical link of `iface` changed.
    pub(super) fn on_link_change(&mut self, now: Instant, iface: IfaceId, up: bool) {
        let i = iface.0 as usize;
        if i >= self.s.ifaces.len() || self.s.ifaces[i].link_up == up {
            return;
        }
        let g = self.s.iface_groups[i];
        let half = self.iface_half_hold(g);
        let monitored = self.is_monitored(i);
        let m = &mut self.s.ifaces[i];
        m.link_up = up;
        m.phase = 0;
        m.phase_end = None;
        m.hold = (up && m.peer_known && monitored).then_some(now + half);
        let (id, state, status) =
            if up { (411001, "up", InterfaceStatus::Normal) } else { (411002, "down", InterfaceStatus::LinkDown) };
        let text = format!("Line protocol on Interface {}, changed state to {state}", self.iface_name(i));
        self.syslog(id, text);
        self.set_interface_status(i, status);
        self.rearm_interface_check(g);
    }

    /// Forgets any test of interface `i` in progress (going standalone).
    pub(super) fn stop_interface_test(&mut self, i: usize) {
        let m = &mut self.s.ifaces[i];
        m.phase = 0;
        m.phase_end = None;
        m.hold = None;
        let status = if m.link_up { InterfaceStatus::Normal } else { InterfaceStatus::LinkDown };
        self.set_interface_status(i, status);
    }

    /// `[no] monitor-interface`: starts or stops monitoring `iface`.
    pub(super) fn set_monitored(&mut self, now: Instant, iface: IfaceId, monitored: bool) {
        let i = iface.0 as usize;
        self.config.interfaces[i].monitored = monitored;
        let g = self.s.iface_groups[i];
        let half = self.iface_half_hold(g);
        let m = &mut self.s.ifaces[i];
        m.phase = 0;
        m.phase_end = None;
        m.hold = (monitored && m.link_up && m.peer_known).then_some(now + half);
        let status = if m.link_up { InterfaceStatus::Normal } else { InterfaceStatus::LinkDown };
        self.set_interface_status(i, status);
        self.rearm_interface_check(g);
    }
}
