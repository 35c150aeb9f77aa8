//! Role requests: how a group moves between the units on purpose (manual
//! moves, preempt, the simultaneous-boot claim).
//!
//! The handshake never leaves a group active on both units: the unit that
//! wants a group asks (WantMeActive for a manual move, WantYouStandby for
//! preempt or the boot claim, WantVacant for a group it sees active nowhere,
//! which an active holder ignores); the holder gives it up first (Active ->
//! Standby Ready) and only then answers WantYouActive; the asker takes the
//! group on that answer alone. `no failover active` on the holder starts at
//! the second step. A unit that has handed a group over does not take it
//! back on its own until the peer has taken it, can no longer take it, or is
//! gone.
//!
//! Control messages will travel through the reliable channel (a later
//! issue). Until then a request is a plain control frame with an increasing
//! channel sequence number, re-sent with every hello while it is pending, so
//! a lost frame cannot wedge a move. This file is the one place that knows it.

use super::group::{ClaimWhy, Reason, Request};
use super::{Link, Mode, Unit};
use crate::time::Instant;
use crate::types::{Group, GroupState, Role};
use crate::wire::{Control, Message, RoleRequestKind};

impl Unit {
    /// Asks the peer for `g` (sent at the end of the input, after the hello
    /// that shows this unit's states).
    pub(super) fn claim(&mut self, g: Group, why: ClaimWhy) {
        debug_assert_eq!(self.group_state(g), GroupState::StandbyReady);
        self.s.groups[g.index()].request = Some(Request::Claim(why));
        self.out.requests_due = true;
    }

    /// Tells the peer to take `g`, which this unit has given up.
    pub(super) fn hand_over(&mut self, g: Group) {
        debug_assert!(!self.group_state(g).is_active());
        self.s.groups[g.index()].request = Some(Request::Handover);
        self.out.requests_due = true;
    }

    fn send_role_request(&mut self, group: Group, request: RoleRequestKind) {
        self.s.channel_seq += 1;
        let message =
            Message::Control { channel_seq: self.s.channel_seq, body: Control::RoleRequest { group, request } };
        self.send(Link::Failover, message);
        self.stats.role_requests_sent += 1;
    }

    /// After every hello: (re-)send what is pending.
    pub(super) fn resend_requests(&mut self) {
        if self.s.mode != Mode::Enabled || self.s.link_failed {
            return;
        }
        for g in Group::ALL {
            if let Some(request) = self.s.groups[g.index()].request {
                self.send_role_request(*g, request.kind());
            }
        }
    }

    /// A hello arrived: drop the requests it shows answered or moot.
    pub(super) fn settle_requests(&mut self) {
        let Some(hello) = self.fresh_peer() else { return };
        let failover_on = hello.failover_on;
        let states = [hello.groups[0].state, hello.groups[1].state];
        for g in Group::ALL {
            let peer_state = states[g.index()];
            let gm = &mut self.s.groups[g.index()];
            let moot = match gm.request {
                None => false,
                // A peer that does not take part answers nothing.
                Some(_) if !failover_on => true,
                // Handed over: done once the peer is active, void if it can no longer take it.
                Some(Request::Handover) => !peer_state.is_standby(),
                // Asked for a vacant group: moot once the peer is active.
                Some(Request::Claim(ClaimWhy::Vacant(_))) => peer_state.is_active(),
                Some(Request::Claim(_)) => false,
            };
            if moot {
                gm.request = None;
                self.work.state = true;
            }
        }
    }

    /// A role request from the peer (current boot) for `g`.
    pub(super) fn on_role_request(&mut self, now: Instant, g: Group, kind: RoleRequestKind) {
        if self.s.mode != Mode::Enabled {
            return;
        }
        let state = self.group_state(g);
        let pending = self.s.groups[g.index()].request;
        match kind {
            RoleRequestKind::WantMeActive | RoleRequestKind::WantYouStandby | RoleRequestKind::WantVacant => {
                if kind == RoleRequestKind::WantVacant && state.is_active() {
                    // The peer saw the group active nowhere, but its view is
                    // older than this unit's promotion: the group is not
                    // vacant. The peer drops the claim on this unit's next
                    // hello.
                    return;
                }
                let manual = kind == RoleRequestKind::WantMeActive;
                if let Some(Request::Claim(mine)) = pending {
                    // Both ask: a manual move beats preempt and the boot
                    // claim; between equals, the primary keeps asking.
                    let mine_manual = mine == ClaimWhy::Manual;
                    let yield_to_peer =
                        if manual != mine_manual { manual } else { self.config.role == Role::Secondary };
                    if !yield_to_peer {
                        return;
                    }
                }
                if state.is_active() {
                    self.go_standby_ready(now, g, Reason::OtherUnitWantsMeStandby);
                } else if !(state == GroupState::Failed || state == GroupState::Negotiation || state.is_standby()) {
                    return;
                }
                if manual {
                    self.s.groups[g.index()].pinned = true;
                }
                self.hand_over(g);
            }
            RoleRequestKind::WantYouActive => {
                // The peer gave the group up before sending this: a hello it
                // sent earlier (the last one taken in, if this request
                // overtook the hello sent with it) no longer shows its state
                // for the group.
                if self.s.peer.hello_seq < self.s.peer.request_frame_seq {
                    self.s.peer.handed_over[g.index()] = true;
                }
                if state.is_active() {
                    self.s.groups[g.index()].request = None;
                    return;
                }
                if state != GroupState::StandbyReady {
                    return;
                }
                if pending == Some(Request::Handover) && !self.preferred_here(g) {
                    // Both handed the group over: the preferred unit takes it.
                    return;
                }
                let (reason, pinned) = match pending {
                    Some(Request::Claim(ClaimWhy::Manual)) => (Reason::SetByConfigCmd, true),
                    Some(Request::Claim(ClaimWhy::Preempt)) => (Reason::Preempt, false),
                    Some(Request::Claim(ClaimWhy::Boot)) | Some(Request::Handover) => {
                        (Reason::FailoverStateCheck, false)
                    }
                    Some(Request::Claim(ClaimWhy::Vacant(reason))) => (reason, false),
                    // `no failover active` on the peer: a manual move.
                    None => (Reason::OtherUnitWantsMeActive, true),
                };
                self.go_active(now, g, reason);
                self.s.groups[g.index()].pinned = pinned;
            }
        }
    }

    pub(super) fn preferred_here(&self, g: Group) -> bool {
        self.config.groups[g.index()].preferred == self.config.role
    }
}
