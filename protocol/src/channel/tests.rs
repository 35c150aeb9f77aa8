//! The channel's unit tests (its behaviour through the public API is in tests/channel.rs).

use super::*;
use crate::types::{Group, Space};
use crate::wire::{ConfigLine, RoleRequestKind};

const A: u64 = 0xA11CE;
const B: u64 = 0xB0B;

fn cmd(n: u64) -> Control {
    Control::CommandReplication { space: Space::System, line: format!("hostname fw{n}"), command_seq: n }
}

fn at(ms: u64) -> Instant {
    Instant::from_ms(ms)
}

fn drain(c: &mut Channel, now: Instant) -> Vec<Message> {
    let mut out = Vec::new();
    while let Some(m) = c.poll_transmit(now) {
        out.push(m);
    }
    c.invariants();
    out
}

/// Two channels that already know each other's boot.
fn pair() -> (Channel, Channel) {
    let mut a = Channel::new(A);
    let mut b = Channel::new(B);
    let _ = a.handle_message(at(0), B, &Message::LanTest(crate::wire::LanTest { nonce: 1 }));
    let _ = b.handle_message(at(0), A, &Message::LanTest(crate::wire::LanTest { nonce: 1 }));
    drain(&mut a, at(0));
    drain(&mut b, at(0));
    (a, b)
}

fn deliver(to: &mut Channel, from_boot: u64, frames: &[Message], now: Instant) -> Vec<Control> {
    let mut out = Vec::new();
    for f in frames {
        out.extend(to.handle_message(now, from_boot, f));
        to.invariants();
    }
    out
}

#[test]
fn channel_in_order_stream_is_delivered_and_acknowledged() {
    let (mut a, mut b) = pair();
    for n in 1..=5 {
        a.send(cmd(n)).unwrap();
    }
    let frames = drain(&mut a, at(1));
    assert_eq!(frames.len(), 5);
    assert_eq!(deliver(&mut b, A, &frames, at(2)), (1..=5).map(cmd).collect::<Vec<_>>());
    let acks = drain(&mut b, at(2));
    assert_eq!(acks, vec![Message::Ack(Ack { stream_boot: A, cumulative: 5 })], "one coalesced ack");
    let _ = deliver(&mut a, B, &acks, at(3));
    assert!(a.is_idle());
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn channel_duplicate_frame_is_discarded_but_acknowledged() {
    let (mut a, mut b) = pair();
    a.send(cmd(1)).unwrap();
    let frames = drain(&mut a, at(1));
    assert_eq!(deliver(&mut b, A, &frames, at(2)).len(), 1);
    drain(&mut b, at(2));
    assert!(deliver(&mut b, A, &frames, at(3)).is_empty());
    assert_eq!(b.stats().duplicates, 1);
    assert_eq!(drain(&mut b, at(3)), vec![Message::Ack(Ack { stream_boot: A, cumulative: 1 })]);
}

#[test]
fn channel_reordered_frames_are_buffered_then_delivered_in_order() {
    let (mut a, mut b) = pair();
    for n in 1..=3 {
        a.send(cmd(n)).unwrap();
    }
    let mut frames = drain(&mut a, at(1));
    frames.reverse();
    assert!(deliver(&mut b, A, &frames[..2], at(2)).is_empty());
    assert_eq!(deliver(&mut b, A, &frames[2..], at(2)), vec![cmd(1), cmd(2), cmd(3)]);
}

#[test]
fn channel_lost_frame_is_retransmitted_after_the_timeout() {
    let (mut a, mut b) = pair();
    a.send(cmd(1)).unwrap();
    let _lost = drain(&mut a, at(0));
    let deadline = a.poll_timeout().unwrap();
    assert_eq!(deadline, at(CHANNEL_RTO_MS_INITIAL));
    a.handle_timeout(deadline);
    let again = drain(&mut a, deadline);
    assert_eq!(again.len(), 1);
    assert_eq!(a.stats().retransmissions, 1);
    assert_eq!(deliver(&mut b, A, &again, deadline), vec![cmd(1)]);
    // The next timeout is backed off.
    assert_eq!(a.poll_timeout().unwrap(), deadline + Duration::from_millis(2 * CHANNEL_RTO_MS_INITIAL));
}

#[test]
fn channel_backoff_doubles_and_is_capped() {
    let (mut a, _b) = pair();
    a.send(cmd(1)).unwrap();
    drain(&mut a, at(0));
    let mut now = at(0);
    let mut gaps = Vec::new();
    for _ in 0..10 {
        let next = a.poll_timeout().unwrap();
        gaps.push(next.saturating_since(now).as_millis() as u64);
        now = next;
        a.handle_timeout(now);
        drain(&mut a, now);
    }
    assert_eq!(gaps, vec![200, 400, 800, 1600, 3200, 4000, 4000, 4000, 4000, 4000]);
}

/// Sends message 0 at 0 ms and acknowledges it at 10 ms: a round-trip sample of 10 ms.
fn pair_with_rtt_sample() -> (Channel, Channel) {
    let (mut a, mut b) = pair();
    a.send(cmd(0)).unwrap();
    let f = drain(&mut a, at(0));
    let _ = deliver(&mut b, A, &f, at(5));
    let acks = drain(&mut b, at(5));
    let _ = deliver(&mut a, B, &acks, at(10));
    (a, b)
}

/// Sends 1..=5 at 20 ms, delivers all but the first to `b` at 25 ms and returns b's four acks.
fn first_of_five_lost(a: &mut Channel, b: &mut Channel) -> Vec<Message> {
    for n in 1..=5 {
        a.send(cmd(n)).unwrap();
    }
    let frames = drain(a, at(20));
    let mut acks = Vec::new();
    for f in &frames[1..] {
        let _ = b.handle_message(at(25), A, f);
        acks.extend(drain(b, at(25)));
    }
    assert_eq!(acks.len(), 4);
    acks
}

#[test]
fn channel_three_duplicate_acks_of_an_overdue_message_trigger_a_fast_retransmission() {
    let (mut a, mut b) = pair_with_rtt_sample();
    let acks = first_of_five_lost(&mut a, &mut b);
    // 13 ms after sending, more than 1.25 round trips: the first message is lost.
    let _ = deliver(&mut a, B, &acks[..3], at(33));
    let resent = drain(&mut a, at(33));
    assert_eq!(resent.len(), 1, "fast retransmission before the timeout");
    assert_eq!(deliver(&mut b, A, &resent, at(35)), (1..=5).map(cmd).collect::<Vec<_>>());
}

#[test]
fn channel_duplicate_acks_within_a_round_trip_wait_for_the_reordering_allowance() {
    let (mut a, mut b) = pair_with_rtt_sample();
    let acks = first_of_five_lost(&mut a, &mut b);
    // 6 ms after sending, less than a round trip: the first message may just be late.
    let _ = deliver(&mut a, B, &acks, at(26));
    assert!(drain(&mut a, at(26)).is_empty());
    assert_eq!(a.stats().retransmissions, 0);
    // Still missing 1.25 round trips after it was sent: now it counts as lost.
    assert_eq!(a.poll_timeout(), Some(at(20) + Duration::from_micros(12_500)));
    a.handle_timeout(a.poll_timeout().unwrap());
    assert_eq!(drain(&mut a, at(33)).len(), 1);
    assert_eq!(a.stats().retransmissions, 1);
}

#[test]
fn channel_announcement_from_a_known_peer_is_answered_again() {
    let (_a, mut b) = pair();
    let announce = Message::Ack(Ack { stream_boot: ANNOUNCE_STREAM_BOOT, cumulative: 0 });
    let _ = b.handle_message(at(1), A, &announce);
    assert_eq!(drain(&mut b, at(1)), vec![Message::Ack(Ack { stream_boot: A, cumulative: 0 })]);
}

#[test]
fn channel_window_limits_frames_in_flight() {
    let (mut a, _b) = pair();
    for n in 0..(CHANNEL_SEND_WINDOW as u64 + 10) {
        a.send(cmd(n)).unwrap();
    }
    assert_eq!(drain(&mut a, at(0)).len(), CHANNEL_SEND_WINDOW);
    assert_eq!(a.queued(), CHANNEL_SEND_WINDOW + 10);
}

#[test]
fn channel_full_backlog_refuses_and_hands_the_message_back() {
    let mut a = Channel::new(A);
    for n in 0..CHANNEL_BACKLOG_MAX as u64 {
        a.send(cmd(n)).unwrap();
    }
    let err = a.send(cmd(9_999)).unwrap_err();
    assert!(matches!(err, SendError::Full { .. }));
    assert!(err.to_string().contains("retry"));
    assert_eq!(err.into_body(), cmd(9_999));
}

#[test]
fn channel_unencodable_message_is_refused_not_queued() {
    let mut a = Channel::new(A);
    let long = Control::CommandReplication { space: Space::System, line: "x".repeat(5_000), command_seq: 1 };
    let err = a.send(long).unwrap_err();
    assert!(matches!(err, SendError::Unencodable { .. }), "{err}");
    assert_eq!(a.queued(), 0);
    let lines = vec![ConfigLine { space: Space::System, line: "x".repeat(1_000) }; 64];
    let chunk = Control::ConfigSyncChunk { sync_id: 1, index: 0, lines };
    assert!(matches!(a.send(chunk), Err(SendError::Unencodable { .. })), "64 KB chunk exceeds a frame");
}

#[test]
fn channel_unknown_peer_announces_then_sends_once_answered() {
    let mut a = Channel::new(A);
    let mut b = Channel::new(B);
    a.send(cmd(1)).unwrap();
    let first = drain(&mut a, at(0));
    assert_eq!(first, vec![Message::Ack(Ack { stream_boot: ANNOUNCE_STREAM_BOOT, cumulative: 0 })]);
    assert_eq!(a.poll_timeout(), Some(at(CHANNEL_RTO_MS_INITIAL)), "announcement repeats");
    assert!(deliver(&mut b, A, &first, at(1)).is_empty());
    let answer = drain(&mut b, at(1));
    assert_eq!(answer, vec![Message::Ack(Ack { stream_boot: A, cumulative: 0 })]);
    let _ = deliver(&mut a, B, &answer, at(2));
    let data = drain(&mut a, at(2));
    assert_eq!(deliver(&mut b, A, &data, at(3)), vec![cmd(1)]);
}

#[test]
fn channel_ack_for_another_boot_is_ignored() {
    let (mut a, _b) = pair();
    a.send(cmd(1)).unwrap();
    drain(&mut a, at(0));
    let _ = a.handle_message(at(1), B, &Message::Ack(Ack { stream_boot: A + 1, cumulative: 1 }));
    assert_eq!(a.in_flight(), 1);
    assert_eq!(a.stats().acks_ignored, 1);
    let _ = a.handle_message(at(1), B, &Message::Ack(Ack { stream_boot: A, cumulative: 7 }));
    assert_eq!(a.in_flight(), 1, "an ack beyond what was sent is ignored");
    let _ = a.handle_message(at(1), B, &Message::Ack(Ack { stream_boot: A, cumulative: 1 }));
    assert_eq!(a.in_flight(), 0);
}

#[test]
fn channel_peer_reboot_abandons_queued_messages_and_restarts_streams() {
    let (mut a, mut b) = pair();
    for n in 1..=3 {
        a.send(cmd(n)).unwrap();
    }
    let frames = drain(&mut a, at(0));
    assert_eq!(deliver(&mut b, A, &frames[..1], at(1)), vec![cmd(1)]);
    // b reboots before acknowledging anything.
    let b2_boot = B + 100;
    let mut b2 = Channel::new(b2_boot);
    let _ = a.handle_message(at(2), b2_boot, &Message::LanTest(crate::wire::LanTest { nonce: 2 }));
    assert_eq!(a.take_abandoned(), vec![cmd(1), cmd(2), cmd(3)]);
    assert_eq!(a.stats().peer_reboots, 1);
    // Late frames of the old stream mean nothing to the new boot.
    assert!(deliver(&mut b2, A, &frames, at(3)).is_empty());
    assert_eq!(b2.stats().out_of_window, 3);
    // Late frames from the old boot are ignored by a.
    let _ = a.handle_message(at(3), B, &Message::Ack(Ack { stream_boot: A, cumulative: 3 }));
    assert_eq!(a.stats().stale_frames, 1);
    assert_eq!(a.peer_boot(), Some(b2_boot));
    // The new stream starts over and arrives.
    a.send(cmd(4)).unwrap();
    let fresh = drain(&mut a, at(4));
    assert_eq!(deliver(&mut b2, A, &fresh, at(5)), vec![cmd(4)]);
}

#[test]
fn channel_send_is_refused_until_abandoned_messages_are_taken() {
    let (mut a, _b) = pair();
    a.send(cmd(1)).unwrap();
    let _ = a.handle_message(at(1), B + 1, &Message::LanTest(crate::wire::LanTest { nonce: 2 }));
    let err = a.send(cmd(2)).unwrap_err();
    assert!(matches!(err, SendError::AbandonedPending { abandoned: 1, .. }), "{err}");
    assert_eq!(a.take_abandoned(), vec![cmd(1)]);
    a.send(cmd(2)).unwrap();
}

#[test]
fn channel_frame_claiming_our_own_boot_is_ignored() {
    let mut a = Channel::new(A);
    let out = a.handle_message(at(0), A, &Message::Control { channel_seq: stream_mask(A) ^ 1, body: cmd(1) });
    assert!(out.is_empty());
    assert_eq!(a.peer_boot(), None);
}

#[test]
fn channel_frame_far_beyond_the_window_is_dropped() {
    let (_a, mut b) = pair();
    let seq = 1 + CHANNEL_RECV_WINDOW as u64;
    let m = Message::Control { channel_seq: seq ^ stream_mask(B), body: cmd(1) };
    assert!(b.handle_message(at(0), A, &m).is_empty());
    assert_eq!(b.stats().out_of_window, 1);
    b.invariants();
}

#[test]
fn channel_stream_masks_of_nearby_boots_differ_widely() {
    for boot in 0..1_000u64 {
        let diff = stream_mask(boot) ^ stream_mask(boot + 1);
        assert!(diff.count_ones() > 10, "boots {boot} and {} give masks too close", boot + 1);
    }
}

#[test]
fn channel_role_request_survives_the_codec_check() {
    let mut a = Channel::new(A);
    a.send(Control::RoleRequest { group: Group::One, request: RoleRequestKind::WantMeActive }).unwrap();
    assert_eq!(a.queued(), 1);
}
