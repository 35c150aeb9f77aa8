//! The running configuration of a unit in multiple context mode: the system
//! space and each security context, as ordered command lines.
//!
//! Each line keeps its text and, for the commands the protocol cares about, a
//! parsed [`Command`]; every other line is kept verbatim ([`Command::Verbatim`]).
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
//! use fover_protocol::running::RunningConfig;
//! use fover_protocol::wire::{Group, Space};
//!
//! let mut rc = RunningConfig::new();
//! rc.load(&Space::System, "hostname fw1\ncontext ctx2\n join-failover-group 2\n").unwrap();
//! assert_eq!(rc.context_groups().get("ctx2"), Some(&Group::Two));
//! let err = rc.apply(&Space::Context("ctx2".into()), "router ospf 1").unwrap_err();
//! assert!(err.to_string().contains("dynamic routing"));
//! ```

use crate::auth::FailoverKey;
use crate::config::{InterfacePolicy, validate_interface_times, validate_unit_times};
use crate::constants::{CONTEXT_NAME_LEN_MAX, CONTEXTS_MAX, PREEMPT_DELAY_S_MAX, RUNNING_LINES_PER_SPACE_MAX};
use crate::license::FailoverAddressing;
use crate::replication::command_kind;
use crate::wire::{ConfigLine, Group, Role, Space, TEXT_LEN_MAX};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::net::{Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The admin context's name when no `admin-context` line names another.
pub const ADMIN_CONTEXT_DEFAULT: &str = "admin";

/// Which kind of space a line is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpaceKind {
    System,
    Context,
}

impl SpaceKind {
    /// The kind of `space`.
    pub fn of(space: &Space) -> SpaceKind {
        match space {
            Space::System => SpaceKind::System,
            Space::Context(_) => SpaceKind::Context,
        }
    }
}

/// An interface address (`ip address ...` in an interface block).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpAddress {
    /// `ip address A M [standby S]`: the active unit uses `address`, the standby `standby`.
    Static { address: Ipv4Addr, mask: Ipv4Addr, standby: Option<Ipv4Addr> },
    /// `ip address dhcp [setroute]`.
    Dhcp,
    /// `ip address pppoe [setroute]`.
    Pppoe,
}

/// The address of the failover interface (`failover interface ip NAME ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailoverAddress {
    V4 { address: Ipv4Addr, mask: Ipv4Addr, standby: Ipv4Addr },
    V6 { address: Ipv6Addr, prefix: u8, standby: Ipv6Addr },
}

/// A top-level `failover ...` line of the system space.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FailoverCommand {
    /// `failover` / `no failover`.
    Enable(bool),
    /// `failover lan unit primary|secondary`.
    LanUnit(Role),
    /// `failover lan interface NAME HARDWARE`.
    LanInterface { name: String, hardware: String },
    /// `failover interface ip NAME ADDRESS ... standby ADDRESS`.
    InterfaceIp { name: String, address: FailoverAddress },
    /// `failover key [hex] SECRET` (the secret stays in the line's text only).
    Key,
    /// `failover link NAME [HARDWARE]`: the state link.
    Link { name: String, hardware: Option<String> },
    /// `failover polltime [unit] [msec] N [holdtime [msec] M]`.
    Polltime { polltime: Duration, holdtime: Duration },
    /// Any other `failover` option, kept verbatim.
    Other,
}

impl FailoverCommand {
    /// Kept when the unit clears its configuration for a sync.
    pub fn is_bootstrap(&self) -> bool {
        !matches!(self, FailoverCommand::Polltime { .. } | FailoverCommand::Other)
    }
}

/// A sub-line of a `failover group N` block.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GroupOption {
    /// `primary` or `secondary`.
    Preferred(Role),
    /// `preempt [delay]` (`Some`, zero without a delay) or `no preempt` (`None`).
    Preempt(Option<Duration>),
    /// `interface-policy N[%]`.
    InterfacePolicy(InterfacePolicy),
    /// `polltime interface [msec] N [holdtime M]`.
    PolltimeInterface { polltime: Duration, holdtime: Duration },
    /// `replication http` / `no replication http`.
    ReplicationHttp(bool),
}

/// The parsed form of a line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// `context NAME` (system): opens the context's block.
    Context { name: String },
    /// `admin-context NAME` (system).
    AdminContext { name: String },
    /// ` join-failover-group N` in a context block.
    JoinFailoverGroup(Group),
    /// A top-level `failover ...` line (system).
    Failover(FailoverCommand),
    /// `failover group N` (system): opens the group's block.
    FailoverGroup(Group),
    /// A sub-line of a `failover group N` block.
    GroupOption(GroupOption),
    /// `interface NAME`: opens the interface's block.
    Interface { name: String },
    /// ` nameif NAME` in an interface block.
    Nameif(String),
    /// ` ip address ...` in an interface block.
    IpAddress(IpAddress),
    /// ` ipv6 address ...` in an interface block (kept as text).
    Ipv6Address(String),
    /// `hostname NAME`.
    Hostname(String),
    /// `[no] monitor-interface NAME` (context).
    MonitorInterface { name: String, monitored: bool },
    /// `access-list NAME ...` (context): one entry.
    AccessList { name: String },
    /// Any other line, kept verbatim.
    Verbatim,
}

/// What multiple context mode does not support in a context (PROTOCOL.md section 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limitation {
    DynamicRouting,
    Vpn,
    Multicast,
}

impl fmt::Display for Limitation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limitation::DynamicRouting => {
                "dynamic routing (OSPF, RIP) is not supported in a security context in multiple context mode"
            }
            Limitation::Vpn => "VPN is not supported in a security context in multiple context mode",
            Limitation::Multicast => "multicast is not supported in a security context in multiple context mode",
        })
    }
}

/// Why one line was not applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("expected {expected}")]
    Expected { expected: String },
    #[error("`{command}` refused: {limitation}")]
    Refused { command: String, limitation: Limitation },
    #[error("`{command}` belongs in {belongs}")]
    WrongSpace { command: String, belongs: &'static str },
    #[error("`{command}` is not a configuration command and is not stored in the running config")]
    NotConfig { command: String },
    #[error("no security context named {name:?}")]
    NoSuchContext { name: String },
    #[error("the admin context ({name}) is always in failover group 1")]
    AdminContextGroup { name: String },
    #[error("line of {len} bytes (with its indentation) exceeds the maximum of {TEXT_LEN_MAX}")]
    TooLong { len: usize },
    #[error("at most {max} {what}")]
    Limit { what: &'static str, max: usize },
    #[error("an indented line needs a top-level line above it to belong to")]
    NoOpenBlock,
}

fn expected(what: impl Into<String>) -> LineError {
    LineError::Expected { expected: what.into() }
}

/// A line of a text that could not be applied, with where it was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{space} line {line_no}: {line:?}: {error}")]
pub struct ParseError {
    pub space: Space,
    /// 1-based.
    pub line_no: usize,
    pub line: String,
    pub error: LineError,
}

/// One line of a space's running config.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    text: String,
    sub: bool,
    command: Command,
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
    pub fn command(&self) -> &Command {
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
        matches!(&self.command, Command::Failover(f) if f.is_bootstrap())
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

/// The parsed effect of a line, before it is applied.
enum Action {
    /// Store the line, replacing any line with the same key.
    Set(Command),
    /// `no X` / `clear configure X`: remove the lines beginning with `words`; if
    /// there is none and `store_if_absent`, store the line itself.
    Remove { words: Vec<String>, store_if_absent: bool },
    /// `clear configure all`.
    ClearAll,
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
        let lower: Vec<std::borrow::Cow<'_, str>> = words.iter().map(|w| crate::replication::lower(w)).collect();
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
            Action::Set(Command::Verbatim) => text.to_owned(),
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
                        return self.set(p.sub, p.text, Command::Verbatim, key);
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

    fn set(&mut self, sub: bool, text: String, command: Command, key: String) -> (Applied, Vec<Line>) {
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

/// Settings kept verbatim whose first word is what they set.
const VERBATIM_SETTINGS: &[&str] =
    &["security-level", "shutdown", "description", "mtu", "speed", "duplex", "config-url"];

fn verbatim_key(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let base = match words.as_slice() {
        ["no", rest @ ..] | rest => rest,
    };
    match base.first() {
        Some(first) if VERBATIM_SETTINGS.contains(&first.to_ascii_lowercase().as_str()) => first.to_ascii_lowercase(),
        _ => words.join(" "),
    }
}

fn key_of(command: &Command, text: &str) -> String {
    match command {
        Command::Context { name } => format!("context {name}"),
        Command::AdminContext { .. } => "admin-context".into(),
        Command::JoinFailoverGroup(_) => "join-failover-group".into(),
        Command::Failover(f) => match f {
            FailoverCommand::Enable(_) => "failover".into(),
            FailoverCommand::LanUnit(_) => "failover lan unit".into(),
            FailoverCommand::LanInterface { .. } => "failover lan interface".into(),
            FailoverCommand::InterfaceIp { name, .. } => format!("failover interface ip {name}"),
            FailoverCommand::Key => "failover key".into(),
            FailoverCommand::Link { .. } => "failover link".into(),
            FailoverCommand::Polltime { .. } => "failover polltime unit".into(),
            FailoverCommand::Other => text.split_whitespace().collect::<Vec<_>>().join(" "),
        },
        Command::FailoverGroup(g) => format!("failover group {g}"),
        Command::GroupOption(o) => match o {
            GroupOption::Preferred(_) => "preferred unit".into(),
            GroupOption::Preempt(_) => "preempt".into(),
            GroupOption::InterfacePolicy(_) => "interface-policy".into(),
            GroupOption::PolltimeInterface { .. } => "polltime interface".into(),
            GroupOption::ReplicationHttp(_) => "replication http".into(),
        },
        Command::Interface { name } => format!("interface {name}"),
        Command::Nameif(_) => "nameif".into(),
        Command::IpAddress(_) => "ip address".into(),
        Command::Ipv6Address(_) => text.split_whitespace().collect::<Vec<_>>().join(" "),
        Command::Hostname(_) => "hostname".into(),
        Command::MonitorInterface { name, .. } => format!("monitor-interface {name}"),
        Command::AccessList { .. } | Command::Verbatim => verbatim_key(text),
    }
}

fn refuse_in_context(text: &str, k: &[&str]) -> Result<(), LineError> {
    let base = match k {
        ["no", rest @ ..] | rest => rest,
    };
    let limitation = match base {
        ["router", ..] => Some(Limitation::DynamicRouting),
        ["crypto" | "isakmp" | "tunnel-group" | "webvpn" | "vpdn" | "group-policy" | "l2tp", ..] => {
            Some(Limitation::Vpn)
        }
        [w, ..] if w.starts_with("vpn-") => Some(Limitation::Vpn),
        ["multicast-routing" | "igmp" | "pim" | "mroute", ..] => Some(Limitation::Multicast),
        _ => None,
    };
    match limitation {
        Some(limitation) => Err(LineError::Refused { command: text.to_owned(), limitation }),
        None => Ok(()),
    }
}

fn parse_group_number(word: &str) -> Result<Group, LineError> {
    match word {
        "1" => Ok(Group::One),
        "2" => Ok(Group::Two),
        _ => Err(expected("a failover group: 1 or 2")),
    }
}

fn parse_role(word: &str) -> Result<Role, LineError> {
    match word {
        "primary" => Ok(Role::Primary),
        "secondary" => Ok(Role::Secondary),
        _ => Err(expected("`primary` or `secondary`")),
    }
}

fn parse_name(word: &str, what: &str) -> Result<String, LineError> {
    if word.chars().all(|c| c.is_ascii_graphic()) && !word.is_empty() {
        Ok(word.to_owned())
    } else {
        Err(expected(format!("{what} made of printable characters")))
    }
}

fn parse_context_name(word: &str) -> Result<String, LineError> {
    let ok = !word.is_empty()
        && word.len() <= CONTEXT_NAME_LEN_MAX
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !["system", "null"].contains(&word.to_ascii_lowercase().as_str());
    if ok {
        Ok(word.to_owned())
    } else {
        Err(expected(format!(
            "a context name of 1-{CONTEXT_NAME_LEN_MAX} letters, digits, `-` or `_` (not `system` or `null`)"
        )))
    }
}

fn parse_ipv4(word: &str, what: &str) -> Result<Ipv4Addr, LineError> {
    word.parse().map_err(|_| expected(format!("{what}: an IPv4 address such as 10.0.0.1, not {word:?}")))
}

fn parse_mask(word: &str) -> Result<Ipv4Addr, LineError> {
    let mask = parse_ipv4(word, "a netmask")?;
    let m = u32::from(mask);
    if m.leading_ones() + m.trailing_zeros() != 32 || m == 0 {
        return Err(expected(format!("a contiguous netmask such as 255.255.255.0, not {word}")));
    }
    Ok(mask)
}

fn check_standby_v4(address: Ipv4Addr, mask: Ipv4Addr, standby: Ipv4Addr) -> Result<(), LineError> {
    let m = u32::from(mask);
    if standby == address || u32::from(standby) & m != u32::from(address) & m {
        return Err(expected("a standby address in the same subnet as, and different from, the active address"));
    }
    Ok(())
}

/// `N` seconds or `msec N`; returns the rest.
fn parse_time<'a, 'b>(k: &'a [&'b str]) -> Result<(Duration, &'a [&'b str]), LineError> {
    match k {
        ["msec", n, rest @ ..] => {
            let v: u64 = n.parse().map_err(|_| expected("a number of milliseconds after `msec`"))?;
            Ok((Duration::from_millis(v), rest))
        }
        [n, rest @ ..] => {
            let v: u64 = n.parse().map_err(|_| expected("a number of seconds, or `msec N`"))?;
            Ok((Duration::from_secs(v), rest))
        }
        [] => Err(expected("a time: N seconds, or `msec N`")),
    }
}

fn config_err(e: crate::config::ConfigError) -> LineError {
    expected(e.to_string())
}

/// Parses a line into the action it takes. `words` are the original words, `k` the same in lower case.
fn parse(kind: SpaceKind, parent: Option<&Command>, words: &[&str], k: &[&str]) -> Result<Action, LineError> {
    let set = |c: Command| Ok(Action::Set(c));
    if let Some(parent) = parent {
        return parse_sub(parent, words, k);
    }
    let system_only = |cmd: &str| LineError::WrongSpace { command: cmd.to_owned(), belongs: "the system space" };
    let context_only = |cmd: &str| LineError::WrongSpace { command: cmd.to_owned(), belongs: "a context" };
    match (kind, k) {
        (_, ["hostname", _]) => set(Command::Hostname(parse_name(words[1], "a host name")?)),
        (_, ["hostname", ..]) => Err(expected("`hostname NAME`")),
        (_, ["interface", _]) => set(Command::Interface { name: parse_name(words[1], "an interface name")? }),
        (_, ["interface", ..]) => Err(expected("`interface NAME`")),
        (SpaceKind::System, ["context", _]) => set(Command::Context { name: parse_context_name(words[1])? }),
        (SpaceKind::System, ["context", ..]) => Err(expected("`context NAME`")),
        (SpaceKind::System, ["admin-context", _]) => set(Command::AdminContext { name: parse_context_name(words[1])? }),
        (SpaceKind::System, ["admin-context", ..]) => Err(expected("`admin-context NAME`")),
        (SpaceKind::System, ["failover", "group", n]) => set(Command::FailoverGroup(parse_group_number(n)?)),
        (SpaceKind::System, ["failover", "group", ..]) => Err(expected("`failover group 1|2`")),
        (SpaceKind::System, ["failover", ..] | ["no", "failover", ..]) => parse_failover(words, k),
        (SpaceKind::System, ["join-failover-group", ..]) => {
            Err(expected("`join-failover-group N` inside a `context NAME` block (indented)"))
        }
        (SpaceKind::System, ["monitor-interface", ..] | ["no", "monitor-interface", ..]) => {
            Err(context_only("monitor-interface"))
        }
        (SpaceKind::System, ["access-list", ..] | ["no", "access-list", ..]) => Err(context_only("access-list")),
        (
            SpaceKind::Context,
            [w @ ("context" | "admin-context" | "failover" | "join-failover-group"), ..]
            | ["no", w @ ("context" | "admin-context" | "failover" | "join-failover-group"), ..],
        ) => Err(system_only(w)),
        (SpaceKind::Context, ["monitor-interface", _]) => {
            set(Command::MonitorInterface { name: parse_name(words[1], "an interface name")?, monitored: true })
        }
        (SpaceKind::Context, ["no", "monitor-interface", _]) => {
            set(Command::MonitorInterface { name: parse_name(words[2], "an interface name")?, monitored: false })
        }
        (SpaceKind::Context, ["monitor-interface", ..] | ["no", "monitor-interface", ..]) => {
            Err(expected("`[no] monitor-interface NAME`"))
        }
        (SpaceKind::Context, ["access-list", _, _, ..]) => {
            set(Command::AccessList { name: parse_name(words[1], "an access-list name")? })
        }
        (SpaceKind::Context, ["access-list", ..]) => Err(expected("`access-list NAME ...` with an entry")),
        (_, ["clear", "configure" | "config", "all"]) => Ok(Action::ClearAll),
        (_, ["clear", "configure" | "config", rest @ ..]) if !rest.is_empty() => {
            Ok(Action::Remove { words: rest.iter().map(|w| (*w).to_owned()).collect(), store_if_absent: false })
        }
        (_, ["clear", "configure" | "config"]) => Err(expected("`clear configure all` or `clear configure COMMAND`")),
        (_, ["no", rest @ ..]) if !rest.is_empty() => {
            Ok(Action::Remove { words: rest.iter().map(|w| (*w).to_owned()).collect(), store_if_absent: true })
        }
        (_, ["no"]) => Err(expected("a command after `no`")),
        _ => set(Command::Verbatim),
    }
}

fn parse_failover(words: &[&str], k: &[&str]) -> Result<Action, LineError> {
    let set = |c: FailoverCommand| Ok(Action::Set(Command::Failover(c)));
    match k {
        ["failover"] => set(FailoverCommand::Enable(true)),
        ["no", "failover"] => set(FailoverCommand::Enable(false)),
        ["no", "failover", rest @ ..] => Ok(Action::Remove {
            words: ["failover"].iter().chain(rest).map(|w| (*w).to_owned()).collect(),
            store_if_absent: true,
        }),
        ["failover", "lan", "unit", role] => set(FailoverCommand::LanUnit(parse_role(role)?)),
        ["failover", "lan", "unit", ..] => Err(expected("`failover lan unit primary|secondary`")),
        ["failover", "lan", "interface", _, _] => set(FailoverCommand::LanInterface {
            name: parse_name(words[3], "an interface name")?,
            hardware: parse_name(words[4], "a hardware interface")?,
        }),
        ["failover", "lan", "interface", ..] => Err(expected("`failover lan interface NAME HARDWARE`")),
        ["failover", "interface", "ip", _, address, rest @ ..] => {
            let name = parse_name(words[3], "an interface name")?;
            let address = parse_failover_address(address, rest)?;
            set(FailoverCommand::InterfaceIp { name, address })
        }
        ["failover", "interface", "ip", ..] => Err(expected(
            "`failover interface ip NAME A.B.C.D MASK standby A.B.C.D` or `... NAME X::Y/PREFIX standby X::Z`",
        )),
        ["failover", "key", ..] => {
            let secret = words[2..].join(" ");
            FailoverKey::parse(&secret).map_err(config_err)?;
            set(FailoverCommand::Key)
        }
        ["failover", "link", _] => {
            set(FailoverCommand::Link { name: parse_name(words[2], "an interface name")?, hardware: None })
        }
        ["failover", "link", _, _] => set(FailoverCommand::Link {
            name: parse_name(words[2], "an interface name")?,
            hardware: Some(parse_name(words[3], "a hardware interface")?),
        }),
        ["failover", "link", ..] => Err(expected("`failover link NAME [HARDWARE]`")),
        ["failover", "polltime", "interface", ..] => set(FailoverCommand::Other),
        ["failover", "polltime", "unit", rest @ ..] | ["failover", "polltime", rest @ ..] => {
            let (polltime, rest) = parse_time(rest)?;
            let holdtime = match rest {
                ["holdtime", rest @ ..] => {
                    let (h, rest) = parse_time(rest)?;
                    if !rest.is_empty() {
                        return Err(expected("nothing after the holdtime"));
                    }
                    h
                }
                [] => polltime * 3,
                _ => return Err(expected("`holdtime N` or `holdtime msec N` after the polltime")),
            };
            validate_unit_times(polltime, holdtime).map_err(config_err)?;
            set(FailoverCommand::Polltime { polltime, holdtime })
        }
        _ => set(FailoverCommand::Other),
    }
}

fn parse_failover_address(address: &str, rest: &[&str]) -> Result<FailoverAddress, LineError> {
    if let Some((a, prefix)) = address.split_once('/') {
        let address: Ipv6Addr = a.parse().map_err(|_| expected(format!("an IPv6 address, not {a:?}")))?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 128).ok_or_else(|| expected("a prefix length 0-128"))?;
        let ["standby", s] = rest else { return Err(expected("`standby X::Z` after the IPv6 address")) };
        let standby: Ipv6Addr = s.parse().map_err(|_| expected(format!("a standby IPv6 address, not {s:?}")))?;
        return Ok(FailoverAddress::V6 { address, prefix, standby });
    }
    let address = parse_ipv4(address, "the failover interface address")?;
    let [mask, "standby", s] = rest else { return Err(expected("`MASK standby A.B.C.D` after the address")) };
    let mask = parse_mask(mask)?;
    let standby = parse_ipv4(s, "the standby address")?;
    check_standby_v4(address, mask, standby)?;
    Ok(FailoverAddress::V4 { address, mask, standby })
}

fn parse_sub(parent: &Command, words: &[&str], k: &[&str]) -> Result<Action, LineError> {
    let set = |c: Command| Ok(Action::Set(c));
    let remove =
        |k: &[&str]| Action::Remove { words: k.iter().map(|w| (*w).to_owned()).collect(), store_if_absent: true };
    match (parent, k) {
        (Command::Context { .. }, ["join-failover-group", n]) => {
            set(Command::JoinFailoverGroup(parse_group_number(n)?))
        }
        (Command::Context { .. }, ["join-failover-group", ..]) => Err(expected("`join-failover-group 1|2`")),
        (Command::FailoverGroup(_), ["primary" | "secondary"]) => {
            set(Command::GroupOption(GroupOption::Preferred(parse_role(k[0])?)))
        }
        (Command::FailoverGroup(_), ["preempt"]) => {
            set(Command::GroupOption(GroupOption::Preempt(Some(Duration::ZERO))))
        }
        (Command::FailoverGroup(_), ["preempt", d]) => {
            let s: u64 = d
                .parse()
                .ok()
                .filter(|s| (1..=PREEMPT_DELAY_S_MAX).contains(s))
                .ok_or_else(|| expected(format!("a preempt delay of 1-{PREEMPT_DELAY_S_MAX} seconds")))?;
            set(Command::GroupOption(GroupOption::Preempt(Some(Duration::from_secs(s)))))
        }
        (Command::FailoverGroup(_), ["no", "preempt"]) => set(Command::GroupOption(GroupOption::Preempt(None))),
        (Command::FailoverGroup(_), ["interface-policy", p]) => {
            set(Command::GroupOption(GroupOption::InterfacePolicy(InterfacePolicy::parse(p).map_err(config_err)?)))
        }
        (Command::FailoverGroup(_), ["polltime", "interface", rest @ ..]) => {
            let (polltime, rest) = parse_time(rest)?;
            let holdtime = match rest {
                ["holdtime", h] => Duration::from_secs(h.parse().map_err(|_| expected("a holdtime in seconds"))?),
                [] => polltime * 5,
                _ => return Err(expected("`holdtime N` after the interface polltime")),
            };
            validate_interface_times(polltime, holdtime).map_err(config_err)?;
            set(Command::GroupOption(GroupOption::PolltimeInterface { polltime, holdtime }))
        }
        (Command::FailoverGroup(_), ["replication", "http"]) => {
            set(Command::GroupOption(GroupOption::ReplicationHttp(true)))
        }
        (Command::FailoverGroup(_), ["no", "replication", "http"]) => {
            set(Command::GroupOption(GroupOption::ReplicationHttp(false)))
        }
        (
            Command::FailoverGroup(_),
            ["primary" | "secondary" | "preempt" | "interface-policy" | "polltime" | "replication", ..],
        ) => Err(expected(
            "primary | secondary | [no] preempt [1-1200] | interface-policy N[%] | polltime interface [msec] N \
             [holdtime M] | [no] replication http",
        )),
        (Command::Interface { .. }, ["nameif", _]) => set(Command::Nameif(parse_name(words[1], "an interface name")?)),
        (Command::Interface { .. }, ["ip", "address", "dhcp", ..]) => set(Command::IpAddress(IpAddress::Dhcp)),
        (Command::Interface { .. }, ["ip", "address", "pppoe", ..]) => set(Command::IpAddress(IpAddress::Pppoe)),
        (Command::Interface { .. }, ["ip", "address", a, m, rest @ ..]) => {
            let address = parse_ipv4(a, "the interface address")?;
            let mask = parse_mask(m)?;
            let standby = match rest {
                [] => None,
                ["standby", s] => {
                    let s = parse_ipv4(s, "the standby address")?;
                    check_standby_v4(address, mask, s)?;
                    Some(s)
                }
                _ => return Err(expected("`standby A.B.C.D` or nothing after the netmask")),
            };
            set(Command::IpAddress(IpAddress::Static { address, mask, standby }))
        }
        (Command::Interface { .. }, ["ip", "address", ..]) => {
            Err(expected("`ip address A.B.C.D MASK [standby A.B.C.D]`, `ip address dhcp` or `ip address pppoe`"))
        }
        (Command::Interface { .. }, ["ipv6", "address", _, ..]) => set(Command::Ipv6Address(words[2..].join(" "))),
        (_, ["no", rest @ ..]) if !rest.is_empty() => Ok(remove(rest)),
        (_, ["no"]) => Err(expected("a command after `no`")),
        _ => set(Command::Verbatim),
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

    fn system_lines(&self) -> impl Iterator<Item = &Command> {
        self.system.lines.iter().map(|l| &l.command)
    }

    /// `no failover` in the system space: saved, it keeps the unit
    /// standalone from power-on (section 5).
    pub fn failover_disabled(&self) -> bool {
        self.system_lines().any(|c| matches!(c, Command::Failover(FailoverCommand::Enable(false))))
    }

    /// The admin context (`admin-context NAME`, else `admin`).
    pub fn admin_context(&self) -> &str {
        self.system_lines()
            .find_map(|c| match c {
                Command::AdminContext { name } => Some(name.as_str()),
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
                (Command::Context { name }, false) => {
                    out.insert(name.clone(), Group::One);
                    current = Some(name);
                }
                (Command::JoinFailoverGroup(g), true) => {
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
                (Action::Set(Command::JoinFailoverGroup(Group::Two)), Some(Command::Context { name }))
                    if prepared.sub && name == self.admin_context() =>
                {
                    return Err(LineError::AdminContextGroup { name: name.clone() });
                }
                (Action::Set(Command::AdminContext { name }), _)
                    if self.context_groups().get(name).is_some_and(|g| *g == Group::Two) =>
                {
                    return Err(LineError::AdminContextGroup { name: name.clone() });
                }
                (Action::Set(Command::Context { name }), _)
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
            (Action::Set(Command::Context { name }), false, SpaceKind::System) => Some(name.clone()),
            _ => None,
        };
        let (applied, removed) = target.commit(prepared);
        // One context entry per `context NAME` block of the system space.
        if kind == SpaceKind::System {
            for line in &removed {
                if let (Command::Context { name }, false) = (&line.command, line.sub) {
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
                (Command::Context { name }, false) => Some(name),
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
                Command::Failover(FailoverCommand::LanInterface { hardware: hw, .. }) => hardware.push(hw.clone()),
                Command::Failover(FailoverCommand::Link { hardware: Some(hw), .. }) => hardware.push(hw.clone()),
                Command::Failover(FailoverCommand::InterfaceIp { address: FailoverAddress::V6 { .. }, .. }) => {
                    out.ipv6 = true
                }
                _ => {}
            }
        }
        let mut in_failover_iface = false;
        for line in &self.system.lines {
            match (&line.command, line.sub) {
                (Command::Interface { name }, false) => in_failover_iface = hardware.contains(name),
                (_, false) => in_failover_iface = false,
                (Command::IpAddress(IpAddress::Dhcp), true) if in_failover_iface => out.dhcp = true,
                (Command::IpAddress(IpAddress::Pppoe), true) if in_failover_iface => out.pppoe = true,
                (Command::Ipv6Address(_), true) if in_failover_iface => out.ipv6 = true,
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
