//! The view structs a unit fills for each `show` command.

use super::*;

// ----- views -----------------------------------------------------------------

/// What a host's line says about one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShownState {
    /// A group state (this unit's, or the mate's from its last current hello).
    State(GroupState),
    /// The mate has never been heard (`Not Detected`).
    NotDetected,
    /// The mate was heard once but is no longer (declared failed, or its
    /// hellos stopped): the appliance prints `Failed`.
    MateLost,
}

impl ShownState {
    /// The text the appliance prints.
    pub fn as_str(self) -> &'static str {
        match self {
            ShownState::State(s) => s.as_str(),
            ShownState::NotDetected => "Not Detected",
            ShownState::MateLost => "Failed",
        }
    }

    /// Whether the group passes traffic there (so the host uses the active addresses).
    pub fn is_active(self) -> bool {
        matches!(self, ShownState::State(s) if s.is_active())
    }
}

impl fmt::Display for ShownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One group on one host of `show failover`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupLine {
    pub group: Group,
    pub state: ShownState,
    /// Whole seconds the group has been active there.
    pub active_time_s: u64,
}

/// One data interface as one host sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceRow {
    pub context: String,
    pub name: String,
    /// The group of the interface's context.
    pub group: Group,
    /// The active address (`None`: unknown, printed `0.0.0.0`).
    pub address: Option<Ipv4Addr>,
    pub standby: Option<Ipv4Addr>,
    /// `None`: unknown on that host (the mate is not current).
    pub status: Option<InterfaceStatus>,
    pub monitored: bool,
    /// No frame from the peer heard on it yet: not tested.
    pub waiting: bool,
}

impl InterfaceRow {
    /// The address a host prints: the active one where the group is active, else the standby one.
    pub fn shown_address(&self, group_active: bool) -> Ipv4Addr {
        let a = if group_active { self.address } else { self.standby };
        a.unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// `Normal (Monitored)`, `Link Down (Waiting)`, `Unknown (Waiting)`, `Normal (Not-Monitored)`.
    pub fn shown_status(&self) -> String {
        let status = self.status.map_or("Unknown", InterfaceStatus::as_str);
        let qualifier = if self.status.is_none() || self.waiting {
            "Waiting"
        } else if self.monitored {
            "Monitored"
        } else {
            "Not-Monitored"
        };
        format!("{status} ({qualifier})")
    }
}

/// One host (this unit or its mate) of `show failover`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostView {
    pub role: Role,
    pub groups: Vec<GroupLine>,
    /// `slot 0:` line: model and software version.
    pub model: String,
    pub version: Option<SoftwareVersion>,
    pub interfaces: Vec<InterfaceRow>,
}

impl HostView {
    pub(super) fn group_active(&self, group: Group) -> bool {
        self.groups.iter().any(|g| g.group == group && g.state.is_active())
    }

    pub(super) fn group_state(&self, group: Group) -> Option<ShownState> {
        self.groups.iter().find(|g| g.group == group).map(|g| g.state)
    }
}

/// A link line: `folink Ethernet3 (up)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkLine {
    pub name: String,
    pub hardware: String,
    pub up: bool,
}

impl fmt::Display for LinkLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.name, self.hardware, if self.up { "up" } else { "down" })
    }
}

/// One row of the stateful statistics table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatefulRow {
    pub object: String,
    pub counters: StatefulCounters,
}

/// The `Stateful Failover Logical Update Statistics` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatefulView {
    /// `None`: no state link configured (`Link : Unconfigured.`, no table).
    pub link: Option<LinkLine>,
    pub rows: Vec<StatefulRow>,
    /// Cur, Max, Total of the receive and transmit queues.
    pub recv_q: [u64; 3],
    pub xmit_q: [u64; 3],
}

/// The object rows of the stateful table, in the appliance's order (7.2).
pub const STATEFUL_OBJECTS: &[&str] = &[
    "General",
    "sys cmd",
    "up time",
    "RPC services",
    "TCP conn",
    "UDP conn",
    "ARP tbl",
    "Xlate_Timeout",
    "VPN IKE upd",
    "VPN IPSEC upd",
    "VPN CTCP upd",
    "VPN SDI upd",
    "VPN DHCP upd",
];

/// `show failover`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverView {
    pub failover_on: bool,
    pub role: Role,
    pub lan: LinkLine,
    pub unit_polltime: Duration,
    pub unit_holdtime: Duration,
    pub interface_polltime: Duration,
    pub interface_holdtime: Duration,
    pub interface_policy: InterfacePolicy,
    pub monitored: usize,
    pub monitored_max: usize,
    pub replication_http: bool,
    pub version: SoftwareVersion,
    /// The mate's version from its last hello (`None`: never heard, printed `Unknown`).
    pub mate_version: Option<SoftwareVersion>,
    /// Per group, when it last failed over as this unit saw it.
    pub last_failover: Vec<(Group, WallTime)>,
    pub this_host: HostView,
    pub other_host: HostView,
    pub stateful: StatefulView,
}

/// One line of `show failover state` for one host and group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateLine {
    pub group: Group,
    pub state: ShownState,
    /// `None` prints `None`.
    pub last_failure: Option<(String, Option<WallTime>)>,
    /// Detail lines under the failure (`admin if0: Failed`).
    pub details: Vec<String>,
}

/// `show failover state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateView {
    pub role: Role,
    pub this_host: Vec<StateLine>,
    pub other_host: Vec<StateLine>,
    /// `Sync Done`, `Sync Done - STANDBY`, ...
    pub configuration_state: String,
    pub communication_state: String,
}

/// One row of `show failover history`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    pub at: WallTime,
    pub from: GroupState,
    pub to: GroupState,
    pub reason: String,
}

/// `show failover history`: one table per group, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryView {
    pub groups: Vec<(Group, Vec<HistoryRow>)>,
}

/// One interface of `show failover interface`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverInterfaceRow {
    pub name: String,
    pub hardware: String,
    pub address: Option<InterfaceAddress>,
    pub role: Role,
}

/// `show failover interface`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverInterfaceView {
    pub interfaces: Vec<FailoverInterfaceRow>,
}

/// `show running-config [all] failover`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningConfigView {
    pub all: bool,
    pub failover_on: bool,
    pub role: Role,
    pub failover_hardware: String,
    pub failover_address: Option<InterfaceAddress>,
    pub state_link: Option<(String, String)>,
    /// The state link is the failover link.
    pub state_link_shared: bool,
    pub key_set: bool,
    pub unit_polltime: Duration,
    pub unit_holdtime: Duration,
    pub groups: Vec<(Group, crate::config::settings::GroupConfig)>,
}

/// `show version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionView {
    pub version: SoftwareVersion,
    pub hostname: String,
    pub uptime: Duration,
    pub model: String,
    pub ram_mb: u32,
    pub cpu: String,
    pub activation: ActivationKeyView,
}

/// `show activation-key`, also the license part of `show version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationKeyView {
    pub serial: Option<String>,
    pub running_key: Option<ActivationKey>,
    /// The flash key when it differs from the running key.
    pub flash_key: Option<ActivationKey>,
    pub license: License,
}
