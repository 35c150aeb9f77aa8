//! Renderers of a trace for people: [`timeline`] (one line per event, with
//! the state of every group on every unit in fixed columns, for a terminal)
//! and [`html`] (one self-contained HTML file with a swimlane per unit and
//! group, frames, fault windows and the violation).
//!
//! Both read only records: group states come from `transition` records,
//! powered periods from `boot` and `down`, fault windows from `step` records.
//!
//! ```
//! use fover_traces::render::{Filter, timeline};
//! use fover_traces::{Event, Header, Record};
//!
//! let header: Header = serde_json::from_str(
//!     r#"{"format":"fover-trace","version":1,"fover_version":"0","engine":"fast","seed":1,"scenario":{}}"#,
//! ).unwrap();
//! let records = vec![
//!     Record { t_ns: 0, event: Event::Boot { unit: "primary".into(), boot_nonce: 1, local_ns: 0 } },
//!     Record { t_ns: 5_000_000, event: Event::Verdict { verdict: "pass".into(), property: None, message: None } },
//! ];
//! let text = timeline::render(&header, &records, &Filter::default()).unwrap();
//! assert!(text.contains("0.005s"));
//! ```

pub mod html;
pub mod timeline;

use crate::{Event, Record};
use fover_protocol::types::GroupState;

/// The two units, in lane order.
pub const UNITS: [&str; 2] = ["primary", "secondary"];
/// The two failover groups.
pub const GROUPS: [u8; 2] = [1, 2];
/// Every record kind, as in the JSON (`--kind` takes these).
pub const KINDS: &[&str] = &[
    "boot",
    "down",
    "sent",
    "delivered",
    "dropped",
    "timer",
    "transition",
    "syslog",
    "unit-event",
    "step",
    "command",
    "show",
    "expect",
    "violation",
    "note",
    "verdict",
];
/// Message kinds drawn as hellos (the HTML view can hide them).
pub const HELLO_KINDS: &[&str] = &["hello", "interface-hello"];

const MS: u64 = 1_000_000;

/// Which records to show. Empty fields show everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this unit's records (and those of no unit).
    pub unit: Option<String>,
    /// Only this group's state columns, and no record about another group.
    pub group: Option<u8>,
    /// Only these kinds.
    pub kinds: Vec<String>,
    pub from_ns: Option<u64>,
    pub to_ns: Option<u64>,
}

impl Filter {
    /// Checks the values, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(u) = &self.unit {
            if !UNITS.contains(&u.as_str()) {
                return Err(format!("--unit {u:?}: expected primary or secondary"));
            }
        }
        if let Some(g) = self.group {
            if !GROUPS.contains(&g) {
                return Err(format!("--group {g}: there are only groups 1 and 2"));
            }
        }
        for k in &self.kinds {
            if !KINDS.contains(&k.as_str()) {
                return Err(format!("--kind {k:?}: expected one of {}", KINDS.join(", ")));
            }
        }
        if let (Some(a), Some(b)) = (self.from_ns, self.to_ns) {
            if a > b {
                return Err(format!("--from-ns {a} is after --to-ns {b}"));
            }
        }
        Ok(())
    }

    /// Whether a record passes the filter.
    pub fn keeps(&self, r: &Record) -> bool {
        if self.from_ns.is_some_and(|a| r.t_ns < a) || self.to_ns.is_some_and(|b| r.t_ns > b) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.iter().any(|k| k == r.event.kind()) {
            return false;
        }
        if let (Some(want), Some(unit)) = (&self.unit, unit_of(&r.event)) {
            if *want != unit {
                return false;
            }
        }
        if let (Some(want), Some(group)) = (self.group, group_of(&r.event)) {
            if want != group {
                return false;
            }
        }
        true
    }
}

/// The unit a record is about: its `unit` field, or the `unit` of its step.
pub fn unit_of(e: &Event) -> Option<String> {
    match e {
        Event::Step { step } | Event::Expect { step, .. } => {
            step.get("unit").and_then(|u| u.as_str()).map(str::to_owned)
        }
        e => e.unit().map(str::to_owned),
    }
}

/// The group a record is about, if one: transitions, expectations, and
/// commands that name a group (`failover active group 2`).
pub fn group_of(e: &Event) -> Option<u8> {
    match e {
        Event::Transition { group, .. } => Some(*group),
        Event::Expect { step, .. } => step.get("group").and_then(|g| g.as_u64()).map(|g| g.min(255) as u8),
        Event::Command { line, .. } => {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.windows(2).find(|w| w[0] == "group").and_then(|w| w[1].parse().ok())
        }
        _ => None,
    }
}

/// Index of a unit name in [`UNITS`].
pub fn unit_index(name: &str) -> Option<usize> {
    UNITS.iter().position(|u| *u == name)
}

/// A group's state on a unit, as far as the records tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Known {
    /// Not powered (before its first boot, or after going down).
    Off,
    /// Booted, but no transition recorded yet.
    Booted,
    /// The state named by the last transition.
    State(String),
}

impl Known {
    /// A short name (at most 11 characters) for a fixed-width column.
    pub fn short(&self) -> String {
        match self {
            Known::Off => "off".into(),
            Known::Booted => "?".into(),
            Known::State(s) => match s.as_str() {
                "Just Active" => "JustActive".into(),
                "Active Drain" => "ActDrain".into(),
                "Active Applying Config" => "ActApplyCfg".into(),
                "Active Config Applied" => "ActCfgDone".into(),
                "Cold Standby" => "ColdStandby".into(),
                "Sync Config" => "SyncConfig".into(),
                "Sync File System" => "SyncFS".into(),
                "Bulk Sync" => "BulkSync".into(),
                "Standby Ready" => "StandbyRdy".into(),
                other => other.chars().filter(|c| !c.is_whitespace()).take(11).collect(),
            },
        }
    }

    /// The CSS class of its colour: active green, standby blue, Failed red, the rest grey.
    pub fn class(&self) -> &'static str {
        match self {
            Known::Off => "st-off",
            Known::Booted => "st-unknown",
            Known::State(s) => match GroupState::parse(s) {
                Some(GroupState::Active) => "st-active",
                Some(st) if st.is_active() => "st-active-transient",
                Some(GroupState::StandbyReady) => "st-standby",
                Some(st) if st.is_standby() => "st-standby-transient",
                Some(GroupState::Failed) => "st-failed",
                Some(_) => "st-neutral",
                None => "st-unknown",
            },
        }
    }
}

/// The state of both groups on both units, updated record by record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct States {
    /// `[unit][group - 1]`.
    pub now: [[Known; 2]; 2],
}

impl Default for States {
    fn default() -> States {
        States { now: [[Known::Off, Known::Off], [Known::Off, Known::Off]] }
    }
}

impl States {
    /// Applies a record; returns the (unit, group index) cells it changed.
    pub fn apply(&mut self, e: &Event) -> Vec<(usize, usize)> {
        let mut changed = Vec::new();
        let mut set = |u: usize, g: usize, k: Known, now: &mut [[Known; 2]; 2]| {
            if now[u][g] != k {
                now[u][g] = k;
                changed.push((u, g));
            }
        };
        match e {
            Event::Boot { unit, .. } => {
                if let Some(u) = unit_index(unit) {
                    for g in 0..2 {
                        set(u, g, Known::Booted, &mut self.now);
                    }
                }
            }
            Event::Down { unit, .. } => {
                if let Some(u) = unit_index(unit) {
                    for g in 0..2 {
                        set(u, g, Known::Off, &mut self.now);
                    }
                }
            }
            Event::Transition { unit, group, to, .. } => {
                if let (Some(u), Some(g)) = (unit_index(unit), GROUPS.iter().position(|x| x == group)) {
                    set(u, g, Known::State(to.clone()), &mut self.now);
                }
            }
            _ => {}
        }
        changed
    }
}

/// A fault's time window, from the `step` records.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    pub start_ns: u64,
    pub end_ns: u64,
    /// The step's `do` (`cut`, `loss`, `power-off`, ...).
    pub kind: String,
    /// `cut failover`, `loss 50% all secondary->primary`, ...
    pub label: String,
    /// For faults of one unit (power, interfaces, clocks).
    pub unit: Option<String>,
    /// For faults of a link.
    pub link: Option<String>,
    /// Index of the step record that started it.
    pub record: usize,
    /// Index of the record that ended it, if one did.
    pub ended_by: Option<usize>,
}

const LINK_FAULTS: &[&str] = &["cut", "loss", "delay", "duplicate", "reorder", "corrupt", "drop"];

fn str_field<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

fn step_label(step: &serde_json::Value) -> String {
    let kind = str_field(step, "do").unwrap_or("?");
    let mut parts = vec![kind.to_owned()];
    if let Some(p) = step.get("probability").and_then(|p| p.as_f64()) {
        parts.push(format!("{}%", (p * 100.0).round()));
    }
    if let Some(d) = step.get("delay_ms").and_then(|d| d.as_u64()) {
        let j = step.get("jitter_ms").and_then(|j| j.as_u64()).unwrap_or(0);
        parts.push(if j > 0 { format!("{d}±{j}ms") } else { format!("{d}ms") });
    }
    if let Some(k) = str_field(step, "kind") {
        let count = step.get("count").and_then(|c| c.as_u64()).map(|c| format!(" ×{c}")).unwrap_or_default();
        parts.push(format!("{k}{count}"));
    }
    for k in ["link", "unit", "interface"] {
        if let Some(v) = str_field(step, k) {
            parts.push(v.to_owned());
        }
    }
    if let Some(d) = str_field(step, "direction") {
        parts.push(d.to_owned());
    }
    if let Some(ppm) = step.get("ppm").and_then(|p| p.as_i64()) {
        parts.push(format!("{ppm:+}ppm"));
    }
    if let Some(ms) = step.get("ms").and_then(|p| p.as_i64()) {
        parts.push(format!("{ms:+}ms"));
    }
    parts.join(" ")
}

fn direction(step: &serde_json::Value) -> &str {
    str_field(step, "direction").unwrap_or("both")
}

/// The fault windows of a trace. A link fault ends at its `until_ms`, at the
/// first later `heal` of its link (or of `all`) in a direction that covers
/// it, or (a `drop` with a count) at its last dropped frame; a power-off or
/// crash ends at the unit's next boot; an interface fault at its
/// `interface-up`; a clock drift at the unit's next drift step. Windows with
/// no end last to `end_ns`.
pub fn fault_windows(records: &[Record], end_ns: u64) -> Vec<FaultWindow> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let Event::Step { step } = &r.event else { continue };
        let Some(kind) = str_field(step, "do") else { continue };
        let later = || records.iter().enumerate().skip(i + 1);
        let unit = str_field(step, "unit").map(str::to_owned);
        let link = str_field(step, "link").map(str::to_owned);
        let mut ended_by = None;
        let end = if LINK_FAULTS.contains(&kind) {
            let until = step.get("until_ms").and_then(|u| u.as_u64()).map(|ms| ms.saturating_mul(MS));
            let heal = later().find(|(_, h)| match &h.event {
                Event::Step { step: hs } => {
                    str_field(hs, "do") == Some("heal")
                        && (str_field(hs, "link") == Some("all") || str_field(hs, "link") == link.as_deref())
                        && (direction(hs) == "both" || direction(hs) == direction(step))
                }
                _ => false,
            });
            let count_end = match (kind, step.get("count").and_then(|c| c.as_u64()), str_field(step, "kind")) {
                ("drop", Some(n), Some(msg)) if n > 0 => later()
                    .filter(|(_, d)| match &d.event {
                        Event::Dropped { link: l, msg: m, why, .. } => {
                            why == "drop-by-kind"
                                && m == msg
                                && (link.as_deref() == Some("all") || link.as_deref() == Some(l.as_str()))
                        }
                        _ => false,
                    })
                    .nth(n as usize - 1),
                _ => None,
            };
            let ends = [
                until.map(|t| (t, None)),
                heal.map(|(j, h)| (h.t_ns, Some(j))),
                count_end.map(|(j, d)| (d.t_ns, Some(j))),
            ];
            let first = ends.into_iter().flatten().min_by_key(|(t, _)| *t);
            first.map(|(t, j)| {
                ended_by = j;
                t
            })
        } else {
            let end_rec = match kind {
                "power-off" | "crash" => {
                    later().find(|(_, b)| matches!(&b.event, Event::Boot { unit: u, .. } if Some(u) == unit.as_ref()))
                }
                "interface-down" | "interface-silent" => later().find(|(_, s)| match &s.event {
                    Event::Step { step: up } => {
                        str_field(up, "do") == Some("interface-up")
                            && str_field(up, "unit") == unit.as_deref()
                            && str_field(up, "interface") == str_field(step, "interface")
                    }
                    _ => false,
                }),
                "clock-drift" if step.get("ppm").and_then(|p| p.as_i64()) != Some(0) => {
                    later().find(|(_, s)| match &s.event {
                        Event::Step { step: d } => {
                            str_field(d, "do") == Some("clock-drift") && str_field(d, "unit") == unit.as_deref()
                        }
                        _ => false,
                    })
                }
                "clock-step" | "erase-flash" => Some((i, r)),
                _ => continue,
            };
            end_rec.map(|(j, e)| {
                ended_by = (j != i).then_some(j);
                e.t_ns
            })
        };
        out.push(FaultWindow {
            start_ns: r.t_ns,
            end_ns: end.unwrap_or(end_ns).max(r.t_ns),
            kind: kind.to_owned(),
            label: step_label(step),
            unit: if LINK_FAULTS.contains(&kind) { None } else { unit },
            link,
            record: i,
            ended_by,
        });
    }
    out
}

/// The end of a trace: the time of its last record (at least 1 ms).
pub fn end_ns(records: &[Record]) -> u64 {
    records.iter().map(|r| r.t_ns).max().unwrap_or(0).max(MS)
}

/// The first violation record, with its index.
pub fn violation(records: &[Record]) -> Option<(usize, &Record)> {
    records.iter().enumerate().find(|(_, r)| matches!(r.event, Event::Violation { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(t_ms: u64, v: serde_json::Value) -> Record {
        Record { t_ns: t_ms * MS, event: Event::Step { step: v } }
    }

    #[test]
    fn windows_end_at_until_heal_boot_or_the_end() {
        let records = vec![
            step(1, json!({"do":"cut","at_ms":1,"link":"failover"})),
            step(2, json!({"do":"loss","at_ms":2,"link":"all","probability":0.5,"until_ms":9})),
            step(3, json!({"do":"power-off","at_ms":3,"unit":"primary"})),
            step(4, json!({"do":"cut","at_ms":4,"link":"data:admin/inside","direction":"primary->secondary"})),
            step(5, json!({"do":"heal","at_ms":5,"link":"all","direction":"secondary->primary"})),
            step(6, json!({"do":"heal","at_ms":6,"link":"failover"})),
            Record { t_ns: 7 * MS, event: Event::Boot { unit: "primary".into(), boot_nonce: 1, local_ns: 0 } },
            step(8, json!({"do":"clock-step","at_ms":8,"unit":"secondary","ms":-300})),
        ];
        let w = fault_windows(&records, 20 * MS);
        let spans: Vec<(u64, u64, &str)> =
            w.iter().map(|w| (w.start_ns / MS, w.end_ns / MS, w.label.as_str())).collect();
        assert_eq!(
            spans,
            vec![
                (1, 6, "cut failover"),
                (2, 9, "loss 50% all"),
                (3, 7, "power-off primary"),
                (4, 20, "cut data:admin/inside primary->secondary"),
                (8, 8, "clock-step secondary -300ms"),
            ]
        );
        assert_eq!(w[0].ended_by, Some(5));
        assert_eq!(w[2].unit.as_deref(), Some("primary"));
        assert_eq!(w[3].link.as_deref(), Some("data:admin/inside"));
    }

    #[test]
    fn states_follow_boot_transition_and_down() {
        let mut s = States::default();
        let boot = Event::Boot { unit: "secondary".into(), boot_nonce: 1, local_ns: 0 };
        assert_eq!(s.apply(&boot), vec![(1, 0), (1, 1)]);
        let t = Event::Transition {
            unit: "secondary".into(),
            group: 2,
            from: "Negotiation".into(),
            to: "Standby Ready".into(),
            reason: String::new(),
        };
        assert_eq!(s.apply(&t), vec![(1, 1)]);
        assert_eq!(s.now[1][1].short(), "StandbyRdy");
        assert_eq!(s.now[1][1].class(), "st-standby");
        assert_eq!(s.now[1][0], Known::Booted);
        s.apply(&Event::Down { unit: "secondary".into(), why: "crash".into() });
        assert_eq!(s.now[1], [Known::Off, Known::Off]);
    }

    #[test]
    fn filter_checks_its_values() {
        assert!(Filter { unit: Some("tertiary".into()), ..Filter::default() }.validate().is_err());
        assert!(Filter { group: Some(3), ..Filter::default() }.validate().is_err());
        let err = Filter { kinds: vec!["teleport".into()], ..Filter::default() }.validate().unwrap_err();
        assert!(err.contains("transition"), "{err}");
        assert!(Filter { from_ns: Some(5), to_ns: Some(4), ..Filter::default() }.validate().is_err());
        assert!(Filter::default().validate().is_ok());
    }

    #[test]
    fn group_of_reads_commands_and_expectations() {
        let c = Event::Command {
            unit: "primary".into(),
            context: "system".into(),
            line: "no failover active group 2".into(),
            ok: true,
            output: String::new(),
        };
        assert_eq!(group_of(&c), Some(2));
        let e = Event::Expect { step: json!({"do":"expect","group":1}), pass: true, observed: String::new() };
        assert_eq!(group_of(&e), Some(1));
    }
}
