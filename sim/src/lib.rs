//! `fover-sim`: the verification harness around `fover-protocol`.
