//! The I-VT velocity calculator and classifier (Olsen 2012, §3.1.4–3.1.5), streaming.
//!
//! The window spans `k = max(1, round(window_ms × rate))` sample intervals around each
//! sample: `floor(k/2)` before it and `ceil(k/2)` after it (20 ms at 1200 Hz: 12 and
//! 12; at 300 Hz: 3 and 3; at 60 Hz: 0 and 1, the step to the next sample). When `k`
//! is odd the extra interval is the one after the sample, so that a fixation starts at
//! its first still sample rather than one sample later (at 60 Hz that sample would
//! otherwise be judged by the tail of the saccade; fixations end one sample earlier
//! instead). The velocity is the distance between the
//! window's first and last samples (the angle between their lines of sight, or pixels)
//! divided by the time between them. A sample is a fixation sample when its velocity is
//! below the threshold, a saccade sample otherwise, and unclassified when its window
//! is not entirely valid and gap-free (at gaps and at the ends of the recording).
//!
//! The hot path tests `angle < threshold × time` without the arctangent of
//! [`ScreenGeometry::angle_between_deg`]: with the same cross and dot products of the
//! two lines of sight, `cross² < dot² · tan²(threshold × time)` (the tangent is cached
//! per window time); in pixel space, `distance² < (threshold × time)²`. Owns no
//! fixation assembly.
//!
//! [`ScreenGeometry::angle_between_deg`]: crate::study::ScreenGeometry::angle_between_deg

use super::prepare::Prepared;
use super::space::Space;

/// How many intervals the sampling rate is estimated from.
pub const RATE_ESTIMATE_INTERVALS: usize = 100;

/// What the classifier made of one sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Fixation,
    Saccade,
    Unclassified,
}

/// One sample with its class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Classified {
    pub t_us: i64,
    pub point: [f32; 2],
    pub class: Class,
}

/// Samples before and after the centre of the velocity window.
pub(crate) fn window_offsets(window_ms: f64, rate_hz: f64) -> (usize, usize) {
    let intervals = (window_ms * rate_hz / 1000.0).round().clamp(1.0, 4096.0) as usize;
    (intervals / 2, intervals.div_ceil(2))
}

/// The median rate of the first [`RATE_ESTIMATE_INTERVALS`] intervals between
/// (strictly increasing) timestamps; `None` with fewer than two timestamps.
pub(crate) fn estimate_rate_hz(times_us: &[i64]) -> Option<f64> {
    let mut intervals: Vec<i64> = times_us
        .windows(2)
        .take(RATE_ESTIMATE_INTERVALS)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect();
    if intervals.is_empty() {
        return None;
    }
    intervals.sort_unstable();
    let n = intervals.len();
    let median_us = if n % 2 == 1 {
        intervals[n / 2] as f64
    } else {
        (intervals[n / 2 - 1] + intervals[n / 2]) as f64 / 2.0
    };
    Some(1e6 / median_us)
}

/// "Is the distance from `a` to `b` below `threshold_per_s × time`?", fast.
#[derive(Debug, Clone)]
pub(crate) struct SpeedTest {
    space: Space,
    threshold_per_s: f64,
    /// `(window time µs, tan² of the largest angle)`, direct-mapped by the time.
    tan2_cache: [(i64, f64); 4],
}

impl SpeedTest {
    pub fn new(space: Space, threshold_per_s: f64) -> Self {
        Self {
            space,
            threshold_per_s,
            tan2_cache: [(i64::MIN, 0.0); 4],
        }
    }

    /// Whether going from `a` to `b` in `dt_us` is slower than the threshold.
    #[inline(always)]
    pub fn is_below(&mut self, a: [f32; 2], b: [f32; 2], dt_us: i64) -> bool {
        let limit = self.threshold_per_s * dt_us as f64 * 1e-6;
        let a = [f64::from(a[0]), f64::from(a[1])];
        let b = [f64::from(b[0]), f64::from(b[1])];
        match self.space {
            Space::Pixels {
                resolution_px: (w, h),
            } => {
                let dx = (a[0] - b[0]) * f64::from(w);
                let dy = (a[1] - b[1]) * f64::from(h);
                dx * dx + dy * dy < limit * limit
            }
            Space::Visual(screen) if limit >= 90.0 => screen.angle_between_deg(a, b) < limit,
            Space::Visual(screen) => {
                // The products of `ScreenGeometry::angle_between_deg`.
                let [ax, ay] = screen.mm_from_normalized(a);
                let [bx, by] = screen.mm_from_normalized(b);
                let d = screen.viewing_distance_mm;
                let dot = ax * bx + ay * by + d * d;
                let (cx, cy, cz) = (ay * d - d * by, d * bx - ax * d, ax * by - ay * bx);
                let cross_sq = cx * cx + cy * cy + cz * cz;
                dot > 0.0 && cross_sq < dot * dot * self.tan2(dt_us, limit)
            }
        }
    }

    #[inline]
    fn tan2(&mut self, dt_us: i64, limit_deg: f64) -> f64 {
        let slot = &mut self.tan2_cache[(dt_us & 3) as usize];
        if slot.0 != dt_us {
            *slot = (dt_us, limit_deg.to_radians().tan().powi(2));
        }
        slot.1
    }
}

/// The velocity stage: a ring of the last window's samples.
#[derive(Debug)]
pub(crate) struct VelocityClassifier {
    speed: SpeedTest,
    before: usize,
    after: usize,
    ring: Vec<Prepared>,
    mask: usize,
    count: usize,
}

impl VelocityClassifier {
    pub fn new(space: Space, threshold_per_s: f64, (before, after): (usize, usize)) -> Self {
        let capacity = (before + after + 1).next_power_of_two();
        Self {
            speed: SpeedTest::new(space, threshold_per_s),
            before,
            after,
            ring: vec![Prepared::EMPTY; capacity],
            mask: capacity - 1,
            count: 0,
        }
    }

    /// `(samples before, samples after)` the classified sample in its window.
    pub fn offsets(&self) -> (usize, usize) {
        (self.before, self.after)
    }

    /// Takes one sample; passes on the sample `after` samples back, classified.
    #[inline(always)]
    pub fn push(&mut self, sample: Prepared, mut emit: impl FnMut(Classified)) {
        self.ring[self.count & self.mask] = sample;
        self.count += 1;
        if self.count <= self.after {
            return;
        }
        let centre_index = self.count - 1 - self.after;
        let centre = self.ring[centre_index & self.mask];
        let class = if centre_index >= self.before {
            let first = self.ring[(centre_index - self.before) & self.mask];
            self.classify(&first, &sample)
        } else {
            Class::Unclassified
        };
        emit(Classified {
            t_us: centre.t_us,
            point: centre.point,
            class,
        });
    }

    /// Passes on the samples still waiting for the end of their window, unclassified;
    /// starts afresh.
    pub fn flush(&mut self, mut emit: impl FnMut(Classified)) {
        for i in self.count.saturating_sub(self.after)..self.count {
            let sample = self.ring[i & self.mask];
            emit(Classified {
                t_us: sample.t_us,
                point: sample.point,
                class: Class::Unclassified,
            });
        }
        self.count = 0;
    }

    #[inline(always)]
    fn classify(&mut self, first: &Prepared, last: &Prepared) -> Class {
        if !(first.valid && last.valid && first.run == last.run) {
            return Class::Unclassified;
        }
        if self.speed.is_below(
            first.point,
            last.point,
            last.t_us.saturating_sub(first.t_us),
        ) {
            Class::Fixation
        } else {
            Class::Saccade
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::ScreenGeometry;

    #[test]
    fn the_window_covers_20_ms_at_common_rates() {
        assert_eq!(window_offsets(20.0, 1200.0), (12, 12));
        assert_eq!(window_offsets(20.0, 600.0), (6, 6));
        assert_eq!(window_offsets(20.0, 300.0), (3, 3));
        assert_eq!(window_offsets(20.0, 250.0), (2, 3));
        assert_eq!(window_offsets(20.0, 120.0), (1, 1));
        assert_eq!(window_offsets(20.0, 60.0), (0, 1));
        assert_eq!(window_offsets(20.0, 30.0), (0, 1));
        // 1200 Hz on an integer-µs clock: intervals of 833 and 834 µs.
        let times: Vec<i64> = (0..200).map(|i| (i as f64 * 1e6 / 1200.0) as i64).collect();
        let rate = estimate_rate_hz(&times).unwrap();
        assert_eq!(window_offsets(20.0, rate), (12, 12));
        assert_eq!(estimate_rate_hz(&[5]), None);
    }

    #[test]
    fn the_fast_test_agrees_with_angle_between_deg() {
        use rand::{Rng, SeedableRng};
        let screen = ScreenGeometry::default();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut test = SpeedTest::new(Space::Visual(screen), 30.0);
        let mut pixels = SpeedTest::new(
            Space::Pixels {
                resolution_px: (1920, 1080),
            },
            1200.0,
        );
        let pixel_space = Space::Pixels {
            resolution_px: (1920, 1080),
        };
        let (mut below, mut checked) = (0, 0);
        for _ in 0..100_000 {
            let a = [rng.gen_range(-0.5..1.5f32), rng.gen_range(-0.5..1.5f32)];
            let step = rng.gen_range(0.0..0.05f32);
            let b = [a[0] + step * rng.gen_range(-1.0..1.0f32), a[1] + step];
            let dt_us = rng.gen_range(19_998..20_003);
            let to64 = |p: [f32; 2]| [f64::from(p[0]), f64::from(p[1])];
            let limit = 30.0 * dt_us as f64 * 1e-6;
            let angle = screen.angle_between_deg(to64(a), to64(b));
            if (angle - limit).abs() > 1e-9 {
                assert_eq!(
                    test.is_below(a, b, dt_us),
                    angle < limit,
                    "{a:?} {b:?} {dt_us}"
                );
                below += usize::from(angle < limit);
                checked += 1;
            }
            let px = pixel_space.distance(a, b);
            let px_limit = 1200.0 * dt_us as f64 * 1e-6;
            if (px - px_limit).abs() > 1e-6 {
                assert_eq!(pixels.is_below(a, b, dt_us), px < px_limit);
            }
        }
        assert!(
            below > checked / 10 && below < checked * 9 / 10,
            "{below} of {checked}"
        );
        // Over a very long time (a window across a pause) the exact angle is used.
        assert!(test.is_below([0.0, 0.5], [1.0, 0.5], 5_000_000));
    }

    #[test]
    fn velocity_is_the_angle_over_the_window_time() {
        let screen = ScreenGeometry::default();
        let space = Space::Visual(screen);
        // One degree to the right of the centre in 40 ms (two samples at 25 Hz, k = 1):
        // 25 °/s, a fixation sample at 30 °/s and a saccade sample at 20 °/s.
        let dx = screen.normalized_from_degrees(1.0)[0] as f32;
        let samples = [
            Prepared {
                t_us: 0,
                point: [0.5, 0.5],
                valid: true,
                run: 1,
            },
            Prepared {
                t_us: 40_000,
                point: [0.5 + dx, 0.5],
                valid: true,
                run: 1,
            },
        ];
        for (threshold, expected) in [(30.0, Class::Fixation), (20.0, Class::Saccade)] {
            let mut classifier = VelocityClassifier::new(space, threshold, (0, 1));
            let mut out = Vec::new();
            for s in samples {
                classifier.push(s, |c| out.push(c.class));
            }
            classifier.flush(|c| out.push(c.class));
            assert_eq!(out, [expected, Class::Unclassified]);
        }
    }
}
