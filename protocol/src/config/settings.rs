//! A unit's failover settings (the `failover ...` bootstrap commands and the
//! `failover group` options), their legal ranges, and [`ConfigError`].

use crate::constants::*;
use crate::types::{Group, Role, SoftwareVersion};
use crate::wire::auth::{FailoverKey, KeyError};
use core::fmt;
use core::time::Duration;

/// A configuration value out of its legal range, or inconsistent with another.
/// Every variant names the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: {value} ms is out of range ({rule})")]
    OutOfRange { field: &'static str, value: u64, rule: &'static str },
    #[error("{field}: {rule}")]
    Inconsistent { field: &'static str, rule: &'static str },
    #[error("failover key: {rule}")]
    FailoverKey { rule: &'static str },
    #[error("interface-policy: {text:?} is not a count 1-250 or a percentage 1-100%")]
    InterfacePolicy { text: String },
    #[error("{field}: {detail}")]
    Invalid { field: &'static str, detail: String },
}

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> ConfigError {
        ConfigError::FailoverKey { rule: e.rule }
    }
}

/// When a group's interface failures trigger a failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InterfacePolicy {
    /// This many failed monitored interfaces (1-250).
    Count(u16),
    /// This percentage of the group's monitored interfaces (1-100).
    Percent(u8),
}

impl InterfacePolicy {
    /// Parses `N` or `N%`.
    pub fn parse(text: &str) -> Result<InterfacePolicy, ConfigError> {
        let bad = || ConfigError::InterfacePolicy { text: text.to_owned() };
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: u8 = p.trim().parse().map_err(|_| bad())?;
            if v == 0 || v > INTERFACE_POLICY_PERCENT_MAX {
                return Err(bad());
            }
            Ok(InterfacePolicy::Percent(v))
        } else {
            let v: u16 = t.parse().map_err(|_| bad())?;
            if v == 0 || v > INTERFACE_POLICY_COUNT_MAX {
                return Err(bad());
            }
            Ok(InterfacePolicy::Count(v))
        }
    }

    /// Whether `failed` of `monitored` interfaces reach the threshold.
    pub fn is_reached(self, failed: u16, monitored: u16) -> bool {
        if failed == 0 {
            return false;
        }
        match self {
            InterfacePolicy::Count(n) => failed >= n,
            InterfacePolicy::Percent(p) => monitored > 0 && (failed as u32) * 100 >= (p as u32) * (monitored as u32),
        }
    }
}

impl fmt::Display for InterfacePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterfacePolicy::Count(n) => write!(f, "{n}"),
            InterfacePolicy::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// The options of one `failover group N`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupConfig {
    /// `primary` or `secondary`: where the group prefers to be active.
    pub preferred: Role,
    /// `preempt [delay]`: `None` is no preempt, `Some(ZERO)` preempt without delay.
    pub preempt_delay: Option<Duration>,
    pub interface_policy: InterfacePolicy,
    /// `polltime interface`.
    pub interface_polltime: Duration,
    pub interface_holdtime: Duration,
    /// `replication http`.
    pub replication_http: bool,
}

impl GroupConfig {
    /// The defaults for `group` ([fover]: group 1 primary, group 2 secondary).
    pub fn default_for(group: Group) -> GroupConfig {
        GroupConfig {
            preferred: if group == Group::One { Role::Primary } else { Role::Secondary },
            preempt_delay: None,
            interface_policy: InterfacePolicy::Count(1),
            interface_polltime: Duration::from_millis(INTERFACE_POLLTIME_MS_DEFAULT),
            interface_holdtime: Duration::from_millis(INTERFACE_HOLDTIME_MS_DEFAULT),
            replication_http: false,
        }
    }
}

/// One data interface of a context.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceConfig {
    /// The owning context (`admin`, `ctx2`, ...).
    pub context: String,
    /// The interface name within the context (`inside`, `outside`).
    pub name: String,
    /// Monitored by failover (physical interfaces are by default; subinterfaces are not).
    pub monitored: bool,
}

impl InterfaceConfig {
    /// `context/name`, as used in scenario files and traces.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.context, self.name)
    }
}

/// The hardware and licensing facts a unit checks against its mate's before
/// they pair (PROTOCOL.md section 9). The license itself comes from the
/// activation key in flash, bound to `serial`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Device {
    /// Hardware model, e.g. `ASA5520`.
    pub model: String,
    /// Serial number: activation keys are bound to it.
    pub serial: String,
    pub ram_mb: u32,
    /// `firewall transparent` (else routed).
    pub transparent: bool,
    /// The license the unit was delivered with: a fresh flash holds its
    /// activation key (see `flash::Flash::factory`).
    pub factory_license: crate::config::license::License,
}

impl Device {
    /// An ASA 5520 with an Unrestricted license for 20 contexts; the serial
    /// number differs by role so that keys are per unit.
    pub fn default_for(role: Role) -> Device {
        Device {
            model: "ASA5520".into(),
            serial: match role {
                Role::Primary => "JMX1000P001".into(),
                Role::Secondary => "JMX1000S002".into(),
            },
            ram_mb: 512,
            transparent: false,
            factory_license: crate::config::license::License {
                kind: crate::config::license::LicenseKind::Unrestricted,
                features: crate::config::license::Features { contexts: 20, vpn_peers: 750 },
            },
        }
    }
}

/// A security context and the group it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContextConfig {
    pub name: String,
    /// `join-failover-group N`; `admin` is always in group 1.
    pub group: Group,
}

/// How stateful updates travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StateLink {
    /// No stateful failover.
    #[default]
    None,
    /// The state link is the failover link.
    SharedWithFailover,
    /// A separate interface.
    Separate,
}

/// Everything one unit needs to run the failover protocol.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UnitConfig {
    /// `failover lan unit primary|secondary`.
    pub role: Role,
    /// `failover` (on) or `no failover`.
    pub failover_enabled: bool,
    /// `failover polltime unit [msec] N holdtime [msec] M`.
    pub unit_polltime: Duration,
    pub unit_holdtime: Duration,
    /// Group 1 then group 2.
    pub groups: [GroupConfig; 2],
    pub contexts: Vec<ContextConfig>,
    /// Data interfaces; a [`crate::types::IfaceId`] indexes this list.
    pub interfaces: Vec<InterfaceConfig>,
    pub state_link: StateLink,
    pub failover_key: Option<FailoverKey>,
    pub version: SoftwareVersion,
    /// A known-wrong behaviour to switch on (see [`crate::planted`]); `None` in real use.
    pub planted_bug: Option<crate::planted::PlantedBug>,
    /// Hardware and licensing facts checked at pairing. `None`: the default
    /// for the unit's role ([`Device::default_for`]).
    pub device: Option<Device>,
}

impl Default for UnitConfig {
    fn default() -> UnitConfig {
        UnitConfig {
            role: Role::Secondary,
            failover_enabled: true,
            unit_polltime: Duration::from_millis(UNIT_POLLTIME_MS_DEFAULT),
            unit_holdtime: Duration::from_millis(UNIT_HOLDTIME_MS_DEFAULT),
            groups: [GroupConfig::default_for(Group::One), GroupConfig::default_for(Group::Two)],
            contexts: vec![ContextConfig { name: "admin".into(), group: Group::One }],
            interfaces: Vec::new(),
            state_link: StateLink::None,
            failover_key: None,
            version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
            planted_bug: None,
            device: None,
        }
    }
}

/// Checks a unit polltime/holdtime pair against section 2 of PROTOCOL.md.
pub fn validate_unit_times(polltime: Duration, holdtime: Duration) -> Result<(), ConfigError> {
    let p = polltime.as_millis() as u64;
    let h = holdtime.as_millis() as u64;
    let poll_ok =
        (UNIT_POLLTIME_MS_MIN..1000).contains(&p) || ((1000..=UNIT_POLLTIME_MS_MAX).contains(&p) && p % 1000 == 0);
    if !poll_ok || Duration::from_millis(p) != polltime {
        return Err(ConfigError::OutOfRange {
            field: "unit polltime",
            value: p,
            rule: "1-15 s in whole seconds, or 200-999 msec",
        });
    }
    let hold_ok =
        (UNIT_HOLDTIME_MS_MIN..1000).contains(&h) || ((1000..=UNIT_HOLDTIME_MS_MAX).contains(&h) && h % 1000 == 0);
    if !hold_ok || Duration::from_millis(h) != holdtime {
        return Err(ConfigError::OutOfRange {
            field: "unit holdtime",
            value: h,
            rule: "1-45 s in whole seconds, or 800-999 msec",
        });
    }
    if h < UNIT_HELLOS_MISSED_MAX * p {
        return Err(ConfigError::Inconsistent {
            field: "unit holdtime",
            rule: "the unit holdtime must be at least 3 times the unit polltime",
        });
    }
    Ok(())
}

/// Checks an interface polltime/holdtime pair.
pub fn validate_interface_times(polltime: Duration, holdtime: Duration) -> Result<(), ConfigError> {
    let p = polltime.as_millis() as u64;
    let h = holdtime.as_millis() as u64;
    let poll_ok = (INTERFACE_POLLTIME_MS_MIN..1000).contains(&p)
        || ((1000..=INTERFACE_POLLTIME_MS_MAX).contains(&p) && p % 1000 == 0);
    if !poll_ok || Duration::from_millis(p) != polltime {
        return Err(ConfigError::OutOfRange {
            field: "interface polltime",
            value: p,
            rule: "1-15 s in whole seconds, or 500-999 msec",
        });
    }
    if !(INTERFACE_HOLDTIME_MS_MIN..=INTERFACE_HOLDTIME_MS_MAX).contains(&h) || Duration::from_millis(h) != holdtime {
        return Err(ConfigError::OutOfRange { field: "interface holdtime", value: h, rule: "5-75 s" });
    }
    if h < 2 * p {
        return Err(ConfigError::Inconsistent {
            field: "interface holdtime",
            rule: "the interface holdtime must be at least 2 times the interface polltime",
        });
    }
    Ok(())
}

impl UnitConfig {
    /// Checks every value against its legal range and the relations between them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_unit_times(self.unit_polltime, self.unit_holdtime)?;
        for g in &self.groups {
            validate_interface_times(g.interface_polltime, g.interface_holdtime)?;
            if let Some(d) = g.preempt_delay {
                if d.subsec_nanos() != 0 || d.as_secs() > PREEMPT_DELAY_S_MAX {
                    return Err(ConfigError::OutOfRange {
                        field: "preempt delay",
                        value: d.as_millis() as u64,
                        rule: "0-1200 s in whole seconds",
                    });
                }
            }
            if let InterfacePolicy::Count(0) | InterfacePolicy::Percent(0) = g.interface_policy {
                return Err(ConfigError::InterfacePolicy { text: g.interface_policy.to_string() });
            }
        }
        if self.contexts.len() > CONTEXTS_MAX {
            return Err(ConfigError::Invalid { field: "contexts", detail: format!("at most {CONTEXTS_MAX}") });
        }
        for (i, c) in self.contexts.iter().enumerate() {
            if c.name == "admin" && c.group != Group::One {
                return Err(ConfigError::Inconsistent {
                    field: "join-failover-group",
                    rule: "the admin context is always in failover group 1",
                });
            }
            if self.contexts.iter().skip(i + 1).any(|o| o.name == c.name) {
                return Err(ConfigError::Invalid { field: "context", detail: format!("{} is defined twice", c.name) });
            }
        }
        let monitored = self.interfaces.iter().filter(|i| i.monitored).count();
        if monitored > MONITORED_INTERFACES_MAX {
            return Err(ConfigError::Invalid {
                field: "monitor-interface",
                detail: format!("{monitored} monitored interfaces, at most {MONITORED_INTERFACES_MAX}"),
            });
        }
        for (i, iface) in self.interfaces.iter().enumerate() {
            if !self.contexts.iter().any(|c| c.name == iface.context) {
                return Err(ConfigError::Invalid {
                    field: "interface",
                    detail: format!("{} belongs to no configured context", iface.qualified_name()),
                });
            }
            if self.interfaces.iter().skip(i + 1).any(|o| o.context == iface.context && o.name == iface.name) {
                return Err(ConfigError::Invalid {
                    field: "interface",
                    detail: format!("{} is defined twice", iface.qualified_name()),
                });
            }
        }
        Ok(())
    }

    /// The hardware and licensing facts of this unit.
    pub fn device(&self) -> Device {
        self.device.clone().unwrap_or_else(|| Device::default_for(self.role))
    }

    /// The group that owns a context (group 1 for an unknown context).
    pub fn group_of_context(&self, context: &str) -> Group {
        self.contexts.iter().find(|c| c.name == context).map_or(Group::One, |c| c.group)
    }
}
