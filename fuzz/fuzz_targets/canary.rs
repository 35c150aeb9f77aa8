//! Crashes on purpose, on one input, when `FOVER_FUZZ_CANARY=1`: CI runs it
//! armed and expects a failure, proving that the pipeline reports crashes.
//! Unarmed, it never crashes.
#![no_main]

use fover_protocol::fuzzing;
use std::sync::LazyLock;

static ARMED: LazyLock<bool> = LazyLock::new(|| std::env::var_os(fuzzing::CANARY_ENV).is_some_and(|v| v == "1"));

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::canary(data, *ARMED));
