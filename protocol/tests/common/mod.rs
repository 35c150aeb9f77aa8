//! Scenarios shared by the `unit_*` test files.
//!
//! Each scenario takes the planted bug to run with (`None` in the named
//! tests) and returns `Err` with an explanation when the behaviour it checks
//! does not hold, so that `unit_planted.rs` can show that a planted bug makes
//! the same scenario fail.

#![allow(dead_code)]

use core::time::Duration;
use fover_protocol::config::command::{Command, GroupOption};
use fover_protocol::config::settings::{InterfacePolicy, UnitConfig};
use fover_protocol::planted::PlantedBug;
use fover_protocol::testing::Pair;
use fover_protocol::types::{Group, GroupState, InterfaceStatus, Role};
use fover_protocol::unit::{Event, IfaceId, Link, Reason};
use fover_protocol::wire::auth::Session;
use fover_protocol::wire::{GroupHealth, Kind, Message, UnitHello};

pub type Outcome = Result<(), String>;

/// `ensure!(condition, "explanation {}", args)`: fail the scenario.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

pub const P: Role = Role::Primary;
pub const S: Role = Role::Secondary;
pub const G1: Group = Group::One;
pub const G2: Group = Group::Two;
pub const IF0: IfaceId = IfaceId(0);
pub const IF1: IfaceId = IfaceId(1);
pub const IF2: IfaceId = IfaceId(2);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// The fast profile (unit 200/800 ms, interface 500 ms/5 s) with `interfaces`
/// data interfaces, `bug` planted in both units, and `tweak` applied to both.
pub fn configs(
    interfaces: usize,
    bug: Option<PlantedBug>,
    tweak: impl Fn(&mut UnitConfig),
) -> (UnitConfig, UnitConfig) {
    let (mut p, mut s) = Pair::configs(interfaces);
    for c in [&mut p, &mut s] {
        c.planted_bug = bug;
        tweak(c);
    }
    (p, s)
}

/// Both units booted together and settled: group 1 active on the primary,
/// group 2 on the secondary.
pub fn settled(interfaces: usize, bug: Option<PlantedBug>, tweak: impl Fn(&mut UnitConfig)) -> Result<Pair, String> {
    let (p, s) = configs(interfaces, bug, tweak);
    let mut pair = Pair::new(p, s);
    pair.run_for(secs(4));
    expect_placement(&pair, "after a simultaneous boot", Some(P), Some(S))?;
    pair.clear_events();
    Ok(pair)
}

/// Group 1 active only on `g1` (and Standby Ready on the other unit when
/// `g1` is some), group 2 likewise.
pub fn expect_placement(pair: &Pair, when: &str, g1: Option<Role>, g2: Option<Role>) -> Outcome {
    for (group, want) in [(G1, g1), (G2, g2)] {
        let active = pair.active_units(group);
        ensure!(
            active == want.into_iter().collect::<Vec<_>>(),
            "{when}: group {group} is active on {active:?}, expected {want:?} (states: primary {:?}, secondary {:?})",
            pair.state(P, group),
            pair.state(S, group)
        );
        if let Some(owner) = want {
            let other = owner.peer();
            if pair.is_powered(other) {
                let st = pair.state(other, group);
                ensure!(
                    st == Some(GroupState::StandbyReady),
                    "{when}: group {group} is {st:?} on the {other}, expected Standby Ready"
                );
            }
        }
    }
    Ok(())
}

/// Runs for `d`, checking after every step that no group is active on both units.
pub fn run_single_active(pair: &mut Pair, d: Duration) -> Outcome {
    let end = pair.now() + d;
    let limit = end.as_nanos() as u64;
    let mut steps = 0u64;
    while pair.step_until(limit) {
        steps += 1;
        ensure!(steps < 10_000_000, "step bound exceeded");
        for g in [G1, G2] {
            let active = pair.active_units(g);
            ensure!(active.len() <= 1, "group {g} active on both units at {:?}", pair.now());
        }
    }
    pair.run_until(end);
    Ok(())
}

/// Every transition of `group` on `role` recorded in the pair's log.
pub fn transitions(pair: &Pair, role: Role, group: Group) -> Vec<(GroupState, GroupState, String)> {
    pair.events_of(role)
        .filter_map(|e| match e {
            Event::GroupTransition { group: g, from, to, reason } if *g == group => Some((*from, *to, reason.clone())),
            _ => None,
        })
        .collect()
}

/// Whether `group` became active on `role` (any reason) in the log.
pub fn became_active(pair: &Pair, role: Role, group: Group) -> bool {
    transitions(pair, role, group).iter().any(|(_, to, _)| *to == GroupState::JustActive)
}

pub fn count_events(pair: &Pair, role: Role, pred: impl Fn(&Event) -> bool) -> usize {
    pair.events_of(role).filter(|e| pred(e)).count()
}

pub fn has_syslog(pair: &Pair, role: Role, id: u32, text: &str) -> bool {
    pair.events_of(role).any(|e| matches!(e, Event::Syslog { id: i, text: t } if *i == id && t.contains(text)))
}

pub fn no_transitions(pair: &Pair, when: &str) -> Outcome {
    for role in [P, S] {
        for g in [G1, G2] {
            let t = transitions(pair, role, g);
            ensure!(t.is_empty(), "{when}: group {g} changed state on the {role}: {t:?}");
        }
    }
    Ok(())
}

// ----- health (section 3) ---------------------------------------------------

/// health: three missed hellos answered by the LAN test (no failover).
pub fn three_missed_hellos_answered_by_lan_test(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |_| {})?;
    pair.drop_kind(Link::Failover, P, Kind::UnitHello);
    run_single_active(&mut pair, secs(3))?;
    let started = count_events(&pair, S, |e| *e == Event::LanTestStarted);
    let passed = count_events(&pair, S, |e| *e == Event::LanTestPassed);
    ensure!(started >= 2, "the secondary started {started} LAN tests in 3 s without hellos, expected several");
    ensure!(passed >= started.saturating_sub(1), "{passed} of {started} LAN tests passed");
    ensure!(count_events(&pair, S, |e| *e == Event::PeerDeclaredFailed) == 0, "the peer was declared failed");
    no_transitions(&pair, "hellos lost, LAN test answered")?;
    pair.pass_kind(Link::Failover, P, Kind::UnitHello);
    run_single_active(&mut pair, secs(2))?;
    expect_placement(&pair, "hellos back", Some(P), Some(S))
}

/// clock: a forward jump of 10x the holdtime on either unit (no failover).
pub fn clock_jump_forward_ten_holdtimes(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    for role in [S, P] {
        let hold = pair.config(role).unit_holdtime.as_millis() as i64;
        pair.step_clock(role, 10 * hold);
        run_single_active(&mut pair, secs(8))?;
        for r in [P, S] {
            let failed = count_events(&pair, r, |e| *e == Event::PeerDeclaredFailed);
            ensure!(failed == 0, "after a jump of the {role}'s clock the {r} declared its peer failed");
            for i in [IF0, IF1] {
                let st = pair.unit(r).map(|u| u.iface(i).status());
                ensure!(st == Some(InterfaceStatus::Normal), "after a jump of the {role}'s clock: {r} {i:?} is {st:?}");
            }
        }
        no_transitions(&pair, &format!("jump of the {role}'s clock"))?;
    }
    Ok(())
}

// ----- failure policy (section 7) -----------------------------------------

/// policy: unit power failure (standby becomes active, peer marked failed).
pub fn policy_unit_power_failure(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |_| {})?;
    pair.power_off(S);
    let hold = pair.config(P).unit_holdtime;
    run_single_active(&mut pair, hold - ms(50))?;
    ensure!(!pair.unit(P).is_some_and(|u| u.peer().failed()), "the peer was declared failed before the holdtime");
    ensure!(pair.state(P, G2) == Some(GroupState::StandbyReady), "group 2 moved before the holdtime");
    run_single_active(&mut pair, secs(1))?;
    ensure!(pair.unit(P).is_some_and(|u| u.peer().failed()), "the peer was not marked failed");
    ensure!(count_events(&pair, P, |e| *e == Event::LanTestStarted) >= 1, "no LAN test before the verdict");
    expect_placement(&pair, "after the secondary's power failure", Some(P), Some(P))?;
    let t = transitions(&pair, P, G2);
    ensure!(
        t.first() == Some(&(GroupState::StandbyReady, GroupState::JustActive, Reason::HelloNotHeard.to_string())),
        "group 2 on the primary: {t:?}"
    );
    ensure!(has_syslog(&pair, P, 104001, "Switching to ACTIVE - HELLO not heard from mate"), "no 104001");
    Ok(())
}

/// Silences `role`'s data port `iface` and runs until interface tests end.
pub fn silence(pair: &mut Pair, role: Role, iface: IfaceId) -> Outcome {
    pair.set_silent(role, iface, true);
    run_single_active(pair, secs(6))
}

/// policy: active group's interface failures reach the threshold (failover:
/// active marked Failed, standby becomes active).
pub fn policy_active_group_over_threshold(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    silence(&mut pair, P, IF0)?;
    let st = pair.unit(P).map(|u| u.iface(IF0).status());
    ensure!(st == Some(InterfaceStatus::Failed), "the primary's silent if0 is {st:?}");
    let st = pair.unit(S).map(|u| u.iface(IF0).status());
    ensure!(st == Some(InterfaceStatus::Normal), "the secondary's if0, which hears traffic, is {st:?}");
    ensure!(pair.state(P, G1) == Some(GroupState::Failed), "group 1 on the primary is {:?}", pair.state(P, G1));
    ensure!(pair.active_units(G1) == vec![S], "group 1 is active on {:?}", pair.active_units(G1));
    ensure!(pair.active_units(G2) == vec![S], "group 2 moved: {:?}", pair.active_units(G2));
    ensure!(has_syslog(&pair, P, 105008, "Testing Interface if0"), "no 105008");
    ensure!(has_syslog(&pair, P, 105009, "Testing on interface if0 Failed"), "no 105009");
    ensure!(has_syslog(&pair, P, 104003, "Switching to FAILED"), "no 104003");
    let t = transitions(&pair, P, G1);
    ensure!(t.iter().any(|(f, to, r)| f.is_active() && *to == GroupState::Failed && r == "Interface check"), "{t:?}");
    Ok(())
}

/// policy: standby group's interface failures reach the threshold (no
/// failover, standby marked Failed).
pub fn policy_standby_group_over_threshold(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    silence(&mut pair, S, IF0)?;
    ensure!(pair.state(S, G1) == Some(GroupState::Failed), "group 1 on the secondary is {:?}", pair.state(S, G1));
    ensure!(!became_active(&pair, S, G1), "group 1 failed over to the secondary");
    ensure!(transitions(&pair, P, G1).is_empty(), "group 1 changed on the primary: {:?}", transitions(&pair, P, G1));
    ensure!(pair.active_units(G1) == vec![P], "group 1 is active on {:?}", pair.active_units(G1));
    Ok(())
}

/// policy: formerly active group recovers (no failover without preempt).
pub fn policy_formerly_active_group_recovers(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    silence(&mut pair, P, IF0)?;
    ensure!(pair.state(P, G1) == Some(GroupState::Failed), "group 1 did not fail on the primary");
    pair.clear_events();
    pair.set_silent(P, IF0, false);
    run_single_active(&mut pair, secs(10))?;
    let t = transitions(&pair, P, G1);
    ensure!(
        t == vec![(GroupState::Failed, GroupState::StandbyReady, "Interface check".to_string())],
        "group 1 on the primary after recovery: {t:?}"
    );
    ensure!(has_syslog(&pair, P, 104004, "Switching to OK"), "no 104004");
    expect_placement(&pair, "after recovery", Some(S), Some(S))
}

/// policy: failover link down at startup (both units active for both groups).
pub fn policy_failover_link_down_at_startup(bug: Option<PlantedBug>) -> Outcome {
    let (p, s) = configs(1, bug, |_| {});
    let mut pair = Pair::new(p, s);
    pair.cut_both(Link::Failover);
    pair.run_for(secs(3));
    for role in [P, S] {
        for g in [G1, G2] {
            ensure!(
                pair.state(role, g) == Some(GroupState::Active),
                "group {g} on the {role}: {:?}",
                pair.state(role, g)
            );
        }
        let u = pair.unit(role).ok_or("powered")?;
        ensure!(u.node().failover_link_failed(), "the {role} did not mark the failover link failed");
        ensure!(
            has_syslog(&pair, role, 105005, "Lost Failover communications with mate on interface folink"),
            "no 105005"
        );
    }
    Ok(())
}

/// policy: state link down (no failover).
pub fn policy_state_link_down(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |c| c.state_link = fover_protocol::config::settings::StateLink::Separate)?;
    pair.cut_both(Link::State);
    run_single_active(&mut pair, secs(10))?;
    no_transitions(&pair, "state link down")?;
    ensure!(!pair.unit(P).is_some_and(|u| u.node().is_suspended()), "failover suspended");
    Ok(())
}

/// policy: failover link down during operation (no failover, link marked failed, suspended).
pub fn policy_failover_link_down_during_operation(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |_| {})?;
    pair.cut_both(Link::Failover);
    run_single_active(&mut pair, secs(5))?;
    for role in [P, S] {
        let u = pair.unit(role).ok_or("powered")?;
        ensure!(u.node().is_suspended(), "the {role} did not suspend failover");
        ensure!(!u.peer().failed(), "the {role} declared its peer failed");
        ensure!(pair.events_of(role).any(|e| *e == Event::FailoverLinkFailed), "no FailoverLinkFailed on the {role}");
        ensure!(pair.events_of(role).any(|e| *e == Event::FailoverSuspended), "no FailoverSuspended on the {role}");
        ensure!(has_syslog(&pair, role, 105005, "on interface folink"), "no 105005 on the {role}");
    }
    no_transitions(&pair, "failover link down")?;
    expect_placement(&pair, "failover link down", Some(P), Some(S))
}

/// policy: a peer failure never promotes a Failed group.
pub fn peer_failure_never_promotes_failed_group(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    silence(&mut pair, S, IF0)?;
    ensure!(pair.state(S, G1) == Some(GroupState::Failed), "group 1 did not fail on the secondary");
    pair.power_off(P);
    run_single_active(&mut pair, secs(3))?;
    ensure!(pair.unit(S).is_some_and(|u| u.peer().failed()), "the primary was not declared failed");
    ensure!(pair.state(S, G1) == Some(GroupState::Failed), "the Failed group 1 became {:?}", pair.state(S, G1));
    ensure!(!became_active(&pair, S, G1), "the Failed group 1 was promoted");
    Ok(())
}

// ----- suspended failover -------------------------------------------------

/// suspended: the peer is lost while failover is suspended (no takeover).
pub fn suspended_no_takeover(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |_| {})?;
    pair.cut_both(Link::Failover);
    run_single_active(&mut pair, secs(3))?;
    ensure!(pair.unit(S).is_some_and(|u| u.node().is_suspended()), "not suspended");
    pair.power_off(P);
    run_single_active(&mut pair, secs(5))?;
    ensure!(!became_active(&pair, S, G1), "group 1 failed over while failover was suspended");
    ensure!(pair.state(S, G1) == Some(GroupState::StandbyReady), "group 1 on the secondary: {:?}", pair.state(S, G1));
    Ok(())
}

// ----- heal (section 7, [fover]) -------------------------------------------

/// Splits the pair completely (failover link and data links cut): each unit
/// declares the other failed and takes its groups.
pub fn split(pair: &mut Pair) -> Outcome {
    pair.cut_both(Link::Failover);
    let ifaces = pair.config(P).interfaces.len();
    for i in 0..ifaces {
        pair.cut_both(Link::Data(IfaceId(i as u16)));
    }
    pair.run_for(secs(3));
    for g in [G1, G2] {
        ensure!(pair.active_units(g).len() == 2, "group {g} is not active on both units after the split");
    }
    Ok(())
}

pub fn heal(pair: &mut Pair) {
    pair.heal_all();
}

/// heal: both active, tie (the group's preferred unit keeps it; the other goes
/// standby through Cold Standby).
pub fn heal_both_active_tie_preferred_keeps(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    split(&mut pair)?;
    pair.clear_events();
    heal(&mut pair);
    pair.run_for(secs(2));
    expect_placement(&pair, "after the heal", Some(P), Some(S))?;
    let t = transitions(&pair, S, G1);
    let path: Vec<GroupState> = t.iter().map(|(_, to, _)| *to).collect();
    ensure!(
        path == vec![
            GroupState::ColdStandby,
            GroupState::SyncConfig,
            GroupState::SyncFileSystem,
            GroupState::BulkSync,
            GroupState::StandbyReady
        ],
        "the losing secondary's group 1 went {path:?}"
    );
    ensure!(t.iter().all(|(_, _, r)| r == "Detected an Active mate"), "reasons: {t:?}");
    ensure!(transitions(&pair, P, G1).is_empty(), "the winner's group 1 changed: {:?}", transitions(&pair, P, G1));
    Ok(())
}

/// heal: both active, the unit with fewer failed interfaces keeps the group
/// (even when it is not the preferred one).
pub fn heal_both_active_fewer_failed_keeps(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(2, bug, |_| {})?;
    split(&mut pair)?;
    // During the split the primary's group 1 interface fails; it has no peer
    // to fail over to, so group 1 stays active there.
    pair.set_silent(P, IF0, true);
    pair.run_for(secs(6));
    ensure!(pair.unit(P).map(|u| u.iface(IF0).status()) == Some(InterfaceStatus::Failed), "if0 did not fail");
    ensure!(pair.state(P, G1) == Some(GroupState::Active), "group 1 left the primary during the split");
    pair.clear_events();
    heal(&mut pair);
    pair.run_for(secs(2));
    ensure!(
        pair.active_units(G1) == vec![S],
        "group 1 is active on {:?}, expected the secondary",
        pair.active_units(G1)
    );
    ensure!(pair.active_units(G2) == vec![S], "group 2 is active on {:?}", pair.active_units(G2));
    let t = transitions(&pair, P, G1);
    ensure!(t.first().is_some_and(|(_, to, _)| *to == GroupState::ColdStandby), "primary group 1: {t:?}");
    Ok(())
}

// ----- preempt and manual moves ----------------------------------------

/// The secondary boots alone and takes both groups; the primary joins later.
pub fn late_primary(bug: Option<PlantedBug>, tweak: impl Fn(&mut UnitConfig)) -> Result<Pair, String> {
    let (p, s) = configs(1, bug, tweak);
    let mut pair = Pair::new(p, s);
    pair.power_off(P);
    pair.run_for(secs(2));
    expect_placement(&pair, "the secondary alone", Some(S), Some(S))?;
    pair.power_on(P);
    pair.clear_events();
    Ok(pair)
}

/// boot: peer already active (this unit's groups go standby and stay).
pub fn boot_peer_already_active(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = late_primary(bug, |_| {})?;
    run_single_active(&mut pair, secs(20))?;
    expect_placement(&pair, "20 s after the primary joined", Some(S), Some(S))?;
    ensure!(!became_active(&pair, P, G1), "group 1 moved to the primary");
    Ok(())
}

/// preempt: without delay (group 1 returns to the primary as soon as it is Standby Ready).
pub fn preempt_without_delay(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = late_primary(bug, |c| c.groups[0].preempt_delay = Some(Duration::ZERO))?;
    run_single_active(&mut pair, secs(1))?;
    expect_placement(&pair, "1 s after the primary joined", Some(P), Some(S))?;
    let t = transitions(&pair, P, G1);
    ensure!(t.iter().any(|(_, to, r)| *to == GroupState::JustActive && r == "Preempt"), "primary group 1: {t:?}");
    let t = transitions(&pair, S, G1);
    ensure!(
        t == vec![(GroupState::Active, GroupState::StandbyReady, "Other unit wants me Standby".to_string())],
        "secondary group 1: {t:?}"
    );
    Ok(())
}

/// preempt: with delay (the group moves `delay` after the preferred unit is available, not before).
pub fn preempt_with_delay(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = late_primary(bug, |c| c.groups[0].preempt_delay = Some(secs(3)))?;
    run_single_active(&mut pair, ms(2_500))?;
    expect_placement(&pair, "2.5 s after the primary joined (delay 3 s)", Some(S), Some(S))?;
    run_single_active(&mut pair, secs(1))?;
    expect_placement(&pair, "3.5 s after the primary joined (delay 3 s)", Some(P), Some(S))
}

/// preempt: never undoes a manual move.
pub fn preempt_never_undoes_manual_move(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |c| c.groups[0].preempt_delay = Some(Duration::ZERO))?;
    pair.command(S, Command::FailoverActive(Some(G1))).map_err(|e| e.to_string())?;
    run_single_active(&mut pair, secs(1))?;
    expect_placement(&pair, "after failover active group 1 on the secondary", Some(S), Some(S))?;
    run_single_active(&mut pair, secs(20))?;
    expect_placement(&pair, "20 s later, preempt on", Some(S), Some(S))
}

/// Settles the pair with `groups[0].preempt_delay` and `policy` and so on applied.
pub fn set_policy(pair: &mut Pair, group: Group, policy: InterfacePolicy) -> Outcome {
    for role in [P, S] {
        pair.command(role, Command::GroupOption(group, GroupOption::InterfacePolicy(policy)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A frame that fails its checksum is rejected and changes nothing.
pub fn rejected_frame_changes_nothing(bug: Option<PlantedBug>) -> Outcome {
    let mut pair = settled(1, bug, |_| {})?;
    // A hello in the primary's name (its boot) saying group 1 is Failed, with
    // its checksum broken.
    let boot = pair.unit(P).ok_or("powered")?.node().boot_nonce();
    let mut session = Session::new(P, boot, None);
    let health = |state| GroupHealth { state, monitored: 1, failed: 0 };
    let hello = UnitHello {
        failover_on: true,
        version: pair.config(P).version,
        groups: [health(GroupState::Failed), health(GroupState::StandbyReady)],
        interfaces: Vec::new(),
    };
    let mut bytes = session.seal(Message::UnitHello(hello));
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let before = pair.unit(S).ok_or("powered")?.state_digest();
    pair.inject(S, Link::Failover, &bytes);
    let after = pair.unit(S).ok_or("powered")?.state_digest();
    ensure!(
        pair.events_of(S).any(|e| matches!(e, Event::FrameRejected { .. })),
        "the corrupted frame was not rejected"
    );
    ensure!(before == after, "the rejected frame changed the secondary's state digest");
    pair.run_for(ms(100));
    ensure!(pair.state(S, G1) == Some(GroupState::StandbyReady), "group 1 on the secondary: {:?}", pair.state(S, G1));
    Ok(())
}

pub mod property;

// ----- stateful failover (section 8) ----------------------------------------

/// A TCP connection object in `context` (state byte: 4 is ESTABLISHED).
pub fn tcp(context: &str, id: u64) -> fover_protocol::wire::StateObject {
    fover_protocol::wire::StateObject::Connection {
        context: context.into(),
        id,
        protocol: fover_protocol::wire::ConnProtocol::Tcp,
        state: 4,
    }
}

/// The ids of the connections `role` knows in `context`.
pub fn connection_ids(pair: &Pair, role: Role, context: &str) -> Vec<u64> {
    pair.unit(role)
        .map(|u| u.state_plane().connections(context))
        .unwrap_or_default()
        .iter()
        .filter_map(|o| match o {
            fover_protocol::wire::StateObject::Connection { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// stateful: TCP connections survive a failover (state link shared with the
/// failover link; the primary, active for group 1, loses power; the
/// secondary serves the connections it had replicated).
pub fn stateful_tcp_connections_survive_failover(bug: Option<PlantedBug>) -> Outcome {
    use fover_protocol::connections::TrafficOp;
    let mut pair = settled(2, bug, |c| c.state_link = fover_protocol::config::settings::StateLink::SharedWithFailover)?;
    for id in 1..=20 {
        pair.traffic(P, TrafficOp::Open(tcp("admin", id))).map_err(|e| e.to_string())?;
    }
    pair.traffic(P, TrafficOp::Close(tcp("admin", 7))).map_err(|e| e.to_string())?;
    run_single_active(&mut pair, ms(200))?;
    let want: Vec<u64> = (1..=20).filter(|id| *id != 7).collect();
    ensure!(
        connection_ids(&pair, S, "admin") == want,
        "standby before the failover: {:?}",
        connection_ids(&pair, S, "admin")
    );
    pair.power_off(P);
    run_single_active(&mut pair, secs(2))?;
    expect_placement(&pair, "after the primary's power failure", Some(S), Some(S))?;
    let got = connection_ids(&pair, S, "admin");
    ensure!(got == want, "connections on the new active unit: {got:?}, expected {want:?}");
    // The new active unit serves them: it carries their traffic.
    pair.traffic(S, TrafficOp::Close(tcp("admin", 1)))
        .map_err(|e| format!("closing connection 1 on the new active unit: {e}"))?;
    Ok(())
}
