//! The canonical binary encoding of frames: [`encode`], [`decode`] and the lean paths.

use super::*;
use crate::types::{Group, GroupState, InterfaceStatus, Role, SoftwareVersion, Space};

/// Reads only the header of a frame (the fabric uses it to drop by kind).
pub fn decode_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::ShortHeader { len: bytes.len() });
    }
    let mut r = Reader::new(bytes);
    let magic = r.u16("magic")?;
    if magic != MAGIC {
        return Err(DecodeError::BadMagic { found: magic });
    }
    let version = r.u8("version")?;
    if version != WIRE_VERSION {
        return Err(DecodeError::BadVersion { found: version });
    }
    let kind_code = r.u8("kind")?;
    let kind = Kind::from_code(kind_code).ok_or(DecodeError::UnknownKind { kind: kind_code })?;
    let sender = r.code("sender role", Role::from_code)?;
    let flags = r.u8("flags")?;
    if flags & !FLAG_SEALED != 0 {
        return Err(DecodeError::BadFlags { flags });
    }
    let seq = r.u64("seq")?;
    let boot_nonce = r.u64("boot nonce")?;
    let payload_len = r.u32("payload length")?;
    Ok(Header { kind, sender, flags, seq, boot_nonce, payload_len })
}

/// Decodes one plaintext frame. Never panics; allocates at most in proportion to `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
    let (header, message) = decode_with(bytes, decode_payload)?;
    Ok(Frame { sender: header.sender, flags: header.flags, seq: header.seq, boot_nonce: header.boot_nonce, message })
}

/// A frame decoded by [`decode_lean`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lean<'a> {
    /// Any frame but an interface hello.
    Frame(Frame),
    /// An interface hello, its names borrowing the frame's bytes.
    InterfaceHello(Header, InterfaceHelloRef<'a>),
}

/// [`decode`], except that an interface hello is read in place (its names
/// are not copied): the same frames are accepted, with the same content, and
/// the same errors given for the others. The most frequent frame of a
/// simulation, received for its arrival only.
pub fn decode_lean(bytes: &[u8]) -> Result<Lean<'_>, DecodeError> {
    let (header, lean) = decode_with(bytes, |kind, r| match kind {
        Kind::InterfaceHello => interface_hello_payload(r).map(Err),
        kind => decode_payload(kind, r).map(Ok),
    })?;
    Ok(match lean {
        Ok(message) => Lean::Frame(Frame {
            sender: header.sender,
            flags: header.flags,
            seq: header.seq,
            boot_nonce: header.boot_nonce,
            message,
        }),
        Err(hello) => Lean::InterfaceHello(header, hello),
    })
}

/// The checks of a whole frame around its payload, which `payload` reads.
fn decode_with<'a, T>(
    bytes: &'a [u8],
    payload: impl FnOnce(Kind, &mut Reader<'a>) -> Result<T, DecodeError>,
) -> Result<(Header, T), DecodeError> {
    if bytes.len() > FRAME_LEN_MAX {
        return Err(DecodeError::FrameTooLong { len: bytes.len() });
    }
    let header = decode_header(bytes)?;
    let actual = bytes.len().saturating_sub(HEADER_LEN);
    if header.payload_len as usize != actual {
        return Err(DecodeError::LengthMismatch { declared: header.payload_len, actual });
    }
    let mut r = Reader { bytes, pos: HEADER_LEN };
    let content = payload(header.kind, &mut r)?;
    if r.pos != bytes.len() {
        return Err(DecodeError::TrailingBytes { offset: r.pos, count: r.remaining() });
    }
    Ok((header, content))
}

fn interface_hello_payload<'a>(r: &mut Reader<'a>) -> Result<InterfaceHelloRef<'a>, DecodeError> {
    Ok(InterfaceHelloRef {
        context: r.text_ref("context name")?,
        interface: r.text_ref("interface name")?,
        status: r.code("interface status", InterfaceStatus::from_code)?,
    })
}

/// Encodes a frame. Callers keep text and lists within the limits of this
/// module (see [`Frame::fits`]); the unit validates what it accepts.
pub fn encode(frame: &Frame) -> Vec<u8> {
    let kind = frame.message.kind();
    encode_with(kind, frame.sender, frame.flags, frame.seq, frame.boot_nonce, |w| encode_payload(&frame.message, w))
}

/// The bytes [`encode`] gives for an interface hello frame with these fields,
/// without building the message (no copy of the names).
pub fn encode_interface_hello(
    sender: Role,
    flags: u8,
    seq: u64,
    boot_nonce: u64,
    hello: InterfaceHelloRef<'_>,
) -> Vec<u8> {
    encode_with(Kind::InterfaceHello, sender, flags, seq, boot_nonce, |w| encode_interface_hello_payload(hello, w))
}

/// A header with these fields, the payload `payload` writes, and its length
/// patched into the header. The buffer has room for a trailer (a checksum or a tag).
fn encode_with(
    kind: Kind,
    sender: Role,
    flags: u8,
    seq: u64,
    boot_nonce: u64,
    payload: impl FnOnce(&mut Writer),
) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(80));
    w.u16(MAGIC);
    w.u8(WIRE_VERSION);
    w.u8(kind.code());
    w.u8(sender.code());
    w.u8(flags);
    w.u64(seq);
    w.u64(boot_nonce);
    w.u32(0); // payload length, patched below
    payload(&mut w);
    let payload_len = u32::try_from(w.0.len().saturating_sub(HEADER_LEN)).unwrap_or(u32::MAX);
    if let Some(field) = w.0.get_mut(PAYLOAD_LEN_OFFSET..HEADER_LEN) {
        field.copy_from_slice(&payload_len.to_be_bytes());
    }
    w.0
}

fn encode_interface_hello_payload(h: InterfaceHelloRef<'_>, w: &mut Writer) {
    w.text(h.context);
    w.text(h.interface);
    w.u8(h.status.code());
}

impl Frame {
    /// Whether this frame respects the wire limits: only defined flags, no
    /// text longer than [`TEXT_LEN_MAX`], no chunk of more than
    /// [`CHUNK_LINES_MAX`] lines, at most [`FRAME_LEN_MAX`] bytes encoded.
    ///
    /// The limits are checked one by one, not by decoding, so that the
    /// property "every frame that fits round-trips, `decode(&encode(f)) ==
    /// Ok(f)`" is something the tests and the fuzzers can check rather than
    /// a definition.
    pub fn fits(&self) -> bool {
        self.flags & !FLAG_SEALED == 0 && self.message.fits() && encode(self).len() <= FRAME_LEN_MAX
    }
}

impl Message {
    /// Every text and list of the message is within its limit (see [`Frame::fits`]).
    fn fits(&self) -> bool {
        let text = |s: &str| s.len() <= TEXT_LEN_MAX;
        let space = |s: &Space| match s {
            Space::System => true,
            Space::Context(name) => text(name),
        };
        match self {
            Message::UnitHello(h) => h.interfaces.len() <= HELLO_INTERFACES_MAX,
            Message::LanTest(_) | Message::LanTestReply(_) | Message::Ack(_) => true,
            Message::InterfaceHello(h) => text(&h.context) && text(&h.interface),
            Message::Control { body, .. } => match body {
                Control::RoleRequest { .. }
                | Control::ConfigSyncEnd { .. }
                | Control::BulkSyncBegin { .. }
                | Control::BulkSyncEnd { .. } => true,
                Control::ConfigSyncBegin { scope, .. } => space(scope),
                Control::Pairing(p) => {
                    text(&p.model)
                        && p.interfaces.len() <= PAIRING_INTERFACE_TYPES_MAX
                        && p.interfaces.iter().all(|i| text(&i.hardware))
                }
                Control::ConfigSyncChunk { lines, .. } => {
                    lines.len() <= CHUNK_LINES_MAX && lines.iter().all(|l| space(&l.space) && text(&l.line))
                }
                Control::CommandReplication { space: s, line, .. } => space(s) && text(line),
                Control::WriteMemory { space: s, .. } | Control::WriteStandby { space: s } => space(s),
                Control::StateUpdate { object, .. } => match object {
                    StateObject::Bridge { context, interface, .. } => text(context) && text(interface),
                    StateObject::Connection { context, .. }
                    | StateObject::Xlate { context, .. }
                    | StateObject::Arp { context, .. }
                    | StateObject::Sa { context, .. }
                    | StateObject::GtpPdp { context, .. } => text(context),
                },
            },
        }
    }
}

fn encode_payload(message: &Message, w: &mut Writer) {
    match message {
        Message::UnitHello(h) => {
            w.bool(h.failover_on);
            w.u8(h.version.major);
            w.u8(h.version.minor);
            w.u16(h.version.patch);
            for g in &h.groups {
                w.u8(g.state.code());
                w.u16(g.monitored);
                w.u16(g.failed);
            }
            w.u16(h.interfaces.len() as u16);
            for i in &h.interfaces {
                w.u16(i.iface);
                w.u8(i.status.code());
            }
        }
        Message::LanTest(t) | Message::LanTestReply(t) => w.u32(t.nonce),
        Message::InterfaceHello(h) => encode_interface_hello_payload(
            InterfaceHelloRef { context: &h.context, interface: &h.interface, status: h.status },
            w,
        ),
        Message::Ack(a) => {
            w.u64(a.stream_boot);
            w.u64(a.cumulative);
        }
        Message::Control { channel_seq, body } => {
            w.u64(*channel_seq);
            encode_control(body, w);
        }
    }
}

fn encode_control(body: &Control, w: &mut Writer) {
    match body {
        Control::RoleRequest { group, request } => {
            w.u8(group.code());
            w.u8(request.code());
        }
        Control::ConfigSyncBegin { sync_id, scope, lines } => {
            w.u32(*sync_id);
            w.space(scope);
            w.u32(*lines);
        }
        Control::ConfigSyncChunk { sync_id, index, lines } => {
            w.u32(*sync_id);
            w.u32(*index);
            w.u16(u16::try_from(lines.len()).unwrap_or(u16::MAX));
            for l in lines {
                w.space(&l.space);
                w.text(&l.line);
            }
        }
        Control::ConfigSyncEnd { sync_id, lines, digest } => {
            w.u32(*sync_id);
            w.u32(*lines);
            w.u32(*digest);
        }
        Control::CommandReplication { space, line, command_seq } => {
            w.space(space);
            w.text(line);
            w.u64(*command_seq);
        }
        Control::WriteMemory { space, all } => {
            w.space(space);
            w.bool(*all);
        }
        Control::WriteStandby { space } => w.space(space),
        Control::StateUpdate { op, object } => {
            w.u8(op.code());
            encode_state_object(object, w);
        }
        Control::BulkSyncBegin { sync_id } => w.u32(*sync_id),
        Control::BulkSyncEnd { sync_id, objects } => {
            w.u32(*sync_id);
            w.u32(*objects);
        }
        Control::Pairing(p) => {
            w.text(&p.model);
            w.u32(p.ram_mb);
            w.u64(p.flash_bytes);
            w.u16(u16::try_from(p.interfaces.len()).unwrap_or(u16::MAX));
            for i in &p.interfaces {
                w.text(&i.hardware);
                w.u16(i.count);
            }
            w.u8(p.modes);
            w.u8(p.version.major);
            w.u8(p.version.minor);
            w.u16(p.version.patch);
            w.u8(p.license);
            w.u16(p.contexts);
            w.u16(p.vpn_peers);
            w.u8(p.addressing);
        }
    }
}

const OBJ_CONNECTION: u8 = 1;
const OBJ_XLATE: u8 = 2;
const OBJ_ARP: u8 = 3;
const OBJ_BRIDGE: u8 = 4;
const OBJ_SA: u8 = 5;
const OBJ_GTP_PDP: u8 = 6;

fn encode_state_object(object: &StateObject, w: &mut Writer) {
    match object {
        StateObject::Connection { context, id, protocol, state } => {
            w.u8(OBJ_CONNECTION);
            w.text(context);
            w.u64(*id);
            w.u8(protocol.code());
            w.u8(*state);
        }
        StateObject::Xlate { context, id, real, mapped } => {
            w.u8(OBJ_XLATE);
            w.text(context);
            w.u64(*id);
            w.u32(*real);
            w.u32(*mapped);
        }
        StateObject::Arp { context, ip, mac } => {
            w.u8(OBJ_ARP);
            w.text(context);
            w.u32(*ip);
            w.0.extend_from_slice(mac);
        }
        StateObject::Bridge { context, mac, interface } => {
            w.u8(OBJ_BRIDGE);
            w.text(context);
            w.0.extend_from_slice(mac);
            w.text(interface);
        }
        StateObject::Sa { context, spi, peer } => {
            w.u8(OBJ_SA);
            w.text(context);
            w.u32(*spi);
            w.u32(*peer);
        }
        StateObject::GtpPdp { context, teid, imsi } => {
            w.u8(OBJ_GTP_PDP);
            w.text(context);
            w.u32(*teid);
            w.u64(*imsi);
        }
    }
}

fn decode_payload(kind: Kind, r: &mut Reader) -> Result<Message, DecodeError> {
    Ok(match kind {
        Kind::UnitHello => {
            let failover_on = r.bool("failover-on flag")?;
            let version = SoftwareVersion {
                major: r.u8("version major")?,
                minor: r.u8("version minor")?,
                patch: r.u16("version patch")?,
            };
            let mut groups = [GroupHealth { state: GroupState::Disabled, monitored: 0, failed: 0 }; 2];
            for g in &mut groups {
                g.state = r.code("group state", GroupState::from_code)?;
                g.monitored = r.u16("monitored interfaces")?;
                g.failed = r.u16("failed interfaces")?;
            }
            let at = r.pos;
            let count = r.u16("interface count")? as usize;
            if count > HELLO_INTERFACES_MAX {
                return Err(DecodeError::TooMany {
                    offset: at,
                    field: "hello interfaces",
                    count,
                    max: HELLO_INTERFACES_MAX,
                });
            }
            let mut interfaces = Vec::with_capacity(count);
            for _ in 0..count {
                interfaces.push(InterfaceHealth {
                    iface: r.u16("interface index")?,
                    status: r.code("interface status", InterfaceStatus::from_code)?,
                });
            }
            Message::UnitHello(UnitHello { failover_on, version, groups, interfaces })
        }
        Kind::LanTest => Message::LanTest(LanTest { nonce: r.u32("nonce")? }),
        Kind::LanTestReply => Message::LanTestReply(LanTest { nonce: r.u32("nonce")? }),
        Kind::InterfaceHello => Message::InterfaceHello(interface_hello_payload(r)?.to_owned()),
        Kind::Ack => Message::Ack(Ack { stream_boot: r.u64("stream boot")?, cumulative: r.u64("cumulative ack")? }),
        // Control kinds: the reliable channel's sequence number, then the body.
        Kind::RoleRequest => control(r, |r| {
            Ok(Control::RoleRequest {
                group: r.code("group", Group::from_code)?,
                request: r.code("role request", RoleRequestKind::from_code)?,
            })
        })?,
        Kind::ConfigSyncBegin => control(r, |r| {
            Ok(Control::ConfigSyncBegin { sync_id: r.u32("sync id")?, scope: r.space()?, lines: r.u32("line count")? })
        })?,
        Kind::ConfigSyncChunk => control(r, |r| {
            let sync_id = r.u32("sync id")?;
            let index = r.u32("chunk index")?;
            let at = r.pos;
            let count = r.u16("line count")? as usize;
            if count > CHUNK_LINES_MAX {
                return Err(DecodeError::TooMany { offset: at, field: "config lines", count, max: CHUNK_LINES_MAX });
            }
            // Reserve no more lines than the remaining bytes can hold, so a
            // short frame cannot make the decoder allocate for 64 lines.
            let mut lines = Vec::with_capacity(count.min(r.remaining() / CONFIG_LINE_LEN_MIN));
            for _ in 0..count {
                lines.push(ConfigLine { space: r.space()?, line: r.text("config line")? });
            }
            Ok(Control::ConfigSyncChunk { sync_id, index, lines })
        })?,
        Kind::ConfigSyncEnd => control(r, |r| {
            Ok(Control::ConfigSyncEnd {
                sync_id: r.u32("sync id")?,
                lines: r.u32("line count")?,
                digest: r.u32("digest")?,
            })
        })?,
        Kind::CommandReplication => control(r, |r| {
            Ok(Control::CommandReplication {
                space: r.space()?,
                line: r.text("command line")?,
                command_seq: r.u64("command seq")?,
            })
        })?,
        Kind::WriteMemory => control(r, |r| Ok(Control::WriteMemory { space: r.space()?, all: r.bool("all flag")? }))?,
        Kind::WriteStandby => control(r, |r| Ok(Control::WriteStandby { space: r.space()? }))?,
        Kind::StateUpdate => control(r, |r| {
            Ok(Control::StateUpdate { op: r.code("state op", StateOp::from_code)?, object: decode_state_object(r)? })
        })?,
        Kind::BulkSyncBegin => control(r, |r| Ok(Control::BulkSyncBegin { sync_id: r.u32("sync id")? }))?,
        Kind::BulkSyncEnd => {
            control(r, |r| Ok(Control::BulkSyncEnd { sync_id: r.u32("sync id")?, objects: r.u32("object count")? }))?
        }
        Kind::Pairing => control(r, |r| {
            let model = r.text("model")?;
            let ram_mb = r.u32("RAM")?;
            let flash_bytes = r.u64("flash size")?;
            let at = r.pos;
            let count = r.u16("interface type count")? as usize;
            if count > PAIRING_INTERFACE_TYPES_MAX {
                return Err(DecodeError::TooMany {
                    offset: at,
                    field: "interface types",
                    count,
                    max: PAIRING_INTERFACE_TYPES_MAX,
                });
            }
            let mut interfaces = Vec::with_capacity(count);
            for _ in 0..count {
                interfaces
                    .push(InterfaceCount { hardware: r.text("interface hardware")?, count: r.u16("interface count")? });
            }
            Ok(Control::Pairing(Pairing {
                model,
                ram_mb,
                flash_bytes,
                interfaces,
                modes: r.u8("modes")?,
                version: SoftwareVersion {
                    major: r.u8("version major")?,
                    minor: r.u8("version minor")?,
                    patch: r.u16("version patch")?,
                },
                license: r.u8("license kind")?,
                contexts: r.u16("licensed contexts")?,
                vpn_peers: r.u16("licensed VPN peers")?,
                addressing: r.u8("failover addressing")?,
            }))
        })?,
    })
}

/// Smallest encoding of a [`ConfigLine`]: the system space tag and an empty line.
const CONFIG_LINE_LEN_MIN: usize = 1 + 2;

/// Reads a control message: the channel sequence number, then the body.
fn control(
    r: &mut Reader,
    body: impl FnOnce(&mut Reader) -> Result<Control, DecodeError>,
) -> Result<Message, DecodeError> {
    let channel_seq = r.u64("channel seq")?;
    Ok(Message::Control { channel_seq, body: body(r)? })
}

fn decode_state_object(r: &mut Reader) -> Result<StateObject, DecodeError> {
    let at = r.pos;
    let tag = r.u8("state object type")?;
    Ok(match tag {
        OBJ_CONNECTION => StateObject::Connection {
            context: r.text("context name")?,
            id: r.u64("connection id")?,
            protocol: r.code("connection protocol", ConnProtocol::from_code)?,
            state: r.u8("connection state")?,
        },
        OBJ_XLATE => StateObject::Xlate {
            context: r.text("context name")?,
            id: r.u64("xlate id")?,
            real: r.u32("real address")?,
            mapped: r.u32("mapped address")?,
        },
        OBJ_ARP => StateObject::Arp { context: r.text("context name")?, ip: r.u32("ip address")?, mac: r.mac()? },
        OBJ_BRIDGE => StateObject::Bridge {
            context: r.text("context name")?,
            mac: r.mac()?,
            interface: r.text("interface name")?,
        },
        OBJ_SA => {
            StateObject::Sa { context: r.text("context name")?, spi: r.u32("spi")?, peer: r.u32("peer address")? }
        }
        OBJ_GTP_PDP => {
            StateObject::GtpPdp { context: r.text("context name")?, teid: r.u32("teid")?, imsi: r.u64("imsi")? }
        }
        other => return Err(DecodeError::InvalidValue { offset: at, field: "state object type", value: other as u64 }),
    })
}

const SPACE_SYSTEM: u8 = 0;
const SPACE_CONTEXT: u8 = 1;

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn text(&mut self, s: &str) {
        self.u16(u16::try_from(s.len()).unwrap_or(u16::MAX));
        self.0.extend_from_slice(s.as_bytes());
    }
    fn space(&mut self, space: &Space) {
        match space {
            Space::System => self.u8(SPACE_SYSTEM),
            Space::Context(name) => {
                self.u8(SPACE_CONTEXT);
                self.text(name);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let raw = self.bytes.get(self.pos..self.pos.saturating_add(N));
        let Some(Ok(out)) = raw.map(<[u8; N]>::try_from) else {
            return Err(DecodeError::Truncated { offset: self.pos, field });
        };
        self.pos += N;
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.take(field)?))
    }
    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.take(field)?))
    }
    fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(field)?))
    }
    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take(field)?))
    }
    fn mac(&mut self) -> Result<[u8; 6], DecodeError> {
        self.take("mac address")
    }
    fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let offset = self.pos;
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(DecodeError::InvalidValue { offset, field, value: v as u64 }),
        }
    }
    fn code<T>(&mut self, field: &'static str, from: fn(u8) -> Option<T>) -> Result<T, DecodeError> {
        let offset = self.pos;
        let v = self.u8(field)?;
        from(v).ok_or(DecodeError::InvalidValue { offset, field, value: v as u64 })
    }
    fn text(&mut self, field: &'static str) -> Result<String, DecodeError> {
        self.text_ref(field).map(str::to_owned)
    }
    fn text_ref(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let len = self.u16(field)? as usize;
        if len > TEXT_LEN_MAX {
            return Err(DecodeError::TextTooLong { offset, field, len });
        }
        let start = self.pos;
        let Some(raw) = self.bytes.get(start..start.saturating_add(len)) else {
            return Err(DecodeError::Truncated { offset: start, field });
        };
        let text = core::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8 { offset: start, field })?;
        self.pos = start.saturating_add(len);
        Ok(text)
    }
    fn space(&mut self) -> Result<Space, DecodeError> {
        let offset = self.pos;
        match self.u8("space")? {
            SPACE_SYSTEM => Ok(Space::System),
            SPACE_CONTEXT => Ok(Space::Context(self.text("context name")?)),
            v => Err(DecodeError::InvalidValue { offset, field: "space", value: v as u64 }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Frame {
        Frame {
            sender: Role::Primary,
            flags: 0,
            seq: 7,
            boot_nonce: 0xdead_beef,
            message: Message::UnitHello(UnitHello {
                failover_on: true,
                version: SoftwareVersion { major: 7, minor: 2, patch: 4 },
                groups: [
                    GroupHealth { state: GroupState::Active, monitored: 4, failed: 0 },
                    GroupHealth { state: GroupState::StandbyReady, monitored: 2, failed: 1 },
                ],
                interfaces: vec![
                    InterfaceHealth { iface: 0, status: InterfaceStatus::Normal },
                    InterfaceHealth { iface: 3, status: InterfaceStatus::Failed },
                ],
            }),
        }
    }

    #[test]
    fn hello_roundtrips_and_is_canonical() {
        let frame = hello();
        let bytes = encode(&frame);
        assert_eq!(bytes.len(), HEADER_LEN + 1 + 4 + 2 * 5 + 2 + 2 * 3);
        assert_eq!(decode(&bytes), Ok(frame));
    }

    #[test]
    fn hello_interface_list_roundtrips_at_its_bound_and_is_refused_beyond() {
        let mut frame = hello();
        let Message::UnitHello(h) = &mut frame.message else { unreachable!() };
        h.interfaces = (0..HELLO_INTERFACES_MAX as u16)
            .map(|i| InterfaceHealth {
                iface: i,
                status: InterfaceStatus::ALL[i as usize % InterfaceStatus::ALL.len()],
            })
            .collect();
        let bytes = encode(&frame);
        assert_eq!(decode(&bytes), Ok(frame.clone()));

        let Message::UnitHello(h) = &mut frame.message else { unreachable!() };
        h.interfaces.push(InterfaceHealth { iface: 0, status: InterfaceStatus::Normal });
        let count_at = HEADER_LEN + 1 + 4 + 2 * 5;
        assert_eq!(
            decode(&encode(&frame)),
            Err(DecodeError::TooMany {
                offset: count_at,
                field: "hello interfaces",
                count: HELLO_INTERFACES_MAX + 1,
                max: HELLO_INTERFACES_MAX
            })
        );
    }

    #[test]
    fn hello_interface_status_code_is_checked_with_its_offset() {
        let mut bytes = encode(&hello());
        let status_at = HEADER_LEN + 1 + 4 + 2 * 5 + 2 + 2;
        bytes[status_at] = 0;
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::InvalidValue { offset: status_at, field: "interface status", value: 0 })
        );
    }

    #[test]
    fn role_request_want_you_active_roundtrips() {
        let frame = Frame {
            sender: Role::Secondary,
            flags: 0,
            seq: 3,
            boot_nonce: 9,
            message: Message::Control {
                channel_seq: 4,
                body: Control::RoleRequest { group: Group::Two, request: RoleRequestKind::WantYouActive },
            },
        };
        assert_eq!(decode(&encode(&frame)), Ok(frame));
    }

    #[test]
    fn trailing_byte_is_rejected_with_its_offset() {
        let mut bytes = encode(&hello());
        let len = bytes.len();
        bytes.push(0);
        bytes[22..26].copy_from_slice(&((len + 1 - HEADER_LEN) as u32).to_be_bytes());
        assert_eq!(decode(&bytes), Err(DecodeError::TrailingBytes { offset: len, count: 1 }));
    }

    #[test]
    fn bad_bool_names_field_and_offset() {
        let mut bytes = encode(&hello());
        bytes[HEADER_LEN] = 2;
        assert_eq!(
            decode(&bytes),
            Err(DecodeError::InvalidValue { offset: HEADER_LEN, field: "failover-on flag", value: 2 })
        );
    }
}
