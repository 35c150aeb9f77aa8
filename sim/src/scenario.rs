//! A run as a whole: the pair, its groups and contexts, and the timed steps.
//! This is the scenario-file format (TOML) and also what the nemesis draws
//! from a seed and what a trace's header stores.

use crate::checker::Timing;
use crate::fabric::MS;
use crate::pair::{self, ContextSpec, GroupSpec, PairSpec};
use crate::schedule::{Step, UnitName};
use fover_protocol::UnitConfig;
use fover_protocol::planted::PlantedBug;
use fover_protocol::wire::Group;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// One run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// `area: fault (detail)`.
    pub name: String,
    pub duration_ms: u64,
    /// Latency jitter and anything else random.
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub pair: PairSpec,
    #[serde(default, rename = "group", skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSpec>,
    #[serde(default, rename = "context", skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<ContextSpec>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
    /// A planted bug (tests only; not part of the file format).
    #[serde(skip)]
    pub planted_bug: Option<PlantedBug>,
    /// Run each unit's `invariants()` after every input.
    #[serde(skip, default = "yes")]
    pub check_invariants: bool,
}

/// Why a scenario file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl Scenario {
    /// Parses and validates the text of a scenario file.
    pub fn from_toml(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = toml::from_str(text)
            .map_err(|e| ScenarioError::Parse { file: file.into(), message: e.to_string().trim_end().to_owned() })?;
        scenario.validate().map_err(|message| ScenarioError::Invalid { file: file.into(), message })?;
        Ok(scenario)
    }

    /// Reads, parses and validates a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { file: file.clone(), source })?;
        Scenario::from_toml(&file, &text)
    }

    /// The TOML text of this scenario.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }

    /// Checks everything that can be checked before running.
    pub fn validate(&self) -> Result<(), String> {
        if self.duration_ms == 0 {
            return Err("duration_ms: must be more than 0".into());
        }
        let configs = self.unit_configs()?;
        let interfaces: Vec<String> = configs[0].interfaces.iter().map(|i| i.qualified_name()).collect();
        let contexts: Vec<&str> = configs[0].contexts.iter().map(|c| c.name.as_str()).collect();
        for (i, step) in self.steps.iter().enumerate() {
            let at = step.at_ms();
            let here = || format!("step {} (do = \"{}\", at_ms = {at})", i + 1, step.name());
            if at > self.duration_ms {
                return Err(format!("{}: at_ms is after duration_ms = {}", here(), self.duration_ms));
            }
            let check_iface = |name: &str| {
                if interfaces.iter().any(|n| n == name) {
                    Ok(())
                } else {
                    Err(format!("{}: no interface {name:?}; the pair has {}", here(), interfaces.join(", ")))
                }
            };
            let check_prob = |p: f64| {
                if (0.0..=1.0).contains(&p) {
                    Ok(())
                } else {
                    Err(format!("{}: probability {p} is not between 0 and 1", here()))
                }
            };
            let check_until = |u: &Option<u64>| match u {
                Some(u) if *u < at => Err(format!("{}: until_ms = {u} is before at_ms", here())),
                _ => Ok(()),
            };
            let check_link = |l: &crate::schedule::LinkName| match l {
                crate::schedule::LinkName::Data(name) => check_iface(name),
                _ => Ok(()),
            };
            match step {
                Step::InterfaceDown { interface, .. }
                | Step::InterfaceUp { interface, .. }
                | Step::InterfaceSilent { interface, .. } => check_iface(interface)?,
                Step::Cut { link, .. } | Step::Heal { link, .. } => check_link(link)?,
                Step::Loss { link, probability, until_ms, .. }
                | Step::Duplicate { link, probability, until_ms, .. }
                | Step::Reorder { link, probability, until_ms, .. }
                | Step::Corrupt { link, probability, until_ms, .. } => {
                    check_link(link)?;
                    check_prob(*probability)?;
                    check_until(until_ms)?;
                }
                Step::Delay { link, until_ms, .. } | Step::Drop { link, until_ms, .. } => {
                    check_link(link)?;
                    check_until(until_ms)?;
                }
                Step::Command { context, line, .. } => {
                    if context != "system" && !contexts.contains(&context.as_str()) {
                        return Err(format!(
                            "{}: no context {context:?}; the pair has {}",
                            here(),
                            contexts.join(", ")
                        ));
                    }
                    if line.trim().is_empty() {
                        return Err(format!("{}: line is empty", here()));
                    }
                }
                Step::Connect { context, .. } if !contexts.contains(&context.as_str()) => {
                    return Err(format!("{}: no context {context:?}; the pair has {}", here(), contexts.join(", ")));
                }
                Step::ClockDrift { ppm, .. } if ppm.abs() > crate::clock::DRIFT_PPM_MAX => {
                    return Err(format!("{}: ppm must be within ±{}", here(), crate::clock::DRIFT_PPM_MAX));
                }
                Step::Expect(e) => {
                    if let Some(g) = e.group {
                        if Group::from_code(g).is_none() {
                            return Err(format!("{}: group {g}: there are only groups 1 and 2", here()));
                        }
                    }
                    if (e.active.is_some() || e.state.is_some()) && e.group.is_none() {
                        return Err(format!("{}: `active` and `state` need `group`", here()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Both units' settings.
    pub fn unit_configs(&self) -> Result<[UnitConfig; 2], String> {
        pair::unit_configs(&self.pair, &self.groups, &self.contexts)
    }

    /// The steps in time order (stable for equal times).
    pub fn sorted_steps(&self) -> Vec<Step> {
        let mut steps = self.steps.clone();
        steps.sort_by_key(Step::at_ms);
        steps
    }

    /// What the checkers need to know of the run's timing.
    pub fn timing(&self, configs: &[UnitConfig; 2]) -> Timing {
        let c = &configs[0];
        let delay_max_ms = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Delay { delay_ms, jitter_ms, .. } => delay_ms + jitter_ms,
                Step::Reorder { .. } => 50,
                Step::Duplicate { .. } => 5,
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let drift = self
            .steps
            .iter()
            .map(|s| match s {
                Step::ClockDrift { ppm, .. } => ppm.unsigned_abs(),
                _ => 0,
            })
            .max()
            .unwrap_or(0);
        let iface_hold = c.groups.iter().map(|g| g.interface_holdtime).max().unwrap_or_default();
        let iface_poll = c.groups.iter().map(|g| g.interface_polltime).max().unwrap_or_default();
        Timing {
            unit_polltime_ns: c.unit_polltime.as_nanos() as u64,
            unit_holdtime_ns: c.unit_holdtime.as_nanos() as u64,
            interface_polltime_ns: iface_poll.as_nanos() as u64,
            interface_holdtime_ns: iface_hold.as_nanos() as u64,
            delay_max_ns: delay_max_ms * MS,
            preempt_ns: [0, 1].map(|g| c.groups[g].preempt_delay.map(|d| d.as_nanos() as u64)),
            preferred: [0, 1].map(|g| UnitName::from_role(c.groups[g].preferred)),
            policy: [0, 1].map(|g| c.groups[g].interface_policy),
            drift_ppm_max: drift,
            keys_match: self.pair.keys_match(),
        }
    }
}
