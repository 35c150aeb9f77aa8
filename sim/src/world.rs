//! The runtime-free part of a simulated world: the run as data, the fabric,
//! the per-unit clocks, the recorder and the checkers. Both engines (the fast
//! event queue and the madsim world) own a [`Core`] and call it for every
//! step, frame and unit output; only the wiring of units differs.

use crate::checker::connections::Survival;
use crate::checker::{Checkers, Obs, UnitView, View, Violation, property};
use crate::clock::ClockModel;
use crate::fabric::{self, Fabric, LinkIdx, MS, Port, Route};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::schedule::{ActiveOn, Expect, OnOff, Step, UnitName};
use crate::workload::{Answer, Traffic, TrafficAction};
use fover_protocol::config::flash::Flash;
use fover_protocol::config::running::RunningConfig;
use fover_protocol::types;
use fover_protocol::types::{Group, GroupState};
use fover_protocol::unit::{Event, FLASH_BYTES_DEFAULT, IfaceId, Link, Unit, default_running_config};
use fover_protocol::wire::{self};
use fover_protocol::{Instant, UnitConfig};
use fover_traces::{Event as TEvent, Record};
use std::collections::{BTreeMap, BTreeSet};

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

/// What an engine must do for a step the core cannot apply alone.
#[derive(Clone, Debug, PartialEq)]
pub enum UnitAction {
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
        states: [u.group_state(Group::One), u.group_state(Group::Two)],
        failed: [0; 2],
        monitored: [0; 2],
        suspended: u.is_suspended(),
        failover_on: u.failover_enabled(),
        config_digest: u.config_digest(),
        config_out_of_sync: u.config_out_of_sync(),
        config_syncing: u.config_sync().is_some(),
        pairing_refused: u.pairing_refusal().is_some(),
        standalone: u.is_standalone(),
    };
    for (g, (failed, monitored)) in u.failed_interfaces_by_group().into_iter().enumerate() {
        view.failed[g] = failed;
        view.monitored[g] = monitored;
    }
    view
}

/// The runtime-free world.
pub struct Core {
    pub scenario: Scenario,
    pub configs: [UnitConfig; 2],
    /// Each unit's [`default_running_config`] for the settings it was built from.
    default_running: [Option<(UnitConfig, RunningConfig)>; 2],
    pub interfaces: Vec<String>,
    pub fabric: Fabric,
    pub clocks: [ClockModel; 2],
    pub checkers: Checkers,
    pub records: Vec<Record>,
    pub level: RecordLevel,
    /// Boot nonces, traffic jitter: everything random that is not the fabric's.
    pub rng: Rng,
    pub views: [UnitView; 2],
    pub expectations: Vec<ExpectResult>,
    /// Syslog ids each unit logged, with the first time.
    pub syslog_seen: [BTreeMap<u32, u64>; 2],
    pub frames_sent: u64,
    pub inputs: u64,
    /// Output of `show` steps, in order.
    pub shows: Vec<(u64, UnitName, String, String)>,
    /// Corrupted copies in flight (madsim engine: the receiver cannot be told directly).
    pub corrupted_in_flight: BTreeMap<Vec<u8>, u32>,
    /// Why each unit last went down (`power-off`, `crash`); `None` while up or before its first boot.
    pub down_why: [Option<String>; 2],
    /// Each unit's flash as last written: it survives power cycles.
    pub flashes: [Flash; 2],
    /// ROMMON `ERASE` requested: done before the unit's next boot.
    pub erase_pending: [bool; 2],
    /// Each unit's running config as of its last change (for `expect` steps).
    pub running: [Option<RunningConfig>; 2],
    /// Why each unit refused to pair with its mate, since its last boot.
    pub pairing_refusal: [Option<String>; 2],
    /// The clients and their connections (section 8).
    pub traffic: Traffic,
    /// Property 9: where each group's traffic goes, and what a failover kept.
    pub survival: Survival,
    /// [`Unit::state_version`] of each unit when its invariants were last
    /// checked (`None`: not since its last boot).
    pub checked_version: [Option<u64>; 2],
    /// [`Unit::observed_version`] of each unit when its view was last taken
    /// (`None`: not since its last boot).
    pub viewed_version: [Option<u64>; 2],
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
        let survival = Survival::new(stateful, [0, 1].map(|g| configs[0].groups[g].replication_http));
        Ok(Core {
            traffic,
            survival,
            checkers: Checkers::new(timing),
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
            corrupted_in_flight: BTreeMap::new(),
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

    pub fn view(&self, t_ns: u64) -> View {
        View { units: self.views.clone(), path: self.fabric.path_state(t_ns, self.delay_limit_ns()) }
    }

    fn delay_limit_ns(&self) -> u64 {
        self.scenario.pair.unit_polltime_ms * MS / 2
    }

    /// An observation for the checkers, judged against the current view.
    pub fn observe(&mut self, t_ns: u64, obs: Obs) {
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
        let fresh = self.flashes[i].startup(&types::Space::System).is_none();
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
        self.survival.on_boot(unit, boot_nonce);
    }

    /// Records a unit going down.
    pub fn on_down(&mut self, t_ns: u64, unit: UnitName, why: &str) {
        self.down_why[unit.index()] = Some(why.to_owned());
        self.record(t_ns, TEvent::Down { unit: unit.to_string(), why: why.into() });
        self.observe(t_ns, Obs::Down { unit });
        self.views[unit.index()] = UnitView::off();
        self.checked_version[unit.index()] = None;
        self.viewed_version[unit.index()] = None;
        self.survival.on_down(unit);
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
        let v = self.survival.after_input(t_ns, unit_name, unit, &mut self.traffic, &mut self.checkers.coverage, judge);
        self.survival_found(v);
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
                self.running[i] = Some(unit.running_config().clone());
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
    pub fn on_deliver(&mut self, t_ns: u64, to: UnitName, link: Link, bytes: &[u8], corrupted: bool, duplicate: bool) {
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
    pub fn must_reject(&self, link: Link, corrupted: bool, bytes: &[u8]) -> bool {
        let fover_frame = bytes.get(..2) == Some(&wire::MAGIC.to_be_bytes()[..]);
        if matches!(link, Link::Data(_)) && !fover_frame {
            return false;
        }
        corrupted || (!self.scenario.pair.keys_match() && bytes != NETWORK_TRAFFIC)
    }

    /// The digest check around a frame that must be rejected.
    pub fn check_rejected(&mut self, t_ns: u64, to: UnitName, bytes: &[u8], before: u64, after: u64) {
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
    pub fn apply_step(&mut self, t_ns: u64, step: &Step) -> Result<Option<UnitAction>, String> {
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
    pub fn on_command(&mut self, t_ns: u64, unit: UnitName, context: &str, line: &str, result: Result<String, String>) {
        if let Ok(Some(cmd)) = fover_protocol::config::command::parse_failover_command(line) {
            use fover_protocol::unit::Command as C;
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

    /// Notes and a violation from the property-9 checker.
    fn survival_found(&mut self, v: Option<Violation>) {
        for (t, text) in std::mem::take(&mut self.survival.notes) {
            self.record(t, TEvent::Note { unit: None, text });
        }
        if let Some(v) = v {
            if self.checkers.violation.is_none() && self.level != RecordLevel::Off {
                self.checkers.violation = Some(v);
            }
        }
    }

    /// The background traffic operation due now, if any (see [`Traffic::next_at`]).
    pub fn traffic_tick(&mut self, t_ns: u64) -> Option<TrafficAction> {
        let survival = &self.survival;
        self.traffic.tick(t_ns, |g| survival.carrier(g))
    }

    /// The operations of a `connect` step (none when no unit is active for the context).
    pub fn connect(&mut self, t_ns: u64, context: &str, count: u32) -> Vec<TrafficAction> {
        let carrier = self.traffic.group_of(context).and_then(|g| self.survival.carrier(g));
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
    pub fn before_traffic(&mut self, t_ns: u64, name: UnitName, unit: &Unit) {
        let judge = self.level != RecordLevel::Off;
        let v = self.survival.judge_due(t_ns, name, unit, &mut self.traffic, &mut self.checkers.coverage, judge);
        self.survival_found(v);
    }

    /// A unit's answer to a traffic operation (`boot`: the boot that answered).
    pub fn traffic_done(
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
            self.traffic.group_of(&action.conn.0).and_then(|g| self.survival.carrier(g)) == Some((unit, boot));
        if self.level == RecordLevel::Full {
            let what = match &result {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.to_string(),
            };
            let text = format!("traffic {:?} {}#{}: {what}", action.kind, action.conn.0, action.conn.1).to_lowercase();
            self.record(t_ns, TEvent::UnitEvent { unit: unit.to_string(), text });
        }
        if let Answer::Vanished(c) = self.traffic.done(t_ns, action, result, carrier_now) {
            let v = Survival::vanished(t_ns, &c, unit);
            self.survival_found(Some(v));
        }
    }

    /// The unit whose connections an expectation needs (`connections_survived`):
    /// the unit active for the context's group, and the context.
    pub fn expect_carrier(&self, e: &Expect) -> Option<(UnitName, String)> {
        e.connections_survived?;
        let context = e.context.clone()?;
        let g = self.traffic.group_of(&context)?;
        self.survival.carrier(g).map(|(u, _)| (u, context))
    }

    /// Checks an expectation of a scenario file against the current state.
    pub fn check_expect(&mut self, t_ns: u64, e: &Expect) {
        self.check_expect_with(t_ns, e, None)
    }

    /// Checks an expectation; `known`: the connection ids of its context that
    /// the unit of [`Core::expect_carrier`] holds.
    pub fn check_expect_with(&mut self, t_ns: u64, e: &Expect, known: Option<(UnitName, BTreeSet<u64>)>) {
        let mut failures = Vec::new();
        let mut observed = Vec::new();
        let mut described = Vec::new();
        let units = UnitName::BOTH;
        if let Some(gid) = e.group {
            let Some(group) = Group::from_code(gid) else {
                failures.push(format!("group {gid} does not exist"));
                return self.push_expect(t_ns, e, failures, observed, described);
            };
            let g = group.index();
            let states: Vec<GroupState> = self.views.iter().map(|v| v.states[g]).collect();
            let powered: Vec<bool> = self.views.iter().map(|v| v.powered).collect();
            let show = |u: usize| if powered[u] { states[u].as_str() } else { "powered off" };
            observed.push(format!("group {gid}: primary {}, secondary {}", show(0), show(1)));
            if let Some(active) = e.active {
                described.push(format!("group {gid} active on {active:?}").to_lowercase());
                let on: Vec<bool> = self.views.iter().map(|v| v.active(group)).collect();
                let got = match (on[0], on[1]) {
                    (true, true) => ActiveOn::Both,
                    (true, false) => ActiveOn::Primary,
                    (false, true) => ActiveOn::Secondary,
                    (false, false) => ActiveOn::None,
                };
                if got != active {
                    failures.push(format!("expected group {gid} active on {active:?}, got {got:?}").to_lowercase());
                }
            }
            if let Some(st) = &e.state {
                for (u, want) in [(0, st.primary), (1, st.secondary)] {
                    if let Some(want) = want {
                        described.push(format!("group {gid} {} on the {}", want, units[u]));
                        if !powered[u] || states[u] != want {
                            failures.push(format!("expected group {gid} {want} on the {}, got {}", units[u], show(u)));
                        }
                    }
                }
            }
        } else if e.active.is_some() || e.state.is_some() {
            failures.push("`active` and `state` need `group`".into());
        }
        if let Some(f) = e.failover {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            for u in targets {
                let on = self.views[u.index()].failover_on;
                described.push(format!("failover {f:?} on the {u}").to_lowercase());
                observed.push(format!("failover {} on the {u}", if on { "on" } else { "off" }));
                if on != (f == OnOff::On) {
                    failures.push(format!("expected failover {f:?} on the {u}").to_lowercase());
                }
            }
        }
        if let Some(want) = e.powered {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            let word = |on: bool| if on { "powered" } else { "powered off" };
            for u in targets {
                let on = self.views[u.index()].powered;
                // Why it is off tells a power-off apart from a unit that never booted.
                let now = match (&self.down_why[u.index()], on) {
                    (_, true) => word(true).to_owned(),
                    (Some(why), false) => format!("powered off ({why})"),
                    (None, false) => "powered off (never booted)".to_owned(),
                };
                described.push(format!("the {u} {}", word(want)));
                observed.push(format!("the {u} {now}"));
                if on != want {
                    failures.push(format!("expected the {u} {}, it is {now}", word(want)));
                }
            }
        }
        if let Some(id) = e.syslog {
            let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
            for u in targets {
                described.push(format!("syslog {id} logged on the {u}"));
                let seen = self.syslog_seen[u.index()].get(&id).is_some_and(|&at| at <= t_ns);
                observed.push(format!("syslog {id} on the {u}: {}", if seen { "logged" } else { "not logged" }));
                if !seen {
                    failures.push(format!("syslog {id} was not logged on the {u}"));
                }
            }
        }
        self.check_expect_config(e, &mut failures, &mut observed, &mut described);
        if e.pairing.is_some() || e.reason.is_some() {
            self.check_expect_pairing(e, &mut failures, &mut observed, &mut described);
        }
        if let Some(want) = e.connections_survived {
            self.check_expect_connections(e, want, known, &mut failures, &mut observed, &mut described);
        }
        self.push_expect(t_ns, e, failures, observed, described);
    }

    /// `connections_survived`: every connection opened in the context and not
    /// closed is known to the unit active for the context's group (none was
    /// lost at a failover).
    fn check_expect_connections(
        &self,
        e: &Expect,
        want: bool,
        known: Option<(UnitName, BTreeSet<u64>)>,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let Some(context) = e.context.as_deref() else {
            failures.push("`connections_survived` needs `context`".into());
            return;
        };
        described.push(format!("connections in {context} {}", if want { "survived" } else { "did not all survive" }));
        let (open, lost) = self.traffic.in_context(context);
        let total = open.len() as u64 + lost;
        if total == 0 {
            failures.push(format!("no connection was opened in {context} (and left open): nothing to survive"));
            return;
        }
        let got = match known {
            None => {
                observed.push(format!("{total} connections in {context}; no unit is active for its group"));
                false
            }
            Some((unit, ids)) => {
                let held = open.iter().filter(|c| ids.contains(&c.id)).count() as u64;
                let reset = if lost == 0 { String::new() } else { format!(" ({lost} found reset by their clients)") };
                observed.push(format!(
                    "{total} connections in {context}: {held} known on the {unit} (active), {} not{reset}",
                    total - held
                ));
                held == total
            }
        };
        if got != want {
            failures.push(format!(
                "expected the connections in {context} to {}survive: {}",
                if want { "" } else { "not all " },
                observed.last().map(String::as_str).unwrap_or("")
            ));
        }
    }

    /// `pairing = "refused" | "ok"` and `reason` (a word the refusal names):
    /// of `unit`, or of either unit when none is named.
    fn check_expect_pairing(
        &self,
        e: &Expect,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(UnitName::BOTH.to_vec());
        let refusals: Vec<(UnitName, &str)> = targets
            .iter()
            .filter(|u| self.views[u.index()].pairing_refused)
            .filter_map(|u| self.pairing_refusal[u.index()].as_deref().map(|r| (*u, r)))
            .collect();
        for (u, r) in &refusals {
            observed.push(format!("the {u} refused to pair: {r}"));
        }
        if refusals.is_empty() {
            observed.push("no refusal to pair".into());
        }
        match e.pairing.as_deref() {
            Some("refused") => {
                described.push("pairing refused".into());
                if refusals.is_empty() {
                    failures.push("expected a refusal to pair, and there is none".into());
                }
            }
            Some("ok") => {
                described.push("pairing accepted".into());
                if !refusals.is_empty() {
                    failures.push("expected the units to pair, and pairing was refused".into());
                }
            }
            Some(other) => failures.push(format!("pairing = {other:?}: expected \"refused\" or \"ok\"")),
            None => {}
        }
        if let Some(word) = &e.reason {
            described.push(format!("the refusal names {word:?}"));
            let named = refusals.iter().any(|(_, r)| r.to_lowercase().contains(&word.to_lowercase()));
            if !named {
                failures.push(format!("no refusal to pair names {word:?}"));
            }
        }
    }

    /// The configuration keys of an `expect` step.
    fn check_expect_config(
        &self,
        e: &Expect,
        failures: &mut Vec<String>,
        observed: &mut Vec<String>,
        described: &mut Vec<String>,
    ) {
        let units = UnitName::BOTH;
        let targets: Vec<UnitName> = e.unit.map(|u| vec![u]).unwrap_or(units.to_vec());
        let space = match e.context.as_deref() {
            None | Some("system") => types::Space::System,
            Some(c) => types::Space::Context(c.to_owned()),
        };
        for (line, want) in [(&e.config_has, true), (&e.config_lacks, false)] {
            let Some(line) = line else { continue };
            for u in &targets {
                let verb = if want { "has" } else { "lacks" };
                described.push(format!("the {u}'s running config of {space} {verb} {line:?}"));
                let Some(running) = self.running[u.index()].as_ref().filter(|_| self.views[u.index()].powered) else {
                    failures.push(format!("the {u} is powered off: its running config cannot be read"));
                    continue;
                };
                let text = running.render(&space).unwrap_or_default();
                let has = text.lines().any(|l| l.trim() == line.trim());
                observed.push(format!("the {u}'s running config of {space} {} it", if has { "has" } else { "lacks" }));
                if has != want {
                    failures.push(format!(
                        "expected the {u}'s running config of {space} to {} {line:?}",
                        if want { "have" } else { "lack" }
                    ));
                }
            }
        }
        if let Some(want) = e.config_in_sync {
            described.push(format!("running configs {}in sync", if want { "" } else { "not " }));
            let [p, s] = &self.views;
            if !(p.powered && s.powered) {
                failures.push("config_in_sync needs both units powered".into());
            } else {
                let same = p.config_digest == s.config_digest;
                observed.push(format!(
                    "running configs {} (digest {:08x} on the primary, {:08x} on the secondary)",
                    if same { "equal" } else { "differ" },
                    p.config_digest,
                    s.config_digest
                ));
                if same != want {
                    failures.push(format!("expected the running configs {}", if want { "equal" } else { "to differ" }));
                }
            }
        }
        if let Some(want) = e.saved_config_in_sync {
            described.push(format!("saved configs {}in sync", if want { "" } else { "not " }));
            let saved = |u: usize| self.flashes[u].boot().map_err(|err| err.to_string());
            match (saved(0), saved(1)) {
                (Ok(p), Ok(s)) => {
                    let same = p.eq_ignoring_bootstrap(&s);
                    observed.push(format!("saved configs {}", if same { "equal" } else { "differ" }));
                    if same != want {
                        failures
                            .push(format!("expected the saved configs {}", if want { "equal" } else { "to differ" }));
                    }
                }
                (Err(err), _) | (_, Err(err)) => failures.push(format!("a saved config does not load: {err}")),
            }
        }
    }

    fn push_expect(
        &mut self,
        t_ns: u64,
        e: &Expect,
        failures: Vec<String>,
        observed: Vec<String>,
        described: Vec<String>,
    ) {
        let pass = failures.is_empty();
        let description = if described.is_empty() { "expectation".into() } else { described.join(", ") };
        let observed = if pass { observed.join("; ") } else { failures.join("; ") };
        let step = serde_json::to_value(Step::Expect(e.clone())).unwrap_or_default();
        self.record(t_ns, TEvent::Expect { step, pass, observed: observed.clone() });
        if !pass && self.checkers.violation.is_none() {
            self.checkers.violation = Some(Violation {
                verdict: crate::checker::Verdict::Safety,
                property: property::EXPECT.into(),
                t_ns,
                message: format!("at {} ms: {description}: {observed}", e.at_ms),
            });
        }
        self.expectations.push(ExpectResult { at_ms: e.at_ms, description, pass, observed });
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
