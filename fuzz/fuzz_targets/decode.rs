//! Any bytes through `wire::decode`: no panic, and whatever is accepted
//! re-encodes to the same bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fover_protocol::fuzzing::decode_canonical(data));
