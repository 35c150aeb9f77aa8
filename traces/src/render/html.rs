//! `fover trace html`: one self-contained HTML file (inline CSS and script,
//! nothing fetched) that draws a trace as swimlanes.
//!
//! * a lane per unit and group (`<g class="lane" data-unit="primary"
//!   data-group="1">`) with the group's states as coloured bands: active
//!   states green, standby states blue, Failed red, Negotiation and Disabled
//!   grey, a dashed band while a booted unit has reported no state yet;
//! * an events lane per unit (boots, power losses, syslogs, commands, shows,
//!   expectations; timers behind a checkbox);
//! * frames between the units' lanes: each `sent` record is matched to the
//!   first unmatched `delivered` record with the same link and message kind
//!   in the other direction (first in, first out per link and kind; a
//!   duplicate copy is drawn from the frame it copies; a corrupted frame
//!   whose kind was unreadable takes the oldest frame on its link); dropped
//!   frames end in a red dot halfway; hellos can be hidden;
//! * fault windows (`<g class="fault-band">`) in rows of their own, and
//!   shaded over the lanes they affect (see [`super::fault_windows`]);
//! * the violation (`<g id="violation">`): a red line across every lane at
//!   its time, with the property, and its message in the page header.
//!
//! A click on anything drawn shows its records (JSON, with their line in
//! the trace file) in the side panel; the violation is shown on load.

use super::{FaultWindow, HELLO_KINDS, Known, States, UNITS, end_ns, fault_windows, unit_of, violation};
use crate::compare::seconds;
use crate::{Event, Header, Record};
use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;

const AXIS_H: u32 = 26;
const FAULT_ROW_H: u32 = 18;
const FAULT_ROWS_MAX: usize = 8;
const LANE_H: u32 = 24;
const EVENTS_H: u32 = 24;
const WIRE_H: u32 = 90;
const RUN_H: u32 = 24;
const GAP: u32 = 8;

/// Escapes text for HTML text and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside a `<script>` element.
fn script_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A CSS-safe token of a name (`interface-hello`, `power-off`).
fn token(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

struct Scale {
    end_ns: u64,
}

impl Scale {
    fn x(&self, t_ns: u64) -> f64 {
        (t_ns.min(self.end_ns) as f64 / self.end_ns as f64) * 100.0
    }
    fn pct(&self, t_ns: u64) -> String {
        format!("{:.4}%", self.x(t_ns))
    }
    fn width(&self, a: u64, b: u64, min: f64) -> String {
        format!("{:.4}%", (self.x(b) - self.x(a)).max(min))
    }
}

/// Row positions of the drawing.
struct Layout {
    fault_rows: usize,
    faults_y: u32,
    /// `[unit]`: y of group 1 lane, group 2 lane, events lane.
    lanes_y: [[u32; 2]; 2],
    events_y: [u32; 2],
    wire_y: u32,
    run_y: u32,
    height: u32,
}

impl Layout {
    fn new(fault_rows: usize) -> Layout {
        let faults_y = AXIS_H;
        let mut y = faults_y + fault_rows.max(1) as u32 * FAULT_ROW_H + GAP;
        let p = [y, y + LANE_H];
        let p_events = y + 2 * LANE_H;
        y = p_events + EVENTS_H;
        let wire_y = y;
        y += WIRE_H;
        let s_events = y;
        let s = [y + EVENTS_H, y + EVENTS_H + LANE_H];
        y += EVENTS_H + 2 * LANE_H + GAP;
        let run_y = y;
        Layout {
            fault_rows: fault_rows.max(1),
            faults_y,
            lanes_y: [p, s],
            events_y: [p_events, s_events],
            wire_y,
            run_y,
            height: run_y + RUN_H + 4,
        }
    }
    /// Top and bottom of everything drawn for a unit.
    fn unit_span(&self, u: usize) -> (u32, u32) {
        if u == 0 {
            (self.lanes_y[0][0], self.events_y[0] + EVENTS_H)
        } else {
            (self.events_y[1], self.lanes_y[1][1] + LANE_H)
        }
    }
}

/// Greedy packing of fault windows into rows; returns each window's row.
fn pack(windows: &[FaultWindow], min_gap_ns: u64) -> (Vec<usize>, usize) {
    let mut ends: Vec<u64> = Vec::new();
    let mut rows = Vec::with_capacity(windows.len());
    for w in windows {
        let row = match ends.iter().position(|e| *e + min_gap_ns <= w.start_ns) {
            Some(r) => r,
            None if ends.len() < FAULT_ROWS_MAX => {
                ends.push(0);
                ends.len() - 1
            }
            None => (0..ends.len()).min_by_key(|r| ends[*r]).unwrap_or(0),
        };
        ends[row] = ends[row].max(w.end_ns.max(w.start_ns + min_gap_ns));
        rows.push(row);
    }
    let n = ends.len();
    (rows, n)
}

/// A state band: from, to, the state, and the record that started it.
type Segment = (u64, u64, Known, usize);

/// One frame to draw.
struct Frame {
    from: usize,
    sent: Option<(usize, u64)>,
    /// Delivered record index and time, or `None` (dropped or never delivered).
    delivered: Option<(usize, u64)>,
    dropped: Option<usize>,
    msg: String,
    link: String,
    corrupted: bool,
    duplicate: bool,
}

fn match_frames(records: &[Record]) -> Vec<Frame> {
    type Key = (usize, String, String);
    let mut frames: Vec<Frame> = Vec::new();
    // (sender, link, msg) -> sends (record index, time) not yet delivered, oldest first.
    let mut pending: BTreeMap<Key, VecDeque<(usize, u64)>> = BTreeMap::new();
    // The send a key's last delivery matched (for duplicates that arrive after it).
    let mut last: BTreeMap<Key, (usize, u64)> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        match &r.event {
            Event::Sent { unit, link, msg, .. } => {
                let Some(from) = super::unit_index(unit) else { continue };
                let dropped = records.get(i + 1).is_some_and(|n| {
                    n.t_ns == r.t_ns
                        && matches!(&n.event, Event::Dropped { unit: u, link: l, msg: m, .. } if u == unit && l == link && m == msg)
                });
                if dropped {
                    frames.push(Frame {
                        from,
                        sent: Some((i, r.t_ns)),
                        delivered: None,
                        dropped: Some(i + 1),
                        msg: msg.clone(),
                        link: link.clone(),
                        corrupted: false,
                        duplicate: false,
                    });
                } else {
                    pending.entry((from, link.clone(), msg.clone())).or_default().push_back((i, r.t_ns));
                }
            }
            Event::Delivered { unit, link, msg, corrupted, duplicate } => {
                let Some(to) = super::unit_index(unit) else { continue };
                let from = 1 - to;
                let key = (from, link.clone(), msg.clone());
                let mut source = if *duplicate {
                    pending.get(&key).and_then(|q| q.front().copied()).or_else(|| last.get(&key).copied())
                } else {
                    pending.get_mut(&key).and_then(VecDeque::pop_front)
                };
                if source.is_none() && *corrupted {
                    // The kind may be unreadable: take the oldest frame on the link.
                    let oldest = pending
                        .iter()
                        .filter(|((f, l, _), q)| *f == from && l == link && !q.is_empty())
                        .min_by_key(|(_, q)| q.front().copied())
                        .map(|(k, _)| k.clone());
                    source = oldest.and_then(|k| pending.get_mut(&k).and_then(VecDeque::pop_front));
                }
                if let Some(s) = source {
                    last.insert(key, s);
                }
                frames.push(Frame {
                    from,
                    sent: source,
                    delivered: Some((i, r.t_ns)),
                    dropped: None,
                    msg: msg.clone(),
                    link: link.clone(),
                    corrupted: *corrupted,
                    duplicate: *duplicate,
                });
            }
            _ => {}
        }
    }
    // Sent, never delivered: in flight at the end, or the receiver was off.
    for ((from, link, msg), queue) in pending {
        for sent in queue {
            frames.push(Frame {
                from,
                sent: Some(sent),
                delivered: None,
                dropped: None,
                msg: msg.clone(),
                link: link.clone(),
                corrupted: false,
                duplicate: false,
            });
        }
    }
    frames
}

fn ticks(end_ns: u64) -> (u64, Vec<u64>) {
    let ms = 1_000_000u64;
    let span_ms = (end_ns / ms).max(1);
    let mut step = 1u64;
    'find: for mag in [1u64, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] {
        for m in [1, 2, 5] {
            if span_ms / (m * mag) <= 20 {
                step = m * mag;
                break 'find;
            }
        }
    }
    let times = (0..=span_ms / step).map(|k| k * step * ms).collect();
    (step, times)
}

fn tick_label(t_ns: u64, step_ms: u64) -> String {
    let ms = t_ns / 1_000_000;
    if step_ms >= 1000 {
        format!("{}s", ms / 1000)
    } else if step_ms >= 100 {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    }
}

fn event_title(r: &Record) -> String {
    format!("{} {} {}", seconds(r.t_ns), r.event.kind(), super::timeline::detail(&r.event))
}

/// Renders a trace as one HTML page.
pub fn render(header: &Header, records: &[Record]) -> String {
    let end = end_ns(records);
    // 2% of room after the end, for the violation marker and the last tick.
    let scale = Scale { end_ns: end + end / 50 };
    let windows = fault_windows(records, end);
    let (rows, n_rows) = pack(&windows, end / 200);
    let layout = Layout::new(n_rows);
    let name = header.scenario.get("name").and_then(|n| n.as_str()).unwrap_or("(unnamed)");
    let viol = violation(records);
    let verdict = records.iter().rev().find_map(|r| match &r.event {
        Event::Verdict { verdict, property, .. } => Some(match property {
            Some(p) => format!("{verdict} {p}"),
            None => verdict.clone(),
        }),
        _ => None,
    });

    let mut svg = String::new();
    let h = layout.height;

    // Axis.
    let (step_ms, times) = ticks(end);
    let _ = write!(svg, r#"<g class="axis">"#);
    for t in times {
        let x = scale.pct(t);
        let _ = write!(
            svg,
            r#"<line class="tick" x1="{x}" x2="{x}" y1="{}" y2="{h}"/><text class="tick-label" x="{x}" y="14">{}</text>"#,
            AXIS_H - 6,
            tick_label(t, step_ms)
        );
    }
    let _ = write!(svg, "</g>");

    // Fault rows.
    let _ = write!(svg, r#"<g class="faults">"#);
    for (w, row) in windows.iter().zip(&rows) {
        let y = layout.faults_y + *row as u32 * FAULT_ROW_H;
        let ids = match w.ended_by {
            Some(j) => format!("{},{j}", w.record),
            None => w.record.to_string(),
        };
        let target = match (&w.unit, &w.link) {
            (Some(u), _) => format!(r#" data-unit="{}""#, esc(u)),
            (None, Some(l)) => format!(r#" data-link="{}""#, esc(l)),
            _ => String::new(),
        };
        let _ = write!(
            svg,
            r#"<g class="fault-band band-g" data-kind="{kind}"{target} data-i="{ids}"><rect class="fault fault-{kind}" x="{x}" y="{y}" width="{w_}" height="{hh}" rx="3"/><text class="band-label" x="{x}" dx="3" y="{ty}">{label}</text><title>{label}: {a} to {b}</title></g>"#,
            kind = token(&w.kind),
            x = scale.pct(w.start_ns),
            w_ = scale.width(w.start_ns, w.end_ns, 0.15),
            hh = FAULT_ROW_H - 3,
            ty = y + FAULT_ROW_H - 6,
            label = esc(&w.label),
            a = seconds(w.start_ns),
            b = seconds(w.end_ns),
        );
    }
    let _ = write!(svg, "</g>");

    // State bands: one segment per (unit, group) and known state.
    let mut states = States::default();
    let mut open: [[(u64, usize); 2]; 2] = [[(0, 0); 2]; 2];
    let mut segments: [[Vec<Segment>; 2]; 2] = Default::default();
    for (i, r) in records.iter().enumerate() {
        let before = states.now.clone();
        for (u, g) in states.apply(&r.event) {
            let (t0, rec) = open[u][g];
            if before[u][g] != Known::Off {
                segments[u][g].push((t0, r.t_ns, before[u][g].clone(), rec));
            }
            open[u][g] = (r.t_ns, i);
        }
    }
    for (u, unit_open) in open.iter().enumerate() {
        for (g, (t0, rec)) in unit_open.iter().enumerate() {
            if states.now[u][g] != Known::Off {
                segments[u][g].push((*t0, end, states.now[u][g].clone(), *rec));
            }
        }
    }
    for (u, unit) in UNITS.iter().enumerate() {
        for (g, segs) in segments[u].iter().enumerate() {
            let y = layout.lanes_y[u][g];
            let _ = write!(
                svg,
                r#"<g class="lane" data-unit="{unit}" data-group="{}"><rect class="lane-bg" x="0" y="{y}" width="100%" height="{}"/>"#,
                g + 1,
                LANE_H - 2
            );
            for (t0, t1, known, rec) in segs {
                let label = match known {
                    Known::State(s) => s.clone(),
                    Known::Booted => "booted, no state yet".into(),
                    Known::Off => String::new(),
                };
                let _ = write!(
                    svg,
                    r#"<g class="band-g" data-i="{rec}"><rect class="band {cls}" x="{x}" y="{y1}" width="{w}" height="{hh}"/><text class="band-label" x="{x}" dx="3" y="{ty}">{l}</text><title>{unit} group {grp}: {l} from {a} to {b}</title></g>"#,
                    cls = known.class(),
                    x = scale.pct(*t0),
                    y1 = y + 2,
                    w = scale.width(*t0, *t1, 0.05),
                    hh = LANE_H - 6,
                    ty = y + LANE_H - 8,
                    l = esc(&label),
                    grp = g + 1,
                    a = seconds(*t0),
                    b = seconds(*t1),
                );
            }
            let _ = write!(svg, "</g>");
        }
    }

    // Shades of fault windows over the lanes they affect (translucent, on top of the bands).
    let _ = write!(svg, r#"<g class="shades">"#);
    for w in &windows {
        let (y0, y1) = match w.unit.as_deref().and_then(super::unit_index) {
            Some(u) => layout.unit_span(u),
            None => (layout.events_y[0], layout.events_y[1] + EVENTS_H),
        };
        let _ = write!(
            svg,
            r#"<rect class="fault-shade shade-{}" x="{}" y="{y0}" width="{}" height="{}"/>"#,
            token(&w.kind),
            scale.pct(w.start_ns),
            scale.width(w.start_ns, w.end_ns, 0.1),
            y1 - y0
        );
    }
    let _ = write!(svg, "</g>");

    // Frames.
    let frames = match_frames(records);
    let _ = write!(svg, r#"<g class="frames">"#);
    let (top, bottom) = (layout.wire_y + 2, layout.wire_y + WIRE_H - 2);
    for f in &frames {
        let (y_from, y_to) = if f.from == 0 { (top, bottom) } else { (bottom, top) };
        let mut cls = format!("frame msg-{}", token(&f.msg));
        if HELLO_KINDS.contains(&f.msg.as_str()) {
            cls.push_str(" hello");
        }
        if f.corrupted {
            cls.push_str(" corrupted");
        }
        if f.duplicate {
            cls.push_str(" duplicate");
        }
        let dir = if f.from == 0 { "primary -> secondary" } else { "secondary -> primary" };
        match (f.sent, f.delivered, f.dropped) {
            (Some((si, st)), Some((di, dt)), _) => {
                let _ = write!(
                    svg,
                    r#"<line class="{cls}" x1="{}" y1="{y_from}" x2="{}" y2="{y_to}" data-i="{si},{di}"><title>{} on {}, {dir}: sent {}, delivered {}</title></line>"#,
                    scale.pct(st),
                    scale.pct(dt),
                    esc(&f.msg),
                    esc(&f.link),
                    seconds(st),
                    seconds(dt)
                );
            }
            (Some((si, st)), None, drop) => {
                let mid = (y_from + y_to) / 2;
                let (ids, what, extra) = match drop {
                    Some(d) => (format!("{si},{d}"), "dropped", " dropped"),
                    None => (si.to_string(), "never delivered", " lost"),
                };
                let x = scale.pct(st);
                let _ = write!(
                    svg,
                    r#"<g class="{cls}{extra}" data-i="{ids}"><line x1="{x}" y1="{y_from}" x2="{x}" y2="{mid}"/><circle class="drop-mark" cx="{x}" cy="{mid}" r="3"/><title>{} on {}, {dir}: sent {}, {what}</title></g>"#,
                    esc(&f.msg),
                    esc(&f.link),
                    seconds(st)
                );
            }
            (None, Some((di, dt)), _) => {
                let x = scale.pct(dt);
                let near = if f.from == 0 { y_to - 10 } else { y_to + 10 };
                let _ = write!(
                    svg,
                    r#"<line class="{cls} unmatched" x1="{x}" y1="{near}" x2="{x}" y2="{y_to}" data-i="{di}"><title>{} on {}, {dir}: delivered {} (its send is not in the trace)</title></line>"#,
                    esc(&f.msg),
                    esc(&f.link),
                    seconds(dt)
                );
            }
            (None, None, _) => {}
        }
    }
    let _ = write!(svg, "</g>");

    // Events lanes and the run lane.
    let _ = write!(svg, r#"<g class="events">"#);
    for (i, r) in records.iter().enumerate() {
        let kind = r.event.kind();
        let drawn = match &r.event {
            Event::Sent { .. } | Event::Delivered { .. } | Event::Dropped { .. } | Event::Transition { .. } => false,
            Event::Step { step } => {
                // Faults have their rows; commands, shows and expectations their own records.
                let d = step.get("do").and_then(|d| d.as_str()).unwrap_or("");
                matches!(d, "boot" | "connect")
            }
            _ => true,
        };
        if !drawn {
            continue;
        }
        let y = match unit_of(&r.event).as_deref().and_then(super::unit_index) {
            Some(u) if !matches!(r.event, Event::Step { .. }) => layout.events_y[u],
            _ => layout.run_y,
        };
        let failed = matches!(&r.event, Event::Expect { pass: false, .. });
        let x = scale.pct(r.t_ns);
        let _ = write!(
            svg,
            r#"<g class="ev ev-{kind}{f}" data-i="{i}"><line x1="{x}" x2="{x}" y1="{}" y2="{}"/><circle cx="{x}" cy="{}" r="4"/><title>{}</title></g>"#,
            y + 3,
            y + EVENTS_H - 3,
            y + EVENTS_H / 2,
            esc(&event_title(r)),
            f = if failed { " failed" } else { "" },
        );
    }
    let _ = write!(svg, "</g>");

    // The violation.
    if let Some((vi, v)) = viol {
        let x = scale.x(v.t_ns);
        let (property, message) = match &v.event {
            Event::Violation { property, message } => (property.as_str(), message.as_str()),
            _ => ("", ""),
        };
        let anchor = if x > 70.0 { "end" } else { "start" };
        let dx = if x > 70.0 { -8 } else { 8 };
        let _ = write!(
            svg,
            r#"<g id="violation" class="violation" data-i="{vi}"><line x1="{x:.4}%" x2="{x:.4}%" y1="{}" y2="{h}"/><circle cx="{x:.4}%" cy="{}" r="6"/><text x="{x:.4}%" dx="{dx}" y="{}" text-anchor="{anchor}">{}</text><title>{} at {}: {}</title></g>"#,
            AXIS_H - 4,
            AXIS_H - 4,
            layout.run_y + RUN_H - 7,
            esc(property),
            esc(property),
            seconds(v.t_ns),
            esc(message)
        );
    }

    // Lane labels (a column of their own, outside the scrolled part).
    let mut labels = String::new();
    let mut label = |y: u32, hh: u32, text: &str, cls: &str| {
        let _ = write!(labels, r#"<text class="{cls}" x="6" y="{}">{}</text>"#, y + hh / 2 + 4, esc(text));
    };
    label(0, AXIS_H, "time", "lbl-axis");
    label(layout.faults_y, layout.fault_rows as u32 * FAULT_ROW_H, "faults", "lbl");
    for (u, unit) in UNITS.iter().enumerate() {
        label(layout.lanes_y[u][0], LANE_H, &format!("{unit} · group 1"), "lbl");
        label(layout.lanes_y[u][1], LANE_H, &format!("{unit} · group 2"), "lbl");
        label(layout.events_y[u], EVENTS_H, &format!("{unit} · events"), "lbl-minor");
    }
    label(layout.wire_y, WIRE_H, "frames", "lbl-minor");
    label(layout.run_y, RUN_H, "run", "lbl-minor");

    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>fover trace: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(name)
    );
    let _ = write!(out, r#"<header><h1>{}</h1><p class="meta">"#, esc(name));
    let mut meta = vec![
        format!("seed {}", header.seed),
        format!("{} engine", esc(&header.engine)),
        format!("fover {}", esc(&header.fover_version)),
        format!("{} records, {}", records.len(), seconds(end)),
    ];
    if let Some(b) = &header.planted_bug {
        meta.push(format!("planted bug <b>{}</b>", esc(b)));
    }
    if let Some(f) = &header.scenario_file {
        meta.push(format!("scenario file {}", esc(f)));
    }
    if let Some(v) = &verdict {
        meta.push(format!("verdict <b>{}</b>", esc(v)));
    }
    let _ = write!(out, "{}</p>", meta.join(" · "));
    if let Some((vi, v)) = viol {
        if let Event::Violation { property, message } = &v.event {
            let _ = write!(
                out,
                r#"<p class="violation-text" data-i="{vi}"><b>{}</b> at {}: {}</p>"#,
                esc(property),
                seconds(v.t_ns),
                esc(message)
            );
        }
    }
    let _ = write!(
        out,
        r#"<div class="controls"><label><input type="checkbox" id="show-hellos" checked> hello frames</label><label><input type="checkbox" id="show-frames" checked> all frames</label><label><input type="checkbox" id="show-timers"> timers</label><span class="zoom">zoom <button id="zoom-out" type="button">−</button><button id="zoom-fit" type="button">fit</button><button id="zoom-in" type="button">+</button></span><span class="legend"><i class="st-active"></i>Active <i class="st-active-transient"></i>becoming active <i class="st-standby"></i>Standby Ready <i class="st-standby-transient"></i>becoming standby <i class="st-failed"></i>Failed <i class="st-neutral"></i>Negotiation, Disabled <i class="fault"></i>fault</span></div></header>"#
    );
    let _ = writeln!(
        out,
        "<main id=\"main\"><svg id=\"labels\" width=\"150\" height=\"{h}\">{labels}</svg><div id=\"scroll\"><div id=\"timeline\" class=\"hide-timers\"><svg id=\"lanes\" width=\"100%\" height=\"{h}\">{svg}</svg></div></div><aside id=\"panel\"><h2 id=\"panel-title\">Click an event</h2><pre id=\"panel-json\"></pre></aside></main>"
    );
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"trace-header\">{}</script>\n<script type=\"application/json\" id=\"trace-records\">{}</script>\n<script>{JS}</script>\n</body>\n</html>\n",
        script_json(header),
        script_json(&records)
    );
    out
}

const CSS: &str = r#"
body { margin: 0; font: 13px/1.35 system-ui, sans-serif; color: #222; background: #fafafa; }
header { padding: 8px 14px 4px; border-bottom: 1px solid #ddd; background: #fff; }
h1 { font-size: 17px; margin: 0 0 2px; }
.meta { margin: 0 0 4px; color: #555; }
.violation-text { margin: 4px 0; padding: 4px 8px; background: #fdecea; border-left: 4px solid #c62828; cursor: pointer; }
.controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; padding: 2px 0 4px; }
.controls button { min-width: 26px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin: 0 3px 0 8px; border: 1px solid #888; vertical-align: middle; }
.legend i.fault { background: #f4b183; }
main { display: flex; align-items: flex-start; }
#labels { flex: none; background: #fff; border-right: 1px solid #ddd; }
#scroll { flex: 1 1 auto; overflow-x: auto; min-width: 0; background: #fff; }
#timeline { width: 100%; }
#panel { flex: none; width: 360px; max-height: calc(100vh - 110px); overflow: auto; border-left: 1px solid #ddd; padding: 0 10px; background: #fff; }
#panel h2 { font-size: 14px; margin: 8px 0; }
#panel pre { font-size: 11.5px; white-space: pre-wrap; word-break: break-word; }
svg text { font-size: 11px; }
.lbl { fill: #222; font-weight: 600; }
.lbl-minor, .lbl-axis { fill: #666; }
.tick { stroke: #eee; }
.tick-label { fill: #888; font-size: 10px; }
.lane-bg { fill: #f5f5f5; }
.band { stroke: #fff; stroke-width: 0.5; cursor: pointer; }
.band-label { fill: #fff; pointer-events: none; font-size: 10.5px; }
.st-active { fill: #2e8b47; background: #2e8b47; }
.st-active-transient { fill: #8ccf9b; background: #8ccf9b; }
.st-standby { fill: #2f6fc1; background: #2f6fc1; }
.st-standby-transient { fill: #92b9e8; background: #92b9e8; }
.st-failed { fill: #c62828; background: #c62828; }
.st-neutral { fill: #9e9e9e; background: #9e9e9e; }
.st-unknown { fill: #e3e3e3; stroke: #9e9e9e; stroke-dasharray: 4 3; background: #e3e3e3; }
.st-active-transient + .band-label, .st-standby-transient + .band-label, .st-unknown + .band-label { fill: #222; }
.fault { fill: #f4b183; stroke: #c55a11; stroke-width: 0.8; cursor: pointer; }
.fault-power-off, .fault-crash { fill: #e6a0a0; stroke: #a33; }
.fault-band .band-label { fill: #5a2a00; }
.fault-shade { fill: #f4b183; opacity: 0.16; pointer-events: none; }
.shade-power-off, .shade-crash { fill: #c62828; opacity: 0.14; }
.frame { stroke: #555; stroke-width: 1.2; cursor: pointer; fill: none; }
.frame.hello { stroke: #8aa4c8; }
.frame.msg-interface-hello { stroke: #b9c9dc; }
.frame.msg-lan-test, .frame.msg-lan-test-reply { stroke: #e08a00; stroke-width: 1.6; }
.frame.msg-ack { stroke: #9ccc9c; }
.frame.msg-role-request { stroke: #7b1fa2; stroke-width: 2; }
.frame.duplicate { stroke-dasharray: 4 2; }
.frame.corrupted { stroke: #c62828; stroke-dasharray: 2 2; }
.frame.dropped line, .frame.lost line { stroke: #c62828; }
.drop-mark { fill: #c62828; stroke: none; }
.frame.lost .drop-mark { fill: #fff; stroke: #c62828; }
.frame.unmatched { stroke: #c62828; }
.frame:hover, .frame:hover line { stroke-width: 3; }
.hide-hellos .hello, .hide-frames .frame { display: none; }
.ev { cursor: pointer; }
.ev line { stroke: #777; stroke-width: 1; }
.ev circle { fill: #777; stroke: #fff; stroke-width: 1; }
.ev-boot circle { fill: #2e8b47; }
.ev-down circle { fill: #c62828; }
.ev-syslog circle { fill: #607d8b; r: 3; }
.ev-command circle { fill: #7b1fa2; }
.ev-show circle { fill: #9e9e9e; }
.ev-expect circle { fill: #2e8b47; }
.ev-expect.failed circle { fill: #c62828; r: 5; }
.ev-timer circle { fill: #bbb; r: 2; }
.ev-verdict circle { fill: #222; }
.hide-timers .ev-timer { display: none; }
.violation line { stroke: #c62828; stroke-width: 2; }
.violation circle { fill: #c62828; }
.violation text { fill: #c62828; font-weight: 700; font-size: 12px; }
.violation { cursor: pointer; }
.selected rect, .selected circle, line.selected, .selected line { stroke: #000 !important; stroke-width: 2.5 !important; }
.violation.selected line, .violation.selected circle { stroke: #7f0000 !important; }
"#;

const JS: &str = r#"
(function () {
  var records = JSON.parse(document.getElementById('trace-records').textContent);
  var timeline = document.getElementById('timeline');
  var title = document.getElementById('panel-title');
  var pre = document.getElementById('panel-json');
  function show(el) {
    var ids = String(el.getAttribute('data-i')).split(',').map(Number);
    var shown = ids.map(function (i) { return { record: i, line: i + 2, t: records[i] && records[i].t_ns / 1e9, event: records[i] }; });
    var first = records[ids[0]] || {};
    title.textContent = (first.kind || 'event') + ' at ' + ((first.t_ns || 0) / 1e9).toFixed(3) + 's';
    pre.textContent = JSON.stringify(shown.length === 1 ? shown[0] : shown, null, 2);
    document.querySelectorAll('.selected').forEach(function (s) { s.classList.remove('selected'); });
    el.classList.add('selected');
  }
  document.body.addEventListener('click', function (ev) {
    var el = ev.target.closest('[data-i]');
    if (el) { show(el); }
  });
  function toggle(id, cls, onWhenChecked) {
    var box = document.getElementById(id);
    function apply() { timeline.classList.toggle(cls, box.checked === onWhenChecked); }
    box.addEventListener('change', apply);
    apply();
  }
  toggle('show-hellos', 'hide-hellos', false);
  toggle('show-frames', 'hide-frames', false);
  toggle('show-timers', 'hide-timers', false);
  function fitLabels() {
    document.querySelectorAll('.band-g').forEach(function (g) {
      var rect = g.querySelector('rect'), text = g.querySelector('text');
      if (!rect || !text) { return; }
      text.style.display = '';
      var room = rect.getBoundingClientRect().width;
      text.style.display = text.getComputedTextLength() + 6 <= room ? '' : 'none';
    });
  }
  var zoom = 1;
  function setZoom(z) {
    zoom = Math.max(1, Math.min(64, z));
    timeline.style.width = (zoom * 100) + '%';
    fitLabels();
  }
  document.getElementById('zoom-in').addEventListener('click', function () { setZoom(zoom * 2); });
  document.getElementById('zoom-out').addEventListener('click', function () { setZoom(zoom / 2); });
  document.getElementById('zoom-fit').addEventListener('click', function () { setZoom(1); });
  window.addEventListener('resize', fitLabels);
  fitLabels();
  var v = document.getElementById('violation');
  if (v) { show(v); }
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header() -> Header {
        serde_json::from_value(json!({
            "format": "fover-trace", "version": 1, "fover_version": "0", "engine": "fast", "seed": 3,
            "scenario": { "name": "html <test> & \"quotes\"" }
        }))
        .unwrap()
    }

    fn rec(t_ms: u64, event: Event) -> Record {
        Record { t_ns: t_ms * 1_000_000, event }
    }

    fn sent(t: u64, u: &str, msg: &str) -> Record {
        rec(t, Event::Sent { unit: u.into(), link: "failover".into(), msg: msg.into(), len: 40 })
    }

    fn delivered(t: u64, u: &str, msg: &str, duplicate: bool) -> Record {
        rec(
            t,
            Event::Delivered { unit: u.into(), link: "failover".into(), msg: msg.into(), corrupted: false, duplicate },
        )
    }

    #[test]
    fn frames_match_in_order_per_link_and_kind() {
        let records = vec![
            sent(1, "primary", "hello"),
            sent(2, "primary", "ack"),
            sent(3, "primary", "hello"),
            rec(
                3,
                Event::Dropped {
                    unit: "primary".into(),
                    link: "failover".into(),
                    msg: "hello".into(),
                    why: "cut".into(),
                },
            ),
            delivered(4, "secondary", "ack", false),
            delivered(5, "secondary", "hello", false),
            delivered(6, "secondary", "hello", true),
            sent(7, "secondary", "hello"),
            delivered(8, "primary", "role-request", false),
        ];
        let f = match_frames(&records);
        let ends: Vec<(Option<usize>, Option<usize>, Option<usize>)> =
            f.iter().map(|f| (f.sent.map(|s| s.0), f.delivered.map(|d| d.0), f.dropped)).collect();
        assert_eq!(
            ends,
            vec![
                (Some(2), None, Some(3)), // dropped
                (Some(1), Some(4), None), // ack
                (Some(0), Some(5), None), // hello
                (Some(0), Some(6), None), // its duplicate
                (None, Some(8), None),    // no send in the trace
                (Some(7), None, None),    // never delivered
            ]
        );
    }

    #[test]
    fn page_is_self_contained_and_escaped() {
        let records = vec![
            rec(0, Event::Boot { unit: "primary".into(), boot_nonce: 1, local_ns: 0 }),
            rec(10, Event::Step { step: json!({"do":"cut","at_ms":10,"link":"failover"}) }),
            rec(20, Event::Violation { property: "p</script>".into(), message: "<b>bad</b>".into() }),
            rec(20, Event::Verdict { verdict: "safety".into(), property: Some("p".into()), message: None }),
        ];
        let html = render(&header(), &records);
        assert!(html.starts_with("<!DOCTYPE html>"));
        for banned in ["http://", "https://", "<link", "src="] {
            assert!(!html.contains(banned), "{banned} in the page");
        }
        assert!(html.contains("html &lt;test&gt; &amp; &quot;quotes&quot;"));
        assert_eq!(html.matches("</script>").count(), 3, "a record closed a script element");
        assert!(html.contains(r#"class="lane" data-unit="primary" data-group="1""#));
        assert!(html.contains(r#"class="lane" data-unit="secondary" data-group="2""#));
        assert!(html.contains(r#"class="fault-band band-g" data-kind="cut" data-link="failover""#));
        assert!(html.contains(r#"id="violation""#));
        assert!(html.contains("&lt;b&gt;bad&lt;/b&gt;"));
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(60_000_000_000).0, 5_000);
        assert_eq!(ticks(1_000_000).0, 1);
        assert_eq!(tick_label(12_500_000_000, 500), "12.5s");
    }
}
