//! How [`Unit`] composes its planes: the facts each is given, the routing of
//! the effects each returns, and the part of the API that reads them.

use super::config_plane::{ConfigFacts, ConfigPlane};
use super::effect::{Effect, Effects};
use super::stateful::{self, ReplicationMark, StateFacts, StatePlane};
use super::{CommandError, Mode, State, Unit};
use crate::channel::ChannelStats;
use crate::config::flash::Flash;
use crate::config::replication::SyncInProgress;
use crate::config::running::RunningConfig;
use crate::config::settings::UnitConfig;
use crate::connections::{Entry, ObjectCounters, ObjectType, StateTables, TrafficError, TrafficOp};
use crate::time::Instant;
use crate::types::{Group, Space};
use crate::wire::{Control, Message, StateObject};

/// What the config plane reads of the unit now.
fn config_facts<'a>(config: &'a UnitConfig, s: &State) -> ConfigFacts<'a> {
    let peer = s.peer.hello.as_ref().filter(|_| s.peer.fresh);
    let split = s.peer.failed || s.link_failed;
    ConfigFacts {
        config,
        split,
        peer_reachable: s.mode == Mode::Enabled && !split && peer.is_some(),
        groups: [Group::One, Group::Two].map(|g| s.groups[g.index()].state),
        peer_g1_active: peer.map(|h| h.groups[0].state.is_active()),
        peer_boot: s.peer.boot,
    }
}

/// What the state plane reads of the unit now.
fn state_facts<'a>(config: &'a UnitConfig, s: &State) -> StateFacts<'a> {
    let peer = s.peer.hello.as_ref().filter(|_| s.peer.fresh);
    StateFacts {
        config,
        enabled: s.mode == Mode::Enabled,
        split: s.peer.failed || s.link_failed,
        groups: [Group::One, Group::Two].map(|g| s.groups[g.index()].state),
        peer_groups: [0, 1].map(|i| peer.map(|h| h.groups[i].state)),
        handed_over: s.peer.handed_over,
        peer_boot: s.peer.boot,
        channel_peer: s.cp.channel.peer_boot(),
        outbox: s.cp.outbox.len(),
        channel_queued: s.cp.channel.queued(),
    }
}

impl Unit {
    /// Calls the state plane with the facts of now and routes what it returns.
    pub(super) fn with_state_plane<R>(&mut self, f: impl FnOnce(&mut StatePlane, &StateFacts, &mut Effects) -> R) -> R {
        let facts = state_facts(&self.config, &self.s);
        let mut fx = Effects::default();
        let result = f(&mut self.s.st, &facts, &mut fx);
        self.route(fx);
        result
    }

    /// Calls the config plane with the facts of now and routes what it returns.
    pub(super) fn with_config_plane<R>(
        &mut self,
        f: impl FnOnce(&mut ConfigPlane, &ConfigFacts, &mut Effects) -> R,
    ) -> R {
        let facts = config_facts(&self.config, &self.s);
        let mut fx = Effects::default();
        let result = f(&mut self.s.cp, &facts, &mut fx);
        self.route(fx);
        result
    }

    /// Carries out what a plane asked for, in order.
    #[inline(always)]
    pub(super) fn route(&mut self, fx: Effects) {
        if !fx.is_empty() {
            self.route_all(fx);
        }
    }

    #[inline(never)]
    fn route_all(&mut self, fx: Effects) {
        for effect in fx {
            match effect {
                Effect::Send(body) => self.cp_send(body),
                Effect::Syslog { id, text } => self.syslog(id, text),
                Effect::Event(event) => self.push_event(event),
            }
        }
    }

    // ----- stateful failover ------------------------------------------------

    /// Traffic through a context changes its tables: opens, updates or closes
    /// a connection or another object. Only the unit active for the context's
    /// group carries traffic. Replicated objects go to the mate (see
    /// `unit/stateful.rs`); a new entry in a full table is refused.
    pub fn handle_traffic(&mut self, now: Instant, op: TrafficOp) -> Result<(), TrafficError> {
        self.observe_time(now);
        let result = self.with_state_plane(|st, facts, fx| st.handle_traffic(facts, fx, op));
        self.finish_input(now);
        result
    }

    /// The connections (TCP, UDP, HTTP) this unit knows in `context`, in id order.
    pub(crate) fn connections(&self, context: &str) -> Vec<StateObject> {
        self.s.st.connections(context)
    }

    /// Every entry this unit keeps in `context` (replicated and local), in table order.
    pub(crate) fn state_entries(&self, context: &str) -> Vec<Entry> {
        self.s.st.entries(context)
    }

    /// All the tables of this unit.
    pub(crate) fn state_tables(&self) -> &StateTables {
        self.s.st.tables()
    }

    /// The `Stateful Failover Logical Update Statistics` counters of one object type.
    pub(crate) fn stateful_counters(&self, t: ObjectType) -> ObjectCounters {
        self.s.st.counters(t)
    }

    /// Control messages waiting to reach the mate (outbox and channel, not yet
    /// acknowledged), and the most there have been at the end of an input:
    /// `Xmit Q` Cur and Max of `show failover`.
    pub(crate) fn xmit_queue(&self) -> (u64, u64) {
        ((self.s.cp.outbox.len() + self.s.cp.channel.queued()) as u64, self.s.st.xmit_queue_max())
    }

    /// Whether a whole bulk sync from the mate's current boot has arrived.
    pub(crate) fn bulk_sync_received(&self) -> bool {
        self.s.st.bulk_received(self.s.peer.boot)
    }

    /// Whether this unit is sending a bulk sync now.
    pub(crate) fn bulk_sync_sending(&self) -> bool {
        self.s.st.bulk_sending()
    }

    /// How far this unit's replicated state has reached its mate (the
    /// harness's "replication caught up", PROTOCOL.md section 12 property 9).
    pub(crate) fn replication_mark(&self) -> ReplicationMark {
        self.s.st.replication_mark(&state_facts(&self.config, &self.s))
    }
}

impl Unit {
    // ----- the config plane -------------------------------------------------

    /// The running configuration.
    pub(crate) fn running_config(&self) -> &RunningConfig {
        self.s.cp.running()
    }

    /// [`RunningConfig::digest`] of the running config (kept up to date at the end of every input).
    pub(crate) fn config_digest(&self) -> u32 {
        self.s.cp.config_digest()
    }

    /// The flash (startup configs, files, activation key): what survives a power cycle.
    pub(crate) fn flash(&self) -> &Flash {
        self.s.cp.flash()
    }

    /// A command was applied on this unit only; the configs differ until the next full sync.
    pub(crate) fn config_out_of_sync(&self) -> bool {
        !self.s.cp.out_of_sync().is_empty()
    }

    /// The spaces that differ from the peer's until a sync covers them.
    pub(crate) fn out_of_sync_spaces(&self) -> impl Iterator<Item = &Space> {
        self.s.cp.out_of_sync().iter()
    }

    /// The full configuration sync running on this unit, if any.
    pub(crate) fn config_sync(&self) -> Option<SyncInProgress> {
        self.s.cp.sync_progress()
    }

    /// Counters of the reliable channel.
    pub(crate) fn channel_stats(&self) -> ChannelStats {
        self.s.cp.channel.stats()
    }

    /// Whether this unit is the authority for `space` now.
    pub(crate) fn is_authoritative(&self, space: &Space) -> bool {
        let groups = [Group::One, Group::Two].map(|g| self.group_state(g));
        self.s.cp.is_authoritative(&groups, space)
    }

    /// A configuration or file command typed in `space` (the text CLI:
    /// everything but the typed failover commands of [`super::Command`]).
    /// Returns what the CLI prints (warnings included), or why it refused.
    pub fn handle_cli(&mut self, now: Instant, space: &Space, line: &str) -> Result<String, CommandError> {
        self.observe_time(now);
        let result = self.with_config_plane(|cp, facts, fx| cp.handle_cli(facts, fx, space, line));
        self.finish_input(now);
        result
    }

    /// `failover` / `no failover` in the running config.
    pub(super) fn record_failover_line(&mut self, line: &str) {
        self.s.cp.record_failover_line(line);
    }

    /// Queues a control message for the mate on the reliable channel.
    pub(super) fn cp_send(&mut self, body: Control) {
        self.s.cp.outbox.push_back(body);
    }

    /// Every authenticated frame from the peer's current boot on the failover
    /// or state link goes through the channel (which learns the peer's boot
    /// from any of them); what it delivers goes to the plane it is for, one
    /// message at a time.
    pub(super) fn cp_on_frame(&mut self, now: Instant, boot: u64, message: &Message) {
        // A hello of the boot the channel knows is nothing to it.
        if !(matches!(message, Message::UnitHello(_)) && self.s.cp.channel.peer_boot() == Some(boot)) {
            self.work.state = true;
        }
        for body in self.s.cp.handle_message(now, boot, message) {
            match body {
                Control::Pairing(p) => {
                    if let Some(boot) = self.s.cp.channel.peer_boot() {
                        self.on_pairing(now, boot, &p);
                    }
                }
                body @ (Control::StateUpdate { .. } | Control::BulkSyncBegin { .. } | Control::BulkSyncEnd { .. }) => {
                    self.with_state_plane(|st, facts, fx| st.handle_delivered(facts, fx, body))
                }
                body => self.with_config_plane(|cp, facts, fx| cp.handle_delivered(facts, fx, body)),
            }
        }
    }

    /// While standalone after refusing the mate's boot `boot`: its acks still
    /// reach the channel (so this unit's pairing facts stop being resent).
    pub(super) fn cp_ack_while_refused(&mut self, now: Instant, boot: u64, message: &Message) {
        self.s.cp.ack_while_refused(now, boot, message);
    }

    /// Nothing waits for the channel and no config or bulk sync runs: the end
    /// of another input would feed and send nothing.
    pub(super) fn cp_quiet(&self) -> bool {
        self.s.cp.quiet() && !self.s.st.bulk_sending()
    }

    pub(super) fn cp_timeout(&mut self, now: Instant) {
        self.s.cp.handle_timeout(now);
    }

    /// Feeds the channel from the outbox and sends its frames.
    fn cp_flush(&mut self, now: Instant) {
        self.s.cp.feed_channel();
        while let Some(m) = self.s.cp.poll_transmit(now) {
            let link = stateful::link_of(self.config.state_link, &m);
            self.send(link, m);
        }
    }

    /// At the end of every input: the config plane decides on a full sync,
    /// the state plane on a bulk sync, the channel's frames go out, and the
    /// config plane notices the end of a sync.
    pub(super) fn cp_after_input(&mut self, now: Instant) {
        if self.s.mode != Mode::Enabled {
            // A unit that refused to pair still delivers its own pairing
            // facts, so that its mate refuses too.
            if self.s.cp.refused.is_some() {
                self.cp_flush(now);
            }
            return;
        }
        self.with_config_plane(|cp, facts, fx| cp.poll_syncs(facts, fx));
        self.with_state_plane(|st, facts, fx| st.poll_end_of_input(facts, fx));
        self.cp_flush(now);
        self.with_config_plane(|cp, facts, fx| cp.poll_sync_end(facts, fx));
    }
}
