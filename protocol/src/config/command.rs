//! The text form of the failover commands a [`crate::unit::Command`] types, and of the
//! `show` commands ([`parse_show_command`]).
//!
//! ```
//! use fover_protocol::config::command::parse_failover_command;
//! use fover_protocol::unit::Command;
//! use fover_protocol::types::Group;
//!
//! assert_eq!(parse_failover_command("failover active group 2"), Ok(Some(Command::FailoverActive(Some(Group::Two)))));
//! assert_eq!(parse_failover_command("hostname fw1"), Ok(None)); // not a failover command
//! ```

use crate::config::settings::InterfacePolicy;
use crate::show::{ShowCommand, ShowError};
use crate::types::{Group, Role};
use crate::unit::{Command, GroupOption};
use core::time::Duration;

/// A failover command line that could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line:?}: {expected}")]
pub struct CliError {
    pub line: String,
    pub expected: String,
}

fn err(line: &str, expected: impl Into<String>) -> CliError {
    CliError { line: line.to_owned(), expected: expected.into() }
}

fn parse_group(line: &str, words: &[&str]) -> Result<Option<Group>, CliError> {
    match words {
        [] => Ok(None),
        ["group", n] => match *n {
            "1" => Ok(Some(Group::One)),
            "2" => Ok(Some(Group::Two)),
            _ => Err(err(line, "a failover group: 1 or 2")),
        },
        _ => Err(err(line, "nothing, or `group 1|2`")),
    }
}

/// Parses a time given as `N` seconds or `msec N`; returns the remaining words.
fn parse_time<'a>(line: &str, words: &'a [&'a str]) -> Result<(Duration, &'a [&'a str]), CliError> {
    match words {
        ["msec", n, rest @ ..] => {
            let v: u64 = n.parse().map_err(|_| err(line, "a number of milliseconds after `msec`"))?;
            Ok((Duration::from_millis(v), rest))
        }
        [n, rest @ ..] => {
            let v: u64 = n.parse().map_err(|_| err(line, "a number of seconds, or `msec N`"))?;
            Ok((Duration::from_secs(v), rest))
        }
        [] => Err(err(line, "a time: N seconds, or `msec N`")),
    }
}

/// Parses one line. `Ok(None)` means the line is not a failover command at all
/// (a general configuration command, handled elsewhere).
pub fn parse_failover_command(line: &str) -> Result<Option<Command>, CliError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let cmd = match words.as_slice() {
        ["failover"] => Command::Failover,
        ["no", "failover"] => Command::NoFailover,
        ["failover", "active", rest @ ..] => Command::FailoverActive(parse_group(line, rest)?),
        ["no", "failover", "active", rest @ ..] => Command::NoFailoverActive(parse_group(line, rest)?),
        ["failover", "reset", rest @ ..] => Command::FailoverReset(parse_group(line, rest)?),
        ["failover", "lan", "unit", role] => match *role {
            "primary" => Command::LanUnit(Role::Primary),
            "secondary" => Command::LanUnit(Role::Secondary),
            _ => return Err(err(line, "`primary` or `secondary`")),
        },
        ["failover", "polltime", "unit", rest @ ..] | ["failover", "polltime", rest @ ..] => {
            let (polltime, rest) = parse_time(line, rest)?;
            let holdtime = match rest {
                ["holdtime", rest @ ..] => {
                    let (h, rest) = parse_time(line, rest)?;
                    if !rest.is_empty() {
                        return Err(err(line, "nothing after the holdtime"));
                    }
                    h
                }
                [] => polltime * 3,
                _ => return Err(err(line, "`holdtime N` or `holdtime msec N`")),
            };
            Command::UnitPolltime { polltime, holdtime }
        }
        ["failover", "group", n, rest @ ..] => {
            let group = parse_group(line, &["group", n])?.unwrap_or(Group::One);
            let option = match rest {
                ["primary"] => GroupOption::Preferred(Role::Primary),
                ["secondary"] => GroupOption::Preferred(Role::Secondary),
                ["preempt"] => GroupOption::Preempt(Some(Duration::ZERO)),
                ["preempt", d] => {
                    let s: u64 = d.parse().map_err(|_| err(line, "a preempt delay in seconds (1-1200)"))?;
                    GroupOption::Preempt(Some(Duration::from_secs(s)))
                }
                ["no", "preempt"] => GroupOption::Preempt(None),
                ["interface-policy", p] => {
                    GroupOption::InterfacePolicy(InterfacePolicy::parse(p).map_err(|e| err(line, e.to_string()))?)
                }
                ["polltime", "interface", rest @ ..] => {
                    let (polltime, rest) = parse_time(line, rest)?;
                    let holdtime = match rest {
                        ["holdtime", h] => {
                            Duration::from_secs(h.parse().map_err(|_| err(line, "a holdtime in seconds"))?)
                        }
                        [] => polltime * 5,
                        _ => return Err(err(line, "`holdtime N`")),
                    };
                    GroupOption::InterfacePolltime { polltime, holdtime }
                }
                ["replication", "http"] => GroupOption::ReplicationHttp(true),
                ["no", "replication", "http"] => GroupOption::ReplicationHttp(false),
                _ => {
                    return Err(err(
                        line,
                        "primary | secondary | [no] preempt [delay] | interface-policy N[%] | polltime interface ... | [no] replication http",
                    ));
                }
            };
            Command::GroupOption(group, option)
        }
        _ => return Ok(None),
    };
    Ok(Some(cmd))
}

/// Parses a `show` line. `Ok(None)` means the line is not a `show` command at
/// all; an unknown `show` command is an error that lists the known ones. The
/// unit answers with [`crate::Unit::show`].
pub fn parse_show_command(line: &str) -> Result<Option<ShowCommand>, ShowError> {
    match line.split_whitespace().next() {
        Some(w) if w.eq_ignore_ascii_case("show") => ShowCommand::parse(line).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_moves_parse() {
        assert_eq!(parse_failover_command("no failover active"), Ok(Some(Command::NoFailoverActive(None))));
        assert_eq!(
            parse_failover_command("failover reset group 1"),
            Ok(Some(Command::FailoverReset(Some(Group::One))))
        );
        assert!(parse_failover_command("failover active group 3").is_err());
    }

    #[test]
    fn show_lines_parse_apart_from_failover_commands() {
        assert_eq!(parse_show_command("show failover history"), Ok(Some(ShowCommand::FailoverHistory)));
        assert_eq!(parse_show_command("failover active"), Ok(None));
        assert!(parse_show_command("show failover nonsense").is_err());
    }

    #[test]
    fn polltime_parses_msec_forms() {
        assert_eq!(
            parse_failover_command("failover polltime unit msec 200 holdtime msec 800"),
            Ok(Some(Command::UnitPolltime {
                polltime: Duration::from_millis(200),
                holdtime: Duration::from_millis(800)
            }))
        );
    }
}
