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

use super::{Event, Mode, Unit};
use crate::channel::{Channel, SendError};
use crate::config::flash::{FileCommand, Flash};
use crate::config::replication::{self, Classification, CommandKind, SyncDirection, SyncInProgress};
use crate::config::running::RunningConfig;
use crate::config::settings::{ConfigError, UnitConfig};
use crate::planted::PlantedBug;
use crate::time::Instant;
use crate::types::{Group, Space};
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

impl Unit {
    // ----- observers -------------------------------------------------------

    /// The running configuration.
    pub fn running_config(&self) -> &RunningConfig {
        &self.s.cp.running
    }

    /// [`RunningConfig::digest`] of the running config (kept up to date at the end of every input).
    pub fn config_digest(&self) -> u32 {
        self.s.cp.digest()
    }

    /// The flash (startup configs, files, activation key): what survives a power cycle.
    pub fn flash(&self) -> &Flash {
        &self.s.cp.flash
    }

    /// A command was applied on this unit only; the configs differ until the next full sync.
    pub fn config_out_of_sync(&self) -> bool {
        !self.s.cp.out_of_sync.is_empty()
    }

    /// The spaces that differ from the peer's until a sync covers them.
    pub fn out_of_sync_spaces(&self) -> impl Iterator<Item = &Space> {
        self.s.cp.out_of_sync.iter()
    }

    /// The full configuration sync running on this unit, if any.
    pub fn config_sync(&self) -> Option<SyncInProgress> {
        self.s.cp.sync.as_ref().map(|s| SyncInProgress {
            direction: s.direction,
            lines_done: s.lines_done,
            lines_total: s.lines_total,
        })
    }

    /// Counters of the reliable channel.
    pub fn channel_stats(&self) -> crate::channel::ChannelStats {
        self.s.cp.channel.stats()
    }

    /// Whether this unit is the authority for `space` now.
    pub fn is_authoritative(&self, space: &Space) -> bool {
        let groups = self.s.cp.running.context_groups();
        let active: Vec<Group> = Group::ALL.iter().copied().filter(|g| self.group_state(*g).is_active()).collect();
        replication::is_authoritative(space, &groups, &active)
    }

    // ----- the CLI ---------------------------------------------------------

    /// A configuration or file command typed in `space` (the text CLI:
    /// everything but the typed failover commands of [`super::Command`]).
    /// Returns what the CLI prints (warnings included), or why it refused.
    pub fn handle_cli(&mut self, now: Instant, space: &Space, line: &str) -> Result<String, super::CommandError> {
        self.observe_time(now);
        let result = self.cli(space, line);
        self.finish_input(now);
        result
    }

    fn cli(&mut self, space: &Space, line: &str) -> Result<String, super::CommandError> {
        let refused = |m: String| Err(super::CommandError::Refused(m));
        if let Space::Context(name) = space {
            if !self.s.cp.running.contexts().contains_key(name) {
                return refused(format!("no security context named {name:?}"));
            }
        }
        let kind = replication::command_kind(line);
        if kind == CommandKind::WriteStandby {
            return self.write_standby(space);
        }
        let sync = self.config_sync();
        let authoritative = self.is_authoritative(space)
            || (self.planted(PlantedBug::ReplicateFromWrongUnit) && kind == CommandKind::Config);
        let class = match replication::admit(space, line, authoritative, sync.as_ref()) {
            Ok(c) => c,
            Err(refusal) => return refused(refusal.to_string()),
        };
        if kind == CommandKind::LocalAction
            && replication::canonical_words(line).first().map(String::as_str) == Some("activation-key")
        {
            return self.activation_key(line);
        }
        match kind {
            CommandKind::Empty | CommandKind::Exec | CommandKind::LocalAction => {
                refused(format!("{:?}: not a configuration or file command of this model", line.trim()))
            }
            CommandKind::WriteStandby => unreachable!("handled above"),
            CommandKind::File => {
                let text = self.file_command(space, line)?;
                self.count_if_split();
                let warning = match class {
                    Classification::Replicated if self.peer_reachable() => {
                        self.replicate_file_command(space, line);
                        String::new()
                    }
                    Classification::Replicated => String::new(),
                    Classification::LocalOnly { warning, .. } => warning,
                    Classification::NotReplicated => String::new(),
                };
                Ok(join(text, warning))
            }
            CommandKind::LocalConfig | CommandKind::Config => {
                self.s.cp.running_mut().apply(space, line).map_err(|e| super::CommandError::Refused(e.to_string()))?;
                self.count_if_split();
                match class {
                    Classification::Replicated if !self.peer_reachable() => {
                        self.s.cp.resync_needed = true;
                        Ok(String::new())
                    }
                    Classification::Replicated if self.planted(PlantedBug::ReplicationLost) => Ok(String::new()),
                    Classification::Replicated => {
                        self.s.cp.command_seq += 1;
                        let body = Control::CommandReplication {
                            space: space.clone(),
                            line: line.to_owned(),
                            command_seq: self.s.cp.command_seq,
                        };
                        self.push_event(Event::CommandReplicated { space: space.clone(), line: line.to_owned() });
                        self.cp_send(body);
                        Ok(String::new())
                    }
                    Classification::LocalOnly { out_of_sync, warning } => {
                        if out_of_sync {
                            self.s.cp.out_of_sync.insert(space.clone());
                        }
                        Ok(warning)
                    }
                    Classification::NotReplicated => Ok(String::new()),
                }
            }
        }
    }

    /// `activation-key 0x.. 0x.. 0x.. 0x..`: verified for this unit's serial
    /// number and stored in flash; the unit runs the new license at once. A
    /// mate refused before is paired again at its next boot or this unit's.
    fn activation_key(&mut self, line: &str) -> Result<String, super::CommandError> {
        let serial = self.config.device().serial;
        let license = self
            .s
            .cp
            .flash
            .install_activation_key(&serial, line)
            .map_err(|e| super::CommandError::Refused(format!("ERROR: {e}")))?;
        self.s.cp.license = license;
        self.flash_written();
        Ok(format!("Licensed features for this platform: {license}\nThe flash activation key has been modified."))
    }

    /// A command was applied while the peer is unreachable: counted for the heal discard.
    fn count_if_split(&mut self) {
        if !self.peer_reachable() {
            self.s.cp.split_commands = self.s.cp.split_commands.saturating_add(1);
        }
    }

    /// Runs a file command on this unit's flash.
    fn file_command(&mut self, space: &Space, line: &str) -> Result<String, super::CommandError> {
        let refused = |m: String| super::CommandError::Refused(m);
        let Some(cmd) = FileCommand::parse(line).map_err(|e| refused(e.to_string()))? else {
            return Err(refused(format!("{:?}: not a file command", line.trim())));
        };
        let cp = &mut self.s.cp;
        cp.flash.execute(&cmd, &cp.running, space).map_err(|e| refused(e.to_string()))?;
        self.flash_written();
        Ok(match cmd {
            FileCommand::WriteMemory { .. } | FileCommand::CopyRunningStartup => "[OK]".to_owned(),
            _ => String::new(),
        })
    }

    fn replicate_file_command(&mut self, space: &Space, line: &str) {
        let body = match FileCommand::parse(line) {
            Ok(Some(FileCommand::WriteMemory { all })) => Control::WriteMemory { space: space.clone(), all },
            Ok(Some(FileCommand::CopyRunningStartup)) => Control::WriteMemory { space: space.clone(), all: false },
            _ => {
                self.s.cp.command_seq += 1;
                Control::CommandReplication {
                    space: space.clone(),
                    line: line.to_owned(),
                    command_seq: self.s.cp.command_seq,
                }
            }
        };
        self.push_event(Event::CommandReplicated { space: space.clone(), line: line.to_owned() });
        self.cp_send(body);
    }

    fn flash_written(&mut self) {
        self.push_event(Event::FlashWritten { flash: Box::new(self.s.cp.flash.clone()) });
    }

    /// `write standby`: a full sync to the peer, of everything (system space)
    /// or of one context.
    fn write_standby(&mut self, space: &Space) -> Result<String, super::CommandError> {
        if !self.is_authoritative(space) {
            return Err(super::CommandError::Refused(format!(
                "write standby: this unit is not active for the failover group of {}; enter it on the mate",
                match space {
                    Space::System => "the system space".to_owned(),
                    Space::Context(n) => format!("context {n}"),
                }
            )));
        }
        if let Some(s) = self.config_sync() {
            return Err(super::CommandError::Refused(format!(
                "write standby: a full configuration synchronisation is already in progress ({s})"
            )));
        }
        if self.s.cp.channel.peer_boot().is_none() || !self.peer_reachable() {
            return Err(super::CommandError::Refused("write standby: the mate is not reachable".into()));
        }
        let scope = match space {
            Space::System => None,
            Space::Context(_) => Some(space.clone()),
        };
        self.start_full_sync(scope);
        Ok(String::new())
    }

    // ----- sending ---------------------------------------------------------

    /// `failover` / `no failover` in the running config (a bootstrap line:
    /// never replicated, kept by a sync, saved by `write memory`).
    pub(super) fn record_failover_line(&mut self, line: &str) {
        let _ = self.s.cp.running.apply(&Space::System, line);
        self.s.cp.digest.0.set(None);
    }

    pub(super) fn cp_send(&mut self, body: Control) {
        self.s.cp.outbox.push_back(body);
    }

    /// The peer answers on the failover link and is not declared failed.
    fn peer_reachable(&self) -> bool {
        self.s.mode == Mode::Enabled && !self.s.peer.failed && !self.s.link_failed && self.fresh_peer().is_some()
    }

    fn start_full_sync(&mut self, scope: Option<Space>) {
        let lines: Vec<_> = self
            .s
            .cp
            .running
            .sync_lines()
            .into_iter()
            .filter(|l| scope.as_ref().is_none_or(|s| &l.space == s))
            .collect();
        let digest = match &scope {
            None => self.s.cp.digest(),
            Some(_) => 0,
        };
        let cp = &mut self.s.cp;
        let sync_id = cp.next_sync_id;
        cp.next_sync_id = cp.next_sync_id.wrapping_add(1).max(1);
        let total = lines.len() as u32;
        cp.outbox.push_back(Control::ConfigSyncBegin {
            sync_id,
            scope: scope.clone().unwrap_or(Space::System),
            lines: total,
        });
        for (index, chunk) in lines.chunks(CHUNK_LINES_MAX).enumerate() {
            cp.outbox.push_back(Control::ConfigSyncChunk { sync_id, index: index as u32, lines: chunk.to_vec() });
        }
        cp.outbox.push_back(Control::ConfigSyncEnd { sync_id, lines: total, digest });
        cp.sync = Some(SyncRun {
            id: sync_id,
            direction: SyncDirection::Sending,
            scope: scope.clone(),
            lines_total: total,
            lines_done: 0,
            staged: None,
        });
        if scope.is_none() {
            cp.synced_peer = cp.channel.peer_boot();
            cp.split_commands = 0;
            cp.resync_needed = false;
        }
        let text = format!("({}) Beginning configuration replication: Sending to mate.", self.config.role);
        self.syslog(709_003, text);
    }

    // ----- receiving -------------------------------------------------------

    /// Every authenticated frame from the peer's current boot on the failover
    /// or state link goes through the channel (which learns the peer's boot
    /// from any of them); role requests keep their own path.
    pub(super) fn cp_on_frame(&mut self, now: Instant, boot: u64, message: &Message) {
        if matches!(message, Message::Control { body: Control::RoleRequest { .. }, .. }) {
            return;
        }
        let delivered = self.s.cp.channel.handle_message(now, boot, message);
        for body in delivered {
            self.cp_deliver(body);
        }
    }

    fn cp_deliver(&mut self, body: Control) {
        let role = self.config.role;
        match body {
            Control::ConfigSyncBegin { sync_id, scope, lines } => {
                let scope = match scope {
                    Space::System => None,
                    s => Some(s),
                };
                if scope.is_none() && self.group_state(Group::One).is_active() {
                    // A full sync never overwrites the authority: the peer's view was stale.
                    self.syslog(
                        709_005,
                        format!(
                            "({role}) Configuration replication from mate ignored: this unit is active for group 1."
                        ),
                    );
                    if self.s.cp.sync.as_ref().is_some_and(|r| r.direction == SyncDirection::Receiving) {
                        self.s.cp.sync = None;
                    }
                    // The mate holds a configuration it took for the authority's:
                    // it gets this unit's as soon as it shows group 1 not active
                    // (a preempt that crossed the mate's sync left the mate's
                    // split-time commands on it for good: sweep seed 1116517).
                    self.s.cp.resync_needed = true;
                    return;
                }
                let cp = &mut self.s.cp;
                let mut staged = cp.running.clone();
                match &scope {
                    None => staged.clear_for_sync(),
                    Some(Space::Context(name)) => {
                        let _ = staged.apply(&Space::Context(name.clone()), "clear configure all");
                    }
                    Some(Space::System) => {}
                }
                let discarded = std::mem::take(&mut cp.split_commands);
                if scope.is_none() {
                    cp.resync_needed = false;
                }
                // A sync of this unit's own still under way is void: its
                // remaining frames carry a configuration this one replaces,
                // and the mate applies them after this sync is over. Once
                // this unit is the authority again, the mate gets a new one.
                if cp.sync.as_ref().is_some_and(|r| r.direction == SyncDirection::Sending) {
                    cp.synced_peer = None;
                }
                cp.sync = Some(SyncRun {
                    id: sync_id,
                    direction: SyncDirection::Receiving,
                    scope,
                    lines_total: lines,
                    lines_done: 0,
                    staged: Some(staged),
                });
                self.syslog(709_005, format!("({role}) Beginning configuration replication: Receiving from mate."));
                if discarded > 0 {
                    self.syslog(
                        SYSLOG_HEAL_DISCARD,
                        format!(
                            "({role}) {discarded} configuration command(s) entered on this unit while the mate \
                             was unreachable are discarded: the mate's configuration replaces them."
                        ),
                    );
                }
            }
            Control::ConfigSyncChunk { sync_id, lines, .. } => {
                let cp = &mut self.s.cp;
                let Some(run) = cp.sync.as_mut().filter(|r| r.id == sync_id && r.direction == SyncDirection::Receiving)
                else {
                    return;
                };
                run.lines_done = run.lines_done.saturating_add(lines.len() as u32);
                let Some(staged) = run.staged.as_mut() else { return };
                let mut failed = Vec::new();
                for l in &lines {
                    if let Err(e) = staged.apply_sync_line(l) {
                        failed.push(format!("{}: {:?}: {e}", l.space, l.line));
                    }
                }
                for f in failed {
                    self.syslog(105_022, format!("({role}) Config replication failed with reason = {f}"));
                }
            }
            Control::ConfigSyncEnd { sync_id, lines, digest } => {
                let cp = &mut self.s.cp;
                let Some(mut run) = cp.sync.take_if(|r| r.id == sync_id && r.direction == SyncDirection::Receiving)
                else {
                    return;
                };
                if let Some(staged) = run.staged.take() {
                    *cp.running_mut() = staged;
                }
                let whole = run.scope.is_none();
                let ok = run.lines_done == lines && (!whole || cp.digest() == digest);
                let space = run.scope.clone().unwrap_or(Space::System);
                match (&run.scope, ok) {
                    (None, true) => cp.out_of_sync.clear(),
                    (Some(s), true) => {
                        cp.out_of_sync.remove(s);
                    }
                    (_, false) => {
                        cp.out_of_sync.insert(space);
                    }
                }
                if !ok {
                    self.syslog(
                        105_022,
                        format!(
                            "({role}) Config replication failed with reason = received {} of {lines} lines{}",
                            run.lines_done,
                            if whole { ", or the digest differs" } else { "" }
                        ),
                    );
                }
                self.syslog(709_006, format!("({role}) End Configuration Replication from mate."));
                self.reapply_unacknowledged();
            }
            Control::CommandReplication { space, line, .. } => {
                self.push_event(Event::ReplicatedCommandReceived { space: space.clone(), line: line.clone() });
                match replication::command_kind(&line) {
                    CommandKind::File => {
                        if let Err(e) = self.file_command(&space, &line) {
                            self.syslog(105_022, format!("({role}) Replicated command {line:?} failed: {e}"));
                        }
                    }
                    _ => {
                        if let Err(e) = self.s.cp.running_mut().apply(&space, &line) {
                            self.syslog(105_022, format!("({role}) Replicated command {line:?} failed: {e}"));
                        }
                        self.restart_sync_for(&space);
                    }
                }
            }
            Control::WriteMemory { space, all } => {
                let line = if all { "write memory all" } else { "write memory" };
                self.push_event(Event::ReplicatedCommandReceived { space: space.clone(), line: line.into() });
                if let Err(e) = self.file_command(&space, line) {
                    self.syslog(105_022, format!("({role}) Replicated {line:?} failed: {e}"));
                }
            }
            // The mate applied commands while split from this unit and asks
            // for this unit's configuration (see `cp_after_input`).
            Control::WriteStandby { space } => {
                if !self.is_authoritative(&space) {
                    return;
                }
                match &self.s.cp.sync {
                    None => {
                        let scope = match space {
                            Space::System => None,
                            s => Some(s),
                        };
                        self.start_full_sync(scope);
                    }
                    // A sync this unit sends is under way: the mate may have
                    // taken it in before its split commands, so a fresh one
                    // follows it (`cp_after_input`); dropping the request left
                    // the mate's commands in place for good (sweep seed 66030).
                    Some(run) if run.direction == SyncDirection::Sending => self.s.cp.resync_needed = true,
                    // Receiving: the mate is sending its own configuration.
                    Some(_) => {}
                }
            }
            Control::Pairing(p) => {
                if let Some(boot) = self.s.cp.channel.peer_boot() {
                    self.on_pairing(self.s.clock, boot, &p);
                }
            }
            // Connection state belongs to stateful failover.
            body @ (Control::StateUpdate { .. } | Control::BulkSyncBegin { .. } | Control::BulkSyncEnd { .. }) => {
                self.st_deliver(body)
            }
            // Role requests never come this way.
            Control::RoleRequest { .. } => {}
        }
    }

    /// Nothing waits for the channel and no config or bulk sync runs: the end
    /// of another input would feed and send nothing.
    pub(super) fn cp_quiet(&self) -> bool {
        self.s.cp.outbox.is_empty() && self.s.cp.sync.is_none() && !self.bulk_sync_sending()
    }

    /// Feeds the channel from the outbox and sends its frames.
    fn cp_flush(&mut self, now: Instant) {
        let cp = &mut self.s.cp;
        while let Some(body) = cp.outbox.pop_front() {
            match cp.channel.send(body) {
                Ok(()) => {}
                Err(SendError::Full { body }) | Err(SendError::AbandonedPending { body, .. }) => {
                    cp.outbox.push_front(*body);
                    break;
                }
                Err(SendError::Unencodable { .. }) => {}
            }
        }
        while self.s.cp.channel.may_transmit() {
            let Some(m) = self.s.cp.channel.poll_transmit(now) else { break };
            let link = self.st_link_of(&m);
            self.send(link, m);
        }
    }

    /// While standalone after refusing the mate's boot `boot`: its acks still
    /// reach the channel (so this unit's pairing facts stop being resent).
    pub(super) fn cp_ack_while_refused(&mut self, now: Instant, boot: u64, message: &Message) {
        if matches!(message, Message::Ack(_)) && self.s.cp.refused.as_ref().is_some_and(|(b, _)| *b == boot) {
            let _ = self.s.cp.channel.handle_message(now, boot, message);
        }
    }

    /// A command from the mate applied here while this unit sends the mate a
    /// sync covering its space: the sync's copy was taken before the command,
    /// and the mate may have seen the command acknowledged before the sync
    /// arrived (acks overtake the stream), so it would not apply it again;
    /// the configurations would differ for good. The sync starts again from
    /// the configuration as it is now (the channel keeps the order: the mate
    /// applies the first sync, then this one).
    fn restart_sync_for(&mut self, space: &Space) {
        let Some(run) = &self.s.cp.sync else { return };
        if run.direction == SyncDirection::Sending && run.scope.as_ref().is_none_or(|s| s == space) {
            let scope = run.scope.clone();
            self.start_full_sync(scope);
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
        let cp = &mut self.s.cp;
        let pending: Vec<Control> = cp.channel.unacknowledged().chain(cp.outbox.iter()).cloned().collect();
        // A context sync whose beginning is in flight: its context and lines so far.
        let mut context_sync: Option<(u32, String, Vec<ConfigLine>)> = None;
        for c in pending {
            match c {
                Control::CommandReplication { space, line, .. }
                    if replication::command_kind(&line) == CommandKind::Config =>
                {
                    let _ = cp.running_mut().apply(&space, &line);
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
                        let running = cp.running_mut();
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

    pub(super) fn cp_timeout(&mut self, now: Instant) {
        self.s.cp.channel.handle_timeout(now);
    }

    /// At the end of every input: decide on a full sync, feed the channel,
    /// send its frames, notice the end of a sync.
    pub(super) fn cp_after_input(&mut self, now: Instant) {
        if self.s.mode != Mode::Enabled {
            // A unit that refused to pair still delivers its own pairing
            // facts, so that its mate refuses too.
            if self.s.cp.refused.is_some() {
                self.cp_flush(now);
            }
            return;
        }
        let split = self.s.peer.failed || self.s.link_failed;
        let peer_g1_active = self.fresh_peer().map(|h| h.groups[0].state.is_active());
        let me_g1_active = self.group_state(Group::One).is_active();
        let cp = &mut self.s.cp;
        if split || (me_g1_active && peer_g1_active == Some(true)) {
            cp.synced_peer = None;
        }
        if split {
            cp.abort_receiving();
        }
        // A rebooted (or first heard) peer: what was queued for its previous
        // boot is void, and a sync with that boot is over; it gets a full sync.
        let abandoned = !cp.channel.take_abandoned().is_empty();
        if abandoned || cp.channel.peer_boot() != cp.channel_peer {
            if cp.channel_peer.is_some() {
                cp.outbox.clear();
                cp.abort_receiving();
                cp.sync = None;
            }
            cp.channel_peer = cp.channel.peer_boot();
        }
        let peer_boot = cp.channel.peer_boot();
        if peer_boot.is_some() && cp.pairing_sent_to != peer_boot {
            cp.pairing_sent_to = peer_boot;
            let info = self.pairing_info().to_wire();
            self.s.cp.outbox.push_front(Control::Pairing(info));
        }
        if me_g1_active
            && peer_g1_active == Some(false)
            && !split
            && peer_boot.is_some()
            && peer_boot == self.s.peer.boot
            && (self.s.cp.synced_peer != peer_boot || self.s.cp.resync_needed)
            && self.s.cp.sync.is_none()
        {
            self.start_full_sync(None);
        } else if self.s.cp.resync_needed
            && peer_g1_active == Some(true)
            && !me_g1_active
            && !split
            && self.s.cp.sync.is_none()
            && peer_boot.is_some()
        {
            // Commands applied here while split were not sent: ask the
            // authority for its configuration, which replaces them.
            self.s.cp.resync_needed = false;
            self.cp_send(Control::WriteStandby { space: Space::System });
        }
        self.st_after_input();
        self.cp_flush(now);
        let cp = &mut self.s.cp;
        if let Some(run) = &cp.sync {
            if run.direction == SyncDirection::Sending && cp.outbox.is_empty() && cp.channel.is_idle() {
                match cp.sync.take().and_then(|r| r.scope) {
                    None => cp.out_of_sync.clear(),
                    Some(s) => {
                        cp.out_of_sync.remove(&s);
                    }
                }
                let text = format!("({}) End Configuration Replication to mate.", self.config.role);
                self.syslog(709_004, text);
            }
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
