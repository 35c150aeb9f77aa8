//! The timing of a run: the pair's timers and the largest delay and drift its
//! faults add, and the bounds derived from them. Both the checkers (how long
//! a state may last) and the nemesis (how long a run must go on after its last
//! fault) read them here.

use crate::schedule::UnitName;
use fover_protocol::types::Group;
use std::collections::BTreeMap;

/// The timing of a run, from the pair's settings and the faults it draws:
/// what the checkers allow and how long the nemesis lets a run settle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    pub unit_polltime_ns: u64,
    pub unit_holdtime_ns: u64,
    pub interface_polltime_ns: u64,
    pub interface_holdtime_ns: u64,
    /// The largest delay a fault of the run can add, ns.
    pub delay_max_ns: u64,
    /// Preempt delay per group, if preempt is configured.
    pub preempt_ns: [Option<u64>; 2],
    pub preferred: [UnitName; 2],
    /// Interface policy per group.
    pub policy: [fover_protocol::config::settings::InterfacePolicy; 2],
    /// The largest clock drift of the run, in ppm (absolute).
    pub drift_ppm_max: u64,
    pub keys_match: bool,
    /// The failover group of each context (the admin context is in group 1).
    pub context_groups: BTreeMap<String, Group>,
}

impl Timing {
    /// [fover] How long a dual-active may last after the last moment the units
    /// had no path: a holdtime plus a polltime to notice the heal, plus one
    /// more polltime and the largest fault delay for the messages that resolve it.
    pub fn heal_grace_ns(&self) -> u64 {
        self.unit_holdtime_ns + 2 * self.unit_polltime_ns + self.delay_max_ns + 50 * crate::fabric::MS
    }

    /// [fover] The largest forward clock step a unit cannot tell from time
    /// passing: a gap between two inputs of up to a polltime plus
    /// `polltime / CLOCK_GAP_SLACK_DIVISOR` is normal (the hello timer fires
    /// every polltime); beyond it the unit restarts its silence windows and
    /// its preempt delay.
    pub fn undetectable_step_ns(&self) -> u64 {
        let p = self.unit_polltime_ns;
        p + p / u64::from(fover_protocol::constants::CLOCK_GAP_SLACK_DIVISOR)
    }

    /// How far back a cause may lie before an automatic failover: unit
    /// detection, or interface detection and testing, plus message slack.
    pub fn detection_ns(&self) -> u64 {
        let unit = self.unit_holdtime_ns + 2 * self.unit_polltime_ns;
        let iface = self.interface_holdtime_ns + 2 * self.interface_polltime_ns;
        unit.max(iface) + self.delay_max_ns + 100 * crate::fabric::MS
    }

    /// How long after the last disturbance (fault, boot, power loss, failover
    /// command) the pair must have converged: detection, then negotiation of
    /// a rebooted unit (a holdtime), the heal rule, interface re-testing, and
    /// the preempt delay.
    pub fn convergence_ns(&self) -> u64 {
        let preempt = self.preempt_ns.iter().flatten().copied().max().unwrap_or(0);
        2 * self.detection_ns() + self.heal_grace_ns() + preempt + 2_000 * crate::fabric::MS
    }
}
