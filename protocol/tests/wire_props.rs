//! Properties of the wire codec: no input makes it panic, every frame that
//! fits round-trips, and every accepted byte string is the canonical encoding
//! of its frame. Seeded and deterministic: a failure prints its seed and input.

#[path = "support/bytes.rs"]
mod common;

use arbitrary::{Arbitrary, Unstructured};
use common::{Rng, mutate, patch_crc, patch_payload_len, random_bytes};
use fover_protocol::fuzzing::{self, sample_message, sample_messages};
use fover_protocol::types::Role;
use fover_protocol::wire::auth::{FailoverKey, Session, TAG_LEN};
use fover_protocol::wire::{self, FLAG_SEALED, Frame, Kind, Message};
use std::collections::BTreeMap;

const SEED: u64 = 0x00f0_7e25_eed0_0001;

fn frame(message: Message, flags: u8) -> Frame {
    Frame { sender: Role::Secondary, flags, seq: 42, boot_nonce: 0x0b00_7000_0000_0001, message }
}

/// Asserts the canonical property for one input, naming the seed on failure.
fn check_decode(input: &[u8], what: &str, seed: u64, i: usize) -> bool {
    match wire::decode(input) {
        Ok(f) => {
            let again = wire::encode(&f);
            assert!(again == input, "seed {seed:#x} input {i} ({what}): non-canonical {f:?}\n{input:02x?}");
            true
        }
        Err(_) => false,
    }
}

#[test]
fn wire_roundtrip_one_hand_built_frame_of_every_kind() {
    for &kind in Kind::ALL {
        let message = sample_message(kind);
        assert_eq!(message.kind(), kind, "sample_message({kind}) has the wrong kind");
        for flags in [0, FLAG_SEALED] {
            let f = frame(message.clone(), flags);
            assert!(f.fits(), "{kind}: sample does not fit");
            let bytes = wire::encode(&f);
            assert_eq!(wire::decode(&bytes).as_ref(), Ok(&f), "{kind}");
            assert_eq!(wire::decode_header(&bytes).map(|h| h.kind), Ok(kind));
        }
    }
}

#[test]
fn wire_roundtrip_every_named_sample() {
    for (name, message) in sample_messages() {
        let f = frame(message, 0);
        let bytes = wire::encode(&f);
        assert_eq!(wire::decode(&bytes).as_ref(), Ok(&f), "{name}");
        fuzzing::decode_canonical(&bytes);
    }
}

/// Arbitrary-derived frames (the same construction as the `roundtrip` fuzz
/// target); the ones that fit must round-trip, and every kind must show up.
#[test]
fn wire_roundtrip_arbitrary_frames() {
    const FRAMES: usize = 100_000;
    let mut rng = Rng::new(SEED ^ 0xa5);
    let mut buf = Vec::new();
    let mut fitted: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut skipped = 0;
    for i in 0..FRAMES {
        buf.clear();
        let max = match rng.below(100) {
            0..=1 => 40_000,
            2..=6 => 2_000,
            _ => 200,
        };
        let len = 16 + rng.below(max);
        rng.fill(&mut buf, len);
        if rng.chance(30) {
            // Arbitrary strings end at the first invalid UTF-8: ASCII input
            // makes long texts, and so frames past the limits. The first
            // bytes, which choose the variants, stay random.
            for b in buf.iter_mut().skip(40) {
                *b &= 0x7f;
            }
        }
        let Ok(f) = Frame::arbitrary_take_rest(Unstructured::new(&buf)) else { continue };
        // `fits` checks the limits one by one; it must agree with the codec exactly.
        let roundtrips = wire::decode(&wire::encode(&f)).as_ref() == Ok(&f);
        assert_eq!(f.fits(), roundtrips, "seed {SEED:#x} frame {i}: fits() disagrees with the codec on {f:?}");
        if !f.fits() {
            skipped += 1;
            continue;
        }
        let bytes = wire::encode(&f);
        assert_eq!(wire::decode(&bytes).as_ref(), Ok(&f), "seed {SEED:#x} frame {i}");
        *fitted.entry(f.message.kind()).or_default() += 1;
        fuzzing::roundtrip(&buf);
    }
    let total: usize = fitted.values().sum();
    eprintln!("arbitrary frames: {total} fitted, {skipped} skipped as too big; by kind: {fitted:?}");
    for &kind in Kind::ALL {
        assert!(fitted.get(&kind).copied().unwrap_or(0) > 100, "too few arbitrary {kind} frames: {fitted:?}");
    }
    assert!(total > FRAMES / 2, "most arbitrary frames should fit: {total} of {FRAMES}");
    assert!(skipped > 0, "no arbitrary frame exceeded a limit: the boundary of fits() went untested");
}

/// One million inputs through `decode`, `decode_header` and `Session::open`
/// (keyed and unkeyed): random strings, and valid frames (plain, with CRC,
/// sealed) mutated by flips, insertions, deletions and truncations. None may
/// panic; every accepted string must be canonical.
#[test]
fn wire_one_million_random_and_mutated_inputs_never_panic() {
    const INPUTS: usize = 1_000_000;
    #[allow(clippy::disallowed_methods, reason = "reports the test's own duration; no result depends on it")]
    let started = std::time::Instant::now();
    let key = FailoverKey::secret("property-test-key").unwrap();
    let mut sealer = Session::new(Role::Secondary, 0x0b00_7000_0000_0002, Some(&key));
    let mut crcer = Session::new(Role::Secondary, 0x0b00_7000_0000_0003, None);
    let messages: Vec<Message> = sample_messages().into_iter().map(|(_, m)| m).collect();
    let plain: Vec<Vec<u8>> = messages.iter().map(|m| wire::encode(&frame(m.clone(), 0))).collect();
    let with_crc: Vec<Vec<u8>> = messages.iter().map(|m| crcer.seal(m.clone())).collect();
    // Sealed bases stay small: every mutated one costs a full AEAD check,
    // which is slow in a debug build, and the bigger samples add nothing the
    // plain and CRC bases do not already reach.
    let sealed: Vec<Vec<u8>> = messages.iter().map(|m| sealer.seal(m.clone())).filter(|b| b.len() <= 128).collect();

    let mut keyed = Session::new(Role::Primary, 1, Some(&key));
    let mut unkeyed = Session::new(Role::Primary, 1, None);
    let mut rng = Rng::new(SEED);
    let mut input = Vec::new();
    let (mut decoded, mut opened_keyed, mut opened_unkeyed) = (0usize, 0usize, 0usize);
    for i in 0..INPUTS {
        let what = match rng.below(8) {
            0 | 1 => {
                random_bytes(&mut rng, &mut input);
                if rng.chance(50) && input.len() >= 4 {
                    // A plausible start, so random bytes get past the magic.
                    input[..4].copy_from_slice(&plain[0][..4]);
                    input[3] = Kind::ALL[rng.below(Kind::ALL.len())].code();
                }
                "random"
            }
            2..=4 => {
                input.clone_from(&plain[rng.below(plain.len())]);
                mutate(&mut rng, &mut input);
                "mutated plain"
            }
            5 | 6 => {
                input.clone_from(&with_crc[rng.below(with_crc.len())]);
                mutate(&mut rng, &mut input);
                if rng.chance(70) {
                    patch_payload_len(&mut input, 4);
                    patch_crc(&mut input);
                }
                "mutated unkeyed"
            }
            _ => {
                input.clone_from(&sealed[rng.below(sealed.len())]);
                mutate(&mut rng, &mut input);
                if rng.chance(50) {
                    patch_payload_len(&mut input, TAG_LEN);
                }
                "mutated sealed"
            }
        };
        let _ = wire::decode_header(&input);
        decoded += check_decode(&input, what, SEED, i) as usize;
        if let Ok(f) = keyed.open(&input) {
            assert!(f.flags & FLAG_SEALED != 0 && f.fits(), "seed {SEED:#x} input {i}: keyed open accepted {f:?}");
            opened_keyed += 1;
        }
        if let Ok(f) = unkeyed.open(&input) {
            let mut again = wire::encode(&f);
            again.extend_from_slice(&crc32fast::hash(&again).to_be_bytes());
            assert!(again == input, "seed {SEED:#x} input {i}: unkeyed open accepted non-canonical {f:?}");
            opened_unkeyed += 1;
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{INPUTS} inputs in {elapsed:.2?}: {decoded} decoded, {opened_unkeyed} opened unkeyed, {opened_keyed} opened keyed"
    );
    // Not vacuous: mutations that keep a frame valid (or rebuild its CRC) reach acceptance.
    assert!(decoded > 10_000, "too few inputs decoded: {decoded}");
    assert!(opened_unkeyed > 10_000, "too few inputs opened unkeyed: {opened_unkeyed}");
    // A sealed frame opens once; a forgery never does, so only unmutated copies count.
    assert!(opened_keyed <= sealed.len(), "keyed session opened {opened_keyed} frames, more than were sealed");
}

/// At each limit and one past it, `fits` and the codec agree.
#[test]
fn wire_fits_agrees_with_the_codec_at_every_limit() {
    use fover_protocol::types::{InterfaceStatus, Space};
    use fover_protocol::wire::{CHUNK_LINES_MAX, ConfigLine, Control, FRAME_LEN_MAX, InterfaceHello, TEXT_LEN_MAX};
    let check = |f: Frame, fits: bool| {
        assert_eq!(f.fits(), fits, "{:?}", f.message.kind());
        assert_eq!(wire::decode(&wire::encode(&f)).as_ref() == Ok(&f), fits, "{:?}", f.message.kind());
    };
    let iface = |len: usize| {
        Message::InterfaceHello(InterfaceHello {
            context: "x".repeat(len),
            interface: String::new(),
            status: InterfaceStatus::Normal,
        })
    };
    check(frame(iface(TEXT_LEN_MAX), 0), true);
    check(frame(iface(TEXT_LEN_MAX + 1), 0), false);
    check(frame(iface(u16::MAX as usize + 1), 0), false);
    let chunk = |n: usize, len: usize| Message::Control {
        channel_seq: 0,
        body: Control::ConfigSyncChunk {
            sync_id: 0,
            index: 0,
            lines: (0..n).map(|_| ConfigLine { space: Space::System, line: "y".repeat(len) }).collect(),
        },
    };
    check(frame(chunk(CHUNK_LINES_MAX, 0), 0), true);
    check(frame(chunk(CHUNK_LINES_MAX + 1, 0), 0), false);
    check(frame(chunk(u16::MAX as usize + 1, 0), 0), false);
    // Sixteen maximal lines exceed the frame size, though each line is legal.
    let full = wire::encode(&frame(chunk(16, TEXT_LEN_MAX), 0)).len();
    assert!(full > FRAME_LEN_MAX);
    check(frame(chunk(16, TEXT_LEN_MAX), 0), false);
    // Grow a chunk line by line up to the frame limit, then one byte past it.
    let mut n = 0;
    while wire::encode(&frame(chunk(n + 1, TEXT_LEN_MAX), 0)).len() <= FRAME_LEN_MAX {
        n += 1;
    }
    let base = wire::encode(&frame(chunk(n, TEXT_LEN_MAX), 0)).len();
    let last = FRAME_LEN_MAX - base - 3; // room left for one more line (space tag, length, text)
    let exact = |extra: usize| {
        let mut m = chunk(n, TEXT_LEN_MAX);
        if let Message::Control { body: Control::ConfigSyncChunk { lines, .. }, .. } = &mut m {
            lines.push(ConfigLine { space: Space::System, line: "z".repeat(extra) });
        }
        frame(m, FLAG_SEALED)
    };
    assert_eq!(wire::encode(&exact(last)).len(), FRAME_LEN_MAX);
    check(exact(last), true);
    check(exact(last + 1), false);
    for flags in 2..=u8::MAX {
        assert!(!frame(sample_message(Kind::Ack), flags).fits());
    }
}
