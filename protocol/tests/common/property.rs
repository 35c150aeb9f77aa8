//! The single-active property over random `Pair` schedules.
//!
//! **Property `single_active` (always).** At every step, for each group, at
//! most one unit is active, whenever the pair has been *stable* for longer
//! than the time the protocol needs to notice a heal. Stable since `S` means
//! that continuously since `S`:
//! * both units are powered and have failover enabled (not standalone, not
//!   frozen by `no failover`);
//! * the failover link is up in both directions: not cut, and dropping none
//!   of the frames that carry liveness (hellos, LAN tests, LAN test replies).
//!   Role requests may be dropped, data links may be cut or silent, clocks
//!   may step (either way) or drift, and any command may be entered: none of
//!   that may ever make a group active twice.
//!
//! The bound is `(holdtime + polltime) × drift + 2 × latency`: a LAN test
//! sent while the link was still down may end in a takeover up to a
//! holdtime after `S`, and the both-active rule resolves it at the next
//! hello, a polltime later (on the slowest clock), plus the delivery.
//! After a power-on the same bound covers negotiation, which ends at the
//! first hello heard, long before the negotiation holdtime.
//!
//! **Property `eventually_single_active` (eventually).** A schedule that ends
//! with a full recovery (every link healed, both units on with failover
//! enabled) and then 3 s without faults ends with each group active on
//! exactly one unit and Standby Ready on the other.

use super::*;
use fover_protocol::testing::{LATENCY, Pair};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// One fault or command at a time in a schedule.
#[derive(Clone, Debug)]
pub enum Action {
    Cut(Link, Role),
    Heal(Link, Role),
    Drop(Link, Role, Kind),
    Pass(Link, Role, Kind),
    PowerOff(Role),
    PowerOn(Role),
    StepClock(Role, i64),
    Drift(Role, i64),
    LinkState(Role, IfaceId, bool),
    Silent(Role, IfaceId, bool),
    Command(Role, Command),
    /// Heal every link, unsilence and bring up every port, power both units,
    /// enable failover on both.
    Recover,
}

#[derive(Clone, Debug)]
pub struct Schedule {
    pub seed: u64,
    pub actions: Vec<(Duration, Action)>,
    pub end: Duration,
}

/// Largest drift drawn, in ppm.
pub const DRIFT_PPM: i64 = 20_000;
/// Data interfaces of the pair under test (one per group).
pub const INTERFACES: usize = 2;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        fover_protocol::rng::step(&mut self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
    fn role(&mut self) -> Role {
        self.pick(&[P, S])
    }
    fn iface(&mut self) -> IfaceId {
        IfaceId(self.below(INTERFACES as u64) as u16)
    }
    fn group(&mut self) -> Option<Group> {
        self.pick(&[None, Some(G1), Some(G2)])
    }
}

impl Schedule {
    /// A small schedule drawn from `seed`: 4 to 12 actions of any kind in the
    /// first 6 s; usually a full recovery at 6 s followed by up to 4 actions
    /// that keep the pair stable (commands, clock steps and drift, interface
    /// faults, data-link cuts, role-request drops), so that the property is
    /// checked under them; the end at 9 s.
    pub fn from_seed(seed: u64) -> Schedule {
        let mut rng = Rng(seed);
        let count = 4 + rng.below(9);
        let mut actions = Vec::new();
        for _ in 0..count {
            let at = Duration::from_millis(200 + rng.below(5_800));
            let action = match rng.below(16) {
                0 | 1 => Action::Cut(Link::Failover, rng.role()),
                2 => Action::Heal(Link::Failover, rng.role()),
                3 => Action::Cut(Link::Data(rng.iface()), rng.role()),
                4 => {
                    let kind = rng.pick(&[
                        Kind::UnitHello,
                        Kind::LanTest,
                        Kind::LanTestReply,
                        Kind::RoleRequest,
                        Kind::RoleRequest,
                    ]);
                    Action::Drop(Link::Failover, rng.role(), kind)
                }
                6 => Action::PowerOff(rng.role()),
                7 => Action::PowerOn(rng.role()),
                _ => rng.stable_action(),
            };
            actions.push((at, action));
        }
        if rng.below(5) != 0 {
            actions.push((secs(6), Action::Recover));
            for _ in 0..rng.below(5) {
                let at = Duration::from_millis(6_200 + rng.below(1_600));
                actions.push((at, rng.stable_action()));
            }
        }
        actions.sort_by_key(|(at, _)| *at);
        Schedule { seed, actions, end: secs(9) }
    }
}

impl Rng {
    /// An action that leaves the pair stable in the sense of the property.
    fn stable_action(&mut self) -> Action {
        match self.below(10) {
            0 => Action::Cut(Link::Data(self.iface()), self.role()),
            1 => Action::Drop(Link::Failover, self.role(), Kind::RoleRequest),
            2 => Action::Drop(Link::Data(self.iface()), self.role(), Kind::InterfaceHello),
            3 => Action::StepClock(self.role(), self.pick(&[-5_000, -300, 300, 8_000])),
            4 => Action::Drift(self.role(), self.pick(&[-DRIFT_PPM, 0, DRIFT_PPM])),
            5 => Action::LinkState(self.role(), self.iface(), self.below(2) == 0),
            6 => Action::Silent(self.role(), self.iface(), self.below(3) != 0),
            _ => {
                let role = self.role();
                let g = self.group();
                let command = match self.below(8) {
                    0 | 1 => Command::FailoverActive(g),
                    2 | 3 => Command::NoFailoverActive(g),
                    4 => Command::FailoverReset(g),
                    5 => Command::NoFailover,
                    6 => Command::Failover,
                    _ => Command::GroupOption(
                        g.unwrap_or(G1),
                        GroupOption::Preempt(self.pick(&[None, Some(Duration::ZERO), Some(secs(1))])),
                    ),
                };
                Action::Command(role, command)
            }
        }
    }
}

/// What a sweep saw, to show it was not vacuous.
#[derive(Clone, Debug, Default)]
pub struct Coverage {
    pub schedules: u64,
    pub steps: u64,
    /// Steps at which the property applied (the pair was stable long enough).
    pub checked_steps: u64,
    pub peer_declared_failed: u64,
    pub suspended: u64,
    pub both_active_resolved: u64,
    pub manual_or_preempt_moves: u64,
    pub interface_failed: u64,
    /// Schedules that ended with a recovery and were checked for liveness.
    pub liveness_checked: u64,
}

pub fn apply(pair: &mut Pair, action: &Action) {
    match action {
        Action::Cut(link, from) => pair.cut(*link, *from),
        Action::Heal(link, from) => pair.heal(*link, *from),
        Action::Drop(link, from, kind) => pair.drop_kind(*link, *from, *kind),
        Action::Pass(link, from, kind) => pair.pass_kind(*link, *from, *kind),
        Action::PowerOff(role) => pair.power_off(*role),
        Action::PowerOn(role) => pair.power_on(*role),
        Action::StepClock(role, ms) => pair.step_clock(*role, *ms),
        Action::Drift(role, ppm) => pair.set_drift_ppm(*role, *ppm),
        Action::LinkState(role, iface, up) => pair.set_interface_link(*role, *iface, *up),
        Action::Silent(role, iface, silent) => pair.set_silent(*role, *iface, *silent),
        Action::Command(role, command) => {
            let _ = pair.command(*role, command.clone());
        }
        Action::Recover => {
            pair.heal_all();
            for role in [P, S] {
                pair.power_on(role);
                for i in 0..INTERFACES {
                    pair.set_silent(role, IfaceId(i as u16), false);
                    if pair.unit(role).is_some_and(|u| u.iface(IfaceId(i as u16)).status() == InterfaceStatus::LinkDown)
                    {
                        pair.set_interface_link(role, IfaceId(i as u16), true);
                    }
                }
                let _ = pair.command(role, Command::Failover);
            }
        }
    }
}

/// Whether the pair is stable right now (see the module documentation).
fn stable(pair: &Pair) -> bool {
    let liveness = [Kind::UnitHello, Kind::LanTest, Kind::LanTestReply];
    [P, S].iter().all(|r| pair.unit(*r).is_some_and(|u| u.node().failover_enabled()))
        && [P, S].iter().all(|r| liveness.iter().all(|k| !pair.is_dropped(Link::Failover, *r, *k)))
}

/// The heal bound for the fast profile and the largest drift of a schedule.
pub fn heal_bound(pair: &Pair) -> Duration {
    let c = pair.config(P);
    let window = (c.unit_holdtime + c.unit_polltime).as_nanos() as u64;
    let stretched = window * 1_000_000 / (1_000_000 - DRIFT_PPM as u64) + 1;
    Duration::from_nanos(stretched) + 2 * LATENCY
}

/// Runs one schedule and checks the property after every step.
pub fn run_schedule(schedule: &Schedule, bug: Option<PlantedBug>, coverage: &mut Coverage) -> Outcome {
    let (p, s) = configs(INTERFACES, bug, |_| {});
    let mut pair = Pair::with_seed(p, s, schedule.seed);
    // Background traffic every 200 ms still reaches every interface test
    // phase (312 ms with a 5 s interface holdtime).
    pair.set_background(Some(ms(200)));
    let bound = heal_bound(&pair);
    let mut since = Some(Duration::ZERO);
    let mut next_action = 0;
    let end = schedule.end.as_nanos() as u64;
    loop {
        let action_at = schedule.actions.get(next_action).map(|(at, _)| at.as_nanos() as u64);
        let limit = action_at.map_or(end, |at| at.min(end));
        let stepped = pair.step_until(limit);
        if !stepped {
            pair.run_until(Duration::from_nanos(limit));
            let Some((_, action)) = schedule.actions.get(next_action) else { break };
            next_action += 1;
            let was_powered = [pair.is_powered(P), pair.is_powered(S)];
            let was_enabled = [P, S].map(|r| pair.unit(r).is_some_and(|u| u.node().failover_enabled()));
            apply(&mut pair, action);
            let powered_on = [P, S].iter().enumerate().any(|(i, r)| !was_powered[i] && pair.is_powered(*r));
            let enabled = [P, S]
                .iter()
                .enumerate()
                .any(|(i, r)| !was_enabled[i] && pair.unit(*r).is_some_and(|u| u.node().failover_enabled()));
            if !stable(&pair) {
                since = None;
            } else if since.is_none() || powered_on || enabled {
                since = Some(pair.now());
            }
        } else {
            coverage.steps += 1;
        }
        if since.is_some_and(|s| pair.now() >= s + bound) {
            coverage.checked_steps += 1;
            for g in [G1, G2] {
                let active = pair.active_units(g);
                ensure!(
                    active.len() <= 1,
                    "single_active: group {g} active on both units at {:?}, stable since {:?} (bound {:?})",
                    pair.now(),
                    since,
                    bound
                );
            }
        }
        if pair.now() >= schedule.end {
            break;
        }
    }
    // Eventually (liveness, PROTOCOL.md section 12 item 6): a schedule that
    // ends with a full recovery, 3 s before its end, ends with each group
    // active on exactly one unit and Standby Ready on the other.
    if matches!(schedule.actions.last(), Some((at, Action::Recover)) if *at + secs(3) <= schedule.end) {
        coverage.liveness_checked += 1;
        for g in [G1, G2] {
            let active = pair.active_units(g);
            ensure!(
                active.len() == 1 && pair.state(active[0].peer(), g) == Some(GroupState::StandbyReady),
                "eventually_single_active: at the end group {g} is active on {active:?} (primary {:?}, secondary {:?})",
                pair.state(P, g),
                pair.state(S, g)
            );
        }
    }
    coverage.schedules += 1;
    let events = || pair.events().iter().map(|r| &r.event);
    coverage.peer_declared_failed += events().any(|e| *e == Event::PeerDeclaredFailed) as u64;
    coverage.suspended += events().any(|e| *e == Event::FailoverSuspended) as u64;
    coverage.both_active_resolved += events()
        .any(|e| matches!(e, Event::GroupTransition { to: GroupState::ColdStandby, from, .. } if from.is_active()))
        as u64;
    coverage.manual_or_preempt_moves += events()
        .any(|e| matches!(e, Event::GroupTransition { reason, .. } if reason == "Set by the CI config cmd" || reason == "Preempt"))
        as u64;
    coverage.interface_failed +=
        events().any(|e| matches!(e, Event::InterfaceStatusChanged { to: InterfaceStatus::Failed, .. })) as u64;
    Ok(())
}

/// Runs the schedules of `seeds`; stops at the first failure (a property
/// violation or a panic) and returns its seed and message.
pub fn sweep(seeds: core::ops::Range<u64>, bug: Option<PlantedBug>) -> Result<Coverage, (u64, String)> {
    let mut coverage = Coverage::default();
    for seed in seeds {
        let schedule = Schedule::from_seed(seed);
        let result = catch_unwind(AssertUnwindSafe(|| run_schedule(&schedule, bug, &mut coverage)));
        let failure = match result {
            Ok(Ok(())) => continue,
            Ok(Err(message)) => message,
            Err(panic) => {
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("panic: {text}")
            }
        };
        return Err((seed, failure));
    }
    Ok(coverage)
}

/// A failure report with the schedule and the command that reproduces it.
pub fn report(seed: u64, message: &str) -> String {
    let schedule = Schedule::from_seed(seed);
    let mut text = format!("seed {seed}: {message}\nschedule:\n");
    for (at, action) in &schedule.actions {
        text.push_str(&format!("  {at:?}: {action:?}\n"));
    }
    text.push_str(&format!(
        "reproduce: FOVER_SEED={seed} cargo test -p fover-protocol --test unit_property property_single_active_one_seed -- --nocapture\n"
    ));
    text
}
