//! Boot rules (PROTOCOL.md section 5).

mod common;

use common::*;
use fover_protocol::testing::Pair;
use fover_protocol::types::GroupState;
use fover_protocol::unit::{Event, Link, Reason};
use fover_protocol::wire::Kind;

/// boot: peer not heard within the holdtime while negotiating (both groups active here).
#[test]
fn boot_peer_not_heard_within_holdtime_both_groups_active_here() {
    let (p, s) = configs(1, None, |_| {});
    let hold = p.unit_holdtime;
    let mut pair = Pair::with_primary_only(p, s);
    pair.run_for(hold - ms(10));
    assert_eq!(pair.state(P, G1), Some(GroupState::Negotiation), "before the holdtime");
    assert_eq!(pair.state(P, G2), Some(GroupState::Negotiation), "before the holdtime");
    pair.run_for(ms(20));
    expect_placement(&pair, "after the holdtime", Some(P), Some(P)).unwrap();
    let history = pair.unit(P).unwrap().group(G2).history();
    assert_eq!(history[1].from, GroupState::Negotiation);
    assert_eq!(history[1].to, GroupState::JustActive);
    assert_eq!(history[1].reason, Reason::NoActiveUnitFound);
    assert_eq!(history.last().unwrap().to, GroupState::Active);
}

/// boot: peer already active (this unit's groups go standby and stay, whatever their preference).
#[test]
fn boot_peer_already_active_groups_go_standby_and_stay() {
    boot_peer_already_active(None).unwrap();
}

/// boot: simultaneous (the primary is config authority; each group ends on its preferred unit).
#[test]
fn boot_simultaneous_each_group_active_on_its_preferred_unit() {
    let (p, s) = configs(1, None, |_| {});
    let mut pair = Pair::new(p, s);
    run_single_active(&mut pair, secs(3)).unwrap();
    expect_placement(&pair, "after a simultaneous boot", Some(P), Some(S)).unwrap();
    // The primary took both groups first; the secondary synchronised, then took group 2.
    let path: Vec<GroupState> = transitions(&pair, S, G2).iter().map(|(_, to, _)| *to).collect();
    assert_eq!(
        path[..6],
        [
            GroupState::Negotiation,
            GroupState::ColdStandby,
            GroupState::SyncConfig,
            GroupState::SyncFileSystem,
            GroupState::BulkSync,
            GroupState::StandbyReady,
        ]
    );
    assert_eq!(path[6], GroupState::JustActive);
    assert!(became_active(&pair, P, G2), "the primary, config authority, was active for group 2 first");
}

/// boot: simultaneous, with the secondary's role requests lost: its boot
/// claim never arrives, and the primary hands group 2 over by itself a
/// polltime after the secondary is Standby Ready (still ends on preferred units).
#[test]
fn boot_simultaneous_with_lost_role_requests_ends_on_preferred_units() {
    let (p, s) = configs(1, None, |_| {});
    let mut pair = Pair::new(p, s);
    pair.drop_kind(Link::Failover, S, Kind::RoleRequest);
    run_single_active(&mut pair, secs(2)).unwrap();
    expect_placement(&pair, "role requests lost", Some(P), Some(S)).unwrap();
    let yielded = transitions(&pair, P, G2).iter().any(|(from, to, r)| {
        *from == GroupState::Active && *to == GroupState::StandbyReady && r == Reason::FailoverStateCheck.as_str()
    });
    assert!(yielded, "the primary yielded: {:?}", transitions(&pair, P, G2));
    pair.pass_kind(Link::Failover, S, Kind::RoleRequest);
    run_single_active(&mut pair, secs(1)).unwrap();
    expect_placement(&pair, "role requests pass again", Some(P), Some(S)).unwrap();
}

/// boot: simultaneous, with the primary's only hello sent while negotiating
/// lost: the secondary takes it for a peer already active and never claims
/// group 2, which the primary hands over by itself.
#[test]
fn boot_simultaneous_first_hello_lost_still_ends_on_preferred_units() {
    let (p, s) = configs(1, None, |_| {});
    let mut pair = Pair::new(p, s);
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    pair.run_for(ms(150));
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    run_single_active(&mut pair, secs(3)).unwrap();
    expect_placement(&pair, "the first hello lost", Some(P), Some(S)).unwrap();
}

/// boot: failover disabled (standalone: all groups active, no failover traffic).
#[test]
fn boot_failover_disabled_standalone_all_groups_active() {
    let (p, s) = configs(1, None, |_| {});
    let s = fover_protocol::UnitConfig { failover_enabled: false, ..s };
    let mut pair = Pair::new(p, s);
    let u = pair.unit(S).unwrap();
    assert!(!u.node().failover_enabled());
    assert_eq!(u.poll_timeout(), None, "a standalone unit has no timers");
    pair.run_for(secs(3));
    assert_eq!(pair.state(S, G1), Some(GroupState::Active));
    assert_eq!(pair.state(S, G2), Some(GroupState::Active));
    assert_eq!(pair.unit(S).unwrap().node().statistics().hellos_sent, 0);
    // The primary hears nothing and runs both groups too.
    assert_eq!(pair.state(P, G1), Some(GroupState::Active));
    assert_eq!(pair.state(P, G2), Some(GroupState::Active));
    let t = transitions(&pair, S, G1);
    assert!(t.is_empty() || t.iter().all(|(_, _, r)| r == "Failover disabled"), "{t:?}");
}

/// boot: the peer reboots while active (its standby takes over at once; the rebooted unit joins as standby).
#[test]
fn boot_peer_reboots_while_active_standby_takes_over() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.power_off(S);
    pair.run_for(ms(100));
    pair.power_on(S);
    run_single_active(&mut pair, secs(2)).unwrap();
    expect_placement(&pair, "after the secondary's reboot", Some(P), Some(P)).unwrap();
    assert!(!pair.events_of(P).any(|e| *e == Event::PeerDeclaredFailed), "declared failed, not seen rebooting");
    let t = transitions(&pair, P, G2);
    assert!(t.iter().any(|(_, to, r)| *to == GroupState::JustActive && r == "Other unit got reloaded"), "{t:?}");
}

/// boot: a unit whose view of a rebooted peer is one latency old (it still
/// shows the peer negotiating) asks for a group as vacant; the peer, active
/// for it meanwhile, keeps it: the group is not vacant, and moving it would
/// be a failover without a cause.
#[test]
fn boot_vacant_claim_on_a_stale_view_does_not_move_an_active_group() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    // Group 1 Failed on the secondary, then the primary power-cycles.
    pair.set_interface_link(S, IF0, false);
    pair.run_for(secs(1));
    assert_eq!(pair.state(S, G1), Some(GroupState::Failed));
    pair.power_off(P);
    pair.run_for(secs(2));
    pair.set_latency(ms(150));
    pair.power_on(P);
    // Wait until the primary took group 1 (its peer's group is Failed) while
    // the secondary still sees it negotiating; then group 1 recovers there.
    let mut seen = false;
    for _ in 0..2_000 {
        pair.run_for(ms(1));
        let active = pair.state(P, G1).is_some_and(|s| s.is_active());
        if active && pair.unit(S).unwrap().peer().group_state(G1) == Some(GroupState::Negotiation) {
            seen = true;
            break;
        }
    }
    assert!(seen, "no moment with the primary active and the secondary's view stale");
    pair.clear_events();
    pair.set_interface_link(S, IF0, true);
    run_single_active(&mut pair, secs(3)).unwrap();
    let t = transitions(&pair, P, G1);
    assert!(t.is_empty(), "group 1 left the primary: {t:?}");
    assert_eq!(pair.active_units(G1), vec![P]);
}

/// The boot placement belongs to the boot: when the secondary's group 2
/// fails right after a simultaneous boot it missed, the primary keeps the
/// group for good; it does not hand it over when the interface comes back
/// long after (only preempt moves a group then).
#[test]
fn boot_simultaneous_first_hello_lost_then_secondary_group_failed_keeps_it_on_the_primary() {
    let (p, s) = configs(2, None, |_| {});
    let mut pair = Pair::new(p, s);
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    pair.run_for(ms(150));
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    pair.run_for(ms(300));
    pair.set_interface_link(S, IF1, false);
    pair.run_for(secs(10));
    assert_eq!(pair.state(S, G2), Some(GroupState::Failed));
    pair.set_interface_link(S, IF1, true);
    run_single_active(&mut pair, secs(5)).unwrap();
    expect_placement(&pair, "the boot is long over", Some(P), Some(P)).unwrap();
}
