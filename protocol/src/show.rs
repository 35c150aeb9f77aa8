//! The operator `show` commands, in the appliance's layout (PROTOCOL.md section 11).
//!
//! This module is pure: plain view structs and `render_*` functions that
//! turn a view into the text the appliance prints. [`crate::Unit::show`]
//! builds the views from a unit's state (see `unit/show.rs`); what the unit
//! does not know yet (hostname, addresses, serial number, license, model)
//! comes from a [`DeviceInfo`].
//!
//! Times the appliance prints as wall-clock time (`13:21:45 UTC Jan 1 2026`)
//! are the unit's own [`Instant`] counted from [`WALL_CLOCK_EPOCH_UNIX_S`]
//! (Jan 1 2026 00:00:00 UTC): never the host's clock, so that output is a
//! function of the run.
//!
//! ```
//! use fover_protocol::show::{ShowCommand, WallTime};
//! use fover_protocol::Instant;
//!
//! assert_eq!(ShowCommand::parse("show failover state"), Ok(ShowCommand::FailoverState));
//! assert!(ShowCommand::parse("show failover bogus").is_err());
//! let t = WallTime::from_instant(Instant::from_ms(48_105_000));
//! assert_eq!(t.to_string(), "13:21:45 UTC Jan 1 2026");
//! ```

use crate::config::InterfacePolicy;
use crate::constants::FAILOVER_LINK_NAME;
use crate::license::{ActivationKey, Features, License, LicenseKind};
use crate::time::Instant;
use crate::wire::{Group, GroupState, InterfaceStatus, Role, SoftwareVersion};
use core::fmt::{self, Write as _};
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Wall-clock time of a unit's clock reading zero, in seconds since the Unix
/// epoch: Jan 1 2026 00:00:00 UTC.
pub const WALL_CLOCK_EPOCH_UNIX_S: u64 = 1_767_225_600;

// ----- commands ------------------------------------------------------------

/// A `show` command the unit answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShowCommand {
    /// `show failover`.
    Failover,
    /// `show failover state`.
    FailoverState,
    /// `show failover history`.
    FailoverHistory,
    /// `show failover interface`.
    FailoverInterface,
    /// `show monitor-interface`.
    MonitorInterface,
    /// `show running-config [all] failover`.
    RunningConfigFailover { all: bool },
    /// `show running-config`: the system space, then each context.
    RunningConfig,
    /// `show version`.
    Version,
    /// `show activation-key`.
    ActivationKey,
}

/// Every command line [`ShowCommand::parse`] accepts, for error messages.
pub const SHOW_COMMANDS: &[&str] = &[
    "show failover",
    "show failover state",
    "show failover history",
    "show failover interface",
    "show monitor-interface",
    "show running-config",
    "show running-config failover",
    "show running-config all failover",
    "show version",
    "show activation-key",
];

/// A `show` command line that could not be answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShowError {
    #[error("{line:?}: not a show command this unit answers; expected one of: {}", SHOW_COMMANDS.join(", "))]
    Unknown { line: String },
}

impl ShowCommand {
    /// Parses a command line: words separated by any whitespace, case ignored.
    pub fn parse(line: &str) -> Result<ShowCommand, ShowError> {
        let words: Vec<String> = line.split_whitespace().map(str::to_ascii_lowercase).collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let cmd = match words.as_slice() {
            ["show", "failover"] => ShowCommand::Failover,
            ["show", "failover", "state"] => ShowCommand::FailoverState,
            ["show", "failover", "history"] => ShowCommand::FailoverHistory,
            ["show", "failover", "interface"] => ShowCommand::FailoverInterface,
            ["show", "monitor-interface"] => ShowCommand::MonitorInterface,
            ["show", "running-config"] => ShowCommand::RunningConfig,
            ["show", "running-config", "failover"] => ShowCommand::RunningConfigFailover { all: false },
            ["show", "running-config", "all", "failover"] => ShowCommand::RunningConfigFailover { all: true },
            ["show", "version"] => ShowCommand::Version,
            ["show", "activation-key"] => ShowCommand::ActivationKey,
            _ => return Err(ShowError::Unknown { line: line.trim().to_owned() }),
        };
        Ok(cmd)
    }
}

// ----- wall clock ----------------------------------------------------------

/// A wall-clock time the appliance prints, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WallTime(pub u64);

impl WallTime {
    /// The wall-clock time of a unit clock reading: [`WALL_CLOCK_EPOCH_UNIX_S`] plus the reading.
    pub fn from_instant(at: Instant) -> WallTime {
        WallTime(WALL_CLOCK_EPOCH_UNIX_S + at.as_nanos() / 1_000_000_000)
    }

    /// (year, month 1-12, day 1-31) of the UTC date.
    fn civil_date(self) -> (i64, u32, u32) {
        // Days to civil date (H. Hinnant's algorithm), exact for the proleptic Gregorian calendar.
        let z = (self.0 / 86_400) as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

impl fmt::Display for WallTime {
    /// `13:21:45 UTC Jan 1 2026`, as the appliance prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.civil_date();
        let s = self.0 % 86_400;
        let month = MONTHS[month as usize - 1];
        write!(f, "{:02}:{:02}:{:02} UTC {month} {day} {year}", s / 3_600, (s / 60) % 60, s % 60)
    }
}

// ----- device information ----------------------------------------------------

/// Active and standby address of a data interface (`ip address A M standby S`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceAddress {
    pub address: Ipv4Addr,
    pub mask: Ipv4Addr,
    pub standby: Option<Ipv4Addr>,
}

/// Stateful failover counters of one object type (one row of the table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatefulCounters {
    pub xmit: u64,
    pub xerr: u64,
    pub rcv: u64,
    pub rerr: u64,
}

/// What a unit's `show` commands print that the failover state machine does
/// not know: the running configuration, flash, license and hardware. The
/// defaults stand in until those are wired into the unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// `hostname`.
    pub hostname: String,
    /// Hardware model, `show version` and `slot 0:` of `show failover`.
    pub model: String,
    pub ram_mb: u32,
    pub cpu: String,
    /// This unit's serial number (`None`: printed as `Unknown`).
    pub serial: Option<String>,
    pub license: License,
    /// The running activation key (`None`: printed as `Not Available`).
    pub activation_key: Option<ActivationKey>,
    /// The key stored in flash, when it differs from the running key.
    pub flash_activation_key: Option<ActivationKey>,
    /// Hardware name of the failover link (`failover lan interface folink Ethernet3`).
    pub failover_hardware: String,
    /// `failover interface ip folink A M standby S`.
    pub failover_address: Option<InterfaceAddress>,
    /// The separate state link, when there is one: name and hardware.
    pub state_link: Option<(String, String)>,
    /// Addresses of the data interfaces, by [`crate::unit::IfaceId`]; a missing
    /// entry is an interface with no address (printed `0.0.0.0`).
    pub interface_addresses: Vec<Option<InterfaceAddress>>,
    /// When the unit powered on, on its own clock (`None`: its oldest history entry).
    pub booted_at: Option<Instant>,
    /// Stateful counters by object name (`TCP conn`, `ARP tbl`, ...); the
    /// rows not given are zero. `General` and `sys cmd` come from the unit.
    pub stateful: BTreeMap<String, StatefulCounters>,
}

impl Default for DeviceInfo {
    fn default() -> DeviceInfo {
        DeviceInfo {
            hostname: "ciscoasa".into(),
            model: "ASA5520".into(),
            ram_mb: 512,
            cpu: "Pentium 4 Celeron 2000 MHz".into(),
            serial: None,
            license: License { kind: LicenseKind::Unrestricted, features: Features { contexts: 20, vpn_peers: 750 } },
            activation_key: None,
            flash_activation_key: None,
            failover_hardware: "Ethernet3".into(),
            failover_address: Some(InterfaceAddress {
                address: Ipv4Addr::new(10, 0, 0, 1),
                mask: Ipv4Addr::new(255, 255, 255, 252),
                standby: Some(Ipv4Addr::new(10, 0, 0, 2)),
            }),
            state_link: None,
            interface_addresses: Vec::new(),
            booted_at: None,
            stateful: BTreeMap::new(),
        }
    }
}

impl DeviceInfo {
    /// The defaults, with data interface `i` numbered `192.168.i.1/24 standby
    /// 192.168.i.2` (i < 256): a stand-in until the running configuration
    /// gives the real addresses.
    pub fn numbered(interfaces: usize) -> DeviceInfo {
        let interface_addresses = (0..interfaces)
            .map(|i| {
                let i = u8::try_from(i).ok()?;
                Some(InterfaceAddress {
                    address: Ipv4Addr::new(192, 168, i, 1),
                    mask: Ipv4Addr::new(255, 255, 255, 0),
                    standby: Some(Ipv4Addr::new(192, 168, i, 2)),
                })
            })
            .collect();
        DeviceInfo { interface_addresses, ..DeviceInfo::default() }
    }
}

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
    fn group_active(&self, group: Group) -> bool {
        self.groups.iter().any(|g| g.group == group && g.state.is_active())
    }

    fn group_state(&self, group: Group) -> Option<ShownState> {
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
    pub groups: Vec<(Group, crate::config::GroupConfig)>,
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

// ----- renderers ---------------------------------------------------------------

/// `200 milliseconds` below a second or off whole seconds, else `5 seconds`.
fn duration_words(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 || ms % 1_000 != 0 { format!("{ms} milliseconds") } else { format!("{} seconds", ms / 1_000) }
}

fn line(out: &mut String, args: fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
    out.push('\n');
}

macro_rules! outln {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => { line($out, format_args!($($arg)*)) };
}

fn render_host(out: &mut String, label: &str, host: &HostView) {
    // `  This host:    Primary` / `  Other host:   Secondary`: the value starts in column 16.
    outln!(out, "  {:<14}{}", format!("{label}:"), host.role);
    for g in &host.groups {
        // At column 0, unlike the appliance's indented line: the common
        // TextFSM template (ntc-templates) anchors `Group N State:` there.
        outln!(out, "{:<16}{:<16}{}", format!("Group {}", g.group), "State:", g.state);
        outln!(out, "{:16}{:<16}{} (sec)", "", "Active time:", g.active_time_s);
    }
    outln!(out);
    let version = host.version.map_or_else(|| "Unknown".to_owned(), |v| v.to_string());
    outln!(out, "{:16}slot 0: {} hw/sw rev (1.0/{version}) status (Up Sys)", "", host.model);
    for row in &host.interfaces {
        outln!(
            out,
            "{:16}{} Interface {} ({}): {}",
            "",
            row.context,
            row.name,
            row.shown_address(host.group_active(row.group)),
            row.shown_status()
        );
    }
}

/// `show failover`.
pub fn render_failover(v: &FailoverView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Failover {}", if v.failover_on { "On" } else { "Off" });
    outln!(o, "Failover unit {}", v.role);
    outln!(o, "Failover LAN Interface: {}", v.lan);
    outln!(o, "Unit Poll frequency {}, holdtime {}", duration_words(v.unit_polltime), duration_words(v.unit_holdtime));
    outln!(
        o,
        "Interface Poll frequency {}, holdtime {}",
        duration_words(v.interface_polltime),
        duration_words(v.interface_holdtime)
    );
    outln!(o, "Interface Policy {}", v.interface_policy);
    outln!(o, "Monitored Interfaces {} of {} maximum", v.monitored, v.monitored_max);
    if v.replication_http {
        outln!(o, "failover replication http");
    }
    let mate = v.mate_version.map_or_else(|| "Unknown".to_owned(), |m| m.to_string());
    outln!(o, "Version: Ours {}, Mate {mate}", v.version);
    for (g, at) in &v.last_failover {
        outln!(o, "Group {g} last failover at: {at}");
    }
    outln!(o);
    render_host(o, "This host", &v.this_host);
    outln!(o);
    render_host(o, "Other host", &v.other_host);
    outln!(o);
    render_stateful(o, &v.stateful);
    out
}

fn render_stateful(o: &mut String, s: &StatefulView) {
    outln!(o, "Stateful Failover Logical Update Statistics");
    let Some(link) = &s.link else {
        outln!(o, "        Link : Unconfigured.");
        return;
    };
    outln!(o, "        Link : {link}");
    outln!(o, "        {:<16}{:<11}{:<11}{:<11}{}", "Stateful Obj", "xmit", "xerr", "rcv", "rerr");
    for r in &s.rows {
        let c = r.counters;
        outln!(o, "        {:<16}{:<11}{:<11}{:<11}{}", r.object, c.xmit, c.xerr, c.rcv, c.rerr);
    }
    outln!(o);
    outln!(o, "        Logical Update Queue Information");
    outln!(o, "        {:16}{:<8}{:<8}{}", "", "Cur", "Max", "Total");
    for (name, q) in [("Recv Q:", s.recv_q), ("Xmit Q:", s.xmit_q)] {
        outln!(o, "        {name:<16}{:<8}{:<8}{}", q[0], q[1], q[2]);
    }
}

/// `show failover state`.
pub fn render_state(v: &StateView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "{:15}{:<15}{:<25}{}", "", "State", "Last Failure Reason", "Date/Time");
    for (label, role, lines) in
        [("This host  -   ", v.role, &v.this_host), ("Other host -   ", v.role.peer(), &v.other_host)]
    {
        outln!(o, "{label}{role}");
        for l in lines {
            let (reason, at) = match &l.last_failure {
                None => ("None".to_owned(), String::new()),
                Some((r, at)) => (r.clone(), at.map(|t| t.to_string()).unwrap_or_default()),
            };
            let text = format!("    {:<11}{:<15}{:<25}{at}", format!("Group {}", l.group), l.state.as_str(), reason);
            outln!(o, "{}", text.trim_end());
            for d in &l.details {
                outln!(o, "{:30}{d}", "");
            }
        }
    }
    outln!(o);
    outln!(o, "====Configuration State===");
    outln!(o, "        {}", v.configuration_state);
    outln!(o, "====Communication State===");
    outln!(o, "        {}", v.communication_state);
    out
}

/// `show failover history`.
pub fn render_history(v: &HistoryView) -> String {
    let rule = "=".repeat(74);
    let mut out = String::new();
    let o = &mut out;
    for (g, rows) in &v.groups {
        outln!(o, "Group {g}");
        outln!(o, "{rule}");
        outln!(o, "{:<27}{:<27}{}", "From State", "To State", "Reason");
        outln!(o, "{rule}");
        for r in rows {
            outln!(o, "{}", r.at);
            outln!(o, "{:<27}{:<27}{}", r.from.as_str(), r.to.as_str(), r.reason);
            outln!(o);
        }
        outln!(o, "{rule}");
    }
    out
}

/// `show failover interface`.
pub fn render_failover_interface(v: &FailoverInterfaceView) -> String {
    let mut out = String::new();
    let o = &mut out;
    for i in &v.interfaces {
        outln!(o, "        interface {} {}", i.name, i.hardware);
        match &i.address {
            None => outln!(o, "                System IP Address: Unconfigured."),
            Some(a) => {
                let standby = a.standby.map_or_else(|| "Unconfigured.".to_owned(), |s| s.to_string());
                let (mine, other) = match i.role {
                    Role::Primary => (a.address.to_string(), standby),
                    Role::Secondary => (standby, a.address.to_string()),
                };
                outln!(o, "                System IP Address: {} {}", a.address, a.mask);
                outln!(o, "                My IP Address    : {mine}");
                outln!(o, "                Other IP Address : {other}");
            }
        }
    }
    out
}

/// `show monitor-interface`: per group, this host's then the mate's interfaces of the group.
pub fn render_monitor_interface(this_host: &HostView, other_host: &HostView) -> String {
    let mut out = String::new();
    let o = &mut out;
    for g in Group::ALL {
        outln!(o, "Group {g}");
        for (label, host) in [("This host", this_host), ("Other host", other_host)] {
            let state = host.group_state(*g).map_or("Unknown", ShownState::as_str);
            outln!(o, "       {label}: {} - {state}", host.role);
            for row in host.interfaces.iter().filter(|r| r.group == *g) {
                outln!(
                    o,
                    "              {} Interface {} ({}): {}",
                    row.context,
                    row.name,
                    row.shown_address(host.group_active(*g)),
                    row.shown_status()
                );
            }
        }
    }
    out
}

fn time_words(d: Duration, force_msec: bool) -> String {
    let ms = d.as_millis();
    if force_msec || ms % 1_000 != 0 { format!("msec {ms}") } else { format!("{}", ms / 1_000) }
}

/// `show running-config [all] failover`. Without `all`, options at their
/// default values are left out, as the appliance does.
pub fn render_running_config(v: &RunningConfigView) -> String {
    use crate::config::GroupConfig;
    use crate::constants::{UNIT_HOLDTIME_MS_DEFAULT, UNIT_POLLTIME_MS_DEFAULT};
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "{}", if v.failover_on { "failover" } else { "no failover" });
    outln!(o, "failover lan unit {}", v.role.as_lower());
    outln!(o, "failover lan interface {FAILOVER_LINK_NAME} {}", v.failover_hardware);
    let unit_default = v.unit_polltime == Duration::from_millis(UNIT_POLLTIME_MS_DEFAULT)
        && v.unit_holdtime == Duration::from_millis(UNIT_HOLDTIME_MS_DEFAULT);
    if v.all || !unit_default {
        let sub_second = v.unit_polltime.as_millis() < 1_000;
        outln!(
            o,
            "failover polltime unit {} holdtime {}",
            time_words(v.unit_polltime, sub_second),
            time_words(v.unit_holdtime, v.unit_holdtime.as_millis() < 1_000)
        );
    }
    if v.key_set {
        outln!(o, "failover key *****");
    }
    if v.state_link_shared {
        outln!(o, "failover link {FAILOVER_LINK_NAME} {}", v.failover_hardware);
    } else if let Some((name, hw)) = &v.state_link {
        outln!(o, "failover link {name} {hw}");
    }
    if let Some(a) = &v.failover_address {
        let standby = a.standby.map(|s| format!(" standby {s}")).unwrap_or_default();
        outln!(o, "failover interface ip {FAILOVER_LINK_NAME} {} {}{standby}", a.address, a.mask);
    }
    for (g, c) in &v.groups {
        let d = GroupConfig::default_for(*g);
        outln!(o, "failover group {g}");
        if v.all || c.preferred != d.preferred {
            outln!(o, "  {}", c.preferred.as_lower());
        }
        match c.preempt_delay {
            Some(delay) if delay.is_zero() => outln!(o, "  preempt"),
            Some(delay) => outln!(o, "  preempt {}", delay.as_secs()),
            None if v.all => outln!(o, "  no preempt"),
            None => {}
        }
        if v.all || c.replication_http {
            outln!(o, "  {}replication http", if c.replication_http { "" } else { "no " });
        }
        if v.all || c.interface_policy != d.interface_policy {
            outln!(o, "  interface-policy {}", c.interface_policy);
        }
        if v.all || c.interface_polltime != d.interface_polltime || c.interface_holdtime != d.interface_holdtime {
            outln!(
                o,
                "  polltime interface {} holdtime {}",
                time_words(c.interface_polltime, c.interface_polltime.as_millis() < 1_000),
                c.interface_holdtime.as_secs()
            );
        }
    }
    out
}

fn uptime_words(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} hour{}", if hours == 1 { "" } else { "s" }));
    }
    if mins > 0 {
        parts.push(format!("{mins} min{}", if mins == 1 { "" } else { "s" }));
    }
    if parts.is_empty() || days == 0 && hours == 0 {
        parts.push(format!("{secs} sec{}", if secs == 1 { "" } else { "s" }));
    }
    parts.join(" ")
}

fn render_license(o: &mut String, v: &ActivationKeyView) {
    let l = &v.license;
    let failover = match l.kind {
        LicenseKind::Unrestricted | LicenseKind::FailoverOnlyActiveActive => "Active/Active",
        LicenseKind::FailoverOnly => "Active/Standby",
        LicenseKind::Restricted => "Disabled",
    };
    outln!(o, "Licensed features for this platform:");
    outln!(o, "{:<28}: {failover}", "Failover");
    outln!(o, "{:<28}: {}", "Security Contexts", l.features.contexts);
    outln!(o, "{:<28}: {}", "VPN Peers", l.features.vpn_peers);
    outln!(o);
    let name = l.kind.long_name();
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    outln!(o, "This platform has {article} {name} ({}) license.", l.kind.as_str());
}

fn key_words(key: Option<ActivationKey>) -> String {
    key.map_or_else(|| "Not Available".to_owned(), |k| k.to_string())
}

/// `show activation-key`.
pub fn render_activation_key(v: &ActivationKeyView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Serial Number: {}", v.serial.as_deref().unwrap_or("Unknown"));
    outln!(o, "Running Activation Key: {}", key_words(v.running_key));
    outln!(o);
    render_license(o, v);
    outln!(o);
    match v.flash_key {
        None => outln!(o, "The flash activation key is the SAME as the running key."),
        Some(k) => {
            outln!(o, "The flash activation key is DIFFERENT from the running key.");
            outln!(o, "The flash activation key takes effect after the next reload.");
            outln!(o, "Flash activation key: {k}");
        }
    }
    out
}

/// `show version`.
pub fn render_version(v: &VersionView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Cisco Adaptive Security Appliance Software Version {} <system>", v.version);
    outln!(o);
    outln!(o, "{} up {}", v.hostname, uptime_words(v.uptime));
    outln!(o);
    outln!(o, "Hardware:   {}, {} MB RAM, CPU {}", v.model, v.ram_mb, v.cpu);
    outln!(o);
    render_license(o, &v.activation);
    outln!(o);
    outln!(o, "Serial Number: {}", v.activation.serial.as_deref().unwrap_or("Unknown"));
    outln!(o, "Running Activation Key: {}", key_words(v.activation.running_key));
    outln!(o, "Configuration register is 0x1");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_formats_like_the_appliance() {
        assert_eq!(WallTime::from_instant(Instant::ZERO).to_string(), "00:00:00 UTC Jan 1 2026");
        // Leap year, end of February, and a year boundary.
        assert_eq!(WallTime(1_709_164_799).to_string(), "23:59:59 UTC Feb 28 2024");
        assert_eq!(WallTime(1_709_164_800).to_string(), "00:00:00 UTC Feb 29 2024");
        assert_eq!(WallTime(1_798_761_599).to_string(), "23:59:59 UTC Dec 31 2026");
    }

    #[test]
    fn durations_read_like_the_appliance() {
        assert_eq!(duration_words(Duration::from_millis(200)), "200 milliseconds");
        assert_eq!(duration_words(Duration::from_secs(15)), "15 seconds");
        assert_eq!(uptime_words(Duration::from_secs(20)), "20 secs");
        assert_eq!(uptime_words(Duration::from_secs(3_725)), "1 hour 2 mins");
    }

    #[test]
    fn unknown_show_commands_are_errors_that_list_the_known_ones() {
        let e = ShowCommand::parse("show failover grup 1").unwrap_err();
        assert!(e.to_string().contains("show failover history"), "{e}");
        assert!(ShowCommand::parse("").is_err());
        assert_eq!(ShowCommand::parse("  SHOW   Version "), Ok(ShowCommand::Version));
    }
}
