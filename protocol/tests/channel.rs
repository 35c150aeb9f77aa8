//! The reliable control channel over a simulated lossy link.
//!
//! * `channel_property_*`: seeded schedules (drop, duplicate, reorder, delay,
//!   sometimes a reboot of either end), a safety phase then a liveness phase on
//!   a clean link. Properties, by kind:
//!   - always `delivered-at-most-once`: no message is delivered twice, across
//!     every incarnation of the receiver;
//!   - always `delivered-in-order`: per (sender boot, receiver boot), messages
//!     arrive in the order they were sent;
//!   - always `no-phantom`: a delivered message was sent by the boot it came from;
//!   - always `abandoned-stays-abandoned`: a message abandoned on a peer reboot
//!     never reaches the peer's new boot;
//!   - eventually `all-delivered`: once the link is clean, every message that a
//!     live sender accepted and did not report abandoned is delivered, and both
//!     ends go idle;
//!   - sometimes: drops, duplicates, retransmissions, reboots with abandoned
//!     messages, and stale frames refused by a new boot all happen in the sweep.
//!
//!   Reproduce one schedule with `FOVER_CHANNEL_SEED=<seed> cargo test -p fover-protocol --test channel`.
//! * `channel_benchmark_*`: a 10,000-message stream over 10% loss, frames
//!   through the real wire codec; prints frames sent and simulated time.

use fover_protocol::Instant;
use fover_protocol::channel::{Channel, ChannelStats, SendError};
use fover_protocol::types::{Role, Space};
use fover_protocol::wire::{self, Control, Frame, Message};
use std::collections::{BTreeMap, BTreeSet};

#[path = "support/rng.rs"]
mod common;
use common::Rng;

const MS: u64 = 1_000_000;
const US: u64 = 1_000;

/// The link's behaviour in one direction-independent phase.
#[derive(Clone, Copy, Debug)]
struct LinkParams {
    drop_pm: u64,
    dup_pm: u64,
    reorder_pm: u64,
    delay_min_ns: u64,
    delay_max_ns: u64,
    /// Extra hold-back of a reordered frame.
    reorder_extra_max_ns: u64,
}

impl LinkParams {
    fn clean(delay_ns: u64) -> LinkParams {
        LinkParams {
            drop_pm: 0,
            dup_pm: 0,
            reorder_pm: 0,
            delay_min_ns: delay_ns,
            delay_max_ns: delay_ns,
            reorder_extra_max_ns: 0,
        }
    }
    /// The longest a frame can be in flight (a duplicate adds at most 5 ms).
    fn max_delay_ns(&self) -> u64 {
        self.delay_max_ns + self.reorder_extra_max_ns + 5 * MS
    }
}

#[derive(Clone, Debug)]
enum Event {
    /// A frame reaches `to`, sent by boot `from_boot`.
    Deliver {
        to: usize,
        from_boot: u64,
        message: Message,
    },
    /// `node`'s channel asked to be woken (ignored if stale).
    Timer {
        node: usize,
        boot: u64,
    },
    /// `node` tries to send its next message.
    Workload {
        node: usize,
    },
    PowerOff {
        node: usize,
    },
    PowerOn {
        node: usize,
    },
}

struct Node {
    channel: Option<Channel>,
    boot: u64,
    /// The deadline a `Timer` event is queued for.
    timer_at: Option<Instant>,
    /// A message refused with `Full`, to retry.
    pending: Option<Control>,
    /// Messages the workload still has to send.
    to_send: u64,
    /// Stats of earlier incarnations, summed.
    past_stats: Vec<ChannelStats>,
}

/// What the checker has seen.
#[derive(Default)]
struct Oracle {
    /// Accepted message ids per sender boot, in send order.
    accepted: BTreeMap<u64, Vec<u64>>,
    origin: BTreeMap<u64, u64>,
    delivered: BTreeMap<u64, u64>,
    /// (receiver boot, sender boot) -> last id delivered.
    last: BTreeMap<(u64, u64), u64>,
    /// id -> the receiver boot that must never see it (abandoned because that boot appeared).
    abandoned_for: BTreeMap<u64, u64>,
    abandoned: BTreeSet<u64>,
}

#[derive(Default, Debug, Clone, Copy)]
struct Summary {
    sent: u64,
    delivered: u64,
    reboots: u64,
    abandoned: u64,
    stats: ChannelStats,
    end_ns: u64,
}

struct Sim {
    rng: Rng,
    now_ns: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: [Node; 2],
    link: LinkParams,
    oracle: Oracle,
    next_id: u64,
    reboots: u64,
}

fn body(id: u64) -> Control {
    Control::CommandReplication { space: Space::System, line: String::new(), command_seq: id }
}

fn id_of(c: &Control) -> Option<u64> {
    match c {
        Control::CommandReplication { command_seq, .. } => Some(*command_seq),
        _ => None,
    }
}

impl Sim {
    fn at(&self) -> Instant {
        Instant(self.now_ns)
    }

    fn push(&mut self, at_ns: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at_ns, self.seq), event);
    }

    fn fresh_boot(&mut self) -> u64 {
        loop {
            let b = self.rng.next();
            if b != 0 && self.nodes.iter().all(|n| n.boot != b) {
                return b;
            }
        }
    }

    /// The drain contract: transmit everything, take abandoned, re-arm the timer.
    fn drain(&mut self, node: usize) -> Result<(), String> {
        let now = self.at();
        let Some(ch) = self.nodes[node].channel.as_mut() else { return Ok(()) };
        let boot = ch.local_boot();
        let mut out = Vec::new();
        while let Some(m) = ch.poll_transmit(now) {
            out.push(m);
        }
        let abandoned = ch.take_abandoned();
        let peer = ch.peer_boot();
        let wake = ch.poll_timeout();
        ch.invariants();
        for m in out {
            self.transmit(1 - node, boot, m);
        }
        for c in abandoned {
            let id = id_of(&c).ok_or("abandoned a body the workload never sent")?;
            if let Some(p) = peer {
                self.oracle.abandoned_for.insert(id, p);
            }
            self.oracle.abandoned.insert(id);
        }
        if let Some(w) = wake {
            if self.nodes[node].timer_at != Some(w) {
                self.nodes[node].timer_at = Some(w);
                let at_ns = w.as_nanos().max(self.now_ns);
                self.push(at_ns, Event::Timer { node, boot });
            }
        } else {
            self.nodes[node].timer_at = None;
        }
        Ok(())
    }

    fn transmit(&mut self, to: usize, from_boot: u64, message: Message) {
        let l = self.link;
        if self.rng.chance(l.drop_pm) {
            return;
        }
        let mut delay = self.rng.range(l.delay_min_ns, l.delay_max_ns);
        if self.rng.chance(l.reorder_pm) {
            delay += self.rng.range(0, l.reorder_extra_max_ns);
        }
        if self.rng.chance(l.dup_pm) {
            let extra = self.rng.range(0, 5 * MS);
            self.push(self.now_ns + delay + extra, Event::Deliver { to, from_boot, message: message.clone() });
        }
        self.push(self.now_ns + delay, Event::Deliver { to, from_boot, message });
    }

    /// One workload step: `node` sends its next message (or retries a refused one).
    fn try_send(&mut self, node: usize) -> Result<(), String> {
        let n = &mut self.nodes[node];
        let Some(ch) = n.channel.as_mut() else { return Ok(()) };
        let boot = ch.local_boot();
        let msg = match n.pending.take() {
            Some(m) => m,
            None if n.to_send > 0 => {
                n.to_send -= 1;
                self.next_id += 1;
                body(self.next_id)
            }
            None => return Ok(()),
        };
        let id = id_of(&msg).unwrap_or(0);
        match ch.send(msg) {
            Ok(()) => {
                self.oracle.accepted.entry(boot).or_default().push(id);
                self.oracle.origin.insert(id, boot);
            }
            Err(SendError::Full { body }) => n.pending = Some(*body),
            Err(e) => return Err(format!("send refused unexpectedly: {e}")),
        }
        self.drain(node)
    }

    fn on_delivered(&mut self, receiver_boot: u64, sender_boot: u64, bodies: Vec<Control>) -> Result<(), String> {
        for c in bodies {
            let id = id_of(&c).ok_or("delivered a body nobody sent")?;
            let count = self.oracle.delivered.entry(id).or_insert(0);
            *count += 1;
            if *count > 1 {
                return Err(format!("delivered-at-most-once: message {id} delivered {count} times"));
            }
            if self.oracle.origin.get(&id) != Some(&sender_boot) {
                return Err(format!("no-phantom: message {id} delivered as coming from boot {sender_boot:#x}"));
            }
            if self.oracle.abandoned_for.get(&id) == Some(&receiver_boot) {
                return Err(format!("abandoned-stays-abandoned: message {id} reached boot {receiver_boot:#x}"));
            }
            if let Some(prev) = self.oracle.last.insert((receiver_boot, sender_boot), id) {
                if prev >= id {
                    return Err(format!("delivered-in-order: message {id} delivered after {prev}"));
                }
            }
        }
        Ok(())
    }

    fn step(&mut self, event: Event) -> Result<(), String> {
        match event {
            Event::Deliver { to, from_boot, message } => {
                let now = self.at();
                let Some(ch) = self.nodes[to].channel.as_mut() else { return Ok(()) };
                let receiver = ch.local_boot();
                let bodies = ch.handle_message(now, from_boot, &message);
                self.on_delivered(receiver, from_boot, bodies)?;
                self.drain(to)
            }
            Event::Timer { node, boot } => {
                let now = self.at();
                let n = &mut self.nodes[node];
                let Some(ch) = n.channel.as_mut() else { return Ok(()) };
                if ch.local_boot() != boot || n.timer_at.is_none_or(|t| t > now) {
                    return Ok(());
                }
                n.timer_at = None;
                ch.handle_timeout(now);
                self.drain(node)
            }
            Event::Workload { node } => self.try_send(node),
            Event::PowerOff { node } => {
                let n = &mut self.nodes[node];
                if let Some(ch) = n.channel.take() {
                    n.past_stats.push(ch.stats());
                }
                n.timer_at = None;
                n.pending = None;
                Ok(())
            }
            Event::PowerOn { node } => {
                let boot = self.fresh_boot();
                self.reboots += 1;
                let n = &mut self.nodes[node];
                n.boot = boot;
                n.channel = Some(Channel::new(boot));
                self.drain(node)
            }
        }
    }
}

/// Runs one schedule; `Err` names the property that failed.
fn run_schedule(seed: u64) -> Result<Summary, String> {
    let mut rng = Rng(seed);
    let delay_min_ns = rng.range(100 * US, 2 * MS);
    let faulty = LinkParams {
        drop_pm: rng.range(0, 400),
        dup_pm: rng.range(0, 200),
        reorder_pm: rng.range(0, 300),
        delay_min_ns,
        delay_max_ns: delay_min_ns + rng.range(0, 10 * MS),
        reorder_extra_max_ns: rng.range(1, 50) * MS,
    };
    let fault_ns = rng.range(200, 3_000) * MS;
    let boots = [rng.next() | 1, rng.next() | 2];
    let node = |boot: u64, to_send: u64| Node {
        channel: Some(Channel::new(boot)),
        boot,
        timer_at: None,
        pending: None,
        to_send,
        past_stats: Vec::new(),
    };
    let sends = [rng.range(0, 40), rng.range(0, 40)];
    let mut sim = Sim {
        rng: Rng(rng.next()),
        now_ns: 0,
        seq: 0,
        queue: BTreeMap::new(),
        nodes: [node(boots[0], sends[0]), node(boots[1], sends[1])],
        link: faulty,
        oracle: Oracle::default(),
        next_id: 0,
        reboots: 0,
    };
    for (n, &count) in sends.iter().enumerate() {
        for _ in 0..count {
            let at = rng.range(0, fault_ns);
            sim.push(at, Event::Workload { node: n });
        }
    }
    // A third of the schedules reboot an end once or twice, one reboot after the
    // other; the downtime outlasts any frame in flight (see the channel's module
    // documentation).
    let mut cursor = 0;
    if rng.chance(333) {
        for _ in 0..rng.range(1, 2) {
            let n = rng.below(2) as usize;
            let off = rng.range(cursor, fault_ns);
            let on = off + faulty.max_delay_ns() + rng.range(1, 500) * MS;
            sim.push(off, Event::PowerOff { node: n });
            sim.push(on, Event::PowerOn { node: n });
            cursor = on;
        }
    }
    let clean_at = fault_ns.max(cursor);
    let deadline_ns = clean_at + 60_000 * MS;
    let mut clean = false;
    while let Some((&(at, k), _)) = sim.queue.first_key_value() {
        if !clean && at >= clean_at {
            clean = true;
            sim.link = LinkParams::clean(delay_min_ns);
        }
        if at > deadline_ns {
            let state: Vec<String> = sim
                .nodes
                .iter()
                .map(|n| match &n.channel {
                    Some(c) => format!(
                        "boot {:#x} peer {:?} queued {} in flight {} wake {:?} {:?}",
                        c.local_boot(),
                        c.peer_boot().map(|b| format!("{b:#x}")),
                        c.queued(),
                        c.in_flight(),
                        c.poll_timeout(),
                        c.stats()
                    ),
                    None => "off".to_owned(),
                })
                .collect();
            return Err(format!("all-delivered: still busy 60 s after the link became clean: {state:?}"));
        }
        let event = sim.queue.remove(&(at, k)).ok_or("queue entry vanished")?;
        sim.now_ns = at;
        sim.step(event)?;
    }
    // Liveness: both ends idle, and every message a live boot accepted and did not abandon arrived.
    let mut summary = Summary { end_ns: sim.now_ns, reboots: sim.reboots, ..Summary::default() };
    for n in &sim.nodes {
        let ch = n.channel.as_ref().ok_or("a node ended powered off")?;
        if !ch.is_idle() {
            return Err(format!(
                "all-delivered: boot {:#x} still has {} messages queued",
                ch.local_boot(),
                ch.queued()
            ));
        }
        for id in sim.oracle.accepted.get(&ch.local_boot()).into_iter().flatten() {
            if !sim.oracle.abandoned.contains(id) && sim.oracle.delivered.get(id) != Some(&1) {
                return Err(format!("all-delivered: message {id} from live boot {:#x} never arrived", ch.local_boot()));
            }
        }
        for s in n.past_stats.iter().chain(std::iter::once(&ch.stats())) {
            add_stats(&mut summary.stats, s);
        }
    }
    summary.sent = sim.oracle.origin.len() as u64;
    summary.delivered = sim.oracle.delivered.len() as u64;
    summary.abandoned = sim.oracle.abandoned.len() as u64;
    Ok(summary)
}

fn add_stats(total: &mut ChannelStats, s: &ChannelStats) {
    total.data_frames += s.data_frames;
    total.retransmissions += s.retransmissions;
    total.timeouts += s.timeouts;
    total.fast_retransmits += s.fast_retransmits;
    total.acks_sent += s.acks_sent;
    total.delivered += s.delivered;
    total.duplicates += s.duplicates;
    total.out_of_window += s.out_of_window;
    total.acks_ignored += s.acks_ignored;
    total.stale_frames += s.stale_frames;
    total.peer_reboots += s.peer_reboots;
    total.abandoned += s.abandoned;
}

fn seed_of(index: u64) -> u64 {
    Rng(0xf0e4_c0de ^ index).next()
}

/// Schedules in the sweep. The sweep is split over a few test functions so the
/// test harness runs them in parallel.
const SCHEDULES: u64 = 10_000;
const SHARDS: u64 = 4;

fn sweep(shard: u64) -> Summary {
    if let Ok(text) = std::env::var("FOVER_CHANNEL_SEED") {
        if shard != 0 {
            return Summary::default();
        }
        let seed = u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("FOVER_CHANNEL_SEED is hex");
        let s = run_schedule(seed).unwrap_or_else(|e| panic!("seed {seed:#018x}: {e}"));
        println!("seed {seed:#018x}: {s:?}");
        return s;
    }
    let mut total = Summary::default();
    for i in (shard..SCHEDULES).step_by(SHARDS as usize) {
        let seed = seed_of(i);
        match run_schedule(seed) {
            Ok(s) => {
                total.sent += s.sent;
                total.delivered += s.delivered;
                total.reboots += s.reboots;
                total.abandoned += s.abandoned;
                total.end_ns += s.end_ns;
                add_stats(&mut total.stats, &s.stats);
            }
            Err(e) => panic!(
                "schedule {i}, seed {seed:#018x}: {e}\n  reproduce: FOVER_CHANNEL_SEED={seed:#018x} cargo test -p fover-protocol --test channel"
            ),
        }
    }
    println!(
        "shard {shard}/{SHARDS}: {} schedules, {} messages sent, {} delivered, {} reboots, {} abandoned, {} simulated s; {:?}",
        SCHEDULES / SHARDS,
        total.sent,
        total.delivered,
        total.reboots,
        total.abandoned,
        total.end_ns / 1_000_000_000,
        total.stats
    );
    // Sometimes-properties: the sweep exercised what it claims to.
    let s = total.stats;
    assert!(s.retransmissions > 0, "sometimes: no retransmission happened");
    assert!(s.duplicates > 0, "sometimes: no duplicate was discarded");
    assert!(s.peer_reboots > 0, "sometimes: no peer reboot was seen");
    assert!(total.abandoned > 0, "sometimes: no message was abandoned on a reboot");
    assert!(s.out_of_window > 0, "sometimes: no stale frame reached a new boot");
    total
}

#[test]
fn channel_property_lossy_link_with_reboots_shard_0() {
    sweep(0);
}

#[test]
fn channel_property_lossy_link_with_reboots_shard_1() {
    sweep(1);
}

#[test]
fn channel_property_lossy_link_with_reboots_shard_2() {
    sweep(2);
}

#[test]
fn channel_property_lossy_link_with_reboots_shard_3() {
    sweep(3);
}

#[test]
fn channel_property_schedules_are_deterministic() {
    for i in 0..50 {
        let a = run_schedule(seed_of(i)).map(|s| (s.end_ns, s.stats));
        let b = run_schedule(seed_of(i)).map(|s| (s.end_ns, s.stats));
        assert_eq!(a, b, "schedule {i}");
    }
}

/// A one-way stream of `count` messages over a link that loses `loss_pm` per
/// mille of frames in each direction (acks included), with a one-way delay drawn
/// per frame from `delay_ns` (a range wider than a frame's spacing reorders).
/// Frames go through the real wire codec. Returns (sender stats, receiver stats, simulated ns).
fn stream_over_loss(seed: u64, count: u64, loss_pm: u64, delay_ns: (u64, u64)) -> (ChannelStats, ChannelStats, u64) {
    let mut rng = Rng(seed);
    let (boot_a, boot_b) = (0x5e4d, 0x4ecf);
    let mut chans = [Channel::new(boot_a), Channel::new(boot_b)];
    let boots = [boot_a, boot_b];
    let mut queue: BTreeMap<(u64, u64), (usize, Vec<u8>)> = BTreeMap::new();
    let mut timers: [Option<Instant>; 2] = [None, None];
    let (mut now, mut k, mut next_id, mut expected) = (0u64, 0u64, 1u64, 1u64);
    let mut frame_seq = [0u64; 2];
    // Both ends learn each other's boot from a first hello.
    for (i, ch) in chans.iter_mut().enumerate() {
        let _ = ch.handle_message(Instant(0), boots[1 - i], &Message::LanTest(wire::LanTest { nonce: 0 }));
    }
    loop {
        // The sender keeps its queue topped up.
        while next_id <= count {
            match chans[0].send(body(next_id)) {
                Ok(()) => next_id += 1,
                Err(SendError::Full { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        for (i, ch) in chans.iter_mut().enumerate() {
            while let Some(m) = ch.poll_transmit(Instant(now)) {
                frame_seq[i] += 1;
                let sender = if i == 0 { Role::Primary } else { Role::Secondary };
                let frame = Frame { sender, flags: 0, seq: frame_seq[i], boot_nonce: boots[i], message: m };
                if rng.chance(loss_pm) {
                    continue;
                }
                k += 1;
                let delay = rng.range(delay_ns.0, delay_ns.1);
                queue.insert((now + delay, k), (1 - i, wire::encode(&frame)));
            }
            assert!(ch.take_abandoned().is_empty());
            timers[i] = ch.poll_timeout();
        }
        if expected > count && chans[0].is_idle() {
            break;
        }
        let next_frame = queue.first_key_value().map(|(&(t, _), _)| t);
        let next_timer = timers.iter().enumerate().filter_map(|(i, t)| t.map(|t| (t.as_nanos(), i))).min();
        match (next_frame, next_timer) {
            (f, Some((t, i))) if f.is_none_or(|f| t < f) => {
                now = t;
                chans[i].handle_timeout(Instant(now));
            }
            (Some(f), _) => {
                now = f;
                let Some((_, (to, bytes))) = queue.pop_first() else { unreachable!("a frame is queued") };
                let frame = wire::decode(&bytes).expect("the channel's frames decode");
                for c in chans[to].handle_message(Instant(now), frame.boot_nonce, &frame.message) {
                    assert_eq!(id_of(&c), Some(expected), "in order, exactly once");
                    expected += 1;
                }
            }
            _ => panic!("stalled with {} of {count} delivered", expected - 1),
        }
    }
    assert_eq!(expected, count + 1);
    (chans[0].stats(), chans[1].stats(), now)
}

#[test]
fn channel_benchmark_ten_percent_loss_delivers_ten_thousand_messages() {
    let (tx, rx, now_ns) = stream_over_loss(0x10_55, 10_000, 100, (MS, 2 * MS));
    let frames = tx.frames_sent() + rx.frames_sent();
    println!(
        "10,000 messages, 10% loss each way, 1-2 ms one-way delay: {frames} frames sent \
         ({} first transmissions, {} retransmissions [{} timeouts, {} early], {} acks), {:.3} s simulated",
        tx.data_frames,
        tx.retransmissions,
        tx.timeouts,
        tx.fast_retransmits,
        rx.acks_sent + tx.acks_sent,
        now_ns as f64 / 1e9
    );
    assert_eq!(rx.delivered, 10_000);
    assert_eq!(tx.data_frames, 10_000);
    // Pinned figures (deterministic for this seed): a change to the channel's policy shows up here.
    assert_eq!((tx.retransmissions, rx.acks_sent, now_ns / MS), (1_264, 10_134, 3_683), "update the pinned figures");
}

#[test]
fn channel_benchmark_clean_fifo_link_needs_no_retransmission() {
    let (tx, rx, _) = stream_over_loss(7, 1_000, 0, (MS, MS));
    assert_eq!(tx.retransmissions, 0);
    assert_eq!(rx.delivered, 1_000);
}

#[test]
fn channel_benchmark_clean_reordering_link_resends_little() {
    // Every frame's delay is drawn independently from 1-2 ms: heavy reordering, no loss.
    let (tx, rx, _) = stream_over_loss(7, 1_000, 0, (MS, 2 * MS));
    assert_eq!(rx.delivered, 1_000);
    assert!(tx.retransmissions <= 30, "{} spurious retransmissions", tx.retransmissions);
}
