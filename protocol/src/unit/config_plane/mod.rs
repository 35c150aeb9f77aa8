//! The configuration plane of a unit (PROTOCOL.md section 6): its running
//! configuration and flash, the reliable channel that carries configuration
//! between the units, full syncs, command replication and the file commands.
//!
//! # Who sends what
//!
//! * **Full sync.** The unit active for group 1 (the authority for the system
//!   space) sends its whole running configuration to a peer that has not
//!   received it: a peer heard for the first time (a new boot), or a peer it
//!   was split from (declared failed, failover link failed, or both units
//!   active for group 1 at once). It starts only once the peer shows group 1
//!   not active, so a full sync never overwrites an authority. The receiver
//!   clears its configuration (keeping the bootstrap `failover` lines) and
//!   applies the lines in order; the four replication syslogs 709003-709006
//!   mark both ends. `write standby` starts one by hand: in the system space
//!   everything, in a context that context only.
//! * **Command replication.** A configuration command entered on the unit
//!   that is the authority for its space (group 1's active unit for the system
//!   space and the admin context; the context's group's active unit otherwise)
//!   is applied and sent to the peer; entered on the other unit it is applied
//!   there only, with a warning, and the pair is *out of sync* until the next
//!   full sync. `write memory [all]` and `copy running-config startup-config`
//!   travel as [`Control::WriteMemory`]; the other file commands as their text.
//! * **[fover] No silent loss.** While a full sync runs on a unit, that unit
//!   refuses configuration commands with the reason and when to retry.
//! * **Heal discard.** Commands a unit applies while its peer is unreachable
//!   are not sent (the peer could not take them, and after a split only one
//!   unit's configuration may survive); they are counted. Once the peer is
//!   back, group 1's active unit sends a full sync, or, if it is the peer, is
//!   asked for one ([`Control::WriteStandby`] from the mate means "send me
//!   yours"). The unit that receives it logs how many of its commands the
//!   sync discarded.
//!
//! The group path does not wait for the config sync: a joining unit's groups
//! reach Standby Ready on the group rules alone, while the sync runs beside
//! them over the channel (docs/DECISIONS.md). Role requests keep their own
//! retransmission with the hellos (see `requests`) and do not use the channel.

mod cli;

use super::Event;
use super::effect::{Effect, Effects};
use crate::channel::{Channel, SendError};
use crate::config::flash::Flash;
use crate::config::replication::{self, CommandKind, SyncDirection, SyncInProgress};
use crate::config::running::RunningConfig;
use crate::config::settings::{ConfigError, UnitConfig};
use crate::planted::{self, PlantedBug};
use crate::time::Instant;
use crate::types::{Group, GroupState, Space};
use crate::wire::{CHUNK_LINES_MAX, ConfigLine, Control, Message};
use std::collections::{BTreeSet, VecDeque};

/// Syslog id of the heal discard ([fover]: the appliance has none).
pub const SYSLOG_HEAL_DISCARD: u32 = 990_010;
/// Default flash size of a unit (256 MB, as an ASA 5520).
pub const FLASH_BYTES_DEFAULT: u64 = 256 * 1024 * 1024;

/// A full sync in progress on this unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct SyncRun {
    id: u32,
    direction: SyncDirection,
    /// `None`: the whole configuration.
    scope: Option<Space>,
    lines_total: u32,
    lines_done: u32,
    /// Receiving: the configuration being built from the mate's lines. It
    /// replaces the running config only when the sync ends, so a sync cut
    /// short leaves the running config as it was (see `abort_receiving`).
    staged: Option<RunningConfig>,
}

/// The configuration state of a unit. Part of the unit's protocol state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct ConfigPlane {
    running: RunningConfig,
    flash: Flash,
    pub(super) channel: Channel,
    /// Control messages accepted but not yet taken by the channel (its backlog was full).
    pub(super) outbox: VecDeque<Control>,
    sync: Option<SyncRun>,
    /// The peer boot that has this unit's whole configuration (sender side).
    synced_peer: Option<u64>,
    /// Spaces where a command was applied here only (entered on the
    /// non-authoritative unit), or a sync failed: they differ from the peer's.
    out_of_sync: BTreeSet<Space>,
    /// Commands applied here while the peer was unreachable.
    split_commands: u32,
    next_sync_id: u32,
    command_seq: u64,
    /// The peer boot the channel last knew.
    channel_peer: Option<u64>,
    /// A replicated command was applied while the peer was unreachable and
    /// not sent: the configs must be brought together by a full sync.
    resync_needed: bool,
    /// The license the flash's activation key grants (see `pairing`).
    pub(super) license: crate::config::license::License,
    /// The mate boot this unit sent its pairing facts to.
    pub(super) pairing_sent_to: Option<u64>,
    /// Pairing with this mate boot was refused, and why: the unit runs standalone.
    pub(super) refused: Option<(u64, String)>,
    /// [`RunningConfig::digest`], computed when first asked for after a change.
    digest: DigestCache,
}

impl ConfigPlane {
    pub(super) fn new(boot_nonce: u64, running: RunningConfig, flash: Flash, serial: &str) -> ConfigPlane {
        ConfigPlane {
            license: flash.license(serial),
            pairing_sent_to: None,
            refused: None,
            flash,
            channel: Channel::new(boot_nonce),
            outbox: VecDeque::new(),
            sync: None,
            synced_peer: None,
            out_of_sync: BTreeSet::new(),
            split_commands: 0,
            next_sync_id: 1,
            command_seq: 0,
            channel_peer: None,
            resync_needed: false,
            digest: DigestCache::default(),
            running,
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.channel.poll_timeout()
    }

    /// The running config, to change it: every change goes through here,
    /// which forgets the cached digest.
    fn running_mut(&mut self) -> &mut RunningConfig {
        self.digest.0.set(None);
        &mut self.running
    }

    /// [`RunningConfig::digest`] of the running config, computed once per change.
    fn digest(&self) -> u32 {
        match self.digest.0.get() {
            Some(d) => d,
            None => {
                let d = self.running.digest();
                self.digest.0.set(Some(d));
                d
            }
        }
    }

    pub(super) fn rebase_back(&mut self, back: core::time::Duration) {
        self.channel.rebase_back(back);
    }

    /// A sync from the mate cut short (the mate unreachable or rebooted):
    /// the running config stays as it was, not half replaced (a unit that
    /// became the authority with half a config would send that half on).
    /// The space differs from the mate's until a sync covers it, and this
    /// unit asks for one, or sends its own once it is the authority.
    fn abort_receiving(&mut self) {
        if let Some(run) = self.sync.take_if(|r| r.direction == SyncDirection::Receiving) {
            self.out_of_sync.insert(run.scope.unwrap_or(Space::System));
            self.resync_needed = true;
        }
    }
}

/// The running configuration a unit starts with when its flash holds none:
/// the failover settings, the contexts and their interfaces, with addresses
/// `10.C.I.1` (standby `.2`) for interface `I` of context `C`, both 1-based.
pub fn default_running_config(config: &UnitConfig) -> Result<RunningConfig, ConfigError> {
    let mut lines: Vec<(Space, String)> = Vec::new();
    let sys = |l: &str| (Space::System, l.to_owned());
    lines.push(sys("hostname fover"));
    lines.push(sys(if config.failover_enabled { "failover" } else { "no failover" }));
    lines.push(sys(&format!("failover lan unit {}", config.role.as_lower())));
    lines.push(sys("failover lan interface folink Ethernet3"));
    lines.push(sys(&format!(
        "failover polltime unit msec {} holdtime msec {}",
        config.unit_polltime.as_millis(),
        config.unit_holdtime.as_millis()
    )));
    for g in Group::ALL {
        let gc = &config.groups[g.index()];
        lines.push(sys(&format!("failover group {g}")));
        lines.push(sys(&format!(" {}", gc.preferred.as_lower())));
        // The CLI counts whole seconds; a sub-second delay (msec profiles) shows rounded up.
        match gc.preempt_delay {
            Some(d) if d.is_zero() => lines.push(sys(" preempt")),
            Some(d) => lines.push(sys(&format!(" preempt {}", d.as_millis().div_ceil(1000)))),
            None => {}
        }
        lines.push(sys(&format!(" interface-policy {}", gc.interface_policy)));
        if gc.replication_http {
            lines.push(sys(" replication http"));
        }
    }
    let admin = config.contexts.first().map_or("admin", |c| c.name.as_str());
    lines.push(sys(&format!("admin-context {admin}")));
    for c in &config.contexts {
        lines.push(sys(&format!("context {}", c.name)));
        lines.push(sys(&format!(" join-failover-group {}", c.group)));
    }
    for (ci, c) in config.contexts.iter().enumerate() {
        let space = Space::Context(c.name.clone());
        let ctx = |l: String| (space.clone(), l);
        lines.push(ctx(format!("hostname {}", c.name)));
        let ifaces = config.interfaces.iter().filter(|i| i.context == c.name);
        for (ii, i) in ifaces.enumerate() {
            let (a, b) = (ci + 1, ii + 1);
            lines.push(ctx(format!("interface {}", i.name)));
            lines.push(ctx(format!(" nameif {}", i.name)));
            lines.push(ctx(format!(" ip address 10.{a}.{b}.1 255.255.255.0 standby 10.{a}.{b}.2")));
            if !i.monitored {
                lines.push(ctx(format!("no monitor-interface {}", i.name)));
            }
        }
    }
    let mut running = RunningConfig::new();
    for (space, line) in lines {
        running
            .apply(&space, &line)
            .map_err(|e| ConfigError::Invalid { field: "running-config", detail: format!("{space}: {line:?}: {e}") })?;
    }
    Ok(running)
}

/// What the config plane reads of the rest of the unit, taken at the call.
#[derive(Clone, Copy, Debug)]
pub(super) struct ConfigFacts<'a> {
    pub config: &'a UnitConfig,
    /// Cut off from the mate: the peer declared failed or the failover link failed.
    pub split: bool,
    /// The peer answers on the failover link and is not declared failed.
    pub peer_reachable: bool,
    /// This unit's state of each group.
    pub groups: [GroupState; 2],
    /// Whether the mate shows group 1 active, while its last hello is current.
    pub peer_g1_active: Option<bool>,
    /// The boot of the mate's last hello.
    pub peer_boot: Option<u64>,
}

impl ConfigFacts<'_> {
    fn planted(&self, bug: PlantedBug) -> bool {
        planted::is_planted(self.config.planted_bug, bug)
    }

    fn syslog(fx: &mut Effects, id: u32, text: String) {
        fx.push(Effect::Syslog { id, text });
    }
}

impl ConfigPlane {
    // ----- observers -------------------------------------------------------

    /// The running configuration.
    pub(super) fn running(&self) -> &RunningConfig {
        &self.running
    }

    /// [`RunningConfig::digest`] of the running config.
    pub(super) fn config_digest(&self) -> u32 {
        self.digest()
    }

    /// The flash (startup configs, files, activation key).
    pub(super) fn flash(&self) -> &Flash {
        &self.flash
    }

    /// The spaces that differ from the peer's until a sync covers them.
    pub(super) fn out_of_sync(&self) -> &BTreeSet<Space> {
        &self.out_of_sync
    }

    /// The full configuration sync running here, if any.
    pub(super) fn sync_progress(&self) -> Option<SyncInProgress> {
        self.sync.as_ref().map(|s| SyncInProgress {
            direction: s.direction,
            lines_done: s.lines_done,
            lines_total: s.lines_total,
        })
    }

    /// Whether this unit, with its groups in `groups`, is the authority for `space`.
    pub(super) fn is_authoritative(&self, groups: &[GroupState; 2], space: &Space) -> bool {
        let context_groups = self.running.context_groups();
        let active: Vec<Group> = Group::ALL.iter().copied().filter(|g| groups[g.index()].is_active()).collect();
        replication::is_authoritative(space, &context_groups, &active)
    }

    /// Nothing waits for the channel and no config sync runs: the end of
    /// another input would feed and send nothing for this plane.
    pub(super) fn quiet(&self) -> bool {
        self.outbox.is_empty() && self.sync.is_none()
    }

    // ----- sending ---------------------------------------------------------

    /// `failover` / `no failover` in the running config (a bootstrap line:
    /// never replicated, kept by a sync, saved by `write memory`).
    pub(super) fn record_failover_line(&mut self, line: &str) {
        let _ = self.running.apply(&Space::System, line);
        self.digest.0.set(None);
    }

    fn start_full_sync(&mut self, facts: &ConfigFacts, fx: &mut Effects, scope: Option<Space>) {
        let lines: Vec<_> =
            self.running.sync_lines().into_iter().filter(|l| scope.as_ref().is_none_or(|s| &l.space == s)).collect();
        let digest = match &scope {
            None => self.digest(),
            Some(_) => 0,
        };
        let sync_id = self.next_sync_id;
        self.next_sync_id = self.next_sync_id.wrapping_add(1).max(1);
        let total = lines.len() as u32;
        self.outbox.push_back(Control::ConfigSyncBegin {
            sync_id,
            scope: scope.clone().unwrap_or(Space::System),
            lines: total,
        });
        for (index, chunk) in lines.chunks(CHUNK_LINES_MAX).enumerate() {
            self.outbox.push_back(Control::ConfigSyncChunk { sync_id, index: index as u32, lines: chunk.to_vec() });
        }
        self.outbox.push_back(Control::ConfigSyncEnd { sync_id, lines: total, digest });
        self.sync = Some(SyncRun {
            id: sync_id,
            direction: SyncDirection::Sending,
            scope: scope.clone(),
            lines_total: total,
            lines_done: 0,
            staged: None,
        });
        if scope.is_none() {
            self.synced_peer = self.channel.peer_boot();
            self.split_commands = 0;
            self.resync_needed = false;
        }
        let text = format!("({}) Beginning configuration replication: Sending to mate.", facts.config.role);
        ConfigFacts::syslog(fx, 709_003, text);
    }

    // ----- receiving -------------------------------------------------------

    /// A frame of the mate's (boot `boot`) on the failover or state link:
    /// what the channel delivers of it, in order (role requests keep their
    /// own path and are not taken).
    pub(super) fn handle_message(&mut self, now: Instant, boot: u64, message: &Message) -> Vec<Control> {
        if matches!(message, Message::Control { body: Control::RoleRequest { .. }, .. }) {
            return Vec::new();
        }
        self.channel.handle_message(now, boot, message)
    }

    /// While standalone after refusing the mate's boot `boot`: its acks still
    /// reach the channel (so this unit's pairing facts stop being resent).
    pub(super) fn ack_while_refused(&mut self, now: Instant, boot: u64, message: &Message) {
        if matches!(message, Message::Ack(_)) && self.refused.as_ref().is_some_and(|(b, _)| *b == boot) {
            let _ = self.channel.handle_message(now, boot, message);
        }
    }

    /// A configuration message from the mate, delivered by the channel (the
    /// unit routes the pairing and state messages elsewhere).
    pub(super) fn handle_delivered(&mut self, facts: &ConfigFacts, fx: &mut Effects, body: Control) {
        let role = facts.config.role;
        match body {
            Control::ConfigSyncBegin { sync_id, scope, lines } => {
                let scope = match scope {
                    Space::System => None,
                    s => Some(s),
                };
                if scope.is_none() && facts.groups[Group::One.index()].is_active() {
                    // A full sync never overwrites the authority: the peer's view was stale.
                    ConfigFacts::syslog(
                        fx,
                        709_005,
                        format!(
                            "({role}) Configuration replication from mate ignored: this unit is active for group 1."
                        ),
                    );
                    if self.sync.as_ref().is_some_and(|r| r.direction == SyncDirection::Receiving) {
                        self.sync = None;
                    }
                    // The mate holds a configuration it took for the authority's:
                    // it gets this unit's as soon as it shows group 1 not active
                    // (a preempt that crossed the mate's sync left the mate's
                    // split-time commands on it for good: sweep seed 1116517).
                    self.resync_needed = true;
                    return;
                }
                let mut staged = self.running.clone();
                match &scope {
                    None => staged.clear_for_sync(),
                    Some(Space::Context(name)) => {
                        let _ = staged.apply(&Space::Context(name.clone()), "clear configure all");
                    }
                    Some(Space::System) => {}
                }
                let discarded = std::mem::take(&mut self.split_commands);
                if scope.is_none() {
                    self.resync_needed = false;
                }
                // A sync of this unit's own still under way is void: its
                // remaining frames carry a configuration this one replaces,
                // and the mate applies them after this sync is over. Once
                // this unit is the authority again, the mate gets a new one.
                if self.sync.as_ref().is_some_and(|r| r.direction == SyncDirection::Sending) {
                    self.synced_peer = None;
                }
                self.sync = Some(SyncRun {
                    id: sync_id,
                    direction: SyncDirection::Receiving,
                    scope,
                    lines_total: lines,
                    lines_done: 0,
                    staged: Some(staged),
                });
                ConfigFacts::syslog(
                    fx,
                    709_005,
                    format!("({role}) Beginning configuration replication: Receiving from mate."),
                );
                if discarded > 0 {
                    ConfigFacts::syslog(
                        fx,
                        SYSLOG_HEAL_DISCARD,
                        format!(
                            "({role}) {discarded} configuration command(s) entered on this unit while the mate \
                             was unreachable are discarded: the mate's configuration replaces them."
                        ),
                    );
                }
            }
            Control::ConfigSyncChunk { sync_id, lines, .. } => {
                let Some(run) =
                    self.sync.as_mut().filter(|r| r.id == sync_id && r.direction == SyncDirection::Receiving)
                else {
                    return;
                };
                run.lines_done = run.lines_done.saturating_add(lines.len() as u32);
                let Some(staged) = run.staged.as_mut() else { return };
                for l in &lines {
                    if let Err(e) = staged.apply_sync_line(l) {
                        let f = format!("{}: {:?}: {e}", l.space, l.line);
                        ConfigFacts::syslog(
                            fx,
                            105_022,
                            format!("({role}) Config replication failed with reason = {f}"),
                        );
                    }
                }
            }
            Control::ConfigSyncEnd { sync_id, lines, digest } => {
                let Some(mut run) = self.sync.take_if(|r| r.id == sync_id && r.direction == SyncDirection::Receiving)
                else {
                    return;
                };
                if let Some(staged) = run.staged.take() {
                    *self.running_mut() = staged;
                }
                let whole = run.scope.is_none();
                let ok = run.lines_done == lines && (!whole || self.digest() == digest);
                let space = run.scope.clone().unwrap_or(Space::System);
                match (&run.scope, ok) {
                    (None, true) => self.out_of_sync.clear(),
                    (Some(s), true) => {
                        self.out_of_sync.remove(s);
                    }
                    (_, false) => {
                        self.out_of_sync.insert(space);
                    }
                }
                if !ok {
                    ConfigFacts::syslog(
                        fx,
                        105_022,
                        format!(
                            "({role}) Config replication failed with reason = received {} of {lines} lines{}",
                            run.lines_done,
                            if whole { ", or the digest differs" } else { "" }
                        ),
                    );
                }
                ConfigFacts::syslog(fx, 709_006, format!("({role}) End Configuration Replication from mate."));
                self.reapply_unacknowledged();
            }
            Control::CommandReplication { space, line, .. } => {
                fx.push(Effect::Event(Event::ReplicatedCommandReceived { space: space.clone(), line: line.clone() }));
                match replication::command_kind(&line) {
                    CommandKind::File => {
                        if let Err(e) = self.file_command(fx, &space, &line) {
                            ConfigFacts::syslog(
                                fx,
                                105_022,
                                format!("({role}) Replicated command {line:?} failed: {e}"),
                            );
                        }
                    }
                    _ => {
                        if let Err(e) = self.running_mut().apply(&space, &line) {
                            ConfigFacts::syslog(
                                fx,
                                105_022,
                                format!("({role}) Replicated command {line:?} failed: {e}"),
                            );
                        }
                        self.restart_sync_for(facts, fx, &space);
                    }
                }
            }
            Control::WriteMemory { space, all } => {
                let line = if all { "write memory all" } else { "write memory" };
                fx.push(Effect::Event(Event::ReplicatedCommandReceived { space: space.clone(), line: line.into() }));
                if let Err(e) = self.file_command(fx, &space, line) {
                    ConfigFacts::syslog(fx, 105_022, format!("({role}) Replicated {line:?} failed: {e}"));
                }
            }
            // The mate applied commands while split from this unit and asks
            // for this unit's configuration (see `poll_syncs`).
            Control::WriteStandby { space } => {
                if !self.is_authoritative(&facts.groups, &space) {
                    return;
                }
                match &self.sync {
                    None => {
                        let scope = match space {
                            Space::System => None,
                            s => Some(s),
                        };
                        self.start_full_sync(facts, fx, scope);
                    }
                    // A sync this unit sends is under way: the mate may have
                    // taken it in before its split commands, so a fresh one
                    // follows it (`poll_syncs`); dropping the request left
                    // the mate's commands in place for good (sweep seed 66030).
                    Some(run) if run.direction == SyncDirection::Sending => self.resync_needed = true,
                    // Receiving: the mate is sending its own configuration.
                    Some(_) => {}
                }
            }
            // Pairing facts and connection state belong to the unit and the
            // state plane; role requests never come this way.
            Control::Pairing(_)
            | Control::StateUpdate { .. }
            | Control::BulkSyncBegin { .. }
            | Control::BulkSyncEnd { .. }
            | Control::RoleRequest { .. } => {}
        }
    }

    /// A command from the mate applied here while this unit sends the mate a
    /// sync covering its space: the sync's copy was taken before the command,
    /// and the mate may have seen the command acknowledged before the sync
    /// arrived (acks overtake the stream), so it would not apply it again;
    /// the configurations would differ for good. The sync starts again from
    /// the configuration as it is now (the channel keeps the order: the mate
    /// applies the first sync, then this one).
    fn restart_sync_for(&mut self, facts: &ConfigFacts, fx: &mut Effects, space: &Space) {
        let Some(run) = &self.sync else { return };
        if run.direction == SyncDirection::Sending && run.scope.as_ref().is_none_or(|s| s == space) {
            let scope = run.scope.clone();
            self.start_full_sync(facts, fx, scope);
        }
    }

    /// After a full sync from the mate: commands this unit replicated that the
    /// mate has not confirmed reach it after the configuration it sent, so the
    /// mate will apply them on top of it; they apply here again too, or the two
    /// configs would differ (a command already in the sync applies as a no-op).
    /// A context sync of this unit's (`write standby` in a context) still in
    /// flight from its beginning reaches the mate the same way: it replaces
    /// that context here again (sweep seed 1294926: the mate's context was
    /// replaced by it after the full sync, and this unit kept the mate's).
    fn reapply_unacknowledged(&mut self) {
        let pending: Vec<Control> = self.channel.unacknowledged().chain(self.outbox.iter()).cloned().collect();
        // A context sync whose beginning is in flight: its context and lines so far.
        let mut context_sync: Option<(u32, String, Vec<ConfigLine>)> = None;
        for c in pending {
            match c {
                Control::CommandReplication { space, line, .. }
                    if replication::command_kind(&line) == CommandKind::Config =>
                {
                    let _ = self.running_mut().apply(&space, &line);
                }
                Control::ConfigSyncBegin { sync_id, scope: Space::Context(name), .. } => {
                    context_sync = Some((sync_id, name, Vec::new()));
                }
                Control::ConfigSyncChunk { sync_id, lines, .. } => {
                    if let Some((_, _, so_far)) = context_sync.as_mut().filter(|(id, _, _)| *id == sync_id) {
                        so_far.extend(lines);
                    }
                }
                Control::ConfigSyncEnd { sync_id, .. } => {
                    if let Some((_, name, lines)) = context_sync.take_if(|(id, _, _)| *id == sync_id) {
                        let running = self.running_mut();
                        let _ = running.apply(&Space::Context(name), "clear configure all");
                        for l in &lines {
                            let _ = running.apply_sync_line(l);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        self.channel.handle_timeout(now);
    }

    // ----- the end of an input ----------------------------------------------

    /// At the end of every input of a unit taking part in failover, before
    /// the state plane: decide on a full sync (or ask for one).
    pub(super) fn poll_syncs(&mut self, facts: &ConfigFacts, fx: &mut Effects) {
        let split = facts.split;
        let peer_g1_active = facts.peer_g1_active;
        let me_g1_active = facts.groups[Group::One.index()].is_active();
        if split || (me_g1_active && peer_g1_active == Some(true)) {
            self.synced_peer = None;
        }
        if split {
            self.abort_receiving();
        }
        // A rebooted (or first heard) peer: what was queued for its previous
        // boot is void, and a sync with that boot is over; it gets a full sync.
        let abandoned = !self.channel.take_abandoned().is_empty();
        if abandoned || self.channel.peer_boot() != self.channel_peer {
            if self.channel_peer.is_some() {
                self.outbox.clear();
                self.abort_receiving();
                self.sync = None;
            }
            self.channel_peer = self.channel.peer_boot();
        }
        let peer_boot = self.channel.peer_boot();
        if peer_boot.is_some() && self.pairing_sent_to != peer_boot {
            self.pairing_sent_to = peer_boot;
            let info = super::pairing::info(facts.config, self.flash.size_bytes(), self.license).to_wire();
            self.outbox.push_front(Control::Pairing(info));
        }
        if me_g1_active
            && peer_g1_active == Some(false)
            && !split
            && peer_boot.is_some()
            && peer_boot == facts.peer_boot
            && (self.synced_peer != peer_boot || self.resync_needed)
            && self.sync.is_none()
        {
            self.start_full_sync(facts, fx, None);
        } else if self.resync_needed
            && peer_g1_active == Some(true)
            && !me_g1_active
            && !split
            && self.sync.is_none()
            && peer_boot.is_some()
        {
            // Commands applied here while split were not sent: ask the
            // authority for its configuration, which replaces them.
            self.resync_needed = false;
            self.outbox.push_back(Control::WriteStandby { space: Space::System });
        }
    }

    /// Feeds the channel from the outbox, as far as it takes.
    pub(super) fn feed_channel(&mut self) {
        while let Some(body) = self.outbox.pop_front() {
            match self.channel.send(body) {
                Ok(()) => {}
                Err(SendError::Full { body }) | Err(SendError::AbandonedPending { body, .. }) => {
                    self.outbox.push_front(*body);
                    break;
                }
                Err(SendError::Unencodable { .. }) => {}
            }
        }
    }

    /// The channel's next frame, if it may send one.
    pub(super) fn poll_transmit(&mut self, now: Instant) -> Option<Message> {
        if !self.channel.may_transmit() {
            return None;
        }
        self.channel.poll_transmit(now)
    }

    /// After the channel's frames went out: notice the end of a sync this
    /// unit sends (everything queued and acknowledged).
    pub(super) fn poll_sync_end(&mut self, facts: &ConfigFacts, fx: &mut Effects) {
        if let Some(run) = &self.sync {
            if run.direction == SyncDirection::Sending && self.outbox.is_empty() && self.channel.is_idle() {
                match self.sync.take().and_then(|r| r.scope) {
                    None => self.out_of_sync.clear(),
                    Some(s) => {
                        self.out_of_sync.remove(&s);
                    }
                }
                let text = format!("({}) End Configuration Replication to mate.", facts.config.role);
                ConfigFacts::syslog(fx, 709_004, text);
            }
        }
    }

    /// The invariants of the plane.
    pub(super) fn invariants(&self) {
        if let Some(run) = &self.sync {
            assert_eq!(
                run.staged.is_some(),
                run.direction == SyncDirection::Receiving,
                "only a sync being received stages a configuration"
            );
        }
    }
}

/// A cached digest: not protocol state (equal and hashed as nothing), so
/// asking for it never changes [`Unit::state_digest`].
#[derive(Clone, Debug, Default)]
struct DigestCache(core::cell::Cell<Option<u32>>);

impl PartialEq for DigestCache {
    fn eq(&self, _: &DigestCache) -> bool {
        true
    }
}
impl Eq for DigestCache {}
impl core::hash::Hash for DigestCache {
    fn hash<H: core::hash::Hasher>(&self, _: &mut H) {}
}

fn join(a: String, b: String) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a,
        (true, false) => b,
        (false, false) => format!("{a}\n{b}"),
    }
}
