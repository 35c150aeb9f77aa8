//! The madsim engine: two madsim nodes run the real async driver
//! ([`fover_protocol::driver`]) over simulated UDP sockets; a third node plays
//! the other hosts on the data segments. Every frame still crosses the shared
//! [`Core`]'s fabric (through the driver's hooks), every unit reads time from
//! its [`ClockModel`](crate::clock::ClockModel) over madsim time, and the same
//! checkers judge the run. Built only with `--cfg madsim`.

use super::Outcome;
use crate::fabric::{Port, Route};
use crate::scenario::Scenario;
use crate::schedule::UnitName;
use crate::workload::TrafficAction;
use crate::world::{Core, NETWORK_TRAFFIC, RecordLevel, UnitAction};
use fover_protocol::driver::{self, Addressing, Clock, Control, Hooks, Input};
use fover_protocol::unit::{Event, Transmit};
use fover_protocol::{Instant, Unit};
use fover_traces::Event as TEvent;
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use madsim::time::{Instant as SimInstant, sleep, sleep_until};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::mpsc;

const IPS: [IpAddr; 2] = [IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2))];
const NETWORK_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
const BASE_PORT: u16 = 10_000;

/// madsim's simulated time: under `--cfg madsim` this is not the wall clock.
#[allow(clippy::disallowed_methods)]
fn sim_now() -> SimInstant {
    SimInstant::now()
}

/// Everything the nodes and the supervisor share. madsim runs one thread, so
/// the lock is never contended; it is never held across an `.await`.
struct Shared {
    core: Core,
    powered: [bool; 2],
    /// Bumped at every boot and power loss.
    epoch: [u64; 2],
    controls: [Option<mpsc::UnboundedSender<Control>>; 2],
}

#[derive(Clone)]
struct World {
    shared: Arc<Mutex<Shared>>,
    origin: SimInstant,
}

impl World {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn t(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }
}

struct SimClock {
    world: World,
    unit: UnitName,
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        let t = self.world.t();
        self.world.lock().core.local(self.unit, t)
    }
    fn until(&self, deadline: Instant) -> Duration {
        let t = self.world.t();
        let at = self.world.lock().core.clocks[self.unit.index()].true_at(t, deadline);
        Duration::from_nanos(at - t)
    }
}

struct SimHooks {
    world: World,
    unit: UnitName,
}

impl Hooks for SimHooks {
    fn input(&mut self, unit: &mut Unit, now: Instant, input: Input<'_>) {
        let t = self.world.t();
        match input {
            Input::Datagram { link, bytes } if bytes != NETWORK_TRAFFIC => {
                let must_reject = {
                    let mut s = self.world.lock();
                    let corrupted = match s.core.corrupted_in_flight.get_mut(bytes) {
                        Some(n) => {
                            *n -= 1;
                            if *n == 0 {
                                s.core.corrupted_in_flight.remove(bytes);
                            }
                            true
                        }
                        None => false,
                    };
                    s.core.on_deliver(t, self.unit, link, bytes, corrupted, false);
                    s.core.must_reject(link, corrupted, bytes)
                };
                if must_reject {
                    let before = unit.state_digest();
                    unit.handle_datagram(now, link, bytes);
                    let after = unit.state_digest();
                    self.world.lock().core.check_rejected(t, self.unit, bytes, before, after);
                } else {
                    unit.handle_datagram(now, link, bytes);
                }
            }
            Input::Timeout => {
                {
                    let mut s = self.world.lock();
                    if s.core.level == RecordLevel::Full {
                        s.core.record(t, TEvent::Timer { unit: self.unit.to_string(), local_ns: now.0 });
                    }
                }
                unit.handle_timeout(now);
            }
            other => driver::apply(unit, now, other),
        }
    }

    fn route(&mut self, transmit: Transmit) -> Vec<(Duration, Transmit)> {
        let t = self.world.t();
        let mut s = self.world.lock();
        match s.core.on_transmit(t, self.unit, transmit.link, transmit.bytes) {
            Route::Dropped(_) => Vec::new(),
            Route::Deliver(copies) => copies
                .into_iter()
                .map(|c| {
                    if c.corrupted {
                        *s.core.corrupted_in_flight.entry(c.bytes.clone()).or_default() += 1;
                    }
                    (Duration::from_nanos(c.delay_ns), Transmit { link: transmit.link, bytes: c.bytes })
                })
                .collect(),
        }
    }

    fn event(&mut self, event: Event) {
        let t = self.world.t();
        self.world.lock().core.on_unit_event(t, self.unit, event);
    }

    fn after_input(&mut self, unit: &Unit) {
        let t = self.world.t();
        self.world.lock().core.after_input(t, self.unit, unit);
    }
}

fn addressing(unit: UnitName) -> Addressing {
    Addressing {
        local_ip: IPS[unit.index()],
        peer_ip: IPS[unit.other().index()],
        local_base_port: BASE_PORT,
        peer_base_port: BASE_PORT,
    }
}

/// The body of a unit node: boot if powered, then run the driver.
async fn unit_node(world: World, unit: UnitName) {
    let t = world.t();
    let booted = {
        let mut s = world.lock();
        if !s.powered[unit.index()] {
            return;
        }
        match s.core.boot_unit(t, unit) {
            Ok((u, nonce)) => {
                let (tx, rx) = mpsc::unbounded_channel();
                s.controls[unit.index()] = Some(tx);
                s.core.on_boot(t, unit, nonce);
                Some((u, rx))
            }
            Err(e) => {
                s.core.record(t, TEvent::Note { unit: Some(unit.to_string()), text: format!("cannot boot: {e}") });
                None
            }
        }
    };
    let Some((u, rx)) = booted else { return };
    let clock: Arc<dyn Clock> = Arc::new(SimClock { world: world.clone(), unit });
    let hooks = SimHooks { world: world.clone(), unit };
    if let Err(e) = driver::run(u, addressing(unit), clock, hooks, rx).await {
        let t = world.t();
        world
            .lock()
            .core
            .record(t, TEvent::Note { unit: Some(unit.to_string()), text: format!("driver stopped: {e}") });
    }
}

/// The other hosts on the data segments: traffic on every working port.
async fn network_node(world: World, interval: Duration) {
    let (interfaces, units) = {
        let s = world.lock();
        (s.core.interfaces.len(), UnitName::BOTH)
    };
    let Ok(sock) = tokio::net::UdpSocket::bind(SocketAddr::new(NETWORK_IP, BASE_PORT)).await else { return };
    loop {
        let jitter = madsim::rand::random::<u64>() % (interval.as_nanos() as u64 / 2 + 1);
        sleep(interval / 2 + Duration::from_nanos(jitter)).await;
        for unit in units {
            for i in 0..interfaces {
                let up = {
                    let s = world.lock();
                    s.powered[unit.index()] && s.core.fabric.port(unit, i) == Port::Up
                };
                if up {
                    let to = SocketAddr::new(IPS[unit.index()], BASE_PORT + 100 + i as u16);
                    let _ = sock.send_to(to, NETWORK_TRAFFIC).await;
                }
            }
        }
    }
}

/// Traffic operations, each run on the unit it names (in its own task).
fn send_traffic(world: &World, actions: Vec<TrafficAction>) {
    for unit in UnitName::BOTH {
        let mine: Vec<TrafficAction> = actions.iter().filter(|a| a.unit == unit).cloned().collect();
        if mine.is_empty() || !world.lock().powered[unit.index()] {
            continue;
        }
        let w = world.clone();
        send_control(
            world,
            unit,
            Control::With(Box::new(move |x, now| {
                for a in mine {
                    let t = w.t();
                    w.lock().core.before_traffic(t, unit, x);
                    let result = x.handle_traffic(now, a.op.clone());
                    w.lock().core.traffic_done(t, a, x.boot_nonce(), result);
                }
            })),
        );
    }
}

/// The clients: the traffic workload's operations when they are due.
async fn traffic_node(world: World) {
    loop {
        let Some(at) = world.lock().core.traffic.next_at() else { return };
        sleep_until(world.origin + Duration::from_nanos(at)).await;
        let t = world.t();
        let action = world.lock().core.traffic_tick(t);
        if let Some(a) = action {
            send_traffic(&world, vec![a]);
        }
    }
}

fn send_control(world: &World, unit: UnitName, control: Control) {
    if let Some(tx) = &world.lock().controls[unit.index()] {
        let _ = tx.send(control);
    }
}

fn power_down(world: &World, handle: &Handle, nodes: &[NodeId; 2], unit: UnitName, why: &str) {
    let t = world.t();
    let mut s = world.lock();
    if s.powered[unit.index()] {
        s.powered[unit.index()] = false;
        s.epoch[unit.index()] += 1;
        s.controls[unit.index()] = None;
        handle.kill(nodes[unit.index()]);
        s.core.on_down(t, unit, why);
    }
}

fn power_up(world: &World, handle: &Handle, nodes: &[NodeId; 2], unit: UnitName) {
    let t = world.t();
    let mut s = world.lock();
    if s.powered[unit.index()] {
        s.core.record(t, TEvent::Note { unit: Some(unit.to_string()), text: "boot ignored: already powered".into() });
        return;
    }
    s.powered[unit.index()] = true;
    s.epoch[unit.index()] += 1;
    drop(s);
    handle.restart(nodes[unit.index()]);
}

/// Kills the nodes and aborts the tasks of a run when the supervisor ends:
/// madsim never frees a task still pending when its runtime is dropped, and
/// each seed leaked about 50 KB (a sweep of 100,000 madsim seeds grew to 5 GB).
struct Teardown {
    handle: Handle,
    nodes: Vec<NodeId>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for node in &self.nodes {
            self.handle.kill(*node);
        }
    }
}

async fn supervise(scenario: Scenario, level: RecordLevel, probe: &mut Weak<Mutex<Shared>>) -> Result<Outcome, String> {
    let core = Core::new(scenario.clone(), level, (0, 0))?;
    let world = World {
        shared: Arc::new(Mutex::new(Shared { core, powered: [false; 2], epoch: [0; 2], controls: [None, None] })),
        origin: sim_now(),
    };
    *probe = Arc::downgrade(&world.shared);
    let handle = Handle::current();
    let mut teardown = Teardown { handle: handle.clone(), nodes: Vec::new(), tasks: Vec::new() };
    let mut nodes = Vec::new();
    for unit in UnitName::BOTH {
        let w = world.clone();
        let node = handle
            .create_node()
            .name(unit.as_str())
            .ip(IPS[unit.index()])
            .init(move || unit_node(w.clone(), unit))
            .build();
        nodes.push(node.id());
    }
    let nodes: [NodeId; 2] = [nodes[0], nodes[1]];
    teardown.nodes.extend(nodes);
    let interval = Duration::from_millis((scenario.pair.interface_polltime_ms / 2).max(1));
    let w = world.clone();
    let network =
        handle.create_node().name("network").ip(NETWORK_IP).init(move || network_node(w.clone(), interval)).build();
    teardown.nodes.push(network.id());

    let w = world.clone();
    teardown.tasks.push(tokio::spawn(traffic_node(w)));

    let end = world.origin + Duration::from_millis(scenario.duration_ms);
    for step in scenario.sorted_steps() {
        let at = world.origin + Duration::from_millis(step.at_ms());
        // Wake regularly so a violation ends the run early.
        while sim_now() < at {
            if world.lock().core.checkers.violation.is_some() {
                break;
            }
            sleep_until(at.min(sim_now() + Duration::from_millis(100))).await;
        }
        if world.lock().core.checkers.violation.is_some() {
            break;
        }
        let t = world.t();
        let action = world.lock().core.apply_step(t, &step)?;
        let Some(action) = action else { continue };
        match action {
            UnitAction::Boot(u) => power_up(&world, &handle, &nodes, u),
            UnitAction::PowerOff(u) => power_down(&world, &handle, &nodes, u, "power-off"),
            UnitAction::Crash { unit, reboot_after_ms } => {
                power_down(&world, &handle, &nodes, unit, "crash");
                if let Some(ms) = reboot_after_ms {
                    let (w, h) = (world.clone(), handle.clone());
                    let epoch = world.lock().epoch[unit.index()];
                    teardown.tasks.push(tokio::spawn(async move {
                        sleep(Duration::from_millis(ms)).await;
                        if w.lock().epoch[unit.index()] == epoch {
                            power_up(&w, &h, &nodes, unit);
                        }
                    }));
                }
            }
            UnitAction::EraseFlash(u) => world.lock().core.erase_flash(t, u),
            UnitAction::LinkChange { unit, iface, up } => send_control(&world, unit, Control::LinkChange { iface, up }),
            UnitAction::ClockChanged(u) => send_control(&world, u, Control::ClockChanged),
            UnitAction::Command { unit, context, line } => {
                if world.lock().powered[unit.index()] {
                    let w = world.clone();
                    send_control(
                        &world,
                        unit,
                        Control::With(Box::new(move |x, now| {
                            let result = super::run_command(x, now, &context, &line);
                            let t = w.t();
                            w.lock().core.on_command(t, unit, &context, &line, result);
                        })),
                    );
                } else {
                    world.lock().core.on_command(t, unit, &context, &line, Err("the unit is powered off".into()));
                }
            }
            UnitAction::Show { unit, command } => {
                let w = world.clone();
                if world.lock().powered[unit.index()] {
                    send_control(
                        &world,
                        unit,
                        Control::With(Box::new(move |x, now| {
                            let output = super::run_show(x, now, &command);
                            let t = w.t();
                            let mut s = w.lock();
                            s.core.record(
                                t,
                                TEvent::Show {
                                    unit: unit.to_string(),
                                    command: command.clone(),
                                    output: output.clone(),
                                },
                            );
                            s.core.shows.push((t, unit, command, output));
                        })),
                    );
                }
            }
            UnitAction::Expect(e) => {
                let carrier = world.lock().core.expect_carrier(&e);
                match carrier {
                    Some((unit, context)) if world.lock().powered[unit.index()] => {
                        let w = world.clone();
                        send_control(
                            &world,
                            unit,
                            Control::With(Box::new(move |x, _now| {
                                let ids = super::connection_ids(x, &context);
                                let t = w.t();
                                w.lock().core.check_expect_with(t, &e, Some((unit, ids)));
                            })),
                        );
                    }
                    _ => world.lock().core.check_expect_with(t, &e, None),
                }
            }
            UnitAction::Connect(actions) => send_traffic(&world, actions),
        }
    }
    while sim_now() < end && world.lock().core.checkers.violation.is_none() {
        sleep_until(end.min(sim_now() + Duration::from_millis(100))).await;
    }
    let t = world.t();
    for unit in UnitName::BOTH {
        send_control(&world, unit, Control::Shutdown);
    }
    let mut s = world.lock();
    let view = s.core.view(t);
    let clean = s.core.fabric.is_clean(t);
    s.core.checkers.finish(t, &view, clean);
    let core = std::mem::replace(&mut s.core, Core::new(scenario, RecordLevel::NoFrames, (0, 0))?);
    Ok(super::finish(core, t))
}

/// Plays a scenario on the madsim world (one runtime, seeded with the scenario's seed).
pub fn run(scenario: &Scenario, level: RecordLevel) -> Result<Outcome, String> {
    run_probed(scenario, level).0
}

/// [`run`], and whether anything of the run's world outlived its runtime
/// (a task left pending keeps it, and madsim never frees such a task).
pub fn run_leaves_world(scenario: &Scenario, level: RecordLevel) -> (Result<Outcome, String>, bool) {
    let (outcome, world) = run_probed(scenario, level);
    (outcome, world.upgrade().is_some())
}

fn run_probed(scenario: &Scenario, level: RecordLevel) -> (Result<Outcome, String>, Weak<Mutex<Shared>>) {
    let mut config = madsim::Config::default();
    // Latency, loss and the rest come from the fabric; the simulated network adds its own small latency.
    config.net.packet_loss_rate = 0.0;
    let mut rt = Runtime::with_seed_and_config(scenario.seed, config);
    rt.set_time_limit(Duration::from_millis(scenario.duration_ms + 60_000));
    let mut probe = Weak::new();
    let outcome = rt.block_on(supervise(scenario.clone(), level, &mut probe));
    drop(rt);
    (outcome, probe)
}
