//! What a scenario step, a frame, a timer and a traffic operation do to the
//! world, written once for every engine over [`Engine`]: the few things only
//! an engine can do (power a unit, schedule its reboot, reach the unit to run
//! work on it). Both engines call [`apply`] for every step and the [`Core`]
//! methods below for every frame, timer and traffic operation.

use super::{Core, NETWORK_TRAFFIC, RecordLevel, UnitAction};
use crate::schedule::{Expect, Step, UnitName};
use crate::workload::TrafficAction;
use fover_protocol::unit::Link;
use fover_protocol::{Instant, Unit};
use fover_traces::Event as TEvent;

/// Work run on a powered unit: the world, the true time (ns), the unit and its local time.
pub type UnitJob = Box<dyn FnOnce(&mut Core, u64, &mut Unit, Instant) + Send>;

/// What an engine provides to the world.
pub trait Engine {
    /// The world.
    fn core(&mut self) -> &mut Core;
    /// The true time now, ns.
    fn now(&self) -> u64;
    /// Whether a unit is powered.
    fn powered(&self, unit: UnitName) -> bool;
    /// Powers an unpowered unit on: it boots from its flash (now, or when its
    /// node starts) and the world records it ([`Core::boot_unit`], [`Core::on_boot`]).
    fn power_on(&mut self, unit: UnitName) -> Result<(), String>;
    /// Powers a powered unit off (the world records it after).
    fn power_off(&mut self, unit: UnitName);
    /// Calls [`boot`] for the unit after `ms`, unless it was powered on or off meanwhile.
    fn reboot_after(&mut self, unit: UnitName, ms: u64);
    /// The unit's clock changed: its timer is re-armed.
    fn clock_changed(&mut self, unit: UnitName);
    /// Runs work on a powered unit as its input, then drains it (the jobs
    /// reach the unit together: one input on the madsim engine, one each on
    /// the fast engine).
    fn input(&mut self, unit: UnitName, jobs: Vec<UnitJob>);
    /// Runs work that only reads a powered unit (no input: the fast engine
    /// does not drain after it; the madsim driver drains after any control).
    fn look(&mut self, unit: UnitName, job: UnitJob);
}

/// Applies a scenario step: fabric and clock steps in the world, the rest through the engine.
pub fn apply(e: &mut impl Engine, step: &Step) -> Result<(), String> {
    let t = e.now();
    let Some(action) = e.core().apply_step(t, step)? else { return Ok(()) };
    match action {
        UnitAction::Boot(u) => boot(e, u)?,
        UnitAction::PowerOff(u) => power_off(e, u, "power-off"),
        UnitAction::Crash { unit, reboot_after_ms } => {
            power_off(e, unit, "crash");
            if let Some(ms) = reboot_after_ms {
                e.reboot_after(unit, ms);
            }
        }
        UnitAction::EraseFlash(u) => e.core().erase_flash(t, u),
        UnitAction::LinkChange { unit, iface, up } => {
            if e.powered(unit) {
                e.input(unit, vec![Box::new(move |_, _, x, now| x.handle_link_change(now, iface, up))]);
            }
        }
        UnitAction::ClockChanged(u) => e.clock_changed(u),
        UnitAction::Command { unit, context, line } => command(e, unit, context, line),
        UnitAction::Show { unit, command } => show(e, unit, command),
        UnitAction::Expect(x) => expect(e, x),
        UnitAction::Connect(actions) => traffic(e, actions),
    }
    Ok(())
}

/// Powers a unit on, unless it already is.
pub fn boot(e: &mut impl Engine, unit: UnitName) -> Result<(), String> {
    if e.powered(unit) {
        let t = e.now();
        let text = "boot ignored: already powered".into();
        e.core().record(t, TEvent::Note { unit: Some(unit.to_string()), text });
        return Ok(());
    }
    e.power_on(unit)
}

/// Powers a unit off, if it is on.
fn power_off(e: &mut impl Engine, unit: UnitName, why: &str) {
    if e.powered(unit) {
        e.power_off(unit);
        let t = e.now();
        e.core().on_down(t, unit, why);
    }
}

/// An operator command: its answer is recorded, and a failover command observed.
fn command(e: &mut impl Engine, unit: UnitName, context: String, line: String) {
    if !e.powered(unit) {
        let t = e.now();
        e.core().on_command(t, unit, &context, &line, Err("the unit is powered off".into()));
        return;
    }
    e.input(
        unit,
        vec![Box::new(move |core, t, x, now| {
            let result = crate::engine::run_command(x, now, &context, &line);
            core.on_command(t, unit, &context, &line, result);
        })],
    );
}

/// A `show` step: its output is recorded and kept.
fn show(e: &mut impl Engine, unit: UnitName, command: String) {
    if !e.powered(unit) {
        let t = e.now();
        e.core().on_show(t, unit, command, "(the unit is powered off)".to_owned());
        return;
    }
    e.look(
        unit,
        Box::new(move |core, t, x, now| {
            let output = crate::engine::run_show(x, now, &command);
            core.on_show(t, unit, command, output);
        }),
    );
}

/// An `expect` step, with the connections of the unit it needs, if any.
fn expect(e: &mut impl Engine, x: Expect) {
    let carrier = e.core().expect_carrier(&x);
    match carrier {
        Some((unit, context)) if e.powered(unit) => e.look(
            unit,
            Box::new(move |core, t, u, _now| {
                let ids = crate::engine::connection_ids(u, &context);
                core.check_expect_with(t, &x, Some((unit, ids)));
            }),
        ),
        _ => {
            let t = e.now();
            e.core().check_expect_with(t, &x, None);
        }
    }
}

/// Traffic operations, each on the unit it names (if powered).
pub fn traffic(e: &mut impl Engine, actions: Vec<TrafficAction>) {
    for unit in UnitName::BOTH {
        let jobs: Vec<UnitJob> = actions
            .iter()
            .filter(|a| a.unit == unit)
            .map(|a| {
                let a = a.clone();
                Box::new(move |core: &mut Core, t, x: &mut Unit, now| core.traffic_op(t, x, now, a)) as UnitJob
            })
            .collect();
        if !jobs.is_empty() && e.powered(unit) {
            e.input(unit, jobs);
        }
    }
}

/// The workload's next background operation, when [`Core::traffic_next_at`] comes.
pub fn workload(e: &mut impl Engine) {
    let t = e.now();
    if let Some(a) = e.core().traffic_tick(t) {
        traffic(e, vec![a]);
    }
}

impl Core {
    /// A frame reaches a powered unit: recorded, handled, and checked to
    /// have changed nothing if the unit must reject it ([`Core::must_reject`]).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn deliver(
        &mut self,
        t_ns: u64,
        to: UnitName,
        unit: &mut Unit,
        now: Instant,
        link: Link,
        bytes: &[u8],
        corrupted: bool,
        duplicate: bool,
    ) {
        self.on_deliver(t_ns, to, link, bytes, corrupted, duplicate);
        if self.must_reject(link, corrupted, bytes) {
            let before = unit.state_digest();
            unit.handle_datagram(now, link, bytes);
            let after = unit.state_digest();
            self.check_rejected(t_ns, to, bytes, before, after);
        } else {
            unit.handle_datagram(now, link, bytes);
        }
    }

    /// Other hosts' traffic reaches a powered unit on a data interface.
    #[inline]
    pub fn network_traffic(unit: &mut Unit, now: Instant, link: Link) {
        unit.handle_datagram(now, link, NETWORK_TRAFFIC);
    }

    /// A unit's timer fires.
    #[inline]
    pub fn timer(&mut self, t_ns: u64, name: UnitName, unit: &mut Unit, now: Instant) {
        if self.level == RecordLevel::Full {
            self.record(t_ns, TEvent::Timer { unit: name.to_string(), local_ns: now.0 });
        }
        unit.handle_timeout(now);
    }

    /// One traffic operation on the unit it names, judged before and after.
    pub fn traffic_op(&mut self, t_ns: u64, unit: &mut Unit, now: Instant, action: TrafficAction) {
        self.before_traffic(t_ns, action.unit, unit);
        let result = unit.handle_traffic(now, action.op.clone());
        self.traffic_done(t_ns, action, unit.node().boot_nonce(), result);
    }

    /// Records a `show` step's output.
    fn on_show(&mut self, t_ns: u64, unit: UnitName, command: String, output: String) {
        self.record(t_ns, TEvent::Show { unit: unit.to_string(), command: command.clone(), output: output.clone() });
        self.shows.push((t_ns, unit, command, output));
    }
}
