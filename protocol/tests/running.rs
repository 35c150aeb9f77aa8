//! The running configuration model and parser.

use fover_protocol::config::running::{
    Applied, FailoverAddress, FailoverCommand, GroupOption, IpAddress, Limitation, LineError, ParseError,
    RunningConfig, Statement,
};
use fover_protocol::config::settings::InterfacePolicy;
use fover_protocol::constants::CONTEXTS_MAX;
use fover_protocol::types::{Group, Role, Space};
use fover_protocol::wire::TEXT_LEN_MAX;
use std::net::Ipv4Addr;
use std::time::Duration;

#[path = "support/rng.rs"]
mod common;
use common::Rng;

const PRIMARY_SYSTEM: &str = "\
hostname fw
failover
failover lan unit primary
failover lan interface folink GigabitEthernet0/3
failover interface ip folink 10.0.0.1 255.255.255.0 standby 10.0.0.2
failover key s3cret
failover link statelink GigabitEthernet0/4
failover polltime unit msec 200 holdtime msec 800
failover group 1
 primary
 preempt 30
 interface-policy 50%
failover group 2
 secondary
 preempt
 polltime interface 3 holdtime 15
 replication http
interface GigabitEthernet0/0
interface GigabitEthernet0/1
 no shutdown
admin-context admin
context admin
 allocate-interface GigabitEthernet0/0
 config-url disk0:/admin.cfg
context ctx2
 allocate-interface GigabitEthernet0/1
 config-url disk0:/ctx2.cfg
 join-failover-group 2
";

const CTX2: &str = "\
hostname ctx2
interface inside
 nameif inside
 security-level 100
 ip address 192.168.5.101 255.255.255.0 standby 192.168.5.102
interface outside
 ip address dhcp setroute
monitor-interface inside
no monitor-interface outside
access-list acl_in extended permit tcp any host 192.168.5.10 eq 80
access-list acl_in extended deny ip any any
";

fn ctx(name: &str) -> Space {
    Space::Context(name.into())
}

fn primary() -> RunningConfig {
    let rc = RunningConfig::parse(PRIMARY_SYSTEM, [("admin", "hostname admin\n"), ("ctx2", CTX2)]).unwrap();
    rc.invariants();
    rc
}

fn commands(rc: &RunningConfig, space: &Space) -> Vec<Statement> {
    rc.space(space).unwrap().lines().iter().map(|l| l.command().clone()).collect()
}

#[test]
fn running_config_parses_the_commands_the_protocol_cares_about() {
    let rc = primary();
    let system = commands(&rc, &Space::System);
    assert!(system.contains(&Statement::Hostname("fw".into())));
    assert!(system.contains(&Statement::Failover(FailoverCommand::Enable(true))));
    assert!(system.contains(&Statement::Failover(FailoverCommand::LanUnit(Role::Primary))));
    assert!(system.contains(&Statement::Failover(FailoverCommand::LanInterface {
        name: "folink".into(),
        hardware: "GigabitEthernet0/3".into()
    })));
    assert!(system.contains(&Statement::Failover(FailoverCommand::InterfaceIp {
        name: "folink".into(),
        address: FailoverAddress::V4 {
            address: Ipv4Addr::new(10, 0, 0, 1),
            mask: Ipv4Addr::new(255, 255, 255, 0),
            standby: Ipv4Addr::new(10, 0, 0, 2)
        }
    })));
    assert!(system.contains(&Statement::Failover(FailoverCommand::Key)));
    assert!(system.contains(&Statement::Failover(FailoverCommand::Polltime {
        polltime: Duration::from_millis(200),
        holdtime: Duration::from_millis(800)
    })));
    assert!(system.contains(&Statement::FailoverGroup(Group::Two)));
    for option in [
        GroupOption::Preferred(Role::Primary),
        GroupOption::Preempt(Some(Duration::from_secs(30))),
        GroupOption::InterfacePolicy(InterfacePolicy::Percent(50)),
        GroupOption::Preempt(Some(Duration::ZERO)),
        GroupOption::PolltimeInterface { polltime: Duration::from_secs(3), holdtime: Duration::from_secs(15) },
        GroupOption::ReplicationHttp(true),
    ] {
        assert!(system.contains(&Statement::GroupOption(option.clone())), "{option:?}");
    }
    assert!(system.contains(&Statement::JoinFailoverGroup(Group::Two)));
    assert_eq!(rc.admin_context(), "admin");
    let ctx2 = commands(&rc, &ctx("ctx2"));
    assert!(ctx2.contains(&Statement::IpAddress(IpAddress::Static {
        address: Ipv4Addr::new(192, 168, 5, 101),
        mask: Ipv4Addr::new(255, 255, 255, 0),
        standby: Some(Ipv4Addr::new(192, 168, 5, 102))
    })));
    assert!(ctx2.contains(&Statement::IpAddress(IpAddress::Dhcp)));
    assert!(ctx2.contains(&Statement::MonitorInterface { name: "inside".into(), monitored: true }));
    assert!(ctx2.contains(&Statement::MonitorInterface { name: "outside".into(), monitored: false }));
    assert_eq!(ctx2.iter().filter(|c| matches!(c, Statement::AccessList { name } if name == "acl_in")).count(), 2);
    assert!(ctx2.contains(&Statement::Verbatim), "security-level is kept verbatim");
}

#[test]
fn running_config_renders_back_to_the_same_text() {
    let rc = primary();
    assert_eq!(rc.render(&Space::System).unwrap(), PRIMARY_SYSTEM);
    assert_eq!(rc.render(&ctx("ctx2")).unwrap(), CTX2);
    let again = RunningConfig::parse(
        &rc.render(&Space::System).unwrap(),
        [("admin", rc.render(&ctx("admin")).unwrap().as_str()), ("ctx2", rc.render(&ctx("ctx2")).unwrap().as_str())],
    )
    .unwrap();
    assert_eq!(again, rc);
}

#[test]
fn running_config_context_groups_default_to_group_one() {
    let rc = RunningConfig::parse("context admin\ncontext c1\ncontext c2\n join-failover-group 2\n", []).unwrap();
    let groups = rc.context_groups();
    assert_eq!(groups.get("admin"), Some(&Group::One));
    assert_eq!(groups.get("c1"), Some(&Group::One));
    assert_eq!(groups.get("c2"), Some(&Group::Two));
}

#[test]
fn running_config_admin_context_stays_in_group_one() {
    let err = RunningConfig::parse("context admin\n join-failover-group 2\n", []).unwrap_err();
    assert_eq!(err.line_no, 2);
    assert_eq!(err.error, LineError::AdminContextGroup { name: "admin".into() });
    // Naming a group-2 context as the admin context is refused too.
    let err = RunningConfig::parse("context c2\n join-failover-group 2\nadmin-context c2\n", []).unwrap_err();
    assert_eq!((err.line_no, err.error), (3, LineError::AdminContextGroup { name: "c2".into() }));
}

fn parse_error(system: &str) -> ParseError {
    RunningConfig::parse(system, []).unwrap_err()
}

#[test]
fn running_config_parse_errors_name_the_line_and_what_was_expected() {
    let cases = [
        ("hostname fw\ncontext c1\n join-failover-group 3\n", 3, "a failover group: 1 or 2"),
        ("failover lan unit tertiary\n", 1, "`primary` or `secondary`"),
        ("interface g0\n ip address 10.0.0.1 255.0.255.0\n", 2, "a contiguous netmask"),
        ("interface g0\n ip address 10.0.0.300 255.255.255.0\n", 2, "an IPv4 address"),
        ("interface g0\n ip address 10.0.0.1 255.255.255.0 standby 10.0.1.2\n", 2, "same subnet"),
        ("failover interface ip folink 10.0.0.1 255.255.255.0\n", 1, "`MASK standby A.B.C.D`"),
        ("failover group 1\n preempt 5000\n", 2, "a preempt delay of 1-1200 seconds"),
        ("failover group 1\n interface-policy 300\n", 2, "interface-policy"),
        ("failover group 1\n polltime interface 1 holdtime 1\n", 2, "interface holdtime"),
        ("failover polltime unit msec 100\n", 1, "unit polltime"),
        ("failover polltime unit 1 holdtime 2\n", 1, "at least 3 times"),
        ("failover key\n", 1, "failover key"),
        ("context system\n", 1, "a context name"),
        ("join-failover-group 2\n", 1, "inside a `context NAME` block"),
        ("\n\n primary\n", 3, "needs a top-level line"),
        ("no\n", 1, "a command after `no`"),
    ];
    for (text, line_no, needle) in cases {
        let err = parse_error(text);
        assert_eq!(err.line_no, line_no, "{text:?}: {err}");
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
        assert!(err.to_string().starts_with(&format!("system line {line_no}: ")), "{err}");
    }
}

#[test]
fn running_config_refuses_routing_vpn_and_multicast_in_a_context() {
    let cases = [
        ("router ospf 1", Limitation::DynamicRouting),
        ("router rip", Limitation::DynamicRouting),
        ("crypto map outside_map 10 match address acl", Limitation::Vpn),
        ("isakmp enable outside", Limitation::Vpn),
        ("tunnel-group 10.1.1.1 type ipsec-l2l", Limitation::Vpn),
        ("webvpn", Limitation::Vpn),
        ("vpn-sessiondb max-session-limit 10", Limitation::Vpn),
        ("multicast-routing", Limitation::Multicast),
        ("mroute 10.0.0.0 255.0.0.0 inside", Limitation::Multicast),
    ];
    for (line, limitation) in cases {
        let mut rc = primary();
        let err = rc.apply(&ctx("ctx2"), line).unwrap_err();
        assert_eq!(err, LineError::Refused { command: line.into(), limitation }, "{line}");
        let text = err.to_string();
        assert!(text.contains("not supported in a security context in multiple context mode"), "{text}");
        assert_eq!(rc, primary(), "a refused line changes nothing");
    }
    // Inside an interface block too.
    let mut rc = primary();
    rc.apply(&ctx("ctx2"), "interface inside").unwrap();
    let err = rc.apply(&ctx("ctx2"), " pim sparse-mode").unwrap_err();
    assert!(matches!(err, LineError::Refused { limitation: Limitation::Multicast, .. }), "{err}");
    let err = rc.apply(&ctx("ctx2"), " igmp join-group 239.1.1.1").unwrap_err();
    assert!(err.to_string().contains("multicast"), "{err}");
}

#[test]
fn running_config_routing_in_the_system_space_is_not_a_context_refusal() {
    let mut rc = primary();
    assert_eq!(rc.apply(&Space::System, "router ospf 1"), Ok(Applied::Added));
}

#[test]
fn running_config_commands_in_the_wrong_space_are_refused() {
    let mut rc = primary();
    let err = rc.apply(&ctx("ctx2"), "failover lan unit secondary").unwrap_err();
    assert_eq!(err, LineError::WrongSpace { command: "failover".into(), belongs: "the system space" });
    let err = rc.apply(&ctx("ctx2"), "context c9").unwrap_err();
    assert!(matches!(err, LineError::WrongSpace { .. }));
    let err = rc.apply(&Space::System, "monitor-interface inside").unwrap_err();
    assert_eq!(err, LineError::WrongSpace { command: "monitor-interface".into(), belongs: "a context" });
    let err = rc.apply(&Space::System, "access-list a extended permit ip any any").unwrap_err();
    assert!(matches!(err, LineError::WrongSpace { .. }));
}

#[test]
fn running_config_settings_replace_and_no_forms_remove() {
    let mut rc = primary();
    let c2 = ctx("ctx2");
    assert_eq!(rc.apply(&c2, "hostname web"), Ok(Applied::Replaced));
    assert_eq!(rc.apply(&c2, "monitor-interface outside"), Ok(Applied::Replaced));
    assert_eq!(rc.apply(&c2, "interface inside"), Ok(Applied::Unchanged));
    assert_eq!(rc.apply(&c2, " ip address 192.168.5.1 255.255.255.0 standby 192.168.5.2"), Ok(Applied::Replaced));
    assert_eq!(rc.apply(&c2, " no ip address"), Ok(Applied::Removed(1)));
    assert_eq!(rc.apply(&c2, "no access-list acl_in"), Ok(Applied::Removed(2)));
    assert_eq!(rc.apply(&c2, "access-list acl_in extended deny ip any any"), Ok(Applied::Added));
    assert_eq!(rc.apply(&c2, "access-list acl_in extended deny ip any any"), Ok(Applied::Unchanged));
    rc.apply(&Space::System, "failover group 1").unwrap();
    assert_eq!(rc.apply(&Space::System, " no preempt"), Ok(Applied::Replaced));
    assert_eq!(rc.apply(&Space::System, "no failover"), Ok(Applied::Replaced));
    assert!(rc.space(&Space::System).unwrap().lines().iter().any(|l| l.text() == "no failover"));
    assert_eq!(rc.apply(&Space::System, "no context ctx2"), Ok(Applied::Removed(4)));
    assert!(rc.space(&c2).is_none());
    assert_eq!(rc.apply(&Space::System, "clear configure failover group"), Ok(Applied::Removed(9)));
    rc.invariants();
}

#[test]
fn running_config_exec_and_file_commands_are_not_stored() {
    let mut rc = primary();
    for line in [
        "show running-config",
        "write memory",
        "copy run start",
        "debug fover",
        "activation-key 0x1 0x2 0x3 0x4",
        "mode multiple",
    ] {
        assert!(matches!(rc.apply(&Space::System, line), Err(LineError::NotConfig { .. })), "{line}");
    }
    for line in ["", "   ", "! a comment", ": Saved"] {
        assert_eq!(rc.apply(&Space::System, line), Ok(Applied::Unchanged), "{line:?}");
    }
}

#[test]
fn running_config_lines_must_fit_the_wire() {
    let mut rc = primary();
    let long = format!("banner motd {}", "x".repeat(TEXT_LEN_MAX));
    assert!(matches!(rc.apply(&Space::System, &long), Err(LineError::TooLong { .. })));
}

#[test]
fn running_config_refuses_more_than_the_context_limit() {
    let mut rc = RunningConfig::new();
    for i in 0..CONTEXTS_MAX {
        rc.apply(&Space::System, &format!("context c{i}")).unwrap();
    }
    let err = rc.apply(&Space::System, "context one-too-many").unwrap_err();
    assert_eq!(err, LineError::Limit { what: "security contexts", max: CONTEXTS_MAX });
    assert_eq!(rc.apply(&Space::System, "context c7"), Ok(Applied::Unchanged), "re-entering is fine");
}

#[test]
fn running_config_equality_and_digest_ignore_bootstrap_lines() {
    let primary = primary();
    let secondary_system = PRIMARY_SYSTEM
        .replace("failover lan unit primary", "failover lan unit secondary")
        .replace("failover key s3cret", "failover key other-key");
    let secondary = RunningConfig::parse(&secondary_system, [("admin", "hostname admin\n"), ("ctx2", CTX2)]).unwrap();
    assert_ne!(primary, secondary);
    assert!(primary.eq_ignoring_bootstrap(&secondary));
    assert_eq!(primary.digest(), secondary.digest());
    let mut changed = secondary.clone();
    changed.apply(&ctx("ctx2"), "hostname other").unwrap();
    assert!(!primary.eq_ignoring_bootstrap(&changed));
    assert_ne!(primary.digest(), changed.digest());
    // Polltime is not a bootstrap line: the active unit's wins.
    let mut polltime = secondary.clone();
    polltime.apply(&Space::System, "failover polltime unit 1 holdtime 3").unwrap();
    assert!(!primary.eq_ignoring_bootstrap(&polltime));
}

/// The digest is SHA-256 over the sync lines (space, length, rendered line),
/// truncated to 32 bits: computing it without rendering keeps that value.
#[test]
fn running_config_digest_is_sha256_of_the_sync_lines() {
    use sha2::{Digest, Sha256};
    let mut config = primary();
    config.apply(&ctx("ctx2"), "interface inside").unwrap();
    for c in [&config, &RunningConfig::new()] {
        let mut h = Sha256::new();
        for l in c.sync_lines() {
            match &l.space {
                Space::System => h.update([0u8]),
                Space::Context(name) => {
                    h.update([1u8]);
                    h.update((name.len() as u32).to_be_bytes());
                    h.update(name.as_bytes());
                }
            }
            h.update((l.line.len() as u32).to_be_bytes());
            h.update(l.line.as_bytes());
        }
        let d = h.finalize();
        assert_eq!(c.digest(), u32::from_be_bytes([d[0], d[1], d[2], d[3]]));
    }
    assert!(config.sync_lines().iter().any(|l| l.line.starts_with(' ')), "sub-lines are covered");
}

#[test]
fn running_config_full_sync_reproduces_the_sender_and_keeps_bootstrap() {
    let sender = primary();
    let mut receiver = RunningConfig::parse(
        "hostname other\nfailover\nfailover lan unit secondary\nfailover lan interface folink GigabitEthernet0/3\n\
         failover interface ip folink 10.0.0.1 255.255.255.0 standby 10.0.0.2\nfailover key s3cret\ncontext old\n",
        [("old", "hostname old\n")],
    )
    .unwrap();
    receiver.clear_for_sync();
    assert_eq!(receiver.render(&Space::System).unwrap().lines().count(), 5, "bootstrap lines only");
    assert!(receiver.contexts().is_empty());
    for line in sender.sync_lines() {
        receiver.apply_sync_line(&line).unwrap();
    }
    receiver.invariants();
    assert!(receiver.eq_ignoring_bootstrap(&sender));
    assert_eq!(receiver.digest(), sender.digest());
    let system = commands(&receiver, &Space::System);
    assert!(system.contains(&Statement::Failover(FailoverCommand::LanUnit(Role::Secondary))), "kept its own role");
    assert!(!system.contains(&Statement::Failover(FailoverCommand::LanUnit(Role::Primary))));
}

#[test]
fn running_config_reports_failover_interface_addressing() {
    let rc = primary();
    assert_eq!(rc.failover_addressing().forbidden(), None);
    let rc = RunningConfig::parse(
        "failover lan interface folink GigabitEthernet0/3\ninterface GigabitEthernet0/3\n ip address dhcp\n",
        [],
    )
    .unwrap();
    assert!(rc.failover_addressing().dhcp);
    let rc = RunningConfig::parse(
        "failover link state GigabitEthernet0/4\ninterface GigabitEthernet0/4\n ip address pppoe\n",
        [],
    )
    .unwrap();
    assert!(rc.failover_addressing().pppoe);
    let rc = RunningConfig::parse("failover interface ip folink 2001:db8::1/64 standby 2001:db8::2\n", []).unwrap();
    assert!(rc.failover_addressing().ipv6);
}

/// Random lines from a vocabulary of keywords, names and junk, in random spaces:
/// `apply` returns a value (never panics) and the invariants hold throughout.
#[test]
fn running_config_never_panics_on_arbitrary_lines() {
    let tokens = [
        "no",
        "failover",
        "group",
        "1",
        "2",
        "3",
        "lan",
        "unit",
        "primary",
        "secondary",
        "interface",
        "ip",
        "address",
        "10.0.0.1",
        "255.255.255.0",
        "standby",
        "10.0.0.2",
        "dhcp",
        "context",
        "c1",
        "c2",
        "admin",
        "join-failover-group",
        "preempt",
        "99999",
        "polltime",
        "msec",
        "holdtime",
        "200",
        "hostname",
        "router",
        "ospf",
        "monitor-interface",
        "access-list",
        "clear",
        "configure",
        "all",
        "key",
        "hex",
        "link",
        "ipv6",
        "2001:db8::1/64",
        "show",
        "write",
        "\u{00e9}",
        "!",
        "",
        "admin-context",
        "interface-policy",
        "50%",
        "replication",
        "http",
        "nameif",
        "x",
    ];
    let mut rng = Rng(0x00c0_ffee);
    let mut outcomes = [0usize; 2];
    let mut rc = primary();
    for round in 0..30_000 {
        // Start again from a realistic config now and then, so that configs stay small.
        if round % 200 == 0 {
            rc = primary();
        }
        let n = rng.below(7);
        let mut line = String::new();
        if rng.below(3) == 0 {
            line.push(' ');
        }
        for i in 0..n {
            if i > 0 {
                line.push(' ');
            }
            line.push_str(tokens[rng.index(tokens.len())]);
        }
        let spaces = rc.spaces();
        let space = &spaces[rng.index(spaces.len())];
        outcomes[usize::from(rc.apply(space, &line).is_ok())] += 1;
        rc.invariants();
    }
    assert!(outcomes[0] > 1_000 && outcomes[1] > 1_000, "both outcomes exercised: {outcomes:?}");
}
