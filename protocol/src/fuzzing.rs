//! Checks shared by the fuzz targets (`fuzz/fuzz_targets/`) and the ordinary
//! tests that replay the committed seed corpora (`protocol/tests/fuzz_corpus.rs`).
//!
//! Each function takes the fuzzer's raw bytes, never fails on bad input, and
//! panics only when a property of the codec or of [`Session`] is broken: a
//! panic here is a bug to fix, and its input a reproducer to commit under
//! `fuzz/seeds/<target>/`.
//!
//! ```
//! use fover_protocol::fuzzing;
//!
//! fuzzing::decode_canonical(b"not a frame");
//! fuzzing::open_any(b"not a frame either");
//! ```

use crate::types::{Group, GroupState, InterfaceStatus, Role, SoftwareVersion, Space};
use crate::wire::auth::{AuthError, FailoverKey, Opened, Session};
use crate::wire::{
    self, Ack, ConfigLine, ConnProtocol, Control, FLAG_SEALED, GroupHealth, InterfaceHealth, InterfaceHello, Kind,
    LanTest, Message, RoleRequestKind, StateObject, StateOp, UnitHello,
};
use std::sync::OnceLock;

/// The role of the sessions in [`open_any`]; frames must come from its peer.
pub const RECEIVER_ROLE: Role = Role::Primary;
/// The boot nonce of the sessions in [`open_any`].
pub const RECEIVER_BOOT: u64 = 0x5eed_0000_0000_0001;
/// The failover key of the keyed session in [`open_any`] (seed frames are sealed with it).
pub const FUZZ_SECRET: &str = "fover-fuzz-key";

/// The input that makes [`canary`] panic when armed.
pub const CANARY_TRIGGER: &[u8] = b"fover fuzz canary";
/// The environment variable that arms the `canary` fuzz target.
pub const CANARY_ENV: &str = "FOVER_FUZZ_CANARY";

/// The key of the keyed session in [`open_any`].
pub fn fuzz_key() -> FailoverKey {
    match FailoverKey::secret(FUZZ_SECRET) {
        Ok(key) => key,
        Err(e) => panic!("the fuzz key is a valid secret: {e}"),
    }
}

/// Decodes `data`; if it is accepted, encoding the frame must give `data` back
/// (the encoding is canonical) and [`wire::decode_header`] must agree with it.
/// [`wire::decode_lean`] must accept and refuse exactly what [`wire::decode`]
/// does, with the same content or error.
pub fn decode_canonical(data: &[u8]) {
    let header = wire::decode_header(data);
    let decoded = wire::decode(data);
    lean_agrees(data, &decoded);
    let Ok(frame) = decoded else { return };
    let bytes = wire::encode(&frame);
    assert!(
        bytes == data,
        "accepted a non-canonical encoding of {frame:?}\n  input:   {data:02x?}\n  encoded: {bytes:02x?}"
    );
    assert!(frame.fits(), "decoded a frame that does not fit: {frame:?}");
    let Ok(header) = header else { panic!("decode accepted a frame whose header is rejected: {header:?}") };
    assert_eq!(header.kind, frame.message.kind(), "header kind");
    assert_eq!(
        (header.sender, header.flags, header.seq, header.boot_nonce),
        (frame.sender, frame.flags, frame.seq, frame.boot_nonce)
    );
}

/// [`wire::decode_lean`] of `data` against [`wire::decode`]'s result.
fn lean_agrees(data: &[u8], decoded: &Result<wire::Frame, wire::DecodeError>) {
    match (decoded, wire::decode_lean(data)) {
        (Ok(frame), Ok(wire::Lean::Frame(lean))) => {
            assert_eq!(frame, &lean, "decode_lean");
            assert!(!matches!(frame.message, Message::InterfaceHello(_)), "decode_lean copied an interface hello");
        }
        (Ok(frame), Ok(wire::Lean::InterfaceHello(header, hello))) => {
            assert_eq!(frame.message, Message::InterfaceHello(hello.to_owned()), "decode_lean");
            assert_eq!(
                (header.sender, header.flags, header.seq, header.boot_nonce, header.kind),
                (frame.sender, frame.flags, frame.seq, frame.boot_nonce, Kind::InterfaceHello)
            );
        }
        (Err(error), Err(lean)) => assert_eq!(error, &lean, "decode_lean refused with another error"),
        (decoded, lean) => panic!("decode and decode_lean disagree: {decoded:?} / {lean:?}"),
    }
}

/// [`Session::open_lean`] against [`Session::open`] on copies of `session`:
/// the same verdict, the same frame (an interface hello without its names),
/// the same session afterwards.
fn open_lean_agrees(session: &Session, data: &[u8]) {
    let (mut full, mut lean) = (session.clone(), session.clone());
    let (opened, leaned) = (full.open(data), lean.open_lean(crate::wire::auth::Path::Failover, data));
    match (&opened, &leaned) {
        (Ok(frame), Ok(Opened::Frame(other))) => {
            assert_eq!(frame, other, "open_lean");
            assert!(!matches!(frame.message, Message::InterfaceHello(_)), "open_lean copied an interface hello");
        }
        (Ok(frame), Ok(Opened::InterfaceHello { header, status })) => {
            let Message::InterfaceHello(hello) = &frame.message else { panic!("open_lean: not an interface hello") };
            assert_eq!(hello.status, *status, "open_lean status");
            assert_eq!(
                (header.sender, header.flags, header.seq, header.boot_nonce, header.kind),
                (frame.sender, frame.flags, frame.seq, frame.boot_nonce, Kind::InterfaceHello)
            );
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "open_lean refused with another error"),
        _ => panic!("open and open_lean disagree: {opened:?} / {leaned:?}"),
    }
    assert_eq!(format!("{full:?}"), format!("{lean:?}"), "open_lean left the session in another state");
}

/// Builds an arbitrary frame from `data` (as libfuzzer-sys does for structured
/// targets) and, if it respects the wire limits ([`wire::Frame::fits`]),
/// checks that it survives an encode/decode round trip.
#[cfg(feature = "arbitrary")]
pub fn roundtrip(data: &[u8]) {
    use arbitrary::{Arbitrary, Unstructured};
    let Ok(frame) = wire::Frame::arbitrary_take_rest(Unstructured::new(data)) else { return };
    if !frame.fits() {
        return;
    }
    let bytes = wire::encode(&frame);
    match wire::decode(&bytes) {
        Ok(decoded) => assert_eq!(decoded, frame, "round trip"),
        Err(e) => panic!("a frame that fits is rejected: {e}\n  frame: {frame:?}\n  bytes: {bytes:02x?}"),
    }
}

/// Feeds `data` to a fresh keyed session (key [`FUZZ_SECRET`]) and a fresh
/// unkeyed one, both of role [`RECEIVER_ROLE`]. Whatever a session accepts
/// must be well formed; the keyed session must refuse the same bytes a second
/// time (replay), and the unkeyed one must accept exactly `frame | CRC-32`.
pub fn open_any(data: &[u8]) {
    // Deriving the key is the slowest step: do it once, start each input from a copy.
    static KEYED: OnceLock<Session> = OnceLock::new();
    let mut keyed = KEYED.get_or_init(|| Session::new(RECEIVER_ROLE, RECEIVER_BOOT, Some(&fuzz_key()))).clone();
    open_lean_agrees(&keyed, data);
    if let Ok(frame) = keyed.open(data) {
        assert_eq!(frame.flags & FLAG_SEALED, FLAG_SEALED, "keyed session accepted an unsealed frame");
        assert_eq!(frame.sender, RECEIVER_ROLE.peer(), "keyed session accepted a frame from its own role");
        assert!(frame.fits(), "keyed session accepted a frame that does not fit: {frame:?}");
        assert_eq!(
            keyed.open(data),
            Err(AuthError::Replay { seq: frame.seq, boot: frame.boot_nonce }),
            "keyed session accepted the same frame twice"
        );
    }
    let mut plain = Session::new(RECEIVER_ROLE, RECEIVER_BOOT, None);
    open_lean_agrees(&plain, data);
    if let Ok(frame) = plain.open(data) {
        assert_eq!(frame.flags, 0, "unkeyed session accepted a sealed frame");
        assert_eq!(frame.sender, RECEIVER_ROLE.peer(), "unkeyed session accepted a frame from its own role");
        let mut bytes = wire::encode(&frame);
        bytes.extend_from_slice(&crc32fast::hash(&bytes).to_be_bytes());
        assert!(bytes == data, "unkeyed session accepted a non-canonical frame {frame:?}");
    }
}

/// Panics on [`CANARY_TRIGGER`] when `armed`, and never otherwise: the `canary`
/// fuzz target arms it from [`CANARY_ENV`] so CI can prove that a crash is
/// reported.
pub fn canary(data: &[u8], armed: bool) {
    if armed && data == CANARY_TRIGGER {
        panic!("fuzz canary: the crash {CANARY_ENV}=1 asked for");
    }
}

/// One typical message of `kind`. The match is exhaustive, so a new kind
/// cannot be added without a sample, and every test and seed corpus built on
/// these covers every kind.
pub fn sample_message(kind: Kind) -> Message {
    let control = |channel_seq: u64, body: Control| Message::Control { channel_seq, body };
    let admin = || Space::Context("admin".to_owned());
    match kind {
        Kind::UnitHello => Message::UnitHello(UnitHello {
            failover_on: true,
            version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
            groups: [
                GroupHealth { state: GroupState::Active, monitored: 4, failed: 0 },
                GroupHealth { state: GroupState::StandbyReady, monitored: 2, failed: 1 },
            ],
            interfaces: vec![
                InterfaceHealth { iface: 0, status: InterfaceStatus::Normal },
                InterfaceHealth { iface: 1, status: InterfaceStatus::Failed },
            ],
        }),
        Kind::LanTest => Message::LanTest(LanTest { nonce: 0x1234_5678 }),
        Kind::LanTestReply => Message::LanTestReply(LanTest { nonce: 0x1234_5678 }),
        Kind::InterfaceHello => Message::InterfaceHello(InterfaceHello {
            context: "ctx1".to_owned(),
            interface: "inside".to_owned(),
            status: InterfaceStatus::Normal,
        }),
        Kind::Ack => Message::Ack(Ack { stream_boot: 0xb007, cumulative: 41 }),
        Kind::RoleRequest => {
            control(1, Control::RoleRequest { group: Group::Two, request: RoleRequestKind::WantYouStandby })
        }
        Kind::ConfigSyncBegin => control(2, Control::ConfigSyncBegin { sync_id: 9, scope: Space::System, lines: 3 }),
        Kind::ConfigSyncChunk => control(
            3,
            Control::ConfigSyncChunk {
                sync_id: 9,
                index: 0,
                lines: vec![
                    ConfigLine { space: Space::System, line: "failover group 1".to_owned() },
                    ConfigLine { space: admin(), line: "hostname fw".to_owned() },
                    ConfigLine { space: admin(), line: "interface inside".to_owned() },
                ],
            },
        ),
        Kind::ConfigSyncEnd => control(4, Control::ConfigSyncEnd { sync_id: 9, lines: 3, digest: 0xc0ff_ee00 }),
        Kind::CommandReplication => control(
            5,
            Control::CommandReplication {
                space: admin(),
                line: "access-list a permit ip any any".to_owned(),
                command_seq: 17,
            },
        ),
        Kind::WriteMemory => control(6, Control::WriteMemory { space: Space::System, all: true }),
        Kind::Pairing => control(
            10,
            Control::Pairing(crate::wire::Pairing {
                model: "ASA5520".to_owned(),
                ram_mb: 512,
                flash_bytes: 256 << 20,
                interfaces: vec![crate::wire::InterfaceCount { hardware: "GigabitEthernet".to_owned(), count: 4 }],
                modes: 6,
                version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
                license: 1,
                contexts: 20,
                vpn_peers: 750,
                addressing: 0,
            }),
        ),
        Kind::WriteStandby => control(7, Control::WriteStandby { space: admin() }),
        Kind::StateUpdate => control(
            8,
            Control::StateUpdate {
                op: StateOp::Add,
                object: StateObject::Connection {
                    context: "admin".to_owned(),
                    id: 77,
                    protocol: ConnProtocol::Tcp,
                    state: 2,
                },
            },
        ),
        Kind::BulkSyncBegin => control(9, Control::BulkSyncBegin { sync_id: 10 }),
        Kind::BulkSyncEnd => control(10, Control::BulkSyncEnd { sync_id: 10, objects: 1234 }),
    }
}

/// Named sample messages: [`sample_message`] of every kind, then variants that
/// reach the other branches of the codec (every state object, both spaces,
/// empty and longest texts, empty and fullest chunks, every enum code).
pub fn sample_messages() -> Vec<(String, Message)> {
    let mut out: Vec<(String, Message)> =
        Kind::ALL.iter().map(|&k| (k.as_str().to_owned(), sample_message(k))).collect();
    let mut add = |name: &str, m: Message| out.push((name.to_owned(), m));
    let control = |channel_seq: u64, body: Control| Message::Control { channel_seq, body };
    let ctx = |name: &str| name.to_owned();

    for (i, &state) in GroupState::ALL.iter().enumerate() {
        let groups = [
            GroupHealth { state, monitored: u16::MAX, failed: i as u16 },
            GroupHealth { state: GroupState::ALL[GroupState::ALL.len() - 1 - i], monitored: 0, failed: u16::MAX },
        ];
        let version = SoftwareVersion { major: u8::MAX, minor: 0, patch: u16::MAX };
        add(
            &format!("hello-{}", state.as_str().to_lowercase().replace(' ', "-")),
            Message::UnitHello(UnitHello { failover_on: i % 2 == 0, version, groups, interfaces: Vec::new() }),
        );
    }
    for &status in InterfaceStatus::ALL {
        add(
            &format!("interface-hello-{}", status.as_str().to_lowercase().replace(' ', "-")),
            Message::InterfaceHello(InterfaceHello { context: ctx("c"), interface: ctx("outside"), status }),
        );
    }
    add(
        "interface-hello-empty-names",
        Message::InterfaceHello(InterfaceHello {
            context: String::new(),
            interface: String::new(),
            status: InterfaceStatus::Unknown,
        }),
    );
    add(
        "interface-hello-longest-names",
        Message::InterfaceHello(InterfaceHello {
            context: "c".repeat(wire::TEXT_LEN_MAX),
            interface: "\u{e9}".repeat(wire::TEXT_LEN_MAX / 2),
            status: InterfaceStatus::Testing,
        }),
    );
    add("ack-max", Message::Ack(Ack { stream_boot: u64::MAX, cumulative: u64::MAX }));
    for &group in Group::ALL {
        for &request in RoleRequestKind::ALL {
            let request_name = match request {
                RoleRequestKind::WantMeActive => "want-me-active",
                RoleRequestKind::WantYouStandby => "want-you-standby",
                RoleRequestKind::WantYouActive => "want-you-active",
                RoleRequestKind::WantVacant => "want-vacant",
            };
            add(
                &format!("role-request-group-{group}-{request_name}"),
                control(u64::MAX, Control::RoleRequest { group, request }),
            );
        }
    }
    add(
        "config-sync-begin-context",
        control(0, Control::ConfigSyncBegin { sync_id: u32::MAX, scope: Space::Context(ctx("ctx2")), lines: 0 }),
    );
    add("config-sync-chunk-empty", control(3, Control::ConfigSyncChunk { sync_id: 1, index: 1, lines: Vec::new() }));
    let full = (0..wire::CHUNK_LINES_MAX)
        .map(|i| ConfigLine {
            space: if i % 2 == 0 { Space::System } else { Space::Context(format!("ctx{i}")) },
            line: format!("object network n{i}"),
        })
        .collect();
    add("config-sync-chunk-64-lines", control(3, Control::ConfigSyncChunk { sync_id: 1, index: 2, lines: full }));
    add(
        "command-replication-system-unicode",
        control(
            11,
            Control::CommandReplication {
                space: Space::System,
                line: "name 10.0.0.1 caf\u{e9}-\u{1f525}".to_owned(),
                command_seq: 0,
            },
        ),
    );
    add("write-memory-context", control(12, Control::WriteMemory { space: Space::Context(ctx("ctx3")), all: false }));
    add("write-standby-system", control(13, Control::WriteStandby { space: Space::System }));
    let objects = [
        (
            "connection-udp",
            StateObject::Connection { context: ctx("admin"), id: 1, protocol: ConnProtocol::Udp, state: 0 },
        ),
        (
            "connection-http",
            StateObject::Connection { context: ctx("ctx2"), id: u64::MAX, protocol: ConnProtocol::Http, state: 255 },
        ),
        ("xlate", StateObject::Xlate { context: ctx("admin"), id: 5, real: 0x0a00_0001, mapped: 0xc0a8_0001 }),
        ("arp", StateObject::Arp { context: ctx("admin"), ip: 0x0a00_0002, mac: [0, 0x1b, 0x54, 1, 2, 3] }),
        ("bridge", StateObject::Bridge { context: ctx("ctx2"), mac: [0xff; 6], interface: ctx("inside") }),
        ("sa", StateObject::Sa { context: ctx("admin"), spi: 0xdead_beef, peer: 0x0102_0304 }),
        ("gtp-pdp", StateObject::GtpPdp { context: ctx("admin"), teid: 7, imsi: 310_150_123_456_789 }),
    ];
    for (i, (name, object)) in objects.into_iter().enumerate() {
        let op = StateOp::ALL[i % StateOp::ALL.len()];
        add(&format!("state-update-{op}-{name}"), control(20 + i as u64, Control::StateUpdate { op, object }));
    }
    add("bulk-sync-end-zero", control(30, Control::BulkSyncEnd { sync_id: 0, objects: 0 }));
    out
}
