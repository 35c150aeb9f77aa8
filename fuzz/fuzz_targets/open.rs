//! Any bytes through `Session::open`, keyed and unkeyed: no panic, and
//! nothing forged, replayed or malformed is accepted.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fover_protocol::fuzzing::open_any(data));
