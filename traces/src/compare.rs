//! Record-by-record comparison of two traces of the same run (a recorded
//! trace and its replay): the first divergence, with the records both agree
//! on just before it.

use crate::Record;
use std::fmt::Write as _;

/// Records of agreement shown before a divergence.
pub const CONTEXT_RECORDS: usize = 3;

/// Where two record sequences first differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// Index of the first differing record (0-based; line `index + 2` of a trace file).
    pub index: usize,
    /// The recorded trace's record there (`None`: the trace ends first).
    pub recorded: Option<Record>,
    /// The replay's record there (`None`: the replay ends first).
    pub replayed: Option<Record>,
    /// Up to [`CONTEXT_RECORDS`] records both agree on, just before `index`.
    pub context: Vec<Record>,
}

/// The first place where `recorded` and `replayed` differ, or `None` if they are equal.
pub fn first_divergence(recorded: &[Record], replayed: &[Record]) -> Option<Divergence> {
    let index = recorded.iter().zip(replayed).position(|(a, b)| a != b).unwrap_or(recorded.len().min(replayed.len()));
    if index == recorded.len() && index == replayed.len() {
        return None;
    }
    Some(Divergence {
        index,
        recorded: recorded.get(index).cloned(),
        replayed: replayed.get(index).cloned(),
        context: recorded[index.saturating_sub(CONTEXT_RECORDS)..index].to_vec(),
    })
}

/// Seconds with milliseconds (and microseconds when there are any): `12.345s`.
pub fn seconds(t_ns: u64) -> String {
    let (s, rem) = (t_ns / 1_000_000_000, t_ns % 1_000_000_000);
    if rem % 1_000_000 == 0 { format!("{s}.{:03}s", rem / 1_000_000) } else { format!("{s}.{:06}s", rem / 1_000) }
}

fn line(r: &Record) -> String {
    serde_json::to_string(r).unwrap_or_else(|e| format!("(unprintable record: {e})"))
}

impl Divergence {
    /// Several lines: the context, then both records at the divergence.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let at = self.recorded.as_ref().or(self.replayed.as_ref()).map(|r| seconds(r.t_ns)).unwrap_or_default();
        let _ =
            writeln!(out, "first divergence at record {} (line {} of the trace), t = {at}", self.index, self.index + 2);
        if !self.context.is_empty() {
            let _ = writeln!(out, "  both agree before it:");
            let first = self.index - self.context.len();
            for (i, r) in self.context.iter().enumerate() {
                let _ = writeln!(out, "    #{:<5} {}", first + i, line(r));
            }
        }
        let show = |r: &Option<Record>, ended: &str| r.as_ref().map_or_else(|| ended.to_owned(), line);
        let _ = writeln!(out, "  trace  #{:<5} {}", self.index, show(&self.recorded, "(the trace ends here)"));
        let _ = writeln!(out, "  replay #{:<5} {}", self.index, show(&self.replayed, "(the replay ends here)"));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    fn note(t_ns: u64, text: &str) -> Record {
        Record { t_ns, event: Event::Note { unit: None, text: text.into() } }
    }

    #[test]
    fn equal_sequences_do_not_diverge() {
        let a = vec![note(1, "a"), note(2, "b")];
        assert_eq!(first_divergence(&a, &a.clone()), None);
        assert_eq!(first_divergence(&[], &[]), None);
    }

    #[test]
    fn first_difference_comes_with_context() {
        let a: Vec<Record> = (0..10).map(|i| note(i, "same")).collect();
        let mut b = a.clone();
        b[6] = note(6, "other");
        b[8] = note(8, "later");
        let d = first_divergence(&a, &b).unwrap();
        assert_eq!(d.index, 6);
        assert_eq!(d.context, a[3..6].to_vec());
        assert_eq!(d.replayed, Some(note(6, "other")));
        let text = d.render();
        assert!(text.contains("record 6 (line 8 of the trace)"), "{text}");
        assert!(text.contains("#3 "), "{text}");
    }

    #[test]
    fn a_shorter_side_diverges_where_it_ends() {
        let a = vec![note(1, "a"), note(2, "b")];
        let d = first_divergence(&a, &a[..1]).unwrap();
        assert_eq!((d.index, d.replayed.is_none()), (1, true));
        assert!(d.render().contains("(the replay ends here)"));
        let d = first_divergence(&a[..0], &a).unwrap();
        assert_eq!((d.index, d.recorded.is_none(), d.context.len()), (0, true, 0));
    }

    #[test]
    fn seconds_show_milliseconds() {
        assert_eq!(seconds(0), "0.000s");
        assert_eq!(seconds(12_345_000_000), "12.345s");
        assert_eq!(seconds(1_500), "0.000001s");
    }
}
