//! `fover`'s exit codes by verdict (`fover_sim::error::code`), on the built
//! binary: 0 pass, 1 failed, 2 bad input or usage, 3 internal error (here: a
//! results or trace file that cannot be written), 130 interrupted.

mod common;

use common::{fover, power_off_among_noise, tmp_dir, write_trace};
use fover_sim::error::code::{BAD_INPUT, FAILED, INTERNAL, INTERRUPTED, PASS};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const GOOD: &str = "name = \"boot: peer absent (exit codes)\"\nduration_ms = 3000\n\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"primary\"\n\n[[step]]\nat_ms = 2000\ndo = \"expect\"\ngroup = 1\nactive = \"primary\"\n";

/// Well-formed, but its expectation fails: alone, the primary is active, not the secondary.
const FAILING: &str = "name = \"boot: peer absent (wrong expectation)\"\nduration_ms = 3000\n\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"primary\"\n\n[[step]]\nat_ms = 2000\ndo = \"expect\"\ngroup = 1\nactive = \"secondary\"\n";

/// `unit = "tertiary"`, line 7, column 8.
const MALFORMED: &str =
    "name = \"boot: bad file\"\nduration_ms = 3000\n\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"tertiary\"\n";

/// A planted bug and a seed of the default sweep it fails (`fover sweep --plant ... --stop-on-failure`).
const PLANT: &str = "ignore-replicated-connections";
const PLANT_SEED: &str = "0";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn expect(args: &[&str], code: u8, wanted: &[&str]) -> String {
    let (status, text) = fover(args);
    assert_eq!(status, i32::from(code), "fover {}:\n{text}", args.join(" "));
    for w in wanted {
        assert!(text.contains(w), "{w:?} not in the output of fover {}:\n{text}", args.join(" "));
    }
    text
}

#[test]
fn help_lists_the_exit_codes() {
    let text = expect(&["--help"], PASS, &["Exit codes"]);
    for code in [PASS, FAILED, BAD_INPUT, INTERNAL, INTERRUPTED] {
        let listed = text.lines().any(|l| l.trim_start().starts_with(&format!("{code} ")));
        assert!(listed, "exit code {code} not listed in --help:\n{text}");
    }
}

#[test]
fn scenario_exit_codes() {
    let dir = tmp_dir("exit-scenario");
    let good = write(&dir, "good.toml", GOOD);
    let failing = write(&dir, "failing.toml", FAILING);
    let malformed = write(&dir, "malformed.toml", MALFORMED);
    let not_toml = write(&dir, "not-toml.toml", "name = \"x\"\nduration_ms = [\n");
    expect(&["scenario", s(&good)], PASS, &["1 scenarios: 1 passed, 0 failed"]);
    expect(&["scenario", s(&good), s(&failing)], FAILED, &["FAIL", "2 scenarios: 1 passed, 1 failed"]);
    expect(&["scenario", s(&malformed)], BAD_INPUT, &[&format!("{}:7:8:", malformed.display()), "tertiary"]);
    expect(&["scenario", s(&not_toml)], BAD_INPUT, &[&format!("{}:", not_toml.display())]);
    let missing = dir.join("missing.toml");
    expect(&["scenario", s(&missing)], BAD_INPUT, &[&format!("{}: ", missing.display())]);
    expect(&["scenario", s(&good), "--engine", "warp"], BAD_INPUT, &["warp"]);
    expect(&["scenario"], BAD_INPUT, &[]);
    expect(&["scenario", s(&good), "--plant", "no-such-bug"], BAD_INPUT, &["unknown bug"]);
}

#[test]
fn scenario_trace_dir_that_cannot_be_written_is_internal() {
    let dir = tmp_dir("exit-scenario-write");
    let good = write(&dir, "good.toml", GOOD);
    // A trace folder whose parent is a file.
    let blocker = write(&dir, "blocker", "a file");
    let traces = blocker.join("traces");
    expect(&["scenario", s(&good), "--trace-dir", s(&traces)], INTERNAL, &[s(&blocker)]);
}

#[test]
fn run_exit_codes() {
    let dir = tmp_dir("exit-run");
    expect(&["run", "--seed", PLANT_SEED], PASS, &["verdict: pass"]);
    expect(&["run", "--seed", PLANT_SEED, "--plant", PLANT], FAILED, &["verdict: "]);
    expect(&["run", "--seed", "seven"], BAD_INPUT, &["seven"]);
    expect(&["run"], BAD_INPUT, &["--seed"]);
    expect(&["run", "--seed", "1", "--faults", "meteor"], BAD_INPUT, &["meteor"]);
    let blocker = write(&dir, "blocker", "a file");
    let trace = blocker.join("seed-1.trace.jsonl");
    expect(&["run", "--seed", PLANT_SEED, "--trace", s(&trace)], INTERNAL, &[s(&blocker)]);
}

#[test]
fn sweep_exit_codes() {
    let dir = tmp_dir("exit-sweep");
    let out = dir.join("out");
    let two = ["sweep", "--seeds", "2", "--jobs", "1", "--out", s(&out)];
    let text = expect(&two, PASS, &[]);
    let last = text.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("PASS"), "{text}");
    // Two seeds do not reach every sometimes-property: with --require-coverage, that fails.
    if let Some(missing) = last.strip_prefix("PASS, but not exercised: ") {
        let mut args = two.to_vec();
        args.push("--require-coverage");
        expect(&args, FAILED, &[missing]);
    }
    let sweep = ["sweep", "--start", PLANT_SEED, "--seeds", "1", "--jobs", "1", "--recheck", "0"];
    let mut args = sweep.to_vec();
    args.extend(["--out", s(&out), "--plant", PLANT]);
    let text = expect(&args, FAILED, &["reproduce: cargo sim run"]);
    assert_eq!(text.trim_end().lines().last(), Some("FAIL"), "{text}");
    expect(&["sweep", "--shard", "0/3"], BAD_INPUT, &["--shard"]);
    expect(&["sweep", "--seeds", "-1"], BAD_INPUT, &[]);
    expect(&["sweep", "--engine", "warp"], BAD_INPUT, &["warp"]);
}

#[test]
fn sweep_results_that_cannot_be_written_are_internal() {
    let dir = tmp_dir("exit-sweep-write");
    let sweep = ["sweep", "--seeds", "1", "--jobs", "1", "--recheck", "0", "--out"];
    // The output folder's parent is a file.
    let blocker = write(&dir, "blocker", "a file");
    let out = blocker.join("out");
    let mut args = sweep.to_vec();
    args.push(s(&out));
    expect(&args, INTERNAL, &["fover: error:", s(&blocker)]);
    if Path::new("/dev/full").exists() {
        // The folder is made, but every write of results.jsonl fails (no space left).
        let out = dir.join("full");
        std::fs::create_dir_all(&out).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/dev/full", out.join("results.jsonl")).unwrap();
        let mut args = sweep.to_vec();
        args.push(s(&out));
        expect(&args, INTERNAL, &["fover: error:", "results.jsonl"]);
        // And under /dev/full itself.
        let mut args = sweep.to_vec();
        args.push("/dev/full/out");
        expect(&args, INTERNAL, &["/dev/full"]);
    }
}

/// Ctrl-C stops a sweep: the summary covers the seeds that finished, its last
/// line says so, and the status is 130.
#[cfg(unix)]
#[test]
fn interrupted_sweep_exits_130() {
    let dir = tmp_dir("exit-sweep-interrupted");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fover"))
        .args(["sweep", "--seeds", "1000000", "--jobs", "1", "--recheck", "0", "--out"])
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // The first line comes once the Ctrl-C handler is in place.
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("fover sweep: 1000000 seeds"), "{first}");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success(), "kill -INT failed");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(i32::from(INTERRUPTED)), "{status:?}\n{rest}");
    let last = rest.trim_end().lines().last().unwrap_or_default();
    let done = last
        .strip_prefix("INTERRUPTED (")
        .and_then(|r| r.strip_suffix("/1000000)"))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("last line {last:?}:\n{rest}"));
    assert!(done < 1_000_000, "{rest}");
    assert!(rest.contains(&format!("engine fast: {done} seeds in")), "{rest}");
    assert!(!rest.contains("\nPASS"), "{rest}");
}

#[test]
fn replay_exit_codes() {
    let dir = tmp_dir("exit-replay");
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    expect(&["replay", s(&trace)], PASS, &["identical"]);
    // A header whose scenario no longer gives the trace's records: the power-off a second earlier.
    let (mut header, records) = fover_traces::io::read_file(&trace).unwrap();
    let steps = header.scenario["step"].as_array_mut().unwrap();
    steps.iter_mut().find(|s| s["do"] == "power-off").unwrap()["at_ms"] = 8000.into();
    let diverged = dir.join("diverged.trace.jsonl");
    fover_traces::io::write_trace(std::fs::File::create(&diverged).unwrap(), &header, &records).unwrap();
    expect(&["replay", s(&diverged)], FAILED, &["DIVERGED"]);
    let text = std::fs::read_to_string(&trace).unwrap();
    // A corrupt trace: cut in the middle of its last line.
    let corrupt = write(&dir, "corrupt.trace.jsonl", &text[..text.len() - 30]);
    expect(&["replay", s(&corrupt)], BAD_INPUT, &["corrupt.trace.jsonl: line"]);
    let garbage = write(&dir, "garbage.trace.jsonl", "not a trace\n");
    expect(&["replay", s(&garbage)], BAD_INPUT, &["garbage.trace.jsonl: line 1"]);
    // A header naming an engine there is not.
    let warp = write(&dir, "warp.trace.jsonl", &text.replacen("\"engine\":\"fast\"", "\"engine\":\"warp\"", 1));
    expect(&["replay", s(&warp)], BAD_INPUT, &["warp.trace.jsonl: header, line 1: unknown engine \"warp\""]);
    let missing = dir.join("missing.trace.jsonl");
    expect(&["replay", s(&missing)], BAD_INPUT, &[s(&missing)]);
    expect(&["replay", s(&trace), "--until-ns", "soon"], BAD_INPUT, &["soon"]);
}

#[test]
fn shrink_exit_codes() {
    let dir = tmp_dir("exit-shrink");
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    let out = dir.join("small.trace.jsonl");
    expect(&["shrink", s(&trace), "--max-runs", "3", "-o", s(&out)], PASS, &["still fails"]);
    // A trace that passed has nothing to shrink.
    let passing = write(&dir, "pass.trace.jsonl", "");
    let mut scenario = power_off_among_noise();
    scenario.steps.retain(|s| !matches!(s, fover_sim::schedule::Step::PowerOff { .. }));
    write_trace(&passing, &scenario);
    expect(&["shrink", s(&passing)], BAD_INPUT, &["pass.trace.jsonl: the trace passed"]);
    let text = std::fs::read_to_string(&trace).unwrap();
    let corrupt = write(&dir, "corrupt.trace.jsonl", &text[..text.len() - 30]);
    expect(&["shrink", s(&corrupt)], BAD_INPUT, &["corrupt.trace.jsonl: line"]);
    expect(&["shrink", s(&dir.join("missing.trace.jsonl"))], BAD_INPUT, &["missing.trace.jsonl"]);
    expect(&["shrink", s(&trace), "--max-runs", "many"], BAD_INPUT, &["many"]);
    // The shrunk trace cannot be written: its folder's parent is a file.
    let blocker = write(&dir, "blocker", "a file");
    let out = blocker.join("small.trace.jsonl");
    expect(&["shrink", s(&trace), "--max-runs", "3", "-o", s(&out)], INTERNAL, &[s(&blocker)]);
}

#[test]
fn trace_view_exit_codes() {
    let dir = tmp_dir("exit-trace");
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    expect(&["trace", "show", s(&trace)], PASS, &[]);
    expect(&["trace", "show", s(&trace), "--group", "3"], BAD_INPUT, &["--group 3"]);
    expect(&["trace", "show", s(&dir.join("missing.jsonl"))], BAD_INPUT, &["missing.jsonl"]);
    let blocker = write(&dir, "blocker", "a file");
    let page = blocker.join("page.html");
    expect(&["trace", "html", s(&trace), "-o", s(&page)], INTERNAL, &[s(&blocker)]);
}
