//! `fover bench`: seeds per second and simulated seconds per wall second for a
//! standard seed (long, every fault family on), per engine and worker count,
//! plus the ceiling of the state machines alone (no checkers, no recording).
//!
//! Outside the simulation: reads the wall clock and starts OS threads.

use crate::engine::EngineKind;
use crate::error::RunError;
use crate::nemesis::{self, Family};
use crate::scenario::Scenario;
use crate::world::RecordLevel;
use serde::Serialize;

/// One measured configuration.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub engine: String,
    pub mode: String,
    pub jobs: usize,
    pub runs: u64,
    pub wall_secs: f64,
    pub seeds_per_sec: f64,
    pub sim_secs_per_wall_sec: f64,
    pub frames_per_sec: f64,
    pub inputs_per_run: u64,
}

/// The standard seed: `minutes` of simulated time, every fault family on, a
/// fault every ~9 s, and the stateful settings the seed draws; the traffic
/// workload only with `traffic` (the standard seed of issue 8 predates it;
/// the `traffic` rows measure what it costs).
pub fn standard_scenario(seed: u64, minutes: u64, traffic: bool) -> Scenario {
    let duration_ms = minutes * 60_000;
    let config = nemesis::Config {
        families: Family::ALL.iter().copied().filter(|f| *f != Family::KeyMismatch).collect(),
        fault_phase_ms: Some(duration_ms * 9 / 10),
        duration_ms: Some(duration_ms),
        fault_count: Some((minutes * 6) as u32),
        all_families: true,
        no_traffic: !traffic,
    };
    nemesis::draw(seed, &config).1
}

/// Runs `runs` copies of a scenario on `jobs` threads and measures them.
pub fn measure(
    engine: EngineKind,
    scenario: &Scenario,
    level: RecordLevel,
    jobs: usize,
    runs: u64,
) -> Result<BenchRow, RunError> {
    #[allow(clippy::disallowed_methods)] // wall clock: this is the benchmark
    let started = std::time::Instant::now();
    let next = std::sync::atomic::AtomicU64::new(0);
    let totals = std::sync::Mutex::new((0u64, 0u64, 0u64, None::<RunError>));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            #[allow(clippy::disallowed_methods)] // worker threads outside the simulation
            s.spawn(|| {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < runs {
                    let r = crate::sweep::run_caught(engine, scenario, level);
                    let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                    match r {
                        Ok(o) => {
                            t.0 += o.sim_ns;
                            t.1 += o.frames;
                            t.2 += o.inputs;
                        }
                        Err(e) => t.3 = Some(e),
                    }
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64().max(1e-9);
    let (sim_ns, frames, inputs, err) = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = err {
        return Err(e);
    }
    Ok(BenchRow {
        engine: engine.as_str().into(),
        mode: match level {
            RecordLevel::Off => "state machines only".into(),
            RecordLevel::NoFrames => "checkers + recording (sweep)".into(),
            RecordLevel::Full => "checkers + full recording".into(),
        },
        jobs,
        runs,
        wall_secs: wall,
        seeds_per_sec: runs as f64 / wall,
        sim_secs_per_wall_sec: sim_ns as f64 / 1e9 / wall,
        frames_per_sec: frames as f64 / wall,
        inputs_per_run: inputs / runs.max(1),
    })
}

/// One configuration of the benchmark (`fover bench --only`): for profiling a single one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Only {
    /// Checkers and sweep recording, one worker, per engine.
    Sweep,
    /// Checkers and sweep recording, two workers, per engine.
    Sweep2,
    /// Checkers and full recording (frames too), one worker, fast engine.
    Full,
    /// The state machines alone, one worker, fast engine.
    Ceiling,
    /// Checkers and sweep recording, one worker, per engine, with the traffic workload on.
    Traffic,
}

/// The whole benchmark: every available engine, 1 and 2 workers, and the ceiling
/// (or only the configurations in `only`, when it is not empty).
pub fn run_all(
    seed: u64,
    minutes: u64,
    runs: u64,
    engines: &[EngineKind],
    only: &[Only],
) -> Result<Vec<BenchRow>, RunError> {
    let scenario = standard_scenario(seed, minutes, false);
    let wanted = |o: Only| only.is_empty() || only.contains(&o);
    let mut rows = Vec::new();
    for &engine in engines {
        for (jobs, o) in [(1, Only::Sweep), (2, Only::Sweep2)] {
            if wanted(o) {
                rows.push(measure(engine, &scenario, RecordLevel::NoFrames, jobs, runs * jobs as u64)?);
            }
        }
    }
    if engines.contains(&EngineKind::Fast) {
        if wanted(Only::Full) {
            rows.push(measure(EngineKind::Fast, &scenario, RecordLevel::Full, 1, runs)?);
        }
        if wanted(Only::Ceiling) {
            rows.push(measure(EngineKind::Fast, &scenario, RecordLevel::Off, 1, runs)?);
        }
    }
    if wanted(Only::Traffic) {
        let with_traffic = standard_scenario(seed, minutes, true);
        for &engine in engines {
            let mut row = measure(engine, &with_traffic, RecordLevel::NoFrames, 1, runs)?;
            row.mode = TRAFFIC_MODE.into();
            rows.push(row);
        }
    }
    Ok(rows)
}

/// The mode of the rows with the traffic workload on.
const TRAFFIC_MODE: &str = "sweep, traffic workload on";

/// A table for people.
pub fn render(rows: &[BenchRow], minutes: u64) -> String {
    let mut out = format!(
        "standard seed: {minutes} simulated minutes, every fault family on (traffic workload only where the mode says)\n"
    );
    out.push_str(&format!(
        "{:<7} {:<30} {:>4} {:>5} {:>10} {:>12} {:>14} {:>12}\n",
        "engine", "mode", "jobs", "runs", "seeds/s", "sim s/wall s", "frames/s", "inputs/run"
    ));
    for r in rows {
        out.push_str(&format!(
            "{:<7} {:<30} {:>4} {:>5} {:>10.2} {:>12.0} {:>14.0} {:>12}\n",
            r.engine,
            r.mode,
            r.jobs,
            r.runs,
            r.seeds_per_sec,
            r.sim_secs_per_wall_sec,
            r.frames_per_sec,
            r.inputs_per_run
        ));
    }
    let find = |e: &str, jobs: usize| {
        rows.iter().find(|r| r.engine == e && r.jobs == jobs && r.mode.starts_with("checkers + recording"))
    };
    if let (Some(f), Some(m)) = (find("fast", 1), find("madsim", 1)) {
        out.push_str(&format!("fast / madsim (1 worker): {:.1}x\n", f.seeds_per_sec / m.seeds_per_sec.max(1e-12)));
    }
    let traffic = |e: &str| rows.iter().find(|r| r.engine == e && r.mode == TRAFFIC_MODE);
    if let (Some(f), Some(m)) = (traffic("fast"), traffic("madsim")) {
        out.push_str(&format!(
            "fast / madsim with the traffic workload (1 worker): {:.1}x\n",
            f.seeds_per_sec / m.seeds_per_sec.max(1e-12)
        ));
    }
    if let (Some(on), Some(off)) = (traffic("fast"), find("fast", 1)) {
        out.push_str(&format!(
            "fast engine, traffic workload on vs off: {:.2} vs {:.2} seeds/s\n",
            on.seeds_per_sec, off.seeds_per_sec
        ));
    }
    out
}
