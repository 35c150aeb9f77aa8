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

use crate::config::license::{ActivationKey, Features, License, LicenseKind};
use crate::config::settings::InterfacePolicy;
use crate::constants::FAILOVER_LINK_NAME;
use crate::time::Instant;
use crate::types::{Group, GroupState, InterfaceStatus, Role, SoftwareVersion};
use core::fmt::{self, Write as _};
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

mod render;
mod view;

pub use render::*;
pub use view::*;

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

/// Parses a `show` line. `Ok(None)` means the line is not a `show` command at
/// all; an unknown `show` command is an error that lists the known ones. The
/// unit answers with [`crate::Unit::show`].
pub fn parse_show_command(line: &str) -> Result<Option<ShowCommand>, ShowError> {
    match line.split_whitespace().next() {
        Some(w) if w.eq_ignore_ascii_case("show") => ShowCommand::parse(line).map(Some),
        _ => Ok(None),
    }
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
    /// Addresses of the data interfaces, by [`crate::types::IfaceId`]; a missing
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
