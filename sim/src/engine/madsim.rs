//! The madsim engine: two madsim nodes run the real async driver
//! ([`fover_protocol::driver`]) over simulated UDP sockets; a third node plays
//! the other hosts on the data segments. Every frame still crosses the shared
//! [`Core`]'s fabric (through the driver's hooks), every unit reads time from
//! its [`ClockModel`](fover_protocol::clock::ClockModel) over madsim time, and the same
//! checkers judge the run. Built only with `--cfg madsim`.

use super::Outcome;
use crate::fabric::{Port, Route};
use crate::scenario::Scenario;
use crate::schedule::UnitName;
use crate::world::{Core, NETWORK_TRAFFIC, RecordLevel, UnitJob};
use fover_protocol::driver::{self, Addressing, Clock, Control, Hooks, Input};
use fover_protocol::unit::{Event, Transmit};
use fover_protocol::{Instant, Unit};
use fover_traces::Event as TEvent;
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use madsim::time::{Instant as SimInstant, sleep, sleep_until};
use std::collections::BTreeMap;
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
    /// Corrupted copies in flight (the receiver cannot be told directly).
    corrupted_in_flight: BTreeMap<Vec<u8>, u32>,
    /// The units' nodes, once built.
    nodes: Option<[NodeId; 2]>,
    /// Tasks that reboot a crashed unit (aborted when the run ends).
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

#[derive(Clone)]
struct World {
    shared: Arc<Mutex<Shared>>,
    origin: SimInstant,
}

/// The world as the supervisor, a reboot or the clients see it at one
/// moment: the lock held and the time fixed.
struct Now<'a> {
    s: &'a mut Shared,
    world: &'a World,
    t: u64,
}

impl crate::world::Engine for Now<'_> {
    fn core(&mut self) -> &mut Core {
        &mut self.s.core
    }

    fn now(&self) -> u64 {
        self.t
    }

    fn powered(&self, unit: UnitName) -> bool {
        self.s.powered[unit.index()]
    }

    /// The unit's node restarts: it boots when it runs ([`unit_node`]).
    fn power_on(&mut self, unit: UnitName) -> Result<(), String> {
        self.s.powered[unit.index()] = true;
        self.s.epoch[unit.index()] += 1;
        if let Some(nodes) = self.s.nodes {
            Handle::current().restart(nodes[unit.index()]);
        }
        Ok(())
    }

    fn power_off(&mut self, unit: UnitName) {
        self.s.powered[unit.index()] = false;
        self.s.epoch[unit.index()] += 1;
        self.s.controls[unit.index()] = None;
        if let Some(nodes) = self.s.nodes {
            Handle::current().kill(nodes[unit.index()]);
        }
    }

    fn reboot_after(&mut self, unit: UnitName, ms: u64) {
        let w = self.world.clone();
        let epoch = self.s.epoch[unit.index()];
        self.s.tasks.push(tokio::spawn(async move {
            sleep(Duration::from_millis(ms)).await;
            let t = w.t();
            let mut s = w.lock();
            if s.epoch[unit.index()] == epoch {
                // Powering on cannot fail here: the node boots when it runs.
                let _ = crate::world::boot(&mut Now { s: &mut s, world: &w, t }, unit);
            }
        }));
    }

    fn clock_changed(&mut self, unit: UnitName) {
        send_control(self.s, unit, Control::ClockChanged);
    }

    fn input(&mut self, unit: UnitName, jobs: Vec<UnitJob>) {
        let w = self.world.clone();
        let control = Control::With(Box::new(move |x, now| {
            for job in jobs {
                let t = w.t();
                job(&mut w.lock().core, t, x, now);
            }
        }));
        send_control(self.s, unit, control);
    }

    fn look(&mut self, unit: UnitName, job: UnitJob) {
        self.input(unit, vec![job]);
    }
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
        let at = self.world.lock().core.true_at(self.unit, t, deadline);
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
                let mut s = self.world.lock();
                let corrupted = match s.corrupted_in_flight.get_mut(bytes) {
                    Some(n) => {
                        *n -= 1;
                        if *n == 0 {
                            s.corrupted_in_flight.remove(bytes);
                        }
                        true
                    }
                    None => false,
                };
                s.core.deliver(t, self.unit, unit, now, link, bytes, corrupted, false);
            }
            Input::Timeout => self.world.lock().core.timer(t, self.unit, unit, now),
            other => driver::apply(unit, now, other),
        }
    }

    fn route(&mut self, transmit: Transmit) -> Vec<(Duration, Transmit)> {
        let t = self.world.t();
        let mut s = self.world.lock();
        let s = &mut *s;
        match s.core.on_transmit(t, self.unit, transmit.link, transmit.bytes) {
            Route::Dropped(_) => Vec::new(),
            Route::Deliver(copies) => copies
                .into_iter()
                .map(|c| {
                    if c.corrupted {
                        *s.corrupted_in_flight.entry(c.bytes.clone()).or_default() += 1;
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
        (s.core.interface_count(), UnitName::BOTH)
    };
    let Ok(sock) = tokio::net::UdpSocket::bind(SocketAddr::new(NETWORK_IP, BASE_PORT)).await else { return };
    loop {
        let jitter = madsim::rand::random::<u64>() % (interval.as_nanos() as u64 / 2 + 1);
        sleep(interval / 2 + Duration::from_nanos(jitter)).await;
        for unit in units {
            for i in 0..interfaces {
                let up = {
                    let s = world.lock();
                    s.powered[unit.index()] && s.core.port(unit, i) == Port::Up
                };
                if up {
                    let to = SocketAddr::new(IPS[unit.index()], BASE_PORT + 100 + i as u16);
                    let _ = sock.send_to(to, NETWORK_TRAFFIC).await;
                }
            }
        }
    }
}

/// The clients: the traffic workload's operations when they are due.
async fn traffic_node(world: World) {
    loop {
        let Some(at) = world.lock().core.traffic_next_at() else { return };
        sleep_until(world.origin + Duration::from_nanos(at)).await;
        let t = world.t();
        crate::world::workload(&mut Now { s: &mut world.lock(), world: &world, t });
    }
}

fn send_control(s: &Shared, unit: UnitName, control: Control) {
    if let Some(tx) = &s.controls[unit.index()] {
        let _ = tx.send(control);
    }
}

/// Kills the nodes and aborts the tasks of a run when the supervisor ends:
/// madsim never frees a task still pending when its runtime is dropped, and
/// each seed leaked about 50 KB (a sweep of 100,000 madsim seeds grew to 5 GB).
struct Teardown {
    world: World,
    /// Not in [`World`]: the runtime's nodes hold the world (their init
    /// closures), so a handle in it would keep the runtime alive in a cycle.
    handle: Handle,
    nodes: Vec<NodeId>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        let (reboots, controls) = {
            let mut s = self.world.lock();
            (std::mem::take(&mut s.tasks), std::mem::take(&mut s.controls))
        };
        for task in self.tasks.iter().chain(&reboots) {
            task.abort();
        }
        for node in &self.nodes {
            self.handle.kill(*node);
        }
        // A control still queued for a unit holds the world (its work is a
        // closure over it) while the world holds the queue's sender: drop the
        // senders so the queues and what they hold are freed.
        drop(controls);
    }
}

async fn supervise(scenario: Scenario, level: RecordLevel, probe: &mut Weak<Mutex<Shared>>) -> Result<Outcome, String> {
    let core = Core::new(scenario.clone(), level, (0, 0))?;
    let shared = Shared {
        core,
        powered: [false; 2],
        epoch: [0; 2],
        controls: [None, None],
        corrupted_in_flight: BTreeMap::new(),
        nodes: None,
        tasks: Vec::new(),
    };
    let handle = Handle::current();
    let world = World { shared: Arc::new(Mutex::new(shared)), origin: sim_now() };
    *probe = Arc::downgrade(&world.shared);
    let mut teardown = Teardown { world: world.clone(), handle: handle.clone(), nodes: Vec::new(), tasks: Vec::new() };
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
    world.lock().nodes = Some(nodes);
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
            if world.lock().core.violated() {
                break;
            }
            sleep_until(at.min(sim_now() + Duration::from_millis(100))).await;
        }
        if world.lock().core.violated() {
            break;
        }
        let t = world.t();
        crate::world::apply(&mut Now { s: &mut world.lock(), world: &world, t }, &step)?;
    }
    while sim_now() < end && !world.lock().core.violated() {
        sleep_until(end.min(sim_now() + Duration::from_millis(100))).await;
    }
    let t = world.t();
    let mut s = world.lock();
    for unit in UnitName::BOTH {
        send_control(&s, unit, Control::Shutdown);
    }
    Ok(s.core.finish(t))
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
