//! `fover-protocol`: the Active/Active failover protocol of PIX/ASA security
//! appliances, as a sans-IO state machine plus the async driver that runs it.
//!
//! * [`types`]: the domain vocabulary (roles, groups, group states, spaces...) every room uses.
//! * [`wire`]: every message and its canonical binary encoding; [`wire::auth`], the failover key.
//! * [`channel`]: exactly-once, in-order delivery of control messages over a lossy link.
//! * [`config`]: settings, the running config, flash, licenses, replication rules, command parsing.
//! * [`unit`]: [`Unit`], one appliance's failover logic. Time is always an argument.
//! * [`clock`]: the model of a unit's clock over true time (skew, drift, steps) the harnesses share.
//! * [`rng`]: SplitMix64, the one random number generator (unit nonces, harnesses).
//! * [`connections`]: the per-context connection tables that stateful failover replicates.
//! * [`show`]: the operator `show` commands in the appliance's layout ([`Unit::show`]).
//! * `testing` (feature `testing`): `testing::Pair`, two units and a virtual clock in one process, for tests.
//! * `driver` (feature `driver`): the async driver that runs a unit on tokio or madsim.
//!
//! ```
//! use fover_protocol::types::Role;
//! use fover_protocol::wire::{self, Frame, LanTest, Message};
//!
//! let frame = Frame { sender: Role::Primary, flags: 0, seq: 1, boot_nonce: 7,
//!                     message: Message::LanTest(LanTest { nonce: 42 }) };
//! let bytes = wire::encode(&frame);
//! assert_eq!(wire::decode(&bytes), Ok(frame));
//! ```

pub mod channel;
pub mod clock;
pub mod config;
pub mod connections;
pub mod constants;
#[cfg(feature = "driver")]
pub mod driver;
#[doc(hidden)]
pub mod fuzzing;
pub mod planted;
pub mod rng;
pub mod show;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod types;
pub mod unit;
pub mod wire;

pub use config::settings::{ConfigError, UnitConfig};
pub use time::Instant;
pub use unit::Unit;
