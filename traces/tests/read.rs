//! The trace format: write → read round trip, one line-numbered error per kind
//! of corrupt file, the committed `trace_read` fuzz seeds, and `read_any` on
//! about 100 000 mutated traces.

use fover_traces::io::{ReadError, read_any, write_trace};
use fover_traces::{Event, FORMAT_NAME, FORMAT_VERSION, Header, Record, hash_records};
use serde_json::json;
use std::path::{Path, PathBuf};

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/trace_read")
}

fn header() -> Header {
    Header {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        fover_version: "0.1.0".into(),
        git_commit: Some("0123abcd".into()),
        engine: "fast".into(),
        seed: 42,
        options: json!({ "unit_polltime_ms": 200, "families": ["partition"] }),
        scenario: json!({
            "name": "trace format: every kind of record",
            "duration_ms": 3000,
            "seed": 42,
            "step": [
                { "do": "boot", "at_ms": 0, "unit": "primary" },
                { "do": "cut", "at_ms": 1000, "link": "failover" },
            ],
        }),
        scenario_file: Some("scenarios/every-kind.toml".into()),
        planted_bug: Some("hold-timer-too-short".into()),
    }
}

/// One record of every kind, optional fields both set and unset.
fn every_kind() -> Vec<Record> {
    let ms = 1_000_000;
    let p = || "primary".to_owned();
    let s = || "secondary".to_owned();
    let events = vec![
        Event::Step { step: json!({ "do": "boot", "at_ms": 0, "unit": "primary" }) },
        Event::Boot { unit: p(), boot_nonce: 0xdead_beef_0042, local_ns: 7_000 * ms },
        Event::Timer { unit: p(), local_ns: 7_200 * ms },
        Event::Sent { unit: p(), link: "failover".into(), msg: "hello".into(), len: 64 },
        Event::Delivered {
            unit: s(),
            link: "failover".into(),
            msg: "hello".into(),
            corrupted: false,
            duplicate: false,
        },
        Event::Delivered { unit: s(), link: "failover".into(), msg: "?".into(), corrupted: true, duplicate: true },
        Event::Dropped { unit: s(), link: "data:ctx1/inside".into(), msg: "interface-hello".into(), why: "cut".into() },
        Event::Transition {
            unit: p(),
            group: 1,
            from: "Negotiation".into(),
            to: "Just Active".into(),
            reason: "No Active unit found".into(),
        },
        Event::Syslog { unit: p(), id: 104_001, text: "(Primary) Switching to ACTIVE - \"quoted\"\tand tabbed".into() },
        Event::UnitEvent { unit: s(), text: "LAN test started".into() },
        Event::Command {
            unit: s(),
            context: "system".into(),
            line: "failover active group 2".into(),
            ok: true,
            output: String::new(),
        },
        Event::Show { unit: p(), command: "show failover".into(), output: "Failover On\n\t\tGroup 1\n".into() },
        Event::Step { step: json!({ "do": "cut", "at_ms": 1000, "link": "failover" }) },
        Event::Expect {
            step: json!({ "do": "expect", "at_ms": 2000, "group": 1, "active": "primary" }),
            pass: false,
            observed: "expected group 1 active on primary, got none".into(),
        },
        Event::Down { unit: s(), why: "power-off".into() },
        Event::Note { unit: None, text: "connect 3 in ctx1: no stateful model yet".into() },
        Event::Note { unit: Some(p()), text: "boot ignored: already powered ✓".into() },
        Event::Violation { property: "scenario-expectation".into(), message: "at 2000 ms: group 1 active".into() },
        Event::Verdict {
            verdict: "safety".into(),
            property: Some("scenario-expectation".into()),
            message: Some("at 2000 ms: group 1 active".into()),
        },
    ];
    events.into_iter().enumerate().map(|(i, event)| Record { t_ns: i as u64 * 150 * ms, event }).collect()
}

fn bytes_of(header: &Header, records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    write_trace(&mut out, header, records).unwrap();
    out
}

fn text() -> String {
    String::from_utf8(bytes_of(&header(), &every_kind())).unwrap()
}

/// Reads `text` and returns the error's text, which must start with `line {line}:`.
fn error_at(text: &str, line: usize) -> ReadError {
    let err = read_any(text.as_bytes()).expect_err("a corrupt trace was accepted");
    let shown = err.to_string();
    assert!(shown.starts_with(&format!("line {line}: ")), "wrong line in {shown:?}");
    assert_eq!(err.line(), line, "{shown}");
    err
}

#[test]
fn write_then_read_gives_the_same_trace() {
    let (header, records) = (header(), every_kind());
    let bytes = bytes_of(&header, &records);
    let (h2, r2) = read_any(&bytes).unwrap();
    assert_eq!(h2, header);
    assert_eq!(r2, records);
    assert_eq!(hash_records(&r2), hash_records(&records));
    // And the bytes are stable: writing what was read gives the same file.
    assert_eq!(bytes_of(&h2, &r2), bytes);
}

#[test]
fn a_header_without_optional_fields_round_trips() {
    let mut h = header();
    h.git_commit = None;
    h.scenario_file = None;
    h.planted_bug = None;
    h.options = serde_json::Value::Null;
    let records =
        vec![Record { t_ns: 0, event: Event::Verdict { verdict: "pass".into(), property: None, message: None } }];
    let bytes = bytes_of(&h, &records);
    assert!(!String::from_utf8_lossy(&bytes).contains("planted_bug"));
    assert_eq!(read_any(&bytes).unwrap(), (h, records));
}

#[test]
fn the_every_kind_seed_is_what_this_build_writes() {
    // The seed corpus holds this trace; a schema change shows up here first.
    let path = seeds_dir().join("valid-every-kind.jsonl");
    let want = text();
    if std::env::var_os("FOVER_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "{} is stale: rerun this test with FOVER_BLESS=1 and commit it", path.display());
}

#[test]
fn empty_file_is_an_error_on_line_1() {
    assert!(matches!(error_at("", 1), ReadError::Empty));
}

#[test]
fn missing_header_is_an_error_on_line_1() {
    let t = text();
    let body = t.split_once('\n').unwrap().1;
    assert!(matches!(error_at(body, 1), ReadError::MissingHeader));
}

#[test]
fn header_that_is_not_a_fover_trace_is_an_error_on_line_1() {
    let err = error_at("{\"format\":\"pcap\",\"version\":1}\n", 1);
    assert!(matches!(err, ReadError::BadHeader { .. }), "{err}");
    let err = error_at("not json at all\n", 1);
    assert!(matches!(err, ReadError::BadHeader { .. }), "{err}");
}

#[test]
fn future_version_is_an_error_on_line_1() {
    let t = text().replacen(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":99", 1);
    let err = error_at(&t, 1);
    assert!(matches!(err, ReadError::FutureVersion { found: 99 }), "{err}");
    assert!(err.to_string().contains("upgrade fover"), "{err}");
}

#[test]
fn wrong_version_is_an_error_on_line_1() {
    let t = text().replacen(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":0", 1);
    assert!(matches!(error_at(&t, 1), ReadError::OldVersion { found: 0 }));
    let t = text().replacen(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":\"1\"", 1);
    assert!(matches!(error_at(&t, 1), ReadError::BadHeader { .. }));
}

#[test]
fn truncated_last_line_is_an_error_on_that_line() {
    let t = text();
    let cut = &t[..t.len() - 20];
    let lines = cut.lines().count();
    assert!(matches!(error_at(cut, lines), ReadError::Truncated { .. }));
}

#[test]
fn truncated_header_is_an_error_on_line_1() {
    let t = text();
    let first = t.lines().next().unwrap();
    assert!(matches!(error_at(&first[..first.len() / 2], 1), ReadError::Truncated { line: 1 }));
}

#[test]
fn bad_json_in_the_middle_is_an_error_on_that_line() {
    let mut lines: Vec<String> = text().lines().map(str::to_owned).collect();
    lines[5] = lines[5].replacen(':', ";", 1);
    let t = lines.join("\n") + "\n";
    let err = error_at(&t, 6);
    assert!(matches!(err, ReadError::BadRecord { .. }), "{err}");
}

#[test]
fn unknown_record_kind_is_an_error_on_that_line() {
    let mut lines: Vec<String> = text().lines().map(str::to_owned).collect();
    lines[3] = r#"{"t_ns":5,"kind":"teleport","unit":"primary"}"#.into();
    let err = error_at(&(lines.join("\n") + "\n"), 4);
    assert!(err.to_string().contains("teleport"), "{err}");
}

#[test]
fn trace_cut_at_a_line_end_has_no_verdict() {
    let t = text();
    let lines: Vec<&str> = t.lines().collect();
    let cut = lines[..lines.len() - 1].join("\n") + "\n";
    assert!(matches!(error_at(&cut, lines.len()), ReadError::NoVerdict { .. }));
    let only_header = format!("{}\n", lines[0]);
    assert!(matches!(error_at(&only_header, 2), ReadError::NoVerdict { line: 2 }));
}

#[test]
fn record_after_the_verdict_is_an_error_on_its_line() {
    let t = text();
    let twice = format!("{t}{}\n", t.lines().nth(1).unwrap());
    let n = t.lines().count();
    assert!(matches!(error_at(&twice, n + 1), ReadError::AfterVerdict { .. }));
}

#[test]
fn blank_lines_and_a_missing_final_newline_are_accepted() {
    let t = text();
    let spaced = t.replacen('\n', "\n\n  \n", 2);
    assert_eq!(read_any(spaced.as_bytes()).unwrap().1, every_kind());
    assert_eq!(read_any(t.trim_end().as_bytes()).unwrap().1, every_kind());
}

#[test]
fn overlong_line_is_an_error_on_that_line() {
    let t = text();
    let first = t.lines().next().unwrap();
    let long = format!("{first}\n{}\n", "x".repeat(fover_traces::io::LINE_LEN_MAX + 10));
    assert!(matches!(error_at(&long, 2), ReadError::LineTooLong { line: 2 }));
}

#[test]
fn every_committed_seed_reads_as_its_name_says() {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(seeds_dir()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    entries.sort();
    let (mut valid, mut bad) = (0, 0);
    for path in &entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("valid-") || name.starts_with("bad-"), "{name}: seeds are named valid-* or bad-*");
        let bytes = std::fs::read(path).unwrap();
        match read_any(&bytes) {
            Ok((_, records)) if name.starts_with("valid-") => {
                assert!(matches!(records.last().map(|r| &r.event), Some(Event::Verdict { .. })), "{name}");
                valid += 1;
            }
            Err(e) if name.starts_with("bad-") => {
                assert!(e.to_string().starts_with("line "), "{name}: {e}");
                bad += 1;
            }
            Ok(_) => panic!("{name}: accepted, but it is named bad-*"),
            Err(e) => panic!("{name}: {e}, but it is named valid-*"),
        }
    }
    assert!(valid >= 4 && bad >= 10, "the seed corpus is too small: {valid} valid, {bad} bad");
}

/// xorshift64*: a fixed mutation sequence, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"-0",
    b"1e999",
    b"18446744073709551616",
    b"-1",
    b"\"kind\":\"verdict\"",
    b"\"version\":2",
    b"\xff\xfe",
    b"[[[[[[[[[[[[",
];

/// One random edit of a trace.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(8) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] = rng.next() as u8;
            }
            2 => b.insert(at, rng.next() as u8),
            3 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            4 => b.truncate(at),
            5 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                b.splice(at..at, tok.iter().copied());
            }
            6 => {
                // Copy a chunk of the trace elsewhere (a line, a field).
                let from = rng.below(b.len() + 1);
                let end = (from + 1 + rng.below(200)).min(b.len());
                let chunk = b[from..end].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                // Swap two lines.
                let mut lines: Vec<Vec<u8>> = b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect();
                let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(i, j);
                b = lines.join(&b'\n');
            }
        }
    }
    b
}

#[test]
fn read_any_survives_100k_mutated_traces() {
    let real = std::fs::read(seeds_dir().join("valid-sweep-seed-0.jsonl")).unwrap();
    let synthetic = bytes_of(&header(), &every_kind());
    assert!(read_any(&real).is_ok() && read_any(&synthetic).is_ok());
    let mut rng = Rng(0x5eed_7ace);
    let (mut accepted, mut refused) = (0u32, 0u32);
    for i in 0..100_000 {
        let base = if i % 2 == 0 { &real } else { &synthetic };
        let m = mutate(&mut rng, base);
        match read_any(&m) {
            Ok((h, records)) => {
                accepted += 1;
                // What was accepted writes back to a file that reads the same.
                let again = bytes_of(&h, &records);
                assert_eq!(read_any(&again).unwrap(), (h, records), "mutant {i}");
            }
            Err(e) => {
                refused += 1;
                assert!(e.to_string().starts_with("line "), "mutant {i}: {e}");
            }
        }
    }
    // Both outcomes happen: the mutations are neither all fatal nor all harmless.
    assert!(accepted > 1_000 && refused > 50_000, "accepted {accepted}, refused {refused}");
}
