//! `fover replay`: a fresh trace replays identical; a changed run or a
//! changed trace shows its first divergence; `--until-ns` shows both units.

mod common;

use common::{fover, power_off_among_noise, tmp_dir, write_trace};
use fover_protocol::planted::PlantedBug;
use fover_sim::engine::EngineKind;
use fover_sim::fabric::MS;
use fover_sim::replay::{self, ReplayError};
use fover_sim::sweep::{self, SweepConfig};
use fover_sim::world::RecordLevel;
use fover_traces::Event;
use fover_traces::io::read_file;

#[test]
fn fresh_failing_trace_replays_identical() {
    let dir = tmp_dir("replay-identical");
    let path = dir.join("power.trace.jsonl");
    let outcome = write_trace(&path, &power_off_among_noise());
    assert_eq!(outcome.violation.as_ref().map(|v| v.property.as_str()), Some("scenario-expectation"));
    let report = replay::replay_file(&path, None).unwrap();
    assert!(report.identical(), "{}", report.render());
    assert_eq!(report.compared, outcome.records.len());
    assert!(report.render().contains(&format!("identical ({} records)", outcome.records.len())), "{}", report.render());
    let (status, text) = fover(&["replay", path.to_str().unwrap()]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("identical ("), "{text}");
}

#[test]
fn sweep_trace_replays_identical() {
    // Whatever the protocol does with this seed, the same run gives the same records.
    let config = SweepConfig {
        seeds: 1,
        start: 3,
        jobs: 1,
        shard: None,
        nemesis: Default::default(),
        engine: EngineKind::Fast,
        recheck: 0,
        out: None,
        planted_bug: None,
        stop_on_failure: false,
    };
    let (options, scenario) = sweep::scenario_for(3, &config);
    let outcome = sweep::run_caught(EngineKind::Fast, &scenario, RecordLevel::Full).unwrap();
    let path = tmp_dir("replay-sweep").join("seed-3.trace.jsonl");
    sweep::write_trace(&path, &sweep::trace_header(EngineKind::Fast, Some(&options), &scenario, None), &outcome)
        .unwrap();
    let report = replay::replay_file(&path, None).unwrap();
    assert!(report.identical(), "{}", report.render());
}

#[test]
fn changed_scenario_in_the_header_diverges_where_the_change_shows() {
    let dir = tmp_dir("replay-changed-scenario");
    let path = dir.join("power.trace.jsonl");
    write_trace(&path, &power_off_among_noise());
    let (mut header, records) = read_file(&path).unwrap();
    // The power-off one second earlier: everything before 8 s is the same.
    let steps = header.scenario["step"].as_array_mut().unwrap();
    let off = steps.iter_mut().find(|s| s["do"] == "power-off").unwrap();
    off["at_ms"] = 8000.into();
    let report = replay::replay(&header, &records, None).unwrap();
    let d = report.divergence.clone().expect("the replay must diverge");
    let replayed = d.replayed.clone().unwrap();
    assert_eq!(replayed.t_ns, 8000 * MS, "{}", report.render());
    assert!(matches!(&replayed.event, Event::Step { step } if step["do"] == "power-off"), "{}", report.render());
    assert_eq!(d.context.len(), 3);
    assert!(records[..d.index].iter().all(|r| r.t_ns <= 8000 * MS));
    // On the command line: exit status 1, both records and the context.
    let changed = dir.join("changed.trace.jsonl");
    let mut file = std::fs::File::create(&changed).unwrap();
    fover_traces::io::write_trace(&mut file, &header, &records).unwrap();
    let (status, text) = fover(&["replay", changed.to_str().unwrap()]);
    assert_eq!(status, 1, "{text}");
    for want in ["DIVERGED", &format!("first divergence at record {}", d.index), "both agree before it", "trace  #"] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn tampered_record_is_the_first_divergence() {
    let dir = tmp_dir("replay-tampered");
    let path = dir.join("power.trace.jsonl");
    write_trace(&path, &power_off_among_noise());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // The second boot record (the secondary's), whose clock reading a code change could alter.
    let line =
        lines.iter().enumerate().filter(|(_, l)| l.contains("\"kind\":\"boot\"")).nth(1).map(|(i, _)| i).unwrap();
    lines[line] = lines[line].replace("\"local_ns\":", "\"local_ns\":1");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let report = replay::replay_file(&path, None).unwrap();
    let d = report.divergence.as_ref().expect("the replay must diverge");
    // Line 1 is the header: record i is on line i + 2.
    assert_eq!(d.index, line - 1);
    let want = format!("record {} (line {} of the trace)", line - 1, line + 1);
    assert!(report.render().contains(&want), "{}", report.render());
}

#[test]
fn until_ns_compares_a_prefix_and_shows_both_units() {
    let dir = tmp_dir("replay-until");
    let path = dir.join("power.trace.jsonl");
    let outcome = write_trace(&path, &power_off_among_noise());
    let until = 12_000 * MS;
    let report = replay::replay_file(&path, Some(until)).unwrap();
    assert!(report.identical(), "{}", report.render());
    assert_eq!(report.compared, outcome.records.iter().take_while(|r| r.t_ns <= until).count());
    assert_eq!(report.shows.len(), 2);
    assert!(report.shows.iter().all(|s| s.t_ns == until));
    // The primary has been off since 9 s; the secondary is up.
    assert!(report.shows[0].output.contains("powered off"), "{}", report.shows[0].output);
    assert!(report.shows[1].output.contains("Failover"), "{}", report.shows[1].output);
    let (status, text) = fover(&["replay", path.to_str().unwrap(), "--until-ns", "12000000000"]);
    assert_eq!(status, 0, "{text}");
    assert!(text.contains("show failover on the primary at 12.000s"), "{text}");
    assert!(text.contains("show failover on the secondary at 12.000s"), "{text}");
}

#[test]
fn planted_bug_in_the_header_is_replayed_with_the_bug() {
    let dir = tmp_dir("replay-planted");
    let path = dir.join("planted.trace.jsonl");
    let mut scenario = power_off_among_noise();
    scenario.planted_bug = Some(PlantedBug::HoldTimerTooShort);
    write_trace(&path, &scenario);
    let (header, _) = read_file(&path).unwrap();
    assert_eq!(header.planted_bug.as_deref(), Some("hold-timer-too-short"));
    let report = replay::replay_file(&path, None).unwrap();
    assert_eq!(report.planted_bug, Some(PlantedBug::HoldTimerTooShort));
    assert!(report.identical(), "{}", report.render());
    assert!(report.render().contains("planted bug hold-timer-too-short"));
}

#[test]
fn bad_headers_give_clear_errors() {
    let dir = tmp_dir("replay-bad-header");
    let path = dir.join("power.trace.jsonl");
    write_trace(&path, &power_off_among_noise());
    let (header, records) = read_file(&path).unwrap();

    let mut h = header.clone();
    h.planted_bug = Some("gremlins".into());
    let err = replay::replay(&h, &records, None).unwrap_err();
    assert!(matches!(err, ReplayError::UnknownBug { .. }), "{err}");
    assert!(err.to_string().contains("hold-timer-too-short"), "the known bugs are listed: {err}");

    let mut h = header.clone();
    h.engine = "warp".into();
    assert!(matches!(replay::replay(&h, &records, None), Err(ReplayError::UnknownEngine(_))));

    let mut h = header.clone();
    h.scenario["step"][0]["unit"] = "tertiary".into();
    let err = replay::replay(&h, &records, None).unwrap_err();
    assert!(matches!(err, ReplayError::Scenario(_)), "{err}");

    let mut h = header;
    h.engine = "madsim".into();
    let r = replay::replay(&h, &records, None);
    if cfg!(madsim) {
        assert!(r.is_ok());
    } else {
        let err = r.unwrap_err();
        assert!(matches!(err, ReplayError::EngineUnavailable), "{err}");
        assert!(err.to_string().contains("cargo sim replay"), "{err}");
    }
}

#[test]
fn unreadable_trace_names_file_and_line() {
    let dir = tmp_dir("replay-unreadable");
    let path = dir.join("cut.trace.jsonl");
    write_trace(&path, &power_off_among_noise());
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 30]).unwrap();
    let lines = text.lines().count();
    let (status, out) = fover(&["replay", path.to_str().unwrap()]);
    assert_eq!(status, 2, "{out}");
    assert!(out.contains(&format!("cut.trace.jsonl: line {lines}: the last line is truncated")), "{out}");
}
