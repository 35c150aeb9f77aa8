//! Stateful failover on a unit (PROTOCOL.md section 8): the connection
//! tables of its contexts ([`crate::connections`]), their replication to the
//! mate, and the bulk sync a joining standby receives.
//!
//! # Who sends what
//!
//! * **Traffic** ([`Unit::handle_traffic`]) goes through the unit active for
//!   the context's group; on the other unit it is refused. It changes that
//!   unit's tables.
//! * **Incremental updates.** With a state link (`UnitConfig::state_link` not
//!   `None`), every add, update and remove of a replicated object becomes one
//!   [`Control::StateUpdate`] through the config plane's reliable channel
//!   (its outbox, `cp_send`): exactly once, in order. HTTP connections are
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

use super::{Link, Mode, Unit};
use crate::config::settings::StateLink;
use crate::connections::{
    self as stateful, Entry, InsertError, ObjectCounters, ObjectKey, ObjectType, StateTables, TrafficError, TrafficOp,
};
use crate::constants::{STATE_BULK_FEED_MAX, STATE_OUTBOX_MAX};
use crate::planted::PlantedBug;
use crate::time::Instant;
use crate::types::Group;
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

/// The stateful part of a unit's protocol state.
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
}

/// What [`Unit::replication_mark`] reports.
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
/// high-water mark (not protocol state).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct StateCounters {
    objects: [ObjectCounters; ObjectType::ALL.len()],
    xmit_queue_max: u64,
}

impl StateCounters {
    fn of(&mut self, t: ObjectType) -> &mut ObjectCounters {
        &mut self.objects[t as usize]
    }
}

impl Unit {
    // ----- the operator/test API --------------------------------------------

    /// Traffic through a context changes its tables: opens, updates or closes
    /// a connection or another object. Only the unit active for the context's
    /// group carries traffic. Replicated objects go to the mate (see the
    /// module documentation); a new entry in a full table is refused.
    pub fn handle_traffic(&mut self, now: Instant, op: TrafficOp) -> Result<(), TrafficError> {
        self.observe_time(now);
        let result = self.traffic(op);
        self.finish_input(now);
        result
    }

    /// The connections (TCP, UDP, HTTP) this unit knows in `context`, in id order.
    pub fn connections(&self, context: &str) -> Vec<StateObject> {
        self.s
            .st
            .tables
            .context(context)
            .filter_map(|(_, e)| match e {
                Entry::Replicated(o @ StateObject::Connection { .. }) => Some(o.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every entry this unit keeps in `context` (replicated and local), in table order.
    pub fn state_entries(&self, context: &str) -> Vec<Entry> {
        self.s.st.tables.context(context).map(|(_, e)| e.clone()).collect()
    }

    /// All the tables of this unit.
    pub fn state_tables(&self) -> &StateTables {
        &self.s.st.tables
    }

    /// The `Stateful Failover Logical Update Statistics` counters of one object type.
    pub fn stateful_counters(&self, t: ObjectType) -> ObjectCounters {
        self.st_stats.objects[t as usize]
    }

    /// Control messages waiting to reach the mate (outbox and channel, not yet
    /// acknowledged), and the most there have been at the end of an input:
    /// `Xmit Q` Cur and Max of `show failover`.
    pub fn xmit_queue(&self) -> (u64, u64) {
        (self.st_xmit_queued(), self.st_stats.xmit_queue_max)
    }

    fn st_xmit_queued(&self) -> u64 {
        (self.s.cp.outbox.len() + self.s.cp.channel.queued()) as u64
    }

    /// Whether a whole bulk sync from the mate's current boot has arrived.
    pub fn bulk_sync_received(&self) -> bool {
        self.s.st.receiving.is_none()
            && self.s.st.bulk_received_from.is_some()
            && self.s.st.bulk_received_from == self.s.peer.boot
    }

    /// Whether this unit is sending a bulk sync now.
    pub fn bulk_sync_sending(&self) -> bool {
        self.s.st.sending.is_some()
    }

    /// How far this unit's replicated state has reached its mate (the
    /// harness's "replication caught up", PROTOCOL.md section 12 property 9).
    pub fn replication_mark(&self) -> ReplicationMark {
        ReplicationMark { caught_up_to: self.st_caught_up_to(), bulk_syncs: self.s.st.next_bulk_id }
    }

    /// The mate boot that holds every replicated object of the contexts
    /// active here: a state link, failover running and not split, a whole
    /// bulk sync sent to that boot covering every group active here, and
    /// every message since acknowledged by it (the channel acknowledges a
    /// message once it has been applied).
    fn st_caught_up_to(&self) -> Option<u64> {
        let st = &self.s.st;
        if self.config.state_link == StateLink::None || self.s.mode != Mode::Enabled || self.st_split() {
            return None;
        }
        let peer = self.s.cp.channel.peer_boot()?;
        if st.bulk_sent_to != Some(peer) || self.s.peer.boot != Some(peer) || st.sending.is_some() {
            return None;
        }
        if Group::ALL.iter().any(|g| self.group_state(*g).is_active() && !st.bulk_groups[g.index()]) {
            return None;
        }
        (self.st_xmit_queued() == 0).then_some(peer)
    }

    // ----- traffic ---------------------------------------------------------

    fn traffic(&mut self, op: TrafficOp) -> Result<(), TrafficError> {
        let context = op.context().to_owned();
        let Some(g) = self.config.contexts.iter().find(|c| c.name == context).map(|c| c.group) else {
            return Err(TrafficError::UnknownContext(context));
        };
        if !self.group_state(g).is_active() {
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
                match self.s.st.tables.insert(key.clone(), Entry::Replicated(o.clone())) {
                    Err(InsertError::Full) => {
                        self.st_stats.of(key.1).refused += 1;
                        Err(full(key.1))
                    }
                    Ok(new) => {
                        self.st_replicate(g, if new { StateOp::Add } else { StateOp::Update }, o);
                        Ok(())
                    }
                }
            }
            TrafficOp::Update(o) => {
                let key = stateful::object_key(&o);
                if !self.s.st.tables.contains(&key) {
                    return Err(missing(key.1));
                }
                let _ = self.s.st.tables.insert(key, Entry::Replicated(o.clone()));
                self.st_replicate(g, StateOp::Update, o);
                Ok(())
            }
            TrafficOp::Close(o) => {
                let key = stateful::object_key(&o);
                if !self.s.st.tables.remove(&key) {
                    return Err(missing(key.1));
                }
                self.st_replicate(g, StateOp::Remove, o);
                Ok(())
            }
            TrafficOp::OpenLocal(l) => {
                let key = stateful::local_key(&l);
                match self.s.st.tables.insert(key.clone(), Entry::Local(l)) {
                    Err(InsertError::Full) => {
                        self.st_stats.of(key.1).refused += 1;
                        Err(full(key.1))
                    }
                    Ok(_) => Ok(()),
                }
            }
            TrafficOp::CloseLocal(l) => {
                let key = stateful::local_key(&l);
                if self.s.st.tables.remove(&key) { Ok(()) } else { Err(missing(key.1)) }
            }
        }
    }

    /// Whether objects of type `t` in a context of group `g` go to the mate.
    fn st_replicates(&self, g: Group, t: ObjectType) -> bool {
        t.is_replicated() && (t != ObjectType::HttpConn || self.config.groups[g.index()].replication_http)
    }

    /// Sends one incremental update, if the mate should get it now.
    fn st_replicate(&mut self, g: Group, op: StateOp, object: StateObject) {
        let (t, _) = stateful::object_type_key(&object);
        if self.config.state_link == StateLink::None || !self.st_replicates(g, t) {
            return;
        }
        if self.s.mode != Mode::Enabled {
            // `no failover` froze the unit and its channel: the mate gets a
            // new bulk sync once failover runs again.
            self.st_resync();
            return;
        }
        let peer_boot = self.s.cp.channel.peer_boot();
        if peer_boot.is_none() || self.s.st.bulk_sent_to != peer_boot || self.st_split() {
            // No mate, or one that has not had its bulk sync yet: the bulk brings it.
            return;
        }
        if self.s.cp.outbox.len() >= STATE_OUTBOX_MAX {
            // The queue is full: the mate's copy is stale, so it gets a new bulk sync.
            self.st_stats.of(t).xerr += 1;
            self.st_resync();
            return;
        }
        self.st_queue(op, object);
    }

    fn st_queue(&mut self, op: StateOp, object: StateObject) {
        let (t, _) = stateful::object_type_key(&object);
        self.st_stats.of(t).xmit += 1;
        if let Some(run) = &mut self.s.st.sending {
            run.updates = run.updates.saturating_add(1);
        }
        self.cp_send(Control::StateUpdate { op, object });
    }

    /// The mate's copy can no longer be kept up by incremental updates: it
    /// gets a new bulk sync (the one in progress, if any, is abandoned).
    fn st_resync(&mut self) {
        self.s.st.bulk_sent_to = None;
        self.s.st.sending = None;
    }

    fn st_split(&self) -> bool {
        self.s.peer.failed || self.s.link_failed
    }

    // ----- group changes ---------------------------------------------------

    /// `g` became active here: the mate's copy of its contexts may be older
    /// than this unit's (it rebooted, or took the group over from a mate that
    /// had not replicated everything), so it gets a bulk sync again.
    pub(super) fn st_on_active(&mut self, g: Group) {
        self.s.st.bulk_groups[g.index()] = false;
        if self.planted(PlantedBug::IgnoreReplicatedConnections) {
            for c in self.contexts_of(g) {
                self.s.st.tables.retain_context(&c, |k, _| k.1 != ObjectType::TcpConn);
            }
        }
    }

    /// `replication http` was turned on for `g`: the HTTP connections open
    /// now reach the mate with a new bulk sync.
    pub(super) fn st_on_replication_http(&mut self, g: Group) {
        self.s.st.bulk_groups[g.index()] = false;
    }

    /// `g` stopped being active here.
    pub(super) fn st_on_leave_active(&mut self, g: Group) {
        let keep_replicated = self.config.state_link != StateLink::None;
        for c in self.contexts_of(g) {
            self.s.st.tables.retain_context(&c, |k, _| keep_replicated && k.1.is_replicated());
        }
    }

    fn contexts_of(&self, g: Group) -> Vec<String> {
        self.config.contexts.iter().filter(|c| c.group == g).map(|c| c.name.clone()).collect()
    }

    fn context_active_here(&self, context: &str) -> bool {
        self.config.contexts.iter().find(|c| c.name == context).is_some_and(|c| self.group_state(c.group).is_active())
    }

    // ----- receiving -------------------------------------------------------

    /// A state message from the mate, delivered by the channel.
    pub(super) fn st_deliver(&mut self, body: Control) {
        match body {
            Control::StateUpdate { op, object } => {
                let key = stateful::object_key(&object);
                if let Some(run) = &mut self.s.st.receiving {
                    run.updates = run.updates.saturating_add(1);
                }
                let group = self.config.contexts.iter().find(|c| c.name == key.0).map(|c| c.group);
                let entry = Entry::Replicated(object.clone());
                let tables = &mut self.s.st.tables;
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
                let c = self.st_stats.of(key.1);
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
                if let Some(g) = group.filter(|g| applied && !unchanged && self.group_state(*g).is_active()) {
                    self.st_replicate(g, op, object);
                }
            }
            Control::BulkSyncBegin { sync_id } => {
                let Some(from) = self.s.cp.channel.peer_boot() else { return };
                let stale: Vec<String> = self
                    .config
                    .contexts
                    .iter()
                    .filter(|c| !self.group_state(c.group).is_active())
                    .map(|c| c.name.clone())
                    .collect();
                for c in stale {
                    self.s.st.tables.retain_context(&c, |k, _| !k.1.is_replicated());
                }
                self.s.st.receiving = Some(BulkReceive { id: sync_id, from, updates: 0 });
                self.s.st.bulk_received_from = None;
            }
            Control::BulkSyncEnd { sync_id, objects } => {
                let Some(run) = self.s.st.receiving.take_if(|r| r.id == sync_id) else { return };
                if run.updates != objects {
                    let role = self.config.role;
                    self.syslog(
                        105_022,
                        format!("({role}) Bulk sync from mate: {} state updates received, {objects} sent", run.updates),
                    );
                }
                self.s.st.bulk_received_from = Some(run.from);
            }
            _ => {}
        }
    }

    // ----- sending ---------------------------------------------------------

    /// At the end of every input, before the outbox is flushed: forget what a
    /// split or a reboot voided, start a bulk sync when the mate needs one,
    /// feed the bulk sync in progress.
    pub(super) fn st_after_input(&mut self) {
        let peer_boot = self.s.cp.channel.peer_boot();
        // The mate's copy may have diverged: it was cut off, or it took a
        // group this unit holds (it declared this unit failed, maybe on a
        // one-way cut this unit never noticed). It gets a new bulk sync. The
        // receiving side forgets nothing on a split: its channel stream from
        // the same mate boot goes on, and a new bulk sync restarts it.
        let both_active = Group::ALL.iter().any(|g| {
            self.group_state(*g).is_active()
                && !self.s.peer.handed_over[g.index()]
                && self.peer_group_state(*g).is_some_and(|p| p.is_active())
        });
        if self.s.peer.failed || self.s.link_failed || both_active {
            self.st_resync();
        }
        let st = &mut self.s.st;
        if st.bulk_sent_to != peer_boot {
            // The outbox was cleared for a new mate boot (or a split voided it).
            st.sending = None;
        }
        if st.receiving.as_ref().is_some_and(|r| Some(r.from) != peer_boot) {
            st.receiving = None;
        }
        if self.config.state_link == StateLink::None || self.s.mode != Mode::Enabled {
            return;
        }
        // While both units are active for a group, nothing starts: a bulk
        // sync begun now would be voided by the resync above at the next
        // input (a new one at every input, seed 159); the one after the
        // both-active rule settles it brings the mate up to date.
        if !both_active && self.st_bulk_due(peer_boot) {
            let st = &mut self.s.st;
            let id = st.next_bulk_id;
            st.next_bulk_id = st.next_bulk_id.wrapping_add(1).max(1);
            st.bulk_sent_to = peer_boot;
            st.sending = Some(BulkSend { id, cursor: None, updates: 0 });
            st.bulk_groups = [Group::One, Group::Two].map(|g| self.s.groups[g.index()].state.is_active());
            self.cp_send(Control::BulkSyncBegin { sync_id: id });
        }
        self.st_feed_bulk();
        let queued = self.st_xmit_queued();
        self.st_stats.xmit_queue_max = self.st_stats.xmit_queue_max.max(queued);
    }

    fn st_bulk_due(&self, peer_boot: Option<u64>) -> bool {
        let st = &self.s.st;
        peer_boot.is_some()
            && peer_boot == self.s.peer.boot
            && st.sending.is_none()
            && !self.st_split()
            && self.s.cp.outbox.len() < STATE_OUTBOX_MAX
            && Group::ALL.iter().any(|g| {
                self.group_state(*g).is_active()
                    && self.peer_group_state(*g).is_some_and(|p| !p.is_active())
                    && (st.bulk_sent_to != peer_boot || !st.bulk_groups[g.index()])
            })
    }

    /// Queues the next objects of the bulk sync in progress, and its end once
    /// the cursor has passed the last one.
    fn st_feed_bulk(&mut self) {
        while self.s.cp.outbox.len() < STATE_BULK_FEED_MAX {
            let Some(run) = &self.s.st.sending else { return };
            let next = self.s.st.tables.next_after(run.cursor.as_ref()).map(|(k, e)| (k.clone(), e.clone()));
            let Some((key, entry)) = next else {
                let run = self.s.st.sending.take().expect("checked above");
                self.cp_send(Control::BulkSyncEnd { sync_id: run.id, objects: run.updates });
                return;
            };
            if let Some(run) = &mut self.s.st.sending {
                run.cursor = Some(key.clone());
            }
            let Entry::Replicated(object) = entry else { continue };
            let g = self.config.group_of_context(&key.0);
            if self.context_active_here(&key.0) && self.st_replicates(g, key.1) {
                self.st_queue(StateOp::Add, object);
            }
        }
    }

    /// The link a channel message travels on: state messages on a separate
    /// state link when there is one.
    pub(super) fn st_link_of(&self, message: &Message) -> Link {
        let state = matches!(
            message,
            Message::Control {
                body: Control::StateUpdate { .. } | Control::BulkSyncBegin { .. } | Control::BulkSyncEnd { .. },
                ..
            }
        );
        if state && self.config.state_link == StateLink::Separate { Link::State } else { Link::Failover }
    }

    pub(super) fn st_invariants(&self) {
        let st = &self.s.st;
        st.tables.check_bounds();
        assert!(st.sending.is_none() || st.bulk_sent_to.is_some(), "a bulk sync is sent to a known mate boot");
        if self.config.state_link == StateLink::None {
            assert!(st.sending.is_none(), "no bulk sync without a state link");
        }
    }
}
