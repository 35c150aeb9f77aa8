//! Every bound of the protocol, in one place, with the relations between them
//! checked at compile time. Names carry their unit last (`_ms`, `_max`).

/// Unit polltime: 1-15 s, or 200-999 ms (`failover polltime unit msec`).
pub const UNIT_POLLTIME_MS_MIN: u64 = 200;
pub const UNIT_POLLTIME_MS_MAX: u64 = 15_000;
pub const UNIT_POLLTIME_MS_DEFAULT: u64 = 1_000;
/// Unit holdtime: 1-45 s, or 800-999 ms; at least 3 x polltime.
pub const UNIT_HOLDTIME_MS_MIN: u64 = 800;
pub const UNIT_HOLDTIME_MS_MAX: u64 = 45_000;
pub const UNIT_HOLDTIME_MS_DEFAULT: u64 = 15_000;
/// Hellos missed before the LAN test.
pub const UNIT_HELLOS_MISSED_MAX: u64 = 3;
/// Interface polltime: 1-15 s, or 500-999 ms.
pub const INTERFACE_POLLTIME_MS_MIN: u64 = 500;
pub const INTERFACE_POLLTIME_MS_MAX: u64 = 15_000;
pub const INTERFACE_POLLTIME_MS_DEFAULT: u64 = 5_000;
/// Interface holdtime: 5-75 s; at least 2 x interface polltime.
pub const INTERFACE_HOLDTIME_MS_MIN: u64 = 5_000;
pub const INTERFACE_HOLDTIME_MS_MAX: u64 = 75_000;
pub const INTERFACE_HOLDTIME_MS_DEFAULT: u64 = 25_000;
/// Interface test phases (network activity, ARP, broadcast ping), each holdtime / 16.
pub const INTERFACE_TEST_PHASES: u64 = 3;
pub const INTERFACE_TEST_PHASE_DIVISOR: u64 = 16;
/// Interface policy: a count 1-250 or a percentage 1-100.
pub const INTERFACE_POLICY_COUNT_MAX: u16 = 250;
pub const INTERFACE_POLICY_PERCENT_MAX: u8 = 100;
/// Monitored interfaces per unit.
pub const MONITORED_INTERFACES_MAX: usize = 250;
/// Preempt delay: 1-1200 s.
pub const PREEMPT_DELAY_S_MAX: u64 = 1_200;
/// Failover groups.
pub const GROUPS_MAX: usize = 2;
/// Security contexts per unit.
pub const CONTEXTS_MAX: usize = 250;
/// Entries kept in `show failover history` per group (oldest dropped first).
pub const HISTORY_MAX: usize = 64;
/// Events queued for the caller before the oldest are dropped (the caller drains after every input).
pub const EVENTS_QUEUED_MAX: usize = 4_096;
/// Frames queued for the caller (the caller drains after every input).
pub const TRANSMITS_QUEUED_MAX: usize = 4_096;

/// [fover] A forward step of a unit's clock between two consecutive inputs of
/// more than one unit polltime plus `polltime / CLOCK_GAP_SLACK_DIVISOR` is a
/// clock jump (or a stall): the unit was not listening, so every silence
/// window (hold, LAN test reply, negotiation, interface hold and test phase)
/// gets its full length again from the first input after the gap. Consecutive
/// inputs are never further apart than one polltime otherwise, because the
/// hello timer fires every polltime.
pub const CLOCK_GAP_SLACK_DIVISOR: u32 = 4;
/// Passes of the group rules after one input before they must have settled.
pub const EVALUATE_PASSES_MAX: usize = 8;
/// Timer firings handled by one `handle_timeout` call (every timer re-arms in
/// the future, except preempt without delay, which fires once).
pub const TIMER_FIRINGS_PER_INPUT_MAX: usize = 32;
/// Farthest any deadline may lie ahead of the unit's clock: the longest
/// preempt delay (the other windows are at most one unit holdtime).
pub const DEADLINE_SPAN_MS_MAX: u64 = PREEMPT_DELAY_S_MAX * 1_000;
/// Earlier boots of the peer remembered, so that a delayed frame from one of
/// them is not taken for a reboot (oldest forgotten first).
pub const PEER_BOOTS_RETIRED_MAX: usize = 8;
/// Name of the failover link interface in messages (`show failover`, 105005).
pub const FAILOVER_LINK_NAME: &str = "folink";

const _: () = assert!(UNIT_HOLDTIME_MS_MIN >= UNIT_HELLOS_MISSED_MAX * 200);
const _: () = assert!(DEADLINE_SPAN_MS_MAX >= UNIT_HOLDTIME_MS_MAX);
const _: () = assert!(DEADLINE_SPAN_MS_MAX >= INTERFACE_HOLDTIME_MS_MAX);
const _: () = assert!(CLOCK_GAP_SLACK_DIVISOR >= 2);
const _: () = assert!(UNIT_HOLDTIME_MS_DEFAULT >= UNIT_HELLOS_MISSED_MAX * UNIT_POLLTIME_MS_DEFAULT);
const _: () = assert!(UNIT_POLLTIME_MS_MIN < UNIT_HOLDTIME_MS_MIN);
const _: () = assert!(INTERFACE_HOLDTIME_MS_MIN >= 2 * INTERFACE_POLLTIME_MS_MIN);
const _: () = assert!(INTERFACE_HOLDTIME_MS_DEFAULT >= 2 * INTERFACE_POLLTIME_MS_DEFAULT);
// The three test phases fit in the second half of the holdtime.
const _: () = assert!(INTERFACE_TEST_PHASES * 2 <= INTERFACE_TEST_PHASE_DIVISOR);
const _: () = assert!(GROUPS_MAX == 2);

// ---- Reliable control channel (`channel`) ----

/// Control messages in flight (sent, not yet acknowledged) per direction.
pub const CHANNEL_SEND_WINDOW: usize = 64;
/// Control messages accepted by `Channel::send` but not yet in flight. When full, `send`
/// refuses with `SendError::Full` and hands the message back: nothing is dropped.
pub const CHANNEL_BACKLOG_MAX: usize = 1_024;
/// Out-of-order control messages the receiver buffers (beyond the next expected one).
pub const CHANNEL_RECV_WINDOW: usize = 64;
/// Retransmission timeout before the first round-trip sample.
pub const CHANNEL_RTO_MS_INITIAL: u64 = 200;
/// Floor of the retransmission timeout computed from round-trip samples.
pub const CHANNEL_RTO_MS_MIN: u64 = 10;
/// Cap of the retransmission timeout, including exponential backoff.
pub const CHANNEL_RTO_MS_MAX: u64 = 4_000;
/// Repeated cumulative acknowledgements (each: a later message arrived) after which the oldest
/// message, once out for 1.25 smoothed round trips, is resent without waiting for the timeout.
pub const CHANNEL_DUPACKS_FAST_RETRANSMIT: u32 = 1;
/// Previous peer boots remembered, so that a late frame from one cannot pass for a reboot.
pub const CHANNEL_RETIRED_BOOTS_MAX: usize = 8;

// The receiver can hold everything the sender may have in flight.
const _: () = assert!(CHANNEL_RECV_WINDOW >= CHANNEL_SEND_WINDOW);
const _: () = assert!(CHANNEL_SEND_WINDOW > 0 && CHANNEL_BACKLOG_MAX > 0);
const _: () = assert!(CHANNEL_DUPACKS_FAST_RETRANSMIT >= 1);
const _: () = assert!(CHANNEL_RTO_MS_MIN <= CHANNEL_RTO_MS_INITIAL && CHANNEL_RTO_MS_INITIAL <= CHANNEL_RTO_MS_MAX);

// ---- Licenses (`license`) ----

/// \[fover\] Security contexts of the base (Restricted) license, which a unit runs with no key.
pub const LICENSE_BASE_CONTEXTS: u16 = 2;
/// \[fover\] VPN peers of the base (Restricted) license.
pub const LICENSE_BASE_VPN_PEERS: u16 = 25;
/// Most VPN peers an activation key may license.
pub const LICENSE_VPN_PEERS_MAX: u16 = 10_000;

const _: () = assert!(LICENSE_BASE_CONTEXTS as usize <= CONTEXTS_MAX);
const _: () = assert!(LICENSE_BASE_VPN_PEERS <= LICENSE_VPN_PEERS_MAX);
// Context counts travel in 16 bits inside an activation key.
const _: () = assert!(CONTEXTS_MAX <= u16::MAX as usize);

// ---- Running configuration (`running`) ----

/// Lines in one space's running config (the system space or one context).
pub const RUNNING_LINES_PER_SPACE_MAX: usize = 20_000;
/// Longest security context name.
pub const CONTEXT_NAME_LEN_MAX: usize = 32;

const _: () = assert!(RUNNING_LINES_PER_SPACE_MAX >= 1_000);

// ---- Stateful failover (`connections`, `unit::stateful`) ----

/// Entries in each connection-sized table of one context: xlates, and TCP, UDP and HTTP
/// connections. A new entry in a full table is refused and counted (see `stateful`).
pub const STATE_CONNECTIONS_PER_CONTEXT_MAX: usize = 16_384;
/// Entries in each host-sized table of one context: ARP, L2 bridge, uauth, routes.
pub const STATE_HOSTS_PER_CONTEXT_MAX: usize = 512;
/// Entries in each tunnel table of one context: IPsec SAs, GTP PDP contexts.
pub const STATE_TUNNELS_PER_CONTEXT_MAX: usize = 1_024;
/// Control messages waiting in a unit's outbox beyond which an incremental state update is not
/// queued: it is counted as `xerr` and the mate gets a new bulk sync once the queue drains.
pub const STATE_OUTBOX_MAX: usize = 8_192;
/// A bulk sync feeds the outbox only while it holds fewer messages than this, so that a bulk
/// of many thousands of objects never sits in memory twice and config messages are not stuck
/// behind all of it.
pub const STATE_BULK_FEED_MAX: usize = 256;

// The benchmark of issue 9 runs 10,000 open connections in one context.
const _: () = assert!(STATE_CONNECTIONS_PER_CONTEXT_MAX >= 10_000);
// A bulk sync always makes progress below the cap on incremental updates.
const _: () = assert!(STATE_BULK_FEED_MAX < STATE_OUTBOX_MAX);
