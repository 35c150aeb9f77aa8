//! Stateful failover tables (PROTOCOL.md section 8): what the active unit of
//! a context keeps per connection, and what it replicates to its mate.
//!
//! Per context, the tables are: NAT translations (xlates), TCP, UDP and HTTP
//! connections with their state, ARP entries, L2 bridge entries, ISAKMP/IPsec
//! SAs and GTP PDP contexts, all replicated (HTTP only with `replication http`
//! on the context's group); and the uauth table and routes, which are never
//! replicated. [`StateTables`] holds them all in one ordered map, so that a
//! bulk sync can walk them with a cursor while they change (see
//! `unit::stateful`).
//!
//! ```
//! use core::time::Duration;
//! use fover_protocol::config::settings::StateLink;
//! use fover_protocol::connections::TrafficOp;
//! use fover_protocol::testing::Pair;
//! use fover_protocol::types::Role;
//! use fover_protocol::wire::{ConnProtocol, StateObject};
//!
//! let (mut primary, mut secondary) = Pair::configs(2);
//! primary.state_link = StateLink::SharedWithFailover;
//! secondary.state_link = StateLink::SharedWithFailover;
//! let mut pair = Pair::new(primary, secondary);
//! pair.run_for(Duration::from_secs(3));
//! // Context `admin` (group 1) is active on the primary: traffic goes through it.
//! let tcp = StateObject::Connection { context: "admin".into(), id: 1, protocol: ConnProtocol::Tcp, state: 4 };
//! pair.traffic(Role::Primary, TrafficOp::Open(tcp.clone())).unwrap();
//! pair.run_for(Duration::from_millis(10));
//! assert_eq!(pair.unit(Role::Secondary).unwrap().state_plane().connections("admin"), vec![tcp]);
//! ```
//!
//! # Bounds and the policy when full
//!
//! Each table of each context holds at most [`table_capacity`] entries. When a
//! table is full, a *new* entry is refused (the traffic that wanted it gets
//! [`TrafficError::TableFull`], a replicated add is dropped) and the refusal is
//! counted ([`ObjectCounters::refused`] for local traffic, `rerr` for a
//! received update); entries already there are still updated and removed.
//! Nothing already in a table is ever evicted to make room: evicting would
//! drop a live connection silently, while refusing a new one is what an
//! appliance out of connection memory does.

use crate::constants::*;
use crate::wire::{ConnProtocol, StateObject};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// One kind of object in the tables. The order is the bulk sync's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectType {
    Xlate,
    TcpConn,
    UdpConn,
    HttpConn,
    Arp,
    Bridge,
    Sa,
    GtpPdp,
    /// Never replicated.
    Uauth,
    /// Never replicated.
    Route,
}

impl ObjectType {
    /// Every object type, in table order.
    pub const ALL: &'static [ObjectType] = &[
        ObjectType::Xlate,
        ObjectType::TcpConn,
        ObjectType::UdpConn,
        ObjectType::HttpConn,
        ObjectType::Arp,
        ObjectType::Bridge,
        ObjectType::Sa,
        ObjectType::GtpPdp,
        ObjectType::Uauth,
        ObjectType::Route,
    ];

    /// Whether the active unit sends objects of this type to its mate at all
    /// (HTTP also needs `replication http` on the group).
    pub const fn is_replicated(self) -> bool {
        !matches!(self, ObjectType::Uauth | ObjectType::Route)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ObjectType::Xlate => "xlate",
            ObjectType::TcpConn => "TCP conn",
            ObjectType::UdpConn => "UDP conn",
            ObjectType::HttpConn => "HTTP conn",
            ObjectType::Arp => "ARP tbl",
            ObjectType::Bridge => "L2 bridge tbl",
            ObjectType::Sa => "IPsec SA",
            ObjectType::GtpPdp => "GTP PDP",
            ObjectType::Uauth => "uauth",
            ObjectType::Route => "route",
        }
    }
}

/// Entries one table of one context may hold.
pub const fn table_capacity(t: ObjectType) -> usize {
    match t {
        ObjectType::Xlate | ObjectType::TcpConn | ObjectType::UdpConn | ObjectType::HttpConn => {
            STATE_CONNECTIONS_PER_CONTEXT_MAX
        }
        ObjectType::Arp | ObjectType::Bridge | ObjectType::Uauth | ObjectType::Route => STATE_HOSTS_PER_CONTEXT_MAX,
        ObjectType::Sa | ObjectType::GtpPdp => STATE_TUNNELS_PER_CONTEXT_MAX,
    }
}

/// An object that is never replicated (kept by the unit that created it only).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LocalObject {
    /// A cut-through proxy authentication: the user behind `ip`.
    Uauth { context: String, ip: u32, user: String },
    /// A route: `prefix/len` via `next_hop`.
    Route { context: String, prefix: u32, len: u8, next_hop: u32 },
}

/// An entry of the tables: a replicated object or a local one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    Replicated(StateObject),
    Local(LocalObject),
}

/// What traffic through a context does to its tables (`Unit::handle_traffic`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrafficOp {
    /// Creates an object (a new connection, translation, SA...), or updates it if present.
    Open(StateObject),
    /// Changes an existing object (a TCP state change, an ARP refresh...).
    Update(StateObject),
    /// Removes an object (a connection closes, an entry times out).
    Close(StateObject),
    /// Adds or replaces a never-replicated entry.
    OpenLocal(LocalObject),
    /// Removes a never-replicated entry.
    CloseLocal(LocalObject),
}

impl TrafficOp {
    /// The context the operation is in.
    pub fn context(&self) -> &str {
        match self {
            TrafficOp::Open(o) | TrafficOp::Update(o) | TrafficOp::Close(o) => object_context(o),
            TrafficOp::OpenLocal(l) | TrafficOp::CloseLocal(l) => local_context(l),
        }
    }
}

/// Why traffic could not change the tables.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrafficError {
    #[error("no security context named {0:?}")]
    UnknownContext(String),
    #[error("context {context:?} is not active on this unit: traffic goes through the mate")]
    NotActive { context: String },
    #[error("the {table} table of context {context:?} is full ({capacity} entries): new entry refused")]
    TableFull { context: String, table: &'static str, capacity: usize },
    #[error("no such {table} entry in context {context:?}")]
    NoSuchEntry { context: String, table: &'static str },
}

/// Counters of one object type: the `Stateful Failover Logical Update
/// Statistics` (xmit, xerr, rcv, rerr) and the table-full refusals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ObjectCounters {
    /// Updates queued for the mate (incremental and bulk).
    pub xmit: u64,
    /// Updates that could not be queued (state queue full; a bulk sync follows).
    pub xerr: u64,
    /// Updates received from the mate and applied.
    pub rcv: u64,
    /// Updates received and not applied (table full, no such entry, unknown context).
    pub rerr: u64,
    /// New entries refused locally because the table was full.
    pub refused: u64,
}

/// Where an object lives in [`StateTables`]: context, type, key within the table.
pub type ObjectKey = (String, ObjectType, u64);

/// The context an object belongs to.
pub fn object_context(o: &StateObject) -> &str {
    match o {
        StateObject::Connection { context, .. }
        | StateObject::Xlate { context, .. }
        | StateObject::Arp { context, .. }
        | StateObject::Bridge { context, .. }
        | StateObject::Sa { context, .. }
        | StateObject::GtpPdp { context, .. } => context,
    }
}

fn local_context(l: &LocalObject) -> &str {
    match l {
        LocalObject::Uauth { context, .. } | LocalObject::Route { context, .. } => context,
    }
}

fn mac_key(mac: &[u8; 6]) -> u64 {
    mac.iter().fold(0u64, |k, b| (k << 8) | u64::from(*b))
}

/// The type of a replicated object and its key within its table.
pub fn object_type_key(o: &StateObject) -> (ObjectType, u64) {
    match o {
        StateObject::Connection { id, protocol, .. } => {
            let t = match protocol {
                ConnProtocol::Tcp => ObjectType::TcpConn,
                ConnProtocol::Udp => ObjectType::UdpConn,
                ConnProtocol::Http => ObjectType::HttpConn,
            };
            (t, *id)
        }
        StateObject::Xlate { id, .. } => (ObjectType::Xlate, *id),
        StateObject::Arp { ip, .. } => (ObjectType::Arp, u64::from(*ip)),
        StateObject::Bridge { mac, .. } => (ObjectType::Bridge, mac_key(mac)),
        StateObject::Sa { spi, .. } => (ObjectType::Sa, u64::from(*spi)),
        StateObject::GtpPdp { teid, .. } => (ObjectType::GtpPdp, u64::from(*teid)),
    }
}

/// The key of a replicated object.
pub fn object_key(o: &StateObject) -> ObjectKey {
    let (t, k) = object_type_key(o);
    (object_context(o).to_owned(), t, k)
}

/// The key of a local object.
pub fn local_key(l: &LocalObject) -> ObjectKey {
    match l {
        LocalObject::Uauth { context, ip, .. } => (context.clone(), ObjectType::Uauth, u64::from(*ip)),
        LocalObject::Route { context, prefix, len, .. } => {
            (context.clone(), ObjectType::Route, (u64::from(*prefix) << 8) | u64::from(*len))
        }
    }
}

/// Why [`StateTables::insert`] did nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// The table is full and the key is new.
    Full,
}

/// The hash of state digests (in-process fingerprints, never sent or saved):
/// fixed and platform-independent, eight bytes per step (rotate, xor,
/// multiply, as rustc's `FxHasher`). Each step is a bijection of the state for
/// a given input, so changing any one input always changes the digest. It
/// replaced FNV-1a, whose byte-at-a-time loop made the digests around
/// rejected frames a tenth of a sweep (the configuration's text is hashed).
pub(crate) struct StateHasher(u64);

impl StateHasher {
    const K: u64 = 0x517c_c1b7_2722_0a95;

    pub(crate) fn new() -> StateHasher {
        StateHasher(0xcbf2_9ce4_8422_2325)
    }

    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.mix(u64::from_le_bytes(b));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
}

/// The hash of one entry under its key, for [`StateTables`]'s running digest.
fn entry_hash(key: &ObjectKey, entry: &Entry) -> u64 {
    let mut h = StateHasher::new();
    key.hash(&mut h);
    entry.hash(&mut h);
    h.finish()
}

/// Every table of every context of one unit, in one ordered map (context,
/// object type, key), with the size of each table kept beside it.
///
/// Hashing the tables (part of `Unit::state_digest`, taken around every
/// frame that must be rejected) costs nothing per entry: a running digest,
/// the wrapping sum of every entry's hash, is kept up to date by every change
/// and checked against the entries by [`StateTables::invariants`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateTables {
    entries: BTreeMap<ObjectKey, Entry>,
    sizes: BTreeMap<(String, ObjectType), usize>,
    digest: u64,
}

impl Hash for StateTables {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.entries.len().hash(state);
        self.digest.hash(state);
    }
}

impl StateTables {
    /// Inserts or replaces an entry; a new key in a full table is refused.
    /// Returns whether the key was new.
    pub fn insert(&mut self, key: ObjectKey, entry: Entry) -> Result<bool, InsertError> {
        if let Some(e) = self.entries.get_mut(&key) {
            let old = entry_hash(&key, e);
            self.digest = self.digest.wrapping_sub(old).wrapping_add(entry_hash(&key, &entry));
            *e = entry;
            return Ok(false);
        }
        let size = self.sizes.entry((key.0.clone(), key.1)).or_insert(0);
        if *size >= table_capacity(key.1) {
            return Err(InsertError::Full);
        }
        *size += 1;
        self.digest = self.digest.wrapping_add(entry_hash(&key, &entry));
        self.entries.insert(key, entry);
        Ok(true)
    }

    /// Removes an entry; returns whether it was there.
    pub fn remove(&mut self, key: &ObjectKey) -> bool {
        let Some(old) = self.entries.remove(key) else { return false };
        self.digest = self.digest.wrapping_sub(entry_hash(key, &old));
        let table = (key.0.clone(), key.1);
        if let Some(size) = self.sizes.get_mut(&table) {
            *size -= 1;
            if *size == 0 {
                self.sizes.remove(&table);
            }
        }
        true
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    pub fn contains(&self, key: &ObjectKey) -> bool {
        self.entries.contains_key(key)
    }

    /// Entries of one table of one context.
    pub fn len_of(&self, context: &str, t: ObjectType) -> usize {
        self.sizes.get(&(context.to_owned(), t)).copied().unwrap_or(0)
    }

    /// Every entry, in (context, type, key) order.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries of one context, in table order.
    pub fn context(&self, context: &str) -> impl Iterator<Item = (&ObjectKey, &Entry)> {
        let lo = (context.to_owned(), ObjectType::Xlate, 0);
        self.entries.range(lo..).take_while(move |(k, _)| k.0 == context)
    }

    /// The first entry after `cursor` (from the start with `None`).
    pub fn next_after(&self, cursor: Option<&ObjectKey>) -> Option<(&ObjectKey, &Entry)> {
        use core::ops::Bound;
        match cursor {
            None => self.entries.iter().next(),
            Some(c) => self.entries.range((Bound::Excluded(c), Bound::Unbounded)).next(),
        }
    }

    /// Keeps only the entries of `context` for which `keep` holds.
    pub fn retain_context(&mut self, context: &str, mut keep: impl FnMut(&ObjectKey, &Entry) -> bool) {
        let doomed: Vec<ObjectKey> =
            self.context(context).filter(|(k, e)| !keep(k, e)).map(|(k, _)| k.clone()).collect();
        for k in doomed {
            self.remove(&k);
        }
    }

    /// Checks the bounds cheaply (after every input): every table within its
    /// capacity, and as many entries as the sizes add up to.
    pub fn check_bounds(&self) {
        assert_eq!(self.sizes.values().sum::<usize>(), self.entries.len(), "table sizes add up to the entries");
        for ((_, t), n) in &self.sizes {
            assert!(*n <= table_capacity(*t), "{} table over its bound", t.as_str());
        }
    }

    /// Checks the sizes against the entries one by one; panics on a bug.
    pub fn invariants(&self) {
        let mut counted: BTreeMap<(String, ObjectType), usize> = BTreeMap::new();
        for k in self.entries.keys() {
            *counted.entry((k.0.clone(), k.1)).or_insert(0) += 1;
        }
        assert_eq!(counted, self.sizes, "table sizes agree with the entries");
        let digest = self.entries.iter().fold(0u64, |d, (k, e)| d.wrapping_add(entry_hash(k, e)));
        assert_eq!(digest, self.digest, "the running digest agrees with the entries");
        for ((_, t), n) in &self.sizes {
            assert!(*n <= table_capacity(*t), "{} table over its bound", t.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{Hash, Hasher};

    fn conn(id: u64, state: u8) -> (ObjectKey, Entry) {
        let o = StateObject::Connection { context: "admin".into(), id, protocol: ConnProtocol::Tcp, state };
        (object_key(&o), Entry::Replicated(o))
    }

    fn hash_of(t: &StateTables) -> u64 {
        let mut h = StateHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    /// The running digest follows inserts, replacements and removals, and
    /// equal tables hash equal whatever order they were built in.
    #[test]
    fn running_digest_agrees_with_the_entries() {
        let mut a = StateTables::default();
        let mut b = StateTables::default();
        for id in 0..50 {
            let (k, e) = conn(id, 1);
            a.insert(k, e).unwrap();
        }
        for id in (0..50).rev() {
            let (k, e) = conn(id, if id % 3 == 0 { 7 } else { 1 });
            b.insert(k, e).unwrap();
        }
        assert_ne!(hash_of(&a), hash_of(&b), "different states hash apart");
        for id in (0..50).filter(|id| id % 3 == 0) {
            let (k, e) = conn(id, 7);
            assert_eq!(a.insert(k, e), Ok(false));
        }
        assert_eq!(a, b);
        assert_eq!(hash_of(&a), hash_of(&b));
        for id in 10..20 {
            assert!(a.remove(&conn(id, 0).0));
        }
        a.invariants();
        assert_ne!(hash_of(&a), hash_of(&b));
        for id in 10..20 {
            b.remove(&conn(id, 0).0);
        }
        assert_eq!(hash_of(&a), hash_of(&b));
        b.invariants();
    }
}
