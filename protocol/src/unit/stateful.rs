//! Stateful failover on a unit (PROTOCOL.md section 8): the connection
//! tables of its contexts ([`crate::connections`]), their replication to the
//! mate, and the bulk sync a joining standby receives.
//!
//! # Who sends what
//!
//! * **Traffic** ([`super::Unit::handle_traffic`]) goes through the unit active for
//!   the context's group; on the other unit it is refused. It changes that
//!   unit's tables.
//! * **Incremental updates.** With a state link (`UnitConfig::state_link` not
//!   `None`), every add, update and remove of a replicated object becomes one
//!   [`Control::StateUpdate`] through the config plane's reliable channel
//!   (its outbox: the plane returns [`Effect::Send`]): exactly once, in order. HTTP connections are
//!   replicated only with `replication http` on the context's group; uauth
//!   entries and routes never are. With a separate state link, state frames
//!   travel on [`Link::State`], the rest on the failover link.
//! * **Bulk sync.** A mate boot that has not yet received this unit's state
//!   (first heard, rebooted, or split from this unit: declared failed,
//!   failover link failed, or active for a group this unit holds) gets one as soon as it shows a group that this unit
//!   is active for as not active: [`Control::BulkSyncBegin`], one `Add` per
//!   object of every context active here, [`Control::BulkSyncEnd`] with the
//!   number of updates sent in between. Incremental updates are sent only to
//!   a mate boot whose bulk sync has begun, so none is lost before it. The
//!   bulk walks the live tables with a cursor, fed into the outbox a little
//!   at a time ([`STATE_BULK_FEED_MAX`]): a change behind the cursor travels
//!   as an incremental update, one ahead of it is read when the cursor gets
//!   there, so the mate ends with the tables as they are.
//! * **The receiver** clears the replicated entries of every context whose
//!   group is not active on it at `BulkSyncBegin`, and applies every update
//!   (an `Add` of a present key replaces it). A role request can overtake the
//!   state updates sent before it (role requests do not use the channel), so
//!   updates are applied even for a context that just became active here.
//! * **Preempt waits for the bulk sync**: the preferred unit does not arm its
//!   preempt timer until a whole bulk sync from the mate's current boot has
//!   arrived. Nothing else waits: a group reaches Standby Ready on the group
//!   rules alone, so a failure is taken over at once (with whatever state
//!   arrived), as section 4 requires of Standby Ready only.
//! * **Leaving active.** When a group stops being active here, the
//!   never-replicated tables of its contexts are cleared (they were this
//!   unit's alone), and without a state link all its tables are (the new
//!   active unit knows none of these connections, so they are dropped).
//!
//! # Bounds
//!
//! Tables: see [`crate::connections`] (a new entry in a full table is refused
//! and counted). The outbox: an incremental update that finds it holding
//! [`STATE_OUTBOX_MAX`] messages (a state link down for long) is not queued
//! but counted as `xerr`, and the mate gets a new bulk sync afterwards.

use super::Link;
use super::effect::{Effect, Effects};
use crate::config::settings::{StateLink, UnitConfig};
use crate::connections::{
    self as stateful, Entry, InsertError, ObjectCounters, ObjectKey, ObjectType, StateTables, TrafficError, TrafficOp,
};
use crate::constants::{STATE_BULK_FEED_MAX, STATE_OUTBOX_MAX};
use crate::planted::{self, PlantedBug};
use crate::types::{Group, GroupState};
use crate::wire::{Control, Message, StateObject, StateOp};

/// A bulk sync this unit is sending.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BulkSend {
    id: u32,
    /// The last object sent; `None` before the first.
    cursor: Option<ObjectKey>,
    /// State updates queued since `BulkSyncBegin` (bulk and incremental).
    updates: u32,
}

/// A bulk sync this unit is receiving.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct BulkReceive {
    id: u32,
    /// The mate boot sending it.
    from: u64,
    updates: u32,
}

/// What the state plane reads of the rest of the unit, taken at the call:
/// the settings, the groups, the peer view and the channel's backlog.
#[derive(Clone, Copy, Debug)]
pub(super) struct StateFacts<'a> {
    pub config: &'a UnitConfig,
    /// Failover runs (not frozen, not standalone).
    pub enabled: bool,
    /// Cut off from the mate: the peer declared failed or the failover link failed.
    pub split: bool,
    /// This unit's state of each group.
    pub groups: [GroupState; 2],
    /// The mate's state of each group, while its last hello is current.
    pub peer_groups: [Option<GroupState>; 2],
    /// Per group: the mate handed it over after its last hello.
    pub handed_over: [bool; 2],
    /// The boot of the mate's last hello.
    pub peer_boot: Option<u64>,
    /// The mate boot the channel knows.
    pub channel_peer: Option<u64>,
    /// Control messages in the config plane's outbox.
    pub outbox: usize,
    /// Messages in the channel, not yet acknowledged.
    pub channel_queued: usize,
}

impl StateFacts<'_> {
    fn is_active(&self, g: Group) -> bool {
        self.groups[g.index()].is_active()
    }

    fn context_active(&self, context: &str) -> bool {
        self.config.contexts.iter().find(|c| c.name == context).is_some_and(|c| self.is_active(c.group))
    }

    fn contexts_of(&self, g: Group) -> Vec<String> {
        self.config.contexts.iter().filter(|c| c.group == g).map(|c| c.name.clone()).collect()
    }

    /// Whether objects of type `t` in a context of group `g` go to the mate.
    fn replicates(&self, g: Group, t: ObjectType) -> bool {
        t.is_replicated() && (t != ObjectType::HttpConn || self.config.groups[g.index()].replication_http)
    }

    fn planted(&self, bug: PlantedBug) -> bool {
        planted::is_planted(self.config.planted_bug, bug)
    }
}

/// The state plane: the connection tables, their replication to the mate
/// and the bulk syncs. Part of the unit's protocol state (its counters are not).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct StatePlane {
    tables: StateTables,
    /// The mate boot a bulk sync was started to: incremental updates go to it only.
    bulk_sent_to: Option<u64>,
    /// Per group: that mate boot has had this unit's tables of the group's
    /// contexts (a bulk sync covered them while the group was active here).
    bulk_groups: [bool; 2],
    sending: Option<BulkSend>,
    next_bulk_id: u32,
    receiving: Option<BulkReceive>,
    /// The mate boot from which a whole bulk sync arrived.
    bulk_received_from: Option<u64>,
    /// Counters per object type and the transmit queue's high-water mark.
    counters: Counters,
}

/// What [`super::Unit::replication_mark`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicationMark {
    /// The mate boot that holds, acknowledged, every replicated object of the
    /// contexts active on this unit; `None` while anything is outstanding
    /// (no state link, no mate, a bulk sync not finished, updates not yet
    /// acknowledged, a split).
    pub caught_up_to: Option<u64>,
    /// Changes whenever this unit begins a new bulk sync (the mate clears
    /// its replicated copy at its beginning).
    pub bulk_syncs: u32,
}

/// Stateful counters, one per object type, and the transmit queue's
/// high-water mark: not protocol state (equal and hashed as nothing), so
/// they never change [`super::Unit::state_digest`].
#[derive(Clone, Debug, Default)]
struct Counters {
    objects: [ObjectCounters; ObjectType::ALL.len()],
    xmit_queue_max: u64,
}

impl Counters {
    fn of(&mut self, t: ObjectType) -> &mut ObjectCounters {
        &mut self.objects[t as usize]
    }
}

impl PartialEq for Counters {
    fn eq(&self, _: &Counters) -> bool {
        true
    }
}
impl Eq for Counters {}
impl core::hash::Hash for Counters {
    fn hash<H: core::hash::Hasher>(&self, _: &mut H) {}
}

impl StatePlane {
    // ----- observers --------------------------------------------------------

    /// All the tables.
    pub(super) fn tables(&self) -> &StateTables {
        &self.tables
    }

    /// The connections (TCP, UDP, HTTP) in `context`, in id order.
    pub(super) fn connections(&self, context: &str) -> Vec<StateObject> {
        self.tables
            .context(context)
            .filter_map(|(_, e)| match e {
                Entry::Replicated(o @ StateObject::Connection { .. }) => Some(o.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every entry in `context` (replicated and local), in table order.
    pub(super) fn entries(&self, context: &str) -> Vec<Entry> {
        self.tables.context(context).map(|(_, e)| e.clone()).collect()
    }

    /// The counters of one object type.
    pub(super) fn counters(&self, t: ObjectType) -> ObjectCounters {
        self.counters.objects[t as usize]
    }

    /// The most control messages waiting at the end of an input.
    pub(super) fn xmit_queue_max(&self) -> u64 {
        self.counters.xmit_queue_max
    }

    /// Whether a whole bulk sync from the mate boot `peer_boot` has arrived.
    pub(super) fn bulk_received(&self, peer_boot: Option<u64>) -> bool {
        self.receiving.is_none() && self.bulk_received_from.is_some() && self.bulk_received_from == peer_boot
    }

    /// Whether a bulk sync is being sent.
    pub(super) fn bulk_sending(&self) -> bool {
        self.sending.is_some()
    }

    /// How far the replicated state has reached the mate.
    pub(super) fn replication_mark(&self, facts: &StateFacts) -> ReplicationMark {
        ReplicationMark { caught_up_to: self.caught_up_to(facts), bulk_syncs: self.next_bulk_id }
    }

    /// The mate boot that holds every replicated object of the contexts
    /// active here: a state link, failover running and not split, a whole
    /// bulk sync sent to that boot covering every group active here, and
    /// every message since acknowledged by it (the channel acknowledges a
    /// message once it has been applied).
    fn caught_up_to(&self, facts: &StateFacts) -> Option<u64> {
        if facts.config.state_link == StateLink::None || !facts.enabled || facts.split {
            return None;
        }
        let peer = facts.channel_peer?;
        if self.bulk_sent_to != Some(peer) || facts.peer_boot != Some(peer) || self.sending.is_some() {
            return None;
        }
        if Group::ALL.iter().any(|g| facts.is_active(*g) && !self.bulk_groups[g.index()]) {
            return None;
        }
        (facts.outbox + facts.channel_queued == 0).then_some(peer)
    }

    // ----- traffic ----------------------------------------------------------

    /// Traffic through a context changes its tables (see the module documentation).
    pub(super) fn handle_traffic(
        &mut self,
        facts: &StateFacts,
        fx: &mut Effects,
        op: TrafficOp,
    ) -> Result<(), TrafficError> {
        let context = op.context().to_owned();
        let Some(g) = facts.config.contexts.iter().find(|c| c.name == context).map(|c| c.group) else {
            return Err(TrafficError::UnknownContext(context));
        };
        if !facts.is_active(g) {
            return Err(TrafficError::NotActive { context });
        }
        let full = |t: ObjectType| TrafficError::TableFull {
            context: context.clone(),
            table: t.as_str(),
            capacity: stateful::table_capacity(t),
        };
        let missing = |t: ObjectType| TrafficError::NoSuchEntry { context: context.clone(), table: t.as_str() };
        match op {
            TrafficOp::Open(o) => {
                let key = stateful::object_key(&o);
                match self.tables.insert(key.clone(), Entry::Replicated(o.clone())) {
                    Err(InsertError::Full) => {
                        self.counters.of(key.1).refused += 1;
                        Err(full(key.1))
                    }
                    Ok(new) => {
                        self.replicate(facts, fx, g, if new { StateOp::Add } else { StateOp::Update }, o);
                        Ok(())
                    }
                }
            }
            TrafficOp::Update(o) => {
                let key = stateful::object_key(&o);
                if !self.tables.contains(&key) {
                    return Err(missing(key.1));
                }
                let _ = self.tables.insert(key, Entry::Replicated(o.clone()));
                self.replicate(facts, fx, g, StateOp::Update, o);
                Ok(())
            }
            TrafficOp::Close(o) => {
                let key = stateful::object_key(&o);
                if !self.tables.remove(&key) {
                    return Err(missing(key.1));
                }
                self.replicate(facts, fx, g, StateOp::Remove, o);
                Ok(())
            }
            TrafficOp::OpenLocal(l) => {
                let key = stateful::local_key(&l);
                match self.tables.insert(key.clone(), Entry::Local(l)) {
                    Err(InsertError::Full) => {
                        self.counters.of(key.1).refused += 1;
                        Err(full(key.1))
                    }
                    Ok(_) => Ok(()),
                }
            }
            TrafficOp::CloseLocal(l) => {
                let key = stateful::local_key(&l);
                if self.tables.remove(&key) { Ok(()) } else { Err(missing(key.1)) }
            }
        }
    }

    /// Sends one incremental update, if the mate should get it now.
    fn replicate(&mut self, facts: &StateFacts, fx: &mut Effects, g: Group, op: StateOp, object: StateObject) {
        let (t, _) = stateful::object_type_key(&object);
        if facts.config.state_link == StateLink::None || !facts.replicates(g, t) {
            return;
        }
        if !facts.enabled {
            // `no failover` froze the unit and its channel: the mate gets a
            // new bulk sync once failover runs again.
            self.resync();
            return;
        }
        let peer_boot = facts.channel_peer;
        if peer_boot.is_none() || self.bulk_sent_to != peer_boot || facts.split {
            // No mate, or one that has not had its bulk sync yet: the bulk brings it.
            return;
        }
        if facts.outbox + fx.sent() >= STATE_OUTBOX_MAX {
            // The queue is full: the mate's copy is stale, so it gets a new bulk sync.
            self.counters.of(t).xerr += 1;
            self.resync();
            return;
        }
        self.queue(fx, op, object);
    }

    fn queue(&mut self, fx: &mut Effects, op: StateOp, object: StateObject) {
        let (t, _) = stateful::object_type_key(&object);
        self.counters.of(t).xmit += 1;
        if let Some(run) = &mut self.sending {
            run.updates = run.updates.saturating_add(1);
        }
        fx.push(Effect::Send(Control::StateUpdate { op, object }));
    }

    /// The mate's copy can no longer be kept up by incremental updates: it
    /// gets a new bulk sync (the one in progress, if any, is abandoned).
    fn resync(&mut self) {
        self.bulk_sent_to = None;
        self.sending = None;
    }

    // ----- group changes ----------------------------------------------------

    /// `g` became active here: the mate's copy of its contexts may be older
    /// than this unit's (it rebooted, or took the group over from a mate that
    /// had not replicated everything), so it gets a bulk sync again.
    pub(super) fn on_active(&mut self, facts: &StateFacts, g: Group) {
        self.bulk_groups[g.index()] = false;
        if facts.planted(PlantedBug::IgnoreReplicatedConnections) {
            for c in facts.contexts_of(g) {
                self.tables.retain_context(&c, |k, _| k.1 != ObjectType::TcpConn);
            }
        }
    }

    /// `replication http` was turned on for `g`: the HTTP connections open
    /// now reach the mate with a new bulk sync.
    pub(super) fn on_replication_http(&mut self, g: Group) {
        self.bulk_groups[g.index()] = false;
    }

    /// `g` stopped being active here.
    pub(super) fn on_leave_active(&mut self, facts: &StateFacts, g: Group) {
        let keep_replicated = facts.config.state_link != StateLink::None;
        for c in facts.contexts_of(g) {
            self.tables.retain_context(&c, |k, _| keep_replicated && k.1.is_replicated());
        }
    }

    // ----- receiving --------------------------------------------------------

    /// A state message from the mate, delivered by the channel.
    pub(super) fn handle_delivered(&mut self, facts: &StateFacts, fx: &mut Effects, body: Control) {
        match body {
            Control::StateUpdate { op, object } => {
                let key = stateful::object_key(&object);
                if let Some(run) = &mut self.receiving {
                    run.updates = run.updates.saturating_add(1);
                }
                let group = facts.config.contexts.iter().find(|c| c.name == key.0).map(|c| c.group);
                let entry = Entry::Replicated(object.clone());
                let tables = &mut self.tables;
                // A Remove changes the tables when the key was there; an Add or
                // an Update when the entry was not already this one.
                let unchanged = match op {
                    StateOp::Remove => !tables.contains(&key),
                    StateOp::Add | StateOp::Update => tables.get(&key) == Some(&entry),
                };
                let applied = group.is_some()
                    && match op {
                        StateOp::Add => tables.insert(key.clone(), entry).is_ok(),
                        StateOp::Update => tables.contains(&key) && tables.insert(key.clone(), entry).is_ok(),
                        StateOp::Remove => tables.remove(&key),
                    };
                let c = self.counters.of(key.1);
                if applied {
                    c.rcv += 1;
                } else {
                    c.rerr += 1;
                }
                // An update the mate sent while it was active, arriving after
                // this unit took the context over (the role request overtook
                // it): this unit is the authority now and passes the change
                // on, or the mate's copy would miss it if a bulk sync from
                // here cleared it first. A change that changes nothing is not
                // passed on, so two units active at once cannot loop.
                if let Some(g) = group.filter(|g| applied && !unchanged && facts.is_active(*g)) {
                    self.replicate(facts, fx, g, op, object);
                }
            }
            Control::BulkSyncBegin { sync_id } => {
                let Some(from) = facts.channel_peer else { return };
                let stale: Vec<String> = facts
                    .config
                    .contexts
                    .iter()
                    .filter(|c| !facts.is_active(c.group))
                    .map(|c| c.name.clone())
                    .collect();
                for c in stale {
                    self.tables.retain_context(&c, |k, _| !k.1.is_replicated());
                }
                self.receiving = Some(BulkReceive { id: sync_id, from, updates: 0 });
                self.bulk_received_from = None;
            }
            Control::BulkSyncEnd { sync_id, objects } => {
                let Some(run) = self.receiving.take_if(|r| r.id == sync_id) else { return };
                if run.updates != objects {
                    let role = facts.config.role;
                    fx.push(Effect::Syslog {
                        id: 105_022,
                        text: format!(
                            "({role}) Bulk sync from mate: {} state updates received, {objects} sent",
                            run.updates
                        ),
                    });
                }
                self.bulk_received_from = Some(run.from);
            }
            _ => {}
        }
    }

    // ----- sending ----------------------------------------------------------

    /// At the end of every input, before the outbox is flushed: forget what a
    /// split or a reboot voided, start a bulk sync when the mate needs one,
    /// feed the bulk sync in progress.
    pub(super) fn poll_end_of_input(&mut self, facts: &StateFacts, fx: &mut Effects) {
        let peer_boot = facts.channel_peer;
        // The mate's copy may have diverged: it was cut off, or it took a
        // group this unit holds (it declared this unit failed, maybe on a
        // one-way cut this unit never noticed). It gets a new bulk sync. The
        // receiving side forgets nothing on a split: its channel stream from
        // the same mate boot goes on, and a new bulk sync restarts it.
        let both_active = Group::ALL.iter().any(|g| {
            facts.is_active(*g)
                && !facts.handed_over[g.index()]
                && facts.peer_groups[g.index()].is_some_and(|p| p.is_active())
        });
        if facts.split || both_active {
            self.resync();
        }
        if self.bulk_sent_to != peer_boot {
            // The outbox was cleared for a new mate boot (or a split voided it).
            self.sending = None;
        }
        if self.receiving.as_ref().is_some_and(|r| Some(r.from) != peer_boot) {
            self.receiving = None;
        }
        if facts.config.state_link == StateLink::None || !facts.enabled {
            return;
        }
        // While both units are active for a group, nothing starts: a bulk
        // sync begun now would be voided by the resync above at the next
        // input (a new one at every input, seed 159); the one after the
        // both-active rule settles it brings the mate up to date.
        if !both_active && self.bulk_due(facts, peer_boot) {
            let id = self.next_bulk_id;
            self.next_bulk_id = self.next_bulk_id.wrapping_add(1).max(1);
            self.bulk_sent_to = peer_boot;
            self.sending = Some(BulkSend { id, cursor: None, updates: 0 });
            self.bulk_groups = [Group::One, Group::Two].map(|g| facts.is_active(g));
            fx.push(Effect::Send(Control::BulkSyncBegin { sync_id: id }));
        }
        self.feed_bulk(facts, fx);
        let queued = (facts.outbox + fx.sent() + facts.channel_queued) as u64;
        self.counters.xmit_queue_max = self.counters.xmit_queue_max.max(queued);
    }

    fn bulk_due(&self, facts: &StateFacts, peer_boot: Option<u64>) -> bool {
        peer_boot.is_some()
            && peer_boot == facts.peer_boot
            && self.sending.is_none()
            && !facts.split
            && facts.outbox < STATE_OUTBOX_MAX
            && Group::ALL.iter().any(|g| {
                facts.is_active(*g)
                    && facts.peer_groups[g.index()].is_some_and(|p| !p.is_active())
                    && (self.bulk_sent_to != peer_boot || !self.bulk_groups[g.index()])
            })
    }

    /// Queues the next objects of the bulk sync in progress, and its end once
    /// the cursor has passed the last one.
    fn feed_bulk(&mut self, facts: &StateFacts, fx: &mut Effects) {
        while facts.outbox + fx.sent() < STATE_BULK_FEED_MAX {
            let Some(run) = &self.sending else { return };
            let next = self.tables.next_after(run.cursor.as_ref()).map(|(k, e)| (k.clone(), e.clone()));
            let Some((key, entry)) = next else {
                let run = self.sending.take().expect("checked above");
                fx.push(Effect::Send(Control::BulkSyncEnd { sync_id: run.id, objects: run.updates }));
                return;
            };
            if let Some(run) = &mut self.sending {
                run.cursor = Some(key.clone());
            }
            let Entry::Replicated(object) = entry else { continue };
            let g = facts.config.group_of_context(&key.0);
            if facts.context_active(&key.0) && facts.replicates(g, key.1) {
                self.queue(fx, StateOp::Add, object);
            }
        }
    }

    /// The invariants of the plane.
    pub(super) fn invariants(&self, state_link: StateLink) {
        self.tables.check_bounds();
        assert!(self.sending.is_none() || self.bulk_sent_to.is_some(), "a bulk sync is sent to a known mate boot");
        if state_link == StateLink::None {
            assert!(self.sending.is_none(), "no bulk sync without a state link");
        }
    }
}

/// The link a channel message travels on: state messages on a separate
/// state link when there is one.
pub(super) fn link_of(state_link: StateLink, message: &Message) -> Link {
    let state = matches!(
        message,
        Message::Control {
            body: Control::StateUpdate { .. } | Control::BulkSyncBegin { .. } | Control::BulkSyncEnd { .. },
            ..
        }
    );
    if state && state_link == StateLink::Separate { Link::State } else { Link::Failover }
}
