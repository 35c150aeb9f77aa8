//! Pairing checks during negotiation and activation keys on a running pair
//! (PROTOCOL.md section 9). The rules themselves are tested one by one in
//! `license.rs`; here, what a unit does with them.

mod common;

use common::*;
use fover_protocol::config::command::CommandError;
use fover_protocol::config::license::{Features, License, LicenseKind, generate_key};
use fover_protocol::config::settings::Device;
use fover_protocol::testing::Pair;
use fover_protocol::types::{GroupState, Role, SoftwareVersion};
use fover_protocol::unit::Event;

fn device(role: Role, f: impl Fn(&mut Device)) -> Option<Device> {
    let mut d = Device::default_for(role);
    f(&mut d);
    Some(d)
}

/// The secondary with its device changed by `f`, both booted together.
fn pair_with_secondary(f: impl Fn(&mut Device)) -> Pair {
    let (p, mut s) = configs(2, None, |_| {});
    s.device = device(Role::Secondary, f);
    let mut pair = Pair::new(p, s);
    pair.run_for(secs(4));
    pair
}

fn refusal(pair: &Pair, role: Role) -> Option<String> {
    pair.unit(role).and_then(|u| u.node().pairing_refusal().map(str::to_owned))
}

fn standalone_everywhere(pair: &Pair) {
    for role in [P, S] {
        let u = pair.unit(role).unwrap();
        assert!(!u.node().failover_enabled(), "{role}: failover still on");
        for g in [G1, G2] {
            assert!(u.group(g).state().is_active(), "{role}: group {g} is {}", u.group(g).state());
        }
    }
}

#[test]
fn different_models_refuse_to_pair_and_each_unit_runs_standalone() {
    let pair = pair_with_secondary(|d| d.model = "ASA5540".into());
    let why = refusal(&pair, S).expect("the secondary refused");
    assert!(why.contains("different chassis"), "{why}");
    assert!(refusal(&pair, P).is_some_and(|w| w.contains("ASA5540")));
    assert!(has_syslog(
        &pair,
        S,
        105046,
        "(Secondary) Mate has a different chassis: mate is ASA5520, this unit is ASA5540"
    ));
    assert_eq!(count_events(&pair, P, |e| matches!(e, Event::PairingRefused { .. })), 1);
    standalone_everywhere(&pair);
}

#[test]
fn different_ram_is_refused_with_its_reason() {
    let pair = pair_with_secondary(|d| d.ram_mb = 1024);
    assert!(refusal(&pair, P).is_some_and(|w| w.contains("RAM")));
    standalone_everywhere(&pair);
}

#[test]
fn patch_versions_may_differ_but_minor_versions_may_not() {
    let (p, mut s) = configs(2, None, |_| {});
    s.version = SoftwareVersion { major: 7, minor: 2, patch: 5 };
    let mut pair = Pair::new(p.clone(), s.clone());
    pair.run_for(secs(4));
    assert_eq!(refusal(&pair, P), None);
    expect_placement(&pair, "7.2(4) with 7.2(5)", Some(P), Some(S)).unwrap();

    s.version = SoftwareVersion { major: 7, minor: 3, patch: 4 };
    let mut pair = Pair::new(p, s);
    pair.run_for(secs(4));
    assert!(refusal(&pair, S).is_some_and(|w| w.contains("version")));
    standalone_everywhere(&pair);
}

#[test]
fn licenses_ur_with_fo_aa_pair_and_two_fo_aa_do_not() {
    let fo_aa =
        License { kind: LicenseKind::FailoverOnlyActiveActive, features: Features { contexts: 20, vpn_peers: 750 } };
    let pair = pair_with_secondary(|d| d.factory_license = fo_aa);
    assert_eq!(refusal(&pair, S), None);
    expect_placement(&pair, "UR with FO_AA", Some(P), Some(S)).unwrap();

    let (mut p, mut s) = configs(2, None, |_| {});
    p.device = device(Role::Primary, |d| d.factory_license = fo_aa);
    s.device = device(Role::Secondary, |d| d.factory_license = fo_aa);
    let mut pair = Pair::new(p, s);
    pair.run_for(secs(4));
    assert!(refusal(&pair, P).is_some_and(|w| w.contains("FO_AA")), "{:?}", refusal(&pair, P));
    standalone_everywhere(&pair);
}

#[test]
fn activation_key_of_another_unit_is_refused_and_changes_nothing() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    let other = Device::default_for(Role::Primary);
    let key = generate_key(&other.serial, &other.factory_license);
    let before = pair.unit(S).unwrap().node().license();
    let err = pair.cli(S, "system", &format!("activation-key {key}")).unwrap_err();
    assert!(matches!(&err, CommandError::Refused(m) if m.contains("serial")), "{err:?}");
    assert_eq!(pair.unit(S).unwrap().node().license(), before);
    assert!(
        matches!(pair.cli(S, "system", "activation-key 0x1 0x2"), Err(CommandError::Refused(m)) if m.contains("four"))
    );
}

/// ROMMON ERASE loses the key: the unit boots Restricted and the pair runs
/// standalone; the key entered again and a reload bring the pair back.
#[test]
fn erase_loses_the_key_and_reentering_it_pairs_again_after_a_reload() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.power_off(S);
    pair.erase_flash(S);
    pair.power_on(S);
    pair.run_for(secs(3));
    assert_eq!(pair.unit(S).unwrap().node().license(), License::BASE);
    assert!(refusal(&pair, S).is_some_and(|w| w.contains("Restricted")));
    standalone_everywhere(&pair);

    let d = Device::default_for(Role::Secondary);
    let key = generate_key(&d.serial, &d.factory_license);
    let out = pair.cli(S, "system", &format!("activation-key {key}")).unwrap();
    assert!(out.contains("Unrestricted") || out.contains("UR"), "{out}");
    assert_eq!(pair.flash(S).activation_key(), Some(key));
    pair.power_off(S);
    pair.run_for(secs(1));
    pair.power_on(S);
    pair.run_for(secs(4));
    assert_eq!(refusal(&pair, P), None);
    assert_eq!(refusal(&pair, S), None);
    assert!(pair.unit(P).unwrap().node().failover_enabled() && pair.unit(S).unwrap().node().failover_enabled());
    // The primary kept both groups while standalone; the reloaded secondary joins it.
    for g in [G1, G2] {
        assert_eq!(pair.active_units(g), vec![P]);
        assert_eq!(pair.state(S, g), Some(GroupState::StandbyReady));
    }
}

/// A unit that refused its mate runs standalone; a group it had Failed stays
/// Failed (interfaces are not monitored while standalone), and `failover
/// reset` brings it back active, not to a Standby Ready with nobody to be
/// standby for (the sweep found the latter breaking the standalone invariant).
#[test]
fn failover_reset_on_a_standalone_unit_makes_a_failed_group_active() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.set_interface_link(P, IF0, false);
    pair.run_for(secs(2));
    assert_eq!(pair.state(P, G1), Some(GroupState::Failed));
    pair.power_off(S);
    pair.erase_flash(S);
    pair.power_on(S);
    pair.run_for(secs(3));
    assert!(refusal(&pair, P).is_some_and(|w| w.contains("Restricted")));
    assert_eq!(pair.state(P, G1), Some(GroupState::Failed));
    pair.set_interface_link(P, IF0, true);
    pair.run_for(secs(1));
    assert_eq!(pair.state(P, G1), Some(GroupState::Failed), "no monitoring while standalone");
    pair.command(P, fover_protocol::config::command::Command::FailoverReset(None)).unwrap();
    pair.run_for(secs(1));
    assert_eq!(pair.state(P, G1), Some(GroupState::Active));
    assert_eq!(pair.state(P, G2), Some(GroupState::Active));
}
