//! The properties of PROTOCOL.md section 12, checked over a run.
//!
//! Engines feed every checker the same things (through [`crate::world`]):
//! each recorded [`Obs`] and, after every input a unit handled, a [`View`] of
//! both units; the workload's answers to traffic operations; the outcome of
//! each scenario expectation. The checkers know nothing of madsim or of the
//! fast engine, and write nothing but their own state: [`Checkers`] holds the
//! run's only [`Violation`] (the first found).
//!
//! * `always` properties ([`safety`]): checked at every step; the first
//!   violation ends the run with a `safety` verdict.
//! * `eventually` properties ([`liveness`]): checked once faults have stopped
//!   and the pair had its bound to converge.
//! * `sometimes` properties ([`Coverage`]): counted over a sweep; a sweep in
//!   which one was never reached says so instead of passing silently.

pub mod connections;
pub mod liveness;
pub mod safety;

use crate::fabric::PathState;
use crate::schedule::UnitName;
use crate::workload::{Answer, Traffic};
use fover_protocol::Unit;
use fover_protocol::types::{Group, GroupState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::timing::Timing;

/// The names of the properties, as in PROTOCOL.md section 12.
pub mod property {
    pub const DUAL_ACTIVE: &str = "1-no-dual-active";
    pub const FAILOVER_CAUSE: &str = "2-failover-has-cause";
    pub const PROMOTE_FAILED: &str = "2-never-promote-failed";
    pub const POLICY: &str = "3-failure-policy";
    pub const REPLICATION_AUTHORITY: &str = "4-replication-authority";
    pub const AUTH: &str = "5-rejected-frame-changes-nothing";
    pub const CONVERGE: &str = "6-one-active-per-group";
    pub const CONFIG_CONVERGE: &str = "7-configs-converge";
    pub const PREEMPT: &str = "8-preempt-to-preferred";
    pub const CONNECTIONS: &str = "9-connections-survive";
    pub const INVARIANT: &str = "unit-invariants";
    pub const EXPECT: &str = "scenario-expectation";
}

/// What a run concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Safety,
    Liveness,
    Crash,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Safety => "safety",
            Verdict::Liveness => "liveness",
            Verdict::Crash => "crash",
        }
    }
}

/// A broken property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub verdict: Verdict,
    pub property: String,
    /// Simulated time of the first violating event, ns.
    pub t_ns: u64,
    pub message: String,
}

/// One unit as the checkers see it after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitView {
    pub powered: bool,
    /// Group 1, group 2.
    pub states: [GroupState; 2],
    /// Failed monitored interfaces per group.
    pub failed: [u16; 2],
    /// Monitored interfaces per group.
    pub monitored: [u16; 2],
    pub suspended: bool,
    pub failover_on: bool,
    /// Digest of the running config without bootstrap lines.
    pub config_digest: u32,
    /// A command was applied on this unit only (warned): the configs differ until a full sync.
    pub config_out_of_sync: bool,
    /// A full config sync runs on this unit.
    pub config_syncing: bool,
    /// This unit refused to pair with its mate and runs standalone.
    pub pairing_refused: bool,
    /// This unit runs standalone (failover disabled from power-on, or pairing refused).
    pub standalone: bool,
}

impl UnitView {
    pub fn off() -> UnitView {
        UnitView {
            powered: false,
            states: [GroupState::Disabled; 2],
            failed: [0; 2],
            monitored: [0; 2],
            suspended: false,
            failover_on: true,
            config_digest: 0,
            config_out_of_sync: false,
            config_syncing: false,
            pairing_refused: false,
            standalone: false,
        }
    }
    pub fn active(&self, g: Group) -> bool {
        self.powered && self.states[g.index()].is_active()
    }
}

/// Both units and the fabric after an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub units: [UnitView; 2],
    pub path: PathState,
}

/// What checkers observe besides views (a subset of the trace, in the harness's terms).
#[derive(Clone, Debug, PartialEq)]
pub enum Obs {
    Boot {
        unit: UnitName,
    },
    Down {
        unit: UnitName,
    },
    Transition {
        unit: UnitName,
        group: Group,
        from: GroupState,
        to: GroupState,
    },
    /// A fault or heal step was applied.
    Fault {
        name: &'static str,
    },
    /// A unit's clock was stepped by `ms` (negative: backwards); also reported as a fault.
    ClockStep {
        unit: UnitName,
        ms: i64,
    },
    /// A failover command (`failover active`, `no failover active`, `failover reset`, ...).
    FailoverCommand {
        unit: UnitName,
        group: Option<Group>,
        line: String,
    },
    /// A frame that must be rejected (corrupted, or from a unit with another key)
    /// changed the receiver's state.
    RejectedFrameChangedState {
        unit: UnitName,
        msg: String,
    },
    LanTestPassed {
        unit: UnitName,
    },
    Syslog {
        unit: UnitName,
        id: u32,
    },
    /// A unit sent a configuration or file command to its peer.
    CommandReplicated {
        unit: UnitName,
        space: fover_protocol::types::Space,
        line: String,
    },
    /// A unit received a command replicated by its peer.
    ReplicatedReceived {
        unit: UnitName,
        line: String,
    },
    /// A unit refused to pair with its mate (section 9): it runs standalone.
    PairingRefused {
        unit: UnitName,
    },
    /// The unit's `invariants()` panicked (caught by the engine).
    InvariantBroken {
        unit: UnitName,
        message: String,
    },
}

/// Counts of *sometimes* properties and fault families over a run or a sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Sometimes-property name -> how many times it was reached.
    pub sometimes: BTreeMap<String, u64>,
    /// Step kind -> how many times it was applied.
    pub steps: BTreeMap<String, u64>,
    /// Tallies summed over runs (connections opened, survived, dropped by reason...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counters: BTreeMap<String, u64>,
}

/// The sometimes-properties a default sweep must reach.
pub mod sometimes {
    pub const FAILOVER: &str = "a failover happened";
    pub const HEAL_RESOLVED: &str = "a heal resolved a both-active";
    pub const PREEMPT: &str = "a preempt fired";
    pub const LAN_TEST_SAVED: &str = "a LAN test saved a failover";
    pub const SUSPENDED: &str = "failover was suspended";
    pub const INTERFACE_FAILOVER: &str = "an interface failure moved a group";
    pub const SYNC: &str = "a config sync ran";
    pub const REPLICATED: &str = "a command replicated";
    pub const CONFIGS_COMPARED: &str = "configs compared after a heal";
    pub const LIVENESS_CHECKED: &str = "liveness was checked after a heal";
    pub const CONNECTIONS_SURVIVED: &str = "connections survived a failover";
    pub const CONNECTIONS_DROPPED: &str = "connections were dropped at a failover (excused)";
    pub const ALL: &[&str] = &[
        FAILOVER,
        HEAL_RESOLVED,
        PREEMPT,
        LAN_TEST_SAVED,
        SUSPENDED,
        INTERFACE_FAILOVER,
        SYNC,
        REPLICATED,
        CONFIGS_COMPARED,
        LIVENESS_CHECKED,
        CONNECTIONS_SURVIVED,
        CONNECTIONS_DROPPED,
    ];
}

impl Coverage {
    pub fn hit(&mut self, name: &str) {
        *self.sometimes.entry(name.to_owned()).or_default() += 1;
    }
    pub fn step(&mut self, name: &str) {
        *self.steps.entry(name.to_owned()).or_default() += 1;
    }
    pub fn merge(&mut self, other: &Coverage) {
        for (k, v) in &other.sometimes {
            *self.sometimes.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.steps {
            *self.steps.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.counters {
            *self.counters.entry(k.clone()).or_default() += v;
        }
    }
    /// The sometimes-properties of `sometimes::ALL` never reached.
    pub fn missing(&self) -> Vec<&'static str> {
        sometimes::ALL.iter().copied().filter(|s| self.sometimes.get(*s).copied().unwrap_or(0) == 0).collect()
    }
}

/// Every checker of a run.
pub struct Checkers {
    pub safety: safety::Safety,
    pub liveness: liveness::Liveness,
    /// Property 9.
    pub connections: connections::Survival,
    pub coverage: Coverage,
    /// The first violation; later ones are not recorded.
    violation: Option<Violation>,
}

impl Checkers {
    /// `stateful`: the pair has a state link; `replication_http`: per group.
    pub fn new(timing: Timing, stateful: bool, replication_http: [bool; 2]) -> Checkers {
        Checkers {
            safety: safety::Safety::new(timing.clone()),
            liveness: liveness::Liveness::new(timing),
            connections: connections::Survival::new(stateful, replication_http),
            coverage: Coverage::default(),
            violation: None,
        }
    }

    /// The first violation found, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// Keeps `v` if it is the first violation.
    fn found(&mut self, v: Option<Violation>) {
        if let Some(v) = v {
            if self.violation.is_none() {
                self.violation = Some(v);
            }
        }
    }

    /// An observation, with the view from just before it.
    pub fn observe(&mut self, t_ns: u64, obs: &Obs, before: &View) {
        if self.violation.is_some() {
            return;
        }
        self.violation = self.safety.observe(t_ns, obs, before, &mut self.coverage);
        self.liveness.observe(t_ns, obs);
    }

    /// The view after an input.
    pub fn after_input(&mut self, t_ns: u64, view: &View) {
        if self.violation.is_some() {
            return;
        }
        self.violation = self.safety.after_input(t_ns, view, &mut self.coverage);
    }

    /// A unit booted (property 9 follows its replication from scratch).
    pub fn on_boot(&mut self, unit: UnitName, boot: u64) {
        self.connections.on_boot(unit, boot);
    }

    /// After an input of `name`, once the workload saw it: property 9.
    /// `judge` is false when the run checks nothing (the state machines alone).
    #[inline]
    pub fn connections_after_input(&mut self, t_ns: u64, name: UnitName, unit: &Unit, traffic: &Traffic, judge: bool) {
        let v = self.connections.after_input(t_ns, name, unit, traffic, &mut self.coverage, judge);
        self.found(v.filter(|_| judge));
    }

    /// Right before a traffic operation reaches `name`: property 9 judges a
    /// failover to it on its tables as they were.
    pub fn before_traffic(&mut self, t_ns: u64, name: UnitName, unit: &Unit, traffic: &Traffic, judge: bool) {
        let v = self.connections.judge_due(t_ns, name, unit, traffic, &mut self.coverage, judge);
        self.found(v.filter(|_| judge));
    }

    /// What a traffic operation through `(unit, boot)` did to the workload's book.
    pub fn traffic_answer(&mut self, t_ns: u64, unit: UnitName, boot: u64, answer: Answer, judge: bool) {
        let v = self.connections.answer(t_ns, unit, boot, answer, &mut self.coverage);
        self.found(v.filter(|_| judge));
    }

    /// A scenario expectation was checked: `failed` says why it failed, if it did.
    pub fn expectation(&mut self, t_ns: u64, failed: Option<String>) {
        self.found(failed.map(|message| Violation {
            verdict: Verdict::Safety,
            property: property::EXPECT.into(),
            t_ns,
            message,
        }));
    }

    /// The end of the run.
    pub fn finish(&mut self, t_ns: u64, view: &View, fabric_clean: bool) {
        self.connections.finish(&mut self.coverage);
        if self.violation.is_some() {
            return;
        }
        self.violation = self.liveness.finish(t_ns, view, fabric_clean, &mut self.coverage);
    }
}
