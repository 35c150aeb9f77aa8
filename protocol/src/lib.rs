//! `fover-protocol`: the Active/Active failover protocol of PIX/ASA security
//! appliances, as a sans-IO state machine plus the async driver that runs it.
//!
//! * [`wire`]: every message and its canonical binary encoding.
//! * [`auth`]: the failover key (authenticated encryption, replay window) or a checksum.
//! * [`config`]: a unit's failover settings and their legal ranges.
//! * [`unit`]: [`Unit`], one appliance's failover logic. Time is always an argument.
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
pub mod config;
pub mod constants;
#[doc(hidden)]
pub mod fuzzing;
pub mod planted;
pub mod time;
pub mod unit;
pub mod wire;

pub use config::{ConfigError, UnitConfig};
pub use time::Instant;
pub use unit::Unit;
