//! `fover trace show` on a real run's trace: the timeline, its filters, and
//! clear errors for bad arguments and bad files.

mod common;

use common::{fover, power_off_among_noise, tmp_dir, write_trace};

#[test]
fn timeline_of_a_failing_run_with_filters() {
    let dir = tmp_dir("trace-show");
    let trace = dir.join("power.trace.jsonl");
    let outcome = write_trace(&trace, &power_off_among_noise());
    let t = trace.to_str().unwrap();

    let (status, text) = fover(&["trace", "show", t]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("verdict: safety scenario-expectation"), "{text}");
    assert!(text.contains("primary/1   primary/2   secondary/1 secondary/2"), "{text}");
    // The primary's columns go off at its power-off, marked as changed.
    let off = text.lines().find(|l| l.contains(" down ") && l.contains("power-off")).unwrap();
    assert!(off.starts_with("    9.000s  off*        off*"), "{off}");
    assert!(text.ends_with(&format!("({n} of {n} records)\n", n = outcome.records.len())), "{text}");

    let (status, text) = fover(&["trace", "show", t, "--unit", "secondary", "--kind", "boot,down"]);
    assert_eq!(status, 0, "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" secondary ")).collect();
    // Its first boot, the crash at 13 s and the reboot 1.5 s later.
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[1].contains("13.000s") && rows[1].contains("crash"), "{text}");
    // Only the secondary's state columns.
    assert!(text.contains("      time  secondary/1 secondary/2  unit") && !text.contains("primary/1"), "{text}");

    let (status, text) = fover(&["trace", "show", t, "--from-ns", "12000000000", "--to-ns", "15000000000"]);
    assert_eq!(status, 0, "{text}");
    let times: Vec<f64> =
        text.lines().skip(3).filter_map(|l| l.split_whitespace().next()?.strip_suffix('s')?.parse().ok()).collect();
    assert!(!times.is_empty() && times.iter().all(|t| (12.0..=15.0).contains(t)), "{text}");
    assert!(times.contains(&13.0), "the crash at 13 s: {text}");
}

#[test]
fn bad_arguments_and_files_are_clear_errors() {
    let dir = tmp_dir("trace-show-errors");
    let trace = dir.join("power.trace.jsonl");
    write_trace(&trace, &power_off_among_noise());
    let t = trace.to_str().unwrap();
    for (args, want) in [
        (vec!["--kind", "teleport"], "--kind \"teleport\": expected one of"),
        (vec!["--unit", "tertiary"], "--unit \"tertiary\": expected primary or secondary"),
        (vec!["--group", "3"], "--group 3: there are only groups 1 and 2"),
        (vec!["--from-ns", "5", "--to-ns", "4"], "--from-ns 5 is after --to-ns 4"),
    ] {
        let mut all = vec!["trace", "show", t];
        all.extend(args);
        let (status, text) = fover(&all);
        assert_eq!(status, 2, "{text}");
        assert!(text.contains(want), "{want:?} not in {text}");
    }
    let bad = dir.join("bad.trace.jsonl");
    std::fs::write(&bad, "{\"format\":\"fover-trace\",\"version\":7}\n").unwrap();
    for sub in ["show", "html"] {
        let (status, text) = fover(&["trace", sub, bad.to_str().unwrap()]);
        assert_eq!(status, 2, "{text}");
        assert!(text.contains("bad.trace.jsonl: line 1: trace format version 7 is newer"), "{text}");
    }
    // html writes beside the trace by default.
    let (status, text) = fover(&["trace", "html", t]);
    assert_eq!(status, 0, "{text}");
    assert!(dir.join("power.trace.html").exists(), "{text}");
}
