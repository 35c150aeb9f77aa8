//! The operator's commands: the failover commands the unit obeys
//! ([`Command`], parsed from text by [`parse_failover_command`]), why one is
//! refused ([`CommandError`]). The `show` command lines are
//! parsed by [`crate::show::parse_show_command`].
//!
//! A failover line has one grammar, the running configuration's
//! ([`crate::config::running`]); this module adds the exec-only commands
//! (`failover active`, `failover reset`...) and reads `failover group N OPTION`
//! on one line.
//!
//! ```
//! use fover_protocol::config::command::{parse_failover_command, Command};
//! use fover_protocol::types::Group;
//!
//! assert_eq!(parse_failover_command("failover active group 2"), Ok(Some(Command::FailoverActive(Some(Group::Two)))));
//! assert_eq!(parse_failover_command("hostname fw1"), Ok(None)); // not a failover command
//! ```

use crate::config::running::{
    LineError, Mode, parse_group_number, parse_group_option, parse_role, parse_unit_polltime,
};
use crate::config::settings::{ConfigError, InterfacePolicy};
use crate::types::{Group, IfaceId, Role};
use core::time::Duration;

/// An operator command that the state machine understands (the typed subset
/// of the CLI; [`crate::Unit::handle_cli`] takes the rest as text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `failover`: enable failover.
    Failover,
    /// `no failover`: freeze the current roles until reload.
    NoFailover,
    /// `failover active [group N]`: make this unit active for the group(s).
    FailoverActive(Option<Group>),
    /// `no failover active [group N]`: make this unit standby for the group(s).
    NoFailoverActive(Option<Group>),
    /// `failover reset [group N]`: clear Failed.
    FailoverReset(Option<Group>),
    /// `failover lan unit primary|secondary`.
    LanUnit(Role),
    /// `failover polltime unit [msec] N holdtime [msec] M`.
    UnitPolltime { polltime: Duration, holdtime: Duration },
    /// `failover group N` followed by one option.
    GroupOption(Group, GroupOption),
    /// `[no] monitor-interface NAME` in a context.
    MonitorInterface { iface: IfaceId, monitored: bool },
}

/// One option of a failover group: a sub-line of a `failover group N` block
/// in the running configuration, or the rest of a `failover group N ...` command.
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

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Refused(String),
}

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

/// A grammar error of the shared failover-line parser, in this module's form.
fn cli_err(line: &str, e: LineError) -> CliError {
    match e {
        LineError::Expected { expected } => err(line, expected),
        other => err(line, other.to_string()),
    }
}

fn parse_group(line: &str, words: &[&str]) -> Result<Option<Group>, CliError> {
    match words {
        [] => Ok(None),
        ["group", n] => parse_group_number(n).map(Some).map_err(|e| cli_err(line, e)),
        _ => Err(err(line, "nothing, or `group 1|2`")),
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
        ["failover", "lan", "unit", role] => Command::LanUnit(parse_role(role).map_err(|e| cli_err(line, e))?),
        ["failover", "polltime", "unit", rest @ ..] | ["failover", "polltime", rest @ ..] => {
            let (polltime, holdtime) = parse_unit_polltime(rest, Mode::Exec).map_err(|e| cli_err(line, e))?;
            Command::UnitPolltime { polltime, holdtime }
        }
        ["failover", "group", n, rest @ ..] => {
            let group = parse_group(line, &["group", n])?.unwrap_or(Group::One);
            let option = parse_group_option(rest, Mode::Exec).map_err(|e| cli_err(line, e))?;
            Command::GroupOption(group, option.expect("every option parses or fails in exec mode"))
        }
        _ => return Ok(None),
    };
    Ok(Some(cmd))
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
