//! SplitMix64, the one random number generator of the project: the unit's
//! nonces, the test harness's loss draws, the simulator's every choice.
//!
//! Written out here rather than taken from a crate: a trace must replay bit for
//! bit after a dependency upgrade, and this generator's output is fixed by
//! these few lines.
//!
//! ```
//! use fover_protocol::rng::SplitMix64;
//!
//! let mut r = SplitMix64::new(0);
//! assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
//! assert_eq!(fover_protocol::rng::first(0), 0xe220_a839_7b1d_cdaf);
//! ```

/// The increment of the state at each draw (the golden ratio, odd).
pub const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The output function: a bijective mix of one state value.
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Advances a bare state and returns the next output: for owners that keep the
/// state as a plain `u64` (it is part of their hashed or compared state).
pub const fn step(state: &mut u64) -> u64 {
    *state = state.wrapping_add(GAMMA);
    mix(*state)
}

/// The first output of the stream seeded with `seed`: a well-mixed hash of one value.
pub const fn first(seed: u64) -> u64 {
    mix(seed.wrapping_add(GAMMA))
}

/// A SplitMix64 stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The stream seeded with `seed`.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next output.
    pub fn next_u64(&mut self) -> u64 {
        step(&mut self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_pinned() {
        // A change here breaks every recorded trace.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(r.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let mut s = 0;
        assert_eq!(step(&mut s), first(0));
        assert_eq!(step(&mut s), 0x6e78_9e6a_a1b9_65f4);
    }
}
