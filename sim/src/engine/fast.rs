//! The fast engine: a deterministic event queue (time, sequence) of steps,
//! timer deadlines, frame deliveries and network traffic, driving two
//! [`Unit`]s directly. No runtime, no tasks, no sockets.

use super::Outcome;
use crate::fabric::{MS, Port, Route};
use crate::scenario::Scenario;
use crate::schedule::{Step, UnitName};
use crate::world::{self, Core, RecordLevel, UnitJob, unit_link};
use fover_protocol::unit::{IfaceId, Link, Output, drain};
use fover_protocol::{Instant, Unit};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug)]
enum Ev {
    Step(usize),
    Timer {
        unit: UnitName,
        generation: u64,
    },
    Deliver {
        to: UnitName,
        link: usize,
        bytes: Vec<u8>,
        corrupted: bool,
        duplicate: bool,
    },
    Traffic {
        unit: UnitName,
        iface: usize,
        epoch: u64,
    },
    Reboot {
        unit: UnitName,
        epoch: u64,
    },
    /// The traffic workload's next operation.
    Workload,
    End,
}

/// The event queue: events in (time, order of push) order. Each push takes
/// the next sequence number, and a key `time << 64 | sequence << 24 | slot`
/// orders events; the events themselves wait in a slab (a delivery carries
/// its bytes, so a key moves 16 bytes instead of a whole event).
///
/// A run has a few dozen events pending at a time (the scenario's steps, a
/// timer and a traffic source per unit and interface, the frames in flight):
/// their keys are kept in a vector sorted from the latest to the earliest, so
/// a pop takes the last key and a push is a short scan from that end and a
/// short move. Beyond [`SORTED_KEYS_MAX`] pending events (a long scenario, a
/// burst of frames) they go to a binary heap of the same keys until it
/// empties: the same order either way, so traces do not depend on it.
#[derive(Default)]
struct Queue {
    /// Keys `time << 64 | sequence << 24 | slot`, decreasing: the next event is the last.
    sorted: Vec<u128>,
    /// In use while not empty (and then `sorted` is).
    heap: BinaryHeap<Reverse<u128>>,
    /// Events by slot; `None` when the slot is free.
    slab: Vec<Option<Ev>>,
    free: Vec<u32>,
    seq: u64,
}

/// Bits of a key for the slot: at most 16 M events pending at once.
const SLOT_BITS: u32 = 24;

/// Pending events kept in the sorted vector (a push moves at most this many keys).
const SORTED_KEYS_MAX: usize = 256;

impl Queue {
    fn push(&mut self, t: u64, ev: Ev) {
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(ev);
                i
            }
            None => {
                self.slab.push(Some(ev));
                (self.slab.len() - 1) as u32
            }
        };
        assert!(slot < 1 << SLOT_BITS, "more than {} events pending", 1u64 << SLOT_BITS);
        let key = u128::from(t) << 64 | u128::from(self.seq << SLOT_BITS | u64::from(slot));
        if !self.heap.is_empty() {
            self.heap.push(Reverse(key));
        } else if self.sorted.len() < SORTED_KEYS_MAX {
            // From the earliest end: a frame in flight is due soon.
            let at = self.sorted.iter().rposition(|k| *k > key).map_or(0, |i| i + 1);
            self.sorted.insert(at, key);
        } else {
            self.heap.extend(self.sorted.drain(..).map(Reverse));
            self.heap.push(Reverse(key));
        }
    }

    fn pop(&mut self) -> Option<(u64, Ev)> {
        let key = match self.heap.pop() {
            Some(Reverse(key)) => key,
            None => self.sorted.pop()?,
        };
        let (t, key) = ((key >> 64) as u64, key as u64);
        let slot = (key & ((1 << SLOT_BITS) - 1)) as u32;
        let ev = self.slab[slot as usize].take()?;
        self.free.push(slot);
        Some((t, ev))
    }
}

/// Events processed before a run is declared stuck (a bound on every loop).
pub const EVENTS_MAX: u64 = 200_000_000;

struct Fast {
    core: Core,
    steps: Vec<Step>,
    queue: Queue,
    now: u64,
    units: [Option<Unit>; 2],
    /// Bumped at every boot and power loss: cancels that unit's pending traffic and timers.
    epoch: [u64; 2],
    timer_generation: [u64; 2],
    /// The true time of each unit's pending timer event (of the current
    /// generation): re-arming at the same time queues nothing new.
    timer_at: [Option<u64>; 2],
    /// Each unit's next deadline at a [`Unit::state_version`] (`None`: not
    /// asked since its last boot): an input that leaves the version alone
    /// leaves the deadline alone.
    deadline_at_version: [Option<(u64, Option<Instant>)>; 2],
    traffic_interval_ns: u64,
}

impl world::Engine for Fast {
    fn core(&mut self) -> &mut Core {
        &mut self.core
    }

    fn now(&self) -> u64 {
        self.now
    }

    fn powered(&self, unit: UnitName) -> bool {
        self.units[unit.index()].is_some()
    }

    fn power_on(&mut self, u: UnitName) -> Result<(), String> {
        let (unit, nonce) = self.core.boot_unit(self.now, u)?;
        self.units[u.index()] = Some(unit);
        self.epoch[u.index()] += 1;
        self.deadline_at_version[u.index()] = None;
        self.core.on_boot(self.now, u, nonce);
        self.drain(u);
        let epoch = self.epoch[u.index()];
        for iface in 0..self.core.interface_count() {
            let at = self.now + self.core.rng().below(self.traffic_interval_ns);
            self.queue.push(at, Ev::Traffic { unit: u, iface, epoch });
        }
        Ok(())
    }

    fn power_off(&mut self, u: UnitName) {
        self.units[u.index()] = None;
        self.epoch[u.index()] += 1;
        self.timer_generation[u.index()] += 1;
        self.timer_at[u.index()] = None;
    }

    fn reboot_after(&mut self, unit: UnitName, ms: u64) {
        let epoch = self.epoch[unit.index()];
        self.queue.push(self.now + ms * MS, Ev::Reboot { unit, epoch });
    }

    fn clock_changed(&mut self, u: UnitName) {
        let deadline = self.units[u.index()].as_ref().and_then(Unit::poll_timeout);
        self.arm(u, deadline);
    }

    fn input(&mut self, u: UnitName, jobs: Vec<UnitJob>) {
        for job in jobs {
            self.feed(u, job);
        }
    }

    fn look(&mut self, u: UnitName, job: UnitJob) {
        let now = self.core.local(u, self.now);
        if let Some(unit) = self.units[u.index()].as_mut() {
            job(&mut self.core, self.now, unit, now);
        }
    }
}

impl Fast {
    /// Drains a unit after an input (the drain contract), then lets the checkers look.
    fn drain(&mut self, u: UnitName) {
        let Some(unit) = self.units[u.index()].as_mut() else { return };
        let (core, queue, now) = (&mut self.core, &mut self.queue, self.now);
        let cached = &mut self.deadline_at_version[u.index()];
        let deadline = drain(
            unit,
            // Inlined: a closure this size is otherwise called, once per output.
            #[inline(always)]
            |o| match o {
                Output::Transmit(t) => {
                    if let Route::Deliver(copies) = core.on_transmit(now, u, t.link, t.bytes) {
                        let link = world::link_idx(t.link);
                        for c in copies {
                            let ev = Ev::Deliver {
                                to: u.other(),
                                link,
                                bytes: c.bytes,
                                corrupted: c.corrupted,
                                duplicate: c.duplicate,
                            };
                            queue.push(now + c.delay_ns, ev);
                        }
                    }
                }
                Output::Event(e) => core.on_unit_event(now, u, e),
            },
            |unit| {
                let version = unit.state_version();
                match *cached {
                    Some((v, deadline)) if v == version => deadline,
                    _ => {
                        let deadline = unit.poll_timeout();
                        *cached = Some((version, deadline));
                        deadline
                    }
                }
            },
        );
        self.core.after_input(self.now, u, unit);
        self.arm(u, deadline);
    }

    fn arm(&mut self, u: UnitName, deadline: Option<Instant>) {
        let at = deadline.map(|d| self.core.true_at(u, self.now, d));
        if at == self.timer_at[u.index()] {
            return; // the pending timer event already fires then
        }
        self.timer_generation[u.index()] += 1;
        self.timer_at[u.index()] = at;
        if let Some(at) = at {
            let generation = self.timer_generation[u.index()];
            self.queue.push(at, Ev::Timer { unit: u, generation });
        }
    }

    /// One input to a powered unit, then its drain.
    #[inline]
    fn feed(&mut self, u: UnitName, f: impl FnOnce(&mut Core, u64, &mut Unit, Instant)) {
        let local = self.core.local(u, self.now);
        if let Some(unit) = self.units[u.index()].as_mut() {
            f(&mut self.core, self.now, unit, local);
            self.drain(u);
        }
    }

    fn run(mut self, end: u64) -> Result<Outcome, String> {
        for i in 0..self.steps.len() {
            let t = self.steps[i].at_ms() * MS;
            self.queue.push(t, Ev::Step(i));
        }
        if let Some(at) = self.core.traffic_next_at() {
            self.queue.push(at, Ev::Workload);
        }
        self.queue.push(end, Ev::End);
        let mut processed = 0u64;
        while let Some((t, ev)) = self.queue.pop() {
            processed += 1;
            if processed > EVENTS_MAX {
                return Err(format!("more than {EVENTS_MAX} events: the run is stuck in a loop"));
            }
            self.now = t;
            match ev {
                Ev::Step(i) => {
                    let step = self.steps[i].clone();
                    world::apply(&mut self, &step)?;
                }
                Ev::Timer { unit, generation } => {
                    if generation == self.timer_generation[unit.index()] {
                        self.timer_at[unit.index()] = None;
                        self.feed(unit, |core, t, x, now| core.timer(t, unit, x, now));
                    }
                }
                Ev::Deliver { to, link, bytes, corrupted, duplicate } => {
                    let link = unit_link(link);
                    self.feed(to, |core, t, x, now| core.deliver(t, to, x, now, link, &bytes, corrupted, duplicate));
                }
                Ev::Traffic { unit, iface, epoch } => {
                    if epoch == self.epoch[unit.index()] {
                        if self.core.port(unit, iface) == Port::Up {
                            let link = Link::Data(IfaceId(iface as u16));
                            self.feed(unit, |_, _, x, now| Core::network_traffic(x, now, link));
                        }
                        let jitter = self.core.rng().below(self.traffic_interval_ns / 2 + 1);
                        let at = self.now + self.traffic_interval_ns / 2 + jitter;
                        self.queue.push(at, Ev::Traffic { unit, iface, epoch });
                    }
                }
                Ev::Reboot { unit, epoch } => {
                    if epoch == self.epoch[unit.index()] {
                        world::boot(&mut self, unit)?;
                    }
                }
                Ev::Workload => {
                    world::workload(&mut self);
                    if let Some(at) = self.core.traffic_next_at() {
                        self.queue.push(at, Ev::Workload);
                    }
                }
                Ev::End => break,
            }
            if self.core.violated() {
                break;
            }
        }
        Ok(self.core.finish(self.now))
    }
}

/// Plays a scenario on the fast engine.
pub fn run(scenario: &Scenario, level: RecordLevel) -> Result<Outcome, String> {
    let core = Core::new(scenario.clone(), level, (MS, MS / 2))?;
    let traffic_interval_ns = (scenario.pair.interface_polltime_ms * MS / 2).max(MS);
    let engine = Fast {
        steps: scenario.sorted_steps(),
        core,
        queue: Queue::default(),
        now: 0,
        units: [None, None],
        epoch: [0; 2],
        timer_generation: [0; 2],
        timer_at: [None; 2],
        deadline_at_version: [None; 2],
        traffic_interval_ns,
    };
    engine.run(scenario.duration_ms * MS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The queue gives the order of a binary heap of (time, sequence), for
    /// events queued at the start (in any order of time) and pushes at or
    /// after the last pop, many at equal times, with few events pending and
    /// with many (beyond the sorted vector's bound).
    #[test]
    fn queue_pops_in_time_then_push_order() {
        let mut rng = Rng::new(7);
        for round in 0..50 {
            let mut q = Queue::default();
            let mut reference = BinaryHeap::new();
            let (mut now, mut seq) = (rng.below(1 << 40), 0u64);
            let push_p = if round % 2 == 0 { 0.55 } else { 0.8 };
            // Events queued at the start (steps), in any order of time.
            for _ in 0..rng.below(200) {
                seq += 1;
                let t = now + rng.below(1 << 30) / 1_000 * 1_000;
                q.push(t, Ev::Step(seq as usize));
                reference.push(Reverse((t, seq)));
            }
            for _ in 0..2_000 {
                if rng.chance(push_p) {
                    let t = match rng.below(4) {
                        0 => now,
                        1 => now + rng.below(8),
                        2 => now + rng.below(1 << 20),
                        _ => now + rng.below(1 << 45),
                    };
                    seq += 1;
                    q.push(t, Ev::Step(seq as usize));
                    reference.push(Reverse((t, seq)));
                } else {
                    let got = q.pop().map(|(t, ev)| match ev {
                        Ev::Step(i) => (t, i as u64),
                        _ => unreachable!(),
                    });
                    let want = reference.pop().map(|Reverse(k)| k);
                    assert_eq!(got, want, "round {round}");
                    if let Some((t, _)) = got {
                        now = t;
                    }
                }
            }
            while let Some(Reverse(want)) = reference.pop() {
                let (t, ev) = q.pop().expect("the queue ran out early");
                assert!(matches!(ev, Ev::Step(i) if (t, i as u64) == want), "round {round}");
            }
            assert!(q.pop().is_none());
        }
    }
}
