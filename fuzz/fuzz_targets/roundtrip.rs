//! Arbitrary frames that fit the wire limits survive encode then decode.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fover_protocol::fuzzing::roundtrip(data));
