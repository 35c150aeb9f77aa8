//! The engines that play a [`Scenario`]: [`fast`] (an event queue over the
//! sans-IO units, for volume) and, under `--cfg madsim`, `madsim` (the real
//! async driver on simulated sockets, for fidelity). Both produce a [`Outcome`].

pub mod fast;
#[cfg(madsim)]
pub mod madsim;

use crate::checker::{Coverage, Verdict, Violation};
use crate::scenario::Scenario;
use crate::world::{ExpectResult, RecordLevel};
use fover_traces::Record;
use serde::{Deserialize, Serialize};

/// Which engine runs a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// A deterministic event queue driving the units directly: several times the madsim engine's seeds per second (`fover bench`).
    #[default]
    Fast,
    /// The real async driver on madsim's simulated runtime (needs a `--cfg madsim` build: `cargo sim`).
    Madsim,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Fast => "fast",
            EngineKind::Madsim => "madsim",
        }
    }

    /// Whether this build can run the engine.
    pub fn available(self) -> bool {
        match self {
            EngineKind::Fast => true,
            EngineKind::Madsim => cfg!(madsim),
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub violation: Option<Violation>,
    pub records: Vec<Record>,
    pub coverage: Coverage,
    pub expectations: Vec<ExpectResult>,
    /// Simulated time covered, ns.
    pub sim_ns: u64,
    pub frames: u64,
    pub inputs: u64,
    /// Outputs of `show` steps: (time ns, unit, command, output).
    pub shows: Vec<(u64, String, String, String)>,
}

impl Outcome {
    /// Stable hash of the records: equal for equal runs, across processes.
    pub fn trace_hash(&self) -> u64 {
        fover_traces::hash_records(&self.records)
    }
}

/// Runs a scenario on an engine.
pub fn run(engine: EngineKind, scenario: &Scenario, level: RecordLevel) -> Result<Outcome, String> {
    match engine {
        EngineKind::Fast => fast::run(scenario, level),
        #[cfg(madsim)]
        EngineKind::Madsim => madsim::run(scenario, level),
        #[cfg(not(madsim))]
        EngineKind::Madsim => Err("the madsim engine needs a --cfg madsim build: use `cargo sim ...`".into()),
    }
}

/// Runs one operator command line on a unit.
pub fn run_command(
    unit: &mut fover_protocol::Unit,
    now: fover_protocol::Instant,
    context: &str,
    line: &str,
) -> Result<String, String> {
    if fover_protocol::show::parse_show_command(line) != Ok(None) {
        return unit.show(now, line).map_err(|e| e.to_string());
    }
    match fover_protocol::config::command::parse_failover_command(line) {
        Err(e) => Err(e.to_string()),
        Ok(Some(cmd)) if context == "system" => unit.handle_command(now, cmd).map_err(|e| e.to_string()),
        Ok(Some(_)) => Err(format!("{line:?}: failover commands are entered in the system space, not in {context}")),
        Ok(None) => {
            let space = if context == "system" {
                fover_protocol::types::Space::System
            } else {
                fover_protocol::types::Space::Context(context.to_owned())
            };
            unit.handle_cli(now, &space, line).map_err(|e| e.to_string())
        }
    }
}

/// The output of a `show` command on a unit at `now` (its own clock), or
/// the error that names the commands it answers.
pub fn run_show(unit: &fover_protocol::Unit, now: fover_protocol::Instant, command: &str) -> String {
    unit.show(now, command).unwrap_or_else(|e| format!("{e}\n"))
}

/// The ids of the connections a unit holds in a context.
pub fn connection_ids(unit: &fover_protocol::Unit, context: &str) -> std::collections::BTreeSet<u64> {
    unit.state_plane()
        .connections(context)
        .into_iter()
        .filter_map(|o| match o {
            fover_protocol::wire::StateObject::Connection { id, .. } => Some(id),
            _ => None,
        })
        .collect()
}
