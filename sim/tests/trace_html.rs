//! `fover trace html` in a real browser: the page is loaded in headless
//! Chromium, and the DOM it dumps after the page's script ran must hold both
//! units' lanes, a fault band and the violation marker, with the violation's
//! record in the side panel. A screenshot of each page is kept under
//! `target/tmp/trace-html/` for people to look at.
//!
//! Without a Chromium binary the test prints why and passes (CI installs
//! Debian's `chromium`; `FOVER_CHROMIUM` names another binary).

mod common;

use common::{fover, power_off_among_noise, write_trace};
use fover_traces::{Event, FORMAT_NAME, FORMAT_VERSION, Header, Record};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CHROMIUM_TIMEOUT_S: u64 = 90;

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FOVER_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Runs headless Chromium on a page with `extra` flags; stdout goes to `out`.
fn run_chromium(bin: &Path, page: &Path, extra: &[String], out: &Path) {
    let profile = out.with_extension("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().cloned());
    args.push(format!("file://{}", page.display()));
    let stdout = std::fs::File::create(out).unwrap();
    let stderr = std::fs::File::create(out.with_extension("stderr")).unwrap();
    let mut child = Command::new(bin)
        .args(&args)
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    // Outside the simulation: a wall-clock bound on a real browser.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(out.with_extension("stderr")).unwrap_or_default();
            assert!(status.success(), "chromium failed ({status}):\n{log}");
            break;
        }
        if started.elapsed().as_secs() > CHROMIUM_TIMEOUT_S {
            let _ = child.kill();
            panic!("chromium did not finish within {CHROMIUM_TIMEOUT_S} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&profile);
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace-html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads a page, checks the DOM after its script ran, and takes a screenshot.
fn check_in_browser(bin: &Path, page: &Path, violation_property: &str) {
    let dom_path = page.with_extension("dom.html");
    run_chromium(bin, page, &["--dump-dom".to_owned()], &dom_path);
    let dom = std::fs::read_to_string(&dom_path).unwrap();
    for want in [
        r#"data-ready="yes""#,
        r#"class="lane" data-unit="primary" data-group="1""#,
        r#"class="lane" data-unit="primary" data-group="2""#,
        r#"class="lane" data-unit="secondary" data-group="1""#,
        r#"class="lane" data-unit="secondary" data-group="2""#,
        r#"class="fault-band band-g"#,
        r#"id="violation""#,
    ] {
        assert!(dom.contains(want), "{want} is not in the DOM of {}", page.display());
    }
    // The script selected the violation and put its record in the panel.
    let panel = dom.split(r#"id="panel-json">"#).nth(1).unwrap_or_default();
    let panel = panel.split("</pre>").next().unwrap_or_default();
    assert!(
        panel.contains("&quot;kind&quot;: &quot;violation&quot;") || panel.contains(r#""kind": "violation""#),
        "{panel}"
    );
    assert!(panel.contains(violation_property), "{panel}");
    assert!(dom.contains(r#"class="violation selected""#), "the violation is not selected");

    let png = page.with_extension("png");
    let _ = std::fs::remove_file(&png);
    let shot = [format!("--screenshot={}", png.display()), "--window-size=1400,900".to_owned()];
    run_chromium(bin, page, &shot, &page.with_extension("screenshot.log"));
    let bytes = std::fs::read(&png).unwrap_or_default();
    assert!(bytes.len() > 10_000 && bytes.starts_with(b"\x89PNG"), "no screenshot at {}", png.display());
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn html_view_of_a_failing_run_in_headless_chromium() {
    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED html_view_of_a_failing_run_in_headless_chromium: no chromium binary on PATH \
             (apt-get install chromium, or set FOVER_CHROMIUM); the HTML trace view was not checked in a browser"
        );
        return;
    };
    let dir = artifacts();
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    let page = dir.join("power.html");
    let (status, text) = fover(&["trace", "html", trace.to_str().unwrap(), "-o", page.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");
    check_in_browser(&bin, &page, "scenario-expectation");
}

#[test]
fn html_view_with_states_and_frames_in_headless_chromium() {
    let Some(bin) = chromium() else {
        eprintln!("SKIPPED html_view_with_states_and_frames_in_headless_chromium: no chromium binary on PATH");
        return;
    };
    let (header, records) = dual_active_story();
    let page = artifacts().join("dual-active.html");
    std::fs::write(&page, fover_traces::render::html::render(&header, &records)).unwrap();
    check_in_browser(&bin, &page, "1-no-dual-active");
}

/// A hand-written trace of the kind a full Unit produces: negotiation,
/// standby sync, a preempt, hellos and interface hellos, a LAN test, a cut
/// of the failover link during which the secondary takes group 1 too, and a
/// dual-active violation after the heal. Only for looking at.
fn dual_active_story() -> (Header, Vec<Record>) {
    const MS: u64 = 1_000_000;
    let mut r: Vec<Record> = Vec::new();
    let mut add = |t_ms: f64, event: Event| r.push(Record { t_ns: (t_ms * MS as f64) as u64, event });
    let p = || "primary".to_owned();
    let s = || "secondary".to_owned();
    let tr = |unit: String, group: u8, from: &str, to: &str, reason: &str| Event::Transition {
        unit,
        group,
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
    };
    let step = |v: serde_json::Value| Event::Step { step: v };
    let mut timeline: Vec<(f64, Event)> = vec![
        (0.0, step(json!({"do":"boot","at_ms":0,"unit":"primary"}))),
        (0.0, Event::Boot { unit: p(), boot_nonce: 0x51, local_ns: 4_000 * MS }),
        (1.0, tr(p(), 1, "Disabled", "Negotiation", "")),
        (1.0, tr(p(), 2, "Disabled", "Negotiation", "")),
        (300.0, step(json!({"do":"boot","at_ms":300,"unit":"secondary"}))),
        (300.0, Event::Boot { unit: s(), boot_nonce: 0x52, local_ns: 9_000 * MS }),
        (301.0, tr(s(), 1, "Disabled", "Negotiation", "")),
        (301.0, tr(s(), 2, "Disabled", "Negotiation", "")),
        (801.0, tr(p(), 1, "Negotiation", "Just Active", "No Active unit found")),
        (801.0, tr(p(), 2, "Negotiation", "Just Active", "No Active unit found")),
        (
            801.0,
            Event::Syslog {
                unit: p(),
                id: 104_001,
                text: "(Primary) Switching to ACTIVE - No Active unit found".into(),
            },
        ),
        (900.0, tr(p(), 1, "Just Active", "Active", "")),
        (900.0, tr(p(), 2, "Just Active", "Active", "")),
        (1_100.0, tr(s(), 1, "Negotiation", "Cold Standby", "Detected an Active mate")),
        (1_100.0, tr(s(), 2, "Negotiation", "Cold Standby", "Detected an Active mate")),
        (1_400.0, tr(s(), 1, "Cold Standby", "Sync Config", "")),
        (1_400.0, tr(s(), 2, "Cold Standby", "Sync Config", "")),
        (2_000.0, tr(s(), 1, "Sync Config", "Bulk Sync", "")),
        (2_000.0, tr(s(), 2, "Sync Config", "Bulk Sync", "")),
        (2_400.0, tr(s(), 1, "Bulk Sync", "Standby Ready", "")),
        (2_400.0, tr(s(), 2, "Bulk Sync", "Standby Ready", "")),
        (3_000.0, step(json!({"do":"loss","at_ms":3000,"link":"data:ctx2/outside","probability":0.3,"until_ms":6000}))),
        (4_400.0, tr(p(), 2, "Active", "Standby Ready", "Preempt by peer")),
        (4_400.0, tr(s(), 2, "Standby Ready", "Just Active", "Preempt")),
        (4_600.0, tr(s(), 2, "Just Active", "Active", "")),
        (7_000.0, step(json!({"do":"expect","at_ms":7000,"group":2,"active":"secondary"}))),
        (
            7_000.0,
            Event::Expect {
                step: json!({"do":"expect","at_ms":7000,"group":2,"active":"secondary"}),
                pass: true,
                observed: "group 2: primary Standby Ready, secondary Active".into(),
            },
        ),
        (8_000.0, step(json!({"do":"cut","at_ms":8000,"link":"failover"}))),
        (8_650.0, Event::UnitEvent { unit: s(), text: "LAN test started".into() }),
        (8_900.0, Event::UnitEvent { unit: s(), text: "peer declared failed".into() }),
        (8_900.0, tr(s(), 1, "Standby Ready", "Just Active", "Other unit has failed")),
        (
            8_900.0,
            Event::Syslog {
                unit: s(),
                id: 104_001,
                text: "(Secondary) Switching to ACTIVE - Other unit has failed".into(),
            },
        ),
        (9_100.0, tr(s(), 1, "Just Active", "Active", "")),
        (10_500.0, step(json!({"do":"command","at_ms":10500,"unit":"primary","line":"failover active group 1"}))),
        (
            10_500.0,
            Event::Command {
                unit: p(),
                context: "system".into(),
                line: "failover active group 1".into(),
                ok: true,
                output: String::new(),
            },
        ),
        (12_000.0, step(json!({"do":"heal","at_ms":12000,"link":"failover"}))),
    ];
    // Hellos every 200 ms each way on the failover link (dropped while it is
    // cut), interface hellos every 500 ms on one data interface, a LAN test.
    let mut t = 50.0;
    while t < 13_100.0 {
        for (from, to, off) in [(p(), s(), 0.0), (s(), p(), 90.0)] {
            let at = t + off;
            if at < 300.0 && from == "secondary" {
                continue;
            }
            timeline
                .push((at, Event::Sent { unit: from.clone(), link: "failover".into(), msg: "hello".into(), len: 48 }));
            if (8_000.0..12_000.0).contains(&at) {
                timeline.push((
                    at,
                    Event::Dropped {
                        unit: from.clone(),
                        link: "failover".into(),
                        msg: "hello".into(),
                        why: "cut".into(),
                    },
                ));
            } else {
                timeline.push((
                    at + 1.3,
                    Event::Delivered {
                        unit: to.clone(),
                        link: "failover".into(),
                        msg: "hello".into(),
                        corrupted: false,
                        duplicate: false,
                    },
                ));
            }
            if (at as u64) % 500 < 200 {
                timeline.push((
                    at + 20.0,
                    Event::Sent {
                        unit: from.clone(),
                        link: "data:admin/inside".into(),
                        msg: "interface-hello".into(),
                        len: 40,
                    },
                ));
                timeline.push((
                    at + 21.0,
                    Event::Delivered {
                        unit: to,
                        link: "data:admin/inside".into(),
                        msg: "interface-hello".into(),
                        corrupted: false,
                        duplicate: false,
                    },
                ));
            }
        }
        t += 200.0;
    }
    for (at, from, to, msg) in [
        (4_390.0, s(), p(), "role-request"),
        (4_392.0, p(), s(), "ack"),
        (8_650.0, s(), p(), "lan-test"),
        (8_652.0, p(), s(), "lan-test-reply"),
    ] {
        let link = if msg.starts_with("lan") { "data:admin/inside" } else { "failover" };
        timeline.push((at, Event::Sent { unit: from, link: link.into(), msg: msg.into(), len: 64 }));
        timeline.push((
            at + 1.5,
            Event::Delivered { unit: to, link: link.into(), msg: msg.into(), corrupted: false, duplicate: false },
        ));
    }
    let violation = "group 1 is active on both units 1000 ms after the failover link healed at 12000 ms";
    timeline.push((13_000.0, Event::Violation { property: "1-no-dual-active".into(), message: violation.into() }));
    timeline.push((
        13_000.0,
        Event::Verdict {
            verdict: "safety".into(),
            property: Some("1-no-dual-active".into()),
            message: Some(violation.into()),
        },
    ));
    // Stable: events of the same time keep the order above.
    timeline.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, e) in timeline {
        add(t, e);
    }
    let header = Header {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        fover_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: None,
        engine: "fast".into(),
        seed: 42,
        options: serde_json::Value::Null,
        scenario: json!({ "name": "failover link: cut during operation (dual active after heal; hand-written)", "duration_ms": 13000 }),
        scenario_file: None,
        planted_bug: Some("both-active-never-resolves".into()),
    };
    (header, r)
}
