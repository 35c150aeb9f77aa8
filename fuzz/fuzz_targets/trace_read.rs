//! Any bytes through the trace reader: a typed, line-numbered error or a
//! trace, never a panic (the seeds also run as `traces/tests/read.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fover_traces::io::read_any(data);
});
