//! Planted bugs (`fover_protocol::planted`): each one, switched on, makes the
//! named scenario that guards against it fail, and the property sweep
//! catches the ones that break single-activity. Without this file a green
//! run could be vacuous.

mod common;

use common::property::{report, sweep};
use common::*;
use fover_protocol::planted::PlantedBug;

fn caught(bug: PlantedBug, scenario: fn(Option<PlantedBug>) -> Outcome) {
    scenario(None).unwrap_or_else(|e| panic!("the scenario fails without {bug}: {e}"));
    match scenario(Some(bug)) {
        Err(message) => println!("{bug} caught: {message}"),
        Ok(()) => panic!("planted bug {bug} was not caught"),
    }
}

/// planted: preempt-ignores-delay is caught by "preempt: with delay".
#[test]
fn planted_preempt_ignores_delay_caught_by_preempt_with_delay() {
    caught(PlantedBug::PreemptIgnoresDelay, preempt_with_delay);
}

/// planted: standby-failure-triggers-failover is caught by "policy: standby group over threshold".
#[test]
fn planted_standby_failure_triggers_failover_caught_by_standby_over_threshold() {
    caught(PlantedBug::StandbyFailureTriggersFailover, policy_standby_group_over_threshold);
}

/// planted: lan-test-reply-ignored is caught by "health: three missed hellos answered by the LAN test".
#[test]
fn planted_lan_test_reply_ignored_caught_by_three_missed_hellos() {
    caught(PlantedBug::LanTestReplyIgnored, three_missed_hellos_answered_by_lan_test);
}

/// planted: both-active-never-resolves is caught by "heal: both active, tie".
#[test]
fn planted_both_active_never_resolves_caught_by_heal_tie() {
    caught(PlantedBug::BothActiveNeverResolves, heal_both_active_tie_preferred_keeps);
}

/// planted: hold-timer-too-short is caught by "health: three missed hellos" (and by the sweep, below).
#[test]
fn planted_hold_timer_too_short_caught_by_three_missed_hellos() {
    caught(PlantedBug::HoldTimerTooShort, three_missed_hellos_answered_by_lan_test);
}

/// planted: forged-frame-accepted is caught by "auth: rejected frame changes no state".
#[test]
fn planted_forged_frame_accepted_caught_by_rejected_frame_digest() {
    caught(PlantedBug::ForgedFrameAccepted, rejected_frame_changes_nothing);
}

/// planted: ignore-replicated-connections is caught by "stateful: TCP connections survive a failover".
#[cfg(feature = "planted-bugs")]
#[test]
fn planted_ignore_replicated_connections_caught_by_connections_survive_failover() {
    caught(PlantedBug::IgnoreReplicatedConnections, stateful_tcp_connections_survive_failover);
}

/// planted: promote-failed-group is caught by "policy: a peer failure never promotes a Failed group".
#[test]
fn planted_promote_failed_group_caught_by_peer_failure_policy() {
    caught(PlantedBug::PromoteFailedGroup, peer_failure_never_promotes_failed_group);
}

/// planted: the property sweep catches both-active-never-resolves and hold-timer-too-short.
#[test]
fn planted_property_sweep_catches_single_active_bugs() {
    for bug in [PlantedBug::BothActiveNeverResolves, PlantedBug::HoldTimerTooShort] {
        match sweep(0..2_000, Some(bug)) {
            Err((seed, message)) => println!("{bug} caught by the sweep:\n{}", report(seed, &message)),
            Ok(c) => panic!("the sweep did not catch {bug}: {c:?}"),
        }
    }
}
