//! Configuration sync, command replication, file commands and the heal
//! discard on a running pair (PROTOCOL.md section 6).

mod common;

use common::*;
use fover_protocol::config::command::CommandError;
use fover_protocol::config::replication::SyncDirection;
use fover_protocol::testing::Pair;
use fover_protocol::types::{Role, Space};
use fover_protocol::unit::{Event, Link, SYSLOG_HEAL_DISCARD};
use fover_protocol::wire::Kind;

/// The running config of `role`'s space as text.
fn text(pair: &Pair, role: Role, space: &str) -> String {
    let space = if space == "system" { Space::System } else { Space::Context(space.into()) };
    pair.unit(role).and_then(|u| u.config_plane().running().render(&space)).unwrap_or_default()
}

fn in_sync(pair: &Pair) -> bool {
    let (p, s) = (pair.unit(P).unwrap(), pair.unit(S).unwrap());
    p.config_plane().running().eq_ignoring_bootstrap(s.config_plane().running())
}

fn syslogs(pair: &Pair, role: Role, id: u32) -> usize {
    count_events(pair, role, |e| matches!(e, Event::Syslog { id: i, .. } if *i == id))
}

fn received(pair: &Pair, role: Role) -> usize {
    count_events(pair, role, |e| matches!(e, Event::ReplicatedCommandReceived { .. }))
}

/// Two interfaces (admin and ctx2); the secondary boots alone and takes both groups.
fn secondary_alone() -> Pair {
    let (p, s) = configs(2, None, |_| {});
    let mut pair = Pair::new(p, s);
    pair.power_off(P);
    pair.run_for(secs(2));
    expect_placement(&pair, "the secondary alone", Some(S), Some(S)).unwrap();
    pair
}

const ACL: &str = "access-list outside_in extended permit tcp any host 10.1.1.10 eq 443";

/// sync at boot: a unit that joins an active peer clears its config and
/// receives the peer's, with the four replication syslogs.
#[test]
fn sync_at_boot_joining_unit_receives_the_active_peers_config() {
    let mut pair = secondary_alone();
    // Configuration entered on the secondary while it is alone (and active for both groups).
    assert_eq!(pair.cli(S, "system", "hostname fw-pair"), Ok(String::new()));
    assert_eq!(pair.cli(S, "admin", ACL), Ok(String::new()));
    assert_eq!(pair.cli(S, "ctx2", "access-list ctx2_in extended permit ip any any"), Ok(String::new()));
    pair.clear_events();
    pair.power_on(P);
    run_single_active(&mut pair, secs(5)).unwrap();
    assert!(in_sync(&pair), "primary:\n{}\nsecondary:\n{}", text(&pair, P, "system"), text(&pair, S, "system"));
    assert!(text(&pair, P, "system").contains("hostname fw-pair"));
    assert!(text(&pair, P, "admin").contains(ACL));
    assert!(has_syslog(&pair, S, 709003, "(Secondary) Beginning configuration replication: Sending to mate."));
    assert!(has_syslog(&pair, S, 709004, "(Secondary) End Configuration Replication to mate."));
    assert!(has_syslog(&pair, P, 709005, "(Primary) Beginning configuration replication: Receiving from mate."));
    assert!(has_syslog(&pair, P, 709006, "(Primary) End Configuration Replication from mate."));
    // The bootstrap lines stay the joining unit's own.
    assert!(text(&pair, P, "system").contains("failover lan unit primary"));
    assert!(text(&pair, S, "system").contains("failover lan unit secondary"));
    // The received config is in running memory only.
    assert!(pair.flash(P).startup(&Space::System).is_none());
}

/// sync at boot, simultaneous boot: the secondary receives from the primary
/// (the primary takes group 1 and is the authority).
#[test]
fn sync_at_simultaneous_boot_secondary_receives_from_primary() {
    let (p, s) = configs(2, None, |_| {});
    let mut pair = Pair::new(p, s);
    pair.power_off(P);
    pair.run_for(secs(2));
    // The secondary saved a config of its own in an earlier life.
    pair.cli(S, "system", "hostname secondary-only").unwrap();
    assert_eq!(pair.cli(S, "system", "write memory all"), Ok("[OK]".into()));
    pair.power_off(S);
    pair.run_for(secs(1));
    pair.clear_events();
    pair.power_on(P);
    pair.power_on(S);
    assert!(text(&pair, S, "system").contains("hostname secondary-only"), "the secondary boots its startup config");
    pair.run_for(secs(5));
    expect_placement(&pair, "after the simultaneous boot", Some(P), Some(S)).unwrap();
    assert!(in_sync(&pair));
    assert!(text(&pair, S, "system").contains("hostname fover"));
    assert_eq!(syslogs(&pair, S, 709005), 1, "the secondary received one full sync");
    assert_eq!(syslogs(&pair, P, 709005), 0, "the primary received none");
}

/// replication from the authoritative unit: system space and admin context
/// from group 1's active unit, a user context from its group's active unit.
#[test]
fn commands_replicate_from_the_authoritative_unit() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    assert_eq!(pair.cli(P, "system", "hostname edge"), Ok(String::new()));
    assert_eq!(pair.cli(P, "admin", ACL), Ok(String::new()));
    assert_eq!(pair.cli(S, "ctx2", "access-list ctx2_in extended permit ip any any"), Ok(String::new()));
    pair.run_for(secs(1));
    assert!(in_sync(&pair));
    assert!(text(&pair, S, "system").contains("hostname edge"));
    assert!(text(&pair, S, "admin").contains(ACL));
    assert!(text(&pair, P, "ctx2").contains("access-list ctx2_in extended permit ip any any"));
    assert_eq!(received(&pair, S), 2);
    assert_eq!(received(&pair, P), 1);
    assert!(!pair.unit(P).unwrap().config_plane().out_of_sync() && !pair.unit(S).unwrap().config_plane().out_of_sync());
}

/// A command on the wrong unit: applied there only, warned, out of sync;
/// the authority's `write standby` for that context repairs it.
#[test]
fn command_on_the_wrong_unit_is_local_warned_and_write_standby_repairs_it() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    // ctx2 is in group 2, active on the secondary: the primary is the wrong unit.
    let out = pair.cli(P, "ctx2", "access-list stray extended permit ip any any").unwrap();
    assert!(out.starts_with("WARNING: This unit is not active for the failover group of context ctx2."), "{out}");
    pair.run_for(secs(1));
    assert!(text(&pair, P, "ctx2").contains("access-list stray"));
    assert!(!text(&pair, S, "ctx2").contains("access-list stray"), "it must not reach the peer");
    assert_eq!(received(&pair, S), 0);
    assert!(pair.unit(P).unwrap().config_plane().out_of_sync());
    assert!(!in_sync(&pair));
    // `write standby` on the wrong unit is refused with a reason.
    assert!(matches!(pair.cli(P, "ctx2", "write standby"), Err(CommandError::Refused(m)) if m.contains("not active")));
    // The authority for ctx2 pushes that context.
    assert_eq!(pair.cli(S, "ctx2", "write standby"), Ok(String::new()));
    pair.run_for(secs(1));
    assert!(in_sync(&pair));
    assert!(!text(&pair, P, "ctx2").contains("access-list stray"));
    assert!(!pair.unit(P).unwrap().config_plane().out_of_sync());
}

/// `write standby` in the system space of group 1's active unit pushes everything.
#[test]
fn write_standby_in_the_system_space_pushes_every_context() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    pair.cli(S, "admin", "access-list stray extended permit ip any any").unwrap();
    pair.cli(S, "system", "hostname stray").unwrap();
    assert!(!in_sync(&pair));
    pair.clear_events();
    assert_eq!(pair.cli(P, "system", "write standby"), Ok(String::new()));
    pair.run_for(secs(1));
    assert!(in_sync(&pair));
    assert!(has_syslog(&pair, S, 709006, "(Secondary) End Configuration Replication from mate."));
    assert!(!pair.unit(S).unwrap().config_plane().out_of_sync());
}

/// Non-replicated commands never reach the peer.
#[test]
fn non_replicated_commands_stay_on_their_unit() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    let before = pair.unit(S).unwrap().config_plane().channel_stats();
    for line in ["show running-config", "debug fover 1", "terminal pager 0", "mode multiple"] {
        assert!(pair.cli(P, "system", line).is_err(), "{line}: refused by this model, as not configuration");
    }
    assert_eq!(pair.cli(P, "system", "firewall transparent"), Ok(String::new()));
    pair.run_for(secs(1));
    assert_eq!(received(&pair, S), 0);
    assert_eq!(pair.unit(S).unwrap().config_plane().channel_stats().delivered, before.delivered);
    assert!(text(&pair, P, "system").contains("firewall transparent"));
    assert!(!text(&pair, S, "system").contains("firewall transparent"));
}

/// `write memory all` on the authority saves every space on both units; both
/// boot it back after a power cycle.
#[test]
fn write_memory_all_persists_both_units_across_power_cycles() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    pair.cli(P, "admin", ACL).unwrap();
    pair.cli(S, "ctx2", "access-list ctx2_in extended permit ip any any").unwrap();
    assert_eq!(pair.cli(P, "system", "write memory all"), Ok("[OK]".into()));
    pair.run_for(secs(1));
    for role in [P, S] {
        let flash = pair.flash(role);
        for space in [Space::System, Space::Context("admin".into()), Space::Context("ctx2".into())] {
            assert!(flash.startup(&space).is_some(), "{role}: nothing saved for {space}");
        }
        assert!(flash.startup(&Space::Context("admin".into())).unwrap().iter().any(|l| l == ACL));
    }
    // A replicated command not followed by a save is not saved.
    pair.cli(P, "admin", "access-list unsaved extended permit ip any any").unwrap();
    pair.run_for(secs(1));
    pair.power_off(P);
    pair.power_off(S);
    pair.run_for(secs(1));
    pair.power_on(S);
    assert!(text(&pair, S, "admin").contains(ACL));
    assert!(text(&pair, S, "ctx2").contains("access-list ctx2_in"));
    assert!(!text(&pair, S, "admin").contains("unsaved"));
    pair.power_on(P);
    pair.run_for(secs(5));
    assert!(in_sync(&pair));
    assert!(text(&pair, P, "admin").contains(ACL));
}

/// The heal discard: after a both-active heal, the losing unit's commands
/// entered during the split are overwritten, and a log line says how many.
#[test]
fn heal_discards_the_losing_units_split_commands_and_says_how_many() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    split(&mut pair).unwrap();
    // Both units are active for group 1: each takes commands for the admin context.
    assert_eq!(pair.cli(P, "admin", "access-list during-split-p extended permit ip any any"), Ok(String::new()));
    assert_eq!(pair.cli(S, "admin", "access-list during-split-s1 extended permit ip any any"), Ok(String::new()));
    assert_eq!(pair.cli(S, "admin", "access-list during-split-s2 extended permit ip any any"), Ok(String::new()));
    // A command the CLI refuses changes nothing and is not counted.
    assert!(pair.cli(S, "admin", "context nested").is_err());
    pair.clear_events();
    heal(&mut pair);
    pair.run_for(secs(5));
    expect_placement(&pair, "after the heal", Some(P), Some(S)).unwrap();
    if !in_sync(&pair) {
        for r in pair.events() {
            eprintln!("{r:?}");
        }
    }
    assert!(in_sync(&pair));
    // The primary kept group 1 (preferred): the secondary's two commands are gone.
    assert!(text(&pair, S, "admin").contains("during-split-p"));
    assert!(!text(&pair, S, "admin").contains("during-split-s"));
    assert!(has_syslog(
        &pair,
        S,
        SYSLOG_HEAL_DISCARD,
        "(Secondary) 2 configuration command(s) entered on this unit while the mate was unreachable are \
         discarded: the mate's configuration replaces them."
    ));
    assert_eq!(syslogs(&pair, P, SYSLOG_HEAL_DISCARD), 0);
}

/// [fover] While a full sync runs, configuration commands are refused with the
/// reason and when to retry; show-type commands are not affected.
#[test]
fn configuration_commands_are_refused_during_a_full_sync() {
    let mut pair = secondary_alone();
    pair.cli(S, "admin", ACL).unwrap();
    // The end of the sync is held back: the sync stays in progress on both units.
    pair.drop_kind(Link::Failover, S, Kind::ConfigSyncEnd);
    pair.clear_events();
    pair.power_on(P);
    pair.run_for(secs(3));
    let sync = pair.unit(P).unwrap().config_plane().sync().expect("a sync in progress on the primary");
    assert_eq!(sync.direction, SyncDirection::Receiving);
    let Err(CommandError::Refused(m)) = pair.cli(P, "system", "hostname too-early") else { panic!("not refused") };
    assert!(m.contains("full configuration synchronisation is in progress"), "{m}");
    assert!(m.contains("End Configuration Replication from mate."), "says when to retry: {m}");
    let Err(CommandError::Refused(m)) = pair.cli(S, "admin", "access-list late extended permit ip any any") else {
        panic!("not refused on the sender")
    };
    assert!(m.contains("End Configuration Replication to mate."), "{m}");
    pair.pass_kind(Link::Failover, S, Kind::ConfigSyncEnd);
    pair.run_for(secs(10));
    assert!(pair.unit(P).unwrap().config_plane().sync().is_none());
    assert!(in_sync(&pair));
    assert!(pair.cli(S, "system", "hostname after-sync").is_ok());
}

/// `show failover` reads addresses and hostname from the running config, so
/// a replicated `ip address` change shows on both units.
#[test]
fn show_failover_reads_addresses_from_the_running_config() {
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.run_for(secs(1));
    let show = |pair: &Pair, role: Role| pair.unit(role).unwrap().show(pair.local_now(role), "show failover").unwrap();
    assert!(show(&pair, P).contains("admin Interface if0 (10.1.1.1): Normal"), "{}", show(&pair, P));
    assert!(show(&pair, S).contains("admin Interface if0 (10.1.1.2): Normal"), "{}", show(&pair, S));
    pair.cli(P, "admin", "interface if0").unwrap();
    pair.cli(P, "admin", " ip address 172.16.0.1 255.255.255.0 standby 172.16.0.2").unwrap();
    pair.run_for(secs(1));
    assert!(show(&pair, P).contains("admin Interface if0 (172.16.0.1): Normal"), "{}", show(&pair, P));
    assert!(show(&pair, S).contains("admin Interface if0 (172.16.0.2): Normal"), "{}", show(&pair, S));
}

/// Benchmark figures (issue: a full sync of a 10,000-line config over the
/// channel at 10% loss): frames sent and simulated time, printed with
/// `--nocapture`. Asserts only that the sync completes and the configs agree.
#[test]
fn full_sync_of_a_10000_line_config_over_10_percent_loss() {
    let mut pair = secondary_alone();
    for i in 0..10_000u32 {
        let line = format!(
            "access-list big extended permit tcp any host 10.{}.{}.{} eq 443",
            i / 62_500,
            (i / 250) % 250,
            i % 250
        );
        pair.cli(S, "admin", &line).unwrap();
    }
    for role in [P, S] {
        pair.set_loss(Link::Failover, role, 100);
    }
    pair.clear_events();
    let before = pair.unit(S).unwrap().config_plane().channel_stats();
    pair.power_on(P);
    let start = pair.now();
    let mut end = None;
    for _ in 0..6_000 {
        pair.run_for(ms(10));
        if has_syslog(&pair, P, 709006, "End Configuration Replication from mate.")
            && pair.unit(S).unwrap().config_plane().sync().is_none()
        {
            end = Some(pair.now());
            break;
        }
    }
    let end = end.expect("the sync did not finish within 60 s");
    assert!(in_sync(&pair));
    let (s, p) =
        (pair.unit(S).unwrap().config_plane().channel_stats(), pair.unit(P).unwrap().config_plane().channel_stats());
    let sender = s.frames_sent() - before.frames_sent();
    println!(
        "full sync, 10,000 lines + the generated config, 10% loss each way on the failover link: \
         {sender} frames from the sender ({} first transmissions, {} retransmissions), {} acks from the \
         receiver, {:.3} s simulated from power-on to the end on both units",
        s.data_frames - before.data_frames,
        s.retransmissions - before.retransmissions,
        p.acks_sent,
        (end - start).as_secs_f64()
    );
}

/// A full sync cut short (the sender unreachable before its end) leaves the
/// receiver's running config as it was, not cleared and half applied: a
/// receiver that then took group 1 would be the authority and send the half
/// on (sweep seed 182712: the joining unit's stale view of the failover link
/// cut the sync right after its begin had cleared the config, and the empty
/// config it then held replaced its mate's). The pair converges after the heal.
#[test]
fn a_sync_cut_short_keeps_the_receivers_config() {
    let mut pair = secondary_alone();
    pair.cli(S, "admin", ACL).unwrap();
    // The sync starts on the primary but its lines never arrive.
    pair.drop_kind(Link::Failover, S, Kind::ConfigSyncChunk);
    pair.clear_events();
    pair.power_on(P);
    pair.run_for(secs(3));
    let sync = pair.unit(P).unwrap().config_plane().sync().expect("a sync in progress on the primary");
    assert_eq!(sync.direction, SyncDirection::Receiving);
    assert!(text(&pair, P, "system").contains("hostname fover"), "the config in use until the sync ends");
    // The secondary becomes unreachable: the primary takes both groups.
    pair.cut_both(Link::Failover);
    for i in 0..pair.config(P).interfaces.len() {
        pair.cut_both(Link::Data(fover_protocol::unit::IfaceId(i as u16)));
    }
    pair.run_for(secs(3));
    assert_eq!(pair.active_units(G1), vec![P, S], "the primary took group 1");
    assert!(pair.unit(P).unwrap().config_plane().sync().is_none(), "the sync is over");
    let system = text(&pair, P, "system");
    assert!(system.contains("hostname fover"), "the primary kept its config:\n{system}");
    assert!(text(&pair, P, "admin").contains("interface"), "and its contexts");
    assert!(pair.unit(P).unwrap().config_plane().out_of_sync(), "the primary knows it differs from its mate");
    pair.heal_all();
    pair.pass_kind(Link::Failover, S, Kind::ConfigSyncChunk);
    pair.run_for(secs(10));
    expect_placement(&pair, "after the heal", Some(P), Some(S)).unwrap();
    assert!(in_sync(&pair), "primary:\n{}\nsecondary:\n{}", text(&pair, P, "admin"), text(&pair, S, "admin"));
}

/// A unit's own full sync still in flight when it receives one from its
/// mate is void: its frames carry a configuration it no longer has, and the
/// mate applies them after everything else. Once this unit is the authority
/// again, it sends a new sync, so the stale one does not stay (sweep seed
/// 182712: the stale sync arrived 6 s late and left the mate with an empty config).
#[test]
fn a_stale_sync_delivered_late_is_followed_by_a_fresh_one() {
    use fover_protocol::config::command::Command;
    let mut pair = settled(2, None, |_| {}).unwrap();
    pair.cli(P, "system", "hostname before-reboot").unwrap();
    pair.run_for(secs(1));
    assert!(in_sync(&pair));
    // The secondary reboots without saving: it comes back with the default config.
    pair.power_off(S);
    pair.run_for(secs(1));
    pair.drop_kind(Link::Failover, P, Kind::ConfigSyncBegin);
    pair.power_on(S);
    pair.run_for(secs(3));
    assert!(text(&pair, S, "system").contains("hostname fover"));
    assert_eq!(
        pair.unit(P).unwrap().config_plane().sync().map(|s| s.direction),
        Some(SyncDirection::Sending),
        "the primary's sync is held back"
    );
    // Group 1 moves to the secondary, which sends its config to the primary.
    pair.command(P, Command::NoFailoverActive(Some(G1))).unwrap();
    pair.run_for(secs(2));
    assert_eq!(pair.active_units(G1), vec![S]);
    assert!(text(&pair, P, "system").contains("hostname fover"), "the primary took the secondary's config");
    // And back: the primary is the authority again.
    pair.command(P, Command::FailoverActive(Some(G1))).unwrap();
    pair.run_for(secs(2));
    assert_eq!(pair.active_units(G1), vec![P]);
    // The held sync (hostname before-reboot) finally arrives.
    pair.pass_kind(Link::Failover, P, Kind::ConfigSyncBegin);
    pair.run_for(secs(5));
    assert!(in_sync(&pair), "primary:\n{}\nsecondary:\n{}", text(&pair, P, "system"), text(&pair, S, "system"));
    assert!(text(&pair, S, "system").contains("hostname fover"));
}
