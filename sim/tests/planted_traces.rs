//! From a planted bug to a regression test, the way a user goes: the sweep's
//! failing trace replays identically; with the bug switched off, replay shows
//! the first divergence; shrink brings the schedule down to at most 3 faults,
//! and the emitted scenario fails with the bug and passes without it. Under
//! `--cfg madsim` (`cargo simtest`), the shrink keeps only schedules that
//! fail on the madsim engine too (`fover shrink --engines fast,madsim`), and
//! the shrunk schedule is checked to fail there.

use fover_protocol::planted::PlantedBug;
use fover_sim::checker::Verdict;
use fover_sim::engine::{self, EngineKind};
use fover_sim::nemesis;
use fover_sim::replay;
use fover_sim::shrink::{self, Options};
use fover_sim::sweep::{self, SweepConfig};
use fover_sim::world::RecordLevel;
use std::sync::atomic::AtomicBool;

const BUGS: &[(PlantedBug, u64)] = &[
    (PlantedBug::PreemptIgnoresDelay, 200),
    (PlantedBug::StandbyFailureTriggersFailover, 200),
    (PlantedBug::LanTestReplyIgnored, 400),
    (PlantedBug::BothActiveNeverResolves, 200),
    (PlantedBug::HoldTimerTooShort, 200),
    (PlantedBug::ForgedFrameAccepted, 300),
    (PlantedBug::PromoteFailedGroup, 400),
    (PlantedBug::IgnoreReplicatedConnections, 100),
];

#[test]
fn planted_bug_traces_replay_shrink_and_become_regression_scenarios() {
    let dir = std::env::temp_dir().join(format!("fover-planted-traces-{}", std::process::id()));
    let mut report = Vec::new();
    for &(bug, budget) in BUGS {
        let mut start = 0;
        let mut skipped = Vec::new();
        loop {
            let config = SweepConfig {
                seeds: budget,
                start,
                jobs: 1,
                shard: None,
                nemesis: nemesis::Config::default(),
                engine: EngineKind::Fast,
                recheck: 0,
                out: Some(dir.join(bug.as_str())),
                planted_bug: Some(bug),
                stop_on_failure: true,
            };
            let summary = sweep::sweep(&config, &AtomicBool::new(false), &|_, _| {}).unwrap();
            let failure = summary.failures().next().unwrap_or_else(|| panic!("{bug}: no failure in {budget} seeds"));
            let path = std::path::PathBuf::from(failure.trace.as_ref().expect("a failing seed writes its trace"));

            // The trace replays identically.
            let same = replay::replay_file(&path, None).unwrap();
            assert!(same.identical(), "{bug}: the trace does not replay identically:\n{}", same.render());

            // Without the bug, replay reports the first divergence.
            let (mut header, records) = fover_traces::io::read_file(&path).unwrap();
            header.planted_bug = None;
            let fixed = replay::replay(&header, &records, None).unwrap();
            assert!(!fixed.identical(), "{bug}: switching the bug off changed nothing");
            assert!(fixed.render().contains("diverge"), "{bug}: {}", fixed.render());

            // Shrink on the fast engine: at most 3 faults, same property; with the
            // madsim engine in the build, only schedules that fail there too.
            let (header, records) = fover_traces::io::read_file(&path).unwrap();
            let also = if EngineKind::Madsim.available() { vec![EngineKind::Madsim] } else { Vec::new() };
            let options = Options { also, ..Options::default() };
            let shrunk = match shrink::shrink_trace(&header, &records, &options) {
                // A seed the madsim engine's own timing does not fail: take the
                // next failing seed (each one reported).
                Err(shrink::ShrinkError::NotFailingOn { .. }) if skipped.len() < 5 => {
                    skipped.push(failure.seed);
                    start = failure.seed + 1;
                    continue;
                }
                other => other.unwrap(),
            };
            assert_eq!(shrunk.engine, EngineKind::Fast);
            assert!(shrunk.faults.1 <= 3, "{bug}: shrunk to {} faults", shrunk.faults.1);
            assert_eq!(shrunk.failure.property, failure.property.clone().unwrap());

            // The emitted scenario is a regression test: fails with the bug, passes without.
            let toml = shrunk.scenario_file(&path.display().to_string(), "shrunk.toml").unwrap();
            let mut scenario = fover_sim::scenario::Scenario::from_toml("shrunk.toml", &toml).unwrap();
            scenario.planted_bug = Some(bug);
            let with = engine::run(EngineKind::Fast, &scenario, RecordLevel::NoFrames).unwrap();
            assert_ne!(with.verdict, Verdict::Pass, "{bug}: the shrunk scenario passes with the bug");
            scenario.planted_bug = None;
            let without = engine::run(EngineKind::Fast, &scenario, RecordLevel::NoFrames).unwrap();
            assert_eq!(
                without.verdict,
                Verdict::Pass,
                "{bug}: the shrunk scenario fails without the bug: {:?}",
                without.violation
            );

            // The same shrunk schedule fails on the madsim engine (the real driver) too.
            if EngineKind::Madsim.available() {
                scenario.planted_bug = Some(bug);
                let on_madsim = engine::run(EngineKind::Madsim, &scenario, RecordLevel::NoFrames).unwrap();
                assert_eq!(
                    on_madsim.violation.as_ref().map(|v| v.property.as_str()),
                    Some(shrunk.failure.property.as_str()),
                    "{bug}: the fast-shrunk schedule does not fail the same way on madsim (verdict {})",
                    on_madsim.verdict.as_str()
                );
            }
            report.push(format!(
                "{:<34} seed {:>3}: {} -> {} steps, {} -> {} faults, {} runs{}",
                bug.as_str(),
                failure.seed,
                shrunk.steps.0,
                shrunk.steps.1,
                shrunk.faults.0,
                shrunk.faults.1,
                shrunk.runs,
                if skipped.is_empty() { String::new() } else { format!(" (seeds {skipped:?} fail on fast only)") }
            ));
            break;
        }
    }
    eprintln!("{}", report.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
