//! Read-only views of a [`Unit`], grouped by what they describe: the unit
//! itself ([`NodeView`]), one group ([`GroupView`]), the mate as this unit
//! knows it ([`PeerView`]), one data interface ([`IfaceView`]), and the two
//! planes ([`StatePlaneView`], [`ConfigPlaneView`]). They keep `Unit`'s own
//! API to its inputs, outputs and a few whole-state reads.

use super::*;
use crate::channel::ChannelStats;
use crate::config::license::{License, PairingInfo};
use crate::config::replication::SyncInProgress;
use crate::config::running::RunningConfig;
use crate::connections::{Entry, ObjectCounters, ObjectType, StateTables};
use crate::show::{DeviceInfo, HostView};
use crate::types::Space;
use crate::wire::StateObject;

/// The unit itself: settings, mode, failover link, timers, counters, license.
#[derive(Clone, Copy)]
pub struct NodeView<'a>(&'a Unit);

/// One failover group on this unit.
#[derive(Clone, Copy)]
pub struct GroupView<'a>(&'a Unit, Group);

/// The mate, as this unit knows it from its hellos.
#[derive(Clone, Copy)]
pub struct PeerView<'a>(&'a Unit);

/// One data interface of this unit.
#[derive(Clone, Copy)]
pub struct IfaceView<'a>(&'a Unit, IfaceId);

/// The state plane: connection tables, replication, bulk sync.
#[derive(Clone, Copy)]
pub struct StatePlaneView<'a>(&'a Unit);

/// The config plane: running config, flash, config sync, reliable channel.
#[derive(Clone, Copy)]
pub struct ConfigPlaneView<'a>(&'a Unit);

impl Unit {
    /// The unit itself: settings, mode, timers, statistics, license.
    #[inline]
    pub fn node(&self) -> NodeView<'_> {
        NodeView(self)
    }

    /// One failover group on this unit.
    #[inline]
    pub fn group(&self, group: Group) -> GroupView<'_> {
        GroupView(self, group)
    }

    /// The mate, as this unit knows it.
    #[inline]
    pub fn peer(&self) -> PeerView<'_> {
        PeerView(self)
    }

    /// Data interface `iface` of this unit.
    #[inline]
    pub fn iface(&self, iface: IfaceId) -> IfaceView<'_> {
        IfaceView(self, iface)
    }

    /// The state plane (stateful failover).
    #[inline]
    pub fn state_plane(&self) -> StatePlaneView<'_> {
        StatePlaneView(self)
    }

    /// The config plane (configuration, flash, config sync).
    #[inline]
    pub fn config_plane(&self) -> ConfigPlaneView<'_> {
        ConfigPlaneView(self)
    }
}

impl<'a> NodeView<'a> {
    /// The settings this unit runs with.
    #[inline]
    pub fn config(self) -> &'a UnitConfig {
        self.0.config()
    }
    /// The boot nonce of this power-on.
    #[inline]
    pub fn boot_nonce(self) -> u64 {
        self.0.boot_nonce()
    }
    /// `failover lan unit`: primary or secondary.
    #[inline]
    pub fn role(self) -> Role {
        self.0.role()
    }
    /// Whether failover runs (false when disabled at power-on or after `no failover`).
    #[inline]
    pub fn failover_enabled(self) -> bool {
        self.0.failover_enabled()
    }
    /// Whether `no failover` froze the roles.
    #[inline]
    pub fn is_frozen(self) -> bool {
        self.0.is_frozen()
    }
    /// Whether this unit runs standalone: failover disabled from power-on, or its mate refused to pair.
    #[inline]
    pub fn is_standalone(self) -> bool {
        self.0.is_standalone()
    }
    /// Whether automatic failover is suspended (failover link failed).
    #[inline]
    pub fn is_suspended(self) -> bool {
        self.0.is_suspended()
    }
    /// Whether the failover link is marked failed (same as [`NodeView::is_suspended`]).
    #[inline]
    pub fn failover_link_failed(self) -> bool {
        self.0.failover_link_failed()
    }
    /// Whether a LAN test is running.
    #[inline]
    pub fn lan_test_running(self) -> bool {
        self.0.lan_test_running()
    }
    /// The deadline of one timer, if armed.
    #[inline]
    pub fn timer(self, timer: Timer) -> Option<Instant> {
        self.0.timer(timer)
    }
    /// Counters (not protocol state).
    #[inline]
    pub fn statistics(self) -> &'a Statistics {
        self.0.statistics()
    }
    /// Failed and monitored interfaces of each group (indexed by [`Group::index`]).
    #[inline]
    pub fn failed_interfaces_by_group(self) -> [(u16, u16); 2] {
        self.0.failed_interfaces_by_group()
    }
    /// The license this unit runs with (from the activation key in flash).
    #[inline]
    pub fn license(self) -> License {
        self.0.license()
    }
    /// Why this unit refused to pair with its mate's current boot, if it did.
    #[inline]
    pub fn pairing_refusal(self) -> Option<&'a str> {
        self.0.pairing_refusal()
    }
    /// What this unit tells its mate.
    #[inline]
    pub fn pairing_info(self) -> PairingInfo {
        self.0.pairing_info()
    }
    /// What `show` prints that lives in the running config and flash.
    #[inline]
    pub fn device_info(self) -> DeviceInfo {
        self.0.device_info()
    }
    /// This unit as the `This host` part of `show failover` shows it.
    #[inline]
    pub fn this_host(self, now: Instant, device: &DeviceInfo) -> HostView {
        self.0.this_host(now, device)
    }
    /// The mate as this unit sees it (the `Other host` part of `show failover`).
    #[inline]
    pub fn other_host(self, now: Instant, device: &DeviceInfo) -> HostView {
        self.0.other_host(now, device)
    }
}

impl<'a> GroupView<'a> {
    /// The state of the group on this unit.
    #[inline]
    pub fn state(self) -> GroupState {
        self.0.group_state(self.1)
    }
    /// `show failover history` for the group: oldest first, at most [`HISTORY_MAX`] entries.
    #[inline]
    pub fn history(self) -> &'a [HistoryEntry] {
        self.0.history(self.1)
    }
    /// Whether the group's placement was set by a manual move that preempt will not undo.
    #[inline]
    pub fn is_pinned(self) -> bool {
        self.0.is_pinned(self.1)
    }
    /// Failed and monitored interfaces of the group on this unit.
    #[inline]
    pub fn failed_interfaces(self) -> (u16, u16) {
        self.0.failed_interfaces(self.1)
    }
}

impl PeerView<'_> {
    /// Whether the peer has been declared failed (and not heard since).
    #[inline]
    pub fn failed(self) -> bool {
        self.0.peer_failed()
    }
    /// Whether a hello from the peer has been heard since power-on.
    #[inline]
    pub fn heard(self) -> bool {
        self.0.peer_heard()
    }
    /// The peer's state for `group` as its last current hello reported it.
    #[inline]
    pub fn group_state(self, group: Group) -> Option<GroupState> {
        self.0.peer_group_state(group)
    }
    /// The boot nonce of the peer's last hello.
    #[inline]
    pub fn boot_nonce(self) -> Option<u64> {
        self.0.peer_boot_nonce()
    }
    /// The peer's status of `iface`, as its last hello reported it.
    #[inline]
    pub fn interface_status(self, iface: IfaceId) -> Option<InterfaceStatus> {
        self.0.peer_interface_status(iface)
    }
}

impl IfaceView<'_> {
    /// This unit's status of the interface (`No Link` for an unknown id).
    #[inline]
    pub fn status(self) -> InterfaceStatus {
        self.0.interface_status(self.1)
    }
    /// The peer's status of the interface, as its last hello reported it.
    #[inline]
    pub fn peer_status(self) -> Option<InterfaceStatus> {
        self.0.peer_interface_status(self.1)
    }
    /// Whether the interface is still *Waiting* (not tested yet).
    #[inline]
    pub fn waiting(self) -> bool {
        self.0.interface_waiting(self.1)
    }
}

impl<'a> StatePlaneView<'a> {
    /// The connections (TCP, UDP, HTTP) this unit knows in `context`, in id order.
    pub fn connections(self, context: &str) -> Vec<StateObject> {
        self.0.connections(context)
    }
    /// Every entry this unit keeps in `context` (replicated and local), in table order.
    pub fn entries(self, context: &str) -> Vec<Entry> {
        self.0.state_entries(context)
    }
    /// All the tables of this unit.
    #[inline]
    pub fn tables(self) -> &'a StateTables {
        self.0.state_tables()
    }
    /// The `Stateful Failover Logical Update Statistics` counters of one object type.
    #[inline]
    pub fn counters(self, t: ObjectType) -> ObjectCounters {
        self.0.stateful_counters(t)
    }
    /// `Xmit Q` Cur and Max of `show failover`.
    #[inline]
    pub fn xmit_queue(self) -> (u64, u64) {
        self.0.xmit_queue()
    }
    /// Whether a whole bulk sync from the mate's current boot has arrived.
    #[inline]
    pub fn bulk_sync_received(self) -> bool {
        self.0.bulk_sync_received()
    }
    /// Whether this unit is sending a bulk sync now.
    #[inline]
    pub fn bulk_sync_sending(self) -> bool {
        self.0.bulk_sync_sending()
    }
    /// How far this unit's replicated state has reached its mate.
    #[inline]
    pub fn replication_mark(self) -> ReplicationMark {
        self.0.replication_mark()
    }
}

impl<'a> ConfigPlaneView<'a> {
    /// The running configuration.
    #[inline]
    pub fn running(self) -> &'a RunningConfig {
        self.0.running_config()
    }
    /// [`RunningConfig::digest`] of the running config.
    #[inline]
    pub fn digest(self) -> u32 {
        self.0.config_digest()
    }
    /// The flash (startup configs, files, activation key).
    #[inline]
    pub fn flash(self) -> &'a Flash {
        self.0.flash()
    }
    /// A command was applied on this unit only; the configs differ until the next full sync.
    #[inline]
    pub fn out_of_sync(self) -> bool {
        self.0.config_out_of_sync()
    }
    /// The spaces that differ from the peer's until a sync covers them.
    pub fn out_of_sync_spaces(self) -> impl Iterator<Item = &'a Space> {
        self.0.out_of_sync_spaces()
    }
    /// The full configuration sync running on this unit, if any.
    #[inline]
    pub fn sync(self) -> Option<SyncInProgress> {
        self.0.config_sync()
    }
    /// Counters of the reliable channel.
    #[inline]
    pub fn channel_stats(self) -> ChannelStats {
        self.0.channel_stats()
    }
    /// Whether this unit is the authority for `space` now.
    #[inline]
    pub fn is_authoritative(self, space: &Space) -> bool {
        self.0.is_authoritative(space)
    }
}
