//! Replays every committed fuzz seed (`fuzz/seeds/<target>/*`) through the
//! same checks the fuzz targets run, so the corpora, and any crash reproducer
//! committed with them, are ordinary tests on stable. Regenerate the seeds
//! with `cargo run -p fover-protocol --example fuzz_seeds`.

use fover_protocol::fuzzing;
use fover_protocol::wire;
use fover_protocol::wire::auth::Session;
use std::path::{Path, PathBuf};

const TARGETS: &[&str] = &["canary", "decode", "open", "roundtrip"];

fn seeds_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("fuzz").join("seeds")
}

/// Every file of `fuzz/seeds/<target>/`, sorted; fails if the folder is missing or empty.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = seeds_root().join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{} has no seeds", dir.display());
    out
}

#[test]
fn fuzz_seed_folders_are_the_targets() {
    let mut found: Vec<String> = std::fs::read_dir(seeds_root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // `trace_read` belongs to the trace reader: `traces/tests/read.rs` replays it.
    found.retain(|f| f != "trace_read");
    found.sort();
    assert_eq!(found, TARGETS, "every seed folder is a fuzz target this test replays");
}

#[test]
fn fuzz_seeds_decode() {
    for (name, bytes) in seeds("decode") {
        fuzzing::decode_canonical(&bytes);
        let verdict = wire::decode(&bytes);
        if name.starts_with("valid-") {
            assert!(verdict.is_ok(), "decode/{name} no longer decodes ({verdict:?}): regenerate the seeds");
        } else if name.starts_with("bad-") {
            assert!(verdict.is_err(), "decode/{name} is accepted");
        }
    }
}

#[test]
fn fuzz_seeds_roundtrip() {
    for (_, bytes) in seeds("roundtrip") {
        fuzzing::roundtrip(&bytes);
    }
}

#[test]
fn fuzz_seeds_open() {
    let key = fuzzing::fuzz_key();
    for (name, bytes) in seeds("open") {
        fuzzing::open_any(&bytes);
        let role = fuzzing::RECEIVER_ROLE;
        let keyed = Session::new(role, fuzzing::RECEIVER_BOOT, Some(&key)).open(&bytes);
        let unkeyed = Session::new(role, fuzzing::RECEIVER_BOOT, None).open(&bytes);
        if name.starts_with("valid-sealed-") {
            assert!(keyed.is_ok(), "open/{name} no longer opens ({keyed:?}): regenerate the seeds");
        } else if name.starts_with("valid-crc-") {
            assert!(unkeyed.is_ok(), "open/{name} no longer opens ({unkeyed:?}): regenerate the seeds");
        } else if name.starts_with("bad-") {
            assert!(keyed.is_err() && unkeyed.is_err(), "open/{name} is accepted");
        }
    }
}

#[test]
fn fuzz_seeds_canary_fires_only_when_armed() {
    let mut fired = 0;
    for (name, bytes) in seeds("canary") {
        fuzzing::canary(&bytes, false);
        if std::panic::catch_unwind(|| fuzzing::canary(&bytes, true)).is_err() {
            assert_eq!(bytes, fuzzing::CANARY_TRIGGER, "canary/{name} fired");
            fired += 1;
        }
    }
    assert_eq!(fired, 1, "exactly one canary seed is the trigger");
}

/// Every seed, whatever its folder, goes through every check: none may panic.
#[test]
fn fuzz_every_seed_through_every_check() {
    for target in TARGETS {
        for (_, bytes) in seeds(target) {
            fuzzing::decode_canonical(&bytes);
            fuzzing::roundtrip(&bytes);
            fuzzing::open_any(&bytes);
            fuzzing::canary(&bytes, false);
        }
    }
}
