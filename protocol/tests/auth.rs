//! The failover key and `Session`: every way a frame can be refused, each with
//! its own typed error, and every rule for the forms of the key.

use fover_protocol::fuzzing::{sample_message, sample_messages};
use fover_protocol::types::Role;
use fover_protocol::wire::auth::{
    AuthError, CRC_LEN, FailoverKey, KeyError, Path, REPLAY_WINDOW, RETIRED_BOOTS_MAX, Session, TAG_LEN, key_rule,
};
use fover_protocol::wire::{self, DecodeError, FLAG_SEALED, HEADER_LEN, Kind, LanTest, Message};

const PRIMARY_BOOT: u64 = 0x0b00_7000_0000_0001;
const SECONDARY_BOOT: u64 = 0x0b00_7000_0000_0002;

fn key() -> FailoverKey {
    FailoverKey::secret("cisco123").unwrap()
}

/// A sending primary and a receiving secondary, both with `key` (or unkeyed).
fn pair(key: Option<&FailoverKey>) -> (Session, Session) {
    (Session::new(Role::Primary, PRIMARY_BOOT, key), Session::new(Role::Secondary, SECONDARY_BOOT, key))
}

fn lan_test(nonce: u32) -> Message {
    Message::LanTest(LanTest { nonce })
}

fn key_error(rule: &'static str) -> Result<FailoverKey, KeyError> {
    Err(KeyError { rule })
}

#[test]
fn auth_every_sample_opens_keyed_and_unkeyed() {
    for k in [Some(key()), None] {
        let (mut tx, mut rx) = pair(k.as_ref());
        for (name, message) in sample_messages() {
            let bytes = tx.seal(message.clone());
            let frame = rx.open(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(frame.message, message, "{name}");
            assert_eq!((frame.sender, frame.boot_nonce), (Role::Primary, PRIMARY_BOOT));
            assert_eq!(frame.flags & FLAG_SEALED != 0, k.is_some());
            let trailer = if k.is_some() { TAG_LEN } else { CRC_LEN };
            assert_eq!(bytes.len(), wire::encode(&frame).len() + trailer, "{name}");
        }
    }
}

#[test]
fn auth_sealed_payload_is_not_in_clear() {
    let (mut tx, _) = pair(Some(&key()));
    let message = sample_message(Kind::CommandReplication);
    let plain = wire::encode(&wire::Frame {
        sender: Role::Primary,
        flags: FLAG_SEALED,
        seq: 1,
        boot_nonce: PRIMARY_BOOT,
        message: message.clone(),
    });
    let sealed = tx.seal(message);
    assert_eq!(sealed[..HEADER_LEN], plain[..HEADER_LEN], "the header travels in clear, as associated data");
    assert_ne!(sealed[HEADER_LEN..plain.len()], plain[HEADER_LEN..]);
}

#[test]
fn auth_wrong_key_is_a_decryption_failure() {
    let (mut tx, _) = pair(Some(&key()));
    let mut rx = Session::new(Role::Secondary, SECONDARY_BOOT, Some(&FailoverKey::secret("cisco124").unwrap()));
    let bytes = tx.seal(lan_test(1));
    assert_eq!(rx.open(&bytes), Err(AuthError::Decryption));
    // A hex key with the same bytes as no secret is another key too.
    let mut rx = Session::new(Role::Secondary, SECONDARY_BOOT, Some(&FailoverKey::hex(&"0".repeat(32)).unwrap()));
    assert_eq!(rx.open(&bytes), Err(AuthError::Decryption));
    assert_eq!(AuthError::Decryption.to_string(), "Failover message decryption failure");
}

/// Which error a flipped byte of a sealed frame gives depends on where it is;
/// that it is an error does not.
fn expected_for_flip(at: usize) -> fn(&AuthError) -> bool {
    match at {
        0..=3 => |e| matches!(e, AuthError::Decode(_) | AuthError::Decryption),
        4 => |e| matches!(e, AuthError::Decode(DecodeError::InvalidValue { .. }) | AuthError::WrongSender { .. }),
        5 => |e| matches!(e, AuthError::Decode(DecodeError::BadFlags { .. }) | AuthError::Unsealed),
        _ => |e| *e == AuthError::Decryption,
    }
}

#[test]
fn auth_every_flipped_bit_and_byte_of_a_sealed_frame_is_refused() {
    for kind in [Kind::UnitHello, Kind::ConfigSyncChunk] {
        let (mut tx, mut rx) = pair(Some(&key()));
        let bytes = tx.seal(sample_message(kind));
        let mut refused = 0;
        for at in 0..bytes.len() {
            let masks = (0..8).map(|b| 1u8 << b).chain([0xff]);
            for mask in masks {
                let mut forged = bytes.clone();
                forged[at] ^= mask;
                let err = rx.open(&forged).expect_err("a forged frame opened");
                assert!(expected_for_flip(at)(&err), "{kind} byte {at} ^ {mask:#x}: {err:?}");
                refused += 1;
            }
        }
        assert_eq!(refused, bytes.len() * 9);
        // None of the refusals changed the session: the genuine frame still opens, once.
        assert!(rx.open(&bytes).is_ok());
        assert!(matches!(rx.open(&bytes), Err(AuthError::Replay { .. })));
    }
}

#[test]
fn auth_every_flipped_byte_of_an_unkeyed_frame_fails_the_checksum() {
    let (mut tx, mut rx) = pair(None);
    let bytes = tx.seal(sample_message(Kind::InterfaceHello));
    for at in 0..bytes.len() {
        for mask in (0..8).map(|b| 1u8 << b).chain([0xff]) {
            let mut forged = bytes.clone();
            forged[at] ^= mask;
            let err = rx.open(&forged).expect_err("a corrupted frame opened");
            // Header fields are checked first; after that the CRC catches every flip.
            let ok = match at {
                0..=5 => matches!(
                    err,
                    AuthError::Decode(_)
                        | AuthError::Checksum
                        | AuthError::WrongSender { .. }
                        | AuthError::UnexpectedSeal
                ),
                _ => err == AuthError::Checksum,
            };
            assert!(ok, "byte {at} ^ {mask:#x}: {err:?}");
        }
    }
    assert!(rx.open(&bytes).is_ok());
}

#[test]
fn auth_truncation_at_every_length_is_refused() {
    for k in [Some(key()), None] {
        let (mut tx, mut rx) = pair(k.as_ref());
        let bytes = tx.seal(sample_message(Kind::StateUpdate));
        for len in 0..bytes.len() {
            let err = rx.open(&bytes[..len]).expect_err("a truncated frame opened");
            let expected = match (len, &k) {
                (0..HEADER_LEN, _) => matches!(err, AuthError::Decode(DecodeError::ShortHeader { len: l }) if l == len),
                (_, Some(_)) if len < HEADER_LEN + TAG_LEN => err == AuthError::Truncated { len, trailer: TAG_LEN },
                (_, Some(_)) => err == AuthError::Decryption,
                (_, None) => err == AuthError::Checksum,
            };
            assert!(expected, "keyed {} len {len}: {err:?}", k.is_some());
        }
        assert!(rx.open(&bytes).is_ok());
    }
}

#[test]
fn auth_unkeyed_frame_with_a_bad_crc_is_refused() {
    let (mut tx, mut rx) = pair(None);
    let mut bytes = tx.seal(lan_test(5));
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    assert_eq!(rx.open(&bytes), Err(AuthError::Checksum));
    bytes[last] ^= 0x01;
    assert!(rx.open(&bytes).is_ok());
}

#[test]
fn auth_valid_crc_over_a_malformed_frame_is_a_decode_error() {
    let (mut tx, mut rx) = pair(None);
    let mut bytes = tx.seal(lan_test(5));
    bytes.truncate(bytes.len() - CRC_LEN);
    bytes.push(0); // a trailing byte the length does not declare
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    assert!(matches!(rx.open(&bytes), Err(AuthError::Decode(DecodeError::LengthMismatch { .. }))));
}

#[test]
fn auth_sealed_frame_to_an_unkeyed_session_and_vice_versa() {
    let (mut keyed_tx, mut keyed_rx) = pair(Some(&key()));
    let (mut plain_tx, mut plain_rx) = pair(None);
    let sealed = keyed_tx.seal(lan_test(1));
    let plain = plain_tx.seal(lan_test(1));
    assert_eq!(plain_rx.open(&sealed), Err(AuthError::UnexpectedSeal));
    assert_eq!(keyed_rx.open(&plain), Err(AuthError::Unsealed));
    // Clearing the sealed flag of a sealed frame does not get it past either session.
    let mut stripped = sealed.clone();
    stripped[5] &= !FLAG_SEALED;
    assert_eq!(keyed_rx.open(&stripped), Err(AuthError::Unsealed));
    assert_eq!(plain_rx.open(&stripped), Err(AuthError::Checksum));
}

#[test]
fn auth_frame_claiming_our_own_role_is_refused() {
    for k in [Some(key()), None] {
        // Two units configured with the same role: each refuses the other.
        let mut tx = Session::new(Role::Secondary, PRIMARY_BOOT, k.as_ref());
        let mut rx = Session::new(Role::Secondary, SECONDARY_BOOT, k.as_ref());
        let bytes = tx.seal(lan_test(3));
        assert_eq!(rx.open(&bytes), Err(AuthError::WrongSender { claimed: Role::Secondary }));
    }
}

#[test]
fn auth_replay_of_the_same_frame() {
    let (mut tx, mut rx) = pair(Some(&key()));
    let bytes = tx.seal(lan_test(1));
    assert!(rx.open(&bytes).is_ok());
    assert_eq!(rx.open(&bytes), Err(AuthError::Replay { seq: 1, boot: PRIMARY_BOOT }));
    assert_eq!(rx.open(&bytes), Err(AuthError::Replay { seq: 1, boot: PRIMARY_BOOT }));
}

#[test]
fn auth_replay_window_inside_and_outside() {
    let (mut tx, mut rx) = pair(Some(&key()));
    let frames: Vec<Vec<u8>> = (1..=200u32).map(|n| tx.seal(lan_test(n))).collect();
    let seq = |s: u64| &frames[s as usize - 1];
    assert!(rx.open(seq(150)).is_ok());
    // Inside the window, not yet seen: accepted once, out of order.
    let oldest_inside = 150 - (REPLAY_WINDOW - 1);
    for s in [149, 120, oldest_inside] {
        assert!(rx.open(seq(s)).is_ok(), "seq {s} inside the window");
        assert_eq!(rx.open(seq(s)), Err(AuthError::Replay { seq: s, boot: PRIMARY_BOOT }));
    }
    // Just outside the window and far outside it: refused, though never seen.
    for s in [oldest_inside - 1, 10, 1] {
        assert_eq!(rx.open(seq(s)), Err(AuthError::Replay { seq: s, boot: PRIMARY_BOOT }), "seq {s}");
    }
    // Moving ahead by more than the window forgets the old bitmap correctly.
    assert!(rx.open(seq(200)).is_ok());
    assert_eq!(rx.open(seq(150)), Err(AuthError::Replay { seq: 150, boot: PRIMARY_BOOT }));
    assert!(rx.open(seq(200 - (REPLAY_WINDOW - 1))).is_ok());
}

/// Links have their own latencies: a failover link delayed by a second while
/// the state link carries hundreds of frames must not turn the failover
/// link's late frames into replays (seed 33466 of the sweep: a LAN test reply
/// refused that way made the standby take over from a reachable active unit).
#[test]
fn auth_each_path_has_its_own_numbers_and_window() {
    let (mut tx, mut rx) = pair(Some(&key()));
    let late: Vec<Vec<u8>> = (1..=3u32).map(|n| tx.seal(lan_test(n))).collect();
    let data = Path::Data { context: "admin", interface: "inside" };
    for n in 0..(4 * REPLAY_WINDOW as u32) {
        assert!(rx.open_on(Path::State, &tx.seal_on(Path::State, lan_test(n))).is_ok());
        assert!(rx.open_on(data, &tx.seal_on(data, lan_test(n))).is_ok());
    }
    // Out of order on the failover link, behind hundreds of frames elsewhere.
    for (i, bytes) in late.iter().enumerate().rev() {
        assert_eq!(wire::decode_header(bytes).unwrap().seq, i as u64 + 1);
        assert!(rx.open(bytes).is_ok(), "failover frame {} taken for a replay", i + 1);
        assert_eq!(rx.open(bytes), Err(AuthError::Replay { seq: i as u64 + 1, boot: PRIMARY_BOOT }));
    }
}

/// With a key, a frame sealed for one path does not open on another: each
/// path has its own derived key.
#[test]
fn auth_a_frame_opens_only_on_its_own_path() {
    let (mut tx, mut rx) = pair(Some(&key()));
    let inside = Path::Data { context: "admin", interface: "inside" };
    let outside = Path::Data { context: "admin", interface: "outside" };
    let other_context = Path::Data { context: "ctx2", interface: "inside" };
    let paths = [Path::Failover, Path::State, inside, outside, other_context];
    // A refused frame on a path not heard from yet leaves no trace of it.
    let before = format!("{rx:?}");
    assert_eq!(rx.open_on(outside, &tx.seal_on(inside, lan_test(8))), Err(AuthError::Decryption));
    assert_eq!(format!("{rx:?}"), before);
    for from in paths {
        let bytes = tx.seal_on(from, lan_test(9));
        for to in paths.into_iter().filter(|p| *p != from) {
            assert_eq!(rx.open_on(to, &bytes), Err(AuthError::Decryption), "{from:?} opened on {to:?}");
        }
        assert!(rx.open_on(from, &bytes).is_ok(), "{from:?}");
    }
    // Without a key, paths only number their frames apart.
    let (mut tx, mut rx) = pair(None);
    let bytes = tx.seal_on(Path::State, lan_test(1));
    assert!(rx.open(&bytes).is_ok());
}

#[test]
fn auth_frames_of_a_retired_boot_are_refused_after_the_peer_reboots() {
    let k = key();
    let (mut old_boot, mut rx) = pair(Some(&k));
    let old: Vec<Vec<u8>> = (0..3).map(|n| old_boot.seal(lan_test(n))).collect();
    assert!(rx.open(&old[0]).is_ok());
    // The primary reboots: a new boot nonce, sequence numbers from 1 again.
    let mut new_boot = Session::new(Role::Primary, PRIMARY_BOOT + 1, Some(&k));
    let fresh = new_boot.seal(lan_test(7));
    assert!(rx.open(&fresh).is_ok());
    // Frames of the old boot, seen or not, never open again.
    for (i, bytes) in old.iter().enumerate() {
        assert_eq!(rx.open(bytes), Err(AuthError::Replay { seq: i as u64 + 1, boot: PRIMARY_BOOT }));
    }
    // The new boot carries on.
    assert!(rx.open(&new_boot.seal(lan_test(8))).is_ok());
}

#[test]
fn auth_retired_boots_are_remembered_up_to_the_bound() {
    let k = key();
    let mut rx = Session::new(Role::Secondary, SECONDARY_BOOT, Some(&k));
    let mut firsts = Vec::new();
    for boot in 0..=RETIRED_BOOTS_MAX as u64 {
        let mut tx = Session::new(Role::Primary, 100 + boot, Some(&k));
        let first = tx.seal(lan_test(0));
        let second = tx.seal(lan_test(1));
        assert!(rx.open(&first).is_ok());
        firsts.push(second);
    }
    // The current boot is the last; the RETIRED_BOOTS_MAX before it are refused.
    let current = firsts.pop().unwrap();
    for (boot, bytes) in firsts.iter().enumerate() {
        assert_eq!(rx.open(bytes), Err(AuthError::Replay { seq: 2, boot: 100 + boot as u64 }));
    }
    assert!(rx.open(&current).is_ok());
}

#[test]
fn auth_unkeyed_sessions_have_no_replay_window() {
    // See docs/DECISIONS.md, "Replay protection only with a key".
    let (mut tx, mut rx) = pair(None);
    let bytes = tx.seal(lan_test(1));
    assert!(rx.open(&bytes).is_ok());
    assert!(rx.open(&bytes).is_ok());
}

#[test]
fn auth_errors_are_distinct_variants() {
    let errors = [
        AuthError::Decode(DecodeError::ShortHeader { len: 0 }),
        AuthError::Truncated { len: 30, trailer: TAG_LEN },
        AuthError::Checksum,
        AuthError::Unsealed,
        AuthError::UnexpectedSeal,
        AuthError::Decryption,
        AuthError::Replay { seq: 1, boot: 2 },
        AuthError::WrongSender { claimed: Role::Primary },
    ];
    let texts: std::collections::BTreeSet<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(texts.len(), errors.len());
}

#[test]
fn key_secret_rules() {
    assert_eq!(FailoverKey::secret(""), key_error(key_rule::SECRET_EMPTY));
    assert!(FailoverKey::secret("a").is_ok());
    assert!(FailoverKey::secret(&"k".repeat(63)).is_ok());
    assert_eq!(FailoverKey::secret(&"k".repeat(64)), key_error(key_rule::SECRET_TOO_LONG));
    assert!(FailoverKey::secret("!#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~").is_ok());
    for bad in ["two words", " lead", "trail ", "tab\there", "nl\n", "nul\0", "del\x7f", "caf\u{e9}", "\u{a0}"] {
        assert_eq!(FailoverKey::secret(bad), key_error(key_rule::SECRET_CHARACTERS), "{bad:?}");
    }
}

#[test]
fn key_hex_rules() {
    let digits = "0123456789abcdefABCDEF0123456789";
    assert_eq!(digits.len(), 32);
    assert!(FailoverKey::hex(digits).is_ok());
    assert_eq!(FailoverKey::hex(&digits[..31]), key_error(key_rule::HEX_DIGIT_COUNT));
    assert_eq!(FailoverKey::hex(&format!("{digits}0")), key_error(key_rule::HEX_DIGIT_COUNT));
    assert_eq!(FailoverKey::hex(""), key_error(key_rule::HEX_DIGIT_COUNT));
    for bad in
        ["0123456789abcdefABCDEF012345678g", "0x23456789abcdefABCDEF0123456789", "0123456789abcdef ABCDEF012345678"]
    {
        assert_eq!(FailoverKey::hex(bad), key_error(key_rule::HEX_DIGITS), "{bad:?}");
    }
    // 32 characters but more bytes: counted as characters, refused as non-hex.
    assert_eq!(FailoverKey::hex(&format!("{}\u{e9}", &digits[..31])), key_error(key_rule::HEX_DIGITS));
    // Case does not matter.
    assert_eq!(FailoverKey::hex(&digits.to_lowercase()), FailoverKey::hex(&digits.to_uppercase()));
}

#[test]
fn key_parse_forms() {
    let hex = "00112233445566778899aabbccddeeff";
    assert_eq!(FailoverKey::parse(&format!("hex {hex}")), FailoverKey::hex(hex));
    assert_eq!(FailoverKey::parse(&format!("  hex   {hex}  ")), FailoverKey::hex(hex));
    assert_eq!(FailoverKey::parse("hex 0011"), key_error(key_rule::HEX_DIGIT_COUNT));
    assert_eq!(FailoverKey::parse(&format!("hex {}zz", &hex[..30])), key_error(key_rule::HEX_DIGITS));
    assert_eq!(FailoverKey::parse("s3cret"), FailoverKey::secret("s3cret"));
    assert_eq!(FailoverKey::parse(" s3cret "), FailoverKey::secret("s3cret"));
    assert_eq!(FailoverKey::parse("two words"), key_error(key_rule::SECRET_CHARACTERS));
    assert_eq!(FailoverKey::parse(""), key_error(key_rule::SECRET_EMPTY));
    // A hex key and a secret are different keys, even with the same text.
    assert_ne!(FailoverKey::parse(hex), FailoverKey::parse(&format!("hex {hex}")));
}

#[test]
fn key_debug_does_not_print_the_secret() {
    let k = FailoverKey::secret("topsecret").unwrap();
    assert!(!format!("{k:?}").contains("topsecret"));
    let s = Session::new(Role::Primary, 1, Some(&k));
    assert!(!format!("{s:?}").contains("topsecret"));
}
