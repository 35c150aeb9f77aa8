//! The pair under test as data: timers, groups, contexts and per-unit
//! differences, in the shape of a scenario file's `[pair]`, `[[group]]` and
//! `[[context]]` tables. Defaults are the msec profile.

use crate::schedule::UnitName;
use fover_protocol::UnitConfig;
use fover_protocol::config::settings::{ContextConfig, GroupConfig, InterfaceConfig, InterfacePolicy, StateLink};
use fover_protocol::types::{Group, SoftwareVersion};
use fover_protocol::wire::auth::FailoverKey;
use serde::{Deserialize, Serialize};
use std::time::Duration;

fn d_poll() -> u64 {
    200
}
fn d_hold() -> u64 {
    800
}
fn d_ipoll() -> u64 {
    500
}
fn d_ihold() -> u64 {
    5000
}
fn d_version() -> String {
    "7.2(4)".into()
}
fn d_license() -> String {
    "UR".into()
}
fn d_model() -> String {
    "ASA5520".into()
}

/// Per-unit differences from `[pair]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Security contexts the license allows (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licensed_contexts: Option<u16>,
    /// VPN peers the license allows (default 750).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licensed_vpn_peers: Option<u16>,
    /// Extra data interfaces (`context/interface`) only this unit has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_interfaces: Vec<String>,
}

/// `[pair]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    #[serde(default = "d_poll")]
    pub unit_polltime_ms: u64,
    #[serde(default = "d_hold")]
    pub unit_holdtime_ms: u64,
    #[serde(default = "d_ipoll")]
    pub interface_polltime_ms: u64,
    #[serde(default = "d_ihold")]
    pub interface_holdtime_ms: u64,
    /// A state link exists.
    #[serde(default)]
    pub stateful: bool,
    /// `"shared"` (default: the failover link) or `"separate"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_key: Option<String>,
    #[serde(default = "d_version")]
    pub version: String,
    #[serde(default = "d_license")]
    pub license: String,
    #[serde(default = "d_model")]
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<UnitOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<UnitOverride>,
}

impl Default for PairSpec {
    fn default() -> PairSpec {
        PairSpec {
            unit_polltime_ms: d_poll(),
            unit_holdtime_ms: d_hold(),
            interface_polltime_ms: d_ipoll(),
            interface_holdtime_ms: d_ihold(),
            stateful: false,
            state_link: None,
            failover_key: None,
            version: d_version(),
            license: d_license(),
            model: d_model(),
            primary: None,
            secondary: None,
        }
    }
}

/// `[[group]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub id: u8,
    pub preferred: UnitName,
    /// Absent: no preempt; 0: preempt without delay. Whole seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preempt_ms: Option<u64>,
    /// A count `"N"` or a percentage `"N%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface_policy: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replication_http: bool,
}

/// `[[context]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSpec {
    pub name: String,
    /// Absent: group 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u8>,
    pub interfaces: Vec<String>,
}

/// The contexts used when a run names none: `admin` (group 1) and `ctx2`
/// (group 2), each with `inside` and `outside`.
pub fn default_contexts() -> Vec<ContextSpec> {
    vec![
        ContextSpec { name: "admin".into(), group: None, interfaces: vec!["inside".into(), "outside".into()] },
        ContextSpec { name: "ctx2".into(), group: Some(2), interfaces: vec!["inside".into(), "outside".into()] },
    ]
}

fn group_of(id: u8) -> Result<Group, String> {
    Group::from_code(id).ok_or_else(|| format!("group {id}: there are only groups 1 and 2"))
}

impl PairSpec {
    fn override_of(&self, unit: UnitName) -> Option<&UnitOverride> {
        match unit {
            UnitName::Primary => self.primary.as_ref(),
            UnitName::Secondary => self.secondary.as_ref(),
        }
    }

    /// The failover key text of a unit, if any.
    pub fn key_of(&self, unit: UnitName) -> Option<&str> {
        self.override_of(unit).and_then(|o| o.failover_key.as_deref()).or(self.failover_key.as_deref())
    }

    /// Whether both units have the same key (or both none).
    pub fn keys_match(&self) -> bool {
        self.key_of(UnitName::Primary) == self.key_of(UnitName::Secondary)
    }

    /// Whether the state link is a separate interface.
    pub fn separate_state_link(&self) -> bool {
        self.stateful && self.state_link.as_deref() == Some("separate")
    }
}

/// The data interfaces of the pair, `context/interface`, in link order.
pub fn interface_names(contexts: &[ContextSpec]) -> Vec<String> {
    contexts.iter().flat_map(|c| c.interfaces.iter().map(move |i| format!("{}/{i}", c.name))).collect()
}

/// Builds both units' settings; an error names the field.
pub fn unit_configs(
    pair: &PairSpec,
    groups: &[GroupSpec],
    contexts: &[ContextSpec],
) -> Result<[UnitConfig; 2], String> {
    let contexts: Vec<ContextSpec> = if contexts.is_empty() { default_contexts() } else { contexts.to_vec() };
    let mut group_cfgs = [GroupConfig::default_for(Group::One), GroupConfig::default_for(Group::Two)];
    for g in &mut group_cfgs {
        g.interface_polltime = Duration::from_millis(pair.interface_polltime_ms);
        g.interface_holdtime = Duration::from_millis(pair.interface_holdtime_ms);
    }
    for (i, g) in groups.iter().enumerate() {
        let group = group_of(g.id)?;
        if groups.iter().skip(i + 1).any(|o| o.id == g.id) {
            return Err(format!("group {}: defined twice", g.id));
        }
        let cfg = &mut group_cfgs[group.index()];
        cfg.preferred = g.preferred.role();
        cfg.preempt_delay = match g.preempt_ms {
            None => None,
            Some(ms) if ms % 1000 == 0 => Some(Duration::from_millis(ms)),
            Some(ms) => return Err(format!("group {}: preempt_ms = {ms}: the delay is in whole seconds", g.id)),
        };
        if let Some(p) = &g.interface_policy {
            cfg.interface_policy = InterfacePolicy::parse(p).map_err(|e| format!("group {}: {e}", g.id))?;
        }
        cfg.replication_http = g.replication_http;
    }
    let mut context_cfgs = Vec::new();
    let mut interfaces = Vec::new();
    for c in &contexts {
        let group = match c.group {
            None => Group::One,
            Some(id) => group_of(id).map_err(|e| format!("context {}: {e}", c.name))?,
        };
        context_cfgs.push(ContextConfig { name: c.name.clone(), group });
        for i in &c.interfaces {
            interfaces.push(InterfaceConfig { context: c.name.clone(), name: i.clone(), monitored: !i.contains('.') });
        }
    }
    let mut out = Vec::new();
    for unit in UnitName::BOTH {
        let over = pair.override_of(unit);
        let version_text = over.and_then(|o| o.version.as_deref()).unwrap_or(&pair.version);
        let version = SoftwareVersion::parse(version_text)
            .ok_or_else(|| format!("{unit}: version {version_text:?} is not major.minor(patch), e.g. \"7.2(4)\""))?;
        let failover_key = match pair.key_of(unit) {
            None => None,
            Some(k) => Some(FailoverKey::parse(k).map_err(|e| format!("{unit}: {e}"))?),
        };
        let mut ifaces = interfaces.clone();
        for extra in over.map(|o| o.extra_interfaces.as_slice()).unwrap_or(&[]) {
            let (ctx, name) = extra
                .split_once('/')
                .ok_or_else(|| format!("{unit}: extra interface {extra:?} is not context/interface"))?;
            ifaces.push(InterfaceConfig { context: ctx.into(), name: name.into(), monitored: true });
        }
        let license_text = over.and_then(|o| o.license.as_deref()).unwrap_or(&pair.license);
        let kind = fover_protocol::config::license::LicenseKind::parse(license_text)
            .ok_or_else(|| format!("{unit}: license {license_text:?} is not one of UR, R, FO, FO_AA"))?;
        let model = over.and_then(|o| o.model.clone()).unwrap_or_else(|| pair.model.clone());
        let device = fover_protocol::config::settings::Device {
            model,
            factory_license: fover_protocol::config::license::License {
                kind,
                features: fover_protocol::config::license::Features {
                    contexts: over.and_then(|o| o.licensed_contexts).unwrap_or(20),
                    vpn_peers: over.and_then(|o| o.licensed_vpn_peers).unwrap_or(750),
                },
            },
            ..fover_protocol::config::settings::Device::default_for(unit.role())
        };
        let cfg = UnitConfig {
            role: unit.role(),
            failover_enabled: true,
            unit_polltime: Duration::from_millis(pair.unit_polltime_ms),
            unit_holdtime: Duration::from_millis(pair.unit_holdtime_ms),
            groups: group_cfgs.clone(),
            contexts: context_cfgs.clone(),
            interfaces: ifaces,
            state_link: match (pair.stateful, pair.state_link.as_deref()) {
                (false, _) => StateLink::None,
                (true, None | Some("shared")) => StateLink::SharedWithFailover,
                (true, Some("separate")) => StateLink::Separate,
                (true, Some(other)) => {
                    return Err(format!("state_link = {other:?}: expected \"shared\" or \"separate\""));
                }
            },
            failover_key,
            version,
            planted_bug: None,
            device: Some(device),
        };
        cfg.validate().map_err(|e| format!("{unit}: {e}"))?;
        out.push(cfg);
    }
    let secondary = out.pop().ok_or("internal: no secondary")?;
    let primary = out.pop().ok_or("internal: no primary")?;
    Ok([primary, secondary])
}
