//! Replay: run a trace's scenario again, on the engine named in its header,
//! and compare the new records with the trace's, one by one.
//!
//! The header holds the whole run as data ([`Header::scenario`]) and the
//! planted bug by name, so a replay does not depend on how the run was drawn:
//! a sweep trace, a scenario-file trace and a shrunk trace replay alike. A
//! divergence means the code (or the trace) changed since it was recorded.
//!
//! ```no_run
//! let report = fover_sim::replay::replay_file(std::path::Path::new("fover-out/seed-7.trace.jsonl"), None).unwrap();
//! print!("{}", report.render());
//! assert!(report.identical());
//! ```

use crate::engine::EngineKind;
use crate::error::RunError;
use crate::fabric::MS;
use crate::scenario::Scenario;
use crate::schedule::{Step, UnitName};
use crate::sweep;
use crate::world::RecordLevel;
use fover_protocol::planted::{self, PlantedBug};
use fover_traces::compare::{Divergence, first_divergence, seconds};
use fover_traces::{Event, Header, Record};
use std::fmt::Write as _;
use std::path::Path;

/// The command a replay runs on both units at `--until-ns`.
pub const SHOW_COMMAND: &str = "show failover";

/// Why a trace could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read (the text names the file and the line).
    #[error("{0}")]
    Read(String),
    #[error("header, line 1: the scenario does not load: {0}")]
    Scenario(String),
    #[error("header, line 1: unknown engine {0:?} (expected \"fast\" or \"madsim\")")]
    UnknownEngine(String),
    #[error("the trace ran on the madsim engine, which needs a --cfg madsim build: run it as `cargo sim replay ...`")]
    EngineUnavailable,
    #[error("header, line 1: unknown planted bug {name:?}; known: {known}")]
    UnknownBug { name: String, known: String },
    #[error(
        "the trace was recorded with the planted bug {0}, but this build cannot plant bugs: build with `--features planted-bugs`"
    )]
    BugsNotCompiled(PlantedBug),
    #[error("running the scenario: {0}")]
    Run(#[source] RunError),
}

/// Whether this build's protocol crate has the planted-bug switches compiled in.
pub fn bugs_compiled_in() -> bool {
    planted::is_planted(Some(PlantedBug::PreemptIgnoresDelay), PlantedBug::PreemptIgnoresDelay)
}

/// The engine named in a header, if this build has it.
pub fn engine_of(header: &Header) -> Result<EngineKind, ReplayError> {
    let engine = match header.engine.as_str() {
        "fast" => EngineKind::Fast,
        "madsim" => EngineKind::Madsim,
        other => return Err(ReplayError::UnknownEngine(other.to_owned())),
    };
    if !engine.available() {
        return Err(ReplayError::EngineUnavailable);
    }
    Ok(engine)
}

/// Parses a planted bug's name.
pub fn parse_bug(name: &str) -> Result<PlantedBug, ReplayError> {
    PlantedBug::parse(name).ok_or_else(|| {
        let known: Vec<&str> = PlantedBug::ALL.iter().map(|b| b.as_str()).collect();
        ReplayError::UnknownBug { name: name.to_owned(), known: known.join(", ") }
    })
}

/// The run a header describes: its scenario, with its planted bug.
pub fn scenario_of(header: &Header) -> Result<Scenario, ReplayError> {
    let mut scenario: Scenario =
        serde_json::from_value(header.scenario.clone()).map_err(|e| ReplayError::Scenario(e.to_string()))?;
    scenario.validate().map_err(ReplayError::Scenario)?;
    if let Some(name) = &header.planted_bug {
        let bug = parse_bug(name)?;
        if !bugs_compiled_in() {
            return Err(ReplayError::BugsNotCompiled(bug));
        }
        scenario.planted_bug = Some(bug);
    }
    Ok(scenario)
}

/// `show failover` on one unit at the `--until-ns` instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitShow {
    pub unit: UnitName,
    pub t_ns: u64,
    pub output: String,
}

/// What a replay found.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub engine: EngineKind,
    pub seed: u64,
    pub scenario_name: String,
    pub planted_bug: Option<PlantedBug>,
    /// The comparison stopped at this simulated time.
    pub until_ns: Option<u64>,
    /// Records compared (on the trace's side).
    pub compared: usize,
    pub divergence: Option<Divergence>,
    /// `show failover` on both units at `until_ns` (empty without it, or if the run ended before).
    pub shows: Vec<UnitShow>,
    /// The verdict of the replay (`pass`, `safety`, ...).
    pub replay_verdict: String,
    /// The trace was written by another fover version.
    pub version_note: Option<String>,
}

impl Report {
    /// The replay gave the trace's records, one for one.
    pub fn identical(&self) -> bool {
        self.divergence.is_none()
    }

    /// The text `fover replay` prints.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let bug = self.planted_bug.map(|b| format!(", planted bug {b}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "replaying {:?} (seed {}) on the {} engine{bug}",
            self.scenario_name,
            self.seed,
            self.engine.as_str()
        );
        if let Some(note) = &self.version_note {
            let _ = writeln!(out, "note: {note}");
        }
        let upto = self.until_ns.map(|t| format!(" up to {}", seconds(t))).unwrap_or_default();
        match &self.divergence {
            None => {
                let _ = writeln!(out, "identical ({} records{upto})", self.compared);
            }
            Some(d) => {
                let _ = writeln!(out, "DIVERGED{upto}: the replay's verdict is {}", self.replay_verdict);
                out.push_str(&d.render());
            }
        }
        if let Some(t) = self.until_ns {
            if self.shows.is_empty() {
                let _ = writeln!(out, "(no `{SHOW_COMMAND}`: the run ended before {})", seconds(t));
            }
            for s in &self.shows {
                let _ = writeln!(out, "--- {SHOW_COMMAND} on the {} at {}", s.unit, seconds(s.t_ns));
                out.push_str(&s.output);
                if !s.output.ends_with('\n') {
                    out.push('\n');
                }
            }
            if !self.shows.is_empty() {
                let _ = writeln!(out, "---");
            }
        }
        out
    }
}

/// Removes the last record that `pred` accepts; returns it.
fn take_last(records: &mut Vec<Record>, pred: impl Fn(&Record) -> bool) -> Option<Record> {
    let i = records.iter().rposition(pred)?;
    Some(records.remove(i))
}

/// Replays a trace read into memory.
pub fn replay(header: &Header, recorded: &[Record], until_ns: Option<u64>) -> Result<Report, ReplayError> {
    let engine = engine_of(header)?;
    let mut scenario = scenario_of(header)?;
    // `show failover` on both units at the instant: steps appended last run
    // after the scenario's own steps of that millisecond and draw nothing
    // random, so the records of the run itself do not change.
    let show_at_ms = until_ns.map(|t| (t / MS).min(scenario.duration_ms));
    let shows_steps: Vec<Step> = show_at_ms
        .map(|at_ms| UnitName::BOTH.map(|unit| Step::Show { at_ms, unit, command: SHOW_COMMAND.to_owned() }).to_vec())
        .unwrap_or_default();
    scenario.steps.extend(shows_steps.iter().cloned());
    let outcome = sweep::run_caught(engine, &scenario, RecordLevel::Full).map_err(ReplayError::Run)?;
    let mut replayed = outcome.records;
    let mut shows = Vec::new();
    // Take the added steps' records out again, last first.
    for step in shows_steps.iter().rev() {
        let (Step::Show { at_ms, unit, .. }, Ok(value)) = (step, serde_json::to_value(step)) else { continue };
        let t = at_ms * MS;
        let show = take_last(&mut replayed, |r| {
            r.t_ns == t
                && matches!(&r.event, Event::Show { unit: u, command, .. } if u == unit.as_str() && command == SHOW_COMMAND)
        });
        let _ = take_last(&mut replayed, |r| r.t_ns == t && matches!(&r.event, Event::Step { step } if *step == value));
        if let Some(Record { t_ns, event: Event::Show { output, .. } }) = show {
            shows.push(UnitShow { unit: *unit, t_ns, output });
        }
    }
    shows.reverse();
    let prefix = |records: &[Record]| match until_ns {
        Some(t) => records.iter().take_while(|r| r.t_ns <= t).count(),
        None => records.len(),
    };
    let (a, b) = (&recorded[..prefix(recorded)], &replayed[..prefix(&replayed)]);
    let this_version = env!("CARGO_PKG_VERSION");
    Ok(Report {
        engine,
        seed: scenario.seed,
        scenario_name: scenario.name.clone(),
        planted_bug: scenario.planted_bug,
        until_ns,
        compared: a.len(),
        divergence: first_divergence(a, b),
        shows,
        replay_verdict: outcome.verdict.as_str().to_owned(),
        version_note: (header.fover_version != this_version)
            .then(|| format!("the trace was written by fover {}, this is fover {this_version}", header.fover_version)),
    })
}

/// Reads a trace file and replays it.
pub fn replay_file(path: &Path, until_ns: Option<u64>) -> Result<Report, ReplayError> {
    let (header, records) = fover_traces::io::read_file(path).map_err(ReplayError::Read)?;
    replay(&header, &records, until_ns)
}
