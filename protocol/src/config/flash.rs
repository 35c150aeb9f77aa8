//! A unit's flash: the startup config of each space, a small file system and
//! the license store. It survives power cycles: it is a plain value that the
//! harness keeps across reboots, and [`Flash::boot`] turns it into the running
//! config a unit starts with.
//!
//! * `write memory` saves the running config of the current space;
//!   `write memory all` (system space only) saves the system space and every
//!   context, and drops the startup config of contexts that no longer exist;
//!   `copy running-config startup-config` is `write memory`; `write erase`
//!   erases the startup configs.
//! * `delete`, `rename`, `mkdir`, `rmdir` work on the file system (paths with
//!   or without `disk0:`/`flash:`), which is separate from the startup configs.
//! * The license store holds one activation key, verified for this unit's
//!   serial number before it is stored; without one the unit runs
//!   [`License::BASE`].
//! * [`Flash::erase`] is ROMMON `ERASE`: startup configs, files and the
//!   activation key are all lost.
//!
//! A save that would not fit the flash fails with [`FlashError::NoSpace`]
//! (the same check as a sync to a smaller flash, [`check_flash_fits`]) and
//! changes nothing.
//!
//! ```
//! use fover_protocol::config::flash::Flash;
//! use fover_protocol::config::running::RunningConfig;
//! use fover_protocol::types::Space;
//!
//! let mut running = RunningConfig::new();
//! running.apply(&Space::System, "hostname fw1").unwrap();
//! let mut flash = Flash::new(64 << 20);
//! flash.write_memory(&running, &Space::System).unwrap();
//! running.apply(&Space::System, "hostname not-saved").unwrap();
//! // Power cycle: the harness keeps `flash`, the unit rebuilds its running config from it.
//! let after_reboot = flash.boot().unwrap();
//! assert_eq!(after_reboot.render(&Space::System).unwrap(), "hostname fw1\n");
//! ```

use crate::config::license::{self, ActivationKey, License, LicenseError, check_flash_fits};
use crate::config::replication::{CommandKind, canonical_words, command_kind};
use crate::config::running::{ParseError, RunningConfig};
use crate::types::Space;
use std::collections::{BTreeMap, BTreeSet};

/// Why a flash operation failed. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlashError {
    #[error("flash too small: {needed} bytes needed, {available} bytes of flash")]
    NoSpace { needed: u64, available: u64 },
    #[error("{space} does not exist in the running config")]
    NoSuchSpace { space: Space },
    #[error("`write memory all` saves every context and is entered in the system space")]
    AllOutsideSystem,
    #[error("{path}: no such file or directory")]
    NotFound { path: String },
    #[error("{path}: already exists")]
    AlreadyExists { path: String },
    #[error("{path}: is a directory (use rmdir)")]
    IsADirectory { path: String },
    #[error("{path}: is not a directory")]
    NotADirectory { path: String },
    #[error("{path}: directory not empty")]
    DirectoryNotEmpty { path: String },
    #[error("invalid path {path:?}: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error("{line:?}: expected {expected}")]
    Syntax { line: String, expected: &'static str },
}

/// A replicated file command (see [`CommandKind::File`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FileCommand {
    /// `write memory` (`all`: `write memory all`); also plain `write`.
    WriteMemory {
        all: bool,
    },
    /// `copy running-config startup-config`.
    CopyRunningStartup,
    /// `write erase`.
    WriteErase,
    Delete {
        path: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Mkdir {
        path: String,
    },
    Rmdir {
        path: String,
    },
}

impl FileCommand {
    /// Parses a file command; `Ok(None)` when `line` is not one.
    pub fn parse(line: &str) -> Result<Option<FileCommand>, FlashError> {
        if command_kind(line) != CommandKind::File {
            return Ok(None);
        }
        let words = canonical_words(line);
        // Options such as /noconfirm and /recursive change nothing here.
        let w: Vec<&str> = words.iter().map(String::as_str).filter(|w| !FILE_OPTIONS.contains(w)).collect();
        let syntax = |expected| FlashError::Syntax { line: line.trim().to_owned(), expected };
        let cmd = match w.as_slice() {
            ["write"] | ["write", "memory"] => FileCommand::WriteMemory { all: false },
            ["write", "memory", "all"] => FileCommand::WriteMemory { all: true },
            ["write", "memory", ..] => return Err(syntax("`write memory [all]`")),
            ["write", "erase"] => FileCommand::WriteErase,
            ["copy", "running-config", "startup-config"] => FileCommand::CopyRunningStartup,
            ["delete", path] => FileCommand::Delete { path: (*path).to_owned() },
            ["rename", from, to] => FileCommand::Rename { from: (*from).to_owned(), to: (*to).to_owned() },
            ["mkdir", path] => FileCommand::Mkdir { path: (*path).to_owned() },
            ["rmdir", path] => FileCommand::Rmdir { path: (*path).to_owned() },
            ["delete", ..] => return Err(syntax("`delete [/noconfirm] PATH`")),
            ["rename", ..] => return Err(syntax("`rename FROM TO`")),
            ["mkdir", ..] => return Err(syntax("`mkdir PATH`")),
            ["rmdir", ..] => return Err(syntax("`rmdir PATH`")),
            _ => return Err(syntax("a file command")),
        };
        Ok(Some(cmd))
    }
}

/// Options of the file commands, which the model accepts and ignores.
const FILE_OPTIONS: &[&str] = &["/noconfirm", "/recursive", "/force"];

/// Normalises a flash path: an optional `disk0:` or `flash:` device, then
/// components separated by `/`; returns the components joined by `/`.
fn normalize(path: &str) -> Result<String, FlashError> {
    let bad = |reason| FlashError::BadPath { path: path.to_owned(), reason };
    let lower = path.to_ascii_lowercase();
    let rest = ["disk0:", "flash:"].iter().find_map(|d| lower.starts_with(d).then(|| &path[d.len()..])).unwrap_or(path);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return Err(bad("no file name"));
    }
    if parts.iter().any(|p| *p == "." || *p == ".." || p.contains(':') || !p.chars().all(|c| c.is_ascii_graphic())) {
        return Err(bad("components must be printable names other than `.` and `..`"));
    }
    Ok(parts.join("/"))
}

fn parent(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(p, _)| p)
}

/// One unit's flash. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flash {
    size_bytes: u64,
    /// Saved running config of each space, as rendered lines.
    startup: BTreeMap<Space, Vec<String>>,
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
    activation_key: Option<ActivationKey>,
}

fn lines_len(lines: &[String]) -> u64 {
    lines.iter().map(|l| l.len() as u64 + 1).sum()
}

fn saved_lines(running: &RunningConfig, space: &Space) -> Result<Vec<String>, FlashError> {
    let sc = running.space(space).ok_or_else(|| FlashError::NoSuchSpace { space: space.clone() })?;
    Ok(sc.lines().iter().map(|l| l.rendered()).collect())
}

/// [`check_flash_fits`], as a flash error.
fn fits(needed: u64, available: u64) -> Result<(), FlashError> {
    check_flash_fits(needed, available).map_err(|_| FlashError::NoSpace { needed, available })
}

impl Flash {
    /// An empty flash of `size_bytes`.
    pub fn new(size_bytes: u64) -> Flash {
        Flash {
            size_bytes,
            startup: BTreeMap::new(),
            files: BTreeMap::new(),
            dirs: BTreeSet::new(),
            activation_key: None,
        }
    }

    /// The flash's capacity.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// Bytes used by startup configs and files.
    pub fn used_bytes(&self) -> u64 {
        self.startup.values().map(|l| lines_len(l)).sum::<u64>()
            + self.files.values().map(|f| f.len() as u64).sum::<u64>()
    }

    /// The saved startup config of `space`, as rendered lines.
    pub fn startup(&self, space: &Space) -> Option<&[String]> {
        self.startup.get(space).map(Vec::as_slice)
    }

    /// The spaces with a saved startup config.
    pub fn startup_spaces(&self) -> impl Iterator<Item = &Space> {
        self.startup.keys()
    }

    /// Replaces the startup configs of `spaces` (all of them when `replace_all`) if the result fits.
    fn save(&mut self, new: BTreeMap<Space, Vec<String>>, replace_all: bool) -> Result<u64, FlashError> {
        let kept: u64 =
            self.startup.iter().filter(|(s, _)| !replace_all && !new.contains_key(*s)).map(|(_, l)| lines_len(l)).sum();
        let written: u64 = new.values().map(|l| lines_len(l)).sum();
        let files: u64 = self.files.values().map(|f| f.len() as u64).sum();
        fits(kept + written + files, self.size_bytes)?;
        if replace_all {
            self.startup.clear();
        }
        self.startup.extend(new);
        Ok(written)
    }

    /// `write memory` (and `copy running-config startup-config`) in `space`:
    /// saves that space's running config. Returns the bytes written.
    pub fn write_memory(&mut self, running: &RunningConfig, space: &Space) -> Result<u64, FlashError> {
        let lines = saved_lines(running, space)?;
        self.save(BTreeMap::from([(space.clone(), lines)]), false)
    }

    /// `write memory all` (system space): saves the system space and every
    /// context, and drops saved contexts that no longer exist.
    pub fn write_memory_all(&mut self, running: &RunningConfig) -> Result<u64, FlashError> {
        let mut new = BTreeMap::new();
        for space in running.spaces() {
            let lines = saved_lines(running, &space)?;
            new.insert(space, lines);
        }
        self.save(new, true)
    }

    /// `write erase`: erases every startup config (files and the license stay).
    pub fn write_erase(&mut self) {
        self.startup.clear();
    }

    /// A file's contents.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        normalize(path).ok().and_then(|p| self.files.get(&p)).map(Vec::as_slice)
    }

    /// Every file path, in order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Whether `path` is a directory.
    pub fn is_dir(&self, path: &str) -> bool {
        normalize(path).is_ok_and(|p| self.dirs.contains(&p))
    }

    fn check_parent(&self, path: &str) -> Result<(), FlashError> {
        match parent(path) {
            Some(p) if !self.dirs.contains(p) => Err(FlashError::NotFound { path: p.to_owned() }),
            _ => Ok(()),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path) || self.dirs.contains(path)
    }

    /// Writes a file (a sync of the file system, a `copy` to flash), replacing any file there.
    pub fn write_file(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), FlashError> {
        let p = normalize(path)?;
        if self.dirs.contains(&p) {
            return Err(FlashError::IsADirectory { path: p });
        }
        self.check_parent(&p)?;
        let old = self.files.get(&p).map_or(0, |f| f.len() as u64);
        fits(self.used_bytes() - old + bytes.len() as u64, self.size_bytes)?;
        self.files.insert(p, bytes);
        Ok(())
    }

    /// `delete PATH`.
    pub fn delete(&mut self, path: &str) -> Result<(), FlashError> {
        let p = normalize(path)?;
        if self.dirs.contains(&p) {
            return Err(FlashError::IsADirectory { path: p });
        }
        self.files.remove(&p).map(|_| ()).ok_or(FlashError::NotFound { path: p })
    }

    /// `rename FROM TO` (a file, or a directory with everything under it).
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), FlashError> {
        let (from, to) = (normalize(from)?, normalize(to)?);
        if !self.exists(&from) {
            return Err(FlashError::NotFound { path: from });
        }
        if self.exists(&to) {
            return Err(FlashError::AlreadyExists { path: to });
        }
        self.check_parent(&to)?;
        if self.dirs.contains(&from) && format!("{to}/").starts_with(&format!("{from}/")) {
            return Err(FlashError::BadPath { path: to, reason: "a directory cannot move into itself" });
        }
        let moved = |p: &str| -> Option<String> {
            if p == from {
                Some(to.clone())
            } else {
                p.strip_prefix(&(from.clone() + "/")).map(|rest| format!("{to}/{rest}"))
            }
        };
        self.files = core::mem::take(&mut self.files).into_iter().map(|(p, f)| (moved(&p).unwrap_or(p), f)).collect();
        self.dirs = core::mem::take(&mut self.dirs).into_iter().map(|p| moved(&p).unwrap_or(p)).collect();
        Ok(())
    }

    /// `mkdir PATH`.
    pub fn mkdir(&mut self, path: &str) -> Result<(), FlashError> {
        let p = normalize(path)?;
        if self.exists(&p) {
            return Err(FlashError::AlreadyExists { path: p });
        }
        self.check_parent(&p)?;
        self.dirs.insert(p);
        Ok(())
    }

    /// `rmdir PATH` (the directory must be empty).
    pub fn rmdir(&mut self, path: &str) -> Result<(), FlashError> {
        let p = normalize(path)?;
        if self.files.contains_key(&p) {
            return Err(FlashError::NotADirectory { path: p });
        }
        if !self.dirs.contains(&p) {
            return Err(FlashError::NotFound { path: p });
        }
        let prefix = p.clone() + "/";
        if self.files.keys().chain(self.dirs.iter()).any(|q| q.starts_with(&prefix)) {
            return Err(FlashError::DirectoryNotEmpty { path: p });
        }
        self.dirs.remove(&p);
        Ok(())
    }

    /// Runs a file command entered in `space` against `running`.
    pub fn execute(&mut self, command: &FileCommand, running: &RunningConfig, space: &Space) -> Result<(), FlashError> {
        match command {
            FileCommand::WriteMemory { all: true } if *space != Space::System => Err(FlashError::AllOutsideSystem),
            FileCommand::WriteMemory { all: true } => self.write_memory_all(running).map(|_| ()),
            FileCommand::WriteMemory { all: false } | FileCommand::CopyRunningStartup => {
                self.write_memory(running, space).map(|_| ())
            }
            FileCommand::WriteErase => {
                self.write_erase();
                Ok(())
            }
            FileCommand::Delete { path } => self.delete(path),
            FileCommand::Rename { from, to } => self.rename(from, to),
            FileCommand::Mkdir { path } => self.mkdir(path),
            FileCommand::Rmdir { path } => self.rmdir(path),
        }
    }

    /// A new unit's flash: empty but for the activation key of the license it
    /// was delivered with, bound to its serial number.
    pub fn factory(size_bytes: u64, serial: &str, license: &License) -> Flash {
        let mut flash = Flash::new(size_bytes);
        flash.activation_key = Some(license::generate_key(serial, license));
        flash
    }

    /// `activation-key ...`: verifies the key for this unit's `serial` and, if
    /// valid, stores it (replacing the previous one). Returns the new license.
    pub fn install_activation_key(&mut self, serial: &str, text: &str) -> Result<License, LicenseError> {
        let key = ActivationKey::parse(text)?;
        let license = license::verify(serial, &key)?;
        self.activation_key = Some(key);
        Ok(license)
    }

    /// The stored activation key, if any.
    pub fn activation_key(&self) -> Option<ActivationKey> {
        self.activation_key
    }

    /// The license the unit with `serial` runs: its stored key's, or the base
    /// (Restricted) license when there is none or it does not verify (a flash
    /// moved to another unit).
    pub fn license(&self, serial: &str) -> License {
        self.activation_key.and_then(|k| license::verify(serial, &k).ok()).unwrap_or(License::BASE)
    }

    /// ROMMON `ERASE`: loses the startup configs, every file and the activation key.
    pub fn erase(&mut self) {
        *self = Flash::new(self.size_bytes);
    }

    /// The running config a unit boots with: the system startup config, then the
    /// startup config of each context it declares (others are ignored; a declared
    /// context with none starts empty). An empty flash gives an empty config.
    pub fn boot(&self) -> Result<RunningConfig, ParseError> {
        let mut running = RunningConfig::new();
        let text = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        if let Some(system) = self.startup.get(&Space::System) {
            running.load(&Space::System, &text(system))?;
        }
        for (space, lines) in &self.startup {
            if let Space::Context(name) = space {
                if running.contexts().contains_key(name) {
                    running.load(space, &text(lines))?;
                }
            }
        }
        Ok(running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_devices_and_slashes() {
        assert_eq!(normalize("disk0:/a/b.cfg"), Ok("a/b.cfg".into()));
        assert_eq!(normalize("flash:a//b.cfg"), Ok("a/b.cfg".into()));
        assert_eq!(normalize("/x"), Ok("x".into()));
        assert!(normalize("disk0:/").is_err());
        assert!(normalize("a/../b").is_err());
    }

    #[test]
    fn file_commands_parse_with_options_and_abbreviations() {
        assert_eq!(FileCommand::parse("wr mem all"), Ok(Some(FileCommand::WriteMemory { all: true })));
        assert_eq!(FileCommand::parse("write"), Ok(Some(FileCommand::WriteMemory { all: false })));
        assert_eq!(FileCommand::parse("copy /noconfirm run start"), Ok(Some(FileCommand::CopyRunningStartup)));
        assert_eq!(
            FileCommand::parse("delete /noconfirm disk0:/old.cfg"),
            Ok(Some(FileCommand::Delete { path: "disk0:/old.cfg".into() }))
        );
        assert_eq!(FileCommand::parse("show flash"), Ok(None));
        assert!(matches!(FileCommand::parse("rename onlyone"), Err(FlashError::Syntax { .. })));
    }
}
