//! A unit's clock over a harness's true time: an offset, a drift in ppm, and
//! steps at run time, all in integer nanoseconds. The simulator's engines and
//! the `testing::Pair` test harness both read their units' clocks
//! through [`ClockModel`]; a [`crate::Unit`] only ever sees the readings.
//!
//! `local(t) = anchor_local + (t - anchor_true) * (1e6 + ppm) / 1e6`; a step or
//! a drift change re-anchors at the current true time, so the clock is
//! piecewise linear and every conversion is exact integer arithmetic.

use crate::time::Instant;

/// Drift is bounded so that the clock always moves forward.
pub const DRIFT_PPM_MAX: i64 = 500_000;

/// One unit's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockModel {
    anchor_true_ns: u64,
    anchor_local_ns: i128,
    drift_ppm: i64,
}

impl ClockModel {
    /// A clock that reads `offset_ns` at true time zero.
    pub fn new(offset_ns: u64, drift_ppm: i64) -> ClockModel {
        ClockModel { anchor_true_ns: 0, anchor_local_ns: offset_ns as i128, drift_ppm: clamp_ppm(drift_ppm) }
    }

    fn rate(&self) -> i128 {
        1_000_000 + self.drift_ppm as i128
    }

    fn local_raw(&self, true_ns: u64) -> i128 {
        let dt = true_ns as i128 - self.anchor_true_ns as i128;
        if self.drift_ppm == 0 {
            // The common case, without a 128-bit division (a profile showed it).
            return self.anchor_local_ns + dt;
        }
        // 64-bit arithmetic when the product fits (hours of simulated time):
        // the same exact result without a call to the 128-bit division.
        let rate = 1_000_000 + self.drift_ppm;
        if let Some(p) = i64::try_from(dt).ok().and_then(|dt| dt.checked_mul(rate)) {
            return self.anchor_local_ns + i128::from(p / 1_000_000);
        }
        self.anchor_local_ns + dt * self.rate() / 1_000_000
    }

    /// The unit's reading at true time `true_ns` (never below zero).
    pub fn local(&self, true_ns: u64) -> Instant {
        Instant(self.local_raw(true_ns).clamp(0, u64::MAX as i128) as u64)
    }

    /// A true time at or after `now_true_ns` at which the clock reads at least
    /// `local`: the earliest, or with a drift about a nanosecond later (the
    /// division starts from the reading at `now_true_ns`, already rounded down).
    pub fn true_at(&self, now_true_ns: u64, local: Instant) -> u64 {
        let delta = local.0 as i128 - self.local_raw(now_true_ns);
        if delta <= 0 {
            return now_true_ns;
        }
        let dt = if self.drift_ppm == 0 {
            delta
        } else {
            let rate = 1_000_000 + self.drift_ppm;
            match i64::try_from(delta).ok().and_then(|d| d.checked_mul(1_000_000)).and_then(|n| n.checked_add(rate - 1))
            {
                Some(n) => i128::from(n / rate),
                None => (delta * 1_000_000 + self.rate() - 1) / self.rate(),
            }
        };
        now_true_ns.saturating_add(dt.min(u64::MAX as i128) as u64)
    }

    /// Steps the clock by `delta_ms` (may be negative) at true time `now_true_ns`.
    /// A step below zero is kept: the clock reads zero until it climbs back.
    pub fn step(&mut self, now_true_ns: u64, delta_ms: i64) {
        self.anchor_local_ns = self.local_raw(now_true_ns) + delta_ms as i128 * 1_000_000;
        self.anchor_true_ns = now_true_ns;
    }

    /// Changes the drift at true time `now_true_ns`.
    pub fn set_drift(&mut self, now_true_ns: u64, drift_ppm: i64) {
        self.anchor_local_ns = self.local_raw(now_true_ns);
        self.anchor_true_ns = now_true_ns;
        self.drift_ppm = clamp_ppm(drift_ppm);
    }

    pub fn drift_ppm(&self) -> i64 {
        self.drift_ppm
    }
}

fn clamp_ppm(ppm: i64) -> i64 {
    ppm.clamp(-DRIFT_PPM_MAX, DRIFT_PPM_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_and_steps_are_exact() {
        let mut c = ClockModel::new(1_000, 100); // 100 ppm fast
        assert_eq!(c.local(1_000_000_000), Instant(1_000 + 1_000_100_000));
        let target = Instant(5_000_000_000);
        let t = c.true_at(0, target);
        assert!(c.local(t) >= target && c.local(t - 1) < target);
        c.step(2_000_000_000, -500);
        assert!(c.local(2_000_000_000).0 < 2_000_000_000);
        assert_eq!(c.true_at(2_000_000_000, Instant(0)), 2_000_000_000);
    }

    #[test]
    fn the_64_bit_path_agrees_with_128_bit_arithmetic() {
        // Far beyond the 64-bit product too (the 128-bit fallback).
        for ppm in [-500_000, -37, 1, 250, 499_999] {
            for t in [0u64, 1, 999_999, 1_000_000_007, 600_000_000_000, 1 << 53, u64::MAX / 3] {
                let c = ClockModel::new(12_345, ppm);
                let rate = 1_000_000 + ppm as i128;
                let want = 12_345 + t as i128 * rate / 1_000_000;
                assert_eq!(c.local_raw(t), want, "ppm {ppm}, t {t}");
                let target = Instant((want as u64).saturating_add(777_777));
                let at = c.true_at(0, target);
                assert!(c.local(at) >= target, "ppm {ppm}, t {t}");
                assert!(at == 0 || c.local(at - 1) < target, "ppm {ppm}, t {t}");
            }
        }
    }
}
