//! Planted bugs: known-wrong behaviours that tests switch on to show that the
//! tests, checkers and scenarios catch them.
//!
//! A bug is planted by setting [`crate::UnitConfig::planted_bug`]; it takes
//! effect only in builds with the `planted-bugs` cargo feature (test builds of
//! this workspace enable it; release builds of the `fover` binary do not,
//! unless asked). Without the feature, [`is_planted`] is always false and the
//! optimiser removes the wrong branches.

use core::fmt;

/// One known-wrong behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlantedBug {
    /// Preempt fires at once, ignoring its configured delay.
    PreemptIgnoresDelay,
    /// A failure of the *standby* group's interfaces makes the pair fail over.
    StandbyFailureTriggersFailover,
    /// A LAN-test reply on the failover link does not reset the hold deadline:
    /// the unit declares its peer failed even though it answered.
    LanTestReplyIgnored,
    /// After a heal, two active units for a group never resolve it.
    BothActiveNeverResolves,
    /// The hold timer is one polltime instead of the holdtime, and no LAN test runs.
    HoldTimerTooShort,
    /// Frames that fail the checksum or authentication are processed anyway.
    ForgedFrameAccepted,
    /// Commands entered on the non-authoritative unit are replicated to the peer.
    ReplicateFromWrongUnit,
    /// A unit that becomes active ignores the connections replicated to it.
    IgnoreReplicatedConnections,
    /// A Failed group can be promoted to active by a peer failure.
    PromoteFailedGroup,
    /// A replicated configuration command is applied on the authority but never sent.
    ReplicationLost,
}

impl PlantedBug {
    /// Every planted bug.
    pub const ALL: &'static [PlantedBug] = &[
        PlantedBug::PreemptIgnoresDelay,
        PlantedBug::StandbyFailureTriggersFailover,
        PlantedBug::LanTestReplyIgnored,
        PlantedBug::BothActiveNeverResolves,
        PlantedBug::HoldTimerTooShort,
        PlantedBug::ForgedFrameAccepted,
        PlantedBug::ReplicateFromWrongUnit,
        PlantedBug::IgnoreReplicatedConnections,
        PlantedBug::PromoteFailedGroup,
        PlantedBug::ReplicationLost,
    ];

    /// Kebab-case name, as used on the command line (`--plant NAME`).
    pub const fn as_str(self) -> &'static str {
        match self {
            PlantedBug::PreemptIgnoresDelay => "preempt-ignores-delay",
            PlantedBug::StandbyFailureTriggersFailover => "standby-failure-triggers-failover",
            PlantedBug::LanTestReplyIgnored => "lan-test-reply-ignored",
            PlantedBug::BothActiveNeverResolves => "both-active-never-resolves",
            PlantedBug::HoldTimerTooShort => "hold-timer-too-short",
            PlantedBug::ForgedFrameAccepted => "forged-frame-accepted",
            PlantedBug::ReplicateFromWrongUnit => "replicate-from-wrong-unit",
            PlantedBug::IgnoreReplicatedConnections => "ignore-replicated-connections",
            PlantedBug::PromoteFailedGroup => "promote-failed-group",
            PlantedBug::ReplicationLost => "replication-lost",
        }
    }

    /// Parses a name produced by [`PlantedBug::as_str`].
    pub fn parse(name: &str) -> Option<PlantedBug> {
        PlantedBug::ALL.iter().copied().find(|b| b.as_str() == name)
    }
}

impl fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `bug` is planted in `planted` (always false without the `planted-bugs` feature).
#[inline(always)]
pub fn is_planted(planted: Option<PlantedBug>, bug: PlantedBug) -> bool {
    cfg!(feature = "planted-bugs") && planted == Some(bug)
}
