//! `fover-traces`: the trace of one simulated run, as versioned JSON lines.
