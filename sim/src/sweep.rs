//! Seeded sweeps: many seeds in parallel, one verdict each, a summary, the
//! failing traces and the command that reproduces each failure.
//!
//! This module runs *outside* the simulation: it owns OS threads and reads the
//! wall clock for progress and throughput, never for anything a seed computes.

use crate::checker::{Coverage, Verdict};
use crate::engine::{self, EngineKind, Outcome};
use crate::error::{Error, RunError, WriteError};
use crate::nemesis::{self, Family, Options};
use crate::scenario::Scenario;
use crate::world::RecordLevel;
use fover_traces::{FORMAT_NAME, FORMAT_VERSION, Header};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What to sweep.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    pub seeds: u64,
    pub start: u64,
    pub jobs: usize,
    /// `(k, n)`: this shard runs the seeds `s` of the range with `s % n == k - 1`.
    pub shard: Option<(u64, u64)>,
    pub nemesis: nemesis::Config,
    pub engine: EngineKind,
    /// Seeds rerun at the end to check determinism.
    pub recheck: u64,
    pub out: Option<PathBuf>,
    pub planted_bug: Option<fover_protocol::planted::PlantedBug>,
    /// Stop at the first failing seed.
    pub stop_on_failure: bool,
}

/// The result of one seed, as a JSON line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    pub engine: EngineKind,
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t_ms: Option<u64>,
    pub sim_ms: u64,
    pub frames: u64,
    pub trace_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repro: Option<String>,
    /// The fault families this seed turned on.
    #[serde(default)]
    pub families: Vec<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    pub coverage: Coverage,
}

/// A whole sweep.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Every seed's result, without its coverage (merged into `coverage`).
    pub results: Vec<SeedResult>,
    pub coverage: Coverage,
    /// Seeds whose rerun gave another trace hash.
    pub nondeterministic: Vec<u64>,
    /// Seeds run a second time to compare trace hashes.
    pub rechecked: usize,
    pub wall_secs: f64,
    /// Stopped (Ctrl-C) before every seed ran.
    pub interrupted: bool,
    /// Seeds the sweep was to run (`results` holds fewer when it was interrupted).
    pub total: usize,
}

impl Summary {
    pub fn failures(&self) -> impl Iterator<Item = &SeedResult> {
        self.results.iter().filter(|r| r.verdict != Verdict::Pass)
    }
    pub fn passed(&self) -> bool {
        self.failures().next().is_none() && self.nondeterministic.is_empty()
    }
    pub fn sim_secs(&self) -> f64 {
        self.results.iter().map(|r| r.sim_ms as f64 / 1000.0).sum()
    }
}

/// Draws the run of one seed under a sweep's settings.
pub fn scenario_for(seed: u64, config: &SweepConfig) -> (Options, Scenario) {
    let (options, mut scenario) = nemesis::draw(seed, &config.nemesis);
    scenario.planted_bug = config.planted_bug;
    (options, scenario)
}

thread_local! {
    static PANIC_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs a panic hook that keeps the panic's location for the crash verdict
/// instead of printing it in the middle of a progress bar.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        PANIC_AT.with(|p| *p.borrow_mut() = Some(at));
    }));
}

/// Stack of a thread that runs seeds.
const SEED_STACK: usize = 16 << 20;

/// Runs one scenario on this thread, turning a panic into a `crash` outcome.
fn run_catching(engine: EngineKind, scenario: &Scenario, level: RecordLevel) -> Result<Outcome, RunError> {
    match catching(|| engine::run(engine, scenario, level)) {
        Ok(result) => result.map_err(RunError::Engine),
        Err(panic) => Ok(crash_outcome(scenario, panic)),
    }
}

/// Runs `f`; a panic comes back as its text and where it happened (with [`quiet_panics`]).
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        let at = PANIC_AT.with(|p| p.borrow_mut().take()).unwrap_or_default();
        format!("{}{at}", crate::world::panic_text(&e))
    })
}

/// Runs one scenario, turning a panic into a `crash` outcome.
pub fn run_caught(engine: EngineKind, scenario: &Scenario, level: RecordLevel) -> Result<Outcome, RunError> {
    if engine == EngineKind::Fast {
        // The fast engine keeps no state outside the run: it runs on the
        // caller's thread. A fresh thread per seed cost a third of a sweep
        // (thread start, and the allocator's fresh pages faulted in and zeroed).
        run_catching(engine, scenario, level)
    } else {
        let sc = scenario.clone();
        // madsim wants a fresh OS thread per seed.
        #[allow(clippy::disallowed_methods)] // outside the simulation: one thread per seed
        let handle = std::thread::Builder::new()
            .name(format!("seed-{}", scenario.seed))
            .stack_size(SEED_STACK)
            .spawn(move || run_catching(engine, &sc, level))
            .map_err(RunError::Thread)?;
        handle.join().unwrap_or(Err(RunError::ThreadDied))
    }
}

fn crash_outcome(_scenario: &Scenario, message: String) -> Outcome {
    let violation = crate::checker::Violation {
        verdict: Verdict::Crash,
        property: "no-panic".into(),
        t_ns: 0,
        message: format!("panic: {message}"),
    };
    Outcome {
        verdict: Verdict::Crash,
        records: vec![fover_traces::Record {
            t_ns: 0,
            event: fover_traces::Event::Verdict {
                verdict: "crash".into(),
                property: Some(violation.property.clone()),
                message: Some(violation.message.clone()),
            },
        }],
        violation: Some(violation),
        coverage: Coverage::default(),
        expectations: Vec::new(),
        sim_ns: 0,
        frames: 0,
        inputs: 0,
        shows: Vec::new(),
    }
}

/// The command that reproduces a seed of a sweep.
pub fn repro_command(seed: u64, config: &SweepConfig) -> String {
    let mut cmd = format!("cargo sim run --seed {seed}");
    if config.engine != EngineKind::Fast {
        cmd.push_str(&format!(" --engine {}", config.engine.as_str()));
    }
    if let Some(d) = config.nemesis.duration_ms {
        cmd.push_str(&format!(" --duration-ms {d}"));
    }
    if let Some(d) = config.nemesis.fault_phase_ms {
        cmd.push_str(&format!(" --fault-phase-ms {d}"));
    }
    if !config.nemesis.families.is_empty() {
        let f: Vec<&str> = config.nemesis.families.iter().map(|f| f.as_str()).collect();
        cmd.push_str(&format!(" --faults {}", f.join(",")));
    }
    if config.nemesis.no_traffic {
        cmd.push_str(" --no-traffic");
    }
    if let Some(b) = config.planted_bug {
        cmd.push_str(&format!(" --plant {b}"));
    }
    cmd.push_str(" -v");
    cmd
}

/// The header of a trace of this run.
pub fn trace_header(engine: EngineKind, options: Option<&Options>, scenario: &Scenario, file: Option<&str>) -> Header {
    Header {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        fover_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: option_env!("FOVER_GIT_COMMIT").map(str::to_owned),
        engine: engine.as_str().into(),
        seed: scenario.seed,
        options: options.and_then(|o| serde_json::to_value(o).ok()).unwrap_or_default(),
        scenario: serde_json::to_value(scenario).unwrap_or_default(),
        scenario_file: file.map(str::to_owned),
        planted_bug: scenario.planted_bug.map(|b| b.to_string()),
    }
}

/// Writes a trace file.
pub fn write_trace(path: &Path, header: &Header, outcome: &Outcome) -> Result<(), WriteError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| WriteError::new(dir, e))?;
    }
    let file = std::fs::File::create(path).map_err(|e| WriteError::new(path, e))?;
    fover_traces::io::write_trace(std::io::BufWriter::new(file), header, &outcome.records)
        .map_err(|e| WriteError::new(path, e))
}

fn seed_list(config: &SweepConfig) -> Vec<u64> {
    (config.start..config.start.saturating_add(config.seeds))
        .filter(|s| match config.shard {
            Some((k, n)) => (s - config.start) % n == k - 1,
            None => true,
        })
        .collect()
}

/// Runs one seed of a sweep and, when it fails, its full trace.
pub fn run_seed(seed: u64, config: &SweepConfig) -> Result<SeedResult, Error> {
    let (options, scenario) = scenario_for(seed, config);
    let outcome = run_caught(config.engine, &scenario, RecordLevel::NoFrames)?;
    let mut result = SeedResult {
        seed,
        engine: config.engine,
        verdict: outcome.verdict,
        property: outcome.violation.as_ref().map(|v| v.property.clone()),
        message: outcome.violation.as_ref().map(|v| v.message.clone()),
        t_ms: outcome.violation.as_ref().map(|v| v.t_ns / crate::fabric::MS),
        sim_ms: outcome.sim_ns / crate::fabric::MS,
        frames: outcome.frames,
        trace_hash: format!("{:016x}", outcome.trace_hash()),
        repro: None,
        trace: None,
        coverage: outcome.coverage,
        families: options.families.clone(),
    };
    if result.verdict != Verdict::Pass {
        result.repro = Some(repro_command(seed, config));
        if let Some(dir) = &config.out {
            let full = run_caught(config.engine, &scenario, RecordLevel::Full)?;
            let path = dir.join(format!("seed-{seed}.trace.jsonl"));
            write_trace(&path, &trace_header(config.engine, Some(&options), &scenario, None), &full)?;
            result.trace = Some(path.display().to_string());
        }
    }
    Ok(result)
}

/// Runs a sweep. `progress` is called after every seed with the results so far.
pub fn sweep(
    config: &SweepConfig,
    stop: &AtomicBool,
    progress: &(dyn Fn(&SeedResult, u64) + Sync),
) -> Result<Summary, Error> {
    #[allow(clippy::disallowed_methods)] // wall clock for throughput only
    let started = std::time::Instant::now();
    let seeds = seed_list(config);
    let next = AtomicU64::new(0);
    let results = Mutex::new(Vec::with_capacity(seeds.len()));
    let error = Mutex::new(None);
    let failures = AtomicU64::new(0);
    let coverage = Mutex::new(Coverage::default());
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            // Worker threads outside the simulation; the fast engine runs seeds
            // on them (see `run_caught`), with the stack a seed thread had.
            #[allow(clippy::disallowed_methods)]
            let worker = std::thread::Builder::new().name("sweep-worker".into()).stack_size(SEED_STACK).spawn_scoped(
                scope,
                || {
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                        let Some(&seed) = seeds.get(i) else { break };
                        match run_seed(seed, config) {
                            Ok(r) => {
                                if r.verdict != Verdict::Pass {
                                    failures.fetch_add(1, Ordering::Relaxed);
                                    if config.stop_on_failure {
                                        stop.store(true, Ordering::Relaxed);
                                    }
                                }
                                progress(&r, failures.load(Ordering::Relaxed));
                                // The coverage is merged now, not kept per seed: the
                                // maps of a million seeds took 2.5 GB.
                                let mut r = r;
                                let mut reached = std::mem::take(&mut r.coverage);
                                // Sometimes-properties count seeds that reached them, not hits.
                                for v in reached.sometimes.values_mut() {
                                    *v = 1;
                                }
                                coverage.lock().unwrap_or_else(|e| e.into_inner()).merge(&reached);
                                results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                            }
                            Err(e) => {
                                *error.lock().unwrap_or_else(|e| e.into_inner()) =
                                    Some(Error::Seed { seed, source: Box::new(e) });
                                stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                },
            );
            if let Err(e) = worker {
                *error.lock().unwrap_or_else(|e| e.into_inner()) = Some(Error::Worker(e));
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    if let Some(e) = error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.seed);
    let coverage = coverage.into_inner().unwrap_or_else(|e| e.into_inner());
    // A stop with seeds left is Ctrl-C's, unless it was a failure's (`stop_on_failure`).
    let stopped_by_failure = config.stop_on_failure && results.iter().any(|r| r.verdict != Verdict::Pass);
    let interrupted = stop.load(Ordering::Relaxed) && results.len() < seeds.len() && !stopped_by_failure;
    // Determinism: rerun a sample (and every failure) and compare trace hashes.
    let mut nondeterministic = Vec::new();
    let mut sample: Vec<&SeedResult> = results.iter().take(config.recheck as usize).collect();
    sample.extend(results.iter().filter(|r| r.verdict != Verdict::Pass).take(5));
    sample.sort_by_key(|r| r.seed);
    sample.dedup_by_key(|r| r.seed);
    let rechecked = sample.len();
    for r in sample {
        let (_, scenario) = scenario_for(r.seed, config);
        let again = run_caught(config.engine, &scenario, RecordLevel::NoFrames)?;
        if format!("{:016x}", again.trace_hash()) != r.trace_hash {
            nondeterministic.push(r.seed);
        }
    }
    nondeterministic.sort();
    nondeterministic.dedup();
    Ok(Summary {
        results,
        coverage,
        nondeterministic,
        rechecked,
        wall_secs: started.elapsed().as_secs_f64(),
        interrupted,
        total: seeds.len(),
    })
}

/// The summary table printed at the end of a sweep.
pub fn render_summary(summary: &Summary, config: &SweepConfig) -> String {
    let mut out = String::new();
    let n = summary.results.len();
    let fails: Vec<&SeedResult> = summary.failures().collect();
    let mut by_property: BTreeMap<String, u64> = BTreeMap::new();
    for f in &fails {
        *by_property.entry(format!("{} {}", f.verdict.as_str(), f.property.as_deref().unwrap_or("?"))).or_default() +=
            1;
    }
    let secs = summary.wall_secs.max(1e-9);
    out.push_str(&format!(
        "\nengine {}: {n} seeds in {:.1} s: {:.1} seeds/s, {:.0} simulated s per wall s\n",
        config.engine.as_str(),
        summary.wall_secs,
        n as f64 / secs,
        summary.sim_secs() / secs
    ));
    out.push_str(&format!("  passed   {}\n  failed   {}\n", n - fails.len(), fails.len()));
    for (p, c) in &by_property {
        out.push_str(&format!("    {c:>5}  {p}\n"));
    }
    out.push_str("\nsometimes (seeds that reached it):\n");
    for name in crate::checker::sometimes::ALL {
        let c = summary.coverage.sometimes.get(*name).copied().unwrap_or(0);
        let flag = if c == 0 { "   <- NOT EXERCISED" } else { "" };
        out.push_str(&format!("  {c:>6}  {name}{flag}\n"));
    }
    let counters = &summary.coverage.counters;
    if !counters.is_empty() {
        out.push_str("\nstateful connections (all seeds):\n");
        for (k, v) in counters {
            out.push_str(&format!("  {v:>8}  {k}\n"));
        }
    }
    out.push_str("\nsteps applied (all seeds):\n");
    let mut line = String::new();
    for (k, v) in &summary.coverage.steps {
        line.push_str(&format!("{k} {v}  "));
    }
    out.push_str(&format!("  {}\n", line.trim_end()));
    out.push_str("\nfault families (seeds that turned them on):\n");
    let mut line = String::new();
    for f in Family::ALL.iter().filter(|f| config.nemesis.families.is_empty() || config.nemesis.families.contains(f)) {
        let c = summary.results.iter().filter(|r| r.families.contains(f)).count();
        line.push_str(&format!("{f} {c}{}  ", if c == 0 { " (NEVER)" } else { "" }));
    }
    out.push_str(&format!("  {}\n", line.trim_end()));
    if !summary.nondeterministic.is_empty() {
        out.push_str(&format!(
            "\nNONDETERMINISM: seeds {:?} gave another trace when run again\n",
            summary.nondeterministic
        ));
    } else if summary.rechecked > 0 {
        out.push_str(&format!("\ndeterminism: {} seeds run again gave the same traces\n", summary.rechecked));
    } else {
        out.push_str("\ndeterminism: not checked (--recheck 0)\n");
    }
    if !fails.is_empty() {
        out.push_str("\nfailures (first 20):\n");
        for f in fails.iter().take(20) {
            out.push_str(&format!(
                "  seed {}: {} {} at {} ms: {}\n",
                f.seed,
                f.verdict.as_str(),
                f.property.as_deref().unwrap_or("?"),
                f.t_ms.unwrap_or(0),
                f.message.as_deref().unwrap_or("")
            ));
            if let Some(r) = &f.repro {
                out.push_str(&format!("      reproduce: {r}\n"));
            }
            if let Some(t) = &f.trace {
                out.push_str(&format!("      trace:     {t}\n"));
            }
        }
    }
    if summary.interrupted {
        out.push_str("\ninterrupted: the summary covers the seeds that finished\n");
    }
    let missing = summary.coverage.missing();
    let status = if summary.interrupted {
        format!("INTERRUPTED ({n}/{})", summary.total)
    } else if !summary.passed() {
        "FAIL".to_owned()
    } else if !missing.is_empty() {
        format!("PASS, but not exercised: {}", missing.join("; "))
    } else {
        "PASS".to_owned()
    };
    out.push_str(&format!("\n{status}\n"));
    out
}

#[cfg(test)]
mod crash_tests {
    use super::*;

    /// A panic in a run becomes a crash outcome that names the panic and where it happened,
    /// on the caller's thread as on a seed thread.
    #[test]
    fn a_panic_becomes_a_crash_outcome_with_its_location() {
        let previous = std::panic::take_hook();
        quiet_panics();
        let caught = catching(|| -> u32 { panic!("planted panic") });
        let Err(text) = caught else { panic!("the panic was not caught") };
        assert!(text.contains("planted panic") && text.contains("sweep.rs"), "{text}");
        let (_, scenario) = crate::nemesis::draw(1, &crate::nemesis::Config::default());
        let outcome = crash_outcome(&scenario, text);
        assert_eq!(outcome.verdict, Verdict::Crash);
        #[allow(clippy::disallowed_methods)] // a test thread, outside the simulation
        let on_thread = std::thread::spawn(|| catching(|| -> u32 { panic!("on a thread") })).join();
        std::panic::set_hook(previous);
        assert!(matches!(on_thread, Ok(Err(t)) if t.contains("on a thread")));
    }
}
