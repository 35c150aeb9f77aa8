//! `fover shrink`: a failure among many unrelated faults shrinks to its
//! cause, and the scenario file it writes fails when run (with the planted
//! bug, when the trace had one) and passes without the cause.

mod common;

use common::{fover, power_off_among_noise, tmp_dir, write_trace};
use fover_protocol::planted::PlantedBug;
use fover_sim::checker::Verdict;
use fover_sim::engine::EngineKind;
use fover_sim::scenario::Scenario;
use fover_sim::schedule::{Step, UnitName};
use fover_sim::shrink::{self, Options, ShrinkError};
use fover_sim::sweep;
use fover_sim::world::RecordLevel;
use fover_traces::io::read_file;

fn run(scenario: &Scenario) -> fover_sim::engine::Outcome {
    sweep::run_caught(EngineKind::Fast, scenario, RecordLevel::NoFrames).unwrap()
}

fn without_power_off(s: &Scenario) -> Scenario {
    let mut s = s.clone();
    s.steps.retain(|st| !matches!(st, Step::PowerOff { .. }));
    s
}

#[test]
fn unrelated_faults_shrink_away_and_the_power_off_stays() {
    let original = power_off_among_noise();
    let faults_before = original.steps.iter().filter(|s| s.is_fault()).count();
    assert_eq!((original.steps.len(), faults_before), (23, 17));
    let shrunk = shrink::shrink_scenario(EngineKind::Fast, &original, None, &Options::default()).unwrap();
    eprint!("{}", shrunk.render());
    assert!(!shrunk.budget_exhausted);
    assert!(shrunk.faults.1 <= 3, "{}", shrunk.render());
    // Pinned: the primary's boot, its power-off and the expectation at 20 s.
    assert_eq!((shrunk.steps, shrunk.faults), ((23, 3), (17, 1)), "{}", shrunk.render());
    assert!(matches!(shrunk.scenario.steps[0], Step::Boot { unit: UnitName::Primary, at_ms: 0 }));
    assert!(matches!(shrunk.scenario.steps[1], Step::PowerOff { unit: UnitName::Primary, .. }));
    assert!(matches!(&shrunk.scenario.steps[2], Step::Expect(e) if e.at_ms == 20_000));
    assert!(shrunk.scenario.duration_ms <= 21_000, "{}", shrunk.render());
    assert_eq!(shrunk.scenario.name, "shrunk: scenario-expectation (seed 7)");
    assert!(shrunk.runs <= 200, "{} runs", shrunk.runs);
    // The same search gives the same answer.
    let again = shrink::shrink_scenario(EngineKind::Fast, &original, None, &Options::default()).unwrap();
    assert_eq!((again.scenario, again.runs), (shrunk.scenario.clone(), shrunk.runs));
    // The cause is the cause.
    assert_eq!(run(&without_power_off(&shrunk.scenario)).verdict, Verdict::Pass);
}

#[test]
fn shrunk_trace_and_scenario_file_fail_when_run() {
    let dir = tmp_dir("shrink-files");
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    let (status, text) = fover(&["shrink", trace.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("shrunk in ") && text.contains("23 -> 3 steps (17 -> 1 faults)"), "{text}");
    let out = dir.join("power.shrunk.trace.jsonl");
    let toml = dir.join("power.shrunk.toml");
    assert!(text.contains(&out.display().to_string()) && text.contains(&toml.display().to_string()), "{text}");

    // The trace reads, replays identical, and has the scenario file in its header.
    let (header, records) = read_file(&out).unwrap();
    assert_eq!(header.scenario_file.as_deref(), Some(toml.to_str().unwrap()));
    assert!(matches!(&records.last().unwrap().event,
        fover_traces::Event::Verdict { property: Some(p), .. } if p == "scenario-expectation"));
    let (status, text) = fover(&["replay", out.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");

    // The scenario file says where it came from, fails when run, and passes without the power-off.
    let file_text = std::fs::read_to_string(&toml).unwrap();
    assert!(file_text.starts_with("# Shrunk by `fover shrink` from "), "{file_text}");
    assert!(file_text.contains("name = \"shrunk: scenario-expectation (seed 7)\""), "{file_text}");
    let (status, text) = fover(&["scenario", toml.to_str().unwrap()]);
    assert_eq!(status, 1, "{text}");
    assert!(text.contains("FAIL safety scenario-expectation at 20000 ms"), "{text}");
    let loaded = Scenario::load(&toml).unwrap();
    assert_eq!(run(&loaded).verdict, Verdict::Safety);
    assert_eq!(run(&without_power_off(&loaded)).verdict, Verdict::Pass);

    // -o puts it elsewhere.
    let elsewhere = dir.join("min/first.trace.jsonl");
    let (status, text) = fover(&["shrink", trace.to_str().unwrap(), "-o", elsewhere.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");
    assert!(elsewhere.exists() && dir.join("min/first.toml").exists(), "{text}");
}

#[test]
fn planted_bug_trace_shrinks_to_a_file_run_with_the_bug() {
    let dir = tmp_dir("shrink-planted");
    let trace = dir.join("planted.trace.jsonl");
    let mut scenario = power_off_among_noise();
    scenario.planted_bug = Some(PlantedBug::HoldTimerTooShort);
    write_trace(&trace, &scenario);
    let (header, records) = read_file(&trace).unwrap();
    let shrunk = shrink::shrink_trace(&header, &records, &Options::default()).unwrap();
    assert_eq!(shrunk.scenario.planted_bug, Some(PlantedBug::HoldTimerTooShort));
    assert!(shrunk.faults.1 <= 3, "{}", shrunk.render());
    let out = shrink::default_out(&trace);
    let toml = shrunk.write(&trace, &out).unwrap();
    let (h, _) = read_file(&out).unwrap();
    assert_eq!(h.planted_bug.as_deref(), Some("hold-timer-too-short"));
    let text = std::fs::read_to_string(&toml).unwrap();
    assert!(text.contains("--plant hold-timer-too-short"), "{text}");
    // Run as the comment says: with the bug it fails; without the bug it passes.
    let (status, out_text) = fover(&["scenario", toml.to_str().unwrap(), "--plant", "hold-timer-too-short"]);
    assert_eq!(status, 1, "{out_text}");
    assert!(out_text.contains("planted bug hold-timer-too-short"), "{out_text}");
    let mut loaded = Scenario::load(&toml).unwrap();
    loaded.planted_bug = None;
    assert_eq!(run(&loaded).verdict, Verdict::Pass);
}

#[test]
fn run_budget_is_respected() {
    let original = power_off_among_noise();
    let shrunk = shrink::shrink_scenario(
        EngineKind::Fast,
        &original,
        None,
        &Options { max_runs: 8, margin_ms: 1_000, ..Options::default() },
    )
    .unwrap();
    assert!(shrunk.budget_exhausted);
    // Eight runs of the search and the final recording run.
    assert_eq!(shrunk.runs, 9);
    assert!(shrunk.render().contains("stopped by the run budget"));
    assert_eq!(run(&shrunk.scenario).verdict, Verdict::Safety);
    assert!(shrunk.steps.1 <= shrunk.steps.0);
}

#[test]
fn passing_trace_is_refused() {
    let dir = tmp_dir("shrink-pass");
    let trace = dir.join("pass.trace.jsonl");
    let passing = without_power_off(&power_off_among_noise());
    write_trace(&trace, &passing);
    let (header, records) = read_file(&trace).unwrap();
    let err = shrink::shrink_trace(&header, &records, &Options::default()).unwrap_err();
    assert!(matches!(err, ShrinkError::TracePassed), "{err}");
    let (status, text) = fover(&["shrink", trace.to_str().unwrap()]);
    assert_eq!(status, 2, "{text}");
    assert!(text.contains("pass.trace.jsonl: the trace passed"), "{text}");
}

#[test]
fn output_names_follow_the_trace() {
    use std::path::Path;
    assert_eq!(shrink::default_out(Path::new("out/seed-7.trace.jsonl")), Path::new("out/seed-7.shrunk.trace.jsonl"));
    assert_eq!(shrink::default_out(Path::new("x.jsonl")), Path::new("x.shrunk.trace.jsonl"));
    assert_eq!(shrink::scenario_path(Path::new("out/seed-7.shrunk.trace.jsonl")), Path::new("out/seed-7.shrunk.toml"));
}

#[test]
fn scenario_file_round_trips_through_toml() {
    // What `fover shrink` writes is what `fover scenario` reads.
    let s = power_off_among_noise();
    let text = s.to_toml().unwrap();
    assert_eq!(Scenario::from_toml("round trip", &text).unwrap(), s);
}
