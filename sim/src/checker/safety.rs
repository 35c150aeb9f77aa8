//! Always-properties 1, 2, 3 and 5: no dual-active outside an excused window,
//! no automatic failover without a cause, never to a Failed group, the failure
//! policy's interface rows, and rejected frames changing nothing.

use super::{Coverage, Obs, Timing, Verdict, View, Violation, property, sometimes};
use crate::schedule::UnitName;
use fover_protocol::config::replication::{self, CommandKind};
use fover_protocol::types::{Group, GroupState};

/// State of the safety checker over one run.
pub struct Safety {
    timing: Timing,
    /// Since when each group has been active on both units.
    dual_since: [Option<u64>; 2],
    /// The last time the units had no path for hellos (or keys differ).
    last_excuse: Option<u64>,
    /// A unit booted while the failover link was down: excused until it heals.
    startup_split: bool,
    boot_at: [Option<u64>; 2],
    down_at: [Option<u64>; 2],
    /// Per group: when the detection window of the last failover command
    /// starts: the command, or the last moment after it when the failover
    /// link could not carry its role request and the answer.
    last_command: [Option<u64>; 2],
    last_fault: Option<u64>,
    /// Per unit, per group: since when the group has been Standby Ready there.
    ready_since: [[Option<u64>; 2]; 2],
    /// Per unit, per group: how far that unit's clock may have run ahead,
    /// unnoticed by the unit, since the group became Standby Ready there
    /// (forward steps, each capped at what the unit cannot detect).
    ready_stepped: [[u64; 2]; 2],
    /// Per unit, per group: the last time its failed interfaces reached the policy.
    over_threshold_at: [[Option<u64>; 2]; 2],
    was_suspended: [bool; 2],
    /// Per unit, per group: the last time the group was active there.
    active_at: [[Option<u64>; 2]; 2],
    /// Per group: a dual-active that began while the units had no path stays
    /// excused until the failover link works again (the heal rule needs it).
    inherited_excuse: [Option<u64>; 2],
    /// Per group: the last moment both units were negotiating it (section
    /// 5's simultaneous boot, whenever the boots were).
    joint_negotiation: [Option<u64>; 2],
}

impl Safety {
    pub fn new(timing: Timing) -> Safety {
        Safety {
            timing,
            dual_since: [None; 2],
            last_excuse: None,
            startup_split: false,
            boot_at: [None; 2],
            down_at: [None; 2],
            last_command: [None; 2],
            last_fault: None,
            ready_since: [[None; 2]; 2],
            ready_stepped: [[0; 2]; 2],
            over_threshold_at: [[None; 2]; 2],
            was_suspended: [false; 2],
            active_at: [[None; 2]; 2],
            inherited_excuse: [None; 2],
            joint_negotiation: [None; 2],
        }
    }

    /// How long a group may take to pass from one unit to the other in a
    /// handover (the holder gives it up, then the asker takes it).
    fn handover_ns(&self) -> u64 {
        2 * self.timing.unit_polltime_ns + self.timing.delay_max_ns + 50 * crate::fabric::MS
    }

    fn recent(&self, at: Option<u64>, t: u64) -> bool {
        at.is_some_and(|a| t.saturating_sub(a) <= self.timing.detection_ns())
    }

    fn violation(t_ns: u64, verdict: Verdict, property: &str, message: String) -> Option<Violation> {
        Some(Violation { verdict, property: property.to_owned(), t_ns, message })
    }

    pub fn observe(&mut self, t: u64, obs: &Obs, before: &View, coverage: &mut Coverage) -> Option<Violation> {
        match obs {
            Obs::Boot { unit } => {
                self.boot_at[unit.index()] = Some(t);
                self.ready_since[unit.index()] = [None; 2];
                self.ready_stepped[unit.index()] = [0; 2];
            }
            Obs::Down { unit } => {
                self.down_at[unit.index()] = Some(t);
                self.ready_since[unit.index()] = [None; 2];
                self.ready_stepped[unit.index()] = [0; 2];
            }
            Obs::Fault { .. } => self.last_fault = Some(t),
            Obs::ClockStep { unit, ms } => {
                // A forward step the unit cannot tell from time passing makes
                // its preempt timer fire that much early in real time.
                let ahead = ((*ms).max(0) as u64 * crate::fabric::MS).min(self.timing.undetectable_step_ns());
                for g in 0..2 {
                    if self.ready_since[unit.index()][g].is_some() {
                        self.ready_stepped[unit.index()][g] += ahead;
                    }
                }
            }
            Obs::FailoverCommand { group, .. } => match group {
                Some(g) => self.last_command[g.index()] = Some(t),
                None => self.last_command = [Some(t); 2],
            },
            Obs::LanTestPassed { .. } => coverage.hit(sometimes::LAN_TEST_SAVED),
            Obs::Syslog { id: 709_006, .. } => coverage.hit(sometimes::SYNC),
            // A refused pair runs each unit standalone (section 9): both active is expected.
            Obs::PairingRefused { .. } => self.last_excuse = Some(t),
            Obs::Syslog { .. } => {}
            Obs::CommandReplicated { unit, space, line } => {
                coverage.hit(sometimes::REPLICATED);
                let group = replication::authority_group(space, &self.timing.context_groups);
                let view = &before.units[unit.index()];
                if !view.active(group) {
                    return Safety::violation(
                        t,
                        Verdict::Safety,
                        property::REPLICATION_AUTHORITY,
                        format!(
                            "the {unit} replicated {line:?} ({space}) while group {group} was {} there: only the \
                             unit active for group {group} may replicate commands of {space}",
                            view.states[group.index()]
                        ),
                    );
                }
            }
            Obs::ReplicatedReceived { unit, line } => {
                let kind = replication::command_kind(line);
                if !matches!(kind, CommandKind::Config | CommandKind::File) {
                    return Safety::violation(
                        t,
                        Verdict::Safety,
                        property::REPLICATION_AUTHORITY,
                        format!(
                            "the {unit} received {line:?} from its mate, a command that is never replicated ({kind:?})"
                        ),
                    );
                }
            }
            Obs::RejectedFrameChangedState { unit, msg } => {
                return Safety::violation(
                    t,
                    Verdict::Safety,
                    property::AUTH,
                    format!(
                        "a {msg} frame that must be rejected (corrupted or wrongly keyed) changed the state of the {unit}"
                    ),
                );
            }
            Obs::InvariantBroken { unit, message } => {
                return Safety::violation(
                    t,
                    Verdict::Crash,
                    property::INVARIANT,
                    format!("{unit}: invariant broken: {message}"),
                );
            }
            Obs::Transition { unit, group, from, to } => {
                let (x, g) = (unit.index(), group.index());
                let verdict = if to.is_active() && !from.is_active() {
                    self.check_promotion(t, *unit, *group, *from, before, coverage)
                } else {
                    None
                };
                self.ready_since[x][g] = if *to == GroupState::StandbyReady { Some(t) } else { None };
                self.ready_stepped[x][g] = 0;
                return verdict;
            }
        }
        None
    }

    fn check_promotion(
        &mut self,
        t: u64,
        x: UnitName,
        group: Group,
        from: GroupState,
        before: &View,
        coverage: &mut Coverage,
    ) -> Option<Violation> {
        let g = group.index();
        let y = x.other();
        if from == GroupState::Failed {
            return Safety::violation(
                t,
                Verdict::Safety,
                property::PROMOTE_FAILED,
                format!("group {group} went from Failed straight to {} on the {x}", GroupState::JustActive),
            );
        }
        if matches!(from, GroupState::Negotiation | GroupState::Disabled) {
            return None; // boot rules: property 1 judges the outcome
        }
        coverage.hit(sometimes::FAILOVER);
        let commanded = self.recent(self.last_command[g], t);
        let peer = &before.units[y.index()];
        let peer_gone = !peer.powered || self.recent(self.down_at[y.index()], t);
        // A handover: the peer gives the group up first, then this unit takes it.
        let peer_had_it = self.active_at[y.index()][g].is_some_and(|a| t.saturating_sub(a) <= self.handover_ns());
        let peer_not_active = !peer.states[g].is_active() && !peer_had_it;
        let no_path = self.recent(self.last_excuse, t);
        let y_over = self.recent(self.over_threshold_at[y.index()][g], t);
        let interface_cause = y_over && before.units[x.index()].failed[g] < peer.failed[g].max(1);
        if peer_gone || no_path || commanded {
            return None;
        }
        // Simultaneous boot (each heard the other while negotiating): after the
        // sync, each group goes to its preferred unit. A unit may still be
        // negotiating a group long after its boot (failover suspended before
        // it heard an answer), so both negotiating the group counts too.
        let timing = &self.timing;
        let settle = timing.unit_holdtime_ns + 3 * timing.unit_polltime_ns + self.handover_ns();
        if timing.preferred[g] == x {
            if let (Some(bx), Some(by)) = (self.boot_at[x.index()], self.boot_at[y.index()]) {
                let together = bx.abs_diff(by) <= timing.unit_holdtime_ns + timing.unit_polltime_ns;
                if together && t.saturating_sub(bx.max(by)) <= settle {
                    return None;
                }
            }
            if self.joint_negotiation[g].is_some_and(|j| t.saturating_sub(j) <= settle) {
                return None;
            }
        }
        if peer_not_active {
            // The group was not active anywhere (or Failed on the peer): taking it is no failover away from anyone.
            return None;
        }
        if interface_cause {
            coverage.hit(sometimes::INTERFACE_FAILOVER);
            return None;
        }
        if let (Some(delay), true) = (self.timing.preempt_ns[g], self.timing.preferred[g] == x) {
            // The preferred unit must have been available (Standby Ready) for the delay, on its clock:
            // drift, and forward clock steps too small for the unit to notice, shorten it in real time.
            let stepped = self.ready_stepped[x.index()][g];
            let tolerance = delay / 1_000_000 * self.timing.drift_ppm_max + stepped + crate::fabric::MS;
            let since = self.ready_since[x.index()][g];
            let waited = since.map(|s| t.saturating_sub(s)).unwrap_or(0);
            if waited + tolerance >= delay {
                coverage.hit(sometimes::PREEMPT);
                return None;
            }
            return Safety::violation(
                t,
                Verdict::Safety,
                property::FAILOVER_CAUSE,
                format!(
                    "group {group} preempted to the {x} after {} ms in Standby Ready; the preempt delay is {} ms",
                    waited / crate::fabric::MS,
                    delay / crate::fabric::MS
                ),
            );
        }
        let suspended = if before.units[x.index()].suspended { " while failover was suspended" } else { "" };
        Safety::violation(
            t,
            Verdict::Safety,
            property::FAILOVER_CAUSE,
            format!(
                "group {group} failed over to the {x}{suspended} without a cause: the {y} was powered, reachable and \
                 active with {} failed of {} monitored interfaces (policy {}), the {x} had {}; no command, no preempt, \
                 no unit failure within {} ms",
                peer.failed[g],
                peer.monitored[g],
                self.timing.policy[g],
                before.units[x.index()].failed[g],
                self.timing.detection_ns() / crate::fabric::MS
            ),
        )
    }

    pub fn after_input(&mut self, t: u64, view: &View, coverage: &mut Coverage) -> Option<Violation> {
        let timing = &self.timing;
        let settle = timing.unit_holdtime_ns + 2 * timing.unit_polltime_ns;
        if !timing.keys_match
            || !(view.path.failover || view.path.any_data)
            || view.units.iter().any(|u| u.powered && (u.pairing_refused || u.standalone))
        {
            self.last_excuse = Some(t);
        }
        // A move a command asked for completes when the mate can be asked:
        // while the failover link cannot carry the role request and its
        // answer, the command stays a recent cause.
        if !view.path.failover_requests {
            for at in self.last_command.iter_mut().flatten() {
                *at = t;
            }
        }
        // A negotiating unit listens for hellos only (section 5): without them it goes active.
        if !view.path.failover_hellos {
            if self.boot_at.iter().flatten().any(|&b| t.saturating_sub(b) <= settle) {
                self.startup_split = true;
            }
            if self.startup_split {
                self.last_excuse = Some(t);
            }
        } else {
            self.startup_split = false;
        }
        for (u, unit) in view.units.iter().enumerate() {
            for g in 0..2 {
                if unit.powered && unit.states[g].is_active() {
                    self.active_at[u][g] = Some(t);
                }
            }
            if unit.suspended && !self.was_suspended[u] {
                coverage.hit(sometimes::SUSPENDED);
            }
            self.was_suspended[u] = unit.suspended;
            for g in 0..2 {
                if unit.powered && self.timing.policy[g].is_reached(unit.failed[g], unit.monitored[g]) {
                    self.over_threshold_at[u][g] = Some(t);
                }
            }
        }
        let handover = self.handover_ns();
        let hold = self.timing.unit_holdtime_ns;
        for group in [Group::One, Group::Two] {
            let g = group.index();
            if view.units.iter().all(|u| u.powered && u.states[g] == GroupState::Negotiation) {
                self.joint_negotiation[g] = Some(t);
            }
            let both = view.units[0].active(group) && view.units[1].active(group);
            if !both {
                self.inherited_excuse[g] = None;
                if self.dual_since[g].take().is_some() && view.units.iter().all(|u| u.powered) {
                    coverage.hit(sometimes::HEAL_RESOLVED);
                }
                continue;
            }
            let since = *self.dual_since[g].get_or_insert_with(|| {
                // Began while excused, or within a holdtime and a handover after (the verdict of a
                // LAN test the outage swallowed comes up to a holdtime after the last hello heard)?
                // Then it is the heal rule's to resolve, and that needs hellos both ways.
                let began_excused = self.last_excuse.is_some_and(|e| t.saturating_sub(e) <= handover + hold);
                self.inherited_excuse[g] = began_excused.then_some(t);
                t
            });
            if self.inherited_excuse[g].is_some() && !view.path.failover_hellos {
                self.inherited_excuse[g] = Some(t);
            }
            let excuse = self.last_excuse.max(self.inherited_excuse[g]);
            let from = excuse.map_or(since, |e| e.max(since));
            let grace = self.timing.heal_grace_ns();
            if t.saturating_sub(from) > grace {
                let why = match self.last_excuse {
                    Some(e) => format!("the units last lacked a path for hellos at {} ms", e / crate::fabric::MS),
                    None => "the units always had a path for hellos".to_owned(),
                };
                return Safety::violation(
                    t,
                    Verdict::Safety,
                    property::DUAL_ACTIVE,
                    format!(
                        "group {group} has been active on both units since {} ms; {why}; the protocol must resolve it within {} ms",
                        since / crate::fabric::MS,
                        grace / crate::fabric::MS
                    ),
                );
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{Timing, UnitView};
    use crate::fabric::{MS, PathState};
    use fover_protocol::config::settings::InterfacePolicy;

    const SEC: u64 = 1_000 * MS;

    fn timing(preempt_ms: Option<u64>) -> Timing {
        Timing {
            unit_polltime_ns: SEC,
            unit_holdtime_ns: 3 * SEC,
            interface_polltime_ns: SEC,
            interface_holdtime_ns: 5 * SEC,
            delay_max_ns: 0,
            preempt_ns: [preempt_ms.map(|ms| ms * MS), None],
            preferred: [UnitName::Primary, UnitName::Secondary],
            policy: [InterfacePolicy::Count(1); 2],
            drift_ppm_max: 0,
            keys_match: true,
            context_groups: Default::default(),
        }
    }

    fn unit(g1: GroupState, g2: GroupState) -> UnitView {
        UnitView {
            powered: true,
            states: [g1, g2],
            failed: [0; 2],
            monitored: [2; 2],
            suspended: false,
            failover_on: true,
            ..UnitView::off()
        }
    }

    /// Both groups Standby Ready on the primary and active on the secondary.
    fn view(failover_requests: bool) -> View {
        View {
            units: [
                unit(GroupState::StandbyReady, GroupState::StandbyReady),
                unit(GroupState::Active, GroupState::Active),
            ],
            path: PathState { failover: true, any_data: true, failover_hellos: true, failover_requests },
        }
    }

    fn standby_ready(s: &mut Safety, t: u64) {
        let before = view(true);
        let obs = Obs::Transition {
            unit: UnitName::Primary,
            group: Group::One,
            from: GroupState::SyncFileSystem,
            to: GroupState::StandbyReady,
        };
        assert_eq!(s.observe(t, &obs, &before, &mut Coverage::default()), None);
    }

    /// Group 1 goes active on the primary at `t` while the secondary holds it.
    fn promote(s: &mut Safety, t: u64) -> Option<Violation> {
        let obs = Obs::Transition {
            unit: UnitName::Primary,
            group: Group::One,
            from: GroupState::StandbyReady,
            to: GroupState::JustActive,
        };
        s.observe(t, &obs, &view(true), &mut Coverage::default())
    }

    fn run(s: &mut Safety, from: u64, to: u64, failover_requests: bool) {
        let mut t = from;
        while t <= to {
            assert_eq!(s.after_input(t, &view(failover_requests), &mut Coverage::default()), None);
            t += 100 * MS;
        }
    }

    #[test]
    fn a_command_is_a_cause_until_its_request_can_cross() {
        for (outage, broken) in [(true, false), (false, true)] {
            let mut s = Safety::new(timing(None));
            run(&mut s, 0, SEC, true);
            let cmd = Obs::FailoverCommand {
                unit: UnitName::Primary,
                group: Some(Group::One),
                line: "failover active group 1".into(),
            };
            assert_eq!(s.observe(SEC, &cmd, &view(true), &mut Coverage::default()), None);
            // The failover link cannot carry role requests for 20 s (or can).
            run(&mut s, SEC, 21 * SEC, !outage);
            run(&mut s, 21 * SEC, 22 * SEC, true);
            let v = promote(&mut s, 22 * SEC);
            assert_eq!(v.is_some(), broken, "outage {outage}: {v:?}");
        }
    }

    #[test]
    fn a_dual_active_from_a_late_lan_test_verdict_waits_for_hellos() {
        // No path until 10 s; group 2 becomes active on the primary too at 14 s
        // (within a holdtime and a handover): the verdict of a LAN test the
        // outage swallowed. It needs hellos both ways to be resolved.
        for (hellos, broken) in [(false, false), (true, true)] {
            let mut s = Safety::new(timing(None));
            let mut c = Coverage::default();
            let mut v = view(true);
            v.path.failover = false;
            v.path.any_data = false;
            v.path.failover_hellos = false;
            let mut t = 0;
            while t <= 10 * SEC {
                assert_eq!(s.after_input(t, &v, &mut c), None);
                t += 100 * MS;
            }
            let mut v = view(true);
            v.path.failover_hellos = hellos;
            v.units[0].states[1] = GroupState::Active;
            let mut first = None;
            while t <= 30 * SEC && first.is_none() {
                if t >= 14 * SEC {
                    first = s.after_input(t, &v, &mut c);
                }
                t += 100 * MS;
            }
            assert_eq!(first.is_some(), broken, "hellos both ways {hellos}: {first:?}");
        }
    }

    #[test]
    fn both_negotiating_is_a_simultaneous_boot_whenever_the_boots_were() {
        for (joint, broken) in [(true, false), (false, true)] {
            let mut s = Safety::new(timing(None));
            let mut c = Coverage::default();
            assert_eq!(s.observe(0, &Obs::Boot { unit: UnitName::Secondary }, &view(true), &mut c), None);
            run(&mut s, 0, 20 * SEC, true);
            // The primary boots 20 s later; the secondary is still negotiating group 1 (or not).
            assert_eq!(s.observe(20 * SEC, &Obs::Boot { unit: UnitName::Primary }, &view(true), &mut c), None);
            let mut v = view(true);
            v.units[0].states[0] = GroupState::Negotiation;
            if joint {
                v.units[1].states[0] = GroupState::Negotiation;
            }
            assert_eq!(s.after_input(20 * SEC, &v, &mut c), None);
            run(&mut s, 20 * SEC, 21 * SEC, true);
            // The secondary took group 1, the primary joined and claims it as its preferred unit.
            let v = promote(&mut s, 21 * SEC);
            assert_eq!(v.is_some(), broken, "both negotiating {joint}: {v:?}");
        }
    }

    #[test]
    fn preempt_tolerates_clock_steps_the_unit_cannot_see() {
        // Preempt delay 3 s, polltime 1 s: steps up to 1.25 s go unnoticed.
        for (step_ms, at_ms, broken) in
            [(0, 2_900, true), (200, 2_850, false), (5_000, 1_800, false), (5_000, 1_700, true)]
        {
            let mut s = Safety::new(timing(Some(3_000)));
            run(&mut s, 0, SEC, true);
            standby_ready(&mut s, SEC);
            let step = Obs::ClockStep { unit: UnitName::Primary, ms: step_ms };
            assert_eq!(s.observe(SEC + 500 * MS, &step, &view(true), &mut Coverage::default()), None);
            run(&mut s, SEC, SEC + at_ms * MS, true);
            let v = promote(&mut s, SEC + at_ms * MS);
            assert_eq!(v.is_some(), broken, "step {step_ms} ms, preempt after {at_ms} ms: {v:?}");
        }
    }
}
