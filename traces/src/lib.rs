//! `fover-traces`: the trace of one simulated run, as versioned JSON lines.
//!
//! A trace file is a [`Header`] line followed by one [`Record`] per event, in
//! simulated-time order; the last record is the [`Event::Verdict`].
//! [`io`] writes and reads trace files, [`compare`] finds where a replay
//! leaves its trace, and [`render`] draws a trace as a terminal timeline or
//! one HTML page.
//!
//! ```
//! use fover_traces::{Event, Record};
//!
//! let r = Record { t_ns: 5_000_000, event: Event::Note { unit: None, text: "hello".into() } };
//! let line = serde_json::to_string(&r).unwrap();
//! assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), r);
//! ```

use serde::{Deserialize, Serialize};

pub mod compare;
pub mod io;
pub mod render;

/// The trace format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The `format` field of every header.
pub const FORMAT_NAME: &str = "fover-trace";

/// The first line of a trace: everything needed to run it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub version: u32,
    pub fover_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// `fast` or `madsim`.
    pub engine: String,
    pub seed: u64,
    /// Options drawn from the seed (timers, fault families), for people to read.
    #[serde(default)]
    pub options: serde_json::Value,
    /// The full run as data (pair, groups, contexts, steps): replay runs this.
    pub scenario: serde_json::Value,
    /// The scenario file the run came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_file: Option<String>,
    /// The planted bug, if the run had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planted_bug: Option<String>,
}

/// One event at a simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Simulated (true) time in nanoseconds since the start of the run.
    pub t_ns: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// A unit powered on.
    Boot { unit: String, boot_nonce: u64, local_ns: u64 },
    /// A unit lost power or crashed.
    Down { unit: String, why: String },
    /// A frame left a unit.
    Sent { unit: String, link: String, msg: String, len: usize },
    /// A frame reached a unit.
    Delivered {
        unit: String,
        link: String,
        msg: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        corrupted: bool,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        duplicate: bool,
    },
    /// The fabric dropped a frame sent by `unit`.
    Dropped { unit: String, link: String, msg: String, why: String },
    /// A unit's timer fired.
    Timer { unit: String, local_ns: u64 },
    /// A group changed state on a unit.
    Transition { unit: String, group: u8, from: String, to: String, reason: String },
    /// A syslog message.
    Syslog { unit: String, id: u32, text: String },
    /// Any other event a unit reported.
    UnitEvent { unit: String, text: String },
    /// A step of the schedule was applied (the step as JSON).
    Step { step: serde_json::Value },
    /// An operator command and what the unit answered.
    Command { unit: String, context: String, line: String, ok: bool, output: String },
    /// The output of a `show` step.
    Show { unit: String, command: String, output: String },
    /// An expectation of a scenario file was checked.
    Expect { step: serde_json::Value, pass: bool, observed: String },
    /// A property was violated.
    Violation { property: String, message: String },
    /// A free-form note.
    Note {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        text: String,
    },
    /// The end of the run: `pass`, `safety`, `liveness` or `crash`.
    Verdict {
        verdict: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        property: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

impl Event {
    /// The kebab-case kind name, as in the JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Boot { .. } => "boot",
            Event::Down { .. } => "down",
            Event::Sent { .. } => "sent",
            Event::Delivered { .. } => "delivered",
            Event::Dropped { .. } => "dropped",
            Event::Timer { .. } => "timer",
            Event::Transition { .. } => "transition",
            Event::Syslog { .. } => "syslog",
            Event::UnitEvent { .. } => "unit-event",
            Event::Step { .. } => "step",
            Event::Command { .. } => "command",
            Event::Show { .. } => "show",
            Event::Expect { .. } => "expect",
            Event::Violation { .. } => "violation",
            Event::Note { .. } => "note",
            Event::Verdict { .. } => "verdict",
        }
    }

    /// The unit the event belongs to, if any.
    pub fn unit(&self) -> Option<&str> {
        match self {
            Event::Boot { unit, .. }
            | Event::Down { unit, .. }
            | Event::Sent { unit, .. }
            | Event::Delivered { unit, .. }
            | Event::Dropped { unit, .. }
            | Event::Timer { unit, .. }
            | Event::Transition { unit, .. }
            | Event::Syslog { unit, .. }
            | Event::UnitEvent { unit, .. }
            | Event::Command { unit, .. }
            | Event::Show { unit, .. } => Some(unit),
            Event::Note { unit, .. } => unit.as_deref(),
            _ => None,
        }
    }
}

/// A stable 64-bit FNV-1a hash over the JSON lines of records: the same run
/// gives the same hash in any process.
pub fn hash_records<'a>(records: impl IntoIterator<Item = &'a Record>) -> u64 {
    struct Fnv(u64);
    impl std::io::Write for Fnv {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            for b in buf {
                self.0 ^= *b as u64;
                self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for r in records {
        // Writing to a hasher cannot fail, and these types always serialize.
        let _ = serde_json::to_writer(&mut h, r);
        let _ = std::io::Write::write(&mut h, b"\n");
    }
    h.0
}
