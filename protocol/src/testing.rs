//! [`Pair`]: two [`Unit`]s (primary and secondary) and a virtual clock in one
//! process, with no runtime: a deterministic event queue of deliveries and
//! timers, and knobs for the faults that the failover protocol must survive.
//!
//! Modelled on quinn-proto's test `Pair`. Every input to a unit follows the
//! drain contract ([`crate::unit::drain`]); every frame a unit sends crosses
//! the pair's links, which can be cut per direction or drop frames by
//! [`Kind`]. Each unit reads its own clock ([`crate::clock::ClockModel`]): `local = origin + true_elapsed ×
//! (10⁶ + ppm) / 10⁶ + steps`, in integers. Working data interfaces also
//! carry background traffic from other hosts (datagrams that are not failover
//! frames), which the interface test counts as network activity.
//!
//! ```
//! use fover_protocol::testing::Pair;
//! use fover_protocol::unit::Link;
//! use fover_protocol::types::{Group, GroupState, Role};
//! use core::time::Duration;
//!
//! let (primary, secondary) = Pair::configs(1);
//! let mut pair = Pair::new(primary, secondary);
//! pair.run_for(Duration::from_secs(3));
//! assert_eq!(pair.state(Role::Primary, Group::One), Some(GroupState::Active));
//! assert_eq!(pair.state(Role::Secondary, Group::Two), Some(GroupState::Active));
//!
//! // Cut the failover link both ways: the units fall back on the LAN test
//! // over the data interface, mark the failover link failed and suspend
//! // failover; nobody fails over.
//! pair.cut_both(Link::Failover);
//! pair.run_for(Duration::from_secs(3));
//! assert!(pair.unit(Role::Primary).unwrap().node().is_suspended());
//! assert_eq!(pair.active_units(Group::One), vec![Role::Primary]);
//! ```

use crate::clock::ClockModel;
use crate::config::command::{Command, CommandError};
use crate::config::flash::Flash;
use crate::config::settings::{ContextConfig, InterfaceConfig, UnitConfig};
use crate::connections::{TrafficError, TrafficOp};
use crate::rng::{self, SplitMix64};
use crate::time::Instant;
use crate::types::{Group, GroupState, Role, Space};
use crate::unit::{self, Event, FLASH_BYTES_DEFAULT, IfaceId, Link, Unit};
use crate::wire::{self, Kind};
use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};

/// Default one-way latency of every link.
pub const LATENCY: Duration = Duration::from_millis(1);
/// Default period of background traffic on each working data interface.
pub const BACKGROUND_PERIOD: Duration = Duration::from_millis(100);
/// Default bound on the steps of one `run_*` call.
pub const STEPS_MAX: u64 = 5_000_000;
pub use crate::clock::DRIFT_PPM_MAX;
/// A datagram from another host on a data segment (an ARP request): not a failover frame.
pub const BACKGROUND_DATAGRAM: [u8; 42] = {
    let mut b = [0u8; 42];
    b[0] = 0x08;
    b[1] = 0x06;
    b
};

/// One entry of the pair's event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// True (simulation) time since the pair was created.
    pub at: Duration,
    pub unit: Role,
    pub event: Event,
}

/// `run_*` hit its step bound: something keeps the queue busy at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("step bound of {steps} exceeded at {at:?}")]
pub struct StepBoundExceeded {
    pub steps: u64,
    pub at: Duration,
}

struct Slot {
    config: UnitConfig,
    unit: Option<Unit>,
    clock: ClockModel,
    /// Physical link of each data interface.
    iface_up: Vec<bool>,
    /// No traffic at all passes through this unit's port.
    silent: Vec<bool>,
    boots: u64,
    /// What survives a power cycle (kept when the unit powers off).
    flash: Flash,
}

struct Delivery {
    to: usize,
    link: Link,
    bytes: Vec<u8>,
}

/// Two units, a virtual clock and a fabric between them.
pub struct Pair {
    slots: [Slot; 2],
    /// True time, in nanoseconds since creation.
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Delivery>,
    /// Link and sender: frames from that sender on that link are lost.
    cuts: BTreeSet<(Link, Role)>,
    drops: BTreeSet<(Link, Role, Kind)>,
    latency: Duration,
    background: Option<Duration>,
    next_background: u64,
    log: Vec<Record>,
    seed: u64,
    steps_max: u64,
    /// Random loss per link and sender, in parts per thousand.
    loss: BTreeMap<(Link, Role), u32>,
    /// The loss draws (a stream derived from the seed).
    loss_rng: SplitMix64,
}

fn index(role: Role) -> usize {
    match role {
        Role::Primary => 0,
        Role::Secondary => 1,
    }
}

fn role_of(index: usize) -> Role {
    if index == 0 { Role::Primary } else { Role::Secondary }
}

impl Pair {
    /// A primary and a secondary configuration with `interfaces` monitored
    /// data interfaces (`admin/if0`, `admin/if1`, ... in group 1; with two or
    /// more, the odd ones are in context `ctx2`, group 2), and the fast timer
    /// profile: unit polltime 200 ms, holdtime 800 ms; interface polltime
    /// 500 ms, holdtime 5 s.
    pub fn configs(interfaces: usize) -> (UnitConfig, UnitConfig) {
        let mut c = UnitConfig {
            unit_polltime: Duration::from_millis(200),
            unit_holdtime: Duration::from_millis(800),
            ..UnitConfig::default()
        };
        if interfaces >= 2 {
            c.contexts.push(ContextConfig { name: "ctx2".into(), group: Group::Two });
        }
        for i in 0..interfaces {
            let context = if i % 2 == 1 { "ctx2" } else { "admin" };
            c.interfaces.push(InterfaceConfig { context: context.into(), name: format!("if{i}"), monitored: true });
        }
        for g in &mut c.groups {
            g.interface_polltime = Duration::from_millis(500);
            g.interface_holdtime = Duration::from_secs(5);
        }
        let primary = UnitConfig { role: Role::Primary, ..c.clone() };
        let secondary = UnitConfig { role: Role::Secondary, ..c };
        (primary, secondary)
    }

    /// Powers both units on at time zero (seed 0).
    pub fn new(primary: UnitConfig, secondary: UnitConfig) -> Pair {
        Pair::with_seed(primary, secondary, 0)
    }

    /// Powers both units on at time zero; boot nonces derive from `seed`.
    /// The primary's clock starts at 1000 s and the secondary's at 2000 s,
    /// so that a clock stepped back stays positive and the two never agree.
    ///
    /// Panics if a configuration is invalid or has the wrong role.
    pub fn with_seed(primary: UnitConfig, secondary: UnitConfig, seed: u64) -> Pair {
        assert_eq!(primary.role, Role::Primary, "the first configuration is the primary's");
        assert_eq!(secondary.role, Role::Secondary, "the second configuration is the secondary's");
        let slot = |config: UnitConfig, origin_s: u64| Slot {
            flash: {
                let d = config.device();
                Flash::factory(FLASH_BYTES_DEFAULT, &d.serial, &d.factory_license)
            },
            iface_up: vec![true; config.interfaces.len()],
            silent: vec![false; config.interfaces.len()],
            config,
            unit: None,
            clock: ClockModel::new(origin_s * 1_000_000_000, 0),
            boots: 0,
        };
        let mut pair = Pair {
            slots: [slot(primary, 1_000), slot(secondary, 2_000)],
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            cuts: BTreeSet::new(),
            drops: BTreeSet::new(),
            latency: LATENCY,
            background: Some(BACKGROUND_PERIOD),
            next_background: 0,
            log: Vec::new(),
            seed,
            steps_max: STEPS_MAX,
            loss: BTreeMap::new(),
            loss_rng: SplitMix64::new(rng::first(seed ^ 0x6c6f_7373).wrapping_add(rng::GAMMA)),
        };
        pair.power_on(Role::Primary);
        pair.power_on(Role::Secondary);
        pair
    }

    /// A pair where only the primary is powered on at time zero; power the
    /// secondary on later with [`Pair::power_on`].
    pub fn with_primary_only(primary: UnitConfig, secondary: UnitConfig) -> Pair {
        let mut pair = Pair::new(primary, secondary);
        pair.power_off(Role::Secondary);
        pair.log.clear();
        pair
    }

    // ----- reading ---------------------------------------------------------

    /// True time since the pair was created.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.now)
    }

    /// A unit, if powered.
    pub fn unit(&self, role: Role) -> Option<&Unit> {
        self.slots[index(role)].unit.as_ref()
    }

    /// The configuration a unit powers on with.
    pub fn config(&self, role: Role) -> &UnitConfig {
        &self.slots[index(role)].config
    }

    /// Changes the configuration a unit powers on with next time.
    pub fn config_mut(&mut self, role: Role) -> &mut UnitConfig {
        &mut self.slots[index(role)].config
    }

    pub fn is_powered(&self, role: Role) -> bool {
        self.unit(role).is_some()
    }

    /// The state of `group` on a unit, if powered.
    pub fn state(&self, role: Role, group: Group) -> Option<GroupState> {
        self.unit(role).map(|u| u.group(group).state())
    }

    /// The units on which `group` is active.
    pub fn active_units(&self, group: Group) -> Vec<Role> {
        [Role::Primary, Role::Secondary]
            .into_iter()
            .filter(|r| self.state(*r, group).is_some_and(GroupState::is_active))
            .collect()
    }

    /// A unit's clock reading now.
    pub fn local_now(&self, role: Role) -> Instant {
        self.slots[index(role)].clock.local(self.now)
    }

    /// Every event recorded so far, in order.
    pub fn events(&self) -> &[Record] {
        &self.log
    }

    /// The events of one unit.
    pub fn events_of(&self, role: Role) -> impl Iterator<Item = &Event> + '_ {
        self.log.iter().filter(move |r| r.unit == role).map(|r| &r.event)
    }

    pub fn clear_events(&mut self) {
        self.log.clear();
    }

    /// Whether the failover link is cut, or drops some kind, in either direction.
    pub fn failover_link_impaired(&self) -> bool {
        self.cuts.iter().any(|(l, _)| *l == Link::Failover) || self.drops.iter().any(|(l, _, _)| *l == Link::Failover)
    }

    /// Whether frames of `kind` from `from` on `link` are dropped (cut or filtered).
    pub fn is_dropped(&self, link: Link, from: Role, kind: Kind) -> bool {
        self.cuts.contains(&(link, from)) || self.drops.contains(&(link, from, kind))
    }

    // ----- knobs -----------------------------------------------------------

    /// Frames sent by `from` on `link` are lost until [`Pair::heal`].
    pub fn cut(&mut self, link: Link, from: Role) {
        self.cuts.insert((link, from));
    }

    pub fn heal(&mut self, link: Link, from: Role) {
        self.cuts.remove(&(link, from));
    }

    /// Frames sent by `from` on `link` are lost with probability
    /// `per_mille / 1000` (seeded from the pair's seed); 0 stops the loss.
    pub fn set_loss(&mut self, link: Link, from: Role, per_mille: u32) {
        if per_mille == 0 {
            self.loss.remove(&(link, from));
        } else {
            self.loss.insert((link, from), per_mille.min(1000));
        }
    }

    pub fn cut_both(&mut self, link: Link) {
        self.cut(link, Role::Primary);
        self.cut(link, Role::Secondary);
    }

    pub fn heal_both(&mut self, link: Link) {
        self.heal(link, Role::Primary);
        self.heal(link, Role::Secondary);
    }

    /// Frames of `kind` sent by `from` on `link` are lost until [`Pair::pass_kind`].
    pub fn drop_kind(&mut self, link: Link, from: Role, kind: Kind) {
        self.drops.insert((link, from, kind));
    }

    pub fn pass_kind(&mut self, link: Link, from: Role, kind: Kind) {
        self.drops.remove(&(link, from, kind));
    }

    /// Removes every cut and drop filter.
    pub fn heal_all(&mut self) {
        self.cuts.clear();
        self.drops.clear();
    }

    /// Fixed one-way latency of every link.
    pub fn set_latency(&mut self, latency: Duration) {
        self.latency = latency;
    }

    /// Background traffic period on working data interfaces (`None`: none).
    pub fn set_background(&mut self, period: Option<Duration>) {
        self.background = period;
        self.next_background = self.now;
    }

    /// Bound on the steps of one `run_*` call.
    pub fn set_steps_max(&mut self, steps: u64) {
        self.steps_max = steps;
    }

    /// Powers a unit off: it is dropped, with everything in flight to it.
    pub fn power_off(&mut self, role: Role) {
        let slot = &mut self.slots[index(role)];
        if let Some(unit) = slot.unit.take() {
            slot.flash = unit.config_plane().flash().clone();
        }
    }

    /// The flash a unit boots with (its own while it runs).
    pub fn flash(&self, role: Role) -> &Flash {
        let slot = &self.slots[index(role)];
        slot.unit.as_ref().map_or(&slot.flash, |u| u.config_plane().flash())
    }

    /// ROMMON `ERASE` on a powered-off unit: startup configs, files and key are lost.
    pub fn erase_flash(&mut self, role: Role) {
        let slot = &mut self.slots[index(role)];
        assert!(slot.unit.is_none(), "erase the flash of a powered-off unit");
        slot.flash.erase();
    }

    /// Powers a unit on with a fresh boot nonce (no-op if it is on). Its clock
    /// keeps running across power cycles.
    pub fn power_on(&mut self, role: Role) {
        let i = index(role);
        if self.slots[i].unit.is_some() {
            return;
        }
        let slot = &mut self.slots[i];
        slot.boots += 1;
        let nonce = rng::first(self.seed ^ rng::first((i as u64) << 32 | slot.boots));
        let now = slot.clock.local(self.now);
        let unit = Unit::boot(slot.config.clone(), slot.flash.clone(), nonce, now)
            .unwrap_or_else(|e| panic!("{role} config: {e}"));
        slot.unit = Some(unit);
        let down: Vec<usize> = (0..slot.iface_up.len()).filter(|k| !slot.iface_up[*k]).collect();
        self.drain(i);
        for k in down {
            self.input(i, |u, now| u.handle_link_change(now, IfaceId(k as u16), false));
        }
    }

    /// Takes a data interface's physical link down or up on one unit.
    pub fn set_interface_link(&mut self, role: Role, iface: IfaceId, up: bool) {
        let i = index(role);
        self.slots[i].iface_up[iface.0 as usize] = up;
        self.input(i, |u, now| u.handle_link_change(now, iface, up));
    }

    /// Makes a unit's data port silent (no traffic passes either way, link
    /// stays up) or working again.
    pub fn set_silent(&mut self, role: Role, iface: IfaceId, silent: bool) {
        self.slots[index(role)].silent[iface.0 as usize] = silent;
    }

    /// Steps a unit's clock by `delta_ms` (negative: backwards).
    pub fn step_clock(&mut self, role: Role, delta_ms: i64) {
        let now = self.now;
        self.slots[index(role)].clock.step(now, delta_ms);
    }

    /// Gives a unit's clock a drift, in parts per million (clamped to ±[`DRIFT_PPM_MAX`]).
    pub fn set_drift_ppm(&mut self, role: Role, ppm: i64) {
        let now = self.now;
        self.slots[index(role)].clock.set_drift(now, ppm);
    }

    /// An operator command on a unit (refused if it is powered off).
    pub fn command(&mut self, role: Role, command: Command) -> Result<String, CommandError> {
        let i = index(role);
        let mut result = Err(CommandError::Refused(format!("{role} is powered off")));
        self.input(i, |u, now| result = u.handle_command(now, command));
        result
    }

    /// A configuration or file command typed on a unit in `space` (`"system"`
    /// or a context name); refused if the unit is powered off.
    pub fn cli(&mut self, role: Role, space: &str, line: &str) -> Result<String, CommandError> {
        let i = index(role);
        let space = if space == "system" { Space::System } else { Space::Context(space.to_owned()) };
        let mut result = Err(CommandError::Refused(format!("{role} is powered off")));
        self.input(i, |u, now| result = u.handle_cli(now, &space, line));
        result
    }

    /// Traffic through a context of a unit (see [`Unit::handle_traffic`]);
    /// refused if the unit is powered off.
    pub fn traffic(&mut self, role: Role, op: TrafficOp) -> Result<(), TrafficError> {
        let i = index(role);
        let mut result = Err(TrafficError::NotActive { context: format!("{} ({role} is powered off)", op.context()) });
        self.input(i, |u, now| result = u.handle_traffic(now, op));
        result
    }

    /// Hands raw bytes to a unit as if they arrived on `link`.
    pub fn inject(&mut self, role: Role, link: Link, bytes: &[u8]) {
        self.input(index(role), |u, now| u.handle_datagram(now, link, bytes));
    }

    // ----- running ---------------------------------------------------------

    /// Runs until true time `t`. Panics if the step bound is exceeded.
    pub fn run_until(&mut self, t: Duration) {
        if let Err(e) = self.try_run_until(t) {
            panic!("{e}");
        }
    }

    /// Runs for `d` of true time. Panics if the step bound is exceeded.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now() + d);
    }

    /// Runs until true time `t`, or fails after the step bound.
    pub fn try_run_until(&mut self, t: Duration) -> Result<(), StepBoundExceeded> {
        let limit = t.as_nanos().min(u64::MAX as u128) as u64;
        let mut steps = 0;
        while self.step_until(limit) {
            steps += 1;
            if steps > self.steps_max {
                return Err(StepBoundExceeded { steps: self.steps_max, at: self.now() });
            }
        }
        self.now = self.now.max(limit);
        Ok(())
    }

    /// Processes the next thing that happens at or before true time `limit`
    /// (a delivery, a timer, background traffic); false if there is none.
    pub fn step_until(&mut self, limit: u64) -> bool {
        let delivery = self.queue.keys().next().map(|(t, _)| *t);
        let mut timer: Option<(u64, usize)> = None;
        for i in 0..2 {
            if let Some(at) = self.slots[i].unit.as_ref().and_then(Unit::poll_timeout) {
                let t = self.slots[i].clock.true_at(self.now, at);
                if timer.is_none_or(|(best, _)| t < best) {
                    timer = Some((t, i));
                }
            }
        }
        let background = self.background.map(|_| self.next_background);
        let next = [delivery, timer.map(|(t, _)| t), background].into_iter().flatten().min();
        let Some(t) = next.filter(|t| *t <= limit) else { return false };
        self.now = self.now.max(t);
        if delivery == Some(t) {
            let Some((_, d)) = self.queue.pop_first() else { return false };
            self.deliver(d);
        } else if let Some((_, i)) = timer.filter(|(tt, _)| *tt == t) {
            self.input(i, |u, now| u.handle_timeout(now));
        } else {
            self.inject_background();
        }
        true
    }

    fn deliver(&mut self, d: Delivery) {
        if let Link::Data(iface) = d.link {
            let slot = &self.slots[d.to];
            if !slot.iface_up[iface.0 as usize] || slot.silent[iface.0 as usize] {
                return;
            }
        }
        self.input(d.to, |u, now| u.handle_datagram(now, d.link, &d.bytes));
    }

    fn inject_background(&mut self) {
        let period = self.background.unwrap_or(BACKGROUND_PERIOD);
        self.next_background = self.now + period.as_nanos() as u64;
        for i in 0..2 {
            if self.slots[i].unit.is_none() {
                continue;
            }
            for k in 0..self.slots[i].iface_up.len() {
                if self.slots[i].iface_up[k] && !self.slots[i].silent[k] {
                    let link = Link::Data(IfaceId(k as u16));
                    self.input(i, |u, now| u.handle_datagram(now, link, &BACKGROUND_DATAGRAM));
                }
            }
        }
    }

    /// Feeds one input to unit `i` (if powered) at its clock's reading, then drains it.
    fn input(&mut self, i: usize, f: impl FnOnce(&mut Unit, Instant)) {
        let now = self.slots[i].clock.local(self.now);
        let Some(unit) = self.slots[i].unit.as_mut() else { return };
        f(unit, now);
        // Debug builds of the unit check themselves after every input.
        if !cfg!(debug_assertions) {
            unit.invariants();
        }
        self.drain(i);
    }

    fn drain(&mut self, i: usize) {
        let from = role_of(i);
        let mut sent = Vec::new();
        let mut events = Vec::new();
        if let Some(unit) = self.slots[i].unit.as_mut() {
            unit::drain(
                unit,
                |o| match o {
                    unit::Output::Transmit(t) => sent.push(t),
                    unit::Output::Event(e) => events.push(e),
                },
                |_| (),
            );
        }
        let at = self.now();
        self.log.extend(events.into_iter().map(|event| Record { at, unit: from, event }));
        for t in sent {
            let kind = wire::decode_header(&t.bytes).map(|h| h.kind).ok();
            if kind.is_some_and(|k| self.is_dropped(t.link, from, k)) || self.cuts.contains(&(t.link, from)) {
                continue;
            }
            if let Some(&per_mille) = self.loss.get(&(t.link, from)) {
                if self.loss_rng.next_u64() % 1000 < u64::from(per_mille) {
                    continue;
                }
            }
            if let Link::Data(iface) = t.link {
                let slot = &self.slots[i];
                if !slot.iface_up[iface.0 as usize] || slot.silent[iface.0 as usize] {
                    continue;
                }
            }
            self.seq += 1;
            let at = self.now + self.latency.as_nanos() as u64;
            self.queue.insert((at, self.seq), Delivery { to: 1 - i, link: t.link, bytes: t.bytes });
        }
    }
}
