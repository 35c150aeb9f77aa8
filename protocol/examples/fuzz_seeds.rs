//! Writes the seed corpora of the fuzz targets to `fuzz/seeds/<target>/`:
//! valid frames of every kind and nearly-valid ones (one field wrong), named
//! for what they are. Deterministic; it overwrites its own files and leaves
//! any other file (a committed crash reproducer) alone.
//!
//! ```text
//! cargo run -p fover-protocol --example fuzz_seeds
//! ```
//!
//! Run it again after changing a message, and commit the result:
//! `protocol/tests/fuzz_corpus.rs` fails while a `valid-*` seed no longer decodes.

use arbitrary::{Arbitrary, Unstructured};
use fover_protocol::fuzzing::{self, sample_message, sample_messages};
use fover_protocol::types::{InterfaceStatus, Space};
use fover_protocol::wire::auth::{FailoverKey, Session};
use fover_protocol::wire::{
    self, ConfigLine, Control, FLAG_SEALED, Frame, HEADER_LEN, InterfaceHello, Kind, Message, PAYLOAD_LEN_OFFSET,
    TEXT_LEN_MAX,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Seeds generated so far: target folder, then file name, then bytes.
type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn main() -> std::io::Result<()> {
    let mut seeds = Seeds::new();
    decode_seeds(seeds.entry("decode").or_default());
    roundtrip_seeds(seeds.entry("roundtrip").or_default());
    open_seeds(seeds.entry("open").or_default());
    canary_seeds(seeds.entry("canary").or_default());

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    for (target, files) in &seeds {
        let dir: PathBuf = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in files {
            if name.starts_with("bad-") {
                let verdict = match *target {
                    "decode" => wire::decode(bytes).err().map(|e| e.to_string()),
                    "open" => open(bytes),
                    _ => None,
                };
                let Some(verdict) = verdict else { panic!("{target}/{name} is accepted") };
                println!("  {target}/{name}: {verdict}");
            }
            std::fs::write(dir.join(name), bytes)?;
        }
        println!("{}: {} seeds", dir.display(), files.len());
    }
    Ok(())
}

/// Why both sessions of the `open` target refuse `bytes`, or `None` if one accepts them.
fn open(bytes: &[u8]) -> Option<String> {
    let role = fuzzing::RECEIVER_ROLE;
    let keyed = Session::new(role, fuzzing::RECEIVER_BOOT, Some(&fuzzing::fuzz_key())).open(bytes).err()?;
    let unkeyed = Session::new(role, fuzzing::RECEIVER_BOOT, None).open(bytes).err()?;
    Some(format!("keyed: {keyed}; unkeyed: {unkeyed}"))
}

fn frame(message: Message, flags: u8) -> Frame {
    Frame { sender: fuzzing::RECEIVER_ROLE.peer(), flags, seq: 1, boot_nonce: 0x0b00_7000_0000_0001, message }
}

fn fix_len(bytes: &mut [u8], trailer: usize) {
    let len = (bytes.len() - HEADER_LEN - trailer) as u32;
    bytes[PAYLOAD_LEN_OFFSET..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
}

fn decode_seeds(out: &mut BTreeMap<String, Vec<u8>>) {
    for (name, message) in sample_messages() {
        out.insert(format!("valid-{name}.bin"), wire::encode(&frame(message, 0)));
    }
    for &kind in &[Kind::UnitHello, Kind::StateUpdate] {
        out.insert(format!("valid-sealed-flag-{kind}.bin"), wire::encode(&frame(sample_message(kind), FLAG_SEALED)));
    }
    let hello = wire::encode(&frame(sample_message(Kind::UnitHello), 0));
    let mut nearly = |name: &str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = hello.clone();
        edit(&mut bytes);
        out.insert(format!("bad-{name}.bin"), bytes);
    };
    nearly("magic", &|b| b[0] ^= 0x01);
    nearly("version", &|b| b[2] = 2);
    nearly("kind-0x05", &|b| b[3] = 0x05);
    nearly("sender-role-3", &|b| b[4] = 3);
    nearly("flags-0x02", &|b| b[5] = 0x02);
    nearly("length-plus-one", &|b| b[HEADER_LEN - 1] += 1);
    nearly("trailing-byte", &|b| {
        b.push(0);
        fix_len(b, 0)
    });
    nearly("truncated-payload", &|b| {
        b.pop();
        fix_len(b, 0)
    });
    nearly("short-header", &|b| b.truncate(HEADER_LEN - 1));
    nearly("failover-flag-2", &|b| b[HEADER_LEN] = 2);
    nearly("group-state-0", &|b| b[HEADER_LEN + 5] = 0);

    let mut text = |name: &str, message: Message, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = wire::encode(&frame(message, 0));
        edit(&mut bytes);
        out.insert(format!("bad-{name}.bin"), bytes);
    };
    let iface = |context: String| {
        Message::InterfaceHello(InterfaceHello { context, interface: "inside".into(), status: InterfaceStatus::Normal })
    };
    text("non-utf8-context", iface("ctx1".into()), &|b| b[HEADER_LEN + 2] = 0xff);
    text("text-too-long", iface("x".repeat(TEXT_LEN_MAX + 1)), &|_| {});
    text("interface-status-7", iface("c".into()), &|b| *b.last_mut().unwrap() = 7);
    let chunk = |n: usize| {
        let lines = (0..n).map(|i| ConfigLine { space: Space::System, line: format!("l{i}") }).collect();
        Message::Control { channel_seq: 1, body: Control::ConfigSyncChunk { sync_id: 1, index: 0, lines } }
    };
    text("chunk-65-lines", chunk(65), &|_| {});
    text("chunk-count-without-lines", chunk(0), &|b| *b.last_mut().unwrap() = 64);
    text("space-tag-2", sample_message(Kind::WriteStandby), &|b| b[HEADER_LEN + 8] = 2);
    text("state-object-tag-7", sample_message(Kind::StateUpdate), &|b| b[HEADER_LEN + 9] = 7);
}

/// Inputs for the structured target are raw bytes for `Unstructured`: draw
/// them from a seeded generator and keep two per kind whose frame fits.
fn roundtrip_seeds(out: &mut BTreeMap<String, Vec<u8>>) {
    let mut state = 0x5eed_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut per_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    while per_kind.len() < Kind::ALL.len() || per_kind.values().any(|&n| n < 2) {
        let len = 24 + (next() % 120) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let Ok(f) = Frame::arbitrary_take_rest(Unstructured::new(&bytes)) else { continue };
        let n = per_kind.entry(f.message.kind()).or_default();
        if *n < 2 && f.fits() {
            *n += 1;
            out.insert(format!("fits-{}-{n}.bin", f.message.kind()), bytes);
        }
    }
    out.insert("empty.bin".into(), Vec::new());
    out.insert("all-ff.bin".into(), vec![0xff; 64]);
    out.insert("all-00.bin".into(), vec![0; 64]);
}

fn open_seeds(out: &mut BTreeMap<String, Vec<u8>>) {
    let key = fuzzing::fuzz_key();
    let peer = fuzzing::RECEIVER_ROLE.peer();
    let mut sealer = Session::new(peer, 0x0b00_7000_0000_0002, Some(&key));
    let mut crcer = Session::new(peer, 0x0b00_7000_0000_0003, None);
    for &kind in Kind::ALL {
        out.insert(format!("valid-sealed-{kind}.bin"), sealer.seal(sample_message(kind)));
        out.insert(format!("valid-crc-{kind}.bin"), crcer.seal(sample_message(kind)));
    }
    let sealed = sealer.seal(sample_message(Kind::UnitHello));
    let crc = crcer.seal(sample_message(Kind::UnitHello));
    let mut nearly = |name: &str, base: &[u8], edit: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = base.to_vec();
        edit(&mut bytes);
        out.insert(format!("bad-{name}.bin"), bytes);
    };
    nearly("sealed-tag-flipped", &sealed, &|b| *b.last_mut().unwrap() ^= 1);
    nearly("sealed-ciphertext-flipped", &sealed, &|b| b[HEADER_LEN] ^= 1);
    nearly("sealed-seq-changed", &sealed, &|b| b[13] ^= 1);
    nearly("sealed-truncated-tag", &sealed, &|b| b.truncate(b.len() - 1));
    nearly("sealed-header-only", &sealed, &|b| b.truncate(HEADER_LEN));
    nearly("sealed-flag-cleared", &sealed, &|b| b[5] = 0);
    nearly("sealed-from-own-role", &sealed, &|b| b[4] = fuzzing::RECEIVER_ROLE.code());
    nearly("crc-flipped", &crc, &|b| *b.last_mut().unwrap() ^= 1);
    nearly("crc-payload-flipped", &crc, &|b| b[HEADER_LEN] ^= 1);
    nearly("crc-missing", &crc, &|b| b.truncate(b.len() - 4));
    nearly("crc-sealed-flag-set", &crc, &|b| b[5] = FLAG_SEALED);
    let other = FailoverKey::secret("not-the-fuzz-key").unwrap();
    let wrong_key = Session::new(peer, 9, Some(&other)).seal(sample_message(Kind::LanTest));
    out.insert("bad-sealed-wrong-key.bin".into(), wrong_key);
}

fn canary_seeds(out: &mut BTreeMap<String, Vec<u8>>) {
    let trigger = fuzzing::CANARY_TRIGGER;
    out.insert("trigger.bin".into(), trigger.to_vec());
    out.insert("near-miss-short.bin".into(), trigger[..trigger.len() - 1].to_vec());
    let mut changed = trigger.to_vec();
    changed[0] ^= 0x20;
    out.insert("near-miss-changed.bin".into(), changed);
    out.insert("empty.bin".into(), Vec::new());
}
