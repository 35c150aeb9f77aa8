//! `fover-protocol`: the Active/Active failover protocol of PIX/ASA security
//! appliances, as a sans-IO state machine plus the async driver that runs it.
//!
//! * [`wire`]: every message and its canonical binary encoding.
//! * [`auth`]: the failover key (authenticated encryption, replay window) or a checksum.
//! * [`config`]: a unit's failover settings and their legal ranges.
//! * [`channel`]: exactly-once, in-order delivery of control messages over a lossy link.
//! * [`flash`]: a unit's flash (startup configs, files, license store), kept across reboots.
//! * [`license`]: licenses, activation keys bound to serials, and the pairing checks.
//! * [`running`]: the running configuration (system space and contexts) and its parser.
//! * [`replication`]: which commands replicate, from which unit, and when they are refused.
//! * [`unit`]: [`Unit`], one appliance's failover logic. Time is always an argument.
//! * [`stateful`]: the per-context connection tables that stateful failover replicates.
//! * [`show`]: the operator `show` commands in the appliance's layout ([`Unit::show`]).
//! * [`testing`]: [`testing::Pair`], two units and a virtual clock in one process, for tests.
//!
//! ```
//! use fover_protocol::wire::{self, Frame, LanTest, Message, Role};
//!
//! let frame = Frame { sender: Role::Primary, flags: 0, seq: 1, boot_nonce: 7,
//!                     message: Message::LanTest(LanTest { nonce: 42 }) };
//! let bytes = wire::encode(&frame);
//! assert_eq!(wire::decode(&bytes), Ok(frame));
//! ```

pub mod auth;
pub mod channel;
pub mod cli;
pub mod config;
pub mod constants;
pub mod driver;
pub mod flash;
#[doc(hidden)]
pub mod fuzzing;
pub mod license;
pub mod planted;
pub mod replication;
pub mod running;
pub mod show;
pub mod stateful;
pub mod testing;
pub mod time;
pub mod unit;
pub mod wire;

pub use config::{ConfigError, UnitConfig};
pub use time::Instant;
pub use unit::Unit;
