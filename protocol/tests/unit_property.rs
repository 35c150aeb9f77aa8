//! Properties `single_active` (always) and `eventually_single_active` over
//! random `Pair` schedules (see `common/property.rs` for their exact
//! statements and the bound).

mod common;

use common::property::{Schedule, report, run_schedule, sweep};
use std::time::Instant as WallClock;

/// Schedules per shard; four shards run in parallel: 10,000 schedules.
const SCHEDULES_PER_SHARD: u64 = 2_500;

fn shard(index: u64) {
    // Wall-clock time of the sweep, for the report only: nothing simulated reads it.
    #[allow(clippy::disallowed_methods)]
    let start = WallClock::now();
    let seeds = index * SCHEDULES_PER_SHARD..(index + 1) * SCHEDULES_PER_SHARD;
    match sweep(seeds, None) {
        Ok(c) => {
            println!("shard {index}: {c:?} in {:?}", start.elapsed());
            // Sometimes-properties: the sweep exercised what it checks.
            assert_eq!(c.schedules, SCHEDULES_PER_SHARD);
            assert!(c.checked_steps > c.steps / 10, "the property applied at too few steps: {c:?}");
            for (name, n) in [
                ("peer declared failed", c.peer_declared_failed),
                ("failover suspended", c.suspended),
                ("both active resolved", c.both_active_resolved),
                ("manual move or preempt", c.manual_or_preempt_moves),
                ("interface failed", c.interface_failed),
                ("liveness checked", c.liveness_checked),
            ] {
                assert!(n >= SCHEDULES_PER_SHARD / 50, "{name} in only {n} schedules: {c:?}");
            }
        }
        Err((seed, message)) => panic!("{}", report(seed, &message)),
    }
}

/// property: single active (2,500 random schedules, seeds 0..2500).
#[test]
fn property_single_active_schedules_shard_0() {
    shard(0);
}

/// property: single active (2,500 random schedules, seeds 2500..5000).
#[test]
fn property_single_active_schedules_shard_1() {
    shard(1);
}

/// property: single active (2,500 random schedules, seeds 5000..7500).
#[test]
fn property_single_active_schedules_shard_2() {
    shard(2);
}

/// property: single active (2,500 random schedules, seeds 7500..10000).
#[test]
fn property_single_active_schedules_shard_3() {
    shard(3);
}

/// property: one seed from `FOVER_SEED` (to reproduce a failure), with its event log.
#[test]
fn property_single_active_one_seed() {
    let Ok(seed) = std::env::var("FOVER_SEED") else { return };
    let seed: u64 = seed.parse().expect("FOVER_SEED is a number");
    let schedule = Schedule::from_seed(seed);
    let mut coverage = Default::default();
    if let Err(message) = run_schedule(&schedule, None, &mut coverage) {
        panic!("{}", report(seed, &message));
    }
}

/// determinism: the same seed gives the same run (event log and state digests).
#[test]
fn property_runs_are_deterministic() {
    use common::property::INTERFACES;
    use fover_protocol::testing::Pair;
    for seed in [1u64, 7, 42] {
        let run = || {
            let (p, s) = common::configs(INTERFACES, None, |_| {});
            let mut pair = Pair::with_seed(p, s, seed);
            pair.cut_both(fover_protocol::unit::Link::Failover);
            pair.run_for(common::secs(3));
            pair.heal_all();
            pair.run_for(common::secs(2));
            let digests: Vec<u64> =
                [common::P, common::S].iter().map(|r| pair.unit(*r).unwrap().state_digest()).collect();
            (format!("{:?}", pair.events()), digests)
        };
        assert_eq!(run(), run(), "seed {seed}");
    }
}

/// property: a long sweep for soak runs (`FOVER_SWEEP_START`, `FOVER_SWEEP_COUNT`; ignored by default).
#[test]
#[ignore]
fn property_single_active_long_sweep() {
    let var = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let start = var("FOVER_SWEEP_START", 10_000);
    let count = var("FOVER_SWEEP_COUNT", 100_000);
    match sweep(start..start + count, None) {
        Ok(c) => println!("{c:?}"),
        Err((seed, message)) => panic!("{}", report(seed, &message)),
    }
}
