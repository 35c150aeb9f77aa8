//! Golden outputs of every `show` command, on both units of a two-group,
//! three-context pair (admin and ctx1 in group 1, ctx2 in group 2, two
//! interfaces each) run to a steady state; plus `show failover` and `show
//! failover state` in the other sample states (a group Failed, the peer down,
//! both groups on the primary). The pair and the samples are those of the
//! `show_samples` example.
//!
//! A change of output fails with a line diff. After checking the diff is
//! intended, rewrite the goldens with
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test -p fover-protocol --test show_golden
//! ```

#[path = "../examples/show_samples.rs"]
mod show_samples;

use fover_protocol::Instant;
use fover_protocol::show::{SHOW_COMMANDS, ShowError};
use fover_protocol::types::Role;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/show")
}

/// A minimal line diff: each differing line, expected then actual.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            if let Some(x) = x {
                out.push_str(&format!("{:>4} - {x}\n", i + 1));
            }
            if let Some(y) = y {
                out.push_str(&format!("{:>4} + {y}\n", i + 1));
            }
        }
    }
    out
}

/// Compares `actual` with the golden file `name`, or rewrites it under `UPDATE_GOLDEN=1`.
/// Returns the problem, if any.
fn check_golden(name: &str, actual: &str) -> Option<String> {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("a golden has a folder")).expect("create the golden folder");
        std::fs::write(&path, actual).expect("write the golden");
        return None;
    }
    match std::fs::read_to_string(&path) {
        Err(e) => Some(format!("{}: {e} (UPDATE_GOLDEN=1 writes it)\n", path.display())),
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!("{} differs (- golden, + now):\n{}", path.display(), diff(&expected, actual))),
    }
}

fn assert_goldens(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} golden(s) differ; if intended: UPDATE_GOLDEN=1 cargo test -p fover-protocol --test show_golden\n\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn show_commands_steady_pair_both_units() {
    let pair = show_samples::steady();
    let mut problems = Vec::new();
    for role in [Role::Primary, Role::Secondary] {
        for (command, text) in show_samples::outputs(&pair, role) {
            let name = format!("steady/{}/{}.txt", role.as_lower(), show_samples::slug(command));
            problems.extend(check_golden(&name, &text));
        }
    }
    assert_goldens(problems);
}

#[test]
fn show_failover_other_pair_states() {
    let mut problems = Vec::new();
    for (sample, pair) in show_samples::samples().into_iter().filter(|(name, _)| *name != "steady") {
        for role in [Role::Primary, Role::Secondary] {
            if !pair.is_powered(role) {
                continue;
            }
            for (command, text) in show_samples::outputs(&pair, role) {
                if command == "show failover" || command == "show failover state" {
                    let name = format!("{sample}/{}/{}.txt", role.as_lower(), show_samples::slug(command));
                    problems.extend(check_golden(&name, &text));
                }
            }
        }
    }
    assert_goldens(problems);
}

#[test]
fn show_unknown_command_is_an_error_not_a_panic() {
    let pair = show_samples::steady();
    let unit = pair.unit(Role::Primary).expect("powered");
    let now = pair.local_now(Role::Primary);
    for line in
        ["", "show", "show failover bogus", "show running-config bogus", "failover active", "show failover group 3"]
    {
        let err = unit.show(now, line).expect_err(line);
        assert!(matches!(err, ShowError::Unknown { .. }), "{line:?}: {err:?}");
        assert!(err.to_string().contains("show failover history"), "the error lists the commands: {err}");
    }
}

#[test]
fn show_reads_the_unit_only() {
    // Every command succeeds, twice with the same output, and leaves the
    // unit's state digest unchanged; a clock reading earlier than the
    // unit's last input does not panic either.
    let pair = show_samples::steady();
    let unit = pair.unit(Role::Secondary).expect("powered");
    let before = unit.state_digest();
    let now = pair.local_now(Role::Secondary);
    for command in SHOW_COMMANDS {
        let first = unit.show(now, command).expect(command);
        assert_eq!(unit.show(now, command).expect(command), first, "{command}");
        unit.show(Instant::ZERO, command).expect(command);
    }
    assert_eq!(unit.state_digest(), before);
}

#[test]
fn show_failover_last_failover_time_is_the_units_clock_from_the_epoch() {
    // The primary's clock reads 1000 s at power-on (Pair's origin): group 1
    // went active at once, so 00:16:40 UTC on the epoch's day.
    let pair = show_samples::steady();
    let out = pair.unit(Role::Primary).expect("powered").show(pair.local_now(Role::Primary), "show failover").unwrap();
    assert!(out.contains("Group 1 last failover at: 00:16:40 UTC Jan 1 2026"), "{out}");
}
