//! Property 9: with a working state link, connections opened before a
//! failover are still present after it (PROTOCOL.md sections 8 and 12).
//!
//! Traffic for a group goes to its *carrier* (kept by the workload,
//! [`Traffic::carriers`]): the unit where the group became active most
//! recently (its gratuitous ARP is the one the switches learnt), while the
//! group is still active there. When the carrier changes to another unit,
//! another boot, or the same unit after the group left it, the connections of
//! that group's contexts are judged against the new carrier's tables at its
//! next input (the first moment the engine holds that unit):
//!
//! * known there: it survived;
//! * unknown, but excused: no state link, an HTTP connection of a group
//!   without `replication http`, or state that had not reached the new
//!   carrier (the old carrier had not had every update acknowledged by that
//!   boot of it since it last held the connection, or began a new bulk sync
//!   since: the mate clears its copy at a bulk sync's beginning). The
//!   connection is *at risk*: its next use decides whether it was dropped
//!   (counted by reason) or arrived late;
//! * unknown, and the old carrier's state had been acknowledged by this boot
//!   of the new carrier after it last held the connection, with no bulk sync
//!   since: a violation.
//!
//! "Acknowledged" is the unit's own report (`unit.state_plane().replication_mark()`): its
//! reliable channel acknowledges a message once the mate has applied it, so
//! a mate that acknowledged an object and lacks it after taking over lost
//! it. A connection its carrier no longer knows, with no failover in
//! between, is a violation too (it vanished from the active unit).
//!
//! The checker reads the workload (its book and carriers) and the units; it
//! follows each connection through the workload's [`Answer`]s, and writes
//! nothing but its own state, its tallies and its verdict.

use super::{Coverage, Verdict, Violation, property, sometimes};
use crate::schedule::UnitName;
use crate::workload::{Answer, Carrier, Conn, Traffic};
use fover_protocol::Unit;
use fover_protocol::connections::Entry;
use fover_protocol::types::Group;
use fover_protocol::wire::{ConnProtocol, StateObject};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Tallies of the checker over a run, for the sweep summary.
pub mod counter {
    pub const SURVIVED: &str = "connections found on the new active unit";
    pub const LOST_PREFIX: &str = "connections dropped: ";
}

/// Why a connection did not survive a failover although no checker objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// The pair has no state link: section 8, every connection is dropped.
    NoStateLink,
    /// An HTTP connection of a group without `replication http`.
    HttpNotReplicated,
    /// The new active unit had not acknowledged it: the state was stale
    /// (state link down, a split, a reboot) or not yet replicated.
    NotReplicated,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NoStateLink => "no state link",
            DropReason::HttpNotReplicated => "HTTP without replication http",
            DropReason::NotReplicated => "state not replicated to the new active unit",
        }
    }
}

/// A unit boot that held a connection, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub unit: UnitName,
    pub boot: u64,
    pub t_ns: u64,
}

/// What the checker knows of one connection of the book.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Held {
    /// The last unit boot known to hold it (an operation through it
    /// succeeded, or a failover check found it there); `None` after a
    /// failover to a unit that did not know it, until an operation decides.
    seen: Option<Seen>,
    /// Why the failover that last missed it is excused (decided on its next use).
    at_risk: Option<DropReason>,
}

fn count(coverage: &mut Coverage, name: &str, n: u64) {
    *coverage.counters.entry(name.to_owned()).or_default() += n;
}

/// A unit's replication as last reported.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mark {
    boot: u64,
    bulk_syncs: u32,
    /// Per group, the last moment the group was active on the unit and the
    /// mate had acknowledged every replicated object of the unit's active
    /// contexts: (when, that mate boot, the bulk-sync count then). A context
    /// not active on the unit is left out of its bulk syncs, so a moment when
    /// the group was not active there says nothing about its connections.
    caught_up: [Option<(u64, u64, u32)>; 2],
    /// Per group: still caught up at the unit's last change (the unit is
    /// looked at only when its state moved, so "at" is when that began).
    caught_now: [bool; 2],
}

/// The property-9 checker of one run.
#[derive(Clone, Debug)]
pub struct Survival {
    stateful: bool,
    replication_http: [bool; 2],
    /// Per connection of the workload's book, by (context, id).
    held: BTreeMap<(String, u64), Held>,
    /// Per group: the carrier the connections were last judged against.
    settled: [Option<Carrier>; 2],
    marks: [Mark; 2],
    /// Each unit's `Unit::state_version` when it was last looked at: an
    /// input that leaves it alone changed neither its groups nor its
    /// replication.
    seen_version: [Option<u64>; 2],
    /// What each judgement found, for the trace: (time, text).
    notes: Vec<(u64, String)>,
}

fn ns(t: u64) -> String {
    format!("{}.{:03} s", t / 1_000_000_000, t / 1_000_000 % 1_000)
}

impl Survival {
    pub fn new(stateful: bool, replication_http: [bool; 2]) -> Survival {
        Survival {
            stateful,
            replication_http,
            held: BTreeMap::new(),
            settled: [None; 2],
            marks: [Mark::default(); 2],
            seen_version: [None; 2],
            notes: Vec::new(),
        }
    }

    /// The notes of the judgements since the last call, for the trace: (time, text).
    /// Whether notes wait to be taken.
    #[inline]
    pub fn has_notes(&self) -> bool {
        !self.notes.is_empty()
    }

    pub fn take_notes(&mut self) -> Vec<(u64, String)> {
        std::mem::take(&mut self.notes)
    }

    pub fn on_boot(&mut self, unit: UnitName, boot: u64) {
        let i = unit.index();
        self.marks[i] = Mark { boot, ..Mark::default() };
        self.seen_version[i] = None;
    }

    /// After every input of `name` (once the workload saw it): its
    /// replication mark, and the judgement of a failover to it. `judge` is
    /// false when the run checks nothing (the state machines alone).
    pub fn after_input(
        &mut self,
        t: u64,
        name: UnitName,
        unit: &Unit,
        traffic: &Traffic,
        coverage: &mut Coverage,
        judge: bool,
    ) -> Option<Violation> {
        let i = name.index();
        let version = unit.state_version();
        if self.seen_version[i] == Some(version) {
            return self.judge_due(t, name, unit, traffic, coverage, judge);
        }
        self.seen_version[i] = Some(version);
        let mark = unit.state_plane().replication_mark();
        let m = &mut self.marks[i];
        m.bulk_syncs = mark.bulk_syncs;
        match mark.caught_up_to {
            // Something is outstanding: whatever changed last (in any group,
            // also one that has just left this unit) is not acknowledged.
            None => m.caught_now = [false; 2],
            Some(mate) => {
                for g in Group::ALL.iter().copied().filter(|g| unit.group(*g).state().is_active()) {
                    let gi = g.index();
                    let same = m.caught_up[gi].is_some_and(|(_, was, b)| was == mate && b == mark.bulk_syncs);
                    if !(m.caught_now[gi] && same) {
                        m.caught_up[gi] = Some((t, mate, mark.bulk_syncs));
                        m.caught_now[gi] = true;
                    }
                }
            }
        }
        self.judge_due(t, name, unit, traffic, coverage, judge)
    }

    /// Judges a failover to `name` that is due (after its inputs, and before
    /// a traffic operation reaches it: on the tables as they were, before the
    /// operation changes them).
    pub fn judge_due(
        &mut self,
        t: u64,
        name: UnitName,
        unit: &Unit,
        traffic: &Traffic,
        coverage: &mut Coverage,
        judge: bool,
    ) -> Option<Violation> {
        let mut violation = None;
        let carriers = traffic.carriers();
        if traffic.book().is_empty() {
            // Nothing to judge: where traffic goes now is settled.
            self.settled = *carriers;
            return None;
        }
        for g in Group::ALL.iter().copied() {
            let gi = g.index();
            let Some(to) = carriers[gi] else { continue };
            if to.unit != name || Some(to.boot) != Some(unit.node().boot_nonce()) || self.settled[gi] == Some(to) {
                continue;
            }
            let from = self.settled[gi].replace(to);
            if judge {
                let v = self.judge(t, g, from, to, unit, traffic, coverage);
                violation = violation.or(v);
            }
        }
        violation
    }

    /// Why a connection unknown to the new carrier is excused; `None`: it is not.
    fn excuse(&self, c: &Conn, seen: Option<Seen>, from: Option<Carrier>, to: Carrier) -> Option<DropReason> {
        if !self.stateful {
            return Some(DropReason::NoStateLink);
        }
        if c.protocol == ConnProtocol::Http && !self.replication_http[c.group.index()] {
            return Some(DropReason::HttpNotReplicated);
        }
        let (Some(seen), Some(from)) = (seen, from) else { return Some(DropReason::NotReplicated) };
        let m = &self.marks[from.unit.index()];
        let held_by_from = seen.unit == from.unit && seen.boot == from.boot && m.boot == from.boot;
        let gi = c.group.index();
        let acknowledged = m.caught_up[gi].is_some_and(|(at, mate, bulks)| {
            (m.caught_now[gi] || at >= seen.t_ns) && mate == to.boot && bulks == m.bulk_syncs
        });
        if from.unit == to.unit || !held_by_from || !acknowledged {
            return Some(DropReason::NotReplicated);
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        t: u64,
        g: Group,
        from: Option<Carrier>,
        to: Carrier,
        unit: &Unit,
        traffic: &Traffic,
        coverage: &mut Coverage,
    ) -> Option<Violation> {
        let contexts: BTreeSet<String> =
            traffic.book().values().filter(|c| c.group == g).map(|c| c.context.clone()).collect();
        let mut known: BTreeSet<(String, u64)> = BTreeSet::new();
        for ctx in &contexts {
            for (_, e) in unit.state_plane().tables().context(ctx) {
                if let Entry::Replicated(StateObject::Connection { id, .. }) = e {
                    known.insert((ctx.clone(), *id));
                }
            }
        }
        let (mut survived, mut at_risk, mut violation) = (0u64, 0u64, None);
        let mut reasons: BTreeSet<&'static str> = BTreeSet::new();
        for (key, c) in traffic.book().iter().filter(|(_, c)| c.group == g) {
            let seen = self.held.get(key).and_then(|h| h.seen);
            let excuse = if known.contains(key) { None } else { Some(self.excuse(c, seen, from, to)) };
            let c_held = self.held.entry(key.clone()).or_default();
            match excuse {
                None => {
                    survived += 1;
                    c_held.seen = Some(Seen { unit: to.unit, boot: to.boot, t_ns: t });
                    c_held.at_risk = None;
                }
                Some(Some(reason)) => {
                    at_risk += 1;
                    reasons.insert(reason.as_str());
                    c_held.seen = None;
                    c_held.at_risk = Some(reason);
                }
                Some(None) => {
                    let from = from.expect("a connection is only acknowledged by a carrier");
                    let m = self.marks[from.unit.index()];
                    let acked = m.caught_up[g.index()].map_or(0, |(at, _, _)| at);
                    let seen_at = seen.map_or(0, |s| s.t_ns);
                    violation = violation.or(Some(Violation {
                        verdict: Verdict::Safety,
                        property: property::CONNECTIONS.into(),
                        t_ns: t,
                        message: format!(
                            "connection {} (opened at {}) is unknown to the {}, active for group {g} since {}: \
                             the {} held it at {} and, active for the group, had every state update \
                             acknowledged by this boot of the {} (caught up since {}), with no bulk sync since",
                            c.label(),
                            ns(c.opened_ns),
                            to.unit,
                            ns(to.since_ns),
                            from.unit,
                            ns(seen_at),
                            to.unit,
                            ns(acked),
                        ),
                    }));
                    c_held.seen = None;
                    c_held.at_risk = Some(DropReason::NotReplicated);
                }
            }
        }
        let moved = from.is_some_and(|f| f.unit != to.unit);
        if moved && survived > 0 {
            coverage.hit(sometimes::CONNECTIONS_SURVIVED);
        }
        if moved && at_risk > 0 {
            coverage.hit(sometimes::CONNECTIONS_DROPPED);
        }
        count(coverage, counter::SURVIVED, survived);
        if survived + at_risk > 0 {
            let was = match from {
                None => "nobody".to_owned(),
                Some(f) if f.unit == to.unit && f.boot != to.boot => format!("the {} (its earlier boot)", f.unit),
                Some(f) if f.unit == to.unit => format!("the {} (before the group left it)", f.unit),
                Some(f) => format!("the {}", f.unit),
            };
            let risk = if at_risk == 0 {
                String::new()
            } else {
                let r: Vec<&str> = reasons.into_iter().collect();
                format!(", {at_risk} unknown there ({})", r.join("; "))
            };
            self.notes.push((
                t,
                format!(
                    "group {g} traffic moved from {was} to the {}: {survived} connections known there{risk}",
                    to.unit
                ),
            ));
        }
        violation
    }

    /// What a traffic operation through `(unit, boot)` did to the book:
    /// a connection found again after a failover missed it survived; one
    /// its carrier lost is excused, or a violation.
    pub fn answer(
        &mut self,
        t: u64,
        unit: UnitName,
        boot: u64,
        answer: Answer,
        coverage: &mut Coverage,
    ) -> Option<Violation> {
        let seen = Some(Seen { unit, boot, t_ns: t });
        match answer {
            Answer::Fine => {}
            Answer::Opened(key) => {
                self.held.insert(key, Held { seen, at_risk: None });
            }
            Answer::Used(key) => {
                let h = self.held.entry(key).or_default();
                h.seen = seen;
                if h.at_risk.take().is_some() {
                    count(coverage, counter::SURVIVED, 1);
                }
            }
            Answer::Closed(key) => {
                if self.held.remove(&key).is_some_and(|h| h.at_risk.is_some()) {
                    count(coverage, counter::SURVIVED, 1);
                }
            }
            Answer::Lost(c) => {
                let h = self.held.remove(&(c.context.clone(), c.id)).unwrap_or_default();
                match h.at_risk {
                    Some(reason) => count(coverage, &format!("{}{}", counter::LOST_PREFIX, reason.as_str()), 1),
                    None if h.seen.is_some_and(|s| s.unit == unit && s.boot == boot) => {
                        return Some(Self::vanished(t, &c, h.seen, unit));
                    }
                    None => {
                        count(coverage, &format!("{}{}", counter::LOST_PREFIX, DropReason::NotReplicated.as_str()), 1)
                    }
                }
            }
        }
        None
    }

    /// The end of the run: connections a failover left unknown and never used
    /// again count as dropped.
    pub fn finish(&mut self, coverage: &mut Coverage) {
        let risky: Vec<DropReason> = self.held.values().filter_map(|h| h.at_risk).collect();
        for r in risky {
            count(coverage, &format!("{}{}", counter::LOST_PREFIX, r.as_str()), 1);
        }
    }

    /// A traffic answer that found a connection gone from its carrier.
    fn vanished(t: u64, c: &Conn, seen: Option<Seen>, unit: UnitName) -> Violation {
        Violation {
            verdict: Verdict::Safety,
            property: property::CONNECTIONS.into(),
            t_ns: t,
            message: format!(
                "connection {} (opened at {}) vanished from the {}, which carries its traffic and held it at {} \
                 with no failover since",
                c.label(),
                ns(c.opened_ns),
                unit,
                seen.map_or_else(|| "?".into(), |s| ns(s.t_ns)),
            ),
        }
    }
}
