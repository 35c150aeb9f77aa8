//! The shape the code keeps (issue 19, docs/ARCHITECTURE.md): rooms small
//! enough to read. A source file of the protocol or the harness over
//! [`LINES_MAX`] lines, or a `Unit` with more than [`UNIT_PUB_METHODS_MAX`]
//! public methods, is a sign to split by concern; this test makes the sign
//! visible in review instead of letting it grow unnoticed.

use std::path::{Path, PathBuf};

const LINES_MAX: usize = 800;
const UNIT_PUB_METHODS_MAX: usize = 25;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root");
    let mut files = Vec::new();
    for crate_src in ["protocol/src", "sim/src"] {
        rust_files(&root.join(crate_src), &mut files);
    }
    assert!(files.len() > 20, "found only {} source files: wrong folder?", files.len());
    files
}

#[test]
fn no_source_file_of_the_protocol_or_the_harness_is_over_the_limit() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter_map(|p| {
            let lines = std::fs::read_to_string(&p).expect("a readable source file").lines().count();
            (lines > LINES_MAX).then(|| format!("{} ({lines} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {LINES_MAX} lines, split by concern: {long:?}");
}

/// Counts `pub fn` at the first level of every `impl Unit {` block of the
/// protocol crate (methods of views and sub-machines are theirs, not Unit's).
fn unit_pub_methods() -> Vec<String> {
    let mut names = Vec::new();
    for path in sources().into_iter().filter(|p| p.to_string_lossy().contains("protocol/src")) {
        let text = std::fs::read_to_string(&path).expect("a readable source file");
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("impl Unit {") {
                inside = true;
            } else if inside && line.starts_with('}') {
                inside = false;
            } else if inside && let Some(rest) = line.strip_prefix("    pub fn ") {
                let name = rest.split(['(', '<']).next().unwrap_or(rest);
                names.push(format!("{}: {name}", path.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    names
}

#[test]
fn unit_has_few_public_methods() {
    let names = unit_pub_methods();
    assert!(names.len() >= 10, "found only {} public methods of Unit: has the layout changed? {names:?}", names.len());
    assert!(
        names.len() <= UNIT_PUB_METHODS_MAX,
        "Unit has {} public methods (at most {UNIT_PUB_METHODS_MAX}): group read-only accessors into views: {names:?}",
        names.len()
    );
}
