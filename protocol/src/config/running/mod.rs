//! The running configuration of a unit in multiple context mode: the system
//! space and each security context, as ordered command lines.
//!
//! Each line keeps its text and, for the commands the protocol cares about, a
//! parsed [`Statement`]; every other line is kept verbatim ([`Statement::Verbatim`]).
//! Lines are either top-level or *sub-lines* of the top-level line above them
//! (written indented by one space, as `show running-config` prints them):
//!
//! ```text
//! hostname fw1                              system space
//! failover lan unit primary
//! failover group 1
//!  primary
//!  preempt 30
//! context ctx2
//!  join-failover-group 2
//! ```
//!
//! [`RunningConfig::apply`] applies one command as the CLI or command
//! replication enters it: an indented line goes into the block opened by the
//! last top-level line; a line that sets a setting already present (same
//! [key](Line::key): `hostname`, ` ip address`, ` preempt`, ...) replaces it in
//! place; `no X` removes the lines that begin with `X` (or, when there is none,
//! is itself stored, as in ` no shutdown`); `no failover`, `no monitor-interface
//! NAME`, ` no preempt` and ` no replication http` are settings of their own.
//! [`RunningConfig::load`] applies a whole text and reports the first error
//! with its line number.
//!
//! *Bootstrap* lines are what a unit keeps when it clears its configuration to
//! receive a full sync: `failover`, `failover lan unit`, `failover lan interface`,
//! `failover interface ip`, `failover key` and `failover link`. They are left out
//! of [`RunningConfig::sync_lines`], [`RunningConfig::eq_ignoring_bootstrap`] and
//! [`RunningConfig::digest`], since the two units keep their own.
//!
//! In a context, dynamic routing (`router ...`), VPN (`crypto`, `isakmp`,
//! `tunnel-group`, `webvpn`, ...) and multicast (`multicast-routing`, `igmp`,
//! `pim`, `mroute`) are refused, with a message naming the limitation
//! (PROTOCOL.md section 9).
//!
//! ```
//! use fover_protocol::config::running::RunningConfig;
//! use fover_protocol::types::{Group, Space};
//!
//! let mut rc = RunningConfig::new();
//! rc.load(&Space::System, "hostname fw1\ncontext ctx2\n join-failover-group 2\n").unwrap();
//! assert_eq!(rc.context_groups().get("ctx2"), Some(&Group::Two));
//! let err = rc.apply(&Space::Context("ctx2".into()), "router ospf 1").unwrap_err();
//! assert!(err.to_string().contains("dynamic routing"));
//! ```

use crate::config::license::FailoverAddressing;
use crate::config::replication::command_kind;
use crate::config::settings::{InterfacePolicy, validate_interface_times, validate_unit_times};
use crate::constants::{CONTEXT_NAME_LEN_MAX, CONTEXTS_MAX, PREEMPT_DELAY_S_MAX, RUNNING_LINES_PER_SPACE_MAX};
use crate::types::{Group, Role, Space};
use crate::wire::auth::FailoverKey;
use crate::wire::{ConfigLine, TEXT_LEN_MAX};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The admin context's name when no `admin-context` line names another.
pub const ADMIN_CONTEXT_DEFAULT: &str = "admin";

mod parse;

pub use parse::*;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    text: String,
    sub: bool,
    command: Statement,
    key: String,
}

impl Line {
    /// The line without indentation (recognised commands with single spaces between words).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// A sub-line of the top-level line above it.
    pub fn is_sub(&self) -> bool {
        self.sub
    }
    /// The parsed form.
    pub fn command(&self) -> &Statement {
        &self.command
    }
    /// What the line sets: a later line with the same key (in the same block) replaces it.
    pub fn key(&self) -> &str {
        &self.key
    }
    /// As `show running-config` prints it (sub-lines indented by one space).
    pub fn rendered(&self) -> String {
        if self.sub { format!(" {}", self.text) } else { self.text.clone() }
    }
    /// Kept when the unit clears its configuration for a sync (system space only).
    pub fn is_bootstrap(&self) -> bool {
        matches!(&self.command, Statement::Failover(f) if f.is_bootstrap())
    }
}

/// What [`RunningConfig::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Applied {
    /// A new line.
    Added,
    /// A line with the same key was replaced.
    Replaced,
    /// This many lines (sub-lines included) were removed.
    Removed(usize),
    /// Nothing changed (a comment, a line already present, or re-entering a block).
    Unchanged,
}

/// One space's lines.
#[derive(Clone, Debug, Default)]
pub struct SpaceConfig {
    lines: Vec<Line>,
    /// The top-level line that indented lines go under: session state, not configuration
    /// (ignored by equality and hashing).
    open: Option<usize>,
}

impl PartialEq for SpaceConfig {
    fn eq(&self, other: &SpaceConfig) -> bool {
        self.lines == other.lines
    }
}
impl Eq for SpaceConfig {}
impl Hash for SpaceConfig {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.lines.hash(state);
    }
}

struct Prepared {
    sub: bool,
    text: String,
    action: Action,
}

/// The lines a removal matches: those whose words begin with `words` (case-insensitively).
fn begins_with(text: &str, words: &[String]) -> bool {
    let mut it = text.split_whitespace();
    words.iter().all(|w| it.next().is_some_and(|t| t.eq_ignore_ascii_case(w)))
}

impl SpaceConfig {
    /// The lines, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The rendered text, one line per line, each ending with a newline.
    pub fn render(&self) -> String {
        self.lines.iter().map(|l| l.rendered() + "\n").collect()
    }

    /// The top-level line indented lines go under, if any.
    pub fn open_block(&self) -> Option<&Line> {
        self.open.and_then(|i| self.lines.get(i))
    }

    fn block_end(&self, start: usize) -> usize {
        let mut end = start + 1;
        while self.lines.get(end).is_some_and(|l| l.sub) {
            end += 1;
        }
        end
    }

    /// Indices of the lines in the scope of a new line: the open block's sub-lines, or the top-level lines.
    fn scope(&self, sub: bool) -> impl Iterator<Item = usize> + '_ {
        let range = match (sub, self.open) {
            (true, Some(open)) => open + 1..self.block_end(open),
            (true, None) => 0..0,
            (false, _) => 0..self.lines.len(),
        };
        range.filter(move |&i| self.lines[i].sub == sub)
    }

    fn prepare(&self, kind: SpaceKind, line: &str) -> Result<Option<Prepared>, LineError> {
        let raw = line.trim_end();
        let text = raw.trim_start();
        if text.is_empty() || text.starts_with('!') || text.starts_with(':') {
            return Ok(None);
        }
        let sub = raw.len() != text.len();
        let len = text.len() + usize::from(sub);
        if len > TEXT_LEN_MAX {
            return Err(LineError::TooLong { len });
        }
        if !command_kind(text).is_running_config_line() {
            return Err(LineError::NotConfig { command: text.to_owned() });
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let lower: Vec<std::borrow::Cow<'_, str>> =
            words.iter().map(|w| crate::config::replication::lower(w)).collect();
        let k: Vec<&str> = lower.iter().map(|w| &**w).collect();
        if kind == SpaceKind::Context {
            refuse_in_context(text, &k)?;
        }
        let parent = if sub {
            Some(&self.lines.get(self.open.ok_or(LineError::NoOpenBlock)?).ok_or(LineError::NoOpenBlock)?.command)
        } else {
            None
        };
        let action = parse(kind, parent, &words, &k)?;
        let text = match &action {
            Action::Set(Statement::Verbatim) => text.to_owned(),
            _ => words.join(" "),
        };
        Ok(Some(Prepared { sub, text, action }))
    }

    /// Applies a prepared line. The caller has validated it against the rest of the config.
    fn commit(&mut self, p: Prepared) -> (Applied, Vec<Line>) {
        match p.action {
            Action::ClearAll => {
                let removed = core::mem::take(&mut self.lines);
                self.open = None;
                (Applied::Removed(removed.len()), removed)
            }
            Action::Remove { words, store_if_absent } => {
                let hits: Vec<usize> =
                    self.scope(p.sub).filter(|&i| begins_with(&self.lines[i].text, &words)).collect();
                if hits.is_empty() {
                    if store_if_absent {
                        let key = verbatim_key(&p.text);
                        return self.set(p.sub, p.text, Statement::Verbatim, key);
                    }
                    return (Applied::Unchanged, Vec::new());
                }
                let mut removed = Vec::new();
                for &i in hits.iter().rev() {
                    let end = if p.sub { i + 1 } else { self.block_end(i) };
                    let mut block: Vec<Line> = self.lines.drain(i..end).collect();
                    block.append(&mut removed);
                    removed = block;
                }
                // The open block may have moved or gone.
                self.open = if p.sub { self.open } else { None };
                (Applied::Removed(removed.len()), removed)
            }
            Action::Set(command) => {
                let key = key_of(&command, &p.text);
                self.set(p.sub, p.text, command, key)
            }
        }
    }

    fn set(&mut self, sub: bool, text: String, command: Statement, key: String) -> (Applied, Vec<Line>) {
        let line = Line { text, sub, command, key };
        let existing = self.scope(sub).find(|&i| self.lines[i].key == line.key);
        if let Some(i) = existing {
            if !sub {
                self.open = Some(i);
            }
            if self.lines[i] == line {
                return (Applied::Unchanged, Vec::new());
            }
            let old = core::mem::replace(&mut self.lines[i], line);
            return (Applied::Replaced, vec![old]);
        }
        if sub {
            let at = self.open.map_or(self.lines.len(), |o| self.block_end(o));
            self.lines.insert(at, line);
        } else {
            self.lines.push(line);
            self.open = Some(self.lines.len() - 1);
        }
        (Applied::Added, Vec::new())
    }
}

/// The running configuration of one unit: the system space and each context.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RunningConfig {
    system: SpaceConfig,
    /// One entry per `context NAME` block of the system space.
    contexts: BTreeMap<String, SpaceConfig>,
}

impl RunningConfig {
    /// An empty configuration (no contexts).
    pub fn new() -> RunningConfig {
        RunningConfig::default()
    }

    /// The lines of `space`, if it exists.
    pub fn space(&self, space: &Space) -> Option<&SpaceConfig> {
        match space {
            Space::System => Some(&self.system),
            Space::Context(name) => self.contexts.get(name),
        }
    }

    /// The system space.
    pub fn system(&self) -> &SpaceConfig {
        &self.system
    }

    /// The contexts, by name.
    pub fn contexts(&self) -> &BTreeMap<String, SpaceConfig> {
        &self.contexts
    }

    /// Every space: the system space then the contexts in name order.
    pub fn spaces(&self) -> Vec<Space> {
        core::iter::once(Space::System).chain(self.contexts.keys().map(|n| Space::Context(n.clone()))).collect()
    }

    fn system_lines(&self) -> impl Iterator<Item = &Statement> {
        self.system.lines.iter().map(|l| &l.command)
    }

    /// `no failover` in the system space: saved, it keeps the unit
    /// standalone from power-on (section 5).
    pub fn failover_disabled(&self) -> bool {
        self.system_lines().any(|c| matches!(c, Statement::Failover(FailoverCommand::Enable(false))))
    }

    /// The admin context (`admin-context NAME`, else `admin`).
    pub fn admin_context(&self) -> &str {
        self.system_lines()
            .find_map(|c| match c {
                Statement::AdminContext { name } => Some(name.as_str()),
                _ => None,
            })
            .unwrap_or(ADMIN_CONTEXT_DEFAULT)
    }

    /// Each context's failover group: its `join-failover-group`, else group 1.
    /// The admin context is always in group 1.
    pub fn context_groups(&self) -> BTreeMap<String, Group> {
        let mut out = BTreeMap::new();
        let mut current: Option<&str> = None;
        for line in &self.system.lines {
            match (&line.command, line.sub) {
                (Statement::Context { name }, false) => {
                    out.insert(name.clone(), Group::One);
                    current = Some(name);
                }
                (Statement::JoinFailoverGroup(g), true) => {
                    if let Some(name) = current {
                        out.insert(name.to_owned(), *g);
                    }
                }
                (_, false) => current = None,
                _ => {}
            }
        }
        let admin = self.admin_context().to_owned();
        if let Some(g) = out.get_mut(&admin) {
            *g = Group::One;
        }
        out
    }

    /// Applies one line entered in `space` (indented: a sub-line of the block
    /// opened last). Nothing changes when it fails.
    pub fn apply(&mut self, space: &Space, line: &str) -> Result<Applied, LineError> {
        let kind = SpaceKind::of(space);
        let target = match space {
            Space::System => &self.system,
            Space::Context(name) => {
                self.contexts.get(name).ok_or_else(|| LineError::NoSuchContext { name: name.clone() })?
            }
        };
        let Some(prepared) = target.prepare(kind, line)? else { return Ok(Applied::Unchanged) };
        // Checks that need the rest of the configuration.
        if kind == SpaceKind::System {
            match (&prepared.action, target.open_block().map(Line::command)) {
                (Action::Set(Statement::JoinFailoverGroup(Group::Two)), Some(Statement::Context { name }))
                    if prepared.sub && name == self.admin_context() =>
                {
                    return Err(LineError::AdminContextGroup { name: name.clone() });
                }
                (Action::Set(Statement::AdminContext { name }), _)
                    if self.context_groups().get(name).is_some_and(|g| *g == Group::Two) =>
                {
                    return Err(LineError::AdminContextGroup { name: name.clone() });
                }
                (Action::Set(Statement::Context { name }), _)
                    if !self.contexts.contains_key(name) && self.contexts.len() >= CONTEXTS_MAX =>
                {
                    return Err(LineError::Limit { what: "security contexts", max: CONTEXTS_MAX });
                }
                _ => {}
            }
        }
        if target.lines.len() >= RUNNING_LINES_PER_SPACE_MAX && !matches!(prepared.action, Action::Remove { .. }) {
            return Err(LineError::Limit { what: "lines in one space", max: RUNNING_LINES_PER_SPACE_MAX });
        }
        let target = match space {
            Space::System => &mut self.system,
            Space::Context(name) => {
                self.contexts.get_mut(name).ok_or_else(|| LineError::NoSuchContext { name: name.clone() })?
            }
        };
        let declared = match (&prepared.action, prepared.sub, kind) {
            (Action::Set(Statement::Context { name }), false, SpaceKind::System) => Some(name.clone()),
            _ => None,
        };
        let (applied, removed) = target.commit(prepared);
        // One context entry per `context NAME` block of the system space.
        if kind == SpaceKind::System {
            for line in &removed {
                if let (Statement::Context { name }, false) = (&line.command, line.sub) {
                    self.contexts.remove(name);
                }
            }
        }
        if let Some(name) = declared {
            self.contexts.entry(name).or_default();
        }
        Ok(applied)
    }

    /// Applies every line of `text` to `space`, in order; stops at the first
    /// line that fails and names it. Lines applied before it stay applied.
    pub fn load(&mut self, space: &Space, text: &str) -> Result<(), ParseError> {
        for (i, line) in text.lines().enumerate() {
            self.apply(space, line).map_err(|error| ParseError {
                space: space.clone(),
                line_no: i + 1,
                line: line.to_owned(),
                error,
            })?;
        }
        Ok(())
    }

    /// Parses a whole configuration: the system space, then each context's text
    /// (each context must be declared by a `context NAME` block of the system text).
    pub fn parse<'a>(
        system: &str,
        contexts: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<RunningConfig, ParseError> {
        let mut rc = RunningConfig::new();
        rc.load(&Space::System, system)?;
        for (name, text) in contexts {
            rc.load(&Space::Context(name.to_owned()), text)?;
        }
        Ok(rc)
    }

    /// The text of `space` as `show running-config` prints it.
    pub fn render(&self, space: &Space) -> Option<String> {
        self.space(space).map(SpaceConfig::render)
    }

    fn non_bootstrap(&self) -> impl Iterator<Item = ConfigLine> + '_ {
        let system = self
            .system
            .lines
            .iter()
            .filter(|l| !l.is_bootstrap())
            .map(|l| ConfigLine { space: Space::System, line: l.rendered() });
        let contexts = self.contexts.iter().flat_map(|(name, sc)| {
            sc.lines.iter().map(move |l| ConfigLine { space: Space::Context(name.clone()), line: l.rendered() })
        });
        system.chain(contexts)
    }

    /// The lines a full sync sends, in order: the system space without its
    /// bootstrap lines, then each context. Applying them in order to a config
    /// cleared with [`RunningConfig::clear_for_sync`] reproduces this one, apart from bootstrap lines.
    pub fn sync_lines(&self) -> Vec<ConfigLine> {
        self.non_bootstrap().collect()
    }

    /// Applies one line received in a full sync.
    pub fn apply_sync_line(&mut self, line: &ConfigLine) -> Result<Applied, LineError> {
        self.apply(&line.space, &line.line)
    }

    /// Clears the configuration to receive a full sync, keeping the bootstrap lines.
    pub fn clear_for_sync(&mut self) {
        self.system.lines.retain(Line::is_bootstrap);
        self.system.open = None;
        self.contexts.clear();
    }

    /// Equal apart from bootstrap lines (and the CLI's open blocks).
    pub fn eq_ignoring_bootstrap(&self, other: &RunningConfig) -> bool {
        self.non_bootstrap().eq(other.non_bootstrap())
    }

    /// SHA-256 of the configuration without bootstrap lines, truncated to 32 bits
    /// (the digest of `ConfigSyncEnd`). Equal configs have equal digests.
    pub fn digest(&self) -> u32 {
        // The bytes of each line of `non_bootstrap`, without rendering it
        // into a new string: the space, then the length and text of the
        // rendered line (a sub-line is rendered with one leading space).
        let mut h = Sha256::new();
        let line = |h: &mut Sha256, l: &Line| {
            h.update(((l.text.len() + usize::from(l.sub)) as u32).to_be_bytes());
            if l.sub {
                h.update(b" ");
            }
            h.update(l.text.as_bytes());
        };
        for l in self.system.lines.iter().filter(|l| !l.is_bootstrap()) {
            h.update([0u8]);
            line(&mut h, l);
        }
        for (name, sc) in &self.contexts {
            for l in &sc.lines {
                h.update([1u8]);
                h.update((name.len() as u32).to_be_bytes());
                h.update(name.as_bytes());
                line(&mut h, l);
            }
        }
        let d = h.finalize();
        u32::from_be_bytes([d[0], d[1], d[2], d[3]])
    }

    /// Total bytes of the rendered configuration (every space, bootstrap lines included).
    pub fn rendered_len(&self) -> u64 {
        let space_len =
            |sc: &SpaceConfig| sc.lines.iter().map(|l| l.text.len() as u64 + 1 + u64::from(l.sub)).sum::<u64>();
        space_len(&self.system) + self.contexts.values().map(space_len).sum::<u64>()
    }

    /// Checks the internal invariants; panics on a bug (never on input).
    pub fn invariants(&self) {
        let declared: std::collections::BTreeSet<&String> = self
            .system
            .lines
            .iter()
            .filter_map(|l| match (&l.command, l.sub) {
                (Statement::Context { name }, false) => Some(name),
                _ => None,
            })
            .collect();
        assert!(declared.into_iter().eq(self.contexts.keys()), "one context entry per `context` block");
        assert!(self.contexts.len() <= CONTEXTS_MAX, "too many contexts");
        for sc in core::iter::once(&self.system).chain(self.contexts.values()) {
            assert!(sc.lines.len() <= RUNNING_LINES_PER_SPACE_MAX, "too many lines");
            assert!(sc.lines.first().is_none_or(|l| !l.sub), "a sub-line with no block above it");
            assert!(
                sc.open.is_none_or(|o| sc.lines.get(o).is_some_and(|l| !l.sub)),
                "open block is not a top-level line"
            );
            for l in &sc.lines {
                assert!(l.text.len() + usize::from(l.sub) <= TEXT_LEN_MAX, "line too long for the wire");
                assert!(!l.text.is_empty() && l.text.trim() == l.text, "line text not trimmed");
            }
        }
    }

    /// DHCP, PPPoE or IPv6 addressing on the failover interfaces (the `failover
    /// lan interface` and `failover link` hardware, and `failover interface ip`).
    pub fn failover_addressing(&self) -> FailoverAddressing {
        let mut hardware = Vec::new();
        let mut out = FailoverAddressing::default();
        for c in self.system_lines() {
            match c {
                Statement::Failover(FailoverCommand::LanInterface { hardware: hw, .. }) => hardware.push(hw.clone()),
                Statement::Failover(FailoverCommand::Link { hardware: Some(hw), .. }) => hardware.push(hw.clone()),
                Statement::Failover(FailoverCommand::InterfaceIp { address: FailoverAddress::V6 { .. }, .. }) => {
                    out.ipv6 = true
                }
                _ => {}
            }
        }
        let mut in_failover_iface = false;
        for line in &self.system.lines {
            match (&line.command, line.sub) {
                (Statement::Interface { name }, false) => in_failover_iface = hardware.contains(name),
                (_, false) => in_failover_iface = false,
                (Statement::IpAddress(IpAddress::Dhcp), true) if in_failover_iface => out.dhcp = true,
                (Statement::IpAddress(IpAddress::Pppoe), true) if in_failover_iface => out.pppoe = true,
                (Statement::Ipv6Address(_), true) if in_failover_iface => out.ipv6 = true,
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(name: &str) -> Space {
        Space::Context(name.into())
    }

    #[test]
    fn sub_lines_go_under_the_last_block() {
        let mut rc = RunningConfig::new();
        rc.load(&Space::System, "failover group 1\n primary\nfailover group 2\n secondary\n preempt 30\n").unwrap();
        let text = rc.render(&Space::System).unwrap();
        assert_eq!(text, "failover group 1\n primary\nfailover group 2\n secondary\n preempt 30\n");
    }

    #[test]
    fn reentering_a_block_adds_to_it() {
        let mut rc = RunningConfig::new();
        rc.load(&Space::System, "failover group 1\n primary\nhostname fw\nfailover group 1\n preempt\n").unwrap();
        assert_eq!(rc.render(&Space::System).unwrap(), "failover group 1\n primary\n preempt\nhostname fw\n");
    }

    #[test]
    fn setting_replaces_in_place_and_no_removes() {
        let mut rc = RunningConfig::new();
        rc.load(&Space::System, "hostname a\ncontext c1\nhostname b\n").unwrap();
        assert_eq!(rc.render(&Space::System).unwrap(), "hostname b\ncontext c1\n");
        assert_eq!(rc.apply(&Space::System, "no hostname"), Ok(Applied::Removed(1)));
        assert_eq!(rc.apply(&Space::System, "no context c1"), Ok(Applied::Removed(1)));
        assert!(rc.contexts().is_empty());
    }

    #[test]
    fn no_with_nothing_to_remove_is_stored() {
        let mut rc = RunningConfig::new();
        rc.load(&Space::System, "interface GigabitEthernet0/1\n no shutdown\n shutdown\n").unwrap();
        assert_eq!(rc.render(&Space::System).unwrap(), "interface GigabitEthernet0/1\n shutdown\n");
    }

    #[test]
    fn indented_line_without_a_block_is_an_error() {
        let mut rc = RunningConfig::new();
        assert_eq!(rc.apply(&Space::System, " primary"), Err(LineError::NoOpenBlock));
    }

    #[test]
    fn exec_commands_are_not_stored() {
        let mut rc = RunningConfig::new();
        assert!(matches!(rc.apply(&Space::System, "show running-config"), Err(LineError::NotConfig { .. })));
        assert!(matches!(rc.apply(&Space::System, "write memory"), Err(LineError::NotConfig { .. })));
        assert!(matches!(rc.apply(&Space::System, "activation-key 0x1 0x2 0x3 0x4"), Err(LineError::NotConfig { .. })));
    }

    #[test]
    fn context_texts_need_their_context() {
        let mut rc = RunningConfig::new();
        assert_eq!(rc.apply(&ctx("nope"), "hostname x"), Err(LineError::NoSuchContext { name: "nope".into() }));
    }
}
