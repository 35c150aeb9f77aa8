//! The traffic workload (PROTOCOL.md section 8): clients that open, use and
//! close connections through the unit active for each context's group, and
//! what those clients believe: the book of connections open, and where each
//! group's traffic goes (its *carrier*, as the switches learnt it).
//!
//! Both engines drive it the same way (through [`crate::world`]): they ask
//! [`Traffic::tick`] for the next operation when [`Traffic::next_at`] comes,
//! or [`Traffic::connect`] for a scenario's `connect` step, hand each
//! [`TrafficAction`] to the unit it names (`Unit::handle_traffic`), and
//! report the answer with [`Traffic::done`], which says what it did to the
//! book ([`Answer`]) for the property-9 checker,
//! [`crate::checker::connections`], to judge. The checker reads the book and
//! the carriers; it never writes them.
//!
//! Runtime-free: time and randomness come in as arguments.

use crate::rng::Rng;
use crate::schedule::UnitName;
use fover_protocol::Unit;
use fover_protocol::connections::{TrafficError, TrafficOp};
use fover_protocol::types::Group;
use fover_protocol::wire::{ConnProtocol, StateObject};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn d_ops() -> f64 {
    5.0
}
fn d_open_max() -> u32 {
    200
}

/// `[traffic]` of a scenario: a seeded stream of operations in every context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// Operations per second in each context: 40 % opens, 45 % uses (a
    /// packet that changes the connection's state), 15 % closes.
    #[serde(default = "d_ops")]
    pub ops_per_s: f64,
    /// Connections open at once in a context, at most: beyond it an open becomes a use.
    #[serde(default = "d_open_max")]
    pub open_max: u32,
}

impl Default for TrafficSpec {
    fn default() -> TrafficSpec {
        TrafficSpec { ops_per_s: d_ops(), open_max: d_open_max() }
    }
}

impl TrafficSpec {
    /// The largest rate a scenario may ask for, per context.
    pub const OPS_PER_S_MAX: f64 = 1_000.0;

    pub fn validate(&self) -> Result<(), String> {
        if !(self.ops_per_s > 0.0 && self.ops_per_s <= Self::OPS_PER_S_MAX) {
            return Err(format!(
                "`traffic.ops_per_s`: {} is not more than 0 and at most {}",
                self.ops_per_s,
                Self::OPS_PER_S_MAX
            ));
        }
        if self.open_max == 0 {
            return Err("`traffic.open_max`: must be at least 1".into());
        }
        Ok(())
    }
}

/// Where a group's traffic goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carrier {
    pub unit: UnitName,
    pub boot: u64,
    /// When the group became active there.
    pub since_ns: u64,
}

/// One connection the workload opened and has not closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conn {
    pub context: String,
    pub group: Group,
    pub id: u64,
    pub protocol: ConnProtocol,
    pub state: u8,
    pub opened_ns: u64,
}

impl Conn {
    pub fn object(&self) -> StateObject {
        StateObject::Connection {
            context: self.context.clone(),
            id: self.id,
            protocol: self.protocol,
            state: self.state,
        }
    }

    /// `ctx2/tcp#17`.
    pub fn label(&self) -> String {
        let p = match self.protocol {
            ConnProtocol::Tcp => "tcp",
            ConnProtocol::Udp => "udp",
            ConnProtocol::Http => "http",
        };
        format!("{}/{p}#{}", self.context, self.id)
    }
}

/// What an action does to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    Open,
    Use,
    Close,
}

/// One operation for one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct TrafficAction {
    pub unit: UnitName,
    /// The boot of `unit` the operation was meant for.
    pub boot: u64,
    pub kind: ActionKind,
    pub op: TrafficOp,
    /// The connection: (context, id).
    pub conn: (String, u64),
    /// An open: the connection the book gains if the unit takes it.
    pub opening: Option<Conn>,
}

/// What an answered action did to the book, for the property-9 checker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Nothing the checker follows.
    Fine,
    /// The unit took a new connection: the book has it.
    Opened((String, u64)),
    /// A connection in the book was used through the unit.
    Used((String, u64)),
    /// A connection in the book was closed through the unit.
    Closed((String, u64)),
    /// The unit the group's traffic goes to does not know the connection:
    /// its clients saw it reset, and the book lost it.
    Lost(Conn),
}

/// Tallies over a run, for the sweep summary.
pub mod counter {
    pub const OPENED: &str = "connections opened";
    pub const CLOSED: &str = "connections closed";
    pub const REFUSED: &str = "connections refused (table full)";
}

/// The workload of a run and its book of connections.
#[derive(Clone, Debug)]
pub struct Traffic {
    spec: Option<TrafficSpec>,
    rng: Rng,
    /// Context names and their groups, in name order.
    contexts: Vec<(String, Group)>,
    next_at: Option<u64>,
    next_id: u64,
    /// Every connection open, by (context, id).
    book: BTreeMap<(String, u64), Conn>,
    /// The ids of the open connections, per context (in `contexts` order),
    /// for a random pick.
    open_ids: Vec<Vec<u64>>,
    /// Per context: connections lost at a failover (their clients saw them reset).
    lost: BTreeMap<String, u64>,
    /// Run tallies (see [`counter`]).
    counters: BTreeMap<String, u64>,
    boot: [Option<u64>; 2],
    /// Per unit, per group: since when the group has been active there.
    active_since: [[Option<u64>; 2]; 2],
    carrier: [Option<Carrier>; 2],
    /// Each unit's `Unit::state_version` when it was last looked at: an
    /// input that leaves it alone changed none of its groups.
    seen_version: [Option<u64>; 2],
}

impl Traffic {
    /// `spec`: the scenario's `[traffic]`, if any (`connect` steps work without it).
    pub fn new(spec: Option<TrafficSpec>, seed: u64, contexts: Vec<(String, Group)>) -> Traffic {
        let mut t = Traffic {
            open_ids: vec![Vec::new(); contexts.len()],
            spec,
            rng: Rng::derive(seed, "traffic"),
            contexts,
            next_at: None,
            next_id: 0,
            book: BTreeMap::new(),
            lost: BTreeMap::new(),
            counters: BTreeMap::new(),
            boot: [None; 2],
            active_since: [[None; 2]; 2],
            carrier: [None; 2],
            seen_version: [None; 2],
        };
        if t.spec.is_some() && !t.contexts.is_empty() {
            t.next_at = Some(t.gap_ns());
        }
        t
    }

    fn gap_ns(&mut self) -> u64 {
        let Some(spec) = &self.spec else { return u64::MAX };
        let rate = spec.ops_per_s * self.contexts.len().max(1) as f64;
        let mean_ns = (1e9 / rate).max(1.0) as u64;
        // Uniform over [mean/2, 3 mean/2]: the rate holds, arrivals vary.
        mean_ns / 2 + self.rng.below(mean_ns + 1)
    }

    /// When the next background operation is due, if the run has a workload.
    pub fn next_at(&self) -> Option<u64> {
        self.next_at
    }

    /// Adds `n` to a run tally.
    fn count(&mut self, name: &str, n: u64) {
        *self.counters.entry(name.to_owned()).or_default() += n;
    }

    /// The run's tallies (see [`counter`]), taken at its end.
    pub fn take_counters(&mut self) -> BTreeMap<String, u64> {
        std::mem::take(&mut self.counters)
    }

    /// Every connection open, by (context, id).
    pub fn book(&self) -> &BTreeMap<(String, u64), Conn> {
        &self.book
    }

    /// Where each group's traffic goes now.
    pub fn carriers(&self) -> &[Option<Carrier>; 2] {
        &self.carrier
    }

    /// Where the group's traffic goes now: the unit and its boot.
    pub fn carrier(&self, g: Group) -> Option<(UnitName, u64)> {
        self.carrier[g.index()].map(|c| (c.unit, c.boot))
    }

    pub fn on_boot(&mut self, unit: UnitName, boot: u64) {
        let i = unit.index();
        self.boot[i] = Some(boot);
        self.active_since[i] = [None; 2];
        self.seen_version[i] = None;
        self.update_carriers();
    }

    pub fn on_down(&mut self, unit: UnitName) {
        let i = unit.index();
        self.boot[i] = None;
        self.active_since[i] = [None; 2];
        self.update_carriers();
    }

    /// After every input of `name`: where its groups' traffic goes (the
    /// switches learn the unit where a group became active most recently).
    #[inline]
    pub fn after_input(&mut self, t: u64, name: UnitName, unit: &Unit) {
        let i = name.index();
        let version = unit.state_version();
        if self.seen_version[i] == Some(version) {
            return;
        }
        self.seen_version[i] = Some(version);
        let mut changed = false;
        for g in Group::ALL.iter().copied() {
            let active = unit.group(g).state().is_active();
            let since = &mut self.active_since[i][g.index()];
            if active != since.is_some() {
                *since = active.then_some(t);
                changed = true;
            }
        }
        if changed {
            self.update_carriers();
        }
    }

    fn update_carriers(&mut self) {
        for g in Group::ALL.iter().copied() {
            let gi = g.index();
            let newest = UnitName::BOTH
                .into_iter()
                .filter_map(|u| Some((self.active_since[u.index()][gi]?, u, self.boot[u.index()]?)))
                .max_by_key(|(since, u, _)| (*since, self.carrier[gi].is_some_and(|c| c.unit == *u)));
            self.carrier[gi] = newest.map(|(since_ns, unit, boot)| Carrier { unit, boot, since_ns });
        }
    }

    /// The group of a context.
    pub fn group_of(&self, context: &str) -> Option<Group> {
        self.contexts.iter().find(|(c, _)| c == context).map(|(_, g)| *g)
    }

    fn new_conn(&mut self, t_ns: u64, context: &str, group: Group, protocol: ConnProtocol) -> Conn {
        self.next_id += 1;
        Conn { context: context.to_owned(), group, id: self.next_id, protocol, state: 1, opened_ns: t_ns }
    }

    fn open_action(
        &mut self,
        t_ns: u64,
        to: (UnitName, u64),
        context: &str,
        group: Group,
        p: ConnProtocol,
    ) -> TrafficAction {
        let conn = self.new_conn(t_ns, context, group, p);
        TrafficAction {
            unit: to.0,
            boot: to.1,
            kind: ActionKind::Open,
            op: TrafficOp::Open(conn.object()),
            conn: (conn.context.clone(), conn.id),
            opening: Some(conn),
        }
    }

    /// The background operation due now (`t_ns` = [`Traffic::next_at`]),
    /// through the unit boot the context's group's traffic goes to. `None`
    /// when the context drawn has no carrier.
    pub fn tick(&mut self, t_ns: u64) -> Option<TrafficAction> {
        let spec = self.spec.clone()?;
        let gap = self.gap_ns();
        self.next_at = Some(t_ns.saturating_add(gap));
        let ci = self.rng.below(self.contexts.len() as u64) as usize;
        let roll = self.rng.below(100);
        let protocol = match self.rng.below(100) {
            0..60 => ConnProtocol::Tcp,
            60..85 => ConnProtocol::Udp,
            _ => ConnProtocol::Http,
        };
        let pick = self.rng.next_u64();
        let group = self.contexts[ci].1;
        let to = self.carrier(group)?;
        let open = &self.open_ids[ci];
        let kind = match roll {
            _ if open.is_empty() => ActionKind::Open,
            0..40 if (open.len() as u64) < u64::from(spec.open_max) => ActionKind::Open,
            0..85 => ActionKind::Use,
            _ => ActionKind::Close,
        };
        let context = self.contexts[ci].0.clone();
        if kind == ActionKind::Open {
            return Some(self.open_action(t_ns, to, &context, group, protocol));
        }
        let id = open[(pick % open.len() as u64) as usize];
        let key = (context, id);
        let conn = self.book.get(&key)?;
        let op = if kind == ActionKind::Use {
            let mut next = conn.clone();
            next.state = if conn.protocol == ConnProtocol::Udp { 1 } else { conn.state % 10 + 1 };
            TrafficOp::Update(next.object())
        } else {
            TrafficOp::Close(conn.object())
        };
        Some(TrafficAction { unit: to.0, boot: to.1, kind, op, conn: key, opening: None })
    }

    /// A `connect` step: `count` TCP connections opened in `context` through `to`.
    pub fn connect(&mut self, t_ns: u64, to: (UnitName, u64), context: &str, count: u32) -> Vec<TrafficAction> {
        let Some(group) = self.group_of(context) else { return Vec::new() };
        (0..count).map(|_| self.open_action(t_ns, to, context, group, ConnProtocol::Tcp)).collect()
    }

    /// The unit's answer to an action. `carrier_now`: whether the unit is
    /// still the carrier of the connection's group (on the madsim engine an
    /// operation can reach a unit after its group moved).
    pub fn done(&mut self, action: TrafficAction, result: Result<(), TrafficError>, carrier_now: bool) -> Answer {
        match (action.kind, result) {
            (ActionKind::Open, Ok(())) => {
                if let Some(conn) = action.opening {
                    if let Some(ids) = self.ids_of(&conn.context) {
                        ids.push(conn.id);
                    }
                    self.book.insert(action.conn.clone(), conn);
                    self.count(counter::OPENED, 1);
                    return Answer::Opened(action.conn);
                }
            }
            (ActionKind::Open, Err(TrafficError::TableFull { .. })) => self.count(counter::REFUSED, 1),
            (ActionKind::Use, Ok(())) => {
                let TrafficOp::Update(fover_protocol::wire::StateObject::Connection { state, .. }) = action.op else {
                    return Answer::Fine;
                };
                if let Some(c) = self.book.get_mut(&action.conn) {
                    c.state = state;
                    return Answer::Used(action.conn);
                }
            }
            (ActionKind::Close, Ok(())) => {
                let closed = self.close(&action.conn).is_some();
                self.count(counter::CLOSED, 1);
                if closed {
                    return Answer::Closed(action.conn);
                }
            }
            (ActionKind::Use | ActionKind::Close, Err(TrafficError::NoSuchEntry { .. })) if carrier_now => {
                let Some(c) = self.close(&action.conn) else { return Answer::Fine };
                *self.lost.entry(c.context.clone()).or_default() += 1;
                return Answer::Lost(c);
            }
            _ => {}
        }
        Answer::Fine
    }

    fn ids_of(&mut self, context: &str) -> Option<&mut Vec<u64>> {
        let i = self.contexts.iter().position(|(c, _)| c == context)?;
        Some(&mut self.open_ids[i])
    }

    /// Takes a connection out of the book (closed or lost).
    fn close(&mut self, key: &(String, u64)) -> Option<Conn> {
        let c = self.book.remove(key)?;
        if let Some(ids) = self.ids_of(&key.0) {
            if let Some(i) = ids.iter().position(|id| *id == key.1) {
                ids.swap_remove(i);
            }
        }
        Some(c)
    }

    /// In `context`: the open connections, and how many more were lost at a
    /// failover (clients saw them reset); together, every connection opened
    /// and not closed.
    pub fn in_context(&self, context: &str) -> (Vec<&Conn>, u64) {
        let open = self.book.range((context.to_owned(), 0)..=(context.to_owned(), u64::MAX)).map(|(_, c)| c).collect();
        (open, self.lost.get(context).copied().unwrap_or(0))
    }
}
