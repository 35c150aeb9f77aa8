//! Manual commands, preempt, `failover reset` and `no failover` (PROTOCOL.md sections 4 and 7).

mod common;

use common::*;
use fover_protocol::config::command::{Command, CommandError, GroupOption};
use fover_protocol::types::GroupState;
use fover_protocol::unit::{Event, Link, Reason};
use fover_protocol::wire::Kind;

/// manual: `failover active group 1` on the standby (the group moves here; the other unit goes Standby Ready).
#[test]
fn manual_failover_active_group_moves_group_to_this_unit() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    assert_eq!(pair.command(S, Command::FailoverActive(Some(G1))), Ok(String::new()));
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "after failover active group 1", Some(S), Some(S)).unwrap();
    let t = transitions(&pair, P, G1);
    assert_eq!(t, vec![(GroupState::Active, GroupState::StandbyReady, "Other unit wants me Standby".to_string())]);
    let t = transitions(&pair, S, G1);
    assert_eq!(t[0], (GroupState::StandbyReady, GroupState::JustActive, "Set by the CI config cmd".to_string()));
    assert!(has_syslog(&pair, S, 104001, "(Secondary) Switching to ACTIVE - Set by the CI config cmd"));
    assert!(has_syslog(&pair, P, 104002, "(Primary) Switching to STANDBY - Other unit wants me Standby"));
}

/// manual: `failover active` with no group (every group moves here).
#[test]
fn manual_failover_active_all_groups_moves_every_group_here() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.command(P, Command::FailoverActive(None)).unwrap();
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "after failover active", Some(P), Some(P)).unwrap();
}

/// manual: `no failover active group 1` on the active unit (the peer takes the group).
#[test]
fn manual_no_failover_active_group_moves_group_to_peer() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.command(P, Command::NoFailoverActive(Some(G1))).unwrap();
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "after no failover active group 1", Some(S), Some(S)).unwrap();
    let t = transitions(&pair, P, G1);
    assert_eq!(t, vec![(GroupState::Active, GroupState::StandbyReady, "Set by the CI config cmd".to_string())]);
    let t = transitions(&pair, S, G1);
    assert_eq!(t[0].2, "Other unit wants me Active");
}

/// manual: `no failover active` with no group (every group moves to the peer).
#[test]
fn manual_no_failover_active_all_groups_moves_every_group_to_peer() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.command(S, Command::NoFailoverActive(None)).unwrap();
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "after no failover active", Some(P), Some(P)).unwrap();
}

/// manual: a move survives lost role requests (re-sent with every hello until answered).
#[test]
fn manual_move_survives_lost_role_requests() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.drop_kind(Link::Failover, S, Kind::RoleRequest);
    pair.command(S, Command::FailoverActive(Some(G1))).unwrap();
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "requests lost", Some(P), Some(S)).unwrap();
    pair.pass_kind(Link::Failover, S, Kind::RoleRequest);
    pair.drop_kind(Link::Failover, P, Kind::RoleRequest);
    run_single_active(&mut pair, secs(1)).unwrap();
    // The primary gave group 1 up but its answer is lost: nobody is active
    // for it, and neither unit takes it alone.
    assert_eq!(pair.active_units(G1), vec![]);
    pair.pass_kind(Link::Failover, P, Kind::RoleRequest);
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "answers pass again", Some(S), Some(S)).unwrap();
}

/// manual: `failover active` for a Failed group is refused.
#[test]
fn manual_failover_active_refused_for_failed_group() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    silence(&mut pair, S, IF0).unwrap();
    assert_eq!(pair.state(S, G1), Some(GroupState::Failed));
    let r = pair.command(S, Command::FailoverActive(Some(G1)));
    assert!(matches!(&r, Err(CommandError::Refused(t)) if t.contains("Failed")), "{r:?}");
    run_single_active(&mut pair, secs(1)).unwrap();
    assert_eq!(pair.active_units(G1), vec![P]);
}

/// manual: `no failover active` is refused when the mate is not Standby Ready.
#[test]
fn manual_no_failover_active_refused_when_mate_not_ready() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    silence(&mut pair, S, IF0).unwrap();
    let r = pair.command(P, Command::NoFailoverActive(Some(G1)));
    assert!(matches!(r, Err(CommandError::Refused(_))), "{r:?}");
    assert_eq!(pair.active_units(G1), vec![P]);
}

/// reset: `failover reset` while the cause persists (Failed -> Standby Ready, then Failed again).
#[test]
fn failover_reset_group_fails_again_while_cause_persists() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    silence(&mut pair, S, IF0).unwrap();
    pair.clear_events();
    pair.command(S, Command::FailoverReset(Some(G1))).unwrap();
    assert_eq!(pair.state(S, G1), Some(GroupState::Failed));
    let t = transitions(&pair, S, G1);
    assert_eq!(
        t,
        vec![
            (GroupState::Failed, GroupState::StandbyReady, "Set by the CI config cmd".to_string()),
            (GroupState::StandbyReady, GroupState::Failed, "Interface check".to_string()),
        ]
    );
}

/// reset: `failover reset` after the cause cleared (the group is Standby Ready and stays so).
#[test]
fn failover_reset_after_cause_cleared_group_standby_ready() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    silence(&mut pair, S, IF0).unwrap();
    pair.set_silent(S, IF0, false);
    pair.run_for(secs(1));
    pair.clear_events();
    pair.command(S, Command::FailoverReset(None)).unwrap();
    pair.run_for(secs(2));
    assert_eq!(pair.state(S, G1), Some(GroupState::StandbyReady));
    no_transitions(&pair, "reset of a group that is not Failed").unwrap();
}

/// no failover: freezes the current roles (no takeover when the peer is lost) until `failover`.
#[test]
fn no_failover_freezes_current_roles_until_failover() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.command(S, Command::NoFailover).unwrap();
    assert!(!pair.unit(S).unwrap().node().failover_enabled());
    run_single_active(&mut pair, secs(2)).unwrap();
    no_transitions(&pair, "after no failover").unwrap();
    // The frozen unit still says hello: its peer does not declare it failed.
    assert!(!pair.unit(P).unwrap().peer().failed());
    let r = pair.command(S, Command::FailoverActive(Some(G1)));
    assert!(matches!(r, Err(CommandError::Refused(_))), "{r:?}");
    pair.power_off(P);
    run_single_active(&mut pair, secs(3)).unwrap();
    assert_eq!(pair.state(S, G1), Some(GroupState::StandbyReady), "a frozen unit took group 1");
    pair.command(S, Command::Failover).unwrap();
    run_single_active(&mut pair, secs(3)).unwrap();
    assert_eq!(pair.state(S, G1), Some(GroupState::Active), "failover enabled again: group 1 taken over");
}

/// preempt: without delay (the group returns to its preferred unit once it is Standby Ready).
#[test]
fn preempt_without_delay_group_returns_to_preferred_unit() {
    preempt_without_delay(None).unwrap();
}

/// preempt: with delay (the group moves `delay` after its preferred unit is available, not before).
#[test]
fn preempt_with_delay_group_moves_after_the_delay() {
    preempt_with_delay(None).unwrap();
}

/// preempt: never undoes a manual move.
#[test]
fn preempt_never_undoes_a_manual_move() {
    preempt_never_undoes_manual_move(None).unwrap();
}

/// preempt: configured by command on a unit already Standby Ready (moves after the delay).
#[test]
fn preempt_configured_later_moves_group_after_delay() {
    let mut pair = late_primary(None, |_| {}).unwrap();
    pair.run_for(secs(2));
    expect_placement(&pair, "no preempt", Some(S), Some(S)).unwrap();
    pair.command(P, Command::GroupOption(G1, GroupOption::Preempt(Some(secs(1))))).unwrap();
    pair.run_for(ms(800));
    expect_placement(&pair, "0.8 s after preempt 1", Some(S), Some(S)).unwrap();
    pair.run_for(ms(400));
    expect_placement(&pair, "1.2 s after preempt 1", Some(P), Some(S)).unwrap();
    assert!(pair.unit(P).unwrap().group(G1).history().iter().any(|e| e.reason == Reason::Preempt));
}

/// manual: history is bounded (oldest entries dropped).
#[test]
fn manual_history_is_bounded() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    for i in 0..40 {
        let role = if i % 2 == 0 { S } else { P };
        pair.command(role, Command::FailoverActive(Some(G1))).unwrap();
        pair.run_for(ms(50));
    }
    let h = pair.unit(P).unwrap().group(G1).history();
    assert_eq!(h.len(), fover_protocol::constants::HISTORY_MAX);
    assert!(pair.events_of(P).all(|e| !matches!(e, Event::PeerDeclaredFailed)));
}

/// no failover: entered while negotiating, then `failover` (the negotiation starts over and ends).
#[test]
fn no_failover_while_negotiating_then_failover_negotiation_completes() {
    let (p, s) = configs(1, None, |_| {});
    let mut pair = fover_protocol::testing::Pair::with_primary_only(p, s);
    pair.command(P, Command::NoFailover).unwrap();
    pair.run_for(secs(3));
    assert_eq!(pair.state(P, G1), Some(GroupState::Negotiation), "frozen while negotiating");
    pair.command(P, Command::Failover).unwrap();
    pair.run_for(secs(2));
    expect_placement(&pair, "failover enabled again", Some(P), Some(P)).unwrap();
}

/// manual: a move still waiting for the peer's answer when the failover link
/// is marked failed is abandoned (as `failover active` is refused while the
/// link is down); the recovery of the link does not carry it out later.
#[test]
fn manual_move_pending_when_failover_suspended_is_abandoned() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.cut_both(Link::Failover);
    assert_eq!(pair.command(S, Command::FailoverActive(Some(G1))), Ok(String::new()));
    run_single_active(&mut pair, secs(3)).unwrap();
    assert!(pair.unit(S).unwrap().node().is_suspended(), "the secondary did not suspend failover");
    pair.heal_both(Link::Failover);
    run_single_active(&mut pair, secs(3)).unwrap();
    assert!(!pair.unit(S).unwrap().node().is_suspended(), "failover did not resume");
    expect_placement(&pair, "after the link recovered", Some(P), Some(S)).unwrap();
    no_transitions(&pair, "a move abandoned at suspension").unwrap();
}

/// manual: a unit that declared its peer failed (its hellos and LAN test
/// replies were lost) and then gets a role request from it knows the peer is
/// alive: it yields the group and does not take it straight back as if
/// nobody were there.
#[test]
fn manual_move_asked_by_a_peer_declared_failed_is_not_taken_back() {
    use fover_protocol::wire::Kind;
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.cut_both(Link::Data(IF0));
    pair.cut_both(Link::Data(IF1));
    pair.drop_kind(Link::Failover, S, Kind::UnitHello);
    pair.drop_kind(Link::Failover, S, Kind::LanTestReply);
    for _ in 0..400 {
        pair.run_for(ms(5));
        if pair.unit(P).unwrap().peer().failed() {
            break;
        }
    }
    assert!(pair.unit(P).unwrap().peer().failed(), "the primary did not declare the secondary failed");
    pair.pass_kind(Link::Failover, S, Kind::LanTestReply);
    pair.clear_events();
    assert_eq!(pair.command(S, Command::FailoverActive(Some(G1))), Ok(String::new()));
    pair.run_for(secs(2));
    let t = transitions(&pair, P, G1);
    assert!(
        !t.iter().any(|(from, to, _)| *from == GroupState::StandbyReady && *to == GroupState::JustActive),
        "the primary took group 1 back after yielding it: {t:?}"
    );
    assert_eq!(pair.active_units(G1), vec![S], "group 1 did not move to the secondary");
}
