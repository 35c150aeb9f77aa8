//! Scenarios and helpers shared by the replay, shrink and trace-view tests.
//! Their failures come from the harness alone (a unit without power), not
//! from protocol behaviour, so they hold whatever the `Unit` does.

#![allow(dead_code)] // each test file uses its own part

use fover_sim::engine::{EngineKind, Outcome};
use fover_sim::scenario::Scenario;
use fover_sim::sweep;
use fover_sim::world::RecordLevel;
use std::path::{Path, PathBuf};

/// The primary loses power at 9 s among sixteen unrelated faults, commands
/// and shows; an expectation at 20 s wants it powered. Fails with
/// `scenario-expectation` at 20 000 ms.
pub const POWER_OFF_AMONG_NOISE: &str = r#"
name = "power: primary powered off among unrelated faults (expect it powered)"
duration_ms = 30000
seed = 7

[[step]]
do = "boot"
at_ms = 0
unit = "primary"

[[step]]
do = "boot"
at_ms = 300
unit = "secondary"

[[step]]
do = "expect"
at_ms = 2000
unit = "primary"
powered = true

[[step]]
do = "cut"
at_ms = 3000
link = "failover"

[[step]]
do = "heal"
at_ms = 4500
link = "failover"

[[step]]
do = "loss"
at_ms = 5000
link = "data:admin/inside"
probability = 0.5
until_ms = 9000

[[step]]
do = "delay"
at_ms = 6000
link = "all"
delay_ms = 30
jitter_ms = 10
until_ms = 12000

[[step]]
do = "duplicate"
at_ms = 7000
link = "failover"
probability = 0.5
until_ms = 8000

[[step]]
do = "reorder"
at_ms = 7500
link = "data:ctx2/outside"
probability = 0.3
until_ms = 11000

[[step]]
do = "corrupt"
at_ms = 8000
link = "failover"
direction = "primary->secondary"
probability = 0.2
until_ms = 9500

[[step]]
do = "power-off"
at_ms = 9000
unit = "primary"

[[step]]
do = "drop"
at_ms = 10000
link = "failover"
kind = "hello"
count = 3

[[step]]
do = "clock-step"
at_ms = 10500
unit = "secondary"
ms = 500

[[step]]
do = "clock-drift"
at_ms = 11000
unit = "secondary"
ppm = 200

[[step]]
do = "interface-down"
at_ms = 12000
unit = "secondary"
interface = "ctx2/inside"

[[step]]
do = "crash"
at_ms = 13000
unit = "secondary"
reboot_after_ms = 1500

[[step]]
do = "interface-up"
at_ms = 14000
unit = "secondary"
interface = "ctx2/inside"

[[step]]
do = "clock-drift"
at_ms = 15000
unit = "secondary"
ppm = 0

[[step]]
do = "command"
at_ms = 16000
unit = "secondary"
line = "failover active group 2"

[[step]]
do = "show"
at_ms = 17000
unit = "primary"
command = "show failover"

[[step]]
do = "cut"
at_ms = 18000
link = "data:admin/outside"
direction = "secondary->primary"

[[step]]
do = "heal"
at_ms = 19000
link = "data:admin/outside"
direction = "secondary->primary"

[[step]]
do = "expect"
at_ms = 20000
unit = "primary"
powered = true
"#;

pub fn power_off_among_noise() -> Scenario {
    Scenario::from_toml("POWER_OFF_AMONG_NOISE", POWER_OFF_AMONG_NOISE).unwrap()
}

/// A fresh, empty folder under the target directory.
pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a scenario with full recording and writes its trace.
pub fn write_trace(path: &Path, scenario: &Scenario) -> Outcome {
    let outcome = sweep::run_caught(EngineKind::Fast, scenario, RecordLevel::Full).unwrap();
    let header = sweep::trace_header(EngineKind::Fast, None, scenario, None);
    sweep::write_trace(path, &header, &outcome).unwrap();
    outcome
}

/// Runs the `fover` binary; returns its exit status and stdout + stderr.
pub fn fover(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fover")).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}
