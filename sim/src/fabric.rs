//! The fabric: every frame between the units crosses it, per link and per
//! direction. It decides, from its fault state and a seeded RNG, whether a
//! frame is dropped (and why), how late it arrives, whether it is duplicated,
//! reordered or corrupted. Runtime-free: both engines call it.

use crate::rng::Rng;
use crate::schedule::{Direction, LinkName, UnitName};
use fover_protocol::wire::{self, Kind};

/// Index of a link: 0 failover, 1 state, 2.. data interfaces in config order.
pub type LinkIdx = usize;
pub const LINK_FAILOVER: LinkIdx = 0;
pub const LINK_STATE: LinkIdx = 1;
pub const LINK_DATA0: LinkIdx = 2;

/// One millisecond, in nanoseconds.
pub const MS: u64 = 1_000_000;

/// The physical state of one data port on one unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Port {
    #[default]
    Up,
    /// Link down: the unit sees it.
    Down,
    /// Link up, but nothing passes.
    Silent,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Timed<T> {
    value: T,
    until_ns: Option<u64>,
}

impl<T: Copy> Timed<T> {
    fn get(&self, now: u64) -> Option<T> {
        match self.until_ns {
            Some(u) if now >= u => None,
            _ => Some(self.value),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct DropRule {
    kind: Kind,
    remaining: Option<u64>,
    until_ns: Option<u64>,
}

/// The faults on one direction of one link.
#[derive(Clone, Debug, Default, PartialEq)]
struct DirFaults {
    cut: bool,
    loss: Option<Timed<f64>>,
    delay: Option<Timed<(u64, u64)>>,
    duplicate: Option<Timed<f64>>,
    reorder: Option<Timed<f64>>,
    corrupt: Option<Timed<f64>>,
    drops: Vec<DropRule>,
}

impl DirFaults {
    /// Whether frames of one of `kinds` can be lost on this direction now, or
    /// delayed by `delay_limit_ns` or more.
    fn impairs(&self, now: u64, delay_limit_ns: u64, kinds: &[Kind]) -> bool {
        self.cut
            || self.loss.as_ref().and_then(|t| t.get(now)).is_some_and(|p| p > 0.0)
            || self.corrupt.as_ref().and_then(|t| t.get(now)).is_some_and(|p| p > 0.0)
            || self.delay.as_ref().and_then(|t| t.get(now)).is_some_and(|(d, j)| d + j >= delay_limit_ns)
            || self
                .drops
                .iter()
                .any(|d| kinds.contains(&d.kind) && d.until_ns.is_none_or(|u| now < u) && d.remaining != Some(0))
    }

    fn impairs_hellos(&self, now: u64, delay_limit_ns: u64) -> bool {
        self.impairs(now, delay_limit_ns, &[Kind::UnitHello, Kind::LanTest, Kind::LanTestReply, Kind::InterfaceHello])
    }
}

/// Why the fabric dropped a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    Cut,
    Loss,
    DropByKind,
    PortDown,
    PortSilent,
    NoSuchLink,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Cut => "cut",
            DropReason::Loss => "loss",
            DropReason::DropByKind => "drop-by-kind",
            DropReason::PortDown => "port-down",
            DropReason::PortSilent => "port-silent",
            DropReason::NoSuchLink => "no-such-link",
        }
    }
}

/// One copy of a frame to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub delay_ns: u64,
    pub bytes: Vec<u8>,
    /// The fabric flipped bytes: the receiver must reject it.
    pub corrupted: bool,
    pub duplicate: bool,
}

/// The copies of a delivered frame: the frame, and maybe a duplicate.
/// (Not a `Vec`: one allocation less per frame.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copies {
    pub first: Delivery,
    pub duplicate: Option<Delivery>,
}

impl IntoIterator for Copies {
    type Item = Delivery;
    type IntoIter = core::iter::Chain<core::iter::Once<Delivery>, core::option::IntoIter<Delivery>>;
    fn into_iter(self) -> Self::IntoIter {
        core::iter::once(self.first).chain(self.duplicate)
    }
}

/// What the fabric does with one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    Dropped(DropReason),
    Deliver(Copies),
}

/// Whether the units have a working path to learn that the other is alive:
/// a link on which LAN tests and their replies pass both ways (hellos may be
/// dropped: the LAN test is the protocol's answer to missing hellos).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathState {
    /// The failover link carries LAN tests both ways.
    pub failover: bool,
    /// At least one data interface does, with both ports passing traffic.
    pub any_data: bool,
    /// The failover link carries hellos both ways (what a negotiating unit listens for).
    pub failover_hellos: bool,
    /// The failover link carries role requests and their answers both ways.
    pub failover_requests: bool,
}

/// The fabric between the two units.
#[derive(Clone, Debug)]
pub struct Fabric {
    /// Per link, per sending unit (index 0 primary, 1 secondary).
    links: Vec<[DirFaults; 2]>,
    /// Per unit, per data interface.
    ports: [Vec<Port>; 2],
    /// Interface names (`context/interface`) in link order.
    interfaces: Vec<String>,
    separate_state_link: bool,
    base_latency_ns: u64,
    base_jitter_ns: u64,
    rng: Rng,
    /// Bumped by every change of fault state (cache key).
    version: u64,
    /// `path_state` as last computed: (version, delay limit, valid until ns, state).
    path_cache: std::cell::Cell<Option<(u64, u64, u64, PathState)>>,
    /// Frames dropped per reason, for the summary.
    pub dropped: [u64; 6],
    pub corrupted: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

impl Fabric {
    pub fn new(
        interfaces: Vec<String>,
        separate_state_link: bool,
        base_latency_ns: u64,
        base_jitter_ns: u64,
        rng: Rng,
    ) -> Fabric {
        let n = LINK_DATA0 + interfaces.len();
        Fabric {
            links: vec![Default::default(); n],
            ports: [vec![Port::Up; interfaces.len()], vec![Port::Up; interfaces.len()]],
            interfaces,
            separate_state_link,
            base_latency_ns,
            base_jitter_ns,
            rng,
            version: 0,
            path_cache: std::cell::Cell::new(None),
            dropped: [0; 6],
            corrupted: 0,
            duplicated: 0,
            reordered: 0,
        }
    }

    /// The data interface names, in link order.
    pub fn interfaces(&self) -> &[String] {
        &self.interfaces
    }

    /// The link index of a data interface, by `context/interface` name.
    pub fn data_link(&self, name: &str) -> Option<LinkIdx> {
        self.interfaces.iter().position(|i| i == name).map(|i| LINK_DATA0 + i)
    }

    /// Resolves a link name to the links it covers.
    pub fn resolve(&self, link: &LinkName) -> Result<Vec<LinkIdx>, String> {
        match link {
            LinkName::Failover => Ok(vec![LINK_FAILOVER]),
            LinkName::State => Ok(vec![if self.separate_state_link { LINK_STATE } else { LINK_FAILOVER }]),
            LinkName::All => Ok((0..self.links.len()).collect()),
            LinkName::AllData => Ok((LINK_DATA0..self.links.len()).collect()),
            LinkName::Data(name) => self
                .data_link(name)
                .map(|l| vec![l])
                .ok_or_else(|| format!("no data interface {name:?} (have: {})", self.interfaces.join(", "))),
        }
    }

    fn dirs(direction: Direction) -> &'static [usize] {
        match direction {
            Direction::Both => &[0, 1],
            Direction::PrimaryToSecondary => &[0],
            Direction::SecondaryToPrimary => &[1],
        }
    }

    fn each(&mut self, link: &LinkName, direction: Direction, mut f: impl FnMut(&mut DirFaults)) -> Result<(), String> {
        self.version += 1;
        for l in self.resolve(link)? {
            for &d in Fabric::dirs(direction) {
                f(&mut self.links[l][d]);
            }
        }
        Ok(())
    }

    pub fn cut(&mut self, link: &LinkName, direction: Direction) -> Result<(), String> {
        self.each(link, direction, |f| f.cut = true)
    }

    /// Ends every fault on the link and direction.
    pub fn heal(&mut self, link: &LinkName, direction: Direction) -> Result<(), String> {
        self.each(link, direction, |f| *f = DirFaults::default())
    }

    pub fn loss(&mut self, link: &LinkName, d: Direction, p: f64, until_ns: Option<u64>) -> Result<(), String> {
        self.each(link, d, |f| f.loss = Some(Timed { value: p, until_ns }))
    }

    pub fn delay(
        &mut self,
        link: &LinkName,
        d: Direction,
        delay_ns: u64,
        jitter_ns: u64,
        until_ns: Option<u64>,
    ) -> Result<(), String> {
        self.each(link, d, |f| f.delay = Some(Timed { value: (delay_ns, jitter_ns), until_ns }))
    }

    pub fn duplicate(&mut self, link: &LinkName, d: Direction, p: f64, until_ns: Option<u64>) -> Result<(), String> {
        self.each(link, d, |f| f.duplicate = Some(Timed { value: p, until_ns }))
    }

    pub fn reorder(&mut self, link: &LinkName, d: Direction, p: f64, until_ns: Option<u64>) -> Result<(), String> {
        self.each(link, d, |f| f.reorder = Some(Timed { value: p, until_ns }))
    }

    pub fn corrupt(&mut self, link: &LinkName, d: Direction, p: f64, until_ns: Option<u64>) -> Result<(), String> {
        self.each(link, d, |f| f.corrupt = Some(Timed { value: p, until_ns }))
    }

    pub fn drop_kind(
        &mut self,
        link: &LinkName,
        d: Direction,
        kind: Kind,
        count: Option<u64>,
        until_ns: Option<u64>,
    ) -> Result<(), String> {
        self.each(link, d, |f| f.drops.push(DropRule { kind, remaining: count, until_ns }))
    }

    /// Sets the port state of a data interface on one unit.
    pub fn set_port(&mut self, unit: UnitName, interface: &str, port: Port) -> Result<usize, String> {
        let i = self
            .interfaces
            .iter()
            .position(|n| n == interface)
            .ok_or_else(|| format!("no data interface {interface:?} (have: {})", self.interfaces.join(", ")))?;
        self.ports[unit.index()][i] = port;
        self.version += 1;
        Ok(i)
    }

    pub fn port(&self, unit: UnitName, iface: usize) -> Port {
        self.ports[unit.index()].get(iface).copied().unwrap_or(Port::Down)
    }

    /// Decides the fate of one frame sent by `from` on `link` at true time `now`.
    /// The frame's bytes become the delivered copy (no copy unless it is
    /// corrupted or duplicated).
    pub fn route(&mut self, now: u64, from: UnitName, link: LinkIdx, bytes: Vec<u8>) -> Route {
        let to = from.other();
        let Some(dir) = self.links.get_mut(link).map(|l| &mut l[from.index()]) else {
            self.dropped[5] += 1;
            return Route::Dropped(DropReason::NoSuchLink);
        };
        let reason = 'drop: {
            if link >= LINK_DATA0 {
                let i = link - LINK_DATA0;
                for u in [from, to] {
                    match self.ports[u.index()][i] {
                        Port::Up => {}
                        Port::Down => break 'drop Some(DropReason::PortDown),
                        Port::Silent => break 'drop Some(DropReason::PortSilent),
                    }
                }
            }
            if dir.cut {
                break 'drop Some(DropReason::Cut);
            }
            if let Ok(header) = wire::decode_header(&bytes) {
                for rule in dir.drops.iter_mut() {
                    let live = rule.until_ns.is_none_or(|u| now < u) && rule.remaining != Some(0);
                    if live && rule.kind == header.kind {
                        if let Some(r) = rule.remaining.as_mut() {
                            *r -= 1;
                            if *r == 0 {
                                self.version += 1;
                            }
                        }
                        break 'drop Some(DropReason::DropByKind);
                    }
                }
            }
            if let Some(p) = dir.loss.as_ref().and_then(|t| t.get(now)) {
                if self.rng.chance(p) {
                    break 'drop Some(DropReason::Loss);
                }
            }
            None
        };
        if let Some(r) = reason {
            self.dropped[r as usize] += 1;
            return Route::Dropped(r);
        }
        let dir = &self.links[link][from.index()];
        let (delay, jitter) = dir.delay.as_ref().and_then(|t| t.get(now)).unwrap_or((0, 0));
        let dup_p = dir.duplicate.as_ref().and_then(|t| t.get(now)).unwrap_or(0.0);
        let reorder_p = dir.reorder.as_ref().and_then(|t| t.get(now)).unwrap_or(0.0);
        let corrupt_p = dir.corrupt.as_ref().and_then(|t| t.get(now)).unwrap_or(0.0);
        let mut base = self.base_latency_ns + delay + self.rng.below(self.base_jitter_ns + jitter + 1);
        if self.rng.chance(reorder_p) {
            // Held back long enough for later frames to overtake it.
            base += self.rng.range(2 * MS, 50 * MS);
            self.reordered += 1;
        }
        let mut copy = bytes;
        let mut original = None;
        let mut corrupted = false;
        if self.rng.chance(corrupt_p) && !copy.is_empty() {
            let sent = copy.clone();
            let flips = self.rng.range(1, 3);
            for _ in 0..flips {
                let at = self.rng.below(copy.len() as u64) as usize;
                copy[at] ^= 1 << self.rng.below(8);
            }
            corrupted = copy != sent;
            self.corrupted += corrupted as u64;
            original = Some(sent);
        }
        let first = Delivery { delay_ns: base, bytes: copy, corrupted, duplicate: false };
        let mut duplicate = None;
        if self.rng.chance(dup_p) {
            let extra = self.rng.range(0, 5 * MS);
            let bytes = original.unwrap_or_else(|| first.bytes.clone());
            duplicate = Some(Delivery { delay_ns: base + extra, bytes, corrupted: false, duplicate: true });
            self.duplicated += 1;
        }
        Route::Deliver(Copies { first, duplicate })
    }

    /// Whether hellos and LAN tests have a working path now. A delay of
    /// `delay_limit_ns` or more counts as impairing.
    pub fn path_state(&self, now: u64, delay_limit_ns: u64) -> PathState {
        // Constant between fault changes and the next timed fault's end: cached
        // (the checkers ask after every input; a profile showed the cost).
        if let Some((version, limit, until, state)) = self.path_cache.get() {
            if version == self.version && limit == delay_limit_ns && now < until {
                return state;
            }
        }
        let state = self.compute_path_state(now, delay_limit_ns);
        let until = self.next_expiry(now);
        self.path_cache.set(Some((self.version, delay_limit_ns, until, state)));
        state
    }

    /// The earliest end of a timed fault after `now` (`u64::MAX` if none).
    fn next_expiry(&self, now: u64) -> u64 {
        let mut next = u64::MAX;
        let mut see = |u: Option<u64>| {
            if let Some(u) = u.filter(|&u| u > now) {
                next = next.min(u);
            }
        };
        for d in self.links.iter().flatten() {
            see(d.loss.as_ref().and_then(|t| t.until_ns));
            see(d.delay.as_ref().and_then(|t| t.until_ns));
            see(d.duplicate.as_ref().and_then(|t| t.until_ns));
            see(d.reorder.as_ref().and_then(|t| t.until_ns));
            see(d.corrupt.as_ref().and_then(|t| t.until_ns));
            for r in &d.drops {
                see(r.until_ns);
            }
        }
        next
    }

    fn compute_path_state(&self, now: u64, delay_limit_ns: u64) -> PathState {
        let kinds = [Kind::LanTest, Kind::LanTestReply];
        let clean = |l: LinkIdx| self.links[l].iter().all(|d| !d.impairs(now, delay_limit_ns, &kinds));
        let failover = clean(LINK_FAILOVER);
        let any_data = (0..self.interfaces.len())
            .any(|i| self.ports[0][i] == Port::Up && self.ports[1][i] == Port::Up && clean(LINK_DATA0 + i));
        let failover_hellos = self.links[LINK_FAILOVER].iter().all(|d| !d.impairs_hellos(now, delay_limit_ns));
        let failover_requests =
            self.links[LINK_FAILOVER].iter().all(|d| !d.impairs(now, delay_limit_ns, &[Kind::RoleRequest]));
        PathState { failover, any_data, failover_hellos, failover_requests }
    }

    /// Whether no fault of any kind is active (used to know the heal is complete).
    pub fn is_clean(&self, now: u64) -> bool {
        self.links.iter().flatten().all(|d| {
            !d.impairs_hellos(now, 0)
                && d.duplicate.as_ref().and_then(|t| t.get(now)).is_none_or(|p| p == 0.0)
                && d.reorder.as_ref().and_then(|t| t.get(now)).is_none_or(|p| p == 0.0)
        }) && self.ports.iter().flatten().all(|p| *p == Port::Up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fover_protocol::types::Role;
    use fover_protocol::wire::auth::Session;
    use fover_protocol::wire::{LanTest, Message};

    fn fabric() -> Fabric {
        Fabric::new(vec!["admin/inside".into(), "admin/outside".into()], false, MS, 0, Rng::new(1))
    }

    #[test]
    fn one_way_cut_and_drop_by_kind() {
        let mut f = fabric();
        let hello = Session::new(Role::Primary, 1, None).seal(Message::LanTest(LanTest { nonce: 1 }));
        f.cut(&LinkName::Failover, Direction::PrimaryToSecondary).unwrap();
        assert_eq!(f.route(0, UnitName::Primary, LINK_FAILOVER, hello.clone()), Route::Dropped(DropReason::Cut));
        assert!(matches!(f.route(0, UnitName::Secondary, LINK_FAILOVER, hello.clone()), Route::Deliver(_)));
        f.heal(&LinkName::All, Direction::Both).unwrap();
        f.drop_kind(&LinkName::Failover, Direction::Both, Kind::LanTest, Some(1), None).unwrap();
        assert_eq!(f.route(0, UnitName::Primary, LINK_FAILOVER, hello.clone()), Route::Dropped(DropReason::DropByKind));
        assert!(matches!(f.route(0, UnitName::Primary, LINK_FAILOVER, hello.clone()), Route::Deliver(_)));
    }

    #[test]
    fn path_state_sees_silent_ports() {
        let mut f = fabric();
        assert_eq!(
            f.path_state(0, MS * 100),
            PathState { failover: true, any_data: true, failover_hellos: true, failover_requests: true }
        );
        f.cut(&LinkName::Failover, Direction::SecondaryToPrimary).unwrap();
        f.set_port(UnitName::Primary, "admin/inside", Port::Silent).unwrap();
        assert_eq!(
            f.path_state(0, MS * 100),
            PathState { failover: false, any_data: true, failover_hellos: false, failover_requests: false }
        );
        f.set_port(UnitName::Secondary, "admin/outside", Port::Down).unwrap();
        assert_eq!(
            f.path_state(0, MS * 100),
            PathState { failover: false, any_data: false, failover_hellos: false, failover_requests: false }
        );
    }
}
