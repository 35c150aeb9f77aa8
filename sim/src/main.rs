//! `fover`: seeded simulation sweeps of a failover pair, single runs,
//! scenario files, and the tools for a failing run's trace: replay, shrink,
//! and a timeline in the terminal or in one HTML file. Build it with
//! `cargo sim` (which adds `--cfg madsim`) to have the madsim engine too.

/// A sweep allocates and frees a frame buffer per message and small vectors per
/// input: mimalloc's thread-local free lists make a standard seed about 10 %
/// faster than the system allocator on both engines (`fover bench`). Allocation
/// addresses never reach behaviour, so traces do not change.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};
use fover_sim::checker::Verdict;
use fover_sim::engine::EngineKind;
use fover_sim::error::{EXIT_CODES_HELP, Error, Exit, WriteError};
use fover_sim::nemesis::{self, Family};
use fover_sim::scenario::Scenario;
use fover_sim::sweep::{self, SweepConfig};
use fover_sim::world::RecordLevel;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "fover",
    version,
    about = "Deterministic simulation of an Active/Active failover pair under faults",
    long_about = None,
    after_help = EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
struct NemesisArgs {
    /// Fault families the nemesis may draw from (comma-separated); default: all.
    /// Each seed turns a random subset of them on (swarm testing).
    #[arg(long, value_delimiter = ',', value_enum)]
    faults: Vec<Family>,
    /// Total simulated duration of each seed, ms (default: fault phase + liveness bound).
    #[arg(long)]
    duration_ms: Option<u64>,
    /// Length of the fault phase, ms (default: drawn, 20-40 s).
    #[arg(long)]
    fault_phase_ms: Option<u64>,
    /// Which engine runs the seeds.
    #[arg(long, value_enum, default_value_t = EngineKind::Fast)]
    engine: EngineKind,
    /// Leave out the traffic workload (clients opening, using and closing
    /// connections through each context's active unit; on by default).
    #[arg(long)]
    no_traffic: bool,
    /// Plant a known bug (needs a build with the `planted-bugs` feature; for showing checkers work).
    #[arg(long, value_parser = parse_bug)]
    plant: Option<fover_protocol::planted::PlantedBug>,
}

fn parse_bug(s: &str) -> Result<fover_protocol::planted::PlantedBug, String> {
    fover_protocol::planted::PlantedBug::parse(s).ok_or_else(|| {
        let names: Vec<&str> = fover_protocol::planted::PlantedBug::ALL.iter().map(|b| b.as_str()).collect();
        format!("unknown bug {s:?}; known: {}", names.join(", "))
    })
}

#[derive(Args)]
struct SweepArgs {
    /// How many seeds.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    start: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Run only shard K of N (1-based), e.g. `--shard 2/8`; JSON results of shards merge.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Where failing traces and results.jsonl go.
    #[arg(long, default_value = "fover-out")]
    out: PathBuf,
    /// Print one JSON line per seed on stdout (the summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// Seeds rerun at the end to check that the same seed gives the same trace.
    #[arg(long, default_value_t = 3)]
    recheck: u64,
    /// Exit non-zero when a sometimes-property was never reached.
    #[arg(long)]
    require_coverage: bool,
    /// Stop at the first failing seed.
    #[arg(long)]
    stop_on_failure: bool,
    #[command(flatten)]
    nemesis: NemesisArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run many seeds in parallel and report every property broken, with the command that reproduces it.
    Sweep(SweepArgs),
    /// Run one seed: print the options drawn from it, then the verdict (and the timeline with -v).
    Run {
        #[arg(long)]
        seed: u64,
        /// Write the full trace (JSON lines) here.
        #[arg(long)]
        trace: Option<PathBuf>,
        /// Print every event.
        #[arg(short, long)]
        verbose: bool,
        #[command(flatten)]
        nemesis: NemesisArgs,
    },
    /// Measure seeds per second and simulated seconds per wall second on a standard seed.
    Bench {
        /// Simulated minutes of the standard seed.
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// Runs per worker for each configuration.
        #[arg(long, default_value_t = 3)]
        runs: u64,
        /// The standard seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Engines to measure (default: every engine this build has).
        #[arg(long, value_enum, value_delimiter = ',')]
        engine: Vec<EngineKind>,
        /// Measure only these configurations (default: all), e.g. one to profile.
        #[arg(long, value_enum, value_delimiter = ',')]
        only: Vec<fover_sim::bench::Only>,
        /// Print the rows as JSON lines too.
        #[arg(long)]
        json: bool,
    },
    /// Run scenario files (TOML) and check their expectations and every sweep property.
    Scenario {
        /// Scenario files or folders of them.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = EngineKind::Fast)]
        engine: EngineKind,
        /// Write each run's trace into this folder.
        #[arg(long)]
        trace_dir: Option<PathBuf>,
        /// Print every event.
        #[arg(short, long)]
        verbose: bool,
        /// Plant a known bug in every scenario (needs a build with the `planted-bugs` feature),
        /// e.g. to run a scenario file that `fover shrink` wrote from a planted-bug trace.
        #[arg(long, value_parser = parse_bug)]
        plant: Option<fover_protocol::planted::PlantedBug>,
    },
    /// Run a trace's scenario again (engine and planted bug from its header) and compare
    /// record by record: `identical` (exit status 0), or the first divergence (exit status 1).
    Replay {
        /// A trace file (JSON lines), e.g. fover-out/seed-7.trace.jsonl.
        trace: PathBuf,
        /// Compare only up to this simulated time (ns) and print `show failover` of both units then.
        #[arg(long)]
        until_ns: Option<u64>,
    },
    /// Find a smaller schedule that still breaks the trace's property; write its trace and a
    /// scenario file beside it.
    Shrink {
        /// A failing trace file.
        trace: PathBuf,
        /// Where the shrunk trace goes (default: TRACE with the suffix .shrunk.trace.jsonl);
        /// the scenario file goes beside it, ending in .toml.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// Most engine runs to spend.
        #[arg(long, default_value_t = 500)]
        max_runs: u32,
        /// Simulated ms kept after the violation when the run is shortened.
        #[arg(long, default_value_t = 1_000)]
        margin_ms: u64,
        /// Keep only schedules that fail the same way on each of these engines
        /// (the trace's own engine shrinks; e.g. `--engines fast,madsim` in a
        /// `cargo sim` build).
        #[arg(long, value_enum, value_delimiter = ',')]
        engines: Vec<EngineKind>,
    },
    /// Look at a trace: a timeline in the terminal, or one HTML file with swimlanes.
    Trace {
        #[command(subcommand)]
        command: TraceCmd,
    },
}

#[derive(Subcommand)]
enum TraceCmd {
    /// One line per event: time, the state of each group on each unit, unit, kind, details.
    Show {
        /// A trace file (JSON lines).
        trace: PathBuf,
        /// Only this unit's events (and those of no unit), and only its state columns.
        #[arg(long)]
        unit: Option<String>,
        /// Only this group's state columns, and no event about the other group.
        #[arg(long)]
        group: Option<u8>,
        /// Only these kinds (comma-separated): boot, down, sent, delivered, dropped, timer,
        /// transition, syslog, unit-event, step, command, show, expect, violation, note, verdict.
        #[arg(long, value_delimiter = ',')]
        kind: Vec<String>,
        /// Only events at or after this simulated time (ns).
        #[arg(long)]
        from_ns: Option<u64>,
        /// Only events at or before this simulated time (ns).
        #[arg(long)]
        to_ns: Option<u64>,
    },
    /// Write one self-contained HTML file: swimlanes per unit and group, frames, faults, the violation.
    Html {
        /// A trace file (JSON lines).
        trace: PathBuf,
        /// The HTML file to write (default: TRACE with .html instead of .jsonl).
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/8")?;
    let k: u64 = k.parse().map_err(|_| "K must be a number")?;
    let n: u64 = n.parse().map_err(|_| "N must be a number")?;
    if n == 0 || k == 0 || k > n {
        return Err("expected 1 <= K <= N".into());
    }
    Ok((k, n))
}

fn check_engine(engine: EngineKind) -> Result<(), Error> {
    if engine.available() {
        Ok(())
    } else {
        Err(Error::Usage("the madsim engine needs a --cfg madsim build: run it as `cargo sim ...`".into()))
    }
}

fn check_plant(plant: Option<fover_protocol::planted::PlantedBug>) -> Result<(), Error> {
    if plant.is_some() && !fover_sim::replay::bugs_compiled_in() {
        return Err(Error::Usage(
            "--plant needs a build with the planted-bugs feature (e.g. `cargo sim` with `--features planted-bugs`)"
                .into(),
        ));
    }
    Ok(())
}

fn nemesis_config(a: &NemesisArgs) -> nemesis::Config {
    nemesis::Config {
        families: a.faults.clone(),
        fault_phase_ms: a.fault_phase_ms,
        duration_ms: a.duration_ms,
        no_traffic: a.no_traffic,
        ..nemesis::Config::default()
    }
}

fn print_timeline(records: &[fover_traces::Record]) {
    for r in records {
        let t = format!("{:>9.3}s", r.t_ns as f64 / 1e9);
        let unit = r.event.unit().unwrap_or("-");
        let body = serde_json::to_value(&r.event).ok().and_then(|v| {
            let mut m = v.as_object()?.clone();
            m.remove("kind");
            m.remove("unit");
            Some(serde_json::Value::Object(m).to_string())
        });
        println!("{t} {unit:<9} {:<11} {}", r.event.kind(), body.unwrap_or_default());
    }
}

fn cmd_sweep(args: SweepArgs) -> Result<Exit, Error> {
    let SweepArgs { seeds, start, jobs, shard, out, json, recheck, require_coverage, stop_on_failure, nemesis } = args;
    check_engine(nemesis.engine)?;
    check_plant(nemesis.plant)?;
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let config = SweepConfig {
        seeds,
        start,
        jobs,
        shard,
        nemesis: nemesis_config(&nemesis),
        engine: nemesis.engine,
        recheck,
        out: Some(out.clone()),
        planted_bug: nemesis.plant,
        stop_on_failure,
    };
    std::fs::create_dir_all(&out).map_err(|e| WriteError::new(&out, e))?;
    let results_path = out.join("results.jsonl");
    let results_file =
        std::sync::Mutex::new(std::fs::File::create(&results_path).map_err(|e| WriteError::new(&results_path, e))?);
    // The first failure to write a result: the sweep goes on, and exits with it.
    let write_error = std::sync::Mutex::new(None::<std::io::Error>);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C kills the process as usual.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(Exit::Interrupted.code().into());
            }
        });
    }
    let total = sweep_total(&config);
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} seeds  {per_sec}  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("0 failed");
    eprintln!(
        "fover sweep: {total} seeds from {start} on the {} engine, {jobs} jobs, results in {}",
        config.engine.as_str(),
        results_path.display()
    );
    sweep::quiet_panics();
    // Without a terminal (a log file, CI) the bar is hidden: a plain line every
    // twentieth of the sweep instead, so a long sweep still shows it is moving.
    let plain_every = (!std::io::stderr().is_terminal()).then(|| total.div_ceil(20).max(1));
    let reported = std::sync::atomic::AtomicU64::new(0);
    let progress = |r: &sweep::SeedResult, failed: u64| {
        bar.inc(1);
        bar.set_message(format!("{failed} failed"));
        if let Some(every) = plain_every {
            let done = bar.position();
            // Workers race here: the bucket counter makes each line print once.
            if done / every > reported.fetch_max(done / every, Ordering::Relaxed) || done == total {
                let secs = bar.elapsed().as_secs_f64();
                eprintln!(
                    "  {done}/{total} seeds, {failed} failed, {secs:.1} s, {:.1} seeds/s",
                    done as f64 / secs.max(1e-9)
                );
            }
        }
        if let Ok(line) = serde_json::to_string(r) {
            if json {
                bar.suspend(|| println!("{line}"));
            }
            use std::io::Write;
            let mut f = results_file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{line}") {
                write_error.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(e);
            }
        }
        if r.verdict != Verdict::Pass {
            bar.suspend(|| {
                eprintln!(
                    "seed {}: {} {}: {}",
                    r.seed,
                    r.verdict.as_str(),
                    r.property.as_deref().unwrap_or("?"),
                    r.message.as_deref().unwrap_or("")
                )
            });
        }
    };
    let summary = sweep::sweep(&config, &stop, &progress)?;
    bar.finish_and_clear();
    eprint!("{}", sweep::render_summary(&summary, &config));
    if let Some(e) = write_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(WriteError::new(results_path, e).into());
    }
    if summary.interrupted {
        return Ok(Exit::Interrupted);
    }
    let coverage_ok = !require_coverage || summary.coverage.missing().is_empty();
    Ok(Exit::verdict(summary.passed() && coverage_ok))
}

fn sweep_total(config: &SweepConfig) -> u64 {
    match config.shard {
        None => config.seeds,
        Some((k, n)) => (0..config.seeds).filter(|s| s % n == k - 1).count() as u64,
    }
}

fn cmd_run(seed: u64, trace: Option<PathBuf>, verbose: bool, nemesis: NemesisArgs) -> Result<Exit, Error> {
    check_engine(nemesis.engine)?;
    check_plant(nemesis.plant)?;
    let config = SweepConfig {
        seeds: 1,
        start: seed,
        jobs: 1,
        shard: None,
        nemesis: nemesis_config(&nemesis),
        engine: nemesis.engine,
        recheck: 0,
        out: None,
        planted_bug: nemesis.plant,
        stop_on_failure: false,
    };
    let (options, scenario) = sweep::scenario_for(seed, &config);
    println!("{options}");
    println!("  engine          {}", nemesis.engine.as_str());
    if let Some(b) = scenario.planted_bug {
        println!("  planted bug     {b}");
    }
    println!("schedule:");
    for s in &scenario.steps {
        println!("  {s}");
    }
    sweep::quiet_panics();
    let outcome = sweep::run_caught(nemesis.engine, &scenario, RecordLevel::Full)?;
    if verbose {
        println!("timeline:");
        print_timeline(&outcome.records);
    }
    if let Some(path) = &trace {
        sweep::write_trace(path, &sweep::trace_header(nemesis.engine, Some(&options), &scenario, None), &outcome)?;
        println!("trace written to {}", path.display());
    }
    match &outcome.violation {
        None => println!("verdict: pass ({} simulated ms, {} frames)", outcome.sim_ns / 1_000_000, outcome.frames),
        Some(v) => {
            println!("verdict: {} {} at {} ms: {}", v.verdict.as_str(), v.property, v.t_ns / 1_000_000, v.message)
        }
    }
    Ok(Exit::verdict(outcome.verdict == Verdict::Pass))
}

fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::ListFolder { path: p.clone(), source })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn cmd_scenario(
    files: Vec<PathBuf>,
    engine: EngineKind,
    trace_dir: Option<PathBuf>,
    verbose: bool,
    plant: Option<fover_protocol::planted::PlantedBug>,
) -> Result<Exit, Error> {
    check_engine(engine)?;
    check_plant(plant)?;
    let files = collect_files(&files)?;
    // Parse everything first: a bad file stops the run before anything runs.
    let mut scenarios = Vec::new();
    for f in &files {
        let mut scenario = Scenario::load(f)?;
        scenario.planted_bug = plant;
        scenarios.push((f.clone(), scenario));
    }
    sweep::quiet_panics();
    let mut failed = 0;
    for (file, scenario) in &scenarios {
        let outcome = sweep::run_caught(engine, scenario, RecordLevel::Full)?;
        let bug = scenario.planted_bug.map(|b| format!(", planted bug {b}")).unwrap_or_default();
        println!("== {} ({}{bug})", scenario.name, file.display());
        for (t, unit, command, output) in &outcome.shows {
            println!("--- show {unit} {command} @{}", t / 1_000_000);
            print!("{output}");
            println!("---");
        }
        for e in &outcome.expectations {
            println!("  {} @{} ms: {}: {}", if e.pass { "pass" } else { "FAIL" }, e.at_ms, e.description, e.observed);
        }
        if verbose {
            print_timeline(&outcome.records);
        }
        let ok = outcome.verdict == Verdict::Pass;
        match &outcome.violation {
            None => println!("  pass: every expectation and property held"),
            Some(v) => {
                println!("  FAIL {} {} at {} ms: {}", v.verdict.as_str(), v.property, v.t_ns / 1_000_000, v.message)
            }
        }
        if let Some(dir) = &trace_dir {
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "scenario".into());
            let path = dir.join(format!("{stem}.trace.jsonl"));
            let header = sweep::trace_header(engine, None, scenario, Some(&file.display().to_string()));
            sweep::write_trace(&path, &header, &outcome)?;
        }
        failed += usize::from(!ok);
    }
    println!("{} scenarios: {} passed, {} failed", scenarios.len(), scenarios.len() - failed, failed);
    Ok(Exit::verdict(failed == 0))
}

fn cmd_bench(
    minutes: u64,
    runs: u64,
    seed: u64,
    engines: Vec<EngineKind>,
    only: Vec<fover_sim::bench::Only>,
    json: bool,
) -> Result<Exit, Error> {
    let engines: Vec<EngineKind> = if engines.is_empty() {
        [EngineKind::Fast, EngineKind::Madsim].into_iter().filter(|e| e.available()).collect()
    } else {
        engines
    };
    for e in &engines {
        check_engine(*e)?;
    }
    if cfg!(debug_assertions) {
        eprintln!("fover bench: warning: a debug build; measure a release build (`cargo sim bench`)");
    }
    sweep::quiet_panics();
    let rows = fover_sim::bench::run_all(seed, minutes, runs.max(1), &engines, &only)?;
    print!("{}", fover_sim::bench::render(&rows, minutes));
    if json {
        for r in &rows {
            let line = serde_json::to_string(r).map_err(|e| Error::Internal(format!("a bench row as JSON: {e}")))?;
            print_text(&format!("{line}\n"))?;
        }
    }
    Ok(Exit::Pass)
}

fn cmd_replay(trace: PathBuf, until_ns: Option<u64>) -> Result<Exit, Error> {
    let (header, records) = fover_traces::io::read_file(&trace).map_err(Error::Trace)?;
    sweep::quiet_panics();
    let report =
        fover_sim::replay::replay(&header, &records, until_ns).map_err(|source| Error::Replay { trace, source })?;
    print_text(&report.render())?;
    Ok(Exit::verdict(report.identical()))
}

fn cmd_shrink(
    trace: PathBuf,
    out: Option<PathBuf>,
    max_runs: u32,
    margin_ms: u64,
    engines: Vec<EngineKind>,
) -> Result<Exit, Error> {
    use fover_sim::shrink;
    for e in &engines {
        check_engine(*e)?;
    }
    let (header, records) = fover_traces::io::read_file(&trace).map_err(Error::Trace)?;
    let out = out.unwrap_or_else(|| shrink::default_out(&trace));
    let recorded = records.iter().rev().find_map(|r| match &r.event {
        fover_traces::Event::Verdict { verdict, property, .. } => {
            Some(format!("{verdict} {}", property.as_deref().unwrap_or("")))
        }
        _ => None,
    });
    print_text(&format!(
        "shrinking {}: {} (seed {}, {} engine, {} steps)\n",
        trace.display(),
        recorded.unwrap_or_default().trim_end(),
        header.seed,
        header.engine,
        header.scenario.get("step").and_then(|s| s.as_array()).map_or(0, Vec::len)
    ))?;
    sweep::quiet_panics();
    let options = shrink::Options { max_runs, margin_ms, also: engines };
    let shrunk = shrink::shrink_trace(&header, &records, &options)
        .map_err(|source| Error::Shrink { trace: trace.clone(), source })?;
    let scenario_file = shrunk.write(&trace, &out)?;
    let plant = shrunk.scenario.planted_bug.map(|b| format!(" --plant {b}")).unwrap_or_default();
    print_text(&format!(
        "{}trace:    {}\nscenario: {} (run it: fover scenario {}{plant})\n",
        shrunk.render(),
        out.display(),
        scenario_file.display(),
        scenario_file.display()
    ))?;
    Ok(Exit::Pass)
}

/// Prints text; a closed pipe (`fover trace show ... | head`) ends quietly.
fn print_text(text: &str) -> Result<(), Error> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Stdout(e)),
        _ => Ok(()),
    }
}

fn cmd_trace(command: TraceCmd) -> Result<Exit, Error> {
    use fover_traces::render::{self, Filter};
    match command {
        TraceCmd::Show { trace, unit, group, kind, from_ns, to_ns } => {
            let filter = Filter { unit, group, kinds: kind, from_ns, to_ns };
            filter.validate().map_err(Error::Usage)?;
            let (header, records) = fover_traces::io::read_file(&trace).map_err(Error::Trace)?;
            print_text(&render::timeline::render(&header, &records, &filter).map_err(Error::Usage)?)?;
        }
        TraceCmd::Html { trace, out } => {
            let (header, records) = fover_traces::io::read_file(&trace).map_err(Error::Trace)?;
            let out = out.unwrap_or_else(|| trace.with_extension("html"));
            std::fs::write(&out, render::html::render(&header, &records)).map_err(|e| WriteError::new(&out, e))?;
            print_text(&format!("wrote {} ({} records)\n", out.display(), records.len()))?;
        }
    }
    Ok(Exit::Pass)
}

/// Exit codes: see [`fover_sim::error::code`] and `fover --help`.
fn main() -> ExitCode {
    // Usage errors exit with clap's status 2 (`Exit::BadInput`), `--help` with 0.
    let cli = Cli::parse();
    if !matches!(cli.command, Cmd::Sweep(_)) {
        // The sweep stops at Ctrl-C and prints its summary; anything else just ends.
        let _ = ctrlc::set_handler(|| std::process::exit(Exit::Interrupted.code().into()));
    }
    // A panic outside a run (a run's own panic is its `crash` verdict) is the harness's.
    let result = sweep::catching(|| run(cli)).unwrap_or_else(|panic| Err(Error::Internal(format!("panic: {panic}"))));
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("fover: error: {e}");
            e.exit().into()
        }
    }
}

fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Cmd::Sweep(args) => cmd_sweep(args),
        Cmd::Run { seed, trace, verbose, nemesis } => cmd_run(seed, trace, verbose, nemesis),
        Cmd::Bench { minutes, runs, seed, engine, only, json } => cmd_bench(minutes, runs, seed, engine, only, json),
        Cmd::Scenario { files, engine, trace_dir, verbose, plant } => {
            cmd_scenario(files, engine, trace_dir, verbose, plant)
        }
        Cmd::Replay { trace, until_ns } => cmd_replay(trace, until_ns),
        Cmd::Shrink { trace, out, max_runs, margin_ms, engines } => {
            cmd_shrink(trace, out, max_runs, margin_ms, engines)
        }
        Cmd::Trace { command } => cmd_trace(command),
    }
}
