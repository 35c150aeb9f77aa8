//! Stateful failover on a running pair (PROTOCOL.md section 8): the tables
//! of each context, the bulk sync a joining standby receives, incremental
//! updates, what is never replicated, the table-full policy, preempt waiting
//! for the bulk sync, and which connections survive a failover.

mod common;

use common::*;
use core::time::Duration;
use fover_protocol::config::settings::{StateLink, UnitConfig};
use fover_protocol::connections::{Entry, LocalObject, ObjectType, TrafficError, TrafficOp};
use fover_protocol::constants::STATE_HOSTS_PER_CONTEXT_MAX;
use fover_protocol::testing::Pair;
use fover_protocol::types::{GroupState, Role};
use fover_protocol::unit::{Event, Link};
use fover_protocol::wire::{ConnProtocol, Kind, StateObject};

fn shared(c: &mut UnitConfig) {
    c.state_link = StateLink::SharedWithFailover;
}

fn separate(c: &mut UnitConfig) {
    c.state_link = StateLink::Separate;
}

fn conn(context: &str, id: u64, protocol: ConnProtocol, state: u8) -> StateObject {
    StateObject::Connection { context: context.into(), id, protocol, state }
}

fn open(pair: &mut Pair, role: Role, object: StateObject) {
    pair.traffic(role, TrafficOp::Open(object)).unwrap();
}

/// Every replicated entry `role` keeps in `context`.
fn replicated(pair: &Pair, role: Role, context: &str) -> Vec<StateObject> {
    pair.unit(role)
        .unwrap()
        .state_plane()
        .entries(context)
        .into_iter()
        .filter_map(|e| match e {
            Entry::Replicated(o) => Some(o),
            Entry::Local(_) => None,
        })
        .collect()
}

/// One object of every replicated type but connections, in `context`.
fn others(context: &str, n: u32) -> Vec<StateObject> {
    let c = || context.to_owned();
    vec![
        StateObject::Xlate { context: c(), id: u64::from(n), real: 0x0a01_0100 + n, mapped: 0xc000_0200 + n },
        StateObject::Arp { context: c(), ip: 0x0a01_0100 + n, mac: [2, 0, 0, 0, 0, n as u8] },
        StateObject::Bridge { context: c(), mac: [2, 0, 0, 0, 1, n as u8], interface: "if0".into() },
        StateObject::Sa { context: c(), spi: 0x1000 + n, peer: 0xc633_6400 + n },
        StateObject::GtpPdp { context: c(), teid: 0x2000 + n, imsi: 310_150_000_000_000 + u64::from(n) },
    ]
}

/// The secondary boots alone (active for both groups) with a state link.
fn secondary_alone(tweak: impl Fn(&mut UnitConfig)) -> Pair {
    let (p, s) = configs(2, None, tweak);
    let mut pair = Pair::with_primary_only(p, s);
    // `with_primary_only` powers the secondary off; here it is the other way round.
    pair.power_on(S);
    pair.power_off(P);
    pair.run_for(secs(2));
    expect_placement(&pair, "the secondary alone", Some(S), Some(S)).unwrap();
    pair
}

/// bulk sync: a standby that joins receives every replicated object of the
/// active unit's contexts (more than one feed of the outbox), then
/// incremental updates.
#[test]
fn bulk_sync_joining_standby_receives_every_object() {
    let mut pair = secondary_alone(shared);
    for id in 0..600 {
        open(&mut pair, S, tcp("admin", id));
    }
    for id in 0..40 {
        open(&mut pair, S, conn("ctx2", id, ConnProtocol::Udp, 1));
    }
    for o in others("admin", 1).into_iter().chain(others("ctx2", 2)) {
        open(&mut pair, S, o);
    }
    // Nothing is replicated while the mate is away.
    assert_eq!(pair.unit(S).unwrap().state_plane().counters(ObjectType::TcpConn).xmit, 0);
    pair.power_on(P);
    run_single_active(&mut pair, secs(5)).unwrap();
    expect_placement(&pair, "5 s after the primary joined", Some(S), Some(S)).unwrap();
    for ctx in ["admin", "ctx2"] {
        assert_eq!(replicated(&pair, P, ctx), replicated(&pair, S, ctx), "context {ctx}");
    }
    assert_eq!(connection_ids(&pair, P, "admin").len(), 600);
    let (p, s) = (pair.unit(P).unwrap(), pair.unit(S).unwrap());
    assert!(p.state_plane().bulk_sync_received(), "the primary has the whole bulk sync");
    assert!(!s.state_plane().bulk_sync_sending());
    assert_eq!(s.state_plane().counters(ObjectType::TcpConn).xmit, 600);
    assert_eq!(p.state_plane().counters(ObjectType::TcpConn).rcv, 600);
    assert_eq!(p.state_plane().counters(ObjectType::UdpConn).rcv, 40);
    for t in [ObjectType::Xlate, ObjectType::Arp, ObjectType::Bridge, ObjectType::Sa, ObjectType::GtpPdp] {
        assert_eq!(p.state_plane().counters(t).rcv, 2, "{t:?}");
        assert_eq!(p.state_plane().counters(t).rerr, 0, "{t:?}");
    }
    // Then incremental updates.
    open(&mut pair, S, tcp("admin", 1_000));
    pair.run_for(ms(50));
    assert!(connection_ids(&pair, P, "admin").contains(&1_000));
}

/// incremental updates: add, update and remove travel to the standby, once
/// each, and the counters show them on both units.
#[test]
fn incremental_add_update_remove_reach_the_standby() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    open(&mut pair, P, conn("admin", 5, ConnProtocol::Tcp, 1));
    pair.run_for(ms(20));
    assert_eq!(pair.unit(S).unwrap().state_plane().connections("admin"), vec![conn("admin", 5, ConnProtocol::Tcp, 1)]);
    pair.traffic(P, TrafficOp::Update(conn("admin", 5, ConnProtocol::Tcp, 4))).unwrap();
    pair.run_for(ms(20));
    assert_eq!(pair.unit(S).unwrap().state_plane().connections("admin"), vec![conn("admin", 5, ConnProtocol::Tcp, 4)]);
    pair.traffic(P, TrafficOp::Close(tcp("admin", 5))).unwrap();
    pair.run_for(ms(20));
    assert!(pair.unit(S).unwrap().state_plane().connections("admin").is_empty());
    // Group 2's active unit (the secondary) replicates ctx2 the other way.
    open(&mut pair, S, conn("ctx2", 9, ConnProtocol::Udp, 1));
    pair.run_for(ms(20));
    assert_eq!(connection_ids(&pair, P, "ctx2"), vec![9]);
    let (p, s) = (pair.unit(P).unwrap(), pair.unit(S).unwrap());
    let (pt, st) = (p.state_plane().counters(ObjectType::TcpConn), s.state_plane().counters(ObjectType::TcpConn));
    assert_eq!((pt.xmit, pt.xerr, st.rcv, st.rerr), (3, 0, 3, 0));
    assert_eq!(s.state_plane().counters(ObjectType::UdpConn).xmit, 1);
    assert_eq!(p.state_plane().counters(ObjectType::UdpConn).rcv, 1);
    // Traffic goes through the active unit only.
    assert_eq!(
        pair.traffic(S, TrafficOp::Open(tcp("admin", 6))),
        Err(TrafficError::NotActive { context: "admin".into() })
    );
    assert!(matches!(pair.traffic(P, TrafficOp::Open(tcp("nosuch", 1))), Err(TrafficError::UnknownContext(_))));
    assert!(matches!(pair.traffic(P, TrafficOp::Close(tcp("admin", 77))), Err(TrafficError::NoSuchEntry { .. })));
}

/// show failover: the stateful table counts the real updates (TCP conn
/// includes HTTP; UDP conn, ARP tbl, Xlate_Timeout, VPN IPSEC upd).
#[test]
fn show_failover_prints_the_stateful_counters() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    for id in 0..3 {
        open(&mut pair, P, tcp("admin", id));
    }
    open(&mut pair, P, conn("admin", 9, ConnProtocol::Udp, 1));
    pair.run_for(ms(50));
    let now = pair.local_now(P);
    let text = pair.unit(P).unwrap().show(now, "show failover").unwrap();
    let row = |name: &str| {
        text.lines().find(|l| l.trim_start().starts_with(name)).map(|l| l.split_whitespace().collect::<Vec<_>>())
    };
    assert_eq!(row("TCP conn").unwrap()[2..], ["3", "0", "0", "0"], "{text}");
    assert_eq!(row("UDP conn").unwrap()[2..], ["1", "0", "0", "0"], "{text}");
    let now = pair.local_now(S);
    let text = pair.unit(S).unwrap().show(now, "show failover").unwrap();
    let row = |name: &str| {
        text.lines().find(|l| l.trim_start().starts_with(name)).map(|l| l.split_whitespace().collect::<Vec<_>>())
    };
    assert_eq!(row("TCP conn").unwrap()[2..], ["0", "0", "3", "0"], "{text}");
}

/// HTTP: without `replication http` an HTTP connection stays on the active
/// unit and is lost at a failover; with it, it is replicated and survives.
#[test]
fn http_replicated_only_with_replication_http() {
    for replication_http in [false, true] {
        let mut pair = settled(2, None, |c| {
            shared(c);
            c.groups[0].replication_http = replication_http;
        })
        .unwrap();
        pair.run_for(secs(1));
        open(&mut pair, P, conn("admin", 80, ConnProtocol::Http, 4));
        open(&mut pair, P, tcp("admin", 22));
        pair.run_for(ms(50));
        let want: Vec<u64> = if replication_http { vec![22, 80] } else { vec![22] };
        assert_eq!(connection_ids(&pair, S, "admin"), want, "replication http {replication_http}");
        pair.power_off(P);
        run_single_active(&mut pair, secs(2)).unwrap();
        expect_placement(&pair, "after the primary failed", Some(S), Some(S)).unwrap();
        assert_eq!(connection_ids(&pair, S, "admin"), want, "after the failover, replication http {replication_http}");
        let http = pair.unit(P.peer()).unwrap().state_plane().counters(ObjectType::HttpConn);
        assert_eq!(http.rcv, u64::from(replication_http));
    }
}

/// never replicated: uauth entries and routes stay on the unit that made
/// them; after a failover the new active unit has none of them, while TCP
/// connections survive.
#[test]
fn uauth_and_routes_are_never_replicated() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    let uauth = LocalObject::Uauth { context: "admin".into(), ip: 0x0a01_0164, user: "alice".into() };
    let route = LocalObject::Route { context: "admin".into(), prefix: 0xc0a8_0000, len: 16, next_hop: 0x0a01_0101 };
    pair.traffic(P, TrafficOp::OpenLocal(uauth.clone())).unwrap();
    pair.traffic(P, TrafficOp::OpenLocal(route.clone())).unwrap();
    open(&mut pair, P, tcp("admin", 1));
    pair.run_for(ms(50));
    let entries = pair.unit(P).unwrap().state_plane().entries("admin");
    assert!(entries.contains(&Entry::Local(uauth)) && entries.contains(&Entry::Local(route)));
    assert_eq!(pair.unit(S).unwrap().state_plane().entries("admin"), vec![Entry::Replicated(tcp("admin", 1))]);
    for t in [ObjectType::Uauth, ObjectType::Route] {
        assert!(!t.is_replicated());
        assert_eq!(pair.unit(P).unwrap().state_plane().counters(t).xmit, 0);
    }
    pair.power_off(P);
    run_single_active(&mut pair, secs(2)).unwrap();
    assert_eq!(pair.unit(S).unwrap().state_plane().entries("admin"), vec![Entry::Replicated(tcp("admin", 1))]);
}

/// table full: a new entry in a full table is refused and counted; entries
/// already there still update and close; the standby holds the same entries.
#[test]
fn table_full_refuses_new_entries_and_counts_them() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    let arp = |n: usize, last: u8| StateObject::Arp {
        context: "admin".into(),
        ip: 0x0a00_0000 + n as u32,
        mac: [2, 0, 0, 0, 0, last],
    };
    for n in 0..STATE_HOSTS_PER_CONTEXT_MAX {
        open(&mut pair, P, arp(n, 1));
    }
    let refused = pair.traffic(P, TrafficOp::Open(arp(STATE_HOSTS_PER_CONTEXT_MAX, 1)));
    assert_eq!(
        refused,
        Err(TrafficError::TableFull {
            context: "admin".into(),
            table: "ARP tbl",
            capacity: STATE_HOSTS_PER_CONTEXT_MAX
        })
    );
    // Re-opening an existing entry (a refresh) and updating it still work; so does another context.
    open(&mut pair, P, arp(0, 2));
    pair.traffic(P, TrafficOp::Update(arp(1, 3))).unwrap();
    pair.traffic(S, TrafficOp::Open(StateObject::Arp { context: "ctx2".into(), ip: 1, mac: [0; 6] })).unwrap();
    let p = pair.unit(P).unwrap();
    assert_eq!(p.state_plane().counters(ObjectType::Arp).refused, 1);
    assert_eq!(p.state_plane().tables().len_of("admin", ObjectType::Arp), STATE_HOSTS_PER_CONTEXT_MAX);
    // Closing one makes room.
    pair.traffic(P, TrafficOp::Close(arp(5, 0))).unwrap();
    open(&mut pair, P, arp(STATE_HOSTS_PER_CONTEXT_MAX, 1));
    pair.run_for(ms(200));
    assert_eq!(replicated(&pair, P, "admin"), replicated(&pair, S, "admin"));
    assert_eq!(pair.unit(S).unwrap().state_plane().counters(ObjectType::Arp).rerr, 0);
}

/// preempt waits for the bulk sync: the preferred unit joins while the
/// separate state link is cut; it is Standby Ready (so it would take over a
/// failure) but does not preempt until the bulk sync has arrived.
#[test]
fn preempt_waits_for_the_bulk_sync() {
    let mut pair = secondary_alone(|c| {
        separate(c);
        c.groups[0].preempt_delay = Some(Duration::ZERO);
    });
    for id in 0..50 {
        open(&mut pair, S, tcp("admin", id));
    }
    pair.cut(Link::State, S);
    pair.power_on(P);
    run_single_active(&mut pair, secs(6)).unwrap();
    expect_placement(&pair, "6 s after the primary joined, state link cut", Some(S), Some(S)).unwrap();
    assert_eq!(pair.state(P, G1), Some(GroupState::StandbyReady));
    assert!(!pair.unit(P).unwrap().state_plane().bulk_sync_received());
    assert!(!became_active(&pair, P, G1), "the primary preempted before its bulk sync finished");
    pair.heal(Link::State, S);
    run_single_active(&mut pair, secs(6)).unwrap();
    assert!(pair.unit(P).unwrap().state_plane().bulk_sync_received());
    expect_placement(&pair, "after the bulk sync", Some(P), Some(S)).unwrap();
    let t = transitions(&pair, P, G1);
    assert!(t.iter().any(|(_, to, r)| *to == GroupState::JustActive && r == "Preempt"), "{t:?}");
    assert_eq!(connection_ids(&pair, P, "admin"), (0..50).collect::<Vec<_>>());
}

/// preempt waits, ordinary failover does not: while the bulk sync is
/// blocked, the active unit fails and the joining unit takes over at once.
#[test]
fn failover_does_not_wait_for_the_bulk_sync() {
    let mut pair = secondary_alone(|c| {
        separate(c);
        c.groups[0].preempt_delay = Some(Duration::ZERO);
    });
    open(&mut pair, S, tcp("admin", 1));
    pair.cut(Link::State, S);
    pair.power_on(P);
    run_single_active(&mut pair, secs(3)).unwrap();
    assert!(!pair.unit(P).unwrap().state_plane().bulk_sync_received());
    pair.power_off(S);
    run_single_active(&mut pair, secs(2)).unwrap();
    expect_placement(&pair, "after the secondary failed", Some(P), Some(P)).unwrap();
    // Its state never arrived: the connection is lost.
    assert!(connection_ids(&pair, P, "admin").is_empty());
}

/// failover with a state link: the connections survive on the new active unit.
#[test]
fn connections_survive_a_failover_with_a_state_link() {
    stateful_tcp_connections_survive_failover(None).unwrap();
}

/// failover without a state link: nothing is replicated, every connection
/// of the failed unit's groups is dropped; the survivor's own stay.
#[test]
fn connections_dropped_at_a_failover_without_a_state_link() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    for id in 1..=5 {
        open(&mut pair, P, tcp("admin", id));
    }
    open(&mut pair, S, tcp("ctx2", 42));
    pair.run_for(ms(200));
    assert!(connection_ids(&pair, S, "admin").is_empty());
    assert_eq!(pair.unit(P).unwrap().state_plane().counters(ObjectType::TcpConn).xmit, 0);
    pair.power_off(P);
    run_single_active(&mut pair, secs(2)).unwrap();
    expect_placement(&pair, "after the primary failed", Some(S), Some(S)).unwrap();
    assert!(connection_ids(&pair, S, "admin").is_empty());
    assert_eq!(connection_ids(&pair, S, "ctx2"), vec![42]);
}

/// state link down: the state goes stale, no failover; the connections
/// opened after the cut are lost at a failover, the earlier ones survive.
#[test]
fn stale_state_after_state_link_down_loses_later_connections() {
    let mut pair = settled(2, None, separate).unwrap();
    pair.run_for(secs(1));
    open(&mut pair, P, tcp("admin", 1));
    pair.run_for(ms(50));
    pair.cut_both(Link::State);
    open(&mut pair, P, tcp("admin", 2));
    run_single_active(&mut pair, secs(3)).unwrap();
    no_transitions(&pair, "state link down").unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![1]);
    pair.power_off(P);
    run_single_active(&mut pair, secs(2)).unwrap();
    expect_placement(&pair, "after the primary failed", Some(S), Some(S)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![1]);
}

/// reboot of the standby: the rebooted unit gets a new bulk sync (its
/// tables were empty), and the state frames travel on the state link.
#[test]
fn rebooted_standby_gets_a_new_bulk_sync_on_the_state_link() {
    let mut pair = settled(2, None, separate).unwrap();
    pair.run_for(secs(1));
    for id in 0..10 {
        open(&mut pair, P, tcp("admin", id));
    }
    pair.run_for(ms(50));
    pair.power_off(S);
    pair.run_for(secs(2));
    // State frames are dropped on the failover link: they must use the state link.
    pair.drop_kind(Link::Failover, P, Kind::StateUpdate);
    pair.power_on(S);
    run_single_active(&mut pair, secs(5)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), (0..10).collect::<Vec<_>>());
    assert!(pair.unit(S).unwrap().state_plane().bulk_sync_received());
    let begins = pair.events_of(S).filter(|e| matches!(e, Event::Syslog { id: 105_022, .. })).count();
    assert_eq!(begins, 0, "no bulk sync count mismatch");
}

/// split and heal: during a full split both units serve both groups; after
/// the heal the loser of the both-active rule gets a new bulk sync and ends
/// with the winner's tables (what it opened during the split is gone).
#[test]
fn heal_after_split_loser_gets_the_winners_tables() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    for id in 1..=3 {
        open(&mut pair, P, tcp("admin", id));
    }
    pair.run_for(ms(50));
    split(&mut pair).unwrap();
    open(&mut pair, P, tcp("admin", 4));
    open(&mut pair, S, tcp("admin", 100));
    heal(&mut pair);
    pair.run_for(secs(5));
    expect_placement(&pair, "after the heal", Some(P), Some(S)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![1, 2, 3, 4]);
    assert_eq!(connection_ids(&pair, P, "admin"), vec![1, 2, 3, 4]);
    assert!(pair.unit(S).unwrap().state_plane().bulk_sync_received());
}

/// one-way cut: the standby stops hearing the active unit (failover link
/// marked failed on its side only); the updates sent meanwhile arrive after
/// the heal, through the channel, and the standby still counts its bulk
/// sync as received (the active unit saw no split and sends no new one, so a
/// preempt waiting for one would wait for ever).
#[test]
fn one_way_cut_updates_arrive_after_the_heal() {
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    pair.cut(Link::Failover, P);
    open(&mut pair, P, tcp("admin", 1));
    run_single_active(&mut pair, secs(3)).unwrap();
    assert!(connection_ids(&pair, S, "admin").is_empty());
    assert!(pair.unit(S).unwrap().node().failover_link_failed() || pair.unit(S).unwrap().peer().failed());
    pair.heal(Link::Failover, P);
    run_single_active(&mut pair, secs(6)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![1]);
    assert!(pair.unit(S).unwrap().state_plane().bulk_sync_received());
    expect_placement(&pair, "after the heal", Some(P), Some(S)).unwrap();
}

/// `no failover` freezes the unit and its channel: what changes meanwhile is
/// not sent, and the mate gets a new bulk sync once failover runs again.
#[test]
fn frozen_unit_resyncs_its_mate_after_failover_is_enabled_again() {
    use fover_protocol::config::command::Command;
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    open(&mut pair, P, tcp("admin", 1));
    pair.run_for(ms(50));
    pair.command(P, Command::NoFailover).unwrap();
    open(&mut pair, P, tcp("admin", 2));
    pair.traffic(P, TrafficOp::Close(tcp("admin", 1))).unwrap();
    run_single_active(&mut pair, secs(2)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![1]);
    pair.command(P, Command::Failover).unwrap();
    run_single_active(&mut pair, secs(3)).unwrap();
    assert_eq!(connection_ids(&pair, S, "admin"), vec![2]);
    assert!(pair.unit(S).unwrap().state_plane().bulk_sync_received());
}

/// Property (always, after recovery): random schedules of faults and
/// commands (`common::property`), with traffic opening and closing TCP and
/// UDP connections through each context's active unit every 100 ms; after a
/// full recovery at the end and 8 s without faults, the standby of each context holds
/// exactly the active unit's replicated entries. Odd seeds use a separate
/// state link that the schedule may also cut; the unit invariants (table
/// bounds, bulk-sync bookkeeping) run after every input.
#[test]
fn property_replicated_state_converges_after_recovery() {
    use common::property::{Action, Schedule, apply};
    let mut converged = 0;
    let mut failovers_with_state = 0;
    // `STATEFUL_SEEDS=N` runs more schedules.
    let seeds: u64 = std::env::var("STATEFUL_SEEDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    for seed in 0..seeds {
        let schedule = Schedule::from_seed(seed);
        let link = if seed % 2 == 1 { StateLink::Separate } else { StateLink::SharedWithFailover };
        let (p, s) = configs(2, None, |c| c.state_link = link);
        let mut pair = Pair::with_seed(p, s, seed);
        let mut actions: Vec<(Duration, Action)> = schedule.actions.clone();
        if link == StateLink::Separate {
            actions.push((ms(1_000 + seed * 37 % 3_000), Action::Cut(Link::State, if seed % 4 == 1 { P } else { S })));
            actions.sort_by_key(|(at, _)| *at);
        }
        let mut rng = seed ^ 0x7374_6174;
        let mut next = || fover_protocol::rng::step(&mut rng);
        let mut next_id = 0u64;
        let mut i = 0;
        let mut t = Duration::ZERO;
        while t < schedule.end {
            t += ms(100);
            while i < actions.len() && actions[i].0 <= t {
                pair.run_until(actions[i].0);
                apply(&mut pair, &actions[i].1);
                i += 1;
            }
            pair.run_until(t);
            let (context, group) = if next() % 2 == 0 { ("admin", G1) } else { ("ctx2", G2) };
            let active = pair.active_units(group);
            let Some(&role) = active.get((next() % 2) as usize % active.len().max(1)) else { continue };
            let existing = connection_ids(&pair, role, context);
            if existing.len() > 3 && next() % 3 == 0 {
                let id = existing[(next() % existing.len() as u64) as usize];
                let object = pair
                    .unit(role)
                    .unwrap()
                    .state_plane()
                    .connections(context)
                    .into_iter()
                    .find(|o| matches!(o, StateObject::Connection { id: i, .. } if *i == id))
                    .unwrap();
                pair.traffic(role, TrafficOp::Close(object)).unwrap();
            } else {
                next_id += 1;
                let protocol = if next() % 4 == 0 { ConnProtocol::Udp } else { ConnProtocol::Tcp };
                pair.traffic(role, TrafficOp::Open(conn(context, next_id, protocol, 4))).unwrap();
            }
        }
        failovers_with_state +=
            pair.events().iter().any(
                |r| matches!(&r.event, Event::GroupTransition { reason, .. } if reason == "HELLO not heard from mate"),
            ) as u64;
        apply(&mut pair, &Action::Recover);
        pair.run_for(secs(8));
        for (context, group) in [("admin", G1), ("ctx2", G2)] {
            let active = pair.active_units(group);
            assert_eq!(active.len(), 1, "seed {seed}: group {group} active on {active:?}");
            let (a, b) = (active[0], active[0].peer());
            assert_eq!(
                replicated(&pair, b, context),
                replicated(&pair, a, context),
                "seed {seed}: context {context}: the standby ({b}) differs from the active unit ({a})"
            );
        }
        for role in [P, S] {
            if let Some(u) = pair.unit(role) {
                u.state_plane().tables().invariants();
            }
        }
        converged += 1;
    }
    println!("{converged} schedules converged; {failovers_with_state} had a failover");
    assert!(failovers_with_state >= 5, "only {failovers_with_state} schedules had a failover");
}

/// bulk sync at scale: 10,000 open connections reach a joining standby over
/// a lossless 1 ms link; the simulated time it takes is pinned (a change in
/// the channel's window or the feed shows up here).
#[test]
fn bulk_sync_of_ten_thousand_connections() {
    let mut pair = secondary_alone(shared);
    for id in 0..10_000 {
        open(&mut pair, S, tcp("admin", id));
    }
    pair.power_on(P);
    let start = pair.now();
    let mut took = None;
    for _ in 0..200 {
        pair.run_for(ms(10));
        if pair.unit(P).unwrap().state_plane().bulk_sync_received() {
            took = Some(pair.now() - start);
            break;
        }
    }
    let took = took.expect("the bulk sync did not finish in 2 s");
    assert_eq!(connection_ids(&pair, P, "admin").len(), 10_000);
    let per_s = 10_000.0 / took.as_secs_f64();
    println!("bulk sync of 10,000 connections: {took:?} of simulated time ({per_s:.0} connections/s)");
    assert!(took <= ms(500), "took {took:?}");
}

/// HTTP: turning `replication http` on sends the HTTP connections already
/// open to the standby (a new bulk sync), not only the later ones.
#[test]
fn http_replication_turned_on_sends_open_http_connections() {
    use fover_protocol::config::command::{Command, GroupOption};
    let mut pair = settled(2, None, shared).unwrap();
    pair.run_for(secs(1));
    open(&mut pair, P, conn("admin", 80, ConnProtocol::Http, 4));
    pair.run_for(ms(50));
    assert!(connection_ids(&pair, S, "admin").is_empty());
    pair.command(P, Command::GroupOption(G1, GroupOption::ReplicationHttp(true))).unwrap();
    open(&mut pair, P, conn("admin", 81, ConnProtocol::Http, 4));
    pair.run_for(ms(100));
    assert_eq!(connection_ids(&pair, S, "admin"), vec![80, 81]);
}

/// Incremental replication at scale: with 10,000 connections open (and bulk
/// synced), the active unit changes their state 20,000 times as fast as its
/// outbox takes them; the figure is how many updates per second of
/// simulated time reach the standby over a lossless 1 ms link, and every
/// update arrives (the standby ends with the active unit's tables).
#[test]
fn incremental_updates_at_ten_thousand_open_connections() {
    let mut pair = secondary_alone(shared);
    for id in 0..10_000 {
        open(&mut pair, S, tcp("admin", id));
    }
    pair.power_on(P);
    pair.run_for(secs(1));
    assert!(pair.unit(P).unwrap().state_plane().bulk_sync_received(), "the bulk sync is done");
    let mate = pair.unit(P).unwrap().node().boot_nonce();
    assert_eq!(pair.unit(S).unwrap().state_plane().replication_mark().caught_up_to, Some(mate));
    let start = pair.now();
    let (mut sent, total) = (0u64, 20_000u64);
    let mut took = None;
    for _ in 0..10_000 {
        // Offer updates while the outbox has room for them, a millisecond at a time.
        while sent < total && pair.unit(S).unwrap().state_plane().xmit_queue().0 < 4_096 {
            let id = sent * 7_919 % 10_000;
            let state = (sent % 9 + 2) as u8;
            pair.traffic(S, TrafficOp::Update(conn("admin", id, ConnProtocol::Tcp, state))).unwrap();
            sent += 1;
        }
        pair.run_for(ms(1));
        if sent == total && pair.unit(S).unwrap().state_plane().replication_mark().caught_up_to == Some(mate) {
            took = Some(pair.now() - start);
            break;
        }
    }
    let took = took.expect("the updates did not all reach the standby in 10 s");
    assert_eq!(replicated(&pair, P, "admin"), replicated(&pair, S, "admin"));
    let per_s = total as f64 / took.as_secs_f64();
    println!(
        "incremental replication at 10,000 open connections: {total} updates in {took:?} of simulated time \
         ({per_s:.0} updates/s)"
    );
    assert!(took <= secs(5), "took {took:?}");
}
