//! The runtime-free part of a simulated world: the run as data, the fabric,
//! the per-unit clocks, the recorder and the checkers. Both engines (the fast
//! event queue and the madsim world) own a [`Core`] and call it for every
//! step ([`apply`], over the [`Engine`] each implements), frame, timer and
//! unit output; only the wiring of units differs.

mod expect;
mod step;

pub use step::{Engine, UnitJob, apply, boot, traffic, workload};

use crate::checker::{Checkers, Obs, UnitView, Verdict, View};
use crate::engine::Outcome;
use crate::fabric::{self, Fabric, LinkIdx, MS, Port, Route};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::schedule::{Expect, Step, UnitName};
use crate::workload::{Traffic, TrafficAction};
use fover_protocol::clock::ClockModel;
use fover_protocol::config::flash::Flash;
use fover_protocol::config::running::RunningConfig;
use fover_protocol::types::Group;
use fover_protocol::unit::{Event, FLASH_BYTES_DEFAULT, IfaceId, Link, Unit, default_running_config};
use fover_protocol::wire::{self};
use fover_protocol::{Instant, UnitConfig};
use fover_traces::{Event as TEvent, Record};
use std::collections::BTreeMap;

/// Bytes that stand for other hosts' traffic on a data interface (no fover magic).
pub const NETWORK_TRAFFIC: &[u8] = b"\x00\x00network-traffic";

/// Where the units' clocks start: about eleven days.
pub const CLOCK_ORIGIN_NS: u64 = 1_000_000 * 1_000_000_000;

/// How much a run records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordLevel {
    /// Everything, frames included (traces, replay).
    Full,
    /// Everything but frames sent, delivered and dropped (sweeps keep memory low).
    NoFrames,
    /// Nothing recorded and nothing checked: the state machines alone (the benchmark's ceiling).
    Off,
}

/// What a step asks of the units, applied through the engine ([`step::apply`]).
#[derive(Clone, Debug, PartialEq)]
enum UnitAction {
    Boot(UnitName),
    PowerOff(UnitName),
    Crash {
        unit: UnitName,
        reboot_after_ms: Option<u64>,
    },
    EraseFlash(UnitName),
    LinkChange {
        unit: UnitName,
        iface: IfaceId,
        up: bool,
    },
    /// The unit's clock changed: re-arm its timer.
    ClockChanged(UnitName),
    Command {
        unit: UnitName,
        context: String,
        line: String,
    },
    Show {
        unit: UnitName,
        command: String,
    },
    Expect(Expect),
    /// Operations of a `connect` step, each for the unit it names (empty
    /// when no unit is active for the context's group).
    Connect(Vec<TrafficAction>),
}

/// The result of one expectation of a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectResult {
    pub at_ms: u64,
    pub description: String,
    pub pass: bool,
    pub observed: String,
}

/// Link name for traces.
pub fn link_name(link: Link, interfaces: &[String]) -> String {
    match link {
        Link::Failover => "failover".into(),
        Link::State => "state".into(),
        Link::Data(IfaceId(i)) => {
            format!("data:{}", interfaces.get(i as usize).map(String::as_str).unwrap_or("?"))
        }
    }
}

/// The fabric link of a unit link.
pub fn link_idx(link: Link) -> LinkIdx {
    match link {
        Link::Failover => fabric::LINK_FAILOVER,
        Link::State => fabric::LINK_STATE,
        Link::Data(IfaceId(i)) => fabric::LINK_DATA0 + i as usize,
    }
}

/// The unit link of a fabric link.
pub fn unit_link(idx: LinkIdx) -> Link {
    match idx {
        fabric::LINK_FAILOVER => Link::Failover,
        fabric::LINK_STATE => Link::State,
        i => Link::Data(IfaceId((i - fabric::LINK_DATA0) as u16)),
    }
}

/// The message kind of a frame, for traces (`?` when the header is unreadable).
pub fn msg_kind(bytes: &[u8]) -> &'static str {
    match wire::decode_header(bytes) {
        Ok(h) => h.kind.as_str(),
        Err(_) if bytes == NETWORK_TRAFFIC => "network-traffic",
        Err(_) => "?",
    }
}

/// What the checkers see of one unit.
pub fn unit_view(unit: Option<&Unit>) -> UnitView {
    let Some(u) = unit else { return UnitView::off() };
    let mut view = UnitView {
        powered: true,
        states: [u.group(Group::One).state(), u.group(Group::Two).state()],
        failed: [0; 2],
        monitored: [0; 2],
        suspended: u.node().is_suspended(),
        failover_on: u.node().failover_enabled(),
        config_digest: u.config_plane().digest(),
        config_out_of_sync: u.config_plane().out_of_sync(),
        config_syncing: u.config_plane().sync().is_some(),
        pairing_refused: u.node().pairing_refusal().is_some(),
        standalone: u.node().is_standalone(),
    };
    for (g, (failed, monitored)) in u.node().failed_interfaces_by_group().into_iter().enumerate() {
        view.failed[g] = failed;
        view.monitored[g] = monitored;
    }
    view
}

/// The runtime-free world.
pub struct Core {
    scenario: Scenario,
    configs: [UnitConfig; 2],
    /// Each unit's [`default_running_config`] for the settings it was built from.
    default_running: [Option<(UnitConfig, RunningConfig)>; 2],
    interfaces: Vec<String>,
    fabric: Fabric,
    clocks: [ClockModel; 2],
    checkers: Checkers,
    records: Vec<Record>,
    level: RecordLevel,
    /// Boot nonces, traffic jitter: everything random that is not the fabric's.
    rng: Rng,
    views: [UnitView; 2],
    expectations: Vec<ExpectResult>,
    /// Syslog ids each unit logged, with the first time.
    syslog_seen: [BTreeMap<u32, u64>; 2],
    frames_sent: u64,
    inputs: u64,
    /// Output of `show` steps, in order.
    shows: Vec<(u64, UnitName, String, String)>,
    /// Why each unit last went down (`power-off`, `crash`); `None` while up or before its first boot.
    down_why: [Option<String>; 2],
    /// Each unit's flash as last written: it survives power cycles.
    flashes: [Flash; 2],
    /// ROMMON `ERASE` requested: done before the unit's next boot.
    erase_pending: [bool; 2],
    /// Each unit's running config as of its last change (for `expect` steps).
    running: [Option<RunningConfig>; 2],
    /// Why each unit refused to pair with its mate, since its last boot.
    pairing_refusal: [Option<String>; 2],
    /// The clients, their connections and where their traffic goes (section 8).
    traffic: Traffic,
    /// [`Unit::state_version`] of each unit when its invariants were last
    /// checked (`None`: not since its last boot).
    checked_version: [Option<u64>; 2],
    /// [`Unit::observed_version`] of each unit when its view was last taken
    /// (`None`: not since its last boot).
    viewed_version: [Option<u64>; 2],
}

impl Core {
    /// Builds the world for a run; an error names the bad field.
    /// `latency_ns`: the fabric's base latency and jitter (the madsim engine
    /// passes zero: its simulated sockets add their own).
    pub fn new(scenario: Scenario, level: RecordLevel, latency_ns: (u64, u64)) -> Result<Core, String> {
        let mut configs = scenario.unit_configs()?;
        for c in &mut configs {
            c.planted_bug = scenario.planted_bug;
        }
        let interfaces: Vec<String> = configs[0].interfaces.iter().map(|i| i.qualified_name()).collect();
        let fabric_rng = Rng::derive(scenario.seed, "fabric");
        let fabric = Fabric::new(
            interfaces.clone(),
            scenario.pair.separate_state_link(),
            latency_ns.0,
            latency_ns.1,
            fabric_rng,
        );
        let mut rng = Rng::derive(scenario.seed, "world");
        // Clocks start far from zero (a unit has been up for days), so a backward
        // step never pins a clock at zero; the units' readings differ by up to 10 s.
        let clock = |rng: &mut Rng| ClockModel::new(CLOCK_ORIGIN_NS + rng.range(0, 10_000) * MS, 0);
        let clocks = [clock(&mut rng), clock(&mut rng)];
        let timing = scenario.timing(&configs);
        let flashes = [0, 1].map(|i| {
            let d = configs[i].device();
            Flash::factory(FLASH_BYTES_DEFAULT, &d.serial, &d.factory_license)
        });
        let contexts = configs[0].contexts.iter().map(|c| (c.name.clone(), c.group)).collect();
        let traffic = Traffic::new(scenario.traffic.clone(), scenario.seed, contexts);
        let stateful = configs.iter().all(|c| c.state_link != fover_protocol::config::settings::StateLink::None);
        let replication_http = [0, 1].map(|g| configs[0].groups[g].replication_http);
        Ok(Core {
            traffic,
            checkers: Checkers::new(timing, stateful, replication_http),
            scenario,
            configs,
            default_running: [None, None],
            interfaces,
            fabric,
            clocks,
            records: Vec::new(),
            level,
            rng,
            views: [UnitView::off(), UnitView::off()],
            expectations: Vec::new(),
            syslog_seen: [BTreeMap::new(), BTreeMap::new()],
            frames_sent: 0,
            inputs: 0,
            shows: Vec::new(),
            down_why: [None, None],
            flashes,
            erase_pending: [false; 2],
            running: [None, None],
            pairing_refusal: [None, None],
            checked_version: [None, None],
            viewed_version: [None, None],
        })
    }

    pub fn record(&mut self, t_ns: u64, event: TEvent) {
        if self.level == RecordLevel::Off {
            return;
        }
        self.records.push(Record { t_ns, event });
    }

    /// Whether a checker found a violation (the run ends).
    pub fn violated(&self) -> bool {
        self.checkers.violation().is_some()
    }

    /// The true time at which a unit's clock reads `deadline`, from `t_ns` on.
    pub fn true_at(&self, unit: UnitName, t_ns: u64, deadline: Instant) -> u64 {
        self.clocks[unit.index()].true_at(t_ns, deadline)
    }

    /// The state of a unit's data interface port.
    pub fn port(&self, unit: UnitName, iface: usize) -> Port {
        self.fabric.port(unit, iface)
    }

    /// How many data interfaces each unit has.
    pub fn interface_count(&self) -> usize {
        self.interfaces.len()
    }

    /// The world's randomness, for an engine's own draws (the other hosts' traffic).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// When the workload's next background operation is due ([`step::workload`]), if any.
    pub fn traffic_next_at(&self) -> Option<u64> {
        self.traffic.next_at()
    }

    /// Ends a run at `t_ns`: the end-of-run checks, the verdict record and the outcome.
    pub fn finish(&mut self, t_ns: u64) -> Outcome {
        let view = self.view(t_ns);
        let clean = self.fabric.is_clean(t_ns);
        self.checkers.finish(t_ns, &view, clean);
        for (k, v) in self.traffic.take_counters() {
            *self.checkers.coverage.counters.entry(k).or_default() += v;
        }
        let violation = self.checkers.violation().cloned();
        let verdict = violation.as_ref().map_or(Verdict::Pass, |v| v.verdict);
        if let Some(v) = &violation {
            self.record(v.t_ns, TEvent::Violation { property: v.property.clone(), message: v.message.clone() });
        }
        self.record(
            t_ns,
            TEvent::Verdict {
                verdict: verdict.as_str().into(),
                property: violation.as_ref().map(|v| v.property.clone()),
                message: violation.as_ref().map(|v| v.message.clone()),
            },
        );
        Outcome {
            verdict,
            violation,
            coverage: self.checkers.coverage.clone(),
            expectations: std::mem::take(&mut self.expectations),
            sim_ns: t_ns,
            frames: self.frames_sent,
            inputs: self.inputs,
            shows: std::mem::take(&mut self.shows).into_iter().map(|(t, u, c, o)| (t, u.to_string(), c, o)).collect(),
            records: std::mem::take(&mut self.records),
        }
    }

    fn view(&self, t_ns: u64) -> View {
        View { units: self.views.clone(), path: self.fabric.path_state(t_ns, self.delay_limit_ns()) }
    }

    fn delay_limit_ns(&self) -> u64 {
        self.scenario.pair.unit_polltime_ms * MS / 2
    }

    /// An observation for the checkers, judged against the current view.
    fn observe(&mut self, t_ns: u64, obs: Obs) {
        if self.level == RecordLevel::Off {
            return;
        }
        let before = self.view(t_ns);
        self.checkers.observe(t_ns, &obs, &before);
    }

    /// The local time of a unit now.
    pub fn local(&self, unit: UnitName, t_ns: u64) -> Instant {
        self.clocks[unit.index()].local(t_ns)
    }

    /// Powers a unit on with its flash (erased first if an erase is pending).
    pub fn boot_unit(&mut self, t_ns: u64, unit: UnitName) -> Result<(Unit, u64), String> {
        let i = unit.index();
        if std::mem::take(&mut self.erase_pending[i]) {
            self.flashes[i].erase();
            self.record(
                t_ns,
                TEvent::Note { unit: Some(unit.to_string()), text: "flash erased (ROMMON ERASE)".into() },
            );
        }
        let nonce = self.rng.next_u64();
        let local = self.local(unit, t_ns);
        // The running config a unit with an empty flash starts with depends
        // on its settings only: built at its first such boot, kept for the
        // next (a config it refuses is left for `Unit::boot` to refuse).
        let fresh = self.flashes[i].startup(&fover_protocol::types::Space::System).is_none();
        if fresh && self.default_running[i].as_ref().is_none_or(|(c, _)| *c != self.configs[i]) {
            self.default_running[i] =
                default_running_config(&self.configs[i]).ok().map(|running| (self.configs[i].clone(), running));
        }
        let default = self.default_running[i].as_ref().filter(|_| fresh).map(|(_, running)| running);
        let u = Unit::boot_with_default(self.configs[i].clone(), self.flashes[i].clone(), nonce, local, default)
            .map_err(|e| format!("{unit}: {e}"))?;
        Ok((u, nonce))
    }

    /// ROMMON `ERASE`: the unit's startup configs, files and activation key are
    /// lost; it takes effect at the unit's next boot.
    pub fn erase_flash(&mut self, t_ns: u64, unit: UnitName) {
        self.erase_pending[unit.index()] = true;
        self.record(
            t_ns,
            TEvent::Note { unit: Some(unit.to_string()), text: "flash erase requested (at next boot)".into() },
        );
    }

    /// Records a unit's boot.
    pub fn on_boot(&mut self, t_ns: u64, unit: UnitName, boot_nonce: u64) {
        let local_ns = self.local(unit, t_ns).0;
        self.down_why[unit.index()] = None;
        self.pairing_refusal[unit.index()] = None;
        self.checked_version[unit.index()] = None;
        self.viewed_version[unit.index()] = None;
        self.record(t_ns, TEvent::Boot { unit: unit.to_string(), boot_nonce, local_ns });
        self.observe(t_ns, Obs::Boot { unit });
        self.traffic.on_boot(unit, boot_nonce);
        self.checkers.on_boot(unit, boot_nonce);
    }

    /// Records a unit going down.
    pub fn on_down(&mut self, t_ns: u64, unit: UnitName, why: &str) {
        self.down_why[unit.index()] = Some(why.to_owned());
        self.record(t_ns, TEvent::Down { unit: unit.to_string(), why: why.into() });
        self.observe(t_ns, Obs::Down { unit });
        self.views[unit.index()] = UnitView::off();
        self.checked_version[unit.index()] = None;
        self.viewed_version[unit.index()] = None;
        self.traffic.on_down(unit);
        self.checkers.after_input(t_ns, &self.view(t_ns));
    }

    /// One event a unit reported.
    pub fn on_unit_event(&mut self, t_ns: u64, unit: UnitName, event: Event) {
        if let Event::FlashWritten { flash } = &event {
            self.flashes[unit.index()] = (**flash).clone();
        }
        if self.level == RecordLevel::Off {
            return;
        }
        let u = unit.to_string();
        match event {
            Event::GroupTransition { group, from, to, reason } => {
                self.record(
                    t_ns,
                    TEvent::Transition {
                        unit: u,
                        group: group.code(),
                        from: from.as_str().into(),
                        to: to.as_str().into(),
                        reason,
                    },
                );
                self.observe(t_ns, Obs::Transition { unit, group, from, to });
            }
            Event::Syslog { id, text } => {
                self.syslog_seen[unit.index()].entry(id).or_insert(t_ns);
                self.record(t_ns, TEvent::Syslog { unit: u, id, text });
                self.observe(t_ns, Obs::Syslog { unit, id });
            }
            Event::CommandReplicated { space, line } => {
                self.record(t_ns, TEvent::UnitEvent { unit: u, text: format!("replicated to mate ({space}): {line}") });
                self.observe(t_ns, Obs::CommandReplicated { unit, space, line });
            }
            Event::ReplicatedCommandReceived { space, line } => {
                self.record(
                    t_ns,
                    TEvent::UnitEvent { unit: u, text: format!("replicated from mate ({space}): {line}") },
                );
                self.observe(t_ns, Obs::ReplicatedReceived { unit, line });
            }
            Event::PairingRefused { reason } => {
                self.pairing_refusal[unit.index()] = Some(reason.clone());
                self.record(t_ns, TEvent::UnitEvent { unit: u, text: format!("pairing refused: {reason}") });
                self.observe(t_ns, Obs::PairingRefused { unit });
            }
            Event::LanTestPassed => {
                self.record(t_ns, TEvent::UnitEvent { unit: u, text: Event::LanTestPassed.to_string() });
                self.observe(t_ns, Obs::LanTestPassed { unit });
            }
            other => self.record(t_ns, TEvent::UnitEvent { unit: u, text: other.to_string() }),
        }
    }

    /// After a unit handled an input: its new view goes to the checkers.
    /// The invariants the input could have broken are checked
    /// ([`Unit::check_last_input`]) when the unit's [`Unit::state_version`]
    /// moved, and its view is taken again when [`Unit::observed_version`]
    /// moved: an input that leaves them alone changed nothing they depend on
    /// (the checkers still see the new time).
    pub fn after_input(&mut self, t_ns: u64, unit_name: UnitName, unit: &Unit) {
        self.inputs += 1;
        let judge = self.level != RecordLevel::Off;
        self.traffic.after_input(t_ns, unit_name, unit);
        self.checkers.connections_after_input(t_ns, unit_name, unit, &self.traffic, judge);
        self.record_connection_notes();
        if self.level == RecordLevel::Off {
            return;
        }
        let i = unit_name.index();
        let version = Some(unit.state_version());
        if self.checked_version[i] != version {
            self.checked_version[i] = version;
            self.check_unit(t_ns, unit_name, unit);
        }
        let observed = Some(unit.observed_version());
        if self.viewed_version[i] != observed {
            self.viewed_version[i] = observed;
            let new_view = unit_view(Some(unit));
            if self.running[i].is_none() || new_view.config_digest != self.views[i].config_digest {
                self.running[i] = Some(unit.config_plane().running().clone());
            }
            self.views[i] = new_view;
        }
        let view = self.view(t_ns);
        self.checkers.after_input(t_ns, &view);
    }

    /// The unit's invariants after an input (unless the scenario turned them
    /// off in a release build): a broken one is a violation.
    fn check_unit(&mut self, t_ns: u64, unit_name: UnitName, unit: &Unit) {
        if cfg!(debug_assertions) || self.scenario.check_invariants {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unit.check_last_input()));
            if let Err(e) = r {
                let message = panic_text(&e);
                self.observe(t_ns, Obs::InvariantBroken { unit: unit_name, message });
            }
        }
    }

    /// A frame a unit sent: the fabric decides its fate.
    pub fn on_transmit(&mut self, t_ns: u64, from: UnitName, link: Link, bytes: Vec<u8>) -> Route {
        self.frames_sent += 1;
        let full = (self.level == RecordLevel::Full).then(|| (msg_kind(&bytes), bytes.len()));
        let route = self.fabric.route(t_ns, from, link_idx(link), bytes);
        if let Some((msg, len)) = full {
            let (l, msg) = (link_name(link, &self.interfaces), msg.to_owned());
            self.record(t_ns, TEvent::Sent { unit: from.to_string(), link: l.clone(), msg: msg.clone(), len });
            if let Route::Dropped(why) = &route {
                self.record(t_ns, TEvent::Dropped { unit: from.to_string(), link: l, msg, why: why.as_str().into() });
            }
        }
        route
    }

    /// A frame is about to reach a unit.
    fn on_deliver(&mut self, t_ns: u64, to: UnitName, link: Link, bytes: &[u8], corrupted: bool, duplicate: bool) {
        if self.level == RecordLevel::Full {
            let event = TEvent::Delivered {
                unit: to.to_string(),
                link: link_name(link, &self.interfaces),
                msg: msg_kind(bytes).into(),
                corrupted,
                duplicate,
            };
            self.record(t_ns, event);
        }
    }

    /// Whether a delivered frame must be rejected by the receiver: the fabric
    /// corrupted it, or the units' keys differ. Bytes that no longer start with
    /// the wire magic are not a failover message at all: on a data interface
    /// they are traffic like any other host's (and count as activity).
    fn must_reject(&self, link: Link, corrupted: bool, bytes: &[u8]) -> bool {
        let fover_frame = bytes.get(..2) == Some(&wire::MAGIC.to_be_bytes()[..]);
        if matches!(link, Link::Data(_)) && !fover_frame {
            return false;
        }
        corrupted || (!self.scenario.pair.keys_match() && bytes != NETWORK_TRAFFIC)
    }

    /// The digest check around a frame that must be rejected.
    fn check_rejected(&mut self, t_ns: u64, to: UnitName, bytes: &[u8], before: u64, after: u64) {
        if before != after {
            let msg = msg_kind(bytes).to_owned();
            self.record(
                t_ns,
                TEvent::Note { unit: Some(to.to_string()), text: format!("rejected {msg} frame changed state") },
            );
            self.observe(t_ns, Obs::RejectedFrameChangedState { unit: to, msg });
        }
    }

    /// Applies a step: fabric and clock steps here, the rest returned for the engine.
    fn apply_step(&mut self, t_ns: u64, step: &Step) -> Result<Option<UnitAction>, String> {
        let until = |u: &Option<u64>| u.map(|ms| ms * MS);
        if let Ok(v) = serde_json::to_value(step) {
            self.record(t_ns, TEvent::Step { step: v });
        }
        self.checkers.coverage.step(step.name());
        if step.is_fault() {
            self.observe(t_ns, Obs::Fault { name: step.name() });
        }
        let f = &mut self.fabric;
        let action = match step {
            Step::Boot { unit, .. } => Some(UnitAction::Boot(*unit)),
            Step::PowerOff { unit, .. } => Some(UnitAction::PowerOff(*unit)),
            Step::Crash { unit, reboot_after_ms, .. } => {
                Some(UnitAction::Crash { unit: *unit, reboot_after_ms: *reboot_after_ms })
            }
            Step::EraseFlash { unit, .. } => Some(UnitAction::EraseFlash(*unit)),
            Step::Cut { link, direction, .. } => f.cut(link, *direction).map(|_| None)?,
            Step::Heal { link, direction, .. } => f.heal(link, *direction).map(|_| None)?,
            Step::Loss { link, direction, probability, until_ms, .. } => {
                f.loss(link, *direction, *probability, until(until_ms)).map(|_| None)?
            }
            Step::Delay { link, direction, delay_ms, jitter_ms, until_ms, .. } => {
                f.delay(link, *direction, delay_ms * MS, jitter_ms * MS, until(until_ms)).map(|_| None)?
            }
            Step::Duplicate { link, direction, probability, until_ms, .. } => {
                f.duplicate(link, *direction, *probability, until(until_ms)).map(|_| None)?
            }
            Step::Reorder { link, direction, probability, until_ms, .. } => {
                f.reorder(link, *direction, *probability, until(until_ms)).map(|_| None)?
            }
            Step::Corrupt { link, direction, probability, until_ms, .. } => {
                f.corrupt(link, *direction, *probability, until(until_ms)).map(|_| None)?
            }
            Step::Drop { link, direction, kind, count, until_ms, .. } => {
                f.drop_kind(link, *direction, *kind, *count, until(until_ms)).map(|_| None)?
            }
            Step::InterfaceDown { unit, interface, .. } => {
                let i = f.set_port(*unit, interface, Port::Down)?;
                Some(UnitAction::LinkChange { unit: *unit, iface: IfaceId(i as u16), up: false })
            }
            Step::InterfaceUp { unit, interface, .. } => {
                let i = f.set_port(*unit, interface, Port::Up)?;
                Some(UnitAction::LinkChange { unit: *unit, iface: IfaceId(i as u16), up: true })
            }
            Step::InterfaceSilent { unit, interface, .. } => {
                f.set_port(*unit, interface, Port::Silent)?;
                None
            }
            Step::ClockStep { unit, ms, .. } => {
                self.observe(t_ns, Obs::ClockStep { unit: *unit, ms: *ms });
                self.clocks[unit.index()].step(t_ns, *ms);
                Some(UnitAction::ClockChanged(*unit))
            }
            Step::ClockDrift { unit, ppm, .. } => {
                self.clocks[unit.index()].set_drift(t_ns, *ppm);
                Some(UnitAction::ClockChanged(*unit))
            }
            Step::Command { unit, context, line, .. } => {
                Some(UnitAction::Command { unit: *unit, context: context.clone(), line: line.clone() })
            }
            Step::Connect { context, count, .. } => Some(UnitAction::Connect(self.connect(t_ns, context, *count))),
            Step::Show { unit, command, .. } => Some(UnitAction::Show { unit: *unit, command: command.clone() }),
            Step::Expect(e) => Some(UnitAction::Expect(e.clone())),
        };
        Ok(action)
    }

    /// Records a command and its answer; failover commands go to the checkers.
    fn on_command(&mut self, t_ns: u64, unit: UnitName, context: &str, line: &str, result: Result<String, String>) {
        if let Ok(Some(cmd)) = fover_protocol::config::command::parse_failover_command(line) {
            use fover_protocol::config::command::Command as C;
            let group = match cmd {
                C::FailoverActive(g) | C::NoFailoverActive(g) | C::FailoverReset(g) => Some(g),
                C::Failover | C::NoFailover => Some(None),
                _ => None,
            };
            if let Some(group) = group {
                self.observe(t_ns, Obs::FailoverCommand { unit, group, line: line.to_owned() });
            }
        }
        let (ok, output) = match result {
            Ok(o) => (true, o),
            Err(e) => (false, e),
        };
        self.record(
            t_ns,
            TEvent::Command { unit: unit.to_string(), context: context.into(), line: line.into(), ok, output },
        );
    }

    /// The notes of the property-9 checker's judgements, into the trace.
    #[inline(always)]
    fn record_connection_notes(&mut self) {
        if self.checkers.connections.has_notes() {
            self.record_connection_notes_now();
        }
    }

    #[inline(never)]
    fn record_connection_notes_now(&mut self) {
        for (t, text) in self.checkers.connections.take_notes() {
            self.record(t, TEvent::Note { unit: None, text });
        }
    }

    /// The background traffic operation due now, if any (see [`Traffic::next_at`]).
    fn traffic_tick(&mut self, t_ns: u64) -> Option<TrafficAction> {
        self.traffic.tick(t_ns)
    }

    /// The operations of a `connect` step (none when no unit is active for the context).
    fn connect(&mut self, t_ns: u64, context: &str, count: u32) -> Vec<TrafficAction> {
        let carrier = self.traffic.group_of(context).and_then(|g| self.traffic.carrier(g));
        let Some(to) = carrier else {
            self.record(
                t_ns,
                TEvent::Note { unit: None, text: format!("connect: no unit is active for {context}; nothing opened") },
            );
            return Vec::new();
        };
        self.traffic.connect(t_ns, to, context, count)
    }

    /// Right before a traffic operation reaches a unit.
    fn before_traffic(&mut self, t_ns: u64, name: UnitName, unit: &Unit) {
        let judge = self.level != RecordLevel::Off;
        self.checkers.before_traffic(t_ns, name, unit, &self.traffic, judge);
        self.record_connection_notes();
    }

    /// A unit's answer to a traffic operation (`boot`: the boot that answered).
    fn traffic_done(
        &mut self,
        t_ns: u64,
        action: TrafficAction,
        boot: u64,
        result: Result<(), fover_protocol::connections::TrafficError>,
    ) {
        if boot != action.boot {
            return; // meant for an earlier boot: nothing to learn
        }
        let unit = action.unit;
        let carrier_now =
            self.traffic.group_of(&action.conn.0).and_then(|g| self.traffic.carrier(g)) == Some((unit, boot));
        if self.level == RecordLevel::Full {
            let what = match &result {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.to_string(),
            };
            let text = format!("traffic {:?} {}#{}: {what}", action.kind, action.conn.0, action.conn.1).to_lowercase();
            self.record(t_ns, TEvent::UnitEvent { unit: unit.to_string(), text });
        }
        let judge = self.level != RecordLevel::Off;
        let answer = self.traffic.done(action, result, carrier_now);
        self.checkers.traffic_answer(t_ns, unit, boot, answer, judge);
    }
}

/// The text of a caught panic.
pub fn panic_text(e: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = e.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = e.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}
