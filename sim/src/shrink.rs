//! Shrink: the smallest schedule that still breaks the same property.
//!
//! Deterministic delta debugging over a [`Scenario`]'s steps, as in ddmin
//! (Zeller and Hildebrandt), followed by passes that make each kept fault
//! smaller. A candidate is kept only when a run of it fails with the same
//! [`Failure`] as the original: the same property (and, for a scenario
//! expectation, the same expectation failing first with the same
//! observation), with the same planted bug. The passes, repeated until none
//! makes progress or the run budget is spent:
//!
//! 1. shorten the run: `duration_ms` down to the violation time plus a margin,
//!    or, when that no longer fails (a liveness property needs time to be
//!    judged), to the shortest duration that still fails;
//! 2. ddmin over every step but the boots (faults, heals, commands, shows,
//!    expectations);
//! 3. drop boots, one at a time;
//! 4. shorten windows: move heals, interface-ups, reboots and `until_ms`
//!    earlier, down to the start of their fault;
//! 5. move faults later, up to the end of their window.
//!
//! With [`Options::also`] (`fover shrink --engines fast,madsim`), a candidate
//! must also fail the same way on each of those engines: the result is a
//! schedule that fails on all of them, not only on the engine that shrank it
//! (whose timing alone a shrink may come to depend on).
//!
//! Every search is a bisection on milliseconds, stopped at
//! [`RESOLUTION_MS`]; each accepted candidate was run and failed, so the
//! result fails even where a bisection's monotonicity guess was wrong.

use crate::checker::{Verdict, Violation, property};
use crate::engine::{EngineKind, Outcome};
use crate::error::{Error, RunError, WriteError};
use crate::fabric::MS;
use crate::replay::{self, ReplayError};
use crate::scenario::Scenario;
use crate::schedule::{LinkName, Step};
use crate::sweep;
use crate::world::RecordLevel;
use fover_traces::{Event, Header, Record};
use std::path::{Path, PathBuf};

/// Bisections stop when the interval is this narrow.
pub const RESOLUTION_MS: u64 = 10;

/// How a shrink is bounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Runs of the engine, the first (checking that the trace still fails) included.
    pub max_runs: u32,
    /// Kept after the violation when the run is shortened.
    pub margin_ms: u64,
    /// Engines besides the shrinking one on which every kept candidate must
    /// fail the same way too (each run there counts against `max_runs`).
    pub also: Vec<EngineKind>,
}

impl Default for Options {
    fn default() -> Options {
        Options { max_runs: 500, margin_ms: 1_000, also: Vec::new() }
    }
}

/// The failure a shrink preserves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub property: String,
    /// For `scenario-expectation`: the expectation that fails first (its
    /// `at_ms`, description and what was observed), so a shrink can neither
    /// swap one broken expectation for another nor break it another way
    /// (a unit that never booted for one that lost power).
    pub expectation: Option<(u64, String, String)>,
}

impl Failure {
    /// The failure of a run, if it failed.
    pub fn of(outcome: &Outcome) -> Option<Failure> {
        let v = outcome.violation.as_ref()?;
        let expectation = (v.property == property::EXPECT)
            .then(|| {
                outcome
                    .expectations
                    .iter()
                    .find(|e| !e.pass)
                    .map(|e| (e.at_ms, e.description.clone(), e.observed.clone()))
            })
            .flatten();
        Some(Failure { property: v.property.clone(), expectation })
    }
}

/// Why a trace could not be shrunk.
#[derive(Debug, thiserror::Error)]
pub enum ShrinkError {
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error("the trace passed: there is no failure to shrink")]
    TracePassed,
    #[error("the run no longer fails: it now ends with the verdict {verdict} (the code changed since the trace?)")]
    NotFailing { verdict: String },
    #[error("the run now fails with {now}, not {recorded} as in the trace (the code changed since the trace?)")]
    DifferentFailure { recorded: String, now: String },
    #[error("running the scenario: {0}")]
    Run(#[source] RunError),
    #[error(
        "the shrunk scenario did not fail the same way when recorded (verdict {verdict}): the engine is not deterministic"
    )]
    Nondeterministic { verdict: String },
    #[error("the {engine} engine is not in this build: use `cargo sim shrink ...` (a --cfg madsim build)")]
    EngineUnavailable { engine: &'static str },
    #[error("on the {engine} engine the schedule {outcome}: there is nothing to shrink on both engines")]
    NotFailingOn { engine: &'static str, outcome: String },
}

/// The result of a shrink.
#[derive(Clone, Debug)]
pub struct Shrunk {
    pub engine: EngineKind,
    /// The other engines the shrunk scenario was checked to fail on ([`Options::also`]).
    pub also: Vec<EngineKind>,
    /// The smallest failing scenario found, named `shrunk: PROPERTY (seed N)`.
    pub scenario: Scenario,
    pub failure: Failure,
    /// Its violation, from a run with full recording.
    pub violation: Violation,
    /// That run, for its trace.
    pub outcome: Outcome,
    /// Engine runs, the first and the final recording run included.
    pub runs: u32,
    /// The run budget ran out before the passes stopped making progress.
    pub budget_exhausted: bool,
    pub steps: (usize, usize),
    pub faults: (usize, usize),
    pub duration_ms: (u64, u64),
}

fn faults(s: &Scenario) -> usize {
    s.steps.iter().filter(|s| s.is_fault()).count()
}

/// The run budget is spent.
struct Exhausted;

struct Search {
    engine: EngineKind,
    also: Vec<EngineKind>,
    target: Failure,
    runs: u32,
    max_runs: u32,
    margin_ms: u64,
    best: Scenario,
    /// Violation time of `best`, ms.
    violation_ms: u64,
}

impl Search {
    /// Runs a candidate: `Ok(true)` (and it becomes the best) if it fails the same way.
    fn try_candidate(&mut self, candidate: Scenario) -> Result<bool, Exhausted> {
        if candidate == self.best || candidate.validate().is_err() {
            return Ok(false);
        }
        if self.runs >= self.max_runs {
            return Err(Exhausted);
        }
        self.runs += 1;
        let Ok(outcome) = sweep::run_caught(self.engine, &candidate, RecordLevel::NoFrames) else {
            return Ok(false);
        };
        if Failure::of(&outcome).as_ref() != Some(&self.target) {
            return Ok(false);
        }
        for i in 0..self.also.len() {
            if self.runs >= self.max_runs {
                return Err(Exhausted);
            }
            self.runs += 1;
            if fails_the_same_way(self.also[i], &candidate, &self.target).is_err() {
                return Ok(false);
            }
        }
        self.violation_ms = outcome.violation.map_or(0, |v| v.t_ns / MS);
        self.best = candidate;
        Ok(true)
    }

    fn with_duration(&self, d: u64) -> Scenario {
        let mut s = self.best.clone();
        s.duration_ms = d;
        s.steps.retain(|st| st.at_ms() <= d);
        s
    }

    /// Pass 1: a shorter run.
    fn shorten_run(&mut self) -> Result<(), Exhausted> {
        let current = self.best.duration_ms;
        let target = self.violation_ms + self.margin_ms;
        if target < current && self.try_candidate(self.with_duration(target))? {
            return Ok(());
        }
        // The shortest run that still fails (a liveness property needs its
        // bound to pass before it is judged) ...
        let (original, original_violation_ms) = (self.best.clone(), self.violation_ms);
        let (mut lo, mut hi) = (1, current);
        while hi - lo > RESOLUTION_MS {
            let mid = lo + (hi - lo) / 2;
            if self.try_candidate(self.with_duration(mid))? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        // ... plus the margin, so the file still fails after small timing changes.
        let shortest = self.best.duration_ms;
        if shortest < current {
            let wanted = shortest + self.margin_ms;
            if wanted >= current {
                (self.best, self.violation_ms) = (original, original_violation_ms);
            } else {
                let mut s = original;
                s.duration_ms = wanted;
                s.steps.retain(|st| st.at_ms() <= wanted);
                self.try_candidate(s)?;
            }
        }
        Ok(())
    }

    /// Pass 2: ddmin over the steps that are not boots.
    fn ddmin(&mut self) -> Result<(), Exhausted> {
        let mut n = 2usize;
        loop {
            let idx: Vec<usize> =
                (0..self.best.steps.len()).filter(|&i| !matches!(self.best.steps[i], Step::Boot { .. })).collect();
            if idx.is_empty() {
                return Ok(());
            }
            n = n.min(idx.len());
            let chunk = idx.len().div_ceil(n);
            let mut reduced = false;
            for part in idx.chunks(chunk) {
                let mut s = self.best.clone();
                let mut i = 0;
                s.steps.retain(|_| {
                    i += 1;
                    !part.contains(&(i - 1))
                });
                if self.try_candidate(s)? {
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
            if !reduced {
                if n >= idx.len() {
                    return Ok(());
                }
                n = (2 * n).min(idx.len());
            }
        }
    }

    /// Pass 3: boots go too, if the failure does not need them.
    fn drop_boots(&mut self) -> Result<(), Exhausted> {
        let mut i = self.best.steps.len();
        while i > 0 {
            i -= 1;
            if matches!(self.best.steps.get(i), Some(Step::Boot { .. })) {
                let mut s = self.best.clone();
                s.steps.remove(i);
                self.try_candidate(s)?;
            }
        }
        Ok(())
    }

    /// Bisects the earliest value in `[lo, hi)` for which `make` still fails
    /// (`hi` is the current value, known to fail).
    fn earliest(&mut self, lo: u64, hi: u64, make: impl Fn(&Scenario, u64) -> Scenario) -> Result<(), Exhausted> {
        let (mut lo, mut hi) = (lo, hi);
        if lo >= hi {
            return Ok(());
        }
        // The cheapest answer first: right at the start.
        if self.try_candidate(make(&self.best, lo))? {
            return Ok(());
        }
        lo += 1;
        while hi - lo > RESOLUTION_MS {
            let mid = lo + (hi - lo) / 2;
            if self.try_candidate(make(&self.best, mid))? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(())
    }

    /// Bisects the latest value in `(lo, hi]` for which `make` still fails
    /// (`lo` is the current value, known to fail).
    fn latest(&mut self, lo: u64, hi: u64, make: impl Fn(&Scenario, u64) -> Scenario) -> Result<(), Exhausted> {
        let (mut lo, mut hi) = (lo, hi);
        if hi <= lo {
            return Ok(());
        }
        if self.try_candidate(make(&self.best, hi))? {
            return Ok(());
        }
        hi -= 1;
        while hi - lo > RESOLUTION_MS {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.try_candidate(make(&self.best, mid))? {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Ok(())
    }

    /// Pass 4: shorter fault windows.
    fn shorten_windows(&mut self) -> Result<(), Exhausted> {
        for i in 0..self.best.steps.len() {
            let Some(step) = self.best.steps.get(i).cloned() else { break };
            if let Some(until) = until_ms(&step) {
                self.earliest(step.at_ms(), until, |s, t| {
                    let mut s = s.clone();
                    set_until_ms(&mut s.steps[i], t);
                    s
                })?;
            } else if let Step::Crash { reboot_after_ms: Some(r), .. } = step {
                self.earliest(1, r, |s, t| {
                    let mut s = s.clone();
                    if let Step::Crash { reboot_after_ms, .. } = &mut s.steps[i] {
                        *reboot_after_ms = Some(t);
                    }
                    s
                })?;
            } else if let Some(open) = opening_of(&self.best.steps, i) {
                self.earliest(open, step.at_ms(), |s, t| {
                    let mut s = s.clone();
                    s.steps[i].set_at_ms(t);
                    s
                })?;
            }
        }
        Ok(())
    }

    /// Pass 5: faults start later, up to the end of their window.
    fn move_faults_later(&mut self) -> Result<(), Exhausted> {
        for i in 0..self.best.steps.len() {
            let Some(step) = self.best.steps.get(i).cloned() else { break };
            if !opens_fault(&step) {
                continue;
            }
            let end = until_ms(&step)
                .or_else(|| closing_of(&self.best.steps, i))
                .unwrap_or(self.best.duration_ms)
                .min(self.best.duration_ms);
            self.latest(step.at_ms(), end, |s, t| {
                let mut s = s.clone();
                s.steps[i].set_at_ms(t);
                s
            })?;
        }
        Ok(())
    }

    fn pass(&mut self) -> Result<(), Exhausted> {
        self.shorten_run()?;
        self.ddmin()?;
        self.drop_boots()?;
        self.shorten_windows()?;
        self.move_faults_later()?;
        self.shorten_run()
    }
}

fn until_ms(step: &Step) -> Option<u64> {
    match step {
        Step::Loss { until_ms, .. }
        | Step::Delay { until_ms, .. }
        | Step::Duplicate { until_ms, .. }
        | Step::Reorder { until_ms, .. }
        | Step::Corrupt { until_ms, .. }
        | Step::Drop { until_ms, .. } => *until_ms,
        _ => None,
    }
}

fn set_until_ms(step: &mut Step, t: u64) {
    match step {
        Step::Loss { until_ms, .. }
        | Step::Delay { until_ms, .. }
        | Step::Duplicate { until_ms, .. }
        | Step::Reorder { until_ms, .. }
        | Step::Corrupt { until_ms, .. }
        | Step::Drop { until_ms, .. } => *until_ms = Some(t),
        _ => {}
    }
}

/// A step that starts a fault (as opposed to one that ends it).
fn opens_fault(step: &Step) -> bool {
    match step {
        Step::ClockDrift { ppm, .. } => *ppm != 0,
        Step::Heal { .. } | Step::InterfaceUp { .. } => false,
        s => s.is_fault(),
    }
}

fn link_of(step: &Step) -> Option<&LinkName> {
    match step {
        Step::Cut { link, .. }
        | Step::Loss { link, .. }
        | Step::Delay { link, .. }
        | Step::Duplicate { link, .. }
        | Step::Reorder { link, .. }
        | Step::Corrupt { link, .. }
        | Step::Drop { link, .. } => Some(link),
        _ => None,
    }
}

/// Whether `close` ends the fault `open` started.
fn closes(open: &Step, close: &Step) -> bool {
    match (open, close) {
        (o, Step::Heal { link, .. }) => link_of(o).is_some_and(|l| *link == LinkName::All || l == link),
        (
            Step::InterfaceDown { unit: u, interface: i, .. } | Step::InterfaceSilent { unit: u, interface: i, .. },
            Step::InterfaceUp { unit, interface, .. },
        ) => u == unit && i == interface,
        (Step::PowerOff { unit: u, .. } | Step::Crash { unit: u, .. }, Step::Boot { unit, .. }) => u == unit,
        (Step::ClockDrift { unit: u, ppm, .. }, Step::ClockDrift { unit, ppm: 0, .. }) => *ppm != 0 && u == unit,
        _ => false,
    }
}

/// For a step that ends a fault: when the latest fault it ends started.
fn opening_of(steps: &[Step], i: usize) -> Option<u64> {
    let close = &steps[i];
    steps.iter().filter(|o| o.at_ms() <= close.at_ms() && closes(o, close)).map(Step::at_ms).max()
}

/// For a step that starts a fault: when the first step that ends it comes.
fn closing_of(steps: &[Step], i: usize) -> Option<u64> {
    let open = &steps[i];
    steps.iter().filter(|c| c.at_ms() >= open.at_ms() && closes(open, c)).map(Step::at_ms).min()
}

/// Runs `scenario` on `engine`: `Ok` if it fails as `target`, else what it did.
fn fails_the_same_way(engine: EngineKind, scenario: &Scenario, target: &Failure) -> Result<(), String> {
    match sweep::run_caught(engine, scenario, RecordLevel::NoFrames) {
        Err(e) => Err(format!("does not run: {e}")),
        Ok(o) => match Failure::of(&o) {
            Some(f) if f == *target => Ok(()),
            Some(f) => Err(format!("fails with {}, not {}", f.property, target.property)),
            None => Err(format!("ends with the verdict {}", o.verdict.as_str())),
        },
    }
}

/// Shrinks a failing scenario. `expected`: the property the caller saw fail
/// (from a trace), checked against a first run.
pub fn shrink_scenario(
    engine: EngineKind,
    scenario: &Scenario,
    expected: Option<&str>,
    options: &Options,
) -> Result<Shrunk, ShrinkError> {
    let also: Vec<EngineKind> = options.also.iter().copied().filter(|e| *e != engine).collect();
    for e in std::iter::once(engine).chain(also.iter().copied()) {
        if !e.available() {
            return Err(ShrinkError::EngineUnavailable { engine: e.as_str() });
        }
    }
    let first = sweep::run_caught(engine, scenario, RecordLevel::NoFrames).map_err(ShrinkError::Run)?;
    let Some(target) = Failure::of(&first) else {
        return Err(ShrinkError::NotFailing { verdict: first.verdict.as_str().to_owned() });
    };
    if let Some(p) = expected {
        if p != target.property {
            return Err(ShrinkError::DifferentFailure { recorded: p.to_owned(), now: target.property });
        }
    }
    for &e in &also {
        fails_the_same_way(e, scenario, &target)
            .map_err(|outcome| ShrinkError::NotFailingOn { engine: e.as_str(), outcome })?;
    }
    let mut search = Search {
        engine,
        also: also.clone(),
        target: target.clone(),
        runs: 1 + also.len() as u32,
        max_runs: options.max_runs.max(1),
        margin_ms: options.margin_ms,
        best: scenario.clone(),
        violation_ms: first.violation.as_ref().map_or(0, |v| v.t_ns / MS),
    };
    let mut budget_exhausted = false;
    loop {
        let before = search.best.clone();
        if search.pass().is_err() {
            budget_exhausted = true;
            break;
        }
        if search.best == before {
            break;
        }
    }
    let mut best = search.best.clone();
    // In time order for people; the engine's stable sort sees the same order.
    best.steps.sort_by_key(Step::at_ms);
    best.name = format!("shrunk: {} (seed {})", target.property, scenario.seed);
    let outcome = sweep::run_caught(engine, &best, RecordLevel::Full).map_err(ShrinkError::Run)?;
    search.runs += 1;
    let Some(violation) = outcome.violation.clone().filter(|_| Failure::of(&outcome).as_ref() == Some(&target)) else {
        return Err(ShrinkError::Nondeterministic { verdict: outcome.verdict.as_str().to_owned() });
    };
    Ok(Shrunk {
        engine,
        also,
        steps: (scenario.steps.len(), best.steps.len()),
        faults: (faults(scenario), faults(&best)),
        duration_ms: (scenario.duration_ms, best.duration_ms),
        scenario: best,
        failure: target,
        violation,
        outcome,
        runs: search.runs,
        budget_exhausted,
    })
}

/// Shrinks the run of a trace.
pub fn shrink_trace(header: &Header, records: &[Record], options: &Options) -> Result<Shrunk, ShrinkError> {
    let engine = replay::engine_of(header)?;
    let scenario = replay::scenario_of(header)?;
    let recorded = records.iter().rev().find_map(|r| match &r.event {
        Event::Verdict { verdict, property, .. } => Some((verdict.clone(), property.clone())),
        _ => None,
    });
    let property = match recorded {
        Some((v, _)) if v == Verdict::Pass.as_str() => return Err(ShrinkError::TracePassed),
        Some((_, p)) => p,
        None => None,
    };
    shrink_scenario(engine, &scenario, property.as_deref(), options)
}

/// Where `fover shrink TRACE` writes by default: `X.trace.jsonl` → `X.shrunk.trace.jsonl`.
pub fn default_out(trace: &Path) -> PathBuf {
    let name = trace.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".trace.jsonl").or_else(|| name.strip_suffix(".jsonl")).unwrap_or(&name);
    trace.with_file_name(format!("{stem}.shrunk.trace.jsonl"))
}

/// The scenario file written beside a shrunk trace: `X.trace.jsonl` → `X.toml`.
pub fn scenario_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".trace.jsonl").or_else(|| name.strip_suffix(".jsonl")).unwrap_or(&name);
    out.with_file_name(format!("{stem}.toml"))
}

impl Shrunk {
    /// The scenario file's text: a comment saying where it came from and how to run it, then the TOML.
    pub fn scenario_file(&self, from: &str, file_name: &str) -> Result<String, toml::ser::Error> {
        let plant = self.scenario.planted_bug.map(|b| format!(" --plant {b}")).unwrap_or_default();
        let build = if plant.is_empty() { "" } else { " (in a build with --features planted-bugs)" };
        let engine = match self.engine {
            EngineKind::Fast => String::new(),
            e => format!(" --engine {}", e.as_str()),
        };
        let mut text = format!(
            "# Shrunk by `fover shrink` from {from} in {} runs: {} -> {} steps, {} -> {} ms.\n\
             # It fails with {} {}{}: {}\n\
             # Run it: fover scenario {file_name}{engine}{plant}{build}\n\n",
            self.runs,
            self.steps.0,
            self.steps.1,
            self.duration_ms.0,
            self.duration_ms.1,
            self.violation.verdict.as_str(),
            self.violation.property,
            self.engines_note(),
            self.violation.message.replace('\n', " "),
        );
        text.push_str(&self.scenario.to_toml()?);
        Ok(text)
    }

    /// Writes the shrunk trace to `out` and the scenario file beside it; returns the scenario file's path.
    pub fn write(&self, from: &Path, out: &Path) -> Result<PathBuf, Error> {
        let toml_path = scenario_path(out);
        let file_name = toml_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let text = self
            .scenario_file(&from.display().to_string(), &file_name)
            .map_err(|e| Error::Internal(format!("the shrunk scenario as TOML: {e}")))?;
        if let Some(dir) = toml_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, e))?;
        }
        std::fs::write(&toml_path, text).map_err(|e| WriteError::new(&toml_path, e))?;
        let header = sweep::trace_header(self.engine, None, &self.scenario, Some(&toml_path.display().to_string()));
        sweep::write_trace(out, &header, &self.outcome)?;
        Ok(toml_path)
    }

    /// ` on the fast and madsim engines` when the shrink checked other engines too.
    fn engines_note(&self) -> String {
        if self.also.is_empty() {
            return String::new();
        }
        let names: Vec<&str> =
            std::iter::once(self.engine).chain(self.also.iter().copied()).map(EngineKind::as_str).collect();
        format!(" on the {} engines", names.join(" and "))
    }

    /// The summary `fover shrink` prints.
    pub fn render(&self) -> String {
        let mut out = format!(
            "shrunk in {} runs: {} -> {} steps ({} -> {} faults), {} -> {} ms\n",
            self.runs, self.steps.0, self.steps.1, self.faults.0, self.faults.1, self.duration_ms.0, self.duration_ms.1
        );
        if self.budget_exhausted {
            out.push_str("stopped by the run budget (--max-runs): smaller, but maybe not the smallest\n");
        }
        out.push_str(&format!(
            "still fails{}: {} {} at {} ms: {}\n",
            self.engines_note(),
            self.violation.verdict.as_str(),
            self.violation.property,
            self.violation.t_ns / MS,
            self.violation.message
        ));
        for s in &self.scenario.steps {
            out.push_str(&format!("  {s}\n"));
        }
        out
    }
}
