//! [fover] Both active after a heal (PROTOCOL.md section 7).

mod common;

use common::*;
use fover_protocol::config::command::Command;
use fover_protocol::config::settings::{InterfacePolicy, UnitConfig};
use fover_protocol::testing::Pair;
use fover_protocol::types::GroupState;
use fover_protocol::unit::Link;
use fover_protocol::wire::Kind;

/// heal: both active, same number of failed interfaces (the preferred unit keeps the group; the other goes standby through Cold Standby).
#[test]
fn heal_both_active_tie_preferred_unit_keeps_group() {
    heal_both_active_tie_preferred_keeps(None).unwrap();
}

/// heal: both active, the unit with fewer failed interfaces keeps the group (even if not preferred).
#[test]
fn heal_both_active_fewer_failed_interfaces_keeps_group() {
    heal_both_active_fewer_failed_keeps(None).unwrap();
}

/// heal: the failover link alone heals (data links still cut): resolved as well.
#[test]
fn heal_failover_link_only_resolves_both_active() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    split(&mut pair).unwrap();
    pair.heal_both(Link::Failover);
    pair.run_for(secs(1));
    expect_placement(&pair, "after the failover link healed", Some(P), Some(S)).unwrap();
}

/// Group 2 (preferred: secondary, preempt 1 s, policy 2 of its 2 monitored
/// interfaces) sits on the secondary with its placement pinned there. A full
/// split: the primary takes group 2 (peer declared failed), and the
/// secondary's if1 loses its link meanwhile. At the heal the secondary has
/// more failed interfaces in group 2 and loses the both-active rule (an
/// automatic change of placement); its link comes back, and preempt must
/// bring group 2 home: the pin of the earlier placement no longer applies.
fn heal_loser_preempts_back(mut pair: Pair) -> Outcome {
    split(&mut pair)?;
    pair.set_interface_link(S, IF1, false);
    pair.run_for(secs(1));
    ensure!(pair.state(S, G2) == Some(GroupState::Active), "the secondary's group 2 left Active during the split");
    pair.clear_events();
    heal(&mut pair);
    pair.run_for(ms(500));
    let t = transitions(&pair, S, G2);
    ensure!(
        t.first().is_some_and(|(_, to, r)| *to == GroupState::ColdStandby && r == "Detected an Active mate"),
        "the secondary did not lose group 2 at the heal: {t:?}"
    );
    expect_placement(&pair, "after the heal", Some(P), Some(P))?;
    pair.set_interface_link(S, IF1, true);
    run_single_active(&mut pair, ms(500))?;
    expect_placement(&pair, "0.5 s after the secondary recovered (delay 1 s)", Some(P), Some(P))?;
    run_single_active(&mut pair, secs(3))?;
    expect_placement(&pair, "3.5 s after the secondary recovered (delay 1 s)", Some(P), Some(S))?;
    let t = transitions(&pair, S, G2);
    ensure!(t.iter().any(|(_, to, r)| *to == GroupState::JustActive && r == "Preempt"), "secondary group 2: {t:?}");
    Ok(())
}

fn group2_preempt_policy_two(c: &mut UnitConfig) {
    c.groups[1].preempt_delay = Some(secs(1));
    c.groups[1].interface_policy = InterfacePolicy::Count(2);
}

/// heal: the loser of the both-active rule is no longer held by a manual
/// move (`failover active group 2` on the secondary before the split): the
/// placement changed automatically, so preempt moves the group back.
#[test]
fn heal_loser_of_both_active_rule_preempts_back_after_a_manual_move() {
    let mut pair = settled(4, None, group2_preempt_policy_two).unwrap();
    pair.command(S, Command::FailoverActive(Some(G2))).unwrap();
    pair.run_for(secs(1));
    expect_placement(&pair, "after failover active group 2 on the secondary", Some(P), Some(S)).unwrap();
    heal_loser_preempts_back(pair).unwrap();
}

/// heal: the same after a simultaneous boot whose first primary hello was
/// lost: the primary hands group 2 over unasked, and its hello showing the
/// group Standby Ready comes after the hand-over, so the secondary takes it
/// as `no failover active` on the primary (sweep seeds 40507 and 56294 left
/// group 2 on the primary for good).
#[test]
fn heal_loser_of_both_active_rule_preempts_back_after_a_boot_hand_over() {
    let (p, s) = configs(4, None, group2_preempt_policy_two);
    let mut pair = Pair::new(p, s);
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    pair.run_for(ms(150));
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    // The secondary joined the active primary; the primary yields group 2 a
    // polltime later. Its hellos are lost meanwhile (fewer than three).
    for _ in 0..1_000 {
        if pair.state(S, G2) == Some(GroupState::StandbyReady) {
            break;
        }
        pair.run_for(ms(1));
    }
    assert_eq!(pair.state(S, G2), Some(GroupState::StandbyReady));
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    for _ in 0..400 {
        if pair.state(S, G2) == Some(GroupState::Active) {
            break;
        }
        pair.run_for(ms(1));
    }
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    pair.run_for(secs(3));
    expect_placement(&pair, "after the boot", Some(P), Some(S)).unwrap();
    let t = transitions(&pair, S, G2);
    assert!(t.iter().any(|(_, to, r)| *to == GroupState::JustActive && r == "Other unit wants me Active"), "{t:?}");
    heal_loser_preempts_back(pair).unwrap();
}
