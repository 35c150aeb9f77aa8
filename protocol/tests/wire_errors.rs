//! Every typed decode error, with the offset and field it reports. Offsets are
//! found from encodings (where two messages differ, where a marker text sits),
//! not hard-coded, so the tests survive new fields in the messages.

use fover_protocol::fuzzing::{sample_message, sample_messages};
use fover_protocol::types::{Group, GroupState, InterfaceStatus, Role, Space};
use fover_protocol::wire::{
    self, CHUNK_LINES_MAX, ConfigLine, ConnProtocol, Control, DecodeError, FRAME_LEN_MAX, Frame, HEADER_LEN,
    InterfaceHello, Kind, Message, PAYLOAD_LEN_OFFSET, RoleRequestKind, StateObject, StateOp, TEXT_LEN_MAX,
};

fn encode(message: Message) -> Vec<u8> {
    wire::encode(&Frame { sender: Role::Primary, flags: 0, seq: 3, boot_nonce: 0xb007, message })
}

fn set_payload_len(bytes: &mut [u8]) {
    let len = (bytes.len() - HEADER_LEN) as u32;
    bytes[PAYLOAD_LEN_OFFSET..HEADER_LEN].copy_from_slice(&len.to_be_bytes());
}

/// The one offset at which the encodings of `a` and `b` differ.
fn field_offset(a: Message, b: Message) -> usize {
    let (a, b) = (encode(a), encode(b));
    assert_eq!(a.len(), b.len());
    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    assert_eq!(diff.len(), 1, "expected one differing byte, got {diff:?}");
    diff[0]
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).expect("marker present")
}

fn control(body: Control) -> Message {
    Message::Control { channel_seq: 1, body }
}

fn iface(context: &str, interface: &str, status: InterfaceStatus) -> Message {
    Message::InterfaceHello(InterfaceHello { context: context.into(), interface: interface.into(), status })
}

fn hello(failover_on: bool, state: GroupState) -> Message {
    let Message::UnitHello(mut h) = sample_message(Kind::UnitHello) else { unreachable!() };
    h.failover_on = failover_on;
    h.groups[1].state = state;
    Message::UnitHello(h)
}

#[test]
fn wire_error_short_header() {
    let bytes = encode(sample_message(Kind::LanTest));
    for len in 0..HEADER_LEN {
        assert_eq!(wire::decode(&bytes[..len]), Err(DecodeError::ShortHeader { len }));
        assert_eq!(wire::decode_header(&bytes[..len]), Err(DecodeError::ShortHeader { len }));
    }
}

#[test]
fn wire_error_frame_too_long() {
    let mut bytes = encode(sample_message(Kind::LanTest));
    bytes.resize(FRAME_LEN_MAX + 1, 0);
    set_payload_len(&mut bytes);
    assert_eq!(wire::decode(&bytes), Err(DecodeError::FrameTooLong { len: FRAME_LEN_MAX + 1 }));
}

#[test]
fn wire_error_bad_magic_and_version() {
    let good = encode(sample_message(Kind::Ack));
    let mut bytes = good.clone();
    bytes[0] = 0xab;
    assert_eq!(wire::decode(&bytes), Err(DecodeError::BadMagic { found: u16::from_be_bytes([0xab, good[1]]) }));
    let mut bytes = good.clone();
    bytes[2] = 2;
    assert_eq!(wire::decode(&bytes), Err(DecodeError::BadVersion { found: 2 }));
}

#[test]
fn wire_error_unknown_kind_for_every_unused_code() {
    let good = encode(sample_message(Kind::LanTest));
    let mut unknown = 0;
    for code in 0..=u8::MAX {
        let mut bytes = good.clone();
        bytes[3] = code;
        match Kind::from_code(code) {
            Some(kind) => assert_eq!(wire::decode_header(&bytes).map(|h| h.kind), Ok(kind)),
            None => {
                unknown += 1;
                assert_eq!(wire::decode(&bytes), Err(DecodeError::UnknownKind { kind: code }));
            }
        }
    }
    assert_eq!(unknown, 256 - Kind::ALL.len());
}

#[test]
fn wire_error_bad_sender_role_and_flags() {
    let good = encode(sample_message(Kind::LanTest));
    for role in [0u8, 3, 0xff] {
        let mut bytes = good.clone();
        bytes[4] = role;
        assert_eq!(
            wire::decode(&bytes),
            Err(DecodeError::InvalidValue { offset: 4, field: "sender role", value: role as u64 })
        );
    }
    for flags in [0b10u8, 0b11, 0x80, 0xff] {
        let mut bytes = good.clone();
        bytes[5] = flags;
        assert_eq!(wire::decode(&bytes), Err(DecodeError::BadFlags { flags }));
    }
}

#[test]
fn wire_error_length_mismatch() {
    let good = encode(sample_message(Kind::Ack));
    let actual = good.len() - HEADER_LEN;
    for declared in [0u32, actual as u32 - 1, actual as u32 + 1, u32::MAX] {
        let mut bytes = good.clone();
        bytes[PAYLOAD_LEN_OFFSET..HEADER_LEN].copy_from_slice(&declared.to_be_bytes());
        assert_eq!(wire::decode(&bytes), Err(DecodeError::LengthMismatch { declared, actual }));
    }
}

#[test]
fn wire_error_trailing_bytes_after_every_sample() {
    for (name, message) in sample_messages() {
        let mut bytes = encode(message);
        let end = bytes.len();
        bytes.extend_from_slice(&[0, 0, 0]);
        set_payload_len(&mut bytes);
        assert_eq!(wire::decode(&bytes), Err(DecodeError::TrailingBytes { offset: end, count: 3 }), "{name}");
    }
}

/// Cutting any sample anywhere inside its payload (with the length fixed up)
/// is reported as a truncated field, at or before the cut.
#[test]
fn wire_error_truncated_at_every_cut_of_every_sample() {
    for (name, message) in sample_messages() {
        let good = encode(message);
        for cut in HEADER_LEN..good.len() {
            let mut bytes = good[..cut].to_vec();
            set_payload_len(&mut bytes);
            match wire::decode(&bytes) {
                Err(DecodeError::Truncated { offset, field }) => {
                    assert!((HEADER_LEN..=cut).contains(&offset), "{name} cut at {cut}: {field} at {offset}")
                }
                other => panic!("{name} cut at {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn wire_error_non_utf8_text_names_the_field() {
    let cases = [
        (iface("MARK", "x", InterfaceStatus::Normal), "context name"),
        (iface("x", "MARK", InterfaceStatus::Normal), "interface name"),
        (
            control(Control::CommandReplication { space: Space::System, line: "MARK".into(), command_seq: 1 }),
            "command line",
        ),
        (control(Control::WriteStandby { space: Space::Context("MARK".into()) }), "context name"),
        (
            control(Control::ConfigSyncChunk {
                sync_id: 1,
                index: 0,
                lines: vec![ConfigLine { space: Space::System, line: "MARK".into() }],
            }),
            "config line",
        ),
        (
            control(Control::StateUpdate {
                op: StateOp::Add,
                object: StateObject::Bridge { context: "c".into(), mac: [0; 6], interface: "MARK".into() },
            }),
            "interface name",
        ),
    ];
    for (message, field) in cases {
        for bad in [[0xffu8, b'A'], [0xc3, b'A'], [0xed, 0xa0]] {
            let mut bytes = encode(message.clone());
            let at = find(&bytes, b"MARK");
            bytes[at + 1..at + 3].copy_from_slice(&bad);
            assert_eq!(wire::decode(&bytes), Err(DecodeError::InvalidUtf8 { offset: at, field }), "{message:?}");
        }
    }
}

#[test]
fn wire_error_text_too_long_names_the_field() {
    let long = "L".repeat(TEXT_LEN_MAX + 1);
    let cases = [
        (iface(&long, "x", InterfaceStatus::Normal), "context name"),
        (iface("x", &long, InterfaceStatus::Normal), "interface name"),
        (
            control(Control::CommandReplication { space: Space::System, line: long.clone(), command_seq: 1 }),
            "command line",
        ),
        (
            control(Control::ConfigSyncBegin { sync_id: 1, scope: Space::Context(long.clone()), lines: 0 }),
            "context name",
        ),
    ];
    for (message, field) in cases {
        let bytes = encode(message);
        let text_at = find(&bytes, b"LLLL");
        assert_eq!(
            wire::decode(&bytes),
            Err(DecodeError::TextTooLong { offset: text_at - 2, field, len: TEXT_LEN_MAX + 1 }),
        );
    }
    // The longest text is accepted.
    let longest = encode(iface(&"L".repeat(TEXT_LEN_MAX), "x", InterfaceStatus::Normal));
    assert!(wire::decode(&longest).is_ok());
}

#[test]
fn wire_error_too_many_chunk_lines() {
    let chunk = |n: usize| {
        let lines = (0..n).map(|_| ConfigLine { space: Space::System, line: String::new() }).collect();
        control(Control::ConfigSyncChunk { sync_id: 1, index: 0, lines })
    };
    let count_at = encode(chunk(0)).len() - 2;
    assert!(wire::decode(&encode(chunk(CHUNK_LINES_MAX))).is_ok());
    for n in [CHUNK_LINES_MAX + 1, 1000] {
        assert_eq!(
            wire::decode(&encode(chunk(n))),
            Err(DecodeError::TooMany { offset: count_at, field: "config lines", count: n, max: CHUNK_LINES_MAX })
        );
    }
    // A count of u16::MAX in a tiny frame is refused before anything is read.
    let mut bytes = encode(chunk(0));
    bytes[count_at..].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(
        wire::decode(&bytes),
        Err(DecodeError::TooMany { offset: count_at, field: "config lines", count: 65535, max: CHUNK_LINES_MAX })
    );
    // A legal count with nothing behind it is a truncation.
    bytes[count_at..].copy_from_slice(&(CHUNK_LINES_MAX as u16).to_be_bytes());
    assert_eq!(wire::decode(&bytes), Err(DecodeError::Truncated { offset: count_at + 2, field: "space" }));
}

/// Every one-byte code field: an invalid value is reported with the field's
/// name and offset. Each case is two valid messages that differ in that field only.
#[test]
fn wire_error_bad_enum_and_bool_codes() {
    let role = |group, request| control(Control::RoleRequest { group, request });
    let update = |op, protocol| {
        control(Control::StateUpdate {
            op,
            object: StateObject::Connection { context: "c".into(), id: 1, protocol, state: 0 },
        })
    };
    let write = |space: Space, all| control(Control::WriteMemory { space, all });
    let cases: Vec<(Message, Message, &str, Vec<u8>)> = vec![
        (hello(false, GroupState::Active), hello(true, GroupState::Active), "failover-on flag", vec![2, 0xff]),
        (hello(true, GroupState::Active), hello(true, GroupState::Failed), "group state", vec![0, 14, 0xff]),
        (
            iface("c", "i", InterfaceStatus::Normal),
            iface("c", "i", InterfaceStatus::Unknown),
            "interface status",
            vec![0, 7, 0xff],
        ),
        (
            role(Group::One, RoleRequestKind::WantMeActive),
            role(Group::Two, RoleRequestKind::WantMeActive),
            "group",
            vec![0, 3, 0xff],
        ),
        (
            role(Group::One, RoleRequestKind::WantMeActive),
            role(Group::One, RoleRequestKind::WantYouStandby),
            "role request",
            vec![0, 5],
        ),
        (update(StateOp::Add, ConnProtocol::Tcp), update(StateOp::Remove, ConnProtocol::Tcp), "state op", vec![0, 4]),
        (
            update(StateOp::Add, ConnProtocol::Tcp),
            update(StateOp::Add, ConnProtocol::Http),
            "connection protocol",
            vec![0, 4],
        ),
        (write(Space::System, false), write(Space::System, true), "all flag", vec![2, 0x80]),
    ];
    for (a, b, field, bad_values) in cases {
        let offset = field_offset(a.clone(), b);
        for value in bad_values {
            let mut bytes = encode(a.clone());
            bytes[offset] = value;
            assert_eq!(
                wire::decode(&bytes),
                Err(DecodeError::InvalidValue { offset, field, value: value as u64 }),
                "{field} = {value}"
            );
        }
    }
}

#[test]
fn wire_error_bad_space_and_state_object_tags() {
    // The space tag is the first byte after the channel sequence number.
    let bytes = encode(control(Control::WriteStandby { space: Space::System }));
    let at = bytes.len() - 1;
    let mut bad = bytes.clone();
    bad[at] = 2;
    assert_eq!(wire::decode(&bad), Err(DecodeError::InvalidValue { offset: at, field: "space", value: 2 }));

    let sa =
        |op| control(Control::StateUpdate { op, object: StateObject::Sa { context: String::new(), spi: 0, peer: 0 } });
    let op_at = field_offset(sa(StateOp::Add), sa(StateOp::Update));
    for tag in [0u8, 7, 0xff] {
        let mut bytes = encode(sa(StateOp::Add));
        bytes[op_at + 1] = tag;
        assert_eq!(
            wire::decode(&bytes),
            Err(DecodeError::InvalidValue { offset: op_at + 1, field: "state object type", value: tag as u64 })
        );
    }
}

#[test]
fn wire_error_messages_are_readable() {
    let e = DecodeError::InvalidUtf8 { offset: 30, field: "context name" };
    assert_eq!(e.to_string(), "context name at offset 30 is not valid UTF-8");
    let e = DecodeError::TrailingBytes { offset: 40, count: 2 };
    assert_eq!(e.to_string(), "2 trailing bytes at offset 40");
}
