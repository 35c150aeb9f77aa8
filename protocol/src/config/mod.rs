//! A unit's configuration: what it is told and what it keeps.
//!
//! * [`settings`]: the failover settings ([`UnitConfig`]), their legal ranges and [`ConfigError`].
//! * [`running`]: the running configuration (system space and contexts) and its line parser.
//! * [`command`]: the operator's failover and `show` command lines, parsed.
//! * [`flash`]: a unit's flash (startup configs, files, license store), kept across reboots.
//! * [`license`]: licenses, activation keys bound to serials, and the pairing checks.
//! * [`replication`]: which commands replicate, from which unit, and when they are refused.

pub mod command;
pub mod flash;
pub mod license;
pub mod replication;
pub mod running;
pub mod settings;
