//! The nemesis: a run drawn from a seed. Swarm testing as in TigerBeetle's
//! VOPR: each seed first draws which fault families are on and the timer
//! settings within their legal ranges, then a schedule of faults and operator
//! commands; a fault phase is followed by heal-everything and a liveness phase.

use crate::pair::{GroupSpec, PairSpec, default_contexts};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::schedule::{Direction, LinkName, Step, UnitName};
use fover_protocol::wire::Kind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A family of faults the nemesis can draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// Symmetric cut of one link (failover, a data interface, or all).
    Partition,
    /// One-way cut of one link.
    OneWay,
    /// Failover link cut with data links up, or the reverse.
    SplitBrain,
    /// Random loss bursts on a link.
    Loss,
    /// Bursts of dropped hellos aimed at the holdtime edge.
    HelloDrop,
    /// Delay spikes with jitter.
    Delay,
    Duplicate,
    Reorder,
    /// Flipped bytes: the receiver must reject the frame.
    Corrupt,
    ClockDrift,
    ClockStep,
    /// Both units boot within a few polltimes of each other.
    ConcurrentBoot,
    /// Power loss, then reboot.
    Power,
    /// Software crash, then reboot.
    Crash,
    InterfaceDown,
    /// Interface link up, but no traffic passes.
    InterfaceSilent,
    FlashErase,
    /// The units are configured with different failover keys.
    KeyMismatch,
    /// Operator commands: manual moves and `failover reset`.
    Commands,
}

impl Family {
    pub const ALL: &'static [Family] = &[
        Family::Partition,
        Family::OneWay,
        Family::SplitBrain,
        Family::Loss,
        Family::HelloDrop,
        Family::Delay,
        Family::Duplicate,
        Family::Reorder,
        Family::Corrupt,
        Family::ClockDrift,
        Family::ClockStep,
        Family::ConcurrentBoot,
        Family::Power,
        Family::Crash,
        Family::InterfaceDown,
        Family::InterfaceSilent,
        Family::FlashErase,
        Family::KeyMismatch,
        Family::Commands,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Partition => "partition",
            Family::OneWay => "one-way",
            Family::SplitBrain => "split-brain",
            Family::Loss => "loss",
            Family::HelloDrop => "hello-drop",
            Family::Delay => "delay",
            Family::Duplicate => "duplicate",
            Family::Reorder => "reorder",
            Family::Corrupt => "corrupt",
            Family::ClockDrift => "clock-drift",
            Family::ClockStep => "clock-step",
            Family::ConcurrentBoot => "concurrent-boot",
            Family::Power => "power",
            Family::Crash => "crash",
            Family::InterfaceDown => "interface-down",
            Family::InterfaceSilent => "interface-silent",
            Family::FlashErase => "flash-erase",
            Family::KeyMismatch => "key-mismatch",
            Family::Commands => "commands",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything drawn from a seed before the schedule, printed first (VOPR style).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub seed: u64,
    pub families: Vec<Family>,
    pub unit_polltime_ms: u64,
    pub unit_holdtime_ms: u64,
    pub interface_polltime_ms: u64,
    pub interface_holdtime_ms: u64,
    pub preempt_ms: [Option<u64>; 2],
    pub interface_policy: [String; 2],
    pub fault_phase_ms: u64,
    pub faults: u32,
    pub keys: String,
    /// `"off"`, `"shared"` (the failover link) or `"separate"`.
    pub state_link: String,
    pub replication_http: [bool; 2],
    /// Traffic operations per second per context; `None`: no traffic workload.
    pub traffic_ops_per_s: Option<u32>,
    pub duration_ms: u64,
}

impl fmt::Display for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fam: Vec<&str> = self.families.iter().map(|x| x.as_str()).collect();
        let pre = |p: Option<u64>| p.map_or("off".to_owned(), |ms| format!("{ms}ms"));
        writeln!(f, "seed {}", self.seed)?;
        writeln!(f, "  families        {}", if fam.is_empty() { "(none)".into() } else { fam.join(" ") })?;
        writeln!(f, "  unit timers     poll {} ms, hold {} ms", self.unit_polltime_ms, self.unit_holdtime_ms)?;
        writeln!(
            f,
            "  interface       poll {} ms, hold {} ms",
            self.interface_polltime_ms, self.interface_holdtime_ms
        )?;
        writeln!(f, "  preempt         group 1 {}, group 2 {}", pre(self.preempt_ms[0]), pre(self.preempt_ms[1]))?;
        writeln!(f, "  policy          group 1 {}, group 2 {}", self.interface_policy[0], self.interface_policy[1])?;
        writeln!(f, "  keys            {}", self.keys)?;
        let http = |on: bool| if on { "on" } else { "off" };
        writeln!(
            f,
            "  stateful        state link {}, replication http group 1 {}, group 2 {}",
            self.state_link,
            http(self.replication_http[0]),
            http(self.replication_http[1])
        )?;
        match self.traffic_ops_per_s {
            Some(r) => writeln!(f, "  traffic         {r} operations/s per context")?,
            None => writeln!(f, "  traffic         off")?,
        }
        write!(
            f,
            "  schedule        {} faults in {} ms, then heal; run {} ms",
            self.faults, self.fault_phase_ms, self.duration_ms
        )
    }
}

/// How the nemesis is asked to draw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Families allowed (each seed turns a random subset of them on). Empty: all.
    pub families: Vec<Family>,
    /// Length of the fault phase; `None`: drawn (20-40 s).
    pub fault_phase_ms: Option<u64>,
    /// Total duration; `None`: the fault phase plus the liveness bound.
    pub duration_ms: Option<u64>,
    /// Number of faults; `None`: drawn (2-8).
    pub fault_count: Option<u32>,
    /// Turn every allowed family on, instead of a random subset (benchmarks).
    pub all_families: bool,
    /// Leave the traffic workload out (it is on in every seed by default).
    pub no_traffic: bool,
}

fn draw_unit_timers(rng: &mut Rng) -> (u64, u64) {
    loop {
        let poll = if rng.chance(0.8) { rng.range(200, 999) } else { rng.range(1, 3) * 1000 };
        let min_hold = 3 * poll;
        let hold = if min_hold <= 999 && rng.chance(0.5) {
            rng.range(min_hold.max(800), 999)
        } else {
            let secs = min_hold.div_ceil(1000).max(1);
            rng.range(secs, secs + 2) * 1000
        };
        if fover_protocol::config::settings::validate_unit_times(
            std::time::Duration::from_millis(poll),
            std::time::Duration::from_millis(hold),
        )
        .is_ok()
        {
            return (poll, hold);
        }
    }
}

fn draw_interface_timers(rng: &mut Rng) -> (u64, u64) {
    let poll = if rng.chance(0.7) { rng.range(500, 999) } else { rng.range(1, 2) * 1000 };
    let hold = rng.range((2 * poll).div_ceil(1000).max(5), 8) * 1000;
    (poll, hold)
}

/// Draws a whole run from a seed.
pub fn draw(seed: u64, config: &Config) -> (Options, Scenario) {
    let mut rng = Rng::derive(seed, "nemesis");
    let allowed: Vec<Family> = if config.families.is_empty() { Family::ALL.to_vec() } else { config.families.clone() };
    // Swarm testing: each seed turns on a random subset (at least one when any is allowed).
    // A key mismatch silences the whole pair: on in one seed in ten, not one in two.
    let mut families: Vec<Family> = allowed
        .iter()
        .copied()
        .filter(|f| rng.chance(if *f == Family::KeyMismatch { 0.1 } else { 0.5 }) || config.all_families)
        .collect();
    if families.is_empty() && !allowed.is_empty() {
        families.push(*rng.pick(&allowed));
    }
    let on = |f: Family| families.contains(&f);
    let (poll, hold) = draw_unit_timers(&mut rng);
    let (ipoll, ihold) = draw_interface_timers(&mut rng);
    let preempt_ms = [0, 1].map(|_| if rng.chance(0.5) { Some(rng.range(0, 3) * 1000) } else { None });
    let interface_policy = [0, 1].map(|_| match rng.below(6) {
        0 => "2".to_owned(),
        1 => "50%".to_owned(),
        _ => "1".to_owned(),
    });
    let keys = if on(Family::KeyMismatch) {
        "mismatch"
    } else if rng.chance(0.3) {
        "same"
    } else {
        "none"
    };
    let mut pair = PairSpec {
        unit_polltime_ms: poll,
        unit_holdtime_ms: hold,
        interface_polltime_ms: ipoll,
        interface_holdtime_ms: ihold,
        ..PairSpec::default()
    };
    match keys {
        "same" => pair.failover_key = Some(format!("k{:x}", rng.next_u64())),
        "mismatch" => {
            pair.primary =
                Some(crate::pair::UnitOverride { failover_key: Some("left-key".into()), ..Default::default() });
            pair.secondary =
                Some(crate::pair::UnitOverride { failover_key: Some("right-key".into()), ..Default::default() });
        }
        _ => {}
    }
    // Stateful failover and traffic come from their own stream, so that the
    // fault schedules of earlier builds' seeds are drawn as before.
    let mut srng = Rng::derive(seed, "nemesis-stateful");
    let state_link = match srng.below(10) {
        0..3 => "off",
        3..7 => "shared",
        _ => "separate",
    };
    if state_link != "off" {
        pair.stateful = true;
        pair.state_link = (state_link == "separate").then(|| "separate".to_owned());
    }
    let replication_http = [srng.chance(0.5), srng.chance(0.5)];
    let traffic_ops_per_s = (!config.no_traffic).then(|| srng.range(1, 8) as u32);
    let groups = vec![
        GroupSpec {
            id: 1,
            preferred: UnitName::Primary,
            preempt_ms: preempt_ms[0],
            interface_policy: Some(interface_policy[0].clone()),
            replication_http: replication_http[0],
        },
        GroupSpec {
            id: 2,
            preferred: UnitName::Secondary,
            preempt_ms: preempt_ms[1],
            interface_policy: Some(interface_policy[1].clone()),
            replication_http: replication_http[1],
        },
    ];
    let contexts = default_contexts();
    let interfaces = crate::pair::interface_names(&contexts);
    let fault_phase_ms = config.fault_phase_ms.unwrap_or_else(|| rng.range(20_000, 40_000));
    // A unit that goes down comes back only once every frame it sent before
    // can have left the fabric (a real appliance takes minutes to reboot):
    // the longest delay fault (delay plus jitter, at most 1.5 polltimes),
    // reordering (50 ms), duplication (5 ms) and the base latency. Nothing in
    // a frame orders two boots of a unit, so a frame of its previous boot
    // arriving after those of its new boot would pass for a reboot.
    let in_flight_ms = if on(Family::Delay) { poll + poll / 2 } else { 0 } + 50 + 5 + 2;
    let reboot_min = in_flight_ms.max(99) + 1;

    let mut steps = Vec::new();
    // Boots: concurrent (within a few polltimes) or staggered.
    let first = *rng.pick(&UnitName::BOTH);
    let second_at = if on(Family::ConcurrentBoot) { rng.range(0, 3 * poll) } else { rng.range(hold + poll, 5_000) };
    steps.push(Step::Boot { at_ms: 0, unit: first });
    steps.push(Step::Boot { at_ms: second_at, unit: first.other() });

    let fault_families: Vec<Family> =
        families.iter().copied().filter(|f| !matches!(f, Family::ConcurrentBoot | Family::KeyMismatch)).collect();
    let faults =
        if fault_families.is_empty() { 0 } else { config.fault_count.unwrap_or_else(|| rng.range(2, 8) as u32) };
    let start = second_at + hold + 2 * poll;
    let separate = state_link == "separate";
    let mut links = |rng: &mut Rng| -> LinkName {
        match rng.below(4) {
            // A separate state link takes a third of the failover link's share.
            0 | 1 if separate && srng.below(3) == 0 => LinkName::State,
            0 | 1 => LinkName::Failover,
            2 => LinkName::Data(rng.pick(&interfaces).clone()),
            _ => LinkName::All,
        }
    };
    let dir = |rng: &mut Rng| -> Direction {
        match rng.below(3) {
            0 => Direction::PrimaryToSecondary,
            1 => Direction::SecondaryToPrimary,
            _ => Direction::Both,
        }
    };
    for _ in 0..faults {
        let family = *rng.pick(&fault_families);
        let at = rng.range(start, fault_phase_ms.max(start + 1));
        let len = rng.range(hold / 2, 4 * hold + ihold);
        let until = Some(at + len);
        let unit = *rng.pick(&UnitName::BOTH);
        match family {
            Family::Partition => {
                let link = links(&mut rng);
                steps.push(Step::Cut { at_ms: at, link: link.clone(), direction: Direction::Both });
                steps.push(Step::Heal { at_ms: at + len, link, direction: Direction::Both });
            }
            Family::OneWay => {
                let link = links(&mut rng);
                let direction =
                    if rng.chance(0.5) { Direction::PrimaryToSecondary } else { Direction::SecondaryToPrimary };
                steps.push(Step::Cut { at_ms: at, link: link.clone(), direction });
                steps.push(Step::Heal { at_ms: at + len, link, direction });
            }
            Family::SplitBrain => {
                if rng.chance(0.7) {
                    steps.push(Step::Cut { at_ms: at, link: LinkName::Failover, direction: Direction::Both });
                    steps.push(Step::Heal { at_ms: at + len, link: LinkName::Failover, direction: Direction::Both });
                } else {
                    steps.push(Step::Cut { at_ms: at, link: LinkName::AllData, direction: Direction::Both });
                    steps.push(Step::Heal { at_ms: at + len, link: LinkName::AllData, direction: Direction::Both });
                }
            }
            Family::Loss => {
                let probability = [0.1, 0.3, 0.6, 0.9][rng.below(4) as usize];
                steps.push(Step::Loss {
                    at_ms: at,
                    link: links(&mut rng),
                    direction: dir(&mut rng),
                    probability,
                    until_ms: until,
                });
            }
            Family::HelloDrop => {
                // Either two to four hellos, around the three-missed edge that
                // starts a LAN test, or every hello for a while (LAN tests still
                // pass, so nothing may fail over).
                let (count, until_ms) = if rng.chance(0.5) { (Some(rng.range(2, 4)), None) } else { (None, until) };
                steps.push(Step::Drop {
                    at_ms: at,
                    link: LinkName::Failover,
                    direction: dir(&mut rng),
                    kind: Kind::UnitHello,
                    count,
                    until_ms,
                });
                // Sometimes with every data link cut too: only the failover link's LAN test can answer.
                if until_ms.is_some() && rng.chance(0.4) {
                    steps.push(Step::Cut { at_ms: at, link: LinkName::AllData, direction: Direction::Both });
                    steps.push(Step::Heal { at_ms: at + len, link: LinkName::AllData, direction: Direction::Both });
                }
            }
            Family::Delay => {
                let delay_ms = rng.range(5, poll);
                let jitter_ms = rng.range(0, delay_ms / 2);
                steps.push(Step::Delay {
                    at_ms: at,
                    link: links(&mut rng),
                    direction: dir(&mut rng),
                    delay_ms,
                    jitter_ms,
                    until_ms: until,
                });
            }
            Family::Duplicate => {
                let probability = [0.1, 0.5, 1.0][rng.below(3) as usize];
                steps.push(Step::Duplicate {
                    at_ms: at,
                    link: links(&mut rng),
                    direction: dir(&mut rng),
                    probability,
                    until_ms: until,
                });
            }
            Family::Reorder => {
                let probability = [0.1, 0.3, 0.5][rng.below(3) as usize];
                steps.push(Step::Reorder {
                    at_ms: at,
                    link: links(&mut rng),
                    direction: dir(&mut rng),
                    probability,
                    until_ms: until,
                });
            }
            Family::Corrupt => {
                let probability = [0.05, 0.2, 0.5][rng.below(3) as usize];
                steps.push(Step::Corrupt {
                    at_ms: at,
                    link: links(&mut rng),
                    direction: dir(&mut rng),
                    probability,
                    until_ms: until,
                });
            }
            Family::ClockDrift => {
                let ppm = rng.range(10, 1_000) as i64 * if rng.chance(0.5) { 1 } else { -1 };
                steps.push(Step::ClockDrift { at_ms: at, unit, ppm });
            }
            Family::ClockStep => {
                // Within and far beyond the holdtime, both ways.
                let ms = rng.range(1, 10 * hold) as i64 * if rng.chance(0.7) { 1 } else { -1 };
                steps.push(Step::ClockStep { at_ms: at, unit, ms });
            }
            Family::Power => {
                steps.push(Step::PowerOff { at_ms: at, unit });
                steps.push(Step::Boot { at_ms: at + rng.range(reboot_min, 3 * hold + 2_000), unit });
            }
            Family::Crash => {
                steps.push(Step::Crash {
                    at_ms: at,
                    unit,
                    reboot_after_ms: Some(rng.range(reboot_min, 3 * hold + 2_000)),
                });
            }
            Family::InterfaceDown => {
                let interface = rng.pick(&interfaces).clone();
                steps.push(Step::InterfaceDown { at_ms: at, unit, interface: interface.clone() });
                steps.push(Step::InterfaceUp { at_ms: at + len + ihold, unit, interface });
            }
            Family::InterfaceSilent => {
                let interface = rng.pick(&interfaces).clone();
                steps.push(Step::InterfaceSilent { at_ms: at, unit, interface: interface.clone() });
                steps.push(Step::InterfaceUp { at_ms: at + len + 2 * ihold, unit, interface });
            }
            Family::FlashErase => {
                // ROMMON ERASE loses the startup config and the activation key:
                // the unit boots Restricted and refuses to pair. The operator
                // enters the key again and reloads.
                steps.push(Step::EraseFlash { at_ms: at, unit });
                let reboot = rng.range(reboot_min, reboot_min.max(2_000));
                steps.push(Step::Crash { at_ms: at + 1, unit, reboot_after_ms: Some(reboot) });
                let keyed = at + 1 + reboot + rng.range(500, 3_000);
                let device = fover_protocol::config::settings::Device::default_for(unit.role());
                let key = fover_protocol::config::license::generate_key(&device.serial, &device.factory_license);
                let line = format!("activation-key {key}");
                steps.push(Step::Command { at_ms: keyed, unit, context: "system".into(), line });
                let reboot = rng.range(reboot_min, reboot_min.max(2_000));
                steps.push(Step::Crash { at_ms: keyed + 100, unit, reboot_after_ms: Some(reboot) });
            }
            Family::Commands if rng.below(2) == 0 => {
                let group = match rng.below(3) {
                    0 => String::new(),
                    1 => " group 1".into(),
                    _ => " group 2".into(),
                };
                let line = match rng.below(3) {
                    0 => format!("failover active{group}"),
                    1 => format!("no failover active{group}"),
                    _ => format!("failover reset{group}"),
                };
                steps.push(Step::Command { at_ms: at, unit, context: "system".into(), line });
            }
            Family::Commands => {
                // Configuration on either unit (so on the right and the wrong
                // one), saves and pushes, in the system space and each context.
                let mut spaces: Vec<String> = vec!["system".into()];
                spaces.extend(contexts.iter().map(|c| c.name.clone()));
                let context = rng.pick(&spaces).clone();
                let n = rng.below(1_000);
                let line = match rng.below(6) {
                    0..=2 if context != "system" => format!("access-list nemesis-{n} extended permit ip any any"),
                    0..=2 => format!("hostname fw-{n}"),
                    3 => "write memory".into(),
                    4 if context == "system" => "write memory all".into(),
                    _ => "write standby".into(),
                };
                steps.push(Step::Command { at_ms: at, unit, context, line });
            }
            Family::ConcurrentBoot | Family::KeyMismatch => {}
        }
    }
    // Heal everything, then the liveness phase.
    let heal = steps.iter().map(Step::at_ms).max().unwrap_or(0).max(fault_phase_ms) + 1;
    steps.push(Step::Heal { at_ms: heal, link: LinkName::All, direction: Direction::Both });
    for unit in UnitName::BOTH {
        for interface in &interfaces {
            let touched = steps.iter().any(|s| {
                matches!(s,
                Step::InterfaceDown { unit: u, interface: i, .. } | Step::InterfaceSilent { unit: u, interface: i, .. }
                if *u == unit && i == interface)
            });
            if touched {
                steps.push(Step::InterfaceUp { at_ms: heal, unit, interface: interface.clone() });
            }
        }
        if steps.iter().any(|s| matches!(s, Step::ClockDrift { unit: u, .. } if *u == unit)) {
            steps.push(Step::ClockDrift { at_ms: heal, unit, ppm: 0 });
        }
        if steps.iter().any(|s| matches!(s, Step::PowerOff { unit: u, .. } | Step::Crash { unit: u, .. } if *u == unit))
        {
            // Not before a crash's own reboot: a unit takes its drawn reboot
            // time (at least `reboot_min`) to come back, also at the end of
            // the run.
            let rebooted = steps
                .iter()
                .filter_map(|s| match s {
                    Step::Crash { at_ms, unit: u, reboot_after_ms: Some(r) } if *u == unit => Some(at_ms + r),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            steps.push(Step::Boot { at_ms: heal.max(rebooted), unit });
        }
    }
    let mut scenario = Scenario {
        name: format!("seed {seed}"),
        duration_ms: 1,
        seed,
        pair,
        groups,
        contexts: Vec::new(),
        traffic: traffic_ops_per_s.map(|ops| crate::workload::TrafficSpec { ops_per_s: f64::from(ops), open_max: 40 }),
        steps,
        planted_bug: None,
        check_invariants: true,
    };
    let duration_ms = config.duration_ms.unwrap_or_else(|| {
        let configs = scenario.unit_configs().expect("the nemesis draws only legal settings");
        let bound = scenario.timing(&configs).convergence_ns() / crate::fabric::MS;
        let last = scenario.steps.iter().map(Step::at_ms).max().unwrap_or(0);
        last + bound + 1_000
    });
    scenario.duration_ms = duration_ms;
    scenario.steps.retain(|s| s.at_ms() <= duration_ms);
    scenario.steps.sort_by_key(Step::at_ms);
    let options = Options {
        seed,
        families,
        unit_polltime_ms: poll,
        unit_holdtime_ms: hold,
        interface_polltime_ms: ipoll,
        interface_holdtime_ms: ihold,
        preempt_ms,
        interface_policy,
        fault_phase_ms,
        faults,
        keys: keys.into(),
        state_link: state_link.into(),
        replication_http,
        traffic_ops_per_s,
        duration_ms,
    };
    (options, scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_legal() {
        for seed in 0..200 {
            let (o1, s1) = draw(seed, &Config::default());
            let (o2, s2) = draw(seed, &Config::default());
            assert_eq!((o1, &s1), (o2, &s2));
            s1.validate().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
}
