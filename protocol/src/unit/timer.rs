//! Every timer of a unit: a closed enum and a fixed table of deadlines.
//!
//! Deadlines are on the unit's own clock. [`TimerTable::rebase_back`] shifts
//! them when that clock steps backwards, so that a step back never stalls a
//! timer; forward jumps are handled by the unit (silence windows restart).

use crate::time::Instant;
use crate::types::Group;
use core::time::Duration;

/// One timer of a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// Armed while the unit takes part in failover (enabled or frozen by `no
    /// failover`), every unit polltime. Firing sends a unit hello on the
    /// failover link and re-sends pending role requests.
    UnitHello,
    /// Armed when a hello is heard, three unit polltimes later (the planted
    /// `HoldTimerTooShort` bug: one), and as long after the peer was declared
    /// failed (a failed peer keeps being tested). Firing marks the peer's
    /// state stale and starts a LAN test (with the bug: declares the peer
    /// failed at once).
    UnitHold,
    /// Armed when a LAN test is sent, at `max(last hello + holdtime, sent +
    /// polltime)`: the holdtime, and never less than a full reply window.
    /// Firing gives the verdict: a reply on a data interface only marks the
    /// failover link failed (failover suspended); no reply declares the peer
    /// failed (or, if it already is, arms the next test).
    LanTestVerdict,
    /// Armed at power-on, one unit holdtime later, while groups negotiate.
    /// Firing with no hello heard from the peer makes every negotiating group
    /// active here.
    Negotiation,
    /// Armed per group while the unit monitors interfaces, every interface
    /// polltime of the group. Firing sends an interface hello on each monitored
    /// interface of the group.
    InterfaceHello(Group),
    /// Armed per group at the earliest interface deadline of the group (no
    /// hello for half the interface holdtime, end of a test phase). Firing
    /// starts or advances the interface tests that are due.
    InterfaceCheck(Group),
    /// Armed when the group is Standby Ready on its preferred unit, with
    /// preempt on and the peer active for it, `delay` later. Firing asks the
    /// peer for the group (WantYouStandby).
    Preempt(Group),
}

impl Timer {
    /// Number of timers.
    pub const COUNT: usize = 10;
    /// Every timer, in table order (also the order in which due timers fire).
    pub const ALL: [Timer; Timer::COUNT] = [
        Timer::UnitHello,
        Timer::UnitHold,
        Timer::LanTestVerdict,
        Timer::Negotiation,
        Timer::InterfaceHello(Group::One),
        Timer::InterfaceHello(Group::Two),
        Timer::InterfaceCheck(Group::One),
        Timer::InterfaceCheck(Group::Two),
        Timer::Preempt(Group::One),
        Timer::Preempt(Group::Two),
    ];

    /// Slot in the table.
    pub const fn index(self) -> usize {
        match self {
            Timer::UnitHello => 0,
            Timer::UnitHold => 1,
            Timer::LanTestVerdict => 2,
            Timer::Negotiation => 3,
            Timer::InterfaceHello(g) => 4 + g.index(),
            Timer::InterfaceCheck(g) => 6 + g.index(),
            Timer::Preempt(g) => 8 + g.index(),
        }
    }
}

const _: () = {
    let mut i = 0;
    while i < Timer::COUNT {
        assert!(Timer::ALL[i].index() == i);
        i += 1;
    }
};

/// The deadline of every timer (`None`: not armed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct TimerTable([Option<Instant>; Timer::COUNT]);

impl TimerTable {
    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer.index()]
    }

    pub(crate) fn set(&mut self, timer: Timer, at: Instant) {
        self.0[timer.index()] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.0[timer.index()] = None;
    }

    pub(crate) fn is_armed(&self, timer: Timer) -> bool {
        self.get(timer).is_some()
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// The first timer (in table order) whose deadline has been reached.
    pub(crate) fn expired(&self, now: Instant) -> Option<Timer> {
        Timer::ALL.iter().copied().find(|t| self.get(*t).is_some_and(|at| at <= now))
    }

    /// The clock stepped back by `back`: every deadline moves back with it,
    /// so that the time left on each timer is unchanged.
    pub(crate) fn rebase_back(&mut self, back: Duration) {
        for at in self.0.iter_mut().flatten() {
            *at = *at - back;
        }
    }

    /// Pushes `timer`, if armed, to at least `at`.
    pub(crate) fn extend_to(&mut self, timer: Timer, at: Instant) {
        if let Some(d) = &mut self.0[timer.index()] {
            *d = (*d).max(at);
        }
    }

    /// Whether no deadline is after `latest`.
    pub(crate) fn all_at_or_before(&self, latest: Instant) -> bool {
        self.0.iter().all(|at| at.map_or(0, |at| at.0) <= latest.0)
    }

    /// Every armed deadline.
    pub(crate) fn armed(&self) -> impl Iterator<Item = (Timer, Instant)> + '_ {
        Timer::ALL.iter().filter_map(|t| self.get(*t).map(|at| (*t, at)))
    }
}
