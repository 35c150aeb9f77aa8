//! `fover-sim`: the verification harness around `fover-protocol`.
//!
//! A run is a [`scenario::Scenario`]: the pair's settings and a timed list of
//! steps, drawn from a seed by the [`nemesis`] or read from a scenario file.
//! An engine plays it — [`engine::fast`] (an event queue calling the sans-IO
//! units directly) or the madsim world (the real async driver) — through the
//! runtime-free [`world::Core`]: the [`fabric`], the per-unit clocks
//! ([`fover_protocol::clock::ClockModel`]), the recorder and the [`checker`]s.
//! A failing run's trace is rerun and compared by [`replay`] and cut down to a
//! small scenario by [`shrink`].

pub mod bench;
pub mod checker;
pub mod engine;
pub mod error;
pub mod fabric;
pub mod nemesis;
pub mod pair;
pub mod replay;
pub mod rng;
pub mod scenario;
pub mod schedule;
pub mod shrink;
pub mod sweep;
pub mod timing;
pub mod workload;
pub mod world;
