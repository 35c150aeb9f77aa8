//! Eventually-properties 6 and 8: once faults stop and the pair had its bound,
//! each group is Active on exactly one unit and Standby Ready on the other, and
//! with preempt (and no manual move) on its preferred unit.

use super::{Coverage, Obs, Timing, Verdict, View, Violation, property, sometimes};
use crate::schedule::UnitName;
use fover_protocol::types::{Group, GroupState};

/// State of the liveness checker over one run.
pub struct Liveness {
    timing: Timing,
    /// The last fault, boot, power loss or failover command.
    last_disturbance: u64,
    /// A manual command touched the group: preempt no longer applies.
    manual: [bool; 2],
}

impl Liveness {
    pub fn new(timing: Timing) -> Liveness {
        Liveness { timing, last_disturbance: 0, manual: [false; 2] }
    }

    /// How long after the last disturbance the pair must have converged.
    pub fn bound_ns(&self) -> u64 {
        self.timing.convergence_ns()
    }

    pub fn observe(&mut self, t: u64, obs: &Obs) {
        match obs {
            Obs::Boot { .. } | Obs::Down { .. } | Obs::Fault { .. } => self.last_disturbance = t,
            Obs::FailoverCommand { group, .. } => {
                self.last_disturbance = t;
                match group {
                    Some(g) => self.manual[g.index()] = true,
                    None => self.manual = [true; 2],
                }
            }
            _ => {}
        }
    }

    /// Property 7: the running configs are equal apart from bootstrap lines,
    /// unless a unit reports a warned local-only command (out of sync until
    /// a full sync: the operator was told).
    fn configs_converge(&self, t: u64, view: &View, coverage: &mut Coverage) -> Option<Violation> {
        let [p, s] = &view.units;
        if p.config_out_of_sync || s.config_out_of_sync {
            return None;
        }
        coverage.hit(sometimes::CONFIGS_COMPARED);
        if p.config_digest == s.config_digest && !p.config_syncing && !s.config_syncing {
            return None;
        }
        Some(Violation {
            verdict: Verdict::Liveness,
            property: property::CONFIG_CONVERGE.to_owned(),
            t_ns: t,
            message: format!(
                "the running configs differ {} ms after the last fault (digest {:08x} on the primary, {:08x} on \
                 the secondary{}), and neither unit was warned of a local-only command",
                (t.saturating_sub(self.last_disturbance)) / crate::fabric::MS,
                p.config_digest,
                s.config_digest,
                if p.config_syncing || s.config_syncing { "; a sync is still running" } else { "" }
            ),
        })
    }

    pub fn finish(&mut self, t: u64, view: &View, fabric_clean: bool, coverage: &mut Coverage) -> Option<Violation> {
        let settled = t.saturating_sub(self.last_disturbance) >= self.bound_ns();
        let all_up = view.units.iter().all(|u| u.powered && u.failover_on);
        if !(settled && all_up && fabric_clean && self.timing.keys_match) {
            return None;
        }
        coverage.hit(sometimes::LIVENESS_CHECKED);
        if let Some(v) = self.configs_converge(t, view, coverage) {
            return Some(v);
        }
        let since = self.last_disturbance / crate::fabric::MS;
        for group in [Group::One, Group::Two] {
            let g = group.index();
            let states = [view.units[0].states[g], view.units[1].states[g]];
            let ok = matches!(
                states,
                [GroupState::Active, GroupState::StandbyReady] | [GroupState::StandbyReady, GroupState::Active]
            );
            if !ok {
                return Some(Violation {
                    verdict: Verdict::Liveness,
                    property: property::CONVERGE.to_owned(),
                    t_ns: t,
                    message: format!(
                        "group {group} is {} on the primary and {} on the secondary, {} ms after the last fault at {since} ms",
                        states[0],
                        states[1],
                        (t / crate::fabric::MS).saturating_sub(since)
                    ),
                });
            }
            let active = if states[0] == GroupState::Active { UnitName::Primary } else { UnitName::Secondary };
            if self.timing.preempt_ns[g].is_some() && !self.manual[g] && active != self.timing.preferred[g] {
                return Some(Violation {
                    verdict: Verdict::Liveness,
                    property: property::PREEMPT.to_owned(),
                    t_ns: t,
                    message: format!(
                        "group {group} has preempt and prefers the {}, but is active on the {active}",
                        self.timing.preferred[g]
                    ),
                });
            }
        }
        None
    }
}
