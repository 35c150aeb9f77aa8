//! Health: the unit hellos, the peer view they build, the LAN test and the
//! verdicts it leads to (peer failed, failover link failed), and the unit's
//! time (clock steps, silence windows). The interface monitor is `iface`.

use super::*;

/// What this unit knows of its peer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Peer {
    /// Boot nonce of the peer's last hello.
    pub(super) boot: Option<u64>,
    /// The peer's last hello.
    pub(super) hello: Option<UnitHello>,
    /// When it arrived.
    pub(super) last_hello_at: Option<Instant>,
    /// A hello arrived and the hold deadline has not passed since: decisions
    /// may rely on the peer's group states. False while a LAN test runs and
    /// while failover is suspended.
    pub(super) fresh: bool,
    /// Declared failed: no hello and no reply to a LAN test by the holdtime.
    pub(super) failed: bool,
    /// An authenticated peer frame arrived on a data interface since power-on.
    pub(super) seen_on_data: bool,
    /// Frame sequence number of the last hello taken in (from `boot`): an
    /// older hello arriving late is ignored.
    pub(super) hello_seq: u64,
    /// Highest channel sequence number of a role request taken in (from
    /// `boot`): a duplicate or late request is ignored.
    pub(super) request_seq: u64,
    /// Frame sequence number of that role request: a hello the peer sent
    /// before it (overtaken on the way) shows a state the request changed,
    /// and is ignored.
    pub(super) request_frame_seq: u64,
    /// Earlier boots of the peer, newest last, at most [`PEER_BOOTS_RETIRED_MAX`]:
    /// their frames are stale.
    pub(super) retired_boots: Vec<u64>,
    /// Per group: the peer handed the group over (WantYouActive) after its
    /// last hello was sent, so that hello's state for the group is superseded
    /// and no rule may act on it until the next hello.
    pub(super) handed_over: [bool; 2],
}

/// A LAN test in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct LanTestRun {
    pub(super) nonce: u32,
    pub(super) sent_at: Instant,
    /// A reply came back on a data interface (not on the failover link).
    pub(super) data_reply: bool,
}

impl Unit {
    // ----- time ------------------------------------------------------------

    /// Takes in a new reading of the clock: rebases deadlines when it went
    /// back, restarts silence windows after a forward gap ([fover] Clocks).
    #[inline]
    pub(super) fn observe_time(&mut self, now: Instant) {
        let last = self.s.clock;
        // The gap is at least a polltime, and most inputs come sooner.
        if now < last || (now.saturating_since(last) > self.config.unit_polltime && self.s.mode != Mode::Standalone) {
            self.observe_time_step(now);
        }
        self.s.clock = now;
    }

    /// [`Unit::observe_time`] when the clock went back or may have jumped forwards.
    #[cold]
    #[inline(never)]
    fn observe_time_step(&mut self, now: Instant) {
        let last = self.s.clock;
        if now < last {
            self.work.state = true;
            self.rebase_back(last.saturating_since(now));
        } else if now.saturating_since(last) > self.gap_threshold() {
            self.work.state = true;
            self.restart_silence_windows(now);
        }
    }

    /// The clock stepped back by `back`: every stored instant moves with it,
    /// so the time left on each timer and window is unchanged.
    pub(super) fn rebase_back(&mut self, back: Duration) {
        self.s.timers.rebase_back(back);
        self.s.cp.rebase_back(back);
        if let Some(at) = &mut self.s.peer.last_hello_at {
            *at = *at - back;
        }
        if let Some(run) = &mut self.s.lan_test {
            run.sent_at = run.sent_at - back;
        }
        for m in &mut self.s.ifaces {
            m.rebase_back(back);
        }
    }

    pub(super) fn gap_threshold(&self) -> Duration {
        let p = self.config.unit_polltime;
        p + p / CLOCK_GAP_SLACK_DIVISOR
    }

    /// After a forward gap the unit heard nothing for a while through no fault
    /// of the peer's: each silence window gets its full length from `now`.
    pub(super) fn restart_silence_windows(&mut self, now: Instant) {
        let p = self.config.unit_polltime;
        self.s.timers.extend_to(Timer::UnitHold, now + self.hold_window());
        self.s.timers.extend_to(Timer::LanTestVerdict, now + p);
        self.s.timers.extend_to(Timer::Negotiation, now + p);
        for i in 0..self.s.ifaces.len() {
            let g = self.s.iface_groups[i];
            let half = self.iface_half_hold(g);
            let phase = self.iface_phase_len(g);
            self.s.ifaces[i].restart_windows(now, half, phase);
        }
        for g in Group::ALL {
            self.rearm_interface_check(*g);
            // A jump must not make preempt fire early either: the delay starts again.
            if !self.planted(PlantedBug::PreemptIgnoresDelay) {
                let delay = self.config.groups[g.index()].preempt_delay.unwrap_or_default();
                self.s.timers.extend_to(Timer::Preempt(*g), now + delay);
            }
        }
    }

    /// Three polltimes with no hello before the LAN test.
    pub(super) fn hold_window(&self) -> Duration {
        let p = self.config.unit_polltime;
        if self.planted(PlantedBug::HoldTimerTooShort) { p } else { p * UNIT_HELLOS_MISSED_MAX as u32 }
    }

    pub(super) fn on_hello(&mut self, now: Instant, boot: u64, seq: u64, hello: UnitHello) {
        if self.s.peer.boot == Some(boot) && seq <= self.s.peer.hello_seq {
            return; // an older hello, late
        }
        if self.s.peer.boot == Some(boot) && seq < self.s.peer.request_frame_seq {
            // Overtaken by a role request sent after it: its states may be
            // superseded, so they are not taken in. But it is the peer's
            // current boot, heard on the failover link: the peer is alive and
            // the link works. Ignoring that too left a unit that had marked
            // the link failed suspended for as long as every hello was
            // overtaken by the request resent with it (sweep seed 359675).
            self.on_peer_heard_on_failover_link(now);
            return;
        }
        self.stats.hellos_received += 1;
        if self.s.peer.fresh && self.s.peer.boot == Some(boot) && self.s.peer.hello.as_ref() == Some(&hello) {
            self.on_hello_repeated(now, seq);
            return;
        }
        // A hello that repeats the last one of the same boot leaves the
        // peer's interface statuses as they are (they come from it alone).
        let repeated = self.s.peer.boot == Some(boot) && self.s.peer.hello.as_ref() == Some(&hello);
        self.work.state |= !repeated || !self.s.peer.fresh || self.s.peer.handed_over != [false; 2];
        self.work.timers = true;
        if let Some(old) = self.s.peer.boot.filter(|b| *b != boot) {
            let retired = &mut self.s.peer.retired_boots;
            if retired.len() >= PEER_BOOTS_RETIRED_MAX {
                retired.remove(0);
            }
            retired.push(old);
            self.s.peer.request_seq = 0;
            self.s.peer.request_frame_seq = 0;
            self.on_peer_reboot();
        }
        self.s.peer.hello_seq = seq;
        self.s.peer.handed_over = [false; 2];
        if !repeated {
            for m in &mut self.s.ifaces {
                m.peer_status = None;
            }
            for entry in &hello.interfaces {
                if let Some(m) = self.s.ifaces.get_mut(entry.iface as usize) {
                    m.peer_status = Some(entry.status);
                }
            }
        }
        self.on_peer_interface_report();
        let peer = &mut self.s.peer;
        peer.boot = Some(boot);
        peer.hello = Some(hello);
        peer.fresh = true;
        self.on_peer_heard_on_failover_link(now);
        self.settle_requests();
    }

    /// A hello that repeats the last one taken in from the same boot, while
    /// the peer's view is current (so it is neither failed nor suspended and
    /// no LAN test runs): the peer's interface statuses stay as they are, so
    /// only failures still to confirm and the Unknown rule, hand-overs and
    /// role requests can change, besides the frame number and hold deadline.
    fn on_hello_repeated(&mut self, now: Instant, seq: u64) {
        let peer = &mut self.s.peer;
        self.work.state |= peer.handed_over != [false; 2];
        self.work.timers = true;
        peer.hello_seq = seq;
        peer.handed_over = [false; 2];
        if self.s.ifaces.iter().any(|m| matches!(m.status, InterfaceStatus::Failed | InterfaceStatus::Unknown)) {
            self.on_peer_interface_report();
        }
        self.on_peer_heard_on_failover_link(now);
        self.settle_requests();
    }

    /// A hello of the peer's current boot arrived on the failover link (taken
    /// in or not): a LAN test has passed, a failed link works again, and the
    /// hold window starts again.
    pub(super) fn on_peer_heard_on_failover_link(&mut self, now: Instant) {
        let peer = &mut self.s.peer;
        peer.last_hello_at = Some(now);
        self.work.timers = true;
        self.work.state |= peer.failed;
        peer.failed = false;
        if self.s.lan_test.take().is_some() {
            self.s.timers.stop(Timer::LanTestVerdict);
            self.push_event(Event::LanTestPassed);
        }
        if self.s.link_failed {
            self.s.link_failed = false;
            self.push_event(Event::FailoverLinkRecovered);
            self.push_event(Event::FailoverResumed);
        }
        self.s.timers.set(Timer::UnitHold, now + self.hold_window());
    }

    /// The peer's hello carries a new boot nonce: what it was asked or
    /// promised in its previous life is void, and so are manual moves.
    pub(super) fn on_peer_reboot(&mut self) {
        for gm in &mut self.s.groups {
            gm.request = None;
            gm.pinned = false;
        }
    }

    pub(super) fn on_lan_test_reply(&mut self, now: Instant, link: Link, reply: LanTest) {
        let Some(run) = &mut self.s.lan_test else { return };
        if run.nonce != reply.nonce {
            return;
        }
        match link {
            Link::Failover => {
                if planted::is_planted(self.config.planted_bug, PlantedBug::LanTestReplyIgnored) {
                    return;
                }
                self.s.lan_test = None;
                self.s.timers.stop(Timer::LanTestVerdict);
                self.s.timers.set(Timer::UnitHold, now + self.hold_window());
                self.push_event(Event::LanTestPassed);
            }
            _ => run.data_reply = true,
        }
    }

    // ----- timers ----------------------------------------------------------

    pub(super) fn start_failover_timers(&mut self, now: Instant) {
        self.s.timers.set(Timer::UnitHello, now);
        for g in Group::ALL {
            self.s.timers.set(Timer::InterfaceHello(*g), now);
        }
    }

    pub(super) fn on_timer(&mut self, now: Instant, timer: Timer) {
        // The hello timers only send and re-arm; the others may change anything.
        match timer {
            Timer::UnitHello | Timer::InterfaceHello(_) => self.work.timers = true,
            _ => self.work.state = true,
        }
        match timer {
            Timer::UnitHello => {
                self.send_hello();
                self.out.hello_due = false;
                self.out.requests_due = true;
                self.s.timers.set(Timer::UnitHello, now + self.config.unit_polltime);
            }
            Timer::UnitHold => {
                self.s.peer.fresh = false;
                self.confirm_interface_failures();
                if self.s.mode != Mode::Enabled || self.s.link_failed {
                    return;
                }
                if self.planted(PlantedBug::HoldTimerTooShort) && !self.s.peer.failed {
                    self.declare_peer_failed(now);
                } else {
                    self.start_lan_test(now);
                }
            }
            Timer::LanTestVerdict => self.lan_test_verdict(now),
            Timer::Negotiation => self.negotiation_timeout(now),
            Timer::InterfaceHello(g) => {
                self.send_interface_hellos(g);
                let p = self.config.groups[g.index()].interface_polltime;
                self.s.timers.set(Timer::InterfaceHello(g), now + p);
            }
            Timer::InterfaceCheck(g) => self.interface_check(now, g),
            Timer::Preempt(g) => self.preempt_due(g),
        }
    }

    /// Three polltimes without a hello: probe the peer on every link.
    pub(super) fn start_lan_test(&mut self, now: Instant) {
        let nonce = self.next_random() as u32;
        self.send(Link::Failover, Message::LanTest(LanTest { nonce }));
        for i in 0..self.s.ifaces.len() {
            if self.s.ifaces[i].link_up {
                self.send(Link::Data(IfaceId(i as u16)), Message::LanTest(LanTest { nonce }));
            }
        }
        self.stats.lan_tests_sent += 1;
        self.s.lan_test = Some(LanTestRun { nonce, sent_at: now, data_reply: false });
        let hold_end = self.s.peer.last_hello_at.map_or(now, |at| at + self.config.unit_holdtime);
        let verdict = hold_end.max(now + self.config.unit_polltime);
        self.s.timers.set(Timer::LanTestVerdict, verdict);
        self.push_event(Event::LanTestStarted);
    }

    pub(super) fn lan_test_verdict(&mut self, now: Instant) {
        let Some(run) = self.s.lan_test.take() else { return };
        debug_assert!(now >= run.sent_at + self.config.unit_polltime, "a LAN test always gets its full reply window");
        if run.data_reply {
            self.mark_failover_link_failed();
        } else if self.s.peer.failed {
            // Still silent: test again after another hold window.
            self.s.timers.set(Timer::UnitHold, now + self.hold_window());
        } else {
            self.declare_peer_failed(now);
        }
    }

    pub(super) fn mark_failover_link_failed(&mut self) {
        if self.s.link_failed {
            return;
        }
        self.s.link_failed = true;
        self.s.peer.fresh = false;
        self.confirm_interface_failures();
        self.s.timers.stop(Timer::UnitHold);
        for g in Group::ALL {
            self.s.timers.stop(Timer::Preempt(*g));
            // The mate cannot be asked any more: a claim still waiting for its
            // answer is abandoned, as `failover active` would be refused now.
            // A hand-over stays: this unit gave the group up and must not take
            // it back on its own.
            let gm = &mut self.s.groups[g.index()];
            if matches!(gm.request, Some(group::Request::Claim(_))) {
                gm.request = None;
            }
        }
        self.push_event(Event::FailoverLinkFailed);
        self.push_event(Event::FailoverSuspended);
        let text =
            format!("({}) Lost Failover communications with mate on interface {FAILOVER_LINK_NAME}", self.role());
        self.syslog(105005, text);
    }

    /// No hello and no LAN test reply by the holdtime: the peer is gone; take
    /// over every group it was active for (only Standby Ready groups).
    pub(super) fn declare_peer_failed(&mut self, now: Instant) {
        let peer = &mut self.s.peer;
        peer.failed = true;
        peer.fresh = false;
        self.confirm_interface_failures();
        self.s.lan_test = None;
        self.s.timers.stop(Timer::LanTestVerdict);
        // The peer keeps being tested: if it is only its hellos that are
        // lost, a LAN test reply withdraws the verdict (see `on_frame`).
        self.s.timers.set(Timer::UnitHold, now + self.hold_window());
        self.push_event(Event::PeerDeclaredFailed);
        for g in Group::ALL {
            let g = *g;
            self.s.groups[g.index()].request = None;
            self.s.timers.stop(Timer::Preempt(g));
            match self.group_state(g) {
                GroupState::StandbyReady => self.go_active(now, g, Reason::HelloNotHeard),
                GroupState::Negotiation => self.go_active(now, g, Reason::NoActiveUnitFound),
                GroupState::Failed if self.planted(PlantedBug::PromoteFailedGroup) => {
                    self.go_active(now, g, Reason::HelloNotHeard)
                }
                // Failed is never promoted; the standby path before Standby
                // Ready cannot be promoted by a failure either (it completes
                // at once; see `run_path`).
                _ => {}
            }
        }
    }

    /// The negotiation holdtime passed. With no hello heard, this unit takes
    /// every negotiating group; if the peer answered on a data interface, the
    /// failover link is down at startup: it is marked failed.
    pub(super) fn negotiation_timeout(&mut self, now: Instant) {
        if self.s.mode != Mode::Enabled || self.s.peer.hello.is_some() {
            return;
        }
        for g in Group::ALL {
            if self.group_state(*g) == GroupState::Negotiation {
                self.go_active(now, *g, Reason::NoActiveUnitFound);
            }
        }
        if self.s.peer.seen_on_data {
            self.mark_failover_link_failed();
        }
    }

    pub(super) fn send_hello(&mut self) {
        let groups = [Group::One, Group::Two].map(|g| {
            let (failed, monitored) = self.interface_counts(g);
            GroupHealth { state: self.group_state(g), monitored, failed }
        });
        let interfaces = self
            .config
            .interfaces
            .iter()
            .zip(&self.s.ifaces)
            .enumerate()
            .filter(|(_, (c, _))| c.monitored)
            .take(wire::HELLO_INTERFACES_MAX)
            .map(|(i, (_, m))| InterfaceHealth { iface: i as u16, status: m.status })
            .collect();
        let hello =
            UnitHello { failover_on: self.s.mode == Mode::Enabled, version: self.config.version, groups, interfaces };
        self.send(Link::Failover, Message::UnitHello(hello));
        self.stats.hellos_sent += 1;
    }
}
