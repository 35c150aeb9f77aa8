//! Configuration validation errors (PROTOCOL.md section 2): a unit refuses to
//! power on with an invalid configuration, and a command refuses an invalid
//! value, naming the field.

use core::time::Duration;
use fover_protocol::config::command::{Command, CommandError, GroupOption};
use fover_protocol::config::settings::{ConfigError, ContextConfig, InterfaceConfig, InterfacePolicy};
use fover_protocol::testing::Pair;
use fover_protocol::types::{Group, Role};
use fover_protocol::{Instant, Unit, UnitConfig};

fn power_on(config: UnitConfig) -> Result<Unit, ConfigError> {
    Unit::new(config, 1, Instant::ZERO)
}

fn field_of(e: &ConfigError) -> &'static str {
    match e {
        ConfigError::OutOfRange { field, .. }
        | ConfigError::Inconsistent { field, .. }
        | ConfigError::Invalid { field, .. } => field,
        ConfigError::FailoverKey { .. } => "failover key",
        ConfigError::InterfacePolicy { .. } => "interface-policy",
    }
}

/// config: unit holdtime below 3 x polltime is refused (names the unit holdtime).
#[test]
fn config_unit_holdtime_below_three_polltimes_refused() {
    let c = UnitConfig {
        unit_polltime: Duration::from_secs(2),
        unit_holdtime: Duration::from_secs(5),
        ..UnitConfig::default()
    };
    let e = power_on(c).unwrap_err();
    assert!(matches!(e, ConfigError::Inconsistent { field: "unit holdtime", .. }), "{e}");
}

/// config: unit polltime out of range is refused (names the unit polltime).
#[test]
fn config_unit_polltime_out_of_range_refused() {
    for ms in [100, 16_000, 1_500] {
        let c = UnitConfig { unit_polltime: Duration::from_millis(ms), ..UnitConfig::default() };
        let e = power_on(c).unwrap_err();
        assert_eq!(field_of(&e), "unit polltime", "{ms} ms: {e}");
    }
}

/// config: unit holdtime out of range is refused (names the unit holdtime).
#[test]
fn config_unit_holdtime_out_of_range_refused() {
    for ms in [700, 46_000] {
        let c = UnitConfig {
            unit_polltime: Duration::from_millis(200),
            unit_holdtime: Duration::from_millis(ms),
            ..UnitConfig::default()
        };
        assert_eq!(field_of(&power_on(c).unwrap_err()), "unit holdtime", "{ms} ms");
    }
}

/// config: interface holdtime below 2 x interface polltime is refused.
#[test]
fn config_interface_holdtime_below_twice_polltime_refused() {
    let mut c = UnitConfig::default();
    c.groups[1].interface_polltime = Duration::from_secs(10);
    c.groups[1].interface_holdtime = Duration::from_secs(15);
    let e = power_on(c).unwrap_err();
    assert!(matches!(e, ConfigError::Inconsistent { field: "interface holdtime", .. }), "{e}");
}

/// config: preempt delay over 1200 s is refused.
#[test]
fn config_preempt_delay_over_limit_refused() {
    let mut c = UnitConfig::default();
    c.groups[0].preempt_delay = Some(Duration::from_secs(1201));
    assert_eq!(field_of(&power_on(c).unwrap_err()), "preempt delay");
}

/// config: the admin context outside group 1 is refused.
#[test]
fn config_admin_context_outside_group_one_refused() {
    let mut c = UnitConfig::default();
    c.contexts[0].group = Group::Two;
    assert_eq!(field_of(&power_on(c).unwrap_err()), "join-failover-group");
}

/// config: an interface of an unknown context is refused.
#[test]
fn config_interface_of_unknown_context_refused() {
    let mut c = UnitConfig::default();
    c.interfaces.push(InterfaceConfig { context: "nope".into(), name: "inside".into(), monitored: true });
    assert_eq!(field_of(&power_on(c).unwrap_err()), "interface");
    let mut c = UnitConfig::default();
    c.contexts.push(ContextConfig { name: "admin".into(), group: Group::One });
    assert_eq!(field_of(&power_on(c).unwrap_err()), "context");
}

/// config: interface policy 0 or over 100 % is refused, at parse and by command.
#[test]
fn config_interface_policy_out_of_range_refused() {
    for text in ["0", "251", "0%", "101%", "x"] {
        assert!(InterfacePolicy::parse(text).is_err(), "{text}");
    }
    let (p, s) = Pair::configs(0);
    let mut pair = Pair::new(p, s);
    let r = pair.command(
        Role::Primary,
        Command::GroupOption(Group::One, GroupOption::InterfacePolicy(InterfacePolicy::Percent(0))),
    );
    assert!(matches!(r, Err(CommandError::Config(ConfigError::InterfacePolicy { .. }))), "{r:?}");
}

/// config: an invalid `failover polltime unit` command is refused and changes nothing.
#[test]
fn config_invalid_polltime_command_refused_keeps_old_times() {
    let (p, s) = Pair::configs(0);
    let mut pair = Pair::new(p, s);
    let r = pair.command(
        Role::Primary,
        Command::UnitPolltime { polltime: Duration::from_secs(1), holdtime: Duration::from_secs(2) },
    );
    assert!(matches!(r, Err(CommandError::Config(ConfigError::Inconsistent { field: "unit holdtime", .. }))), "{r:?}");
    assert_eq!(pair.unit(Role::Primary).unwrap().node().config().unit_polltime, Duration::from_millis(200));
    let r = pair.command(
        Role::Primary,
        Command::GroupOption(Group::One, GroupOption::Preempt(Some(Duration::from_millis(1500)))),
    );
    assert!(matches!(r, Err(CommandError::Config(ConfigError::OutOfRange { field: "preempt delay", .. }))), "{r:?}");
}

/// config: a valid `failover polltime unit` command takes effect.
#[test]
fn config_valid_polltime_command_takes_effect() {
    let (p, s) = Pair::configs(0);
    let mut pair = Pair::new(p, s);
    let times = Command::UnitPolltime { polltime: Duration::from_secs(1), holdtime: Duration::from_secs(3) };
    for role in [Role::Primary, Role::Secondary] {
        assert_eq!(pair.command(role, times.clone()), Ok(String::new()));
    }
    pair.run_for(Duration::from_secs(10));
    let u = pair.unit(Role::Primary).unwrap();
    assert_eq!(u.node().config().unit_holdtime, Duration::from_secs(3));
    assert!(u.node().statistics().hellos_sent <= 13, "{} hellos in 10 s at 1 s", u.node().statistics().hellos_sent);
}
