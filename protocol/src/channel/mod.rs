//! The reliable control channel: exactly-once, in-order delivery of
//! [`Control`] bodies over frames that the link may drop, duplicate, reorder
//! or delay (PROTOCOL.md section 6). Hellos and LAN tests do not use it.
//!
//! # Streams
//!
//! Each direction is a *stream* numbered 1, 2, 3, ... that belongs to one pair
//! of incarnations: the sender's boot and the receiver's boot. The receiver
//! acknowledges cumulatively with [`Ack`] `{ stream_boot, cumulative }`, where
//! `stream_boot` is the sender's boot, so a late ack meant for an earlier boot of
//! this unit is ignored.
//!
//! A control frame must likewise be meant for the receiver's *current* boot: a
//! retransmission queued for the peer's previous boot may reach the peer after
//! it restarted. The wire carries only the sender's boot in the header, so the
//! stream sequence number is sent XOR-ed with a 64-bit mask derived from the
//! receiver's boot ([`stream_mask`]). The receiver removes its own mask; a frame
//! addressed to an earlier incarnation decodes to a pseudo-random sequence number,
//! which falls inside the 64-wide receive window with probability about 2^-58,
//! and is discarded like any out-of-window frame.
//!
//! A sender does not transmit control frames before it knows the peer's boot.
//! It learns it from the header of any frame the peer sends (the caller passes
//! every authenticated frame from the peer, hellos included, to
//! [`Channel::handle_message`]). While it does not know it and has something
//! to send, it sends an *announcement*, `Ack { stream_boot: 0, cumulative: 0 }`,
//! which acknowledges nothing but shows the peer this unit's boot; a unit that
//! hears a new peer boot acknowledges at once, which shows its own.
//!
//! # Peer reboots
//!
//! When the peer's boot changes, both directions restart: the receive side
//! forgets what it buffered and expects sequence number 1 of the new stream,
//! and every message still queued for the old peer (in flight or not yet
//! sent) is moved to the abandoned list, in send order. The caller takes them
//! with [`Channel::take_abandoned`] and resynchronises (a rebooted peer gets a
//! full configuration sync anyway); [`Channel::send`] refuses new messages
//! until it has. Frames from the last [`CHANNEL_RETIRED_BOOTS_MAX`] peer boots
//! are ignored, so a late frame of the previous boot cannot pass for a new
//! reboot. The channel assumes that no frame outlives a whole peer reboot
//! *and* comes from a boot it never heard (a unit takes seconds to boot; the
//! link's delays are milliseconds).
//!
//! # Retransmission
//!
//! At most [`CHANNEL_SEND_WINDOW`] messages are in flight. A single
//! retransmission timer covers the oldest unacknowledged message; its timeout
//! follows RFC 6298 (smoothed round-trip time plus four deviations, samples
//! only from messages sent once, clamped to [`CHANNEL_RTO_MS_MIN`]..=
//! [`CHANNEL_RTO_MS_MAX`]) and doubles at each consecutive expiry, up to the
//! cap. Loss is detected sooner from repeated acks, as in RACK (RFC 8985): a
//! repeated ack means a later message arrived; once
//! [`CHANNEL_DUPACKS_FAST_RETRANSMIT`] have, the oldest message is resent as
//! soon as it has been out for 1.25 smoothed round trips (a timer waits for
//! the rest of that allowance, so a frame merely overtaken is not resent). The
//! same rule catches a lost retransmission. While recovering, each partial
//! ack resends the next hole at once (NewReno, RFC 6582).
//!
//! # Drain contract
//!
//! After every input (`send`, `handle_message`, `handle_timeout`) the caller
//! drains [`Channel::poll_transmit`], takes [`Channel::take_abandoned`], then
//! reads [`Channel::poll_timeout`]:
//!
//! ```
//! use fover_protocol::channel::Channel;
//! use fover_protocol::types::Group;
//! use fover_protocol::wire::{Control, RoleRequestKind};
//! use fover_protocol::Instant;
//!
//! let (mut a, mut b) = (Channel::new(0xA), Channel::new(0xB));
//! let now = Instant::from_ms(1);
//! a.send(Control::RoleRequest { group: Group::Two, request: RoleRequestKind::WantYouStandby }).unwrap();
//! // Until `a` knows `b`'s boot it only announces itself; frames are passed with their sender's boot.
//! let mut delivered = Vec::new();
//! for _ in 0..3 {
//!     while let Some(m) = a.poll_transmit(now) { delivered.extend(b.handle_message(now, 0xA, &m)); }
//!     while let Some(m) = b.poll_transmit(now) { delivered.extend(a.handle_message(now, 0xB, &m)); }
//! }
//! assert_eq!(delivered.len(), 1);
//! assert!(a.take_abandoned().is_empty());
//! assert_eq!(a.poll_timeout(), None); // everything acknowledged
//! ```

use crate::constants::{
    CHANNEL_BACKLOG_MAX, CHANNEL_DUPACKS_FAST_RETRANSMIT, CHANNEL_RECV_WINDOW, CHANNEL_RETIRED_BOOTS_MAX,
    CHANNEL_RTO_MS_INITIAL, CHANNEL_RTO_MS_MAX, CHANNEL_RTO_MS_MIN, CHANNEL_SEND_WINDOW,
};
use crate::time::Instant;
use crate::types::Role;
use crate::wire::{self, Ack, Control, Frame, Message};
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

const MS: u64 = 1_000_000;

/// Most messages queued at once (in flight plus backlog); also the most a peer reboot abandons.
pub const CHANNEL_QUEUED_MAX: usize = CHANNEL_SEND_WINDOW + CHANNEL_BACKLOG_MAX;
/// Consecutive timeouts that still double the retransmission timeout: enough to go from the floor to the cap.
const BACKOFF_STEPS_MAX: u32 = 16;
const _: () = assert!(CHANNEL_RTO_MS_MIN << BACKOFF_STEPS_MAX >= CHANNEL_RTO_MS_MAX);

/// Why [`Channel::send`] refused a message. Each variant hands the message back.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The backlog is full: retry once the peer has acknowledged some messages.
    #[error(
        "control channel full: {CHANNEL_SEND_WINDOW} messages in flight and {CHANNEL_BACKLOG_MAX} queued; \
         retry after the peer acknowledges"
    )]
    Full { body: Box<Control> },
    /// The peer rebooted: take the abandoned messages and resynchronise first.
    #[error(
        "the peer rebooted and {abandoned} abandoned control messages have not been taken; \
         call take_abandoned and resynchronise before sending"
    )]
    AbandonedPending { abandoned: usize, body: Box<Control> },
    /// The message cannot be encoded within the wire limits: it would never arrive.
    #[error("control message cannot be sent: {reason}")]
    Unencodable { reason: String, body: Box<Control> },
}

impl SendError {
    /// The refused message, for a retry.
    pub fn into_body(self) -> Control {
        match self {
            SendError::Full { body }
            | SendError::AbandonedPending { body, .. }
            | SendError::Unencodable { body, .. } => *body,
        }
    }
}

/// Counters for tests, benchmarks and `show failover` statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChannelStats {
    /// Control frames sent for the first time.
    pub data_frames: u64,
    /// Control frames sent again (timeout, fast retransmission or partial ack).
    pub retransmissions: u64,
    /// Retransmission timer expiries with something in flight.
    pub timeouts: u64,
    /// Oldest message resent on repeated acks (or when its reordering allowance ran out).
    pub fast_retransmits: u64,
    /// Ack frames sent (announcements included).
    pub acks_sent: u64,
    /// Control bodies delivered to the caller.
    pub delivered: u64,
    /// Control frames already delivered or already buffered.
    pub duplicates: u64,
    /// Control frames beyond the receive window (or addressed to an earlier boot of this unit).
    pub out_of_window: u64,
    /// Acks ignored: for another boot's stream, older than the window, or acknowledging unsent messages.
    pub acks_ignored: u64,
    /// Frames from a retired peer boot, or claiming this unit's own boot.
    pub stale_frames: u64,
    /// Peer reboots seen (changes of a known peer boot).
    pub peer_reboots: u64,
    /// Messages abandoned because the peer rebooted.
    pub abandoned: u64,
}

impl ChannelStats {
    /// Every frame sent: first transmissions, retransmissions and acks.
    pub fn frames_sent(&self) -> u64 {
        self.data_frames + self.retransmissions + self.acks_sent
    }
}

/// A message in flight.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct InFlight {
    body: Control,
    /// When it was last sent.
    sent_at: Instant,
    /// How many times it was sent (Karn: round-trip samples only from messages sent once).
    transmissions: u32,
}

/// One unit's end of the reliable control channel. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Channel {
    local_boot: u64,
    /// The peer's current boot, once heard.
    peer_boot: Option<u64>,
    /// Previous peer boots, oldest first; frames from them are ignored.
    retired: VecDeque<u64>,

    // ---- send side ----
    /// Stream sequence number of `in_flight[0]` (or of the next message when none is in flight).
    send_base: u64,
    in_flight: VecDeque<InFlight>,
    /// Accepted by `send`, not yet in flight.
    backlog: VecDeque<Control>,
    /// Resend `in_flight[0]` at the next `poll_transmit`.
    retransmit_head: bool,
    /// Armed exactly when something is in flight.
    rto_deadline: Option<Instant>,
    /// Consecutive retransmission timeouts.
    backoff: u32,
    srtt_ns: Option<u64>,
    rttvar_ns: u64,
    /// Acks repeating `send_base - 1` while something is in flight.
    dupacks: u32,
    /// In loss recovery until the cumulative ack reaches this sequence number.
    recover: Option<u64>,
    /// Armed when enough repeated acks arrived before the oldest message was overdue:
    /// at this instant it is, and it is resent.
    reorder_deadline: Option<Instant>,
    /// Next announcement while the peer's boot is unknown.
    announce_deadline: Option<Instant>,
    announce_due: bool,
    announcements: u32,
    abandoned: Vec<Control>,

    // ---- receive side ----
    /// Next stream sequence number to deliver.
    recv_next: u64,
    /// Out-of-order bodies, keyed by stream sequence number, all in `recv_next + 1 .. recv_next + window`.
    recv_buffer: BTreeMap<u64, Control>,
    ack_due: bool,

    stats: ChannelStats,
}

/// The mask XOR-ed into the sequence numbers of frames addressed to a unit of
/// boot `receiver_boot` (the splitmix64 finaliser of the boot and a domain
/// constant: a bijection that spreads boots differing in a few bits).
pub const fn stream_mask(receiver_boot: u64) -> u64 {
    let mut z = receiver_boot ^ 0x666f_7665_7263_6831; // "foverch1"
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The stream boot of an announcement: acknowledges nothing, shows the sender's boot.
pub const ANNOUNCE_STREAM_BOOT: u64 = 0;

impl Channel {
    /// A channel for a unit that booted with `local_boot` (fresh at every power-on).
    pub fn new(local_boot: u64) -> Channel {
        Channel {
            local_boot,
            peer_boot: None,
            retired: VecDeque::new(),
            send_base: 1,
            in_flight: VecDeque::new(),
            backlog: VecDeque::new(),
            retransmit_head: false,
            rto_deadline: None,
            backoff: 0,
            srtt_ns: None,
            rttvar_ns: 0,
            dupacks: 0,
            recover: None,
            reorder_deadline: None,
            announce_deadline: None,
            announce_due: false,
            announcements: 0,
            abandoned: Vec::new(),
            recv_next: 1,
            recv_buffer: BTreeMap::new(),
            ack_due: false,
            stats: ChannelStats::default(),
        }
    }

    /// This unit's boot.
    pub fn local_boot(&self) -> u64 {
        self.local_boot
    }

    /// The peer's current boot, once heard.
    pub fn peer_boot(&self) -> Option<u64> {
        self.peer_boot
    }

    /// Messages accepted and not yet acknowledged (in flight plus backlog).
    pub fn queued(&self) -> usize {
        self.in_flight.len() + self.backlog.len()
    }

    /// Messages sent and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Nothing queued, nothing to acknowledge, nothing abandoned to take.
    pub fn is_idle(&self) -> bool {
        self.queued() == 0 && !self.ack_due && self.abandoned.is_empty()
    }

    /// The counters.
    pub fn stats(&self) -> ChannelStats {
        self.stats
    }

    /// Queues a control message. Refuses (handing the message back) when the
    /// backlog is full, when abandoned messages have not been taken, or when the
    /// message cannot be encoded; never drops a message silently.
    pub fn send(&mut self, body: Control) -> Result<(), SendError> {
        if !self.abandoned.is_empty() {
            return Err(SendError::AbandonedPending { abandoned: self.abandoned.len(), body: Box::new(body) });
        }
        let (body, encodable) = check_encodable(body);
        if let Err(reason) = encodable {
            return Err(SendError::Unencodable { reason, body: Box::new(body) });
        }
        if self.backlog.len() >= CHANNEL_BACKLOG_MAX {
            return Err(SendError::Full { body: Box::new(body) });
        }
        self.backlog.push_back(body);
        Ok(())
    }

    /// Whether [`Channel::poll_transmit`] may give a frame or change
    /// anything now; `false` means it would return `None` and change nothing.
    pub fn may_transmit(&self) -> bool {
        self.peer_boot.is_none()
            || self.ack_due
            || self.retransmit_head
            || (self.in_flight.len() < CHANNEL_SEND_WINDOW && !self.backlog.is_empty())
    }

    /// The next frame to send, if any: an ack, an announcement, a retransmission
    /// or a first transmission, in that order of priority.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Message> {
        let Some(peer) = self.peer_boot else {
            self.ack_due = false;
            if !self.backlog.is_empty() && (self.announce_deadline.is_none() || self.announce_due) {
                self.announce_due = false;
                self.announce_deadline = Some(now + backed_off(CHANNEL_RTO_MS_INITIAL * MS, self.announcements));
                self.announcements = self.announcements.saturating_add(1).min(BACKOFF_STEPS_MAX);
                self.stats.acks_sent += 1;
                return Some(Message::Ack(Ack { stream_boot: ANNOUNCE_STREAM_BOOT, cumulative: 0 }));
            }
            return None;
        };
        if self.ack_due {
            self.ack_due = false;
            self.stats.acks_sent += 1;
            return Some(Message::Ack(Ack { stream_boot: peer, cumulative: self.recv_next - 1 }));
        }
        if self.retransmit_head {
            self.retransmit_head = false;
            if let Some(head) = self.in_flight.front_mut() {
                head.sent_at = now;
                head.transmissions = head.transmissions.saturating_add(1);
                self.stats.retransmissions += 1;
                let channel_seq = self.send_base ^ stream_mask(peer);
                return Some(Message::Control { channel_seq, body: head.body.clone() });
            }
        }
        if self.in_flight.len() < CHANNEL_SEND_WINDOW {
            if let Some(body) = self.backlog.pop_front() {
                let seq = self.send_base + self.in_flight.len() as u64;
                self.in_flight.push_back(InFlight { body: body.clone(), sent_at: now, transmissions: 1 });
                if self.rto_deadline.is_none() {
                    self.rto_deadline = Some(now + self.rto());
                }
                self.stats.data_frames += 1;
                return Some(Message::Control { channel_seq: seq ^ stream_mask(peer), body });
            }
        }
        None
    }

    /// A frame from the peer, whose header carried `peer_boot`. Returns the
    /// control bodies now deliverable, in order. Non-channel messages (hellos,
    /// LAN tests) only teach the channel the peer's boot.
    #[must_use]
    pub fn handle_message(&mut self, now: Instant, peer_boot: u64, message: &Message) -> Vec<Control> {
        if peer_boot == self.local_boot || self.retired.contains(&peer_boot) {
            self.stats.stale_frames += 1;
            return Vec::new();
        }
        match self.peer_boot {
            Some(current) if current == peer_boot => {}
            Some(current) => self.peer_rebooted(current, peer_boot),
            None => self.peer_learned(peer_boot),
        }
        match message {
            Message::Ack(ack) => {
                self.on_ack(now, *ack);
                Vec::new()
            }
            Message::Control { channel_seq, body } => self.on_control(*channel_seq, body),
            Message::UnitHello(_) | Message::LanTest(_) | Message::LanTestReply(_) | Message::InterfaceHello(_) => {
                Vec::new()
            }
        }
    }

    /// A deadline returned by [`Channel::poll_timeout`] has been reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.reorder_deadline.is_some_and(|d| now >= d) {
            self.reorder_deadline = None;
            if !self.in_flight.is_empty() {
                self.fast_retransmit();
            }
        }
        if self.rto_deadline.is_some_and(|d| now >= d) {
            if self.in_flight.is_empty() {
                self.rto_deadline = None;
            } else {
                self.stats.timeouts += 1;
                self.retransmit_head = true;
                self.backoff = (self.backoff + 1).min(BACKOFF_STEPS_MAX);
                self.recover = Some(self.last_sent());
                self.reorder_deadline = None;
                self.dupacks = 0;
                self.rto_deadline = Some(now + self.rto());
            }
        }
        if self.announce_deadline.is_some_and(|d| now >= d) {
            if self.peer_boot.is_none() && !self.backlog.is_empty() {
                self.announce_due = true;
            } else {
                self.announce_deadline = None;
            }
        }
    }

    /// Messages accepted but not yet acknowledged (in flight, then the backlog), in send order.
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Control> {
        self.in_flight.iter().map(|m| &m.body).chain(self.backlog.iter())
    }

    /// The clock stepped back by `back`: every stored instant moves with it,
    /// so the time left on each timer is unchanged (as the unit does for its own).
    pub fn rebase_back(&mut self, back: Duration) {
        let shift = |at: &mut Option<Instant>| {
            if let Some(at) = at {
                *at = *at - back;
            }
        };
        shift(&mut self.rto_deadline);
        shift(&mut self.reorder_deadline);
        shift(&mut self.announce_deadline);
        for m in &mut self.in_flight {
            m.sent_at = m.sent_at - back;
        }
    }

    /// Whether [`Channel::handle_timeout`] at `now` would act on a deadline;
    /// `false` means it would change nothing.
    pub fn timeout_due(&self, now: Instant) -> bool {
        [self.reorder_deadline, self.rto_deadline, self.announce_deadline].iter().any(|d| d.is_some_and(|d| now >= d))
    }

    /// When to call [`Channel::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let announce = if self.peer_boot.is_none() { self.announce_deadline } else { None };
        [self.rto_deadline, self.reorder_deadline, announce].into_iter().flatten().min()
    }

    /// Messages dropped because the peer rebooted before acknowledging them, in
    /// send order. Some may have reached the peer's previous boot; none will reach
    /// its new one. The caller resynchronises.
    #[must_use]
    pub fn take_abandoned(&mut self) -> Vec<Control> {
        core::mem::take(&mut self.abandoned)
    }

    /// Checks the internal invariants; panics on a bug (never on input).
    pub fn invariants(&self) {
        assert!(self.in_flight.len() <= CHANNEL_SEND_WINDOW, "in flight beyond the window");
        assert!(self.backlog.len() <= CHANNEL_BACKLOG_MAX, "backlog beyond its bound");
        assert!(self.abandoned.len() <= CHANNEL_QUEUED_MAX, "abandoned beyond the queue bound");
        assert!(self.retired.len() <= CHANNEL_RETIRED_BOOTS_MAX, "retired boots beyond their bound");
        assert!(self.send_base >= 1 && self.recv_next >= 1, "sequence numbers start at 1");
        assert_eq!(self.rto_deadline.is_some(), !self.in_flight.is_empty(), "timer armed iff in flight");
        assert!(self.peer_boot.is_some() || self.in_flight.is_empty(), "in flight to an unknown peer");
        assert!(self.reorder_deadline.is_none() || !self.in_flight.is_empty(), "reorder timer with nothing in flight");
        if let Some(peer) = self.peer_boot {
            assert!(!self.retired.contains(&peer), "current peer boot is retired");
        }
        if let Some(r) = self.recover {
            assert!(r < self.send_base + self.in_flight.len() as u64, "recovery point beyond what was sent");
        }
        for &seq in self.recv_buffer.keys() {
            assert!(
                seq > self.recv_next && seq - self.recv_next < CHANNEL_RECV_WINDOW as u64,
                "buffered outside window"
            );
        }
    }

    /// Resends the oldest message now; enters recovery (until everything sent so far is
    /// acknowledged) unless already recovering.
    fn fast_retransmit(&mut self) {
        self.stats.fast_retransmits += 1;
        self.retransmit_head = true;
        if self.recover.is_none() {
            self.recover = Some(self.last_sent());
        }
        self.reorder_deadline = None;
    }

    fn last_sent(&self) -> u64 {
        self.send_base - 1 + self.in_flight.len() as u64
    }

    /// The retransmission timeout, backed off.
    fn rto(&self) -> Duration {
        let base_ns = match self.srtt_ns {
            None => CHANNEL_RTO_MS_INITIAL * MS,
            Some(srtt) => srtt.saturating_add((4 * self.rttvar_ns).max(MS)),
        };
        backed_off(base_ns.clamp(CHANNEL_RTO_MS_MIN * MS, CHANNEL_RTO_MS_MAX * MS), self.backoff)
    }

    fn on_rtt_sample(&mut self, sample: Duration) {
        let r = u64::try_from(sample.as_nanos()).unwrap_or(u64::MAX);
        match self.srtt_ns {
            None => {
                self.srtt_ns = Some(r);
                self.rttvar_ns = r / 2;
            }
            Some(srtt) => {
                self.rttvar_ns = (3 * (self.rttvar_ns / 4)).saturating_add(srtt.abs_diff(r) / 4);
                self.srtt_ns = Some((7 * (srtt / 8)).saturating_add(r / 8));
            }
        }
    }

    fn peer_learned(&mut self, peer_boot: u64) {
        self.peer_boot = Some(peer_boot);
        self.announce_deadline = None;
        self.announce_due = false;
        self.announcements = 0;
        // Answer at once: the peer may be announcing itself and waiting for our boot.
        self.ack_due = true;
    }

    fn peer_rebooted(&mut self, old: u64, new: u64) {
        if self.retired.len() == CHANNEL_RETIRED_BOOTS_MAX {
            self.retired.pop_front();
        }
        self.retired.push_back(old);
        self.stats.peer_reboots += 1;
        // Send side: everything queued was meant for the old boot.
        let before = self.abandoned.len();
        self.abandoned.extend(self.in_flight.drain(..).map(|m| m.body));
        self.abandoned.extend(self.backlog.drain(..));
        self.stats.abandoned += (self.abandoned.len() - before) as u64;
        self.send_base = 1;
        self.retransmit_head = false;
        self.rto_deadline = None;
        self.backoff = 0;
        self.dupacks = 0;
        self.recover = None;
        self.reorder_deadline = None;
        // Receive side: the new boot's stream starts at 1.
        self.recv_next = 1;
        self.recv_buffer.clear();
        self.peer_learned(new);
    }

    fn on_ack(&mut self, now: Instant, ack: Ack) {
        if ack.stream_boot == ANNOUNCE_STREAM_BOOT && ack.cumulative == 0 {
            // The peer does not know our boot yet (our first answer may be lost): answer again.
            self.ack_due = true;
            return;
        }
        if ack.stream_boot != self.local_boot {
            // An ack for an earlier boot of this unit.
            self.stats.acks_ignored += 1;
            return;
        }
        let acked_before = self.send_base - 1;
        if ack.cumulative > self.last_sent() || ack.cumulative < acked_before {
            self.stats.acks_ignored += 1;
            return;
        }
        if ack.cumulative == acked_before {
            if let Some(head) = self.in_flight.front() {
                self.dupacks = self.dupacks.saturating_add(1);
                // Later messages arrive but the oldest does not. It is lost rather than
                // merely overtaken only if it has been out for longer than a round trip
                // and a quarter (a reordering allowance, as in RACK, RFC 8985).
                // If it is not overdue yet, a timer resends it when it becomes so. The
                // same holds in recovery for a lost retransmission (its send time is the
                // last transmission's), so that it need not wait for the timeout.
                if self.dupacks >= CHANNEL_DUPACKS_FAST_RETRANSMIT {
                    if let Some(srtt) = self.srtt_ns {
                        let overdue_at = head.sent_at + Duration::from_nanos(srtt.saturating_add(srtt / 4));
                        if now >= overdue_at {
                            self.fast_retransmit();
                        } else {
                            self.reorder_deadline = Some(overdue_at);
                        }
                    }
                }
            }
            return;
        }
        let mut sample = None;
        for _ in acked_before..ack.cumulative {
            if let Some(m) = self.in_flight.pop_front() {
                sample = (m.transmissions == 1).then(|| now.saturating_since(m.sent_at));
            }
        }
        self.send_base = ack.cumulative + 1;
        self.dupacks = 0;
        self.backoff = 0;
        self.reorder_deadline = None;
        match self.recover {
            // A sample taken across a hole measures the hole, not the link.
            None => {
                if let Some(s) = sample {
                    self.on_rtt_sample(s);
                }
            }
            Some(r) if ack.cumulative >= r => self.recover = None,
            // Partial ack while recovering: the new oldest message is the next hole.
            Some(_) => self.retransmit_head = !self.in_flight.is_empty(),
        }
        if self.in_flight.is_empty() {
            self.retransmit_head = false;
            self.recover = None;
            self.rto_deadline = None;
        } else {
            self.rto_deadline = Some(now + self.rto());
        }
    }

    fn on_control(&mut self, channel_seq: u64, body: &Control) -> Vec<Control> {
        // Every control frame is acknowledged, duplicates included: the previous ack may be lost.
        self.ack_due = true;
        let seq = channel_seq ^ stream_mask(self.local_boot);
        if seq < self.recv_next {
            self.stats.duplicates += 1;
            return Vec::new();
        }
        if seq - self.recv_next >= CHANNEL_RECV_WINDOW as u64 {
            self.stats.out_of_window += 1;
            return Vec::new();
        }
        if seq > self.recv_next {
            if self.recv_buffer.insert(seq, body.clone()).is_some() {
                self.stats.duplicates += 1;
            }
            return Vec::new();
        }
        let mut out = vec![body.clone()];
        self.recv_next += 1;
        while let Some(next) = self.recv_buffer.remove(&self.recv_next) {
            out.push(next);
            self.recv_next += 1;
        }
        self.stats.delivered += out.len() as u64;
        out
    }
}

/// `base_ns` doubled `steps` times, capped at [`CHANNEL_RTO_MS_MAX`].
fn backed_off(base_ns: u64, steps: u32) -> Duration {
    let cap = CHANNEL_RTO_MS_MAX * MS;
    let ns = base_ns.checked_shl(steps).filter(|v| v >> steps == base_ns).unwrap_or(cap);
    Duration::from_nanos(ns.min(cap))
}

/// Checks that a control body survives the wire codec (text and list limits, frame size).
/// Whether `body` can travel (it is handed back either way, not copied).
fn check_encodable(body: Control) -> (Control, Result<(), String>) {
    let message = Message::Control { channel_seq: 0, body };
    let frame = Frame { sender: Role::Primary, flags: 0, seq: 0, boot_nonce: 0, message };
    // A frame within the wire limits round-trips (a property the codec's
    // tests and fuzzers check): only one beyond them is decoded to say why.
    let verdict = if frame.fits() {
        Ok(())
    } else {
        match wire::decode(&wire::encode(&frame)) {
            Ok(decoded) if decoded == frame => Ok(()),
            Ok(_) => Err("the encoding does not round-trip".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    };
    match frame.message {
        Message::Control { body, .. } => (body, verdict),
        // Built as a control message just above.
        _ => unreachable!("a control message"),
    }
}

#[cfg(test)]
mod tests;
