//! The unit's invariants, all of them or only those the last input could
//! have broken, and the record of what an input changed ([`Work`]).

use super::*;

impl Unit {
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
        self.s.cp.invariants();
        self.s.st.invariants(self.config.state_link);
    }

    /// Checks the invariants the last input could have broken, assuming
    /// that they held before it: all of them ([`Unit::invariants`]) after
    /// most inputs; none after one that changed nothing but the clock
    /// (forwards) and statistics; after one that only moved deadlines (sent
    /// hellos, took in a hello that repeats the last one, restarted hold
    /// windows of interfaces), the bound on every deadline and on the
    /// transmit queue, that the hello timer runs, that a current peer view
    /// has a hold deadline, and the rules of those interfaces and their
    /// groups' interface-check timers. Panics on a bug, like
    /// [`Unit::invariants`]. For a caller that checks after every input.
    pub fn check_last_input(&self) {
        match self.last_input {
            LastInput::Anything => self.invariants(),
            LastInput::Nothing => {}
            LastInput::Deadlines(ifaces) => {
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
                match ifaces {
                    Ifaces::None => {}
                    Ifaces::One(i) => self.check_interface(i, latest),
                    Ifaces::Many => self.check_interfaces(latest),
                }
            }
        }
    }

    pub(super) fn planted(&self, bug: PlantedBug) -> bool {
        planted::is_planted(self.config.planted_bug, bug)
    }
}

/// What an input may have changed (see [`Unit::check_last_input`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LastInput {
    Anything,
    /// Only the clock (forwards) and statistics.
    Nothing,
    /// Only timers re-armed (the hello timers, the peer's hold timer), frame
    /// numbers, frames sent (hellos, role requests re-sent) and the hold
    /// windows of these interfaces (and so their groups' interface-check timers).
    Deadlines(Ifaces),
}

/// What the current input changed, marked by the code that changes it, and
/// read by the end of the input ([`Unit::finish_input`]) to skip the work a
/// clean input leaves nothing for. Every input starts marked as changing
/// anything, but a datagram and a timeout, whose code marks what it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Work {
    /// Protocol state beyond the clock, deadlines, frame numbers and frames
    /// sent changed (or may have).
    pub(super) state: bool,
    /// Timers re-armed, frame numbers moved or frames sent.
    pub(super) timers: bool,
    /// Interfaces whose hold window restarted (their group's interface check re-armed).
    pub(super) ifaces: Ifaces,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ifaces {
    None,
    One(usize),
    Many,
}

impl Work {
    /// Nothing changed yet.
    pub(super) const CLEAN: Work = Work { state: false, timers: false, ifaces: Ifaces::None };

    /// The hold window of interface `i` restarted.
    pub(super) fn iface_hold(&mut self, i: usize) {
        self.ifaces = match self.ifaces {
            Ifaces::None => Ifaces::One(i),
            Ifaces::One(j) if j == i => Ifaces::One(i),
            _ => Ifaces::Many,
        };
    }
}

impl Default for Work {
    /// Anything may have changed.
    fn default() -> Work {
        Work { state: true, ..Work::CLEAN }
    }
}
