//! Bad scenario files: every error names the file, the line and the key at
//! fault, and `fover scenario` runs nothing when any file it was given is bad.

use fover_sim::scenario::{Scenario, ScenarioError};
use std::path::PathBuf;
use std::process::Command;

const HEAD: &str = "name = \"test: bad file (for the reader)\"\nduration_ms = 5000\n";

/// The error for `HEAD` followed by `body` (the body starts on line 3).
fn error(body: &str) -> ScenarioError {
    let text = format!("{HEAD}{body}");
    match Scenario::from_toml("bad.toml", &text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts that the error points at `line` and that its text has every `part`.
#[track_caller]
fn assert_error(e: &ScenarioError, line: usize, parts: &[&str]) {
    let text = e.to_string();
    assert!(text.starts_with(&format!("bad.toml:{line}:")), "expected bad.toml:{line}: ..., got: {text}");
    assert_eq!(e.line(), Some(line), "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in: {text}");
    }
}

#[test]
fn scenario_files_unknown_top_level_key_is_named_with_its_line() {
    let e = error("colour = \"red\"\n");
    assert_error(&e, 3, &["unknown key `colour`", "`duration_ms`", "`step`"]);
}

#[test]
fn scenario_files_unknown_step_key_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"primary\"\ncolour = \"red\"\n");
    assert_error(&e, 8, &["step 1", "do = \"boot\"", "unknown key `colour`", "`at_ms`, `unit`"]);
}

#[test]
fn scenario_files_unknown_expect_key_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\ngrop = 1\n");
    assert_error(&e, 7, &["unknown key `grop`", "`group`"]);
}

#[test]
fn scenario_files_bad_unit_name_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"tertiary\"\n");
    assert_error(&e, 7, &["step 1", "`unit`", "\"tertiary\"".trim_matches('"'), "`primary` or `secondary`"]);
}

#[test]
fn scenario_files_negative_time_is_refused_with_key_and_line() {
    let e = error("\n[[step]]\nat_ms = -5\ndo = \"boot\"\nunit = \"primary\"\n");
    assert_error(&e, 5, &["`at_ms`", "milliseconds, 0 or more", "got -5"]);
}

#[test]
fn scenario_files_fractional_time_is_refused_with_key_and_line() {
    let e = error("\n[[step]]\ndo = \"boot\"\nunit = \"primary\"\nat_ms = 1.5\n");
    assert_error(&e, 7, &["`at_ms`", "1.5", "not a whole number"]);
}

#[test]
fn scenario_files_time_as_text_is_refused_with_key_and_line() {
    let e = error("\n[[step]]\nat_ms = \"soon\"\ndo = \"boot\"\nunit = \"primary\"\n");
    assert_error(&e, 5, &["`at_ms`", "\"soon\"", "string"]);
}

#[test]
fn scenario_files_time_after_the_end_is_refused_with_key_and_line() {
    let e = error(
        "\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"primary\"\n\n[[step]]\nat_ms = 9000\ndo = \"boot\"\nunit = \"secondary\"\n",
    );
    assert!(matches!(e, ScenarioError::Invalid { .. }), "{e}");
    assert_error(&e, 10, &["step 2", "`at_ms`", "9000", "duration_ms = 5000"]);
}

#[test]
fn scenario_files_until_before_at_is_refused_with_key_and_line() {
    let e = error("\n[[step]]\nat_ms = 3000\ndo = \"loss\"\nlink = \"failover\"\nprobability = 0.5\nuntil_ms = 1000\n");
    assert_error(&e, 9, &["`until_ms`", "1000 is before at_ms = 3000"]);
}

#[test]
fn scenario_files_unknown_step_kind_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"explode\"\nunit = \"primary\"\n");
    assert_error(&e, 6, &["step 1", "`do`", "unknown step kind \"explode\"", "boot", "interface-silent", "expect"]);
}

#[test]
fn scenario_files_missing_step_kind_is_reported_at_the_step() {
    let e = error("\n[[step]]\nat_ms = 0\nunit = \"primary\"\n");
    assert_error(&e, 4, &["step 1", "missing key `do`"]);
}

#[test]
fn scenario_files_missing_step_key_is_reported_at_the_step() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"interface-down\"\nunit = \"primary\"\n");
    assert_error(&e, 4, &["step 1", "do = \"interface-down\"", "missing key `interface`"]);
}

#[test]
fn scenario_files_bad_link_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"cut\"\nlink = \"fail-over\"\n");
    assert_error(&e, 7, &["`link`", "\"fail-over\"", "\"data:context/interface\""]);
}

#[test]
fn scenario_files_data_link_to_an_unknown_interface_is_refused() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"cut\"\nlink = \"data:admin/dmz\"\n");
    assert_error(&e, 7, &["`link`", "no interface \"admin/dmz\"", "admin/inside"]);
}

#[test]
fn scenario_files_bad_interface_name_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"interface-down\"\nunit = \"primary\"\ninterface = \"admin/dmz\"\n");
    assert!(matches!(e, ScenarioError::Invalid { .. }), "{e}");
    assert_error(&e, 8, &["`interface`", "no interface \"admin/dmz\"", "admin/inside, admin/outside, ctx2/inside"]);
}

#[test]
fn scenario_files_bad_state_name_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\ngroup = 1\n\nstate = { primary = \"Actve\" }\n");
    assert_error(&e, 9, &["`state`", "unknown group state \"Actve\"", "Standby Ready"]);
}

#[test]
fn scenario_files_bad_active_value_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\ngroup = 1\nactive = \"left\"\n");
    assert_error(&e, 8, &["`active`", "left", "`both`"]);
}

#[test]
fn scenario_files_expect_state_without_group_is_refused() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\nstate = { primary = \"Active\" }\n");
    assert_error(&e, 7, &["`state`", "needs `group`"]);
}

#[test]
fn scenario_files_bad_message_kind_is_named_with_its_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"drop\"\nlink = \"failover\"\nkind = \"helo\"\n");
    assert_error(&e, 8, &["`kind`", "unknown message kind \"helo\"", "hello"]);
}

#[test]
fn scenario_files_bad_top_level_value_names_its_key() {
    let e = error("seed = -1\n");
    assert_error(&e, 3, &["`seed`"]);
}

#[test]
fn scenario_files_unknown_pair_key_is_named_with_its_line() {
    let e = error("\n[pair]\nunit_polltime_ms = 200\nunit_holdtim_ms = 800\n");
    assert_error(&e, 6, &["unknown key `unit_holdtim_ms`", "`unit_holdtime_ms`"]);
}

#[test]
fn scenario_files_bad_group_setting_points_at_its_group() {
    let e = error("\n[[group]]\nid = 2\npreferred = \"secondary\"\npreempt_ms = 1500\n");
    assert!(matches!(e, ScenarioError::Invalid { .. }), "{e}");
    assert_error(&e, 4, &["group 2", "preempt_ms = 1500", "whole seconds"]);
}

#[test]
fn scenario_files_bad_timers_are_reported() {
    let e = error("\n[pair]\nunit_polltime_ms = 500\nunit_holdtime_ms = 800\n");
    let text = e.to_string();
    assert!(text.starts_with("bad.toml:4:"), "{text}");
    assert!(text.contains("holdtime"), "{text}");
}

#[test]
fn scenario_files_syntax_error_names_the_line() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"boot\nunit = \"primary\"\n");
    assert!(matches!(e, ScenarioError::Parse { .. }), "{e}");
    assert_eq!(e.line(), Some(6), "{e}");
}

#[test]
fn scenario_files_error_in_a_later_step_names_that_step() {
    let mut body = String::new();
    for i in 0..5 {
        body.push_str(&format!("\n[[step]]\nat_ms = {}\ndo = \"boot\"\nunit = \"primary\"\n", i * 100));
    }
    body.push_str("\n[[step]]\nat_ms = 600\ndo = \"clock-step\"\nunit = \"primary\"\nms = \"ten\"\n");
    let e = error(&body);
    assert_error(&e, 3 + 5 * 5 + 5, &["step 6", "do = \"clock-step\"", "`ms`", "\"ten\""]);
}

fn fover() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fover"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fover-scenario-files-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const GOOD: &str = "name = \"boot: peer absent (good file)\"\nduration_ms = 3000\n\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"primary\"\n\n[[step]]\nat_ms = 2000\ndo = \"expect\"\ngroup = 1\nactive = \"primary\"\n";

const BAD: &str =
    "name = \"boot: bad file\"\nduration_ms = 3000\n\n[[step]]\nat_ms = 0\ndo = \"boot\"\nunit = \"tertiary\"\n";

#[test]
fn scenario_files_a_bad_file_stops_the_run_before_anything_runs() {
    let dir = temp_dir("cli");
    let (good, bad) = (dir.join("good.toml"), dir.join("bad.toml"));
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();

    let ok = fover().arg("scenario").arg(&good).output().unwrap();
    assert!(ok.status.success(), "the good file alone passes: {}", String::from_utf8_lossy(&ok.stdout));

    let out = fover().arg("scenario").arg(&good).arg(&bad).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "exit status {:?}", out.status);
    assert!(!stdout.contains("=="), "nothing may run before the files are read: {stdout}");
    assert!(stdout.trim().is_empty(), "{stdout}");
    let where_ = format!("{}:7:8:", bad.display());
    assert!(stderr.contains(&where_), "expected {where_} in: {stderr}");
    assert!(stderr.contains("`unit`") && stderr.contains("tertiary"), "{stderr}");

    // The same when the files come from a folder.
    let out = fover().arg("scenario").arg(&dir).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn scenario_files_traffic_unknown_key_is_named_with_its_line() {
    let e = error("\n[traffic]\nops_per_s = 5.0\nrate = 3\n");
    assert_error(&e, 6, &["unknown key `rate`", "`ops_per_s`", "`open_max`"]);
}

#[test]
fn scenario_files_traffic_rate_out_of_range_is_refused() {
    let e = error("\n[traffic]\nops_per_s = 0.0\n");
    assert_error(&e, 4, &["`traffic.ops_per_s`", "is not more than 0"]);
}

#[test]
fn scenario_files_connections_survived_needs_a_context() {
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\nconnections_survived = true\n");
    assert_error(&e, 7, &["step 1", "`connections_survived`", "needs `context`"]);
}

#[test]
fn scenario_files_config_expectations_accept_the_system_space() {
    let text = format!(
        "{HEAD}\n[[step]]\nat_ms = 0\ndo = \"expect\"\nconfig_has = \"hostname fover\"\ncontext = \"system\"\n"
    );
    Scenario::from_toml("ok.toml", &text).expect("`context = \"system\"` names the system space");
    let e = error("\n[[step]]\nat_ms = 0\ndo = \"expect\"\nconnections_survived = true\ncontext = \"system\"\n");
    assert_error(&e, 8, &["step 1", "`context`", "no context \"system\""]);
}
