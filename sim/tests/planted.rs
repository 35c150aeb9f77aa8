//! Checkers must be able to fail: each planted bug is caught by a default
//! sweep (fast engine), by the property that guards against it. The test
//! reports seeds-to-first-failure so a weaker checker shows up in review.

use fover_protocol::planted::PlantedBug;
use fover_sim::checker::Verdict;
use fover_sim::engine::EngineKind;
use fover_sim::nemesis;
use fover_sim::sweep::{self, SweepConfig};
use std::sync::atomic::AtomicBool;

/// The bug and the property that must catch it, with the seed budget.
const CASES: &[(PlantedBug, &str, u64)] = &[
    (PlantedBug::PreemptIgnoresDelay, "2-failover-has-cause", 200),
    (PlantedBug::StandbyFailureTriggersFailover, "2-failover-has-cause", 200),
    (PlantedBug::LanTestReplyIgnored, "2-failover-has-cause", 400),
    (PlantedBug::BothActiveNeverResolves, "1-no-dual-active", 200),
    (PlantedBug::HoldTimerTooShort, "2-failover-has-cause", 200),
    (PlantedBug::ForgedFrameAccepted, "5-rejected-frame-changes-nothing", 300),
    (PlantedBug::PromoteFailedGroup, "2-never-promote-failed", 400),
    (PlantedBug::ReplicateFromWrongUnit, "4-replication-authority", 300),
    (PlantedBug::ReplicationLost, "7-configs-converge", 400),
    (PlantedBug::IgnoreReplicatedConnections, "9-connections-survive", 100),
];

fn first_failure(bug: PlantedBug, seeds: u64) -> Option<sweep::SeedResult> {
    let config = SweepConfig {
        seeds,
        start: 0,
        jobs: 1,
        shard: None,
        nemesis: nemesis::Config::default(),
        engine: EngineKind::Fast,
        recheck: 0,
        out: None,
        planted_bug: Some(bug),
        stop_on_failure: true,
    };
    let stop = AtomicBool::new(false);
    let summary = sweep::sweep(&config, &stop, &|_, _| {}).expect("sweep runs");
    summary.results.into_iter().filter(|r| r.verdict != Verdict::Pass).min_by_key(|r| r.seed)
}

#[test]
fn planted_bugs_are_each_caught_by_the_default_sweep() {
    let mut report = Vec::new();
    for &(bug, property, budget) in CASES {
        let failure = first_failure(bug, budget)
            .unwrap_or_else(|| panic!("planted bug {bug} survived {budget} seeds of the default sweep"));
        assert_eq!(
            failure.property.as_deref(),
            Some(property),
            "planted bug {bug} was caught, but by {:?} ({:?}) instead of {property}",
            failure.property,
            failure.message
        );
        report.push(format!(
            "{bug:<36} caught by {property:<34} at seed {} ({} seeds)",
            failure.seed,
            failure.seed + 1
        ));
    }
    eprintln!("seeds to first failure:\n  {}", report.join("\n  "));
}

#[test]
fn without_a_planted_bug_the_same_seeds_pass() {
    // The counterpart: the checkers do not cry wolf on the seeds that catch the bugs.
    for &(bug, _, budget) in CASES {
        if let Some(f) = first_failure(bug, budget) {
            let (_, scenario) = nemesis::draw(f.seed, &nemesis::Config::default());
            let outcome =
                fover_sim::engine::run(EngineKind::Fast, &scenario, fover_sim::world::RecordLevel::NoFrames).unwrap();
            assert_eq!(
                outcome.verdict,
                Verdict::Pass,
                "seed {} fails without the bug: {:?}",
                f.seed,
                outcome.violation
            );
        }
    }
}
