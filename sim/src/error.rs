//! The harness's errors, and `fover`'s exit codes by verdict.
//!
//! A run that breaks a property is not an error: it is a verdict, and ends
//! with [`Exit::Failed`]. An [`Error`] is anything that kept a command from
//! reaching a verdict: bad input ([`Exit::BadInput`]) or a failure of the
//! harness itself ([`Exit::Internal`]). [`Error::exit`] says which.

use crate::replay::ReplayError;
use crate::scenario::ScenarioError;
use crate::shrink::ShrinkError;
use std::path::PathBuf;

/// The exit codes of `fover`, one place for all of them (the `--help` text,
/// the README's "Exit codes" and the tests follow these).
pub mod code {
    /// Every check passed: each seed, scenario, expectation and property held; a replay was identical.
    pub const PASS: u8 = 0;
    /// A property failed, a scenario expectation failed, a replay diverged, the determinism
    /// recheck disagreed, or (with `--require-coverage`) a sometimes-property was never reached.
    pub const FAILED: u8 = 1;
    /// Bad input or usage: an unknown option or bad value (clap's usage errors too), a file
    /// that is missing or malformed (scenario, trace), an engine this build does not have.
    pub const BAD_INPUT: u8 = 2;
    /// The harness itself failed: a panic outside a run, an engine that could not run a
    /// scenario, a results or trace file that could not be written.
    pub const INTERNAL: u8 = 3;
    /// Interrupted (Ctrl-C, SIGINT): 128 + 2, as a shell reports it.
    pub const INTERRUPTED: u8 = 130;
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Pass,
    Failed,
    BadInput,
    Internal,
    Interrupted,
}

impl Exit {
    pub const ALL: [Exit; 5] = [Exit::Pass, Exit::Failed, Exit::BadInput, Exit::Internal, Exit::Interrupted];

    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Pass => code::PASS,
            Exit::Failed => code::FAILED,
            Exit::BadInput => code::BAD_INPUT,
            Exit::Internal => code::INTERNAL,
            Exit::Interrupted => code::INTERRUPTED,
        }
    }

    /// [`Exit::Pass`] if `passed`, else [`Exit::Failed`].
    pub const fn verdict(passed: bool) -> Exit {
        if passed { Exit::Pass } else { Exit::Failed }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit.code())
    }
}

/// The "Exit codes" section of `fover --help` (a test checks it against [`code`]).
pub const EXIT_CODES_HELP: &str = "\
Exit codes (sweep, run, scenario, replay, shrink; the other commands use 0, 2 and 3):
  0    pass: every seed, scenario, expectation and property held; a replay was identical
  1    failed: a property or a scenario expectation failed (a panic in a run is the
       no-panic property), a replay diverged, the determinism recheck disagreed, or
       with --require-coverage a sometimes-property was never reached
  2    bad input or usage: an unknown option or bad value, a missing or malformed
       scenario or trace file, an engine or planted bug this build does not have
  3    internal error: the harness itself failed (a panic outside a run, a results,
       trace or scenario file that cannot be written)
  130  interrupted (Ctrl-C); a sweep first prints the summary of the seeds that
       finished, ending in INTERRUPTED (done/total)";

/// A scenario could not be run at all (a run that fails is an outcome, not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The engine refused the scenario.
    #[error("{0}")]
    Engine(String),
    #[error("cannot start a seed thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("the seed thread died")]
    ThreadDied,
}

/// A file (or its folder) that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl WriteError {
    pub fn new(path: impl Into<PathBuf>, source: std::io::Error) -> WriteError {
        WriteError { path: path.into(), source }
    }
}

/// Why a `fover` command could not reach a verdict.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad value or combination of options that clap cannot check.
    #[error("{0}")]
    Usage(String),
    /// A scenario file that could not be read, parsed or validated (`file:line:column: ...`).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// A folder of scenario files that could not be listed.
    #[error("{}: {source}", path.display())]
    ListFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A trace file that could not be read (the text names the file and the line).
    #[error("{0}")]
    Trace(String),
    /// A trace that could not be replayed.
    #[error("{}: {source}", trace.display())]
    Replay {
        trace: PathBuf,
        #[source]
        source: ReplayError,
    },
    /// A trace that could not be shrunk.
    #[error("{}: {source}", trace.display())]
    Shrink {
        trace: PathBuf,
        #[source]
        source: ShrinkError,
    },
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// One seed of a sweep could not be run or its trace written.
    #[error("seed {seed}: {source}")]
    Seed {
        seed: u64,
        #[source]
        source: Box<Error>,
    },
    #[error("cannot start a sweep worker: {0}")]
    Worker(#[source] std::io::Error),
    #[error("stdout: {0}")]
    Stdout(#[source] std::io::Error),
    /// The harness broke: a panic outside a run, a value that would not serialise.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The exit status this error ends `fover` with.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) | Error::Scenario(_) | Error::ListFolder { .. } | Error::Trace(_) => Exit::BadInput,
            Error::Replay { source, .. } => replay_exit(source),
            Error::Shrink { source: ShrinkError::Replay(source), .. } => replay_exit(source),
            Error::Shrink { source: ShrinkError::Run(_) | ShrinkError::Nondeterministic { .. }, .. } => Exit::Internal,
            Error::Shrink { .. } => Exit::BadInput,
            Error::Seed { source, .. } => source.exit(),
            Error::Run(_) | Error::Write(_) | Error::Worker(_) | Error::Stdout(_) | Error::Internal(_) => {
                Exit::Internal
            }
        }
    }
}

fn replay_exit(e: &ReplayError) -> Exit {
    match e {
        ReplayError::Run(_) => Exit::Internal,
        _ => Exit::BadInput,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each code appears in the help text, at the start of its line, once.
    #[test]
    fn the_help_text_lists_every_exit_code() {
        for exit in Exit::ALL {
            let code = exit.code().to_string();
            let lines = EXIT_CODES_HELP.lines().filter(|l| l.trim_start().split(' ').next() == Some(code.as_str()));
            assert_eq!(lines.count(), 1, "exit code {code} ({exit:?}) in:\n{EXIT_CODES_HELP}");
        }
    }

    #[test]
    fn bad_input_and_internal_errors_are_told_apart() {
        let io = || std::io::Error::other("disk on fire");
        assert_eq!(Error::Usage("x".into()).exit(), Exit::BadInput);
        assert_eq!(Error::Trace("t: line 3: bad".into()).exit(), Exit::BadInput);
        assert_eq!(Error::Write(WriteError::new("out/results.jsonl", io())).exit(), Exit::Internal);
        let seed = Error::Seed { seed: 4, source: Box::new(Error::Write(WriteError::new("t", io()))) };
        assert_eq!(seed.exit(), Exit::Internal);
        assert!(seed.to_string().starts_with("seed 4: t: disk on fire"), "{seed}");
        let replay = |source| Error::Replay { trace: "t.jsonl".into(), source };
        assert_eq!(replay(ReplayError::EngineUnavailable).exit(), Exit::BadInput);
        assert_eq!(replay(ReplayError::Run(RunError::ThreadDied)).exit(), Exit::Internal);
        let shrink = |source| Error::Shrink { trace: "t.jsonl".into(), source };
        assert_eq!(shrink(ShrinkError::TracePassed).exit(), Exit::BadInput);
        assert_eq!(shrink(ShrinkError::Replay(ReplayError::UnknownEngine("x".into()))).exit(), Exit::BadInput);
        assert_eq!(shrink(ShrinkError::Run(RunError::ThreadDied)).exit(), Exit::Internal);
    }
}
