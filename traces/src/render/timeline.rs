//! The terminal timeline of `fover trace show`: one line per event, with the
//! time in seconds, the state of each group on each unit in fixed columns
//! (a `*` marks the cell the line changed), the unit, the kind and the
//! fields that matter for that kind.
//!
//! ```text
//!       time  primary/1   primary/2   secondary/1 secondary/2  unit       kind        detail
//!     0.000s  ?*          ?*          off         off          primary    boot        nonce 0x2ce7…, local clock 6.778s
//! ```

use super::{Filter, GROUPS, States, UNITS};
use crate::compare::seconds;
use crate::{Event, Header, Record};
use std::fmt::Write as _;

const CELL: usize = 12;

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn step_detail(step: &serde_json::Value) -> String {
    let Some(map) = step.as_object() else { return step.to_string() };
    let mut out = map.get("do").and_then(|d| d.as_str()).unwrap_or("?").to_owned();
    for (k, v) in map {
        // The time and the unit have columns of their own.
        if k == "do" || k == "at_ms" || k == "unit" {
            continue;
        }
        match v {
            serde_json::Value::String(s) => {
                let _ = write!(out, " {k}={s}");
            }
            other => {
                let _ = write!(out, " {k}={other}");
            }
        }
    }
    out
}

/// The fields of a record that matter, on one line.
pub fn detail(e: &Event) -> String {
    match e {
        Event::Boot { boot_nonce, local_ns, .. } => {
            format!("nonce {boot_nonce:#x}, local clock {}", seconds(*local_ns))
        }
        Event::Down { why, .. } => why.clone(),
        Event::Sent { link, msg, len, .. } => format!("{msg} on {link} ({len} bytes)"),
        Event::Delivered { link, msg, corrupted, duplicate, .. } => {
            let mut s = format!("{msg} on {link}");
            if *corrupted {
                s.push_str(", corrupted");
            }
            if *duplicate {
                s.push_str(", duplicate");
            }
            s
        }
        Event::Dropped { link, msg, why, .. } => format!("{msg} on {link}: {why}"),
        Event::Timer { local_ns, .. } => format!("local clock {}", seconds(*local_ns)),
        Event::Transition { group, from, to, reason, .. } => {
            if reason.is_empty() {
                format!("group {group}: {from} -> {to}")
            } else {
                format!("group {group}: {from} -> {to} ({})", one_line(reason))
            }
        }
        Event::Syslog { id, text, .. } => format!("%ASA-{id}: {}", one_line(text)),
        Event::UnitEvent { text, .. } | Event::Note { text, .. } => one_line(text),
        Event::Step { step } => step_detail(step),
        Event::Command { context, line, ok, output, .. } => {
            let answer = if output.trim().is_empty() { String::new() } else { format!(": {}", one_line(output)) };
            format!("[{context}] {line} -> {}{answer}", if *ok { "ok" } else { "refused" })
        }
        Event::Show { command, output, .. } => format!("{command}: {}", one_line(output)),
        Event::Expect { step, pass, observed } => {
            format!("{} {}: {}", if *pass { "pass" } else { "FAIL" }, step_detail(step), one_line(observed))
        }
        Event::Violation { property, message } => format!("{property}: {}", one_line(message)),
        Event::Verdict { verdict, property, message } => {
            let mut s = verdict.clone();
            if let Some(p) = property {
                let _ = write!(s, " {p}");
            }
            if let Some(m) = message {
                let _ = write!(s, ": {}", one_line(m));
            }
            s
        }
    }
}

/// The (unit, group index) columns a filter shows.
fn columns(filter: &Filter) -> Vec<(usize, usize)> {
    let mut cols = Vec::new();
    for (u, unit) in UNITS.iter().enumerate() {
        for (g, group) in GROUPS.iter().enumerate() {
            let unit_ok = filter.unit.as_deref().is_none_or(|x| x == *unit);
            let group_ok = filter.group.is_none_or(|x| x == *group);
            if unit_ok && group_ok {
                cols.push((u, g));
            }
        }
    }
    cols
}

/// The timeline of a trace, filtered. An error names a bad filter value.
pub fn render(header: &Header, records: &[Record], filter: &Filter) -> Result<String, String> {
    filter.validate()?;
    let mut out = String::new();
    let name = header.scenario.get("name").and_then(|n| n.as_str()).unwrap_or("?");
    let bug = header.planted_bug.as_ref().map(|b| format!(", planted bug {b}")).unwrap_or_default();
    let _ = writeln!(out, "trace of {name:?}: seed {}, {} engine{bug}", header.seed, header.engine);
    if let Some(Event::Verdict { .. }) = records.last().map(|r| &r.event) {
        let _ = writeln!(out, "verdict: {}", detail(&records[records.len() - 1].event));
    }
    let cols = columns(filter);
    let mut head = format!("{:>10}  ", "time");
    for (u, g) in &cols {
        let _ = write!(head, "{:<CELL$}", format!("{}/{}", UNITS[*u], GROUPS[*g]));
    }
    let _ = writeln!(out, "{head} {:<10} {:<11} detail", "unit", "kind");
    let mut states = States::default();
    let mut shown = 0usize;
    for r in records {
        let changed = states.apply(&r.event);
        if !filter.keeps(r) {
            continue;
        }
        shown += 1;
        let mut line = format!("{:>10}  ", seconds(r.t_ns));
        for (u, g) in &cols {
            let mark = if changed.contains(&(*u, *g)) { "*" } else { "" };
            let cell = format!("{}{mark}", states.now[*u][*g].short());
            let _ = write!(line, "{cell:<CELL$}");
        }
        let unit = super::unit_of(&r.event).unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "{line} {unit:<10} {:<11} {}", r.event.kind(), detail(&r.event));
    }
    let _ = writeln!(out, "({shown} of {} records)", records.len());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header() -> Header {
        serde_json::from_value(json!({
            "format": "fover-trace", "version": 1, "fover_version": "0", "engine": "fast", "seed": 9,
            "scenario": { "name": "timeline test" }, "planted_bug": "hold-timer-too-short"
        }))
        .unwrap()
    }

    fn records() -> Vec<Record> {
        let ms = 1_000_000;
        let ev = |t: u64, event: Event| Record { t_ns: t * ms, event };
        vec![
            ev(0, Event::Boot { unit: "primary".into(), boot_nonce: 0xab, local_ns: 5_000 * ms }),
            ev(
                1_200,
                Event::Transition {
                    unit: "primary".into(),
                    group: 1,
                    from: "Negotiation".into(),
                    to: "Active".into(),
                    reason: "No Active unit found".into(),
                },
            ),
            ev(1_500, Event::Sent { unit: "primary".into(), link: "failover".into(), msg: "hello".into(), len: 40 }),
            ev(2_000, Event::Step { step: json!({"do":"cut","at_ms":2000,"link":"failover"}) }),
            ev(
                2_500,
                Event::Transition {
                    unit: "primary".into(),
                    group: 2,
                    from: "Negotiation".into(),
                    to: "Standby Ready".into(),
                    reason: String::new(),
                },
            ),
            ev(3_000, Event::Down { unit: "primary".into(), why: "crash".into() }),
            ev(3_000, Event::Violation { property: "p".into(), message: "went\nwrong".into() }),
            ev(3_000, Event::Verdict { verdict: "safety".into(), property: Some("p".into()), message: None }),
        ]
    }

    #[test]
    fn columns_track_states_and_mark_changes() {
        let text = render(&header(), &records(), &Filter::default()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("seed 9, fast engine, planted bug hold-timer-too-short"), "{text}");
        assert!(lines[1].starts_with("verdict: safety p"), "{text}");
        assert!(lines[2].contains("primary/1   primary/2   secondary/1 secondary/2"), "{text}");
        assert!(lines[3].starts_with("    0.000s  ?*          ?*          off         off"), "{text}");
        assert!(lines[4].contains("Active*     ?           off"), "{text}");
        assert!(lines[4].ends_with("transition  group 1: Negotiation -> Active (No Active unit found)"), "{text}");
        assert!(lines[6].contains("step        cut link=failover"), "{text}");
        assert!(lines[7].contains("Active      StandbyRdy*"), "{text}");
        assert!(lines[8].contains("off*        off*"), "{text}");
        assert!(lines[9].ends_with("violation   p: went wrong"), "{text}");
        assert!(text.ends_with("(8 of 8 records)\n"), "{text}");
    }

    #[test]
    fn filters_by_unit_group_kind_and_time() {
        let f = Filter { kinds: vec!["transition".into()], ..Filter::default() };
        let text = render(&header(), &records(), &f).unwrap();
        assert!(text.contains("(2 of 8 records)"), "{text}");
        let f = Filter { group: Some(2), unit: Some("primary".into()), ..Filter::default() };
        let text = render(&header(), &records(), &f).unwrap();
        assert!(!text.contains("group 1: Negotiation"), "{text}");
        assert!(text.contains("      time  primary/2    unit"), "only one column: {text}");
        let f = Filter { from_ns: Some(2_000_000_000), to_ns: Some(2_500_000_000), ..Filter::default() };
        let text = render(&header(), &records(), &f).unwrap();
        assert!(text.contains("(2 of 8 records)"), "{text}");
        // States before the window still count: group 1 is Active when the window opens.
        assert!(text.contains("Active      StandbyRdy*"), "{text}");
        let bad = Filter { kinds: vec!["nope".into()], ..Filter::default() };
        assert!(render(&header(), &records(), &bad).is_err());
    }
}
