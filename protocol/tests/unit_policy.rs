//! One test per row of the failure-policy table (PROTOCOL.md section 7), the
//! interface policy, and suspended failover.

mod common;

use common::*;
use fover_protocol::config::settings::InterfacePolicy;
use fover_protocol::types::GroupState;
use fover_protocol::unit::Link;

/// policy: unit power or software failure (failover; the standby group becomes active, peer marked failed).
#[test]
fn policy_unit_power_failure_standby_becomes_active_peer_marked_failed() {
    policy_unit_power_failure(None).unwrap();
}

/// policy: active group's interface failures reach the threshold (failover; active marked Failed, standby becomes active).
#[test]
fn policy_active_group_over_threshold_failover_active_marked_failed() {
    policy_active_group_over_threshold(None).unwrap();
}

/// policy: standby group's interface failures reach the threshold (no failover, marked Failed).
#[test]
fn policy_standby_group_over_threshold_no_failover_marked_failed() {
    policy_standby_group_over_threshold(None).unwrap();
}

/// policy: formerly active group recovers (no failover without preempt; Failed -> Standby Ready).
#[test]
fn policy_formerly_active_group_recovers_no_failover_without_preempt() {
    policy_formerly_active_group_recovers(None).unwrap();
}

/// policy: failover link down at startup (no failover; both units active for both groups, link marked failed).
#[test]
fn policy_failover_link_down_at_startup_both_units_active() {
    policy_failover_link_down_at_startup(None).unwrap();
}

/// policy: state link down (no failover).
#[test]
fn policy_state_link_down_no_failover() {
    policy_state_link_down(None).unwrap();
}

/// policy: failover link down during operation (no failover; link marked failed, failover suspended).
#[test]
fn policy_failover_link_down_during_operation_no_failover_suspended() {
    policy_failover_link_down_during_operation(None).unwrap();
}

/// policy: a peer failure never promotes a Failed group.
#[test]
fn policy_peer_failure_never_promotes_failed_group() {
    peer_failure_never_promotes_failed_group(None).unwrap();
}

/// policy: interface policy as a count (one failed of two, policy 2: no failover).
#[test]
fn policy_interface_count_below_threshold_no_failover() {
    let mut pair = settled(3, None, |_| {}).unwrap(); // if0 and if2 in group 1
    set_policy(&mut pair, G1, InterfacePolicy::Count(2)).unwrap();
    silence(&mut pair, P, IF0).unwrap();
    assert_eq!(pair.unit(P).unwrap().group(G1).failed_interfaces(), (1, 2));
    no_transitions(&pair, "one of two interfaces failed, policy 2").unwrap();
}

/// policy: interface policy as a percentage (one failed of two reaches 50 %: failover).
#[test]
fn policy_interface_percent_reached_failover() {
    let mut pair = settled(3, None, |_| {}).unwrap();
    set_policy(&mut pair, G1, InterfacePolicy::Percent(50)).unwrap();
    silence(&mut pair, P, IF0).unwrap();
    assert_eq!(pair.state(P, G1), Some(GroupState::Failed));
    assert_eq!(pair.active_units(G1), vec![S]);
}

/// policy: the active group's failures reach the threshold but the standby has as many (no failover).
#[test]
fn policy_active_over_threshold_standby_not_fewer_no_failover() {
    let mut pair = settled(3, None, |_| {}).unwrap();
    // The secondary's if2 fails first (group 1 standby there: Failed), then the primary's if0.
    silence(&mut pair, S, IF2).unwrap();
    silence(&mut pair, P, IF0).unwrap();
    assert_eq!(pair.active_units(G1), vec![P]);
    assert_eq!(pair.state(S, G1), Some(GroupState::Failed));
}

/// suspended: the peer is lost while failover is suspended (no takeover).
#[test]
fn suspended_failover_peer_lost_while_suspended_no_takeover() {
    suspended_no_takeover(None).unwrap();
}

/// suspended: the failover link recovers (failover resumes; nothing moved).
#[test]
fn suspended_failover_resumes_when_link_recovers() {
    use fover_protocol::unit::Event;
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.cut_both(Link::Failover);
    run_single_active(&mut pair, secs(3)).unwrap();
    pair.heal_both(Link::Failover);
    run_single_active(&mut pair, secs(1)).unwrap();
    for role in [P, S] {
        assert!(!pair.unit(role).unwrap().node().is_suspended(), "{role}");
        assert!(pair.events_of(role).any(|e| *e == Event::FailoverLinkRecovered), "{role}");
        assert!(pair.events_of(role).any(|e| *e == Event::FailoverResumed), "{role}");
    }
    no_transitions(&pair, "failover link cut and healed").unwrap();
    // Failover works again.
    pair.power_off(P);
    pair.run_for(secs(2));
    assert_eq!(pair.active_units(G1), vec![S]);
}
