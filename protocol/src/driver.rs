//! The async driver: runs one [`Unit`] over UDP sockets and timers.
//!
//! The same source runs on real tokio and, built with `--cfg madsim`, on
//! madsim's simulated runtime (`tokio` here is `madsim-tokio`). Structure:
//!
//! * one UDP socket per link (failover link, state link if separate, each data
//!   interface), each with a receive task that is **never cancelled** (madsim's
//!   `recv_from` is not cancel-safe) and forwards into one bounded channel;
//! * one core loop: `select! { biased; ... }` (an unbiased select draws from an
//!   unseeded RNG) over operator controls, received datagrams, and a sleep until
//!   the unit's next deadline, converted by the unit's [`Clock`];
//! * after every input, the drain contract ([`crate::unit::drain`]), with each
//!   frame handed to [`Hooks::route`] (real mode: send now; simulation: the fabric).
//!
//! Time comes only from the [`Clock`] object, never from the runtime directly.

use crate::time::Instant;
use crate::unit::{Event, IfaceId, Link, Output, Transmit, Unit};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Datagrams queued between the receive tasks and the core loop; more are dropped.
pub const RX_QUEUE_MAX: usize = 1024;
/// Largest datagram read.
pub const DATAGRAM_LEN_MAX: usize = crate::wire::FRAME_LEN_MAX + 64;

/// The unit's own clock.
pub trait Clock: Send + Sync + 'static {
    /// The unit's reading now.
    fn now(&self) -> Instant;
    /// How long, in runtime time, until the unit's clock reads `deadline` (zero if past).
    fn until(&self, deadline: Instant) -> Duration;
}

/// A clock that reads the runtime's monotonic time since it was made (real mode).
pub struct RuntimeClock {
    origin: tokio::time::Instant,
}

impl RuntimeClock {
    pub fn new() -> RuntimeClock {
        // The clock object is the one place the driver reads the runtime's time.
        #[allow(clippy::disallowed_methods)]
        RuntimeClock { origin: tokio::time::Instant::now() }
    }
}

impl Default for RuntimeClock {
    fn default() -> Self {
        RuntimeClock::new()
    }
}

impl Clock for RuntimeClock {
    fn now(&self) -> Instant {
        Instant(self.origin.elapsed().as_nanos() as u64)
    }
    fn until(&self, deadline: Instant) -> Duration {
        Duration::from_nanos(deadline.0.saturating_sub(self.now().0))
    }
}

/// A closure run on the unit with its `now` (operator commands, show, inspection).
pub type WithUnit = Box<dyn FnOnce(&mut Unit, Instant) + Send>;

/// One input to the unit, as the driver sees it.
pub enum Input<'a> {
    Datagram {
        link: Link,
        bytes: &'a [u8],
    },
    Timeout,
    LinkChange {
        iface: IfaceId,
        up: bool,
    },
    /// Arbitrary access for the operator (commands, show), with the unit's `now`.
    With(WithUnit),
}

/// What the environment does around the unit. Real mode uses [`RealHooks`]; the
/// simulator records, checks and routes frames through its fabric.
pub trait Hooks: Send + 'static {
    /// Applies an input to the unit (override to look before and after).
    fn input(&mut self, unit: &mut Unit, now: Instant, input: Input<'_>) {
        apply(unit, now, input);
    }
    /// Decides what happens to a frame the unit sends: copies to send, each after a delay.
    fn route(&mut self, transmit: Transmit) -> Vec<(Duration, Transmit)> {
        vec![(Duration::ZERO, transmit)]
    }
    /// An event the unit reported.
    fn event(&mut self, event: Event) {
        let _ = event;
    }
    /// After each input, once its events are drained and before its frames are sent.
    fn after_input(&mut self, unit: &Unit) {
        let _ = unit;
    }
}

/// Applies one input to a unit.
pub fn apply(unit: &mut Unit, now: Instant, input: Input<'_>) {
    match input {
        Input::Datagram { link, bytes } => unit.handle_datagram(now, link, bytes),
        Input::Timeout => unit.handle_timeout(now),
        Input::LinkChange { iface, up } => unit.handle_link_change(now, iface, up),
        Input::With(f) => f(unit, now),
    }
}

/// Hooks for real use: send at once, log events to stderr when `verbose`.
pub struct RealHooks {
    pub verbose: bool,
    pub name: String,
}

impl Hooks for RealHooks {
    fn event(&mut self, event: Event) {
        if self.verbose {
            eprintln!("{}: {event}", self.name);
        }
    }
}

/// What the operator (or the simulator) can ask of a running driver.
pub enum Control {
    LinkChange {
        iface: IfaceId,
        up: bool,
    },
    /// Run a closure on the unit (commands, show, inspection).
    With(WithUnit),
    /// The unit's clock was stepped or changed rate: recompute the timer.
    ClockChanged,
    /// Stop the driver.
    Shutdown,
}

/// Where a unit's sockets live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addressing {
    pub local_ip: IpAddr,
    pub peer_ip: IpAddr,
    /// Port of the failover link on this unit; the state link is `+1`, data interface `i` is `+100+i`.
    pub local_base_port: u16,
    pub peer_base_port: u16,
}

/// The port offset of a link.
pub fn port_offset(link: Link) -> u16 {
    match link {
        Link::Failover => 0,
        Link::State => 1,
        Link::Data(IfaceId(i)) => 100 + i,
    }
}

// The one API difference: madsim's send_to takes (dst, buf), tokio's (buf, dst).
#[cfg(madsim)]
async fn udp_send_to(sock: &UdpSocket, buf: &[u8], to: SocketAddr) -> io::Result<()> {
    sock.send_to(to, buf).await
}
#[cfg(not(madsim))]
async fn udp_send_to(sock: &UdpSocket, buf: &[u8], to: SocketAddr) -> io::Result<()> {
    sock.send_to(buf, to).await.map(drop)
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The links a unit has sockets for.
pub fn links_of(unit: &Unit) -> Vec<Link> {
    let cfg = unit.node().config();
    let mut links = vec![Link::Failover];
    if cfg.state_link == crate::config::settings::StateLink::Separate {
        links.push(Link::State);
    }
    links.extend((0..cfg.interfaces.len()).map(|i| Link::Data(IfaceId(i as u16))));
    links
}

/// Runs a unit until [`Control::Shutdown`] or until the control channel closes.
pub async fn run<H: Hooks>(
    mut unit: Unit,
    addressing: Addressing,
    clock: Arc<dyn Clock>,
    mut hooks: H,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> io::Result<()> {
    let links = links_of(&unit);
    let (rx_tx, mut rx) = mpsc::channel::<(Link, Vec<u8>)>(RX_QUEUE_MAX);
    let mut sockets = Vec::with_capacity(links.len());
    let mut tasks = Vec::with_capacity(links.len());
    for &link in &links {
        let port = addressing.local_base_port + port_offset(link);
        let sock = Arc::new(UdpSocket::bind(SocketAddr::new(addressing.local_ip, port)).await?);
        let rx_tx = rx_tx.clone();
        let recv_sock = sock.clone();
        // Never cancelled: a datagram taken off the socket always reaches the channel.
        tasks.push(AbortOnDrop(tokio::spawn(async move {
            let mut buf = vec![0u8; DATAGRAM_LEN_MAX];
            while let Ok((n, _from)) = recv_sock.recv_from(&mut buf).await {
                let bytes = buf.get(..n).unwrap_or_default().to_vec();
                // A full queue drops the datagram, as a busy interface would.
                if let Err(mpsc::error::TrySendError::Closed(_)) = rx_tx.try_send((link, bytes)) {
                    break;
                }
            }
        })));
        sockets.push((link, sock));
    }
    drop(rx_tx);
    let socket_of = |link: Link| sockets.iter().find(|(l, _)| *l == link).map(|(_, s)| s.clone());
    let peer_addr = |link: Link| SocketAddr::new(addressing.peer_ip, addressing.peer_base_port + port_offset(link));

    let mut input: Option<Input<'_>> = None;
    let mut datagram: Option<(Link, Vec<u8>)> = None;
    loop {
        let now = clock.now();
        if let Some((link, bytes)) = datagram.take() {
            hooks.input(&mut unit, now, Input::Datagram { link, bytes: &bytes });
        } else if let Some(i) = input.take() {
            hooks.input(&mut unit, now, i);
        }
        // Events and the after-input hook first, at the input's own time:
        // each send below awaits the socket, which takes simulated time under
        // madsim (and lets the other unit run), so anything recorded after
        // the sends would be stamped late (a checker measured a preempt delay
        // 36 ms short after a config sync's burst of frames).
        let mut outgoing = Vec::new();
        let deadline = crate::unit::drain(
            &mut unit,
            |o| match o {
                Output::Transmit(t) => outgoing.push(t),
                Output::Event(e) => hooks.event(e),
            },
            Unit::poll_timeout,
        );
        hooks.after_input(&unit);
        for t in outgoing {
            for (delay, copy) in hooks.route(t) {
                let (Some(sock), to) = (socket_of(copy.link), peer_addr(copy.link)) else { continue };
                if delay.is_zero() {
                    let _ = udp_send_to(&sock, &copy.bytes, to).await;
                } else {
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = udp_send_to(&sock, &copy.bytes, to).await;
                    });
                }
            }
        }
        let sleep_for = deadline.map(|d| clock.until(d)).unwrap_or(Duration::from_secs(3600));
        tokio::select! {
            biased;
            c = control.recv() => match c {
                None | Some(Control::Shutdown) => return Ok(()),
                Some(Control::LinkChange { iface, up }) => input = Some(Input::LinkChange { iface, up }),
                Some(Control::With(f)) => input = Some(Input::With(f)),
                Some(Control::ClockChanged) => {}
            },
            d = rx.recv() => match d {
                Some(d) => datagram = Some(d),
                None => return Err(io::Error::other("every receive task ended")),
            },
            _ = tokio::time::sleep(sleep_for) => {
                if deadline.is_some() {
                    input = Some(Input::Timeout);
                }
            }
        }
    }
}
