//! The rooms of `fover-protocol` import downwards only: `unit/` uses the
//! vocabulary, the codec, the configuration and `show/`, and none of those
//! uses `unit/` back (see docs/ARCHITECTURE.md). Only the crate root and the
//! harnesses that drive a unit (`driver.rs`, `testing.rs`, `fuzzing.rs`) may
//! name it.

use std::path::{Path, PathBuf};

/// Files outside `unit/` that drive a unit and so may import it.
const DRIVERS: &[&str] = &["lib.rs", "driver.rs", "testing.rs", "fuzzing.rs"];

/// Paths that reach into the unit room from elsewhere.
const UNIT_PATHS: &[&str] = &["crate::unit", "super::unit", "crate::Unit", "fover_protocol::unit"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read protocol/src") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_room_outside_unit_imports_unit() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "protocol/src not found: {}", src.display());
    let mut offenders = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        if rel.starts_with("unit") || DRIVERS.iter().any(|d| rel == Path::new(d)) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue; // doc links name the unit without importing it
            }
            let grouped = code.contains("crate::{")
                && code.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == "unit");
            if grouped || UNIT_PATHS.iter().any(|p| code.contains(p)) {
                offenders.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "these rooms import `unit` (an import cycle):\n{}", offenders.join("\n"));
}

/// The rooms in import order: each may import only the rooms before it
/// (docs/ARCHITECTURE.md). The crate root and the harnesses that drive a
/// unit (`DRIVERS`) come after them all.
const ROOMS: &[&str] = &[
    "types",
    "constants",
    "time",
    "rng",
    "planted",
    "clock",
    "wire",
    "channel",
    "config",
    "connections",
    "show",
    "unit",
];

#[test]
fn rooms_import_downwards_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut offenders = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a path").as_os_str().to_string_lossy();
        let room = first.trim_end_matches(".rs");
        let Some(rank) = ROOMS.iter().position(|r| *r == room) else { continue };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue; // doc links do not import
            }
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                match ROOMS.iter().position(|r| *r == name) {
                    Some(other) if other > rank => {
                        offenders.push(format!("{}:{}: {room} imports {name}: {}", rel.display(), n + 1, line.trim()))
                    }
                    None if code.contains("crate::{") => {
                        offenders.push(format!("{}:{}: a grouped crate import hides its rooms", rel.display(), n + 1))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} files belong to a room: has the layout changed?");
    assert!(offenders.is_empty(), "rooms must import downwards only (ROOMS):\n{}", offenders.join("\n"));
}
