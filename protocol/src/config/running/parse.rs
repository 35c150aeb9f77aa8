//! The line parser of the running configuration: what each line of a space
//! means ([`Statement`]), and the errors a line can give.

use super::*;
pub use crate::config::command::GroupOption;

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

/// The parsed form of a line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Statement {
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

pub(super) fn expected(what: impl Into<String>) -> LineError {
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
/// The parsed effect of a line, before it is applied.
pub(super) enum Action {
    /// Store the line, replacing any line with the same key.
    Set(Statement),
    /// `no X` / `clear configure X`: remove the lines beginning with `words`; if
    /// there is none and `store_if_absent`, store the line itself.
    Remove { words: Vec<String>, store_if_absent: bool },
    /// `clear configure all`.
    ClearAll,
}

/// Settings kept verbatim whose first word is what they set.
const VERBATIM_SETTINGS: &[&str] =
    &["security-level", "shutdown", "description", "mtu", "speed", "duplex", "config-url"];

pub(super) fn verbatim_key(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let base = match words.as_slice() {
        ["no", rest @ ..] | rest => rest,
    };
    match base.first() {
        Some(first) if VERBATIM_SETTINGS.contains(&first.to_ascii_lowercase().as_str()) => first.to_ascii_lowercase(),
        _ => words.join(" "),
    }
}

pub(super) fn key_of(command: &Statement, text: &str) -> String {
    match command {
        Statement::Context { name } => format!("context {name}"),
        Statement::AdminContext { .. } => "admin-context".into(),
        Statement::JoinFailoverGroup(_) => "join-failover-group".into(),
        Statement::Failover(f) => match f {
            FailoverCommand::Enable(_) => "failover".into(),
            FailoverCommand::LanUnit(_) => "failover lan unit".into(),
            FailoverCommand::LanInterface { .. } => "failover lan interface".into(),
            FailoverCommand::InterfaceIp { name, .. } => format!("failover interface ip {name}"),
            FailoverCommand::Key => "failover key".into(),
            FailoverCommand::Link { .. } => "failover link".into(),
            FailoverCommand::Polltime { .. } => "failover polltime unit".into(),
            FailoverCommand::Other => text.split_whitespace().collect::<Vec<_>>().join(" "),
        },
        Statement::FailoverGroup(g) => format!("failover group {g}"),
        Statement::GroupOption(o) => match o {
            GroupOption::Preferred(_) => "preferred unit".into(),
            GroupOption::Preempt(_) => "preempt".into(),
            GroupOption::InterfacePolicy(_) => "interface-policy".into(),
            GroupOption::PolltimeInterface { .. } => "polltime interface".into(),
            GroupOption::ReplicationHttp(_) => "replication http".into(),
        },
        Statement::Interface { name } => format!("interface {name}"),
        Statement::Nameif(_) => "nameif".into(),
        Statement::IpAddress(_) => "ip address".into(),
        Statement::Ipv6Address(_) => text.split_whitespace().collect::<Vec<_>>().join(" "),
        Statement::Hostname(_) => "hostname".into(),
        Statement::MonitorInterface { name, .. } => format!("monitor-interface {name}"),
        Statement::AccessList { .. } | Statement::Verbatim => verbatim_key(text),
    }
}

pub(super) fn refuse_in_context(text: &str, k: &[&str]) -> Result<(), LineError> {
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

pub(crate) fn parse_group_number(word: &str) -> Result<Group, LineError> {
    match word {
        "1" => Ok(Group::One),
        "2" => Ok(Group::Two),
        _ => Err(expected("a failover group: 1 or 2")),
    }
}

pub(crate) fn parse_role(word: &str) -> Result<Role, LineError> {
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

/// Who typed a failover line: the two callers of the shared grammar below
/// differ in what they check and in a few texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A line of the running configuration: times and delays are checked
    /// here, and an unknown `failover group` sub-line is kept verbatim.
    Config,
    /// An operator command ([`crate::config::command`]): the unit checks the
    /// values when it applies the command; every unknown option is an error.
    Exec,
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

pub(super) fn config_err(e: crate::config::settings::ConfigError) -> LineError {
    expected(e.to_string())
}

/// Parses a line into the action it takes. `words` are the original words, `k` the same in lower case.
pub(super) fn parse(
    kind: SpaceKind,
    parent: Option<&Statement>,
    words: &[&str],
    k: &[&str],
) -> Result<Action, LineError> {
    let set = |c: Statement| Ok(Action::Set(c));
    if let Some(parent) = parent {
        return parse_sub(parent, words, k);
    }
    let system_only = |cmd: &str| LineError::WrongSpace { command: cmd.to_owned(), belongs: "the system space" };
    let context_only = |cmd: &str| LineError::WrongSpace { command: cmd.to_owned(), belongs: "a context" };
    match (kind, k) {
        (_, ["hostname", _]) => set(Statement::Hostname(parse_name(words[1], "a host name")?)),
        (_, ["hostname", ..]) => Err(expected("`hostname NAME`")),
        (_, ["interface", _]) => set(Statement::Interface { name: parse_name(words[1], "an interface name")? }),
        (_, ["interface", ..]) => Err(expected("`interface NAME`")),
        (SpaceKind::System, ["context", _]) => set(Statement::Context { name: parse_context_name(words[1])? }),
        (SpaceKind::System, ["context", ..]) => Err(expected("`context NAME`")),
        (SpaceKind::System, ["admin-context", _]) => {
            set(Statement::AdminContext { name: parse_context_name(words[1])? })
        }
        (SpaceKind::System, ["admin-context", ..]) => Err(expected("`admin-context NAME`")),
        (SpaceKind::System, ["failover", "group", n]) => set(Statement::FailoverGroup(parse_group_number(n)?)),
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
            set(Statement::MonitorInterface { name: parse_name(words[1], "an interface name")?, monitored: true })
        }
        (SpaceKind::Context, ["no", "monitor-interface", _]) => {
            set(Statement::MonitorInterface { name: parse_name(words[2], "an interface name")?, monitored: false })
        }
        (SpaceKind::Context, ["monitor-interface", ..] | ["no", "monitor-interface", ..]) => {
            Err(expected("`[no] monitor-interface NAME`"))
        }
        (SpaceKind::Context, ["access-list", _, _, ..]) => {
            set(Statement::AccessList { name: parse_name(words[1], "an access-list name")? })
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
        _ => set(Statement::Verbatim),
    }
}

fn parse_failover(words: &[&str], k: &[&str]) -> Result<Action, LineError> {
    let set = |c: FailoverCommand| Ok(Action::Set(Statement::Failover(c)));
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
            FailoverKey::parse(&secret).map_err(|e| config_err(e.into()))?;
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
            let (polltime, holdtime) = parse_unit_polltime(rest, Mode::Config)?;
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

fn parse_sub(parent: &Statement, words: &[&str], k: &[&str]) -> Result<Action, LineError> {
    let set = |c: Statement| Ok(Action::Set(c));
    match (parent, k) {
        (Statement::Context { .. }, ["join-failover-group", n]) => {
            set(Statement::JoinFailoverGroup(parse_group_number(n)?))
        }
        (Statement::Context { .. }, ["join-failover-group", ..]) => Err(expected("`join-failover-group 1|2`")),
        (Statement::FailoverGroup(_), _) => match parse_group_option(k, Mode::Config)? {
            Some(option) => set(Statement::GroupOption(option)),
            None => parse_sub_other(k),
        },
        (Statement::Interface { .. }, ["nameif", _]) => {
            set(Statement::Nameif(parse_name(words[1], "an interface name")?))
        }
        (Statement::Interface { .. }, ["ip", "address", "dhcp", ..]) => set(Statement::IpAddress(IpAddress::Dhcp)),
        (Statement::Interface { .. }, ["ip", "address", "pppoe", ..]) => set(Statement::IpAddress(IpAddress::Pppoe)),
        (Statement::Interface { .. }, ["ip", "address", a, m, rest @ ..]) => {
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
            set(Statement::IpAddress(IpAddress::Static { address, mask, standby }))
        }
        (Statement::Interface { .. }, ["ip", "address", ..]) => {
            Err(expected("`ip address A.B.C.D MASK [standby A.B.C.D]`, `ip address dhcp` or `ip address pppoe`"))
        }
        (Statement::Interface { .. }, ["ipv6", "address", _, ..]) => set(Statement::Ipv6Address(words[2..].join(" "))),
        _ => parse_sub_other(k),
    }
}

/// A sub-line no block reads: `no X` removes, anything else is kept verbatim.
fn parse_sub_other(k: &[&str]) -> Result<Action, LineError> {
    match k {
        ["no", rest @ ..] if !rest.is_empty() => {
            Ok(Action::Remove { words: rest.iter().map(|w| (*w).to_owned()).collect(), store_if_absent: true })
        }
        ["no"] => Err(expected("a command after `no`")),
        _ => Ok(Action::Set(Statement::Verbatim)),
    }
}

/// The times of `failover polltime [unit] ...` (the words after `polltime`
/// or `polltime unit`): `(polltime, holdtime)`.
pub(crate) fn parse_unit_polltime(k: &[&str], mode: Mode) -> Result<(Duration, Duration), LineError> {
    let (polltime, rest) = parse_time(k)?;
    let holdtime = match rest {
        ["holdtime", rest @ ..] => {
            let (h, rest) = parse_time(rest)?;
            if !rest.is_empty() {
                return Err(expected("nothing after the holdtime"));
            }
            h
        }
        [] => polltime * 3,
        _ if mode == Mode::Exec => return Err(expected("`holdtime N` or `holdtime msec N`")),
        _ => return Err(expected("`holdtime N` or `holdtime msec N` after the polltime")),
    };
    if mode == Mode::Config {
        validate_unit_times(polltime, holdtime).map_err(config_err)?;
    }
    Ok((polltime, holdtime))
}

/// One option of a failover group (`k`: a sub-line of a `failover group N`
/// block, or the words after `failover group N` typed as a command).
/// `Ok(None)`: not an option this model reads (kept verbatim; [`Mode::Config`] only).
pub(crate) fn parse_group_option(k: &[&str], mode: Mode) -> Result<Option<GroupOption>, LineError> {
    let option = match k {
        ["primary" | "secondary"] => GroupOption::Preferred(parse_role(k[0])?),
        ["preempt"] => GroupOption::Preempt(Some(Duration::ZERO)),
        ["preempt", d] if mode == Mode::Exec => {
            let s: u64 = d.parse().map_err(|_| expected("a preempt delay in seconds (1-1200)"))?;
            GroupOption::Preempt(Some(Duration::from_secs(s)))
        }
        ["preempt", d] => {
            let s: u64 = d
                .parse()
                .ok()
                .filter(|s| (1..=PREEMPT_DELAY_S_MAX).contains(s))
                .ok_or_else(|| expected(format!("a preempt delay of 1-{PREEMPT_DELAY_S_MAX} seconds")))?;
            GroupOption::Preempt(Some(Duration::from_secs(s)))
        }
        ["no", "preempt"] => GroupOption::Preempt(None),
        ["interface-policy", p] => GroupOption::InterfacePolicy(InterfacePolicy::parse(p).map_err(config_err)?),
        ["polltime", "interface", rest @ ..] => {
            let (polltime, rest) = parse_time(rest)?;
            let holdtime = match rest {
                ["holdtime", h] => Duration::from_secs(h.parse().map_err(|_| expected("a holdtime in seconds"))?),
                [] => polltime * 5,
                _ if mode == Mode::Exec => return Err(expected("`holdtime N`")),
                _ => return Err(expected("`holdtime N` after the interface polltime")),
            };
            if mode == Mode::Config {
                validate_interface_times(polltime, holdtime).map_err(config_err)?;
            }
            GroupOption::PolltimeInterface { polltime, holdtime }
        }
        ["replication", "http"] => GroupOption::ReplicationHttp(true),
        ["no", "replication", "http"] => GroupOption::ReplicationHttp(false),
        _ if mode == Mode::Exec => {
            return Err(expected(
                "primary | secondary | [no] preempt [delay] | interface-policy N[%] | polltime interface ... | [no] \
                 replication http",
            ));
        }
        ["primary" | "secondary" | "preempt" | "interface-policy" | "polltime" | "replication", ..] => {
            return Err(expected(
                "primary | secondary | [no] preempt [1-1200] | interface-policy N[%] | polltime interface [msec] N \
                 [holdtime M] | [no] replication http",
            ));
        }
        _ => return Ok(None),
    };
    Ok(Some(option))
}
