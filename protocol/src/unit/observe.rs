//! What a unit shows of itself: the read-only accessors behind the views of `view.rs`.

use super::*;

impl Unit {
    // ----- observers -------------------------------------------------------

    /// The settings this unit runs with.
    pub(crate) fn config(&self) -> &UnitConfig {
        &self.config
    }

    /// The boot nonce of this power-on.
    pub(crate) fn boot_nonce(&self) -> u64 {
        self.boot_nonce
    }

    /// `failover lan unit`: primary or secondary.
    pub(crate) fn role(&self) -> Role {
        self.config.role
    }

    /// Whether failover runs (false when disabled at power-on or after `no failover`).
    pub(crate) fn failover_enabled(&self) -> bool {
        self.s.mode == Mode::Enabled
    }

    /// Whether `no failover` froze the roles (hellos go on; nothing changes automatically).
    pub(crate) fn is_frozen(&self) -> bool {
        self.s.mode == Mode::Frozen
    }

    /// Whether this unit runs standalone: failover disabled from power-on
    /// (section 5), or its mate refused to pair (section 9). It sends no
    /// failover traffic and keeps every group it can active.
    pub(crate) fn is_standalone(&self) -> bool {
        self.s.mode == Mode::Standalone
    }

    /// The state of `group` on this unit.
    #[inline]
    pub(crate) fn group_state(&self, group: Group) -> GroupState {
        self.s.groups[group.index()].state
    }

    /// `show failover history` for `group`: oldest first, at most [`HISTORY_MAX`] entries.
    pub(crate) fn history(&self, group: Group) -> &[HistoryEntry] {
        &self.s.groups[group.index()].history
    }

    /// Whether automatic failover is suspended (failover link failed).
    pub(crate) fn is_suspended(&self) -> bool {
        self.s.link_failed
    }

    /// Whether the failover link is marked failed (same as [`Unit::is_suspended`]).
    pub(crate) fn failover_link_failed(&self) -> bool {
        self.s.link_failed
    }

    /// Whether the peer has been declared failed (and not heard since).
    pub(crate) fn peer_failed(&self) -> bool {
        self.s.peer.failed
    }

    /// Whether a hello from the peer has been heard since power-on.
    pub(crate) fn peer_heard(&self) -> bool {
        self.s.peer.hello.is_some()
    }

    /// The peer's state for `group` as its last hello reported it, while that
    /// report is current (a hello within the hold time).
    pub(crate) fn peer_group_state(&self, group: Group) -> Option<GroupState> {
        self.fresh_peer().map(|h| h.groups[group.index()].state)
    }

    /// The boot nonce of the peer's last hello.
    pub(crate) fn peer_boot_nonce(&self) -> Option<u64> {
        self.s.peer.boot
    }

    /// Whether a LAN test is running.
    pub(crate) fn lan_test_running(&self) -> bool {
        self.s.lan_test.is_some()
    }

    /// This unit's status of data interface `iface` (`No Link` for an unknown id).
    pub(crate) fn interface_status(&self, iface: IfaceId) -> InterfaceStatus {
        self.s.ifaces.get(iface.0 as usize).map_or(InterfaceStatus::NoLink, |m| m.status)
    }

    /// The peer's status of `iface`, as its last hello reported it.
    pub(crate) fn peer_interface_status(&self, iface: IfaceId) -> Option<InterfaceStatus> {
        self.s.ifaces.get(iface.0 as usize).and_then(|m| m.peer_status)
    }

    /// Whether `iface` is still *Waiting*: no frame from the peer has been
    /// heard on it, so it is not tested yet.
    pub(crate) fn interface_waiting(&self, iface: IfaceId) -> bool {
        self.s.ifaces.get(iface.0 as usize).is_some_and(|m| !m.peer_known)
    }

    /// Failed and monitored interfaces of `group` on this unit (Unknown ones are not counted as failed).
    pub(crate) fn failed_interfaces(&self, group: Group) -> (u16, u16) {
        self.interface_counts(group)
    }

    /// Whether a group's placement was set by a manual move that preempt will not undo.
    pub(crate) fn is_pinned(&self, group: Group) -> bool {
        self.s.groups[group.index()].pinned
    }

    /// The deadline of one timer, if armed.
    pub(crate) fn timer(&self, timer: Timer) -> Option<Instant> {
        self.s.timers.get(timer)
    }

    /// Counters (not protocol state).
    pub(crate) fn statistics(&self) -> &Statistics {
        &self.stats
    }

    /// A counter that every input bumps, except one that changes nothing but
    /// the unit's clock (forwards, within a polltime) and its statistics:
    /// other hosts' traffic on an interface the traffic leaves as it is, when
    /// the end of an input has nothing to do (see `Work` and `finish_input`).
    /// While it is unchanged, so are the unit's observable state
    /// ([`GroupView::state`], [`ConfigPlaneView::digest`], ...), its next deadline
    /// ([`Unit::poll_timeout`]) and the result of [`Unit::invariants`] (no
    /// invariant can break by the clock moving forwards: every bound on a
    /// deadline is relative to it), so a caller may keep what it derived from
    /// them. Its value means nothing across power cycles.
    #[inline]
    pub fn state_version(&self) -> u64 {
        self.version
    }

    /// Like [`Unit::state_version`], but an input that only moved deadlines
    /// and frame numbers leaves it alone too: the peer's interface hello that
    /// restarts the hold window of an interface already known, hellos sent on
    /// their timers, a peer's hello that repeats the last one (see
    /// [`Unit::check_last_input`]). While it is unchanged, so is everything
    /// the observers report but the deadlines ([`NodeView::timer`],
    /// [`Unit::poll_timeout`]) and the statistics.
    #[inline]
    pub fn observed_version(&self) -> u64 {
        self.observed_version
    }

    /// A deterministic hash (`StateHasher`) of all protocol state: configuration,
    /// session (sequence numbers, replay windows), groups and their history,
    /// peer view, timers, interface monitors. Output queues and statistics are
    /// left out, so a frame that is rejected leaves the digest unchanged.
    pub fn state_digest(&self) -> u64 {
        let mut h = StateHasher::new();
        self.config.hash(&mut h);
        self.boot_nonce.hash(&mut h);
        self.session.hash_state(&mut h);
        self.s.hash(&mut h);
        h.finish()
    }
}
