//! The scenario files of `scenarios/`: each passes on every engine this build
//! has (the fast engine always; the madsim engine under `cargo simtest`), the
//! pending ones in `scenarios/pending/` at least parse, and planted protocol
//! bugs make the scenario written for them fail by name.

use fover_protocol::planted::PlantedBug;
use fover_sim::checker::{Verdict, property};
use fover_sim::engine::{EngineKind, Outcome};
use fover_sim::scenario::Scenario;
use fover_sim::sweep;
use fover_sim::world::RecordLevel;
use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios")
}

/// The `*.toml` files of a folder, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn engines() -> Vec<EngineKind> {
    [EngineKind::Fast, EngineKind::Madsim].into_iter().filter(|e| e.available()).collect()
}

fn load(path: &Path) -> Scenario {
    Scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(engine: EngineKind, scenario: &Scenario) -> Outcome {
    sweep::run_caught(engine, scenario, RecordLevel::NoFrames).unwrap_or_else(|e| panic!("{}: {e}", scenario.name))
}

/// What went wrong in a run, one line each: failed expectations, then the violation.
fn failures(outcome: &Outcome) -> Vec<String> {
    let mut lines: Vec<String> = outcome
        .expectations
        .iter()
        .filter(|e| !e.pass)
        .map(|e| format!("FAIL @{} ms: {}: {}", e.at_ms, e.description, e.observed))
        .collect();
    if let Some(v) = &outcome.violation {
        lines.push(format!("{} {} at {} ms: {}", v.verdict.as_str(), v.property, v.t_ns / 1_000_000, v.message));
    }
    lines
}

#[test]
fn scenarios_every_file_passes_on_every_engine() {
    let files = toml_files(&scenarios_dir());
    assert!(files.len() >= 30, "only {} scenario files in {}", files.len(), scenarios_dir().display());
    let mut report = Vec::new();
    for engine in engines() {
        #[allow(clippy::disallowed_methods)] // outside the simulation: how long the suite takes
        let started = std::time::Instant::now();
        let mut passed = 0;
        for file in &files {
            let scenario = load(file);
            let outcome = run(engine, &scenario);
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if outcome.verdict == Verdict::Pass && outcome.expectations.iter().all(|e| e.pass) {
                assert!(!outcome.expectations.is_empty(), "{name}: no expectation was checked");
                passed += 1;
            } else {
                report.push(format!("{name} ({} engine, \"{}\"):", engine.as_str(), scenario.name));
                report.extend(failures(&outcome).into_iter().map(|l| format!("    {l}")));
            }
        }
        eprintln!(
            "scenarios: {passed}/{} passed on the {} engine in {:.2} s",
            files.len(),
            engine.as_str(),
            started.elapsed().as_secs_f64()
        );
    }
    assert!(report.is_empty(), "scenario files failed:\n{}", report.join("\n"));
}

#[test]
fn scenarios_file_names_and_titles_follow_the_convention() {
    for file in toml_files(&scenarios_dir()) {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let kebab = !stem.is_empty()
            && stem.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !stem.starts_with('-')
            && !stem.ends_with('-')
            && !stem.contains("--");
        assert!(kebab, "{}: file names are kebab-case", file.display());
        let name = load(&file).name;
        // `area: fault (detail)`
        let well_formed = name.split_once(": ").is_some_and(|(area, rest)| {
            !area.is_empty() && !area.contains(' ') && rest.contains(" (") && rest.ends_with(')')
        });
        assert!(well_formed, "{}: name {name:?} is not `area: fault (detail)`", file.display());
    }
}

#[test]
fn scenarios_read_back_from_their_own_toml() {
    for file in toml_files(&scenarios_dir()) {
        let scenario = load(&file);
        let text = scenario.to_toml().unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let back =
            Scenario::from_toml("roundtrip.toml", &text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", file.display()));
        assert_eq!(back, scenario, "{}", file.display());
    }
}

#[test]
fn scenarios_pending_files_parse_and_say_why_they_wait() {
    // Every pending story may have shipped (the folder is then gone).
    let dir = scenarios_dir().join("pending");
    let files = if dir.exists() { toml_files(&dir) } else { Vec::new() };
    for file in files {
        load(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("# pending: needs ") || first.starts_with("# SUSPECTED PROTOCOL BUG"),
            "{}: the first line says why the file is pending: {first:?}",
            file.display()
        );
    }
}

/// Runs a shipped scenario with a planted bug on every engine and returns
/// the failure lines; the scenario must pass without the bug.
fn planted(file: &str, bug: PlantedBug) -> Vec<(EngineKind, Outcome)> {
    let mut scenario = load(&scenarios_dir().join(file));
    let mut outcomes = Vec::new();
    for engine in engines() {
        scenario.planted_bug = None;
        assert_eq!(run(engine, &scenario).verdict, Verdict::Pass, "{file} passes without {bug}");
        scenario.planted_bug = Some(bug);
        let outcome = run(engine, &scenario);
        assert_ne!(outcome.verdict, Verdict::Pass, "{file} with {bug} ({:?}) passed", engine);
        eprintln!("{file} with {bug} on the {} engine: {}", engine.as_str(), failures(&outcome).join("; "));
        outcomes.push((engine, outcome));
    }
    outcomes
}

/// The violation message of a failed run, with its property.
fn violation(outcome: &Outcome) -> (String, String) {
    let v = outcome.violation.as_ref().expect("a failed run has a violation");
    (v.property.clone(), v.message.clone())
}

#[test]
fn planted_preempt_ignores_delay_fails_preempt_with_delay() {
    for (engine, outcome) in planted("preempt-with-delay.toml", PlantedBug::PreemptIgnoresDelay) {
        let (prop, message) = violation(&outcome);
        // The preempt fires as soon as the primary is Standby Ready: property 2
        // (no failover without a cause) names the delay it ignored.
        assert_eq!(prop, property::FAILOVER_CAUSE, "{engine:?}: {message}");
        assert!(
            message.contains("group 1 preempted to the primary") && message.contains("preempt delay is 10000 ms"),
            "{message}"
        );
    }
}

#[test]
fn planted_standby_failure_triggers_failover_fails_standby_over_threshold() {
    for (engine, outcome) in
        planted("policy-standby-group-over-threshold.toml", PlantedBug::StandbyFailureTriggersFailover)
    {
        let (prop, message) = violation(&outcome);
        // The standby's own failure moves the group off a healthy active unit.
        assert_eq!(prop, property::FAILOVER_CAUSE, "{engine:?}: {message}");
        assert!(message.contains("group 1 failed over to the secondary without a cause"), "{message}");
    }
}

#[test]
fn planted_lan_test_reply_ignored_fails_missed_hellos_with_data_links_cut() {
    for (engine, outcome) in planted("health-missed-hellos-lan-test-answered.toml", PlantedBug::LanTestReplyIgnored) {
        let (prop, message) = violation(&outcome);
        // The LAN test was answered on the failover link, yet a unit declares
        // its live peer failed and takes its group.
        assert_eq!(prop, property::FAILOVER_CAUSE, "{engine:?}: {message}");
        assert!(message.contains("failed over to the") && message.contains("without a cause"), "{message}");
    }
}

#[test]
fn planted_both_active_never_resolves_fails_the_heal_tie() {
    for (engine, outcome) in planted("heal-both-active-tie-preferred-keeps.toml", PlantedBug::BothActiveNeverResolves) {
        let (prop, message) = violation(&outcome);
        assert_eq!(prop, property::DUAL_ACTIVE, "{engine:?}: {message}");
        assert!(message.contains("has been active on both units"), "{message}");
    }
}

#[test]
fn planted_promote_failed_group_fails_peer_failure_with_local_group_failed() {
    for (engine, outcome) in planted("policy-peer-failure-local-group-failed.toml", PlantedBug::PromoteFailedGroup) {
        let (prop, message) = violation(&outcome);
        assert_eq!(prop, property::PROMOTE_FAILED, "{engine:?}: {message}");
        assert!(message.contains("group 1 went from Failed"), "{message}");
    }
}

#[test]
fn planted_hold_timer_too_short_fails_hellos_dropped() {
    for (engine, outcome) in planted("health-hellos-dropped-data-links-up.toml", PlantedBug::HoldTimerTooShort) {
        let (prop, message) = violation(&outcome);
        assert_eq!(prop, property::FAILOVER_CAUSE, "{engine:?}: {message}");
        assert!(message.contains("without a cause"), "{message}");
    }
}

#[test]
fn planted_ignore_replicated_connections_fails_connections_survive() {
    for (engine, outcome) in
        planted("stateful-connections-survive-failover.toml", PlantedBug::IgnoreReplicatedConnections)
    {
        let (prop, message) = violation(&outcome);
        // The primary takes group 2 over and drops the TCP connections the
        // secondary had replicated to it (and it had acknowledged).
        assert_eq!(prop, property::CONNECTIONS, "{engine:?}: {message}");
        assert!(message.contains("is unknown to the primary, active for group 2"), "{message}");
    }
}
