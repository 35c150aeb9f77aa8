//! The views of the `show` commands, built from a unit's state; the text
//! comes from the pure renderers of [`crate::show`].

use super::{Mode, Unit};
use crate::config::settings::StateLink;
use crate::connections::ObjectType;
use crate::constants::{FAILOVER_LINK_NAME, MONITORED_INTERFACES_MAX};
use crate::show::{
    self, ActivationKeyView, DeviceInfo, FailoverInterfaceRow, FailoverInterfaceView, FailoverView, GroupLine,
    HistoryRow, HistoryView, HostView, InterfaceRow, LinkLine, RunningConfigView, ShowCommand, ShowError, ShownState,
    StateLine, StateView, StatefulCounters, StatefulRow, StatefulView, VersionView, WallTime,
};
use crate::time::Instant;
use crate::types::{Group, GroupState};
use crate::unit::{IfaceId, Reason};
use core::time::Duration;

/// Whole seconds of the time a group spent in states for which `pred` holds,
/// from its history, up to `now`.
fn time_in(history: &[super::HistoryEntry], now: Instant, pred: impl Fn(GroupState) -> bool) -> u64 {
    let mut total = Duration::ZERO;
    let mut since: Option<Instant> = None;
    for e in history {
        match (pred(e.from), pred(e.to)) {
            (false, true) => since = Some(e.time),
            (true, false) => {
                // An entry that ends a span whose start was dropped from the
                // bounded history counts from the oldest entry.
                let start = since.take().unwrap_or(history[0].time);
                total += e.time.saturating_since(start);
            }
            _ => {}
        }
    }
    if let (Some(start), Some(last)) = (since, history.last()) {
        if pred(last.to) {
            total += now.saturating_since(start);
        }
    }
    total.as_secs()
}

/// An entry that moves the group between the active and the standby side,
/// or into or out of Failed: a failover as `last failover at` counts it.
fn is_failover(e: &super::HistoryEntry) -> bool {
    matches!(e.to, GroupState::JustActive | GroupState::ColdStandby | GroupState::Failed)
        || e.to == GroupState::StandbyReady && !e.from.is_standby()
}

impl Unit {
    /// The output of a `show` command at `now` (this unit's clock), with the
    /// [`DeviceInfo`] defaults and its data interfaces numbered
    /// ([`DeviceInfo::numbered`]).
    pub fn show(&self, now: Instant, command: &str) -> Result<String, ShowError> {
        self.show_with(now, command, &self.device_info())
    }

    /// What `show` prints that lives in the running config and flash: the
    /// hostname, each data interface's `ip address` (from its context's
    /// `interface` block, by name) and the activation key; the rest defaults.
    pub(crate) fn device_info(&self) -> DeviceInfo {
        use crate::config::running::{IpAddress, Statement as Rc};
        use crate::types::Space;
        let running = self.running_config();
        let mut device = DeviceInfo::default();
        for line in running.system().lines() {
            if let Rc::Hostname(h) = line.command() {
                device.hostname = h.clone();
            }
        }
        device.interface_addresses = self
            .config
            .interfaces
            .iter()
            .map(|iface| {
                let ctx = running.space(&Space::Context(iface.context.clone()))?;
                let mut current = None;
                let mut found = None;
                for line in ctx.lines() {
                    match line.command() {
                        Rc::Interface { name } => current = Some(name.clone()),
                        Rc::IpAddress(IpAddress::Static { address, mask, standby })
                            if line.is_sub() && current.as_deref() == Some(iface.name.as_str()) =>
                        {
                            found = Some(show::InterfaceAddress { address: *address, mask: *mask, standby: *standby });
                        }
                        _ if !line.is_sub() => current = None,
                        _ => {}
                    }
                }
                found
            })
            .collect();
        device.activation_key = self.flash().activation_key();
        device
    }

    /// The output of a `show` command at `now`, with what the unit does not
    /// know taken from `device`. Reads the unit; changes nothing.
    pub fn show_with(&self, now: Instant, command: &str, device: &DeviceInfo) -> Result<String, ShowError> {
        let out = match ShowCommand::parse(command)? {
            ShowCommand::Failover => show::render_failover(&self.failover_view(now, device)),
            ShowCommand::FailoverState => show::render_state(&self.state_view()),
            ShowCommand::FailoverHistory => show::render_history(&self.history_view()),
            ShowCommand::FailoverInterface => show::render_failover_interface(&self.failover_interface_view(device)),
            ShowCommand::MonitorInterface => {
                show::render_monitor_interface(&self.this_host(now, device), &self.other_host(now, device))
            }
            ShowCommand::RunningConfigFailover { all } => {
                show::render_running_config(&self.running_config_view(all, device))
            }
            ShowCommand::RunningConfig => self.render_running_config(),
            ShowCommand::Version => show::render_version(&self.version_view(now, device)),
            ShowCommand::ActivationKey => show::render_activation_key(&activation_view(device)),
        };
        Ok(out)
    }

    /// The whole running configuration: the system space, then each context
    /// after a `! context NAME` line (the appliance shows a context's with
    /// `changeto context`; one view serves the simulator better).
    fn render_running_config(&self) -> String {
        use crate::types::Space;
        let running = self.running_config();
        let mut out = running.render(&Space::System).unwrap_or_default();
        for name in running.contexts().keys() {
            out.push_str(&format!("! context {name}\n"));
            out.push_str(&running.render(&Space::Context(name.clone())).unwrap_or_default());
        }
        out
    }

    /// What `show failover` prints about the mate's state for `group`.
    fn mate_state(&self, group: Group) -> ShownState {
        match self.fresh_peer() {
            Some(h) => ShownState::State(h.groups[group.index()].state),
            None if self.s.peer.hello.is_none() => ShownState::NotDetected,
            None => ShownState::MateLost,
        }
    }

    fn interface_rows(&self, device: &DeviceInfo, mate: bool) -> Vec<InterfaceRow> {
        let mate_current = self.fresh_peer().is_some();
        self.config
            .interfaces
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = IfaceId(i as u16);
                let addr = device.interface_addresses.get(i).copied().flatten();
                let status = if !mate {
                    Some(self.interface_status(id))
                } else if mate_current {
                    // The mate reports only its monitored interfaces.
                    self.peer_interface_status(id)
                } else {
                    None
                };
                InterfaceRow {
                    context: c.context.clone(),
                    name: c.name.clone(),
                    group: self.config.group_of_context(&c.context),
                    address: addr.map(|a| a.address),
                    standby: addr.and_then(|a| a.standby),
                    status,
                    monitored: c.monitored,
                    waiting: self.interface_waiting(id),
                }
            })
            .collect()
    }

    /// This unit as the `This host` part of `show failover` shows it.
    pub(crate) fn this_host(&self, now: Instant, device: &DeviceInfo) -> HostView {
        let groups = Group::ALL
            .iter()
            .map(|g| GroupLine {
                group: *g,
                state: ShownState::State(self.group_state(*g)),
                active_time_s: time_in(self.history(*g), now, GroupState::is_active),
            })
            .collect();
        HostView {
            role: self.role(),
            groups,
            model: device.model.clone(),
            version: Some(self.config.version),
            interfaces: self.interface_rows(device, false),
        }
    }

    /// The mate as this unit sees it: states from its last current hello.
    /// Its active time is the time this unit spent on the standby side of
    /// the group (the mate was active then, as far as this unit knew).
    pub(crate) fn other_host(&self, now: Instant, device: &DeviceInfo) -> HostView {
        let groups = Group::ALL
            .iter()
            .map(|g| GroupLine {
                group: *g,
                state: self.mate_state(*g),
                active_time_s: time_in(self.history(*g), now, GroupState::is_standby),
            })
            .collect();
        HostView {
            role: self.role().peer(),
            groups,
            model: device.model.clone(),
            version: self.s.peer.hello.as_ref().map(|h| h.version),
            interfaces: self.interface_rows(device, true),
        }
    }

    fn failover_link_line(&self, device: &DeviceInfo) -> LinkLine {
        LinkLine {
            name: FAILOVER_LINK_NAME.into(),
            hardware: device.failover_hardware.clone(),
            up: !self.s.link_failed,
        }
    }

    /// The object types a row of the 7.2 stateful table counts. L2 bridge
    /// entries and GTP PDP contexts have no row there: they are read with
    /// [`Unit::stateful_counters`].
    fn stateful_row(&self, row: &str) -> Vec<StatefulCounters> {
        let types: &[ObjectType] = match row {
            "TCP conn" => &[ObjectType::TcpConn, ObjectType::HttpConn],
            "UDP conn" => &[ObjectType::UdpConn],
            "ARP tbl" => &[ObjectType::Arp],
            "Xlate_Timeout" => &[ObjectType::Xlate],
            "VPN IPSEC upd" => &[ObjectType::Sa],
            _ => &[],
        };
        types
            .iter()
            .map(|t| {
                let c = self.stateful_counters(*t);
                StatefulCounters { xmit: c.xmit, xerr: c.xerr, rcv: c.rcv, rerr: c.rerr }
            })
            .collect()
    }

    fn failover_view(&self, now: Instant, device: &DeviceInfo) -> FailoverView {
        let g1 = &self.config.groups[0];
        let stats = self.statistics();
        let link = match self.config.state_link {
            StateLink::None => None,
            StateLink::SharedWithFailover => Some(self.failover_link_line(device)),
            StateLink::Separate => device.state_link.as_ref().map(|(name, hw)| LinkLine {
                name: name.clone(),
                hardware: hw.clone(),
                up: true,
            }),
        };
        let general = StatefulCounters {
            xmit: stats.hellos_sent + stats.lan_tests_sent + stats.role_requests_sent,
            xerr: stats.transmits_dropped,
            rcv: stats.frames_received,
            rerr: stats.frames_rejected,
        };
        let sys_cmd = StatefulCounters { xmit: stats.role_requests_sent, ..StatefulCounters::default() };
        let rows = show::STATEFUL_OBJECTS
            .iter()
            .map(|name| {
                let counters = match *name {
                    "General" => general,
                    "sys cmd" => sys_cmd,
                    _ => {
                        let base = device.stateful.get(*name).copied().unwrap_or_default();
                        self.stateful_row(name).into_iter().fold(base, |a, c| StatefulCounters {
                            xmit: a.xmit + c.xmit,
                            xerr: a.xerr + c.xerr,
                            rcv: a.rcv + c.rcv,
                            rerr: a.rerr + c.rerr,
                        })
                    }
                };
                StatefulRow { object: (*name).to_owned(), counters }
            })
            .collect();
        let last_failover = Group::ALL
            .iter()
            .filter_map(|g| {
                let e = self.history(*g).iter().rev().find(|e| is_failover(e))?;
                Some((*g, WallTime::from_instant(e.time)))
            })
            .collect();
        FailoverView {
            failover_on: self.failover_enabled(),
            role: self.role(),
            lan: self.failover_link_line(device),
            unit_polltime: self.config.unit_polltime,
            unit_holdtime: self.config.unit_holdtime,
            interface_polltime: g1.interface_polltime,
            interface_holdtime: g1.interface_holdtime,
            interface_policy: g1.interface_policy,
            monitored: self.config.interfaces.iter().filter(|i| i.monitored).count(),
            monitored_max: MONITORED_INTERFACES_MAX,
            replication_http: self.config.groups.iter().any(|g| g.replication_http),
            version: self.config.version,
            mate_version: self.s.peer.hello.as_ref().map(|h| h.version),
            last_failover,
            this_host: self.this_host(now, device),
            other_host: self.other_host(now, device),
            stateful: StatefulView {
                link,
                rows,
                recv_q: [0, 0, stats.frames_received],
                xmit_q: {
                    let (cur, max) = self.xmit_queue();
                    [cur, max, general.xmit]
                },
            },
        }
    }

    fn state_view(&self) -> StateView {
        let this_host = Group::ALL
            .iter()
            .map(|g| {
                let failure = self.history(*g).iter().rev().find(|e| e.to == GroupState::Failed);
                let last_failure = failure.map(|e| {
                    let reason = match e.reason {
                        Reason::InterfaceCheck => "Ifc Failure".to_owned(),
                        r => r.as_str().to_owned(),
                    };
                    (reason, Some(WallTime::from_instant(e.time)))
                });
                let details = if self.group_state(*g) == GroupState::Failed {
                    self.config
                        .interfaces
                        .iter()
                        .enumerate()
                        .filter(|(i, c)| {
                            c.monitored
                                && self.config.group_of_context(&c.context) == *g
                                && self.interface_status(IfaceId(*i as u16)).is_failed()
                        })
                        .map(|(i, c)| format!("{} {}: {}", c.context, c.name, self.interface_status(IfaceId(i as u16))))
                        .collect()
                } else {
                    Vec::new()
                };
                StateLine { group: *g, state: ShownState::State(self.group_state(*g)), last_failure, details }
            })
            .collect();
        let other_host = Group::ALL
            .iter()
            .map(|g| {
                let state = self.mate_state(*g);
                let last_failure = match state {
                    ShownState::MateLost => Some((
                        "Comm Failure".to_owned(),
                        self.s.peer.last_hello_at.map(|t| WallTime::from_instant(t + self.config.unit_holdtime)),
                    )),
                    ShownState::State(GroupState::Failed) => Some(("Ifc Failure".to_owned(), None)),
                    _ => None,
                };
                StateLine { group: *g, state, last_failure, details: Vec::new() }
            })
            .collect();
        let configuration_state = match self.group_state(Group::One) {
            s if s.is_active() => "Sync Done",
            GroupState::StandbyReady | GroupState::Failed => "Sync Done - STANDBY",
            GroupState::ColdStandby | GroupState::SyncConfig => "Sync Config",
            GroupState::SyncFileSystem | GroupState::BulkSync => "Bulk Sync",
            _ => "Not Synced",
        };
        let communication_state = if self.s.mode == Mode::Standalone {
            "Failover disabled"
        } else if self.s.link_failed {
            "Failover link down"
        } else {
            "Mac set"
        };
        StateView {
            role: self.role(),
            this_host,
            other_host,
            configuration_state: configuration_state.into(),
            communication_state: communication_state.into(),
        }
    }

    fn history_view(&self) -> HistoryView {
        let groups = Group::ALL
            .iter()
            .map(|g| {
                let rows = self
                    .history(*g)
                    .iter()
                    .map(|e| HistoryRow {
                        at: WallTime::from_instant(e.time),
                        from: e.from,
                        to: e.to,
                        reason: e.reason.as_str().to_owned(),
                    })
                    .collect();
                (*g, rows)
            })
            .collect();
        HistoryView { groups }
    }

    fn failover_interface_view(&self, device: &DeviceInfo) -> FailoverInterfaceView {
        let mut interfaces = vec![FailoverInterfaceRow {
            name: FAILOVER_LINK_NAME.into(),
            hardware: device.failover_hardware.clone(),
            address: device.failover_address,
            role: self.role(),
        }];
        if let (StateLink::Separate, Some((name, hw))) = (self.config.state_link, &device.state_link) {
            interfaces.push(FailoverInterfaceRow {
                name: name.clone(),
                hardware: hw.clone(),
                address: None,
                role: self.role(),
            });
        }
        FailoverInterfaceView { interfaces }
    }

    fn running_config_view(&self, all: bool, device: &DeviceInfo) -> RunningConfigView {
        RunningConfigView {
            all,
            // `no failover` entered while running still shows as `no failover`.
            failover_on: self.s.mode == Mode::Enabled,
            role: self.role(),
            failover_hardware: device.failover_hardware.clone(),
            failover_address: device.failover_address,
            state_link: device.state_link.clone(),
            state_link_shared: self.config.state_link == StateLink::SharedWithFailover,
            key_set: self.config.failover_key.is_some(),
            unit_polltime: self.config.unit_polltime,
            unit_holdtime: self.config.unit_holdtime,
            groups: Group::ALL.iter().map(|g| (*g, self.config.groups[g.index()].clone())).collect(),
        }
    }

    fn version_view(&self, now: Instant, device: &DeviceInfo) -> VersionView {
        let booted_at = device.booted_at.unwrap_or_else(|| {
            Group::ALL.iter().filter_map(|g| self.history(*g).first()).map(|e| e.time).min().unwrap_or(now)
        });
        VersionView {
            version: self.config.version,
            hostname: device.hostname.clone(),
            uptime: now.saturating_since(booted_at),
            model: device.model.clone(),
            ram_mb: device.ram_mb,
            cpu: device.cpu.clone(),
            activation: activation_view(device),
        }
    }
}

fn activation_view(device: &DeviceInfo) -> ActivationKeyView {
    ActivationKeyView {
        serial: device.serial.clone(),
        running_key: device.activation_key,
        flash_key: device.flash_activation_key.filter(|k| Some(*k) != device.activation_key),
        license: device.license,
    }
}
