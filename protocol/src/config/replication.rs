//! Which commands replicate to the mate, from which unit, and when
//! configuration commands are refused (PROTOCOL.md section 6).
//!
//! * [`command_kind`] sorts a command line by what it does: nothing to the
//!   configuration (`show`, `debug`, `terminal pager`, ...), a change that stays on
//!   this unit (`mode`, `firewall`, `failover lan unit`, `activation-key`), a full
//!   sync (`write standby`), a replicated file command (`write memory [all]`,
//!   `copy running-config startup-config`, `delete`, `rename`, `mkdir`, `rmdir`),
//!   or any other configuration command.
//! * [`classify`] says what to do with it given whether this unit is the
//!   *authority* for the space it was entered in ([`is_authoritative`]): the
//!   unit where group 1 is active for the system space and the admin context,
//!   the unit where the context's group is active for any other context. On the
//!   other unit a configuration command is applied locally only, with a warning,
//!   and marks the pair out of sync.
//! * [`check_sync`] is the \[fover\] rule that no configuration command is accepted
//!   on either unit while a full sync runs.
//!
//! Keywords are matched without regard to case; the usual abbreviations
//! (`sh`, `wr mem`, `copy run start`, `conf t`, `term pager`, `deb`) are
//! expanded by [`canonical_words`]. Other abbreviations are not recognised: the
//! CLI expands a command before it is classified.
//!
//! ```
//! use fover_protocol::config::replication::{classify, Classification};
//! use fover_protocol::types::Space;
//!
//! assert_eq!(classify(&Space::System, "show failover", true), Classification::NotReplicated);
//! assert_eq!(classify(&Space::System, "wr mem", true), Classification::Replicated);
//! let ctx = Space::Context("ctx2".into());
//! assert!(matches!(classify(&ctx, "access-list a permit ip any any", false),
//!                  Classification::LocalOnly { out_of_sync: true, .. }));
//! ```

use crate::types::{Group, Space};
use core::fmt;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// What a command line does, as far as replication is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommandKind {
    /// A blank line or a comment (`!`, `:`).
    Empty,
    /// Changes no configuration: `show`, `debug`, `terminal`, `ping`, `changeto`,
    /// `failover active|reset|exec`, `clear` (but not `clear configure`), ...
    Exec,
    /// A running-config line that is never replicated: `failover lan unit`, `firewall`.
    LocalConfig,
    /// Changes the unit outside its running config, never replicated: `mode`,
    /// `activation-key` (bound to this unit's serial), `copy` other than
    /// running-config to startup-config, `erase`, `format`.
    LocalAction,
    /// `write standby`: pushes the whole configuration to the mate (a full sync).
    WriteStandby,
    /// A replicated file command: `write memory [all]` (and plain `write`),
    /// `write erase`, `copy running-config startup-config`, `delete`, `rename`,
    /// `mkdir`, `rmdir`.
    File,
    /// Every other configuration command.
    Config,
}

impl CommandKind {
    /// Changes configuration or files (refused while a full sync runs).
    pub const fn changes_configuration(self) -> bool {
        !matches!(self, CommandKind::Empty | CommandKind::Exec)
    }

    /// Stored as a line of the running config.
    pub const fn is_running_config_line(self) -> bool {
        matches!(self, CommandKind::LocalConfig | CommandKind::Config)
    }
}

/// Keywords and the shortest abbreviation accepted for each.
type Abbrev = (&'static str, usize);

const FIRST_WORDS: &[Abbrev] = &[
    ("show", 2),
    ("write", 2),
    ("debug", 3),
    ("undebug", 5),
    ("terminal", 3),
    ("configure", 4),
    ("copy", 3),
    ("delete", 3),
    ("rename", 3),
    ("mkdir", 5),
    ("rmdir", 5),
];
const WRITE_WORDS: &[Abbrev] = &[("memory", 2), ("terminal", 1), ("standby", 3), ("erase", 2), ("net", 3)];
const COPY_WORDS: &[Abbrev] = &[("running-config", 3), ("startup-config", 5)];

/// The keyword of `table` that `word` abbreviates (in any case), if any.
fn expand(word: &str, table: &[Abbrev]) -> Option<&'static str> {
    // The keywords are in lower case: a case-insensitive prefix test is
    // `keyword.starts_with(word.to_ascii_lowercase())` without the copy.
    let w = word.as_bytes();
    table
        .iter()
        .find(|(k, min)| w.len() >= *min && k.len() >= w.len() && k.as_bytes()[..w.len()].eq_ignore_ascii_case(w))
        .map(|(k, _)| *k)
}

/// `word` in ASCII lower case, copied only when it has an upper-case letter.
pub(crate) fn lower(word: &str) -> Cow<'_, str> {
    if word.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(word.to_ascii_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

/// The words of a command line, with keywords in lower case and the usual
/// abbreviations expanded (arguments such as names keep their case).
pub fn canonical_words(line: &str) -> Vec<String> {
    canonical(line).into_iter().map(Cow::into_owned).collect()
}

/// [`canonical_words`], borrowing the words it leaves as they are.
fn canonical(line: &str) -> Vec<Cow<'_, str>> {
    let mut words: Vec<Cow<'_, str>> =
        line.split_whitespace().enumerate().map(|(i, w)| if i == 0 { lower(w) } else { Cow::Borrowed(w) }).collect();
    if words.is_empty() {
        return words;
    }
    // `no X`: X is a command of its own.
    let at = usize::from(words[0] == "no" && words.len() > 1);
    words[at] = match expand(&words[at], FIRST_WORDS) {
        Some(k) => Cow::Borrowed(k),
        None => match &words[at] {
            Cow::Borrowed(w) => lower(w),
            Cow::Owned(w) => Cow::Owned(w.to_ascii_lowercase()),
        },
    };
    let words_after = at + 1;
    match &*words[at] {
        "write" => {
            if let Some(k) = words.get(words_after).and_then(|w| expand(w, WRITE_WORDS)) {
                words[words_after] = Cow::Borrowed(k);
            }
        }
        "copy" => {
            for w in words.iter_mut().skip(words_after).filter(|w| !w.starts_with('/')) {
                if let Some(k) = expand(w, COPY_WORDS) {
                    *w = Cow::Borrowed(k);
                }
            }
        }
        "show" | "debug" | "undebug" | "terminal" | "failover" | "clear" | "configure" => {
            for w in words.iter_mut().skip(words_after).take(3) {
                *w = match w {
                    Cow::Borrowed(b) => lower(b),
                    Cow::Owned(o) => Cow::Owned(o.to_ascii_lowercase()),
                };
            }
        }
        _ => {}
    }
    words
}

const EXEC_WORDS: &[&str] = &[
    "show",
    "debug",
    "undebug",
    "terminal",
    "ping",
    "traceroute",
    "changeto",
    "exit",
    "end",
    "quit",
    "dir",
    "more",
    "pwd",
    "cd",
    "reload",
    "enable",
    "disable",
    "login",
    "logout",
    "help",
    "history",
    "capture",
    "packet-tracer",
    "verify",
];

/// What `line` does (see [`CommandKind`]).
pub fn command_kind(line: &str) -> CommandKind {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('!') || trimmed.starts_with(':') {
        return CommandKind::Empty;
    }
    let words = canonical(trimmed);
    // The words as a slice of `&str` for the patterns below, on the stack for a usual line.
    let mut stack = [""; 16];
    let heap: Vec<&str>;
    let w: &[&str] = if words.len() <= stack.len() {
        for (s, word) in stack.iter_mut().zip(&words) {
            *s = word;
        }
        &stack[..words.len()]
    } else {
        heap = words.iter().map(|word| &**word).collect();
        &heap
    };
    // `no X` does what X does, except that `no` forms of exec commands stay exec.
    let base: &[&str] = match w {
        ["no", rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    let negated = base.len() != w.len();
    match base {
        ["configure"] | ["configure", "terminal" | "t" | "term", ..] => CommandKind::Exec,
        ["configure", ..] => CommandKind::Config,
        [first, ..] if EXEC_WORDS.contains(first) => CommandKind::Exec,
        ["clear", "configure" | "config", ..] => CommandKind::Config,
        ["clear", ..] => CommandKind::Exec,
        ["failover", "active" | "reset" | "exec" | "reload-standby", ..] => CommandKind::Exec,
        ["failover", "lan", "unit", ..] => CommandKind::LocalConfig,
        ["firewall", ..] => CommandKind::LocalConfig,
        ["mode" | "activation-key" | "erase" | "format", ..] => CommandKind::LocalAction,
        _ if negated => CommandKind::Config,
        ["write", "standby", ..] => CommandKind::WriteStandby,
        ["write"] | ["write", "memory" | "erase", ..] => CommandKind::File,
        ["write", "terminal" | "net", ..] => CommandKind::Exec,
        ["copy", rest @ ..] => {
            let args: Vec<&&str> = rest.iter().filter(|a| !a.starts_with('/')).collect();
            if args.as_slice() == [&"running-config", &"startup-config"] {
                CommandKind::File
            } else {
                CommandKind::LocalAction
            }
        }
        ["delete" | "rename" | "mkdir" | "rmdir", ..] => CommandKind::File,
        _ => CommandKind::Config,
    }
}

/// What happens to a command entered on this unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Classification {
    /// Executed (or applied) on this unit only; never sent to the mate.
    NotReplicated,
    /// Applied on this unit and replicated to the mate.
    Replicated,
    /// Entered on the unit that is not the authority for its space: applied on
    /// this unit only, with `warning` shown to the operator. `out_of_sync`: the
    /// running configs now differ until the next full sync overwrites this one.
    LocalOnly { out_of_sync: bool, warning: String },
}

fn space_name(space: &Space) -> String {
    match space {
        Space::System => "the system space".to_owned(),
        Space::Context(name) => format!("context {name}"),
    }
}

/// Classifies `line`, entered in `space` on a unit that is (`authoritative`) or
/// is not the authority for that space.
pub fn classify(space: &Space, line: &str, authoritative: bool) -> Classification {
    let kind = command_kind(line);
    match kind {
        CommandKind::Empty
        | CommandKind::Exec
        | CommandKind::LocalConfig
        | CommandKind::LocalAction
        | CommandKind::WriteStandby => Classification::NotReplicated,
        CommandKind::Config | CommandKind::File if authoritative => Classification::Replicated,
        CommandKind::Config => Classification::LocalOnly {
            out_of_sync: true,
            warning: format!(
                "WARNING: This unit is not active for the failover group of {}. The command was applied \
                 on this unit only and not replicated to the mate; the configurations are out of sync \
                 until the next full configuration synchronisation.",
                space_name(space)
            ),
        },
        CommandKind::File => Classification::LocalOnly {
            out_of_sync: false,
            warning: format!(
                "WARNING: This unit is not active for the failover group of {}. The file command ran on \
                 this unit only and not on the mate; their flash contents may now differ.",
                space_name(space)
            ),
        },
    }
}

/// The failover group whose active unit is the authority for `space`: group 1
/// for the system space, the admin context and any context not in the map;
/// otherwise the context's group. `context_groups` maps every context to its
/// group (the admin context to group 1, as `RunningConfig::context_groups`
/// guarantees).
pub fn authority_group(space: &Space, context_groups: &BTreeMap<String, Group>) -> Group {
    match space {
        Space::System => Group::One,
        Space::Context(name) => context_groups.get(name).copied().unwrap_or(Group::One),
    }
}

/// Whether this unit, where the groups in `active_here` are active, is the
/// authority for `space`.
pub fn is_authoritative(space: &Space, context_groups: &BTreeMap<String, Group>, active_here: &[Group]) -> bool {
    active_here.contains(&authority_group(space, context_groups))
}

/// Which way a full sync runs on this unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncDirection {
    Sending,
    Receiving,
}

/// A full configuration sync in progress on this unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SyncInProgress {
    pub direction: SyncDirection,
    pub lines_done: u32,
    pub lines_total: u32,
}

impl fmt::Display for SyncInProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = match self.direction {
            SyncDirection::Sending => "sending to mate",
            SyncDirection::Receiving => "receiving from mate",
        };
        write!(f, "{way}, {} of {} lines", self.lines_done, self.lines_total)
    }
}

impl SyncInProgress {
    /// The syslog line that marks the end of this sync on this unit.
    pub const fn end_message(&self) -> &'static str {
        match self.direction {
            SyncDirection::Sending => "End Configuration Replication to mate.",
            SyncDirection::Receiving => "End Configuration Replication from mate.",
        }
    }
}

/// \[fover\] A configuration command refused because a full sync is running.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Command refused: a full configuration synchronisation is in progress ({sync}). Configuration \
     commands are refused on both units until it ends, so that none is lost; retry after \
     \"{end}\" is logged.",
    end = sync.end_message()
)]
pub struct SyncRefusal {
    pub line: String,
    pub sync: SyncInProgress,
}

/// \[fover\] Refuses `line` if it changes configuration and a full sync is running.
pub fn check_sync(line: &str, sync: Option<&SyncInProgress>) -> Result<(), SyncRefusal> {
    match sync {
        Some(s) if command_kind(line).changes_configuration() => {
            Err(SyncRefusal { line: line.trim().to_owned(), sync: *s })
        }
        _ => Ok(()),
    }
}

/// [`check_sync`] then [`classify`]: what the CLI does with a command.
pub fn admit(
    space: &Space,
    line: &str,
    authoritative: bool,
    sync: Option<&SyncInProgress>,
) -> Result<Classification, SyncRefusal> {
    check_sync(line, sync)?;
    Ok(classify(space, line, authoritative))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `canonical_words` as it was written first (a copy per word), the
    /// reference for the version that borrows.
    fn canonical_words_reference(line: &str) -> Vec<String> {
        fn expand(word: &str, table: &[Abbrev]) -> Option<&'static str> {
            let w = word.to_ascii_lowercase();
            table.iter().find(|(k, min)| w.len() >= *min && k.starts_with(&w)).map(|(k, _)| *k)
        }
        let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        let Some(first) = words.first_mut() else { return words };
        *first = first.to_ascii_lowercase();
        let at = usize::from(words[0] == "no" && words.len() > 1);
        if let Some(k) = expand(&words[at], FIRST_WORDS) {
            words[at] = k.to_owned();
        } else {
            words[at] = words[at].to_ascii_lowercase();
        }
        let first = words[at].clone();
        let words_after = at + 1;
        match first.as_str() {
            "write" => {
                if let Some(k) = words.get(words_after).and_then(|w| expand(w, WRITE_WORDS)) {
                    words[words_after] = k.to_owned();
                }
            }
            "copy" => {
                for w in words.iter_mut().skip(words_after).filter(|w| !w.starts_with('/')) {
                    if let Some(k) = expand(w, COPY_WORDS) {
                        *w = k.to_owned();
                    }
                }
            }
            "show" | "debug" | "undebug" | "terminal" | "failover" | "clear" | "configure" => {
                for w in words.iter_mut().skip(words_after).take(3) {
                    *w = w.to_ascii_lowercase();
                }
            }
            _ => {}
        }
        words
    }

    #[test]
    fn canonical_words_agree_with_the_reference() {
        let vocabulary = [
            "no",
            "NO",
            "wr",
            "WRITE",
            "mem",
            "Me",
            "st",
            "copy",
            "COP",
            "run",
            "Running-Config",
            "startup",
            "/noconfirm",
            "sh",
            "SHOW",
            "Failover",
            "ACTIVE",
            "Group",
            "1",
            "Inside",
            "hostname",
            "FW-1",
            "clear",
            "CONF",
            "all",
            "configure",
            "T",
            "é",
            "ÉCRIRE",
            "",
            "de",
            "DEL",
            "disk0:/a.cfg",
            "terminal",
            "ter",
            "undebug",
            "mkdir",
        ];
        let mut seed = 0x1234_5678_u64;
        for _ in 0..20_000 {
            let n = (seed % 6) as usize;
            let mut words = Vec::new();
            for _ in 0..n {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                words.push(vocabulary[(seed >> 33) as usize % vocabulary.len()]);
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let line = words.join(if seed & 1 == 0 { " " } else { "  " });
            assert_eq!(canonical_words(&line), canonical_words_reference(&line), "{line:?}");
        }
    }

    #[test]
    fn abbreviations_expand_to_keywords() {
        assert_eq!(canonical_words("sh run"), ["show", "run"]);
        assert_eq!(canonical_words("wr mem"), ["write", "memory"]);
        assert_eq!(
            canonical_words("copy /noconfirm run start"),
            ["copy", "/noconfirm", "running-config", "startup-config"]
        );
        assert_eq!(canonical_words("  "), Vec::<String>::new());
        assert_eq!(canonical_words("hostname FW1"), ["hostname", "FW1"], "arguments keep their case");
    }

    #[test]
    fn short_words_that_are_not_abbreviations_stay_config() {
        assert_eq!(command_kind("s"), CommandKind::Config);
        assert_eq!(command_kind("shun 10.0.0.1"), CommandKind::Config);
        assert_eq!(command_kind("shutdown"), CommandKind::Config);
    }
}
