//! Operator commands (the typed subset of the CLI that the state machine
//! understands).

use super::group::{ClaimWhy, Reason};
use super::{Command, CommandError, IfaceId, Mode, Timer, Unit};
use crate::config::command::GroupOption;
use crate::config::settings::{self as config, ConfigError};
use crate::constants::{MONITORED_INTERFACES_MAX, PREEMPT_DELAY_S_MAX};
use crate::time::Instant;
use crate::types::{Group, GroupState};

fn refused(text: impl Into<String>) -> CommandError {
    CommandError::Refused(text.into())
}

fn groups(which: Option<Group>) -> &'static [Group] {
    match which {
        None => Group::ALL,
        Some(Group::One) => &[Group::One],
        Some(Group::Two) => &[Group::Two],
    }
}

impl Unit {
    pub(super) fn command(&mut self, now: Instant, command: Command) -> Result<String, CommandError> {
        match command {
            Command::Failover => {
                self.record_failover_line("failover");
                self.enable_failover(now)
            }
            Command::NoFailover => {
                self.record_failover_line("no failover");
                self.freeze()
            }
            Command::FailoverActive(which) => self.failover_active(now, which),
            Command::NoFailoverActive(which) => self.no_failover_active(now, which),
            Command::FailoverReset(which) => {
                for g in groups(which) {
                    if self.group_state(*g) == GroupState::Failed {
                        // Fails again at once (the group rules run at the end
                        // of this input) if the cause persists.
                        self.recover(now, *g, Reason::SetByConfigCmd);
                        if self.s.mode == Mode::Standalone {
                            // A standalone unit (its mate refused) runs every
                            // group it can: there is nobody to be standby for.
                            self.s.timers.stop(Timer::Preempt(*g));
                            self.go_active(now, *g, Reason::FailoverDisabled);
                        }
                    }
                }
                Ok(String::new())
            }
            Command::LanUnit(role) => {
                if role == self.config.role {
                    return Ok(String::new());
                }
                Err(refused(
                    "failover lan unit takes effect at power-on: save it to the startup configuration and reload",
                ))
            }
            Command::UnitPolltime { polltime, holdtime } => {
                config::validate_unit_times(polltime, holdtime)?;
                self.config.unit_polltime = polltime;
                self.config.unit_holdtime = holdtime;
                if self.s.timers.get(Timer::UnitHello).is_some_and(|at| at > now + polltime) {
                    self.s.timers.set(Timer::UnitHello, now + polltime);
                }
                if self.s.timers.is_armed(Timer::UnitHold) {
                    self.s.timers.set(Timer::UnitHold, now + self.hold_window());
                }
                // A LAN test in progress keeps a full reply window of the new polltime.
                if let Some(sent_at) = self.s.lan_test.map(|run| run.sent_at) {
                    self.s.timers.extend_to(Timer::LanTestVerdict, sent_at + polltime);
                }
                Ok(String::new())
            }
            Command::GroupOption(g, option) => self.group_option(now, g, option),
            Command::MonitorInterface { iface, monitored } => {
                if iface.0 as usize >= self.config.interfaces.len() {
                    return Err(refused(format!("ERROR: no interface {}", iface.0)));
                }
                let count = self.config.interfaces.iter().filter(|i| i.monitored).count();
                let was = self.config.interfaces[iface.0 as usize].monitored;
                if monitored && !was && count >= MONITORED_INTERFACES_MAX {
                    return Err(CommandError::Config(ConfigError::Invalid {
                        field: "monitor-interface",
                        detail: format!("at most {MONITORED_INTERFACES_MAX} monitored interfaces"),
                    }));
                }
                if monitored != was {
                    self.set_monitored(now, IfaceId(iface.0), monitored);
                }
                Ok(String::new())
            }
        }
    }

    /// `failover`: a frozen unit resumes; a standalone unit starts taking
    /// part, keeping its groups active (the both-active rule settles any
    /// overlap with the peer).
    fn enable_failover(&mut self, now: Instant) -> Result<String, CommandError> {
        self.config.failover_enabled = true;
        match self.s.mode {
            Mode::Enabled => {}
            Mode::Frozen => {
                self.s.mode = Mode::Enabled;
                // A peer that went silent while frozen (or was declared
                // failed before) gets its LAN test now.
                let peer = &self.s.peer;
                if peer.hello.is_some() && !peer.fresh && !self.s.link_failed {
                    self.s.timers.set(Timer::UnitHold, now);
                }
                // Frozen while negotiating: the negotiation starts over.
                if self.s.groups.iter().any(|g| g.state == GroupState::Negotiation) {
                    self.s.timers.set(Timer::Negotiation, now + self.config.unit_holdtime);
                }
            }
            Mode::Standalone => {
                self.s.mode = Mode::Enabled;
                self.start_failover_timers(now);
                for i in 0..self.s.ifaces.len() {
                    let monitored = self.config.interfaces[i].monitored;
                    self.set_monitored(now, IfaceId(i as u16), monitored);
                }
            }
        }
        Ok(String::new())
    }

    /// `no failover`: freezes the current roles until reload (or `failover`).
    fn freeze(&mut self) -> Result<String, CommandError> {
        self.config.failover_enabled = false;
        if self.s.mode != Mode::Enabled {
            return Ok(String::new());
        }
        self.s.mode = Mode::Frozen;
        self.s.lan_test = None;
        self.s.timers.stop(Timer::LanTestVerdict);
        self.s.timers.stop(Timer::Negotiation);
        for g in Group::ALL {
            self.s.timers.stop(Timer::Preempt(*g));
            self.s.groups[g.index()].request = None;
        }
        Ok(String::new())
    }

    fn failover_active(&mut self, now: Instant, which: Option<Group>) -> Result<String, CommandError> {
        if self.s.mode != Mode::Enabled {
            return Err(refused("ERROR: failover is not enabled"));
        }
        for g in groups(which) {
            let state = self.group_state(*g);
            if state.is_active() || state == GroupState::StandbyReady {
                continue;
            }
            return Err(refused(match state {
                GroupState::Failed => format!("ERROR: group {g} is Failed here: clear it with failover reset first"),
                _ => format!("ERROR: group {g} is not ready ({state}): try again when it is Standby Ready"),
            }));
        }
        if self.s.link_failed {
            return Err(refused("ERROR: the failover link is down: the mate cannot be asked"));
        }
        for g in groups(which) {
            let g = *g;
            if self.group_state(g).is_active() {
                self.s.groups[g.index()].request = None;
                // The operator wants it here: no boot placement moves it.
                self.s.groups[g.index()].boot_yield = None;
                self.s.groups[g.index()].pinned = true;
                continue;
            }
            if self.peer_absent_for_command() {
                self.go_active(now, g, Reason::SetByConfigCmd);
            } else {
                self.claim(g, ClaimWhy::Manual);
            }
            self.s.groups[g.index()].pinned = true;
        }
        Ok(String::new())
    }

    fn no_failover_active(&mut self, now: Instant, which: Option<Group>) -> Result<String, CommandError> {
        if self.s.mode != Mode::Enabled {
            return Err(refused("ERROR: failover is not enabled"));
        }
        for g in groups(which) {
            if !self.group_state(*g).is_active() {
                continue;
            }
            let ready = self.peer_group_state(*g) == Some(GroupState::StandbyReady)
                && self.s.peer.hello.as_ref().is_some_and(|h| h.failover_on);
            if !ready {
                return Err(refused(format!(
                    "ERROR: the mate is not Standby Ready for group {g}: it cannot take over"
                )));
            }
        }
        for g in groups(which) {
            let g = *g;
            let gm = &mut self.s.groups[g.index()];
            if !gm.state.is_active() {
                // Already standby here: withdraw a claim of this unit's own.
                if matches!(gm.request, Some(super::group::Request::Claim(_))) {
                    gm.request = None;
                }
                continue;
            }
            self.go_standby_ready(now, g, Reason::SetByConfigCmd);
            self.s.groups[g.index()].pinned = true;
            self.hand_over(g);
        }
        Ok(String::new())
    }

    /// No peer to ask: declared failed, or never heard.
    fn peer_absent_for_command(&self) -> bool {
        self.s.peer.failed || self.s.peer.hello.is_none()
    }

    fn group_option(&mut self, now: Instant, g: Group, option: GroupOption) -> Result<String, CommandError> {
        let gc = &mut self.config.groups[g.index()];
        match option {
            GroupOption::Preferred(role) => gc.preferred = role,
            GroupOption::Preempt(delay) => {
                if let Some(d) = delay {
                    if d.subsec_nanos() != 0 || d.as_secs() > PREEMPT_DELAY_S_MAX {
                        return Err(CommandError::Config(ConfigError::OutOfRange {
                            field: "preempt delay",
                            value: d.as_millis() as u64,
                            rule: "0-1200 s in whole seconds",
                        }));
                    }
                }
                gc.preempt_delay = delay;
                self.s.timers.stop(Timer::Preempt(g));
            }
            GroupOption::InterfacePolicy(policy) => {
                if let crate::config::settings::InterfacePolicy::Count(0)
                | crate::config::settings::InterfacePolicy::Percent(0) = policy
                {
                    return Err(CommandError::Config(ConfigError::InterfacePolicy { text: policy.to_string() }));
                }
                if let crate::config::settings::InterfacePolicy::Percent(p) = policy {
                    if p > crate::constants::INTERFACE_POLICY_PERCENT_MAX {
                        return Err(CommandError::Config(ConfigError::InterfacePolicy { text: policy.to_string() }));
                    }
                }
                if let crate::config::settings::InterfacePolicy::Count(n) = policy {
                    if n > crate::constants::INTERFACE_POLICY_COUNT_MAX {
                        return Err(CommandError::Config(ConfigError::InterfacePolicy { text: policy.to_string() }));
                    }
                }
                gc.interface_policy = policy;
            }
            GroupOption::PolltimeInterface { polltime, holdtime } => {
                config::validate_interface_times(polltime, holdtime)?;
                gc.interface_polltime = polltime;
                gc.interface_holdtime = holdtime;
                if self.s.timers.get(Timer::InterfaceHello(g)).is_some_and(|at| at > now + polltime) {
                    self.s.timers.set(Timer::InterfaceHello(g), now + polltime);
                }
            }
            GroupOption::ReplicationHttp(on) => {
                let newly = on && !gc.replication_http;
                gc.replication_http = on;
                if newly {
                    self.s.st.on_replication_http(g);
                }
            }
        }
        Ok(String::new())
    }
}
