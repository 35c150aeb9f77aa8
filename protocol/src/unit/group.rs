//! One failover group's state on one unit: its state, history, and the
//! bookkeeping of manual moves and role requests.

use crate::constants::HISTORY_MAX;
use crate::time::Instant;
use crate::types::GroupState;
use crate::wire::RoleRequestKind;
use core::fmt;

/// Why a group changed state, with the appliance's wording
/// (`show failover history`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// Power-on: the group starts negotiating.
    NoError,
    /// No peer (or no active peer) for the group: this unit takes it.
    NoActiveUnitFound,
    /// The peer is active for the group: this unit joins as standby (also the
    /// loser of the both-active rule after a heal).
    DetectedActiveMate,
    /// The peer asked for the group (manual move on the peer, or preempt).
    OtherUnitWantsMeStandby,
    /// The peer gave the group up (`no failover active` on the peer).
    OtherUnitWantsMeActive,
    /// A command on this unit (`failover active`, `no failover active`, `failover reset`).
    SetByConfigCmd,
    /// Monitored interfaces reached (or fell below) the interface policy.
    InterfaceCheck,
    /// The peer's group failed (or the group returns to its preferred unit after a simultaneous boot).
    FailoverStateCheck,
    /// The peer was declared failed (no hello, no LAN test reply).
    HelloNotHeard,
    /// Preempt moved the group to its preferred unit.
    Preempt,
    /// The peer rebooted while active for the group.
    OtherUnitReloaded,
    /// Failover is disabled: the unit runs standalone.
    FailoverDisabled,
}

impl Reason {
    /// The text the appliance prints.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::NoError => "No Error",
            Reason::NoActiveUnitFound => "No Active unit found",
            Reason::DetectedActiveMate => "Detected an Active mate",
            Reason::OtherUnitWantsMeStandby => "Other unit wants me Standby",
            Reason::OtherUnitWantsMeActive => "Other unit wants me Active",
            Reason::SetByConfigCmd => "Set by the CI config cmd",
            Reason::InterfaceCheck => "Interface check",
            Reason::FailoverStateCheck => "Failover state check",
            Reason::HelloNotHeard => "HELLO not heard from mate",
            Reason::Preempt => "Preempt",
            Reason::OtherUnitReloaded => "Other unit got reloaded",
            Reason::FailoverDisabled => "Failover disabled",
        }
    }

    /// A change of placement that no command or preempt asked for: it ends a
    /// manual move's protection against preempt. Losing the both-active rule
    /// after a heal is one (the peer took the group while this unit could not
    /// hear it).
    pub const fn is_automatic(self) -> bool {
        matches!(
            self,
            Reason::NoActiveUnitFound
                | Reason::DetectedActiveMate
                | Reason::InterfaceCheck
                | Reason::FailoverStateCheck
                | Reason::HelloNotHeard
                | Reason::OtherUnitReloaded
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of `show failover history`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistoryEntry {
    /// On the unit's own clock.
    pub time: Instant,
    pub from: GroupState,
    pub to: GroupState,
    pub reason: Reason,
}

/// Why this unit asks for a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ClaimWhy {
    /// `failover active [group N]` here.
    Manual,
    /// Preempt: this is the preferred unit and its delay has passed.
    Preempt,
    /// Simultaneous boot: the group goes to its preferred unit once synchronised.
    Boot,
    /// Nobody is active for the group and this unit is the one to take it;
    /// the reason it will record.
    Vacant(Reason),
}

/// A role request this unit keeps sending until it is answered (see
/// `unit::requests`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Request {
    /// This unit wants the group and waits for the peer to hand it over.
    Claim(ClaimWhy),
    /// This unit gave the group up (it is not active for it) and waits for the
    /// peer to take it: it never takes the group back on its own meanwhile.
    Handover,
}

impl Request {
    /// The wire request that carries it.
    pub(crate) const fn kind(self) -> RoleRequestKind {
        match self {
            Request::Claim(ClaimWhy::Manual) => RoleRequestKind::WantMeActive,
            Request::Claim(ClaimWhy::Preempt | ClaimWhy::Boot) => RoleRequestKind::WantYouStandby,
            Request::Claim(ClaimWhy::Vacant(_)) => RoleRequestKind::WantVacant,
            Request::Handover => RoleRequestKind::WantYouActive,
        }
    }
}

/// A group the primary holds for the secondary after a simultaneous boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BootYield {
    /// The secondary's boot.
    pub(crate) peer_boot: u64,
    /// When the primary took the group.
    pub(crate) taken_at: crate::time::Instant,
    /// Since when the secondary has shown the group Standby Ready, if it does.
    pub(crate) ready_since: Option<crate::time::Instant>,
}

/// One group's state machine on this unit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct GroupMachine {
    pub(crate) state: GroupState,
    /// Oldest first, at most [`HISTORY_MAX`].
    pub(crate) history: Vec<HistoryEntry>,
    /// The group's placement was set by a manual move (here or on the peer):
    /// preempt does not undo it. Cleared by an automatic change of placement
    /// and forgotten at reboot.
    pub(crate) pinned: bool,
    /// Simultaneous boot seen on the unit the group prefers: claim the group
    /// once synchronised.
    pub(crate) boot_claim: bool,
    /// Taken by the primary at a simultaneous boot for the peer boot named
    /// here, which the group prefers: handed over a polltime after that boot
    /// shows it Standby Ready unless the peer claimed it first (section 5),
    /// whether or not the peer saw the boot as simultaneous. See
    /// `Unit::boot_yield_due` for when it lapses.
    pub(crate) boot_yield: Option<BootYield>,
    /// The role request this unit is waiting on, if any.
    pub(crate) request: Option<Request>,
}

impl GroupMachine {
    pub(crate) fn new() -> GroupMachine {
        GroupMachine {
            state: GroupState::Disabled,
            history: Vec::new(),
            pinned: false,
            boot_claim: false,
            boot_yield: None,
            request: None,
        }
    }

    /// Records a transition; the oldest entry goes when the history is full.
    pub(crate) fn record(&mut self, entry: HistoryEntry) {
        if self.history.len() >= HISTORY_MAX {
            self.history.remove(0);
        }
        self.history.push(entry);
    }
}

/// The state that follows `state` on the active or standby path, if any.
pub(crate) const fn path_successor(state: GroupState) -> Option<GroupState> {
    match state {
        GroupState::JustActive => Some(GroupState::ActiveDrain),
        GroupState::ActiveDrain => Some(GroupState::ActiveApplyingConfig),
        GroupState::ActiveApplyingConfig => Some(GroupState::ActiveConfigApplied),
        GroupState::ActiveConfigApplied => Some(GroupState::Active),
        GroupState::ColdStandby => Some(GroupState::SyncConfig),
        GroupState::SyncConfig => Some(GroupState::SyncFileSystem),
        GroupState::SyncFileSystem => Some(GroupState::BulkSync),
        GroupState::BulkSync => Some(GroupState::StandbyReady),
        _ => None,
    }
}

/// Whether `from -> to` is a transition of section 4 of PROTOCOL.md.
pub(crate) fn is_legal_transition(from: GroupState, to: GroupState) -> bool {
    use GroupState::*;
    if path_successor(from) == Some(to) {
        return true;
    }
    match to {
        Negotiation => from == Disabled,
        // Promotion: from negotiation, from Standby Ready, or a standalone unit.
        JustActive => matches!(from, Negotiation | StandbyReady | Disabled),
        // Joining, or losing the both-active rule, or a configuration mismatch.
        ColdStandby => from == Negotiation || from.is_active() || from.is_standby(),
        // Directly from active on request, or Failed -> Standby Ready.
        StandbyReady => from.is_active() || from == Failed,
        Failed => from.is_active() || from.is_standby(),
        _ => false,
    }
}
