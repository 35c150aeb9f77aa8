//! Pairing checks (PROTOCOL.md section 9): licenses and the hardware,
//! mode and version facts two units compare before they fail over for each
//! other.
//!
//! Each unit sends its [`PairingInfo`] through the reliable channel to every
//! new boot of its mate, and checks the mate's against its own with
//! [`license::check_pairing`]. A mismatch is logged with the appliance's
//! syslog id and a message naming the requirement that failed, and the unit
//! runs standalone: failover off, every group active, deaf to that boot of
//! the mate. Both units run the same symmetric check, so a refused pair runs
//! each unit standalone. A new boot of the mate (rebooted after the fix) is
//! checked afresh: its hellos take this unit out of standalone, and the
//! both-active rule sorts the groups out.
//!
//! The license is the one the activation key in flash grants for this unit's
//! serial number; with no key (a new flash has its factory key; `ERASE`
//! loses it) the unit runs [`License::BASE`], Restricted, which never pairs.

use super::{Event, IfaceId, Mode, Reason, Unit};
use crate::config::license::{self, ContextMode, FailoverMode, FirewallMode, License, PairingInfo};
use crate::config::settings::UnitConfig;
use crate::time::Instant;
use crate::types::{Group, GroupState};
use crate::wire::{self};
use std::collections::BTreeMap;

/// Syslog id of a refusal whose cause the appliance has no id for ([fover]).
pub const SYSLOG_PAIRING_REFUSED: u32 = 990_020;

impl Unit {
    /// The license this unit runs with (from the activation key in flash).
    pub(crate) fn license(&self) -> License {
        self.s.cp.license
    }

    /// Why this unit refused to pair with its mate's current boot, if it did.
    pub(crate) fn pairing_refusal(&self) -> Option<&str> {
        self.s.cp.refused.as_ref().map(|(_, why)| why.as_str())
    }

    /// What this unit tells its mate.
    pub(crate) fn pairing_info(&self) -> PairingInfo {
        info(&self.config, self.flash().size_bytes(), self.s.cp.license)
    }

    /// The mate's pairing facts arrived (from its boot `peer_boot`).
    pub(super) fn on_pairing(&mut self, now: Instant, peer_boot: u64, mate: &wire::Pairing) {
        let verdict = match PairingInfo::from_wire(mate) {
            Ok(info) => license::check_pairing(&self.pairing_info(), &info).map_err(|r| (r.syslog_id(), r.to_string())),
            Err(e) => Err((SYSLOG_PAIRING_REFUSED, format!("Mate's pairing information is not valid: {e}"))),
        };
        if let Err((id, why)) = verdict {
            self.refuse_pairing(now, peer_boot, id, why);
        }
    }

    fn refuse_pairing(&mut self, now: Instant, peer_boot: u64, id: u32, why: String) {
        let role = self.config.role;
        self.syslog(id, format!("({role}) {why}"));
        self.syslog(
            SYSLOG_PAIRING_REFUSED,
            format!("({role}) Failover disabled: this unit and its mate cannot pair; each runs standalone."),
        );
        self.push_event(Event::PairingRefused { reason: why.clone() });
        self.s.cp.refused = Some((peer_boot, why));
        if self.s.cp.pairing_sent_to != Some(peer_boot) {
            self.s.cp.pairing_sent_to = Some(peer_boot);
            let info = self.pairing_info().to_wire();
            self.s.cp.outbox.push_front(crate::wire::Control::Pairing(info));
        }
        self.s.mode = Mode::Standalone;
        self.s.lan_test = None;
        self.s.link_failed = false;
        self.s.peer.fresh = false;
        self.s.peer.failed = false;
        for g in Group::ALL {
            self.s.groups[g.index()].request = None;
        }
        // Standalone: no failover traffic, no interface tests, no timers.
        for i in 0..self.s.ifaces.len() {
            self.stop_interface_test(i);
        }
        self.s.timers = Default::default();
        for g in Group::ALL {
            if matches!(self.group_state(*g), GroupState::Negotiation | GroupState::StandbyReady) {
                self.go_active(now, *g, Reason::FailoverDisabled);
            }
        }
    }

    /// In standalone after a refusal: a hello from a new boot of the mate
    /// brings failover back, to be checked afresh.
    pub(super) fn pairing_may_resume(&mut self, now: Instant, boot: u64, hello: bool) -> bool {
        let Some((refused_boot, _)) = &self.s.cp.refused else { return false };
        if !hello || boot == *refused_boot || self.s.peer.retired_boots.contains(&boot) {
            return false;
        }
        self.s.cp.refused = None;
        self.s.mode = Mode::Enabled;
        self.start_failover_timers(now);
        for i in 0..self.s.ifaces.len() {
            let monitored = self.config.interfaces[i].monitored;
            self.set_monitored(now, IfaceId(i as u16), monitored);
        }
        true
    }
}

/// What a unit with these settings, flash size and license tells its mate.
pub(super) fn info(config: &UnitConfig, flash_bytes: u64, license: License) -> PairingInfo {
    let d = config.device();
    let mut interfaces = BTreeMap::new();
    // The data interfaces and the failover link.
    interfaces.insert("Ethernet".to_owned(), config.interfaces.len() as u16 + 1);
    PairingInfo {
        model: d.model,
        interfaces,
        ram_mb: d.ram_mb,
        flash_bytes,
        firewall_mode: if d.transparent { FirewallMode::Transparent } else { FirewallMode::Routed },
        context_mode: ContextMode::Multiple,
        failover_mode: FailoverMode::ActiveActive,
        version: config.version,
        license,
        failover_addressing: Default::default(),
    }
}
