//! Unit and interface health monitoring (PROTOCOL.md section 3), clocks and
//! frame rejection.

mod common;

use common::*;
use fover_protocol::types::{GroupState, InterfaceStatus};
use fover_protocol::unit::{Event, Link};
use fover_protocol::wire::Kind;

/// health: three missed hellos answered by the LAN test (no failover).
#[test]
fn health_three_missed_hellos_answered_by_lan_test_no_failover() {
    three_missed_hellos_answered_by_lan_test(None).unwrap();
}

/// clock: forward jump of 10x the holdtime (no failover, no interface failed).
#[test]
fn clock_jump_forward_ten_holdtimes_no_failover() {
    clock_jump_forward_ten_holdtimes(None).unwrap();
}

/// clock: forward jump in the middle of a LAN test's reply window (the verdict still gets a full window).
#[test]
fn clock_jump_forward_during_lan_test_window_no_failover() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    // A slow network: a LAN test's reply takes 100 ms to come back.
    pair.set_latency(ms(50));
    pair.run_for(secs(1));
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    // Wait until the secondary runs a LAN test, then jump its clock.
    for _ in 0..400 {
        pair.run_for(ms(5));
        if pair.unit(S).unwrap().node().lan_test_running() {
            break;
        }
    }
    assert!(pair.unit(S).unwrap().node().lan_test_running(), "no LAN test started");
    pair.step_clock(S, 10_000);
    run_single_active(&mut pair, secs(3)).unwrap();
    assert_eq!(count_events(&pair, S, |e| *e == Event::PeerDeclaredFailed), 0, "peer declared failed after a jump");
    no_transitions(&pair, "jump during a LAN test").unwrap();
}

/// clock: steps backwards (deadlines are rebased: hellos keep flowing, no failover).
#[test]
fn clock_step_backward_timers_keep_running_no_failover() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    for role in [S, P] {
        let sent = pair.unit(role).unwrap().node().statistics().hellos_sent;
        pair.step_clock(role, -60_000);
        run_single_active(&mut pair, secs(2)).unwrap();
        let now_sent = pair.unit(role).unwrap().node().statistics().hellos_sent;
        assert!(now_sent >= sent + 9, "the {role} sent {} hellos in 2 s after its clock stepped back", now_sent - sent);
        assert!(pair.unit(role.peer()).unwrap().peer().group_state(G1).is_some(), "the peer's view went stale");
    }
    no_transitions(&pair, "clock stepped back").unwrap();
}

/// clock: drift of ±5 % on each unit (no failover).
#[test]
fn clock_drift_no_failover() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.set_drift_ppm(P, 50_000);
    pair.set_drift_ppm(S, -50_000);
    run_single_active(&mut pair, secs(30)).unwrap();
    no_transitions(&pair, "drifting clocks").unwrap();
}

/// auth: a frame that fails its checksum is rejected and changes no state (digest unchanged).
#[test]
fn auth_rejected_frame_changes_no_state() {
    rejected_frame_changes_nothing(None).unwrap();
}

/// auth: a frame sealed with another key is rejected and changes no state.
#[test]
fn auth_frame_with_wrong_key_rejected_no_state_change() {
    use fover_protocol::wire::auth::{FailoverKey, Session};
    use fover_protocol::wire::{LanTest, Message};
    let key = FailoverKey::secret("right").unwrap();
    let mut pair = settled(1, None, |c| c.failover_key = Some(key.clone())).unwrap();
    let boot = pair.unit(P).unwrap().node().boot_nonce();
    let mut forger = Session::new(P, boot, Some(&FailoverKey::secret("wrong").unwrap()));
    let bytes = forger.seal(Message::LanTest(LanTest { nonce: 1 }));
    let before = pair.unit(S).unwrap().state_digest();
    pair.inject(S, Link::Failover, &bytes);
    assert_eq!(before, pair.unit(S).unwrap().state_digest());
    assert!(pair.events_of(S).any(|e| matches!(e, Event::FrameRejected { .. })));
}

/// interface: other hosts' datagrams on a data interface are network activity, not rejected frames.
#[test]
fn interface_background_traffic_is_network_activity_not_rejected() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.run_for(secs(2));
    assert!(pair.unit(S).unwrap().node().statistics().network_datagrams > 0);
    assert_eq!(count_events(&pair, S, |e| matches!(e, Event::FrameRejected { .. })), 0);
}

/// interface: a silent port tests (105008), fails (105009) on the silent side only.
#[test]
fn interface_silent_port_fails_on_silent_side_only() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.set_silent(S, IF0, true);
    run_single_active(&mut pair, secs(6)).unwrap();
    let seen: Vec<_> = pair
        .events_of(S)
        .filter_map(|e| match e {
            Event::InterfaceStatusChanged { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(seen, vec![InterfaceStatus::Testing, InterfaceStatus::Failed]);
    assert!(has_syslog(&pair, S, 105008, "Testing Interface if0"));
    assert!(has_syslog(&pair, S, 105009, "Testing on interface if0 Failed"));
    assert_eq!(pair.unit(P).unwrap().iface(IF0).status(), InterfaceStatus::Normal);
    assert_eq!(pair.unit(P).unwrap().iface(IF0).peer_status(), Some(InterfaceStatus::Failed));
    pair.set_silent(S, IF0, false);
    pair.run_for(secs(1));
    assert_eq!(pair.unit(S).unwrap().iface(IF0).status(), InterfaceStatus::Normal);
}

/// interface: failed on both units is Unknown and not counted (no failover, no group Failed).
#[test]
fn interface_failed_on_both_units_unknown_not_counted() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.set_silent(S, IF0, true);
    pair.set_silent(P, IF0, true);
    run_single_active(&mut pair, secs(8)).unwrap();
    for role in [P, S] {
        assert_eq!(pair.unit(role).unwrap().iface(IF0).status(), InterfaceStatus::Unknown, "{role}");
        assert_eq!(pair.unit(role).unwrap().group(G1).failed_interfaces(), (0, 1), "{role}");
    }
    no_transitions(&pair, "interface dead on both units").unwrap();
}

/// interface: link down is a failure at once (411002, group fails over in the same instant).
#[test]
fn interface_link_down_is_a_failure_at_once() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.set_interface_link(P, IF0, false);
    assert_eq!(pair.unit(P).unwrap().iface(IF0).status(), InterfaceStatus::LinkDown);
    assert_eq!(pair.state(P, G1), Some(GroupState::Failed));
    assert!(has_syslog(&pair, P, 411002, "Line protocol on Interface if0, changed state to down"));
    pair.run_for(ms(10));
    assert_eq!(pair.active_units(G1), vec![S]);
    pair.set_interface_link(P, IF0, true);
    assert!(has_syslog(&pair, P, 411001, "changed state to up"));
    pair.run_for(ms(10));
    assert_eq!(pair.state(P, G1), Some(GroupState::StandbyReady));
}

/// interface: Waiting until the peer is heard on it (not tested, so a unit alone never fails it).
#[test]
fn interface_waiting_until_peer_heard_not_tested() {
    let (p, s) = configs(1, None, |_| {});
    let mut pair = fover_protocol::testing::Pair::with_primary_only(p, s);
    pair.set_silent(P, IF0, true);
    pair.run_for(secs(10));
    let u = pair.unit(P).unwrap();
    assert!(u.iface(IF0).waiting());
    assert_eq!(u.iface(IF0).status(), InterfaceStatus::Normal);
}

/// health: a LAN test whose probes were lost, while the peer's own frames reach
/// this unit on a data interface before the verdict: the peer is alive, so the
/// failover link is marked failed; the peer is not declared failed and its
/// groups are not taken (a one-way data path is still a path).
#[test]
fn health_peer_heard_on_data_link_during_lan_test_is_alive() {
    let mut pair = settled(2, None, |c| c.unit_holdtime = secs(2)).unwrap();
    pair.cut_both(Link::Failover);
    pair.cut_both(Link::Data(IF0));
    pair.cut_both(Link::Data(IF1));
    // Wait until the secondary's LAN test has gone out (and been lost).
    for _ in 0..400 {
        pair.run_for(ms(5));
        if pair.unit(S).unwrap().node().lan_test_running() {
            break;
        }
    }
    assert!(pair.unit(S).unwrap().node().lan_test_running(), "no LAN test started");
    // The primary's frames reach the secondary again on the data links; the
    // secondary's frames (and so its LAN test and any reply) still do not.
    pair.heal(Link::Data(IF0), P);
    pair.heal(Link::Data(IF1), P);
    pair.run_for(secs(3));
    let s = pair.unit(S).unwrap();
    assert_eq!(
        count_events(&pair, S, |e| *e == Event::PeerDeclaredFailed),
        0,
        "the secondary declared the primary failed"
    );
    assert!(s.node().is_suspended(), "the secondary did not mark the failover link failed");
    assert_eq!(pair.active_units(G1), vec![P], "group 1 was taken from a live primary");
}

/// health: a peer declared failed keeps being tested: three polltimes with no
/// hello bring a LAN test, as for a live peer, and a reply on the failover
/// link withdraws the verdict. A group that recovers later is then not taken
/// from a peer that is alive (its hellos are merely lost).
#[test]
fn health_peer_declared_failed_is_tested_again_and_found_alive() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    // Group 2 Failed on the secondary: the primary takes it.
    pair.set_interface_link(S, IF1, false);
    pair.run_for(secs(1));
    assert_eq!(pair.active_units(G2), vec![P]);
    // Hellos and LAN test replies lost both ways, data links cut: each unit
    // declares the other failed.
    for role in [P, S] {
        pair.drop_kind(Link::Failover, role, Kind::UnitHello);
        pair.drop_kind(Link::Failover, role, Kind::LanTestReply);
    }
    pair.cut_both(Link::Data(IF0));
    pair.cut_both(Link::Data(IF1));
    pair.run_for(secs(2));
    assert!(pair.unit(S).unwrap().peer().failed() && pair.unit(P).unwrap().peer().failed());
    // LAN test replies pass again; hellos are still lost.
    for role in [P, S] {
        pair.pass_kind(Link::Failover, role, Kind::LanTestReply);
    }
    pair.run_for(secs(3));
    for role in [P, S] {
        assert!(!pair.unit(role).unwrap().peer().failed(), "the {role} still holds its live peer failed");
    }
    // Group 2 recovers on the secondary: the primary, alive, keeps it.
    pair.clear_events();
    pair.set_interface_link(S, IF1, true);
    pair.run_for(secs(2));
    assert_eq!(pair.state(S, G2), Some(GroupState::StandbyReady));
    assert_eq!(pair.active_units(G2), vec![P], "group 2 was taken from a live primary");
}
