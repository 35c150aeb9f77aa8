//! Frames that arrive late, twice, or from an earlier boot of the peer
//! (the simulator's fabric reorders, duplicates and delays).

mod common;

use common::*;
use fover_protocol::config::command::Command;
use fover_protocol::types::GroupState;
use fover_protocol::unit::Link;
use fover_protocol::wire::auth::Session;
use fover_protocol::wire::{Control, GroupHealth, Message, RoleRequestKind, UnitHello};

fn hello_saying(pair: &fover_protocol::testing::Pair, g1: GroupState, g2: GroupState) -> Message {
    let health = |state| GroupHealth { state, monitored: 1, failed: 0 };
    Message::UnitHello(UnitHello {
        failover_on: true,
        version: pair.config(P).version,
        groups: [health(g1), health(g2)],
        interfaces: Vec::new(),
    })
}

/// frames: a hello older than the last one taken in (reordered) is ignored.
#[test]
fn frames_late_hello_is_ignored() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    let boot = pair.unit(P).unwrap().node().boot_nonce();
    // Sequence number 1 of the primary's boot: long superseded.
    let bytes = Session::new(P, boot, None).seal(hello_saying(&pair, GroupState::Failed, GroupState::Failed));
    pair.inject(S, Link::Failover, &bytes);
    assert_eq!(pair.unit(S).unwrap().peer().group_state(G1), Some(GroupState::Active));
    pair.run_for(secs(1));
    no_transitions(&pair, "a late hello").unwrap();
}

/// frames: a duplicate role request is ignored (a finished move is not replayed).
#[test]
fn frames_duplicate_role_request_is_ignored() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.command(S, Command::FailoverActive(Some(G1))).unwrap();
    pair.run_for(secs(1));
    pair.command(P, Command::FailoverActive(Some(G1))).unwrap();
    pair.run_for(secs(1));
    expect_placement(&pair, "moved there and back", Some(P), Some(S)).unwrap();
    let boot = pair.unit(S).unwrap().node().boot_nonce();
    let request = Message::Control {
        channel_seq: 1,
        body: Control::RoleRequest { group: G1, request: RoleRequestKind::WantMeActive },
    };
    let bytes = Session::new(S, boot, None).seal(request);
    pair.inject(P, Link::Failover, &bytes);
    pair.run_for(secs(1));
    expect_placement(&pair, "after a duplicate of the first request", Some(P), Some(S)).unwrap();
}

/// frames: a hello from an earlier boot of the peer, delayed, is not taken for a reboot.
#[test]
fn frames_hello_from_earlier_boot_is_ignored() {
    let mut pair = settled(1, None, |_| {}).unwrap();
    let old_boot = pair.unit(S).unwrap().node().boot_nonce();
    pair.power_off(S);
    pair.run_for(ms(100));
    pair.power_on(S);
    pair.run_for(secs(2));
    let new_boot = pair.unit(S).unwrap().node().boot_nonce();
    assert_eq!(pair.unit(P).unwrap().peer().boot_nonce(), Some(new_boot));
    pair.clear_events();
    let mut old = Session::new(S, old_boot, None);
    for _ in 0..1_000 {
        let _ = old.seal(Message::LanTest(fover_protocol::wire::LanTest { nonce: 0 }));
    }
    let bytes = old.seal(hello_saying(&pair, GroupState::Negotiation, GroupState::Negotiation));
    pair.inject(P, Link::Failover, &bytes);
    assert_eq!(pair.unit(P).unwrap().peer().boot_nonce(), Some(new_boot));
    pair.run_for(secs(1));
    no_transitions(&pair, "a hello from an earlier boot").unwrap();
}

/// frames: the holder's answer to a move (WantYouActive) arrives before the
/// hello it sent with it (reordered, or lost): the taker's last hello from the
/// holder still shows it active. That view is superseded by the answer; the
/// taker keeps the group instead of losing it at once to the both-active rule.
#[test]
fn frames_hello_older_than_a_handover_does_not_flap_the_taker() {
    use fover_protocol::config::settings::InterfacePolicy;
    use fover_protocol::wire::Kind;
    let mut pair = settled(4, None, |c| c.groups[0].interface_policy = InterfacePolicy::Count(2)).unwrap();
    // One failed interface of group 1 on the secondary (below the policy):
    // the both-active rule would give the group back to the primary.
    pair.set_interface_link(S, IF0, false);
    pair.run_for(secs(1));
    pair.clear_events();
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    pair.command(S, Command::FailoverActive(Some(G1))).unwrap();
    pair.run_for(ms(100));
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    run_single_active(&mut pair, secs(2)).unwrap();
    let t = transitions(&pair, S, G1);
    assert!(
        !t.iter().any(|(_, to, _)| *to == GroupState::ColdStandby),
        "the secondary gave group 1 up right after taking it: {t:?}"
    );
    expect_placement(&pair, "after failover active group 1", Some(S), Some(S)).unwrap();
}

/// An unkeyed frame from `sender`'s boot `boot` with sequence number `seq`.
fn frame_with_seq(sender: fover_protocol::types::Role, boot: u64, seq: u64, message: Message) -> Vec<u8> {
    use fover_protocol::wire::{Frame, encode};
    let mut bytes = encode(&Frame { sender, flags: 0, seq, boot_nonce: boot, message });
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes
}

/// frames: a hello overtaken by a role request the peer sent after it is not
/// taken in, but it still shows the peer alive on the failover link: a unit
/// that had marked the link failed resumes failover. Ignoring it whole left
/// the unit suspended for as long as the peer resent its request after each
/// hello and each request overtook its hello (sweep seed 359675).
#[test]
fn frames_hello_overtaken_by_role_request_still_recovers_the_failover_link() {
    use fover_protocol::unit::Event;
    let mut pair = settled(1, None, |_| {}).unwrap();
    pair.cut_both(Link::Failover);
    pair.run_for(secs(4));
    assert!(pair.unit(S).unwrap().node().is_suspended(), "the secondary did not mark the failover link failed");
    pair.clear_events();
    let boot = pair.unit(P).unwrap().node().boot_nonce();
    // Far above every number the primary used on the failover link: the
    // request (sent second) arrives first, then the hello sent before it.
    let seq = 1 << 40;
    let request = Message::Control {
        channel_seq: 1 << 30,
        body: Control::RoleRequest { group: G2, request: RoleRequestKind::WantVacant },
    };
    pair.inject(S, Link::Failover, &frame_with_seq(P, boot, seq + 1, request));
    assert!(pair.unit(S).unwrap().node().is_suspended(), "a role request alone recovered the failover link");
    pair.inject(
        S,
        Link::Failover,
        &frame_with_seq(P, boot, seq, hello_saying(&pair, GroupState::Failed, GroupState::Failed)),
    );
    let s = pair.unit(S).unwrap();
    assert!(!s.node().is_suspended(), "the overtaken hello did not show the failover link working");
    assert!(pair.events_of(S).any(|e| *e == Event::FailoverLinkRecovered));
    // Its states are superseded: not taken in.
    assert_ne!(s.peer().group_state(G1), Some(GroupState::Failed), "the overtaken hello's states were taken in");
    assert_eq!(pair.active_units(G1), vec![P]);
    assert_eq!(pair.active_units(G2), vec![S]);
}
