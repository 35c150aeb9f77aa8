//! The group rules: when a group changes state, and the transitions along
//! the active and standby paths (PROTOCOL.md sections 4, 5 and 7).
//!
//! [`Unit::evaluate`] runs at the end of every input and applies the rules
//! until nothing changes. A rule that depends on the peer's group state uses
//! it only while it is current (a hello within the hold time); a stale view
//! (LAN test running, failover suspended) changes nothing.

use super::group::{self, ClaimWhy, HistoryEntry, Reason, Request};
use super::{Event, Mode, Timer, Unit};
use crate::config::settings::StateLink;
use crate::constants::EVALUATE_PASSES_MAX;
use crate::planted::PlantedBug;
use crate::time::Instant;
use crate::types::{Group, GroupState, Role};

/// What a rule sees of the peer's group, while the peer's view is current.
#[derive(Clone, Copy, Debug)]
struct PeerGroup {
    state: GroupState,
    failed: u16,
    failover_on: bool,
}

impl Unit {
    /// Applies the group rules until they settle.
    pub(super) fn evaluate(&mut self, now: Instant) {
        if self.s.mode != Mode::Enabled {
            return;
        }
        for _ in 0..EVALUATE_PASSES_MAX {
            let mut changed = false;
            for g in Group::ALL {
                changed |= self.evaluate_group(now, *g);
            }
            if !changed {
                return;
            }
        }
        debug_assert!(false, "group rules did not settle in {EVALUATE_PASSES_MAX} passes");
    }

    fn peer_group(&self, g: Group) -> Option<PeerGroup> {
        if self.s.peer.handed_over[g.index()] {
            return None;
        }
        self.fresh_peer().map(|h| {
            let gh = h.groups[g.index()];
            PeerGroup { state: gh.state, failed: gh.failed, failover_on: h.failover_on }
        })
    }

    /// No peer to coordinate with: it was declared failed, or never heard
    /// (and the failover link is not known to be down).
    fn peer_absent(&self) -> bool {
        !self.s.link_failed && (self.s.peer.failed || self.s.peer.hello.is_none())
    }

    /// One rule for one group; returns whether the group changed state.
    fn evaluate_group(&mut self, now: Instant, g: Group) -> bool {
        let state = self.group_state(g);
        let (failed, monitored) = self.interface_counts(g);
        let over = self.config.groups[g.index()].interface_policy.is_reached(failed, monitored);
        let peer = self.peer_group(g);

        // Own health: the interface policy (section 3, group trigger; section 7 rows 2-4).
        if state == GroupState::Failed {
            if !over {
                self.recover(now, g, Reason::InterfaceCheck);
                return true;
            }
            return false;
        }
        if state.is_standby() && over {
            if self.planted(PlantedBug::StandbyFailureTriggersFailover) {
                if state == GroupState::StandbyReady
                    && peer.is_some_and(|p| p.state.is_active())
                    && self.s.groups[g.index()].request.is_none()
                {
                    self.claim(g, ClaimWhy::Manual);
                }
            } else {
                self.go_failed(now, g, Reason::InterfaceCheck);
                return true;
            }
        }
        if state.is_active() && over {
            if let Some(p) = peer {
                if p.failover_on && p.state == GroupState::StandbyReady && p.failed < failed {
                    self.go_failed(now, g, Reason::InterfaceCheck);
                    return true;
                }
            }
        }

        let Some(p) = peer else {
            if state == GroupState::StandbyReady && self.peer_absent() {
                self.go_active(now, g, Reason::NoActiveUnitFound);
                return true;
            }
            return false;
        };

        match state {
            // Boot (section 5).
            GroupState::Negotiation => {
                if p.state.is_active() {
                    self.go_standby_cold(now, g, Reason::DetectedActiveMate);
                    return true;
                }
                if self.s.groups[g.index()].request == Some(Request::Handover) {
                    // Told the peer to take it: wait for it.
                    return false;
                }
                if !p.failover_on {
                    // The peer does not take part: it will not take the group.
                    self.go_active(now, g, Reason::NoActiveUnitFound);
                    return true;
                }
                match p.state {
                    GroupState::Negotiation | GroupState::Disabled => {
                        // Simultaneous boot: the primary (config authority)
                        // takes every group; the secondary joins, and claims
                        // the groups that prefer it once synchronised.
                        if self.config.role == Role::Primary {
                            self.go_active(now, g, Reason::NoActiveUnitFound);
                            if !self.preferred_here(g) {
                                // Held for the secondary: handed over once it
                                // is ready, even if it never saw this unit
                                // negotiate (a lost hello) and so takes this
                                // for a peer already active.
                                self.s.groups[g.index()].boot_yield = self
                                    .s
                                    .peer
                                    .boot
                                    .map(|peer_boot| group::BootYield { peer_boot, taken_at: now, ready_since: None });
                            }
                            return true;
                        }
                        if self.preferred_here(g) {
                            self.s.groups[g.index()].boot_claim = true;
                        }
                        false
                    }
                    // The peer asks for the group when it sees this unit negotiating.
                    GroupState::StandbyReady => false,
                    // Failed or still synchronising: the peer cannot be active
                    // and only ever asks for the group (never takes it alone).
                    _ => {
                        self.go_active(now, g, Reason::NoActiveUnitFound);
                        true
                    }
                }
            }
            // Nobody else active: ask for the group rather than take it, so
            // that two units that both see the other inactive (their views
            // are one latency old) cannot both take it. The handshake in
            // `requests` settles who does.
            GroupState::StandbyReady => {
                if !p.failover_on || self.s.groups[g.index()].request.is_some() {
                    return false;
                }
                match p.state {
                    s if s.is_active() => self.arm_preempt_if_due(now, g),
                    GroupState::Negotiation | GroupState::Disabled => {
                        self.claim(g, ClaimWhy::Vacant(Reason::OtherUnitReloaded))
                    }
                    GroupState::Failed => self.claim(g, ClaimWhy::Vacant(Reason::FailoverStateCheck)),
                    // Both standby: the preferred unit asks.
                    _ if self.preferred_here(g) => self.claim(g, ClaimWhy::Vacant(Reason::NoActiveUnitFound)),
                    _ => {}
                }
                false
            }
            s if s.is_active() => {
                if self.boot_yield_due(now, g, &p) {
                    // Section 5: after a simultaneous boot each group becomes
                    // active on its preferred unit; the peer did not claim it
                    // (it missed the boot being simultaneous).
                    self.go_standby_ready(now, g, Reason::FailoverStateCheck);
                    self.hand_over(g);
                    return true;
                }
                if p.state.is_active() && !self.planted(PlantedBug::BothActiveNeverResolves) {
                    // [fover] Both active after a heal (section 7): fewer failed
                    // interfaces keeps the group; on a tie, the preferred unit.
                    let keep = if failed != p.failed { failed < p.failed } else { self.preferred_here(g) };
                    if !keep {
                        self.go_standby_cold(now, g, Reason::DetectedActiveMate);
                        return true;
                    }
                }
                false
            }
            _ => false,
        }
    }

    /// Whether the primary hands `g` to the secondary now (see
    /// `GroupMachine::boot_yield`): the same peer boot, Standby Ready for a
    /// polltime, failover running, nothing else asked. It lapses (the group
    /// stays here, as after any boot that found the peer active) when the
    /// peer reboots or shows the group Failed, when this unit's clock went
    /// back, and a holdtime and two polltimes after the boot: a boot
    /// placement belongs to the boot, and later only preempt moves a group.
    fn boot_yield_due(&mut self, now: Instant, g: Group, p: &PeerGroup) -> bool {
        let poll = self.config.unit_polltime;
        let window = self.config.unit_holdtime + 2 * poll;
        let peer_boot = self.s.peer.boot;
        let usable = !self.s.link_failed && !self.s.peer.failed && p.failover_on;
        let gm = &mut self.s.groups[g.index()];
        let Some(mut y) = gm.boot_yield else { return false };
        let lapsed = Some(y.peer_boot) != peer_boot
            || p.state == GroupState::Failed
            || now < y.taken_at
            || y.ready_since.is_some_and(|at| now < at)
            || now > y.taken_at + window;
        if lapsed {
            gm.boot_yield = None;
            return false;
        }
        if !usable || gm.request.is_some() || p.state != GroupState::StandbyReady {
            y.ready_since = None;
            gm.boot_yield = Some(y);
            return false;
        }
        let since = *y.ready_since.get_or_insert(now);
        gm.boot_yield = Some(y);
        now >= since + poll
    }

    // ----- transitions -----------------------------------------------------

    /// Records one transition (history, event) and asks for a hello.
    pub(super) fn transition(&mut self, now: Instant, g: Group, to: GroupState, reason: Reason) {
        let gm = &mut self.s.groups[g.index()];
        let from = gm.state;
        if from == to {
            return;
        }
        debug_assert!(
            group::is_legal_transition(from, to) || self.planted(PlantedBug::PromoteFailedGroup),
            "group {g}: illegal transition {from} -> {to}"
        );
        let gm = &mut self.s.groups[g.index()];
        gm.state = to;
        if !to.is_active() {
            gm.boot_yield = None;
        }
        if from.is_active() && !to.is_active() {
            self.with_state_plane(|st, facts, _| st.on_leave_active(facts, g));
        } else if to.is_active() && !from.is_active() {
            self.with_state_plane(|st, facts, _| st.on_active(facts, g));
        }
        let gm = &mut self.s.groups[g.index()];
        gm.record(HistoryEntry { time: now, from, to, reason });
        self.push_event(Event::GroupTransition { group: g, from, to, reason: reason.as_str().to_owned() });
        self.out.hello_due = true;
        if from == GroupState::Negotiation && self.s.groups.iter().all(|gm| gm.state != GroupState::Negotiation) {
            self.s.timers.stop(Timer::Negotiation);
        }
    }

    /// Becomes active for `g` (Just Active through Active).
    pub(super) fn go_active(&mut self, now: Instant, g: Group, reason: Reason) {
        debug_assert!(!self.group_state(g).is_active());
        let text = format!("({}) Switching to ACTIVE - {reason} (group {g})", self.config.role);
        self.syslog(104001, text);
        let gm = &mut self.s.groups[g.index()];
        gm.request = None;
        gm.boot_claim = false;
        if reason.is_automatic() {
            gm.pinned = false;
        }
        self.s.timers.stop(Timer::Preempt(g));
        self.transition(now, g, GroupState::JustActive, reason);
        self.run_path(now, g, reason);
    }

    /// Goes standby through Cold Standby (joining an active peer, or losing
    /// the both-active rule).
    pub(super) fn go_standby_cold(&mut self, now: Instant, g: Group, reason: Reason) {
        let text = format!("({}) Switching to STANDBY - {reason} (group {g})", self.config.role);
        self.syslog(104002, text);
        let gm = &mut self.s.groups[g.index()];
        gm.request = None;
        if reason.is_automatic() {
            // The group left this unit without a command: a manual move no
            // longer holds it (the peer's takeover cleared the pin there,
            // but this unit, declared failed, learns of it only now).
            gm.pinned = false;
        }
        self.transition(now, g, GroupState::ColdStandby, reason);
        self.run_path(now, g, reason);
    }

    /// Active -> Standby Ready directly (the peer asked, or `no failover active`).
    pub(super) fn go_standby_ready(&mut self, now: Instant, g: Group, reason: Reason) {
        debug_assert!(self.group_state(g).is_active());
        let text = format!("({}) Switching to STANDBY - {reason} (group {g})", self.config.role);
        self.syslog(104002, text);
        self.transition(now, g, GroupState::StandbyReady, reason);
        self.on_standby_ready(now, g);
    }

    pub(super) fn go_failed(&mut self, now: Instant, g: Group, reason: Reason) {
        let text = format!("({}) Switching to FAILED. (group {g})", self.config.role);
        self.syslog(104003, text);
        let gm = &mut self.s.groups[g.index()];
        gm.request = None;
        gm.pinned = false;
        self.s.timers.stop(Timer::Preempt(g));
        self.transition(now, g, GroupState::Failed, reason);
    }

    /// Failed -> Standby Ready.
    pub(super) fn recover(&mut self, now: Instant, g: Group, reason: Reason) {
        debug_assert_eq!(self.group_state(g), GroupState::Failed);
        let text = format!("({}) Switching to OK. (group {g})", self.config.role);
        self.syslog(104004, text);
        self.transition(now, g, GroupState::StandbyReady, reason);
        self.on_standby_ready(now, g);
    }

    /// Walks the active or standby path from the current state to its end.
    /// Every step completes at once: the config sync and the bulk sync of
    /// connection state run beside the path over the reliable channel, so a
    /// standby group is Standby Ready (and can take over a failure) without
    /// waiting for them. Only preempt waits for the bulk sync (see
    /// `preempt_applies` and `unit::stateful`; docs/DECISIONS.md).
    fn run_path(&mut self, now: Instant, g: Group, reason: Reason) {
        while let Some(next) = group::path_successor(self.group_state(g)) {
            self.transition(now, g, next, reason);
        }
        if self.group_state(g) == GroupState::StandbyReady {
            self.on_standby_ready(now, g);
        }
    }

    /// The group became available for service here.
    fn on_standby_ready(&mut self, now: Instant, g: Group) {
        let gm = &mut self.s.groups[g.index()];
        if std::mem::take(&mut gm.boot_claim) {
            if self.peer_group(g).is_some_and(|p| p.state.is_active()) {
                self.claim(g, ClaimWhy::Boot);
            }
            return;
        }
        self.arm_preempt_if_due(now, g);
    }

    // ----- preempt ---------------------------------------------------------

    /// Whether preempt should move `g` here now: the preferred unit, preempt
    /// on, Standby Ready, not protected by a manual move, the peer (current,
    /// taking part) active for it, no request in flight, and, with stateful
    /// failover, the bulk sync from the peer finished (section 7; the delay
    /// counts from then).
    fn preempt_applies(&self, g: Group) -> bool {
        let gm = &self.s.groups[g.index()];
        self.s.mode == Mode::Enabled
            && self.config.groups[g.index()].preempt_delay.is_some()
            && self.preferred_here(g)
            && gm.state == GroupState::StandbyReady
            && !gm.pinned
            && gm.request.is_none()
            && self.peer_group(g).is_some_and(|p| p.failover_on && p.state.is_active())
            && (self.config.state_link == StateLink::None || self.bulk_sync_received())
    }

    /// Arms the preempt timer `delay` after the group became available here.
    pub(super) fn arm_preempt_if_due(&mut self, now: Instant, g: Group) {
        if !self.preempt_applies(g) || self.s.timers.is_armed(Timer::Preempt(g)) {
            return;
        }
        let delay = self.config.groups[g.index()].preempt_delay.unwrap_or_default();
        let at = if self.planted(PlantedBug::PreemptIgnoresDelay) { now } else { now + delay };
        self.s.timers.set(Timer::Preempt(g), at);
    }

    pub(super) fn preempt_due(&mut self, g: Group) {
        if self.preempt_applies(g) {
            self.claim(g, ClaimWhy::Preempt);
        }
    }
}
