//! The streaming front end shared by I-VT and I-DT (Olsen 2012, §3.1.1–3.1.2): the
//! timestamp check, gap fill-in per eye by linear interpolation, eye selection, and the
//! split of the stream into runs of consecutive valid samples.
//!
//! A sample's eye is a gap when it is flagged invalid, not finite, or farther than one
//! display size beyond any edge ([`PLAUSIBLE_RANGE`]). A gap in one eye is filled when
//! the last valid sample before it and the first valid sample after it are at most
//! `max_gap_ms` apart; samples wait here (at most that long) until their gap is decided.
//! Owns no classification.

use std::collections::VecDeque;

use super::error::FixationError;
use super::options::{EyeSelection, Preprocessing};
use crate::gaze::{EyeSample, GazeSample};

/// Display-normalized coordinates outside this range are treated as invalid.
pub const PLAUSIBLE_RANGE: std::ops::RangeInclusive<f32> = -1.0..=2.0;

/// One sample after gap fill-in and eye selection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Prepared {
    pub t_us: i64,
    /// Display-normalized; NaN when not `valid`.
    pub point: [f32; 2],
    pub valid: bool,
    /// Id of the run of consecutive valid samples this one belongs to: a run ends at an
    /// invalid sample and at a step longer than `max_gap_ms` (and 75 ms). Two valid
    /// samples with the same id have only valid samples, and no over-long step, between.
    pub run: u64,
}

impl Prepared {
    pub const EMPTY: Self = Self {
        t_us: 0,
        point: [f32::NAN; 2],
        valid: false,
        run: 0,
    };
}

/// Rejects timestamps that do not increase; counts every sample pushed.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    next_index: u64,
    last_us: Option<i64>,
}

impl Clock {
    /// Accepts the sample's time or rejects it, leaving the clock as it was apart from
    /// the sample count.
    pub fn accept(&mut self, time_us: i64) -> Result<(), FixationError> {
        let index = self.next_index;
        self.next_index += 1;
        match self.last_us {
            Some(previous_us) if time_us <= previous_us => Err(FixationError::TimeNotIncreasing {
                index,
                previous_us,
                time_us,
            }),
            _ => {
                self.last_us = Some(time_us);
                Ok(())
            }
        }
    }
}

const NAN2: [f32; 2] = [f32::NAN; 2];

/// A sample waiting for a gap in one of its eyes to be decided.
#[derive(Debug, Clone, Copy)]
struct Pending {
    t_us: i64,
    eyes: [[f32; 2]; 2],
    /// Bit `e` set while eye `e` waits for its gap to close.
    open: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct EyeState {
    /// Time and point of the last valid sample while a gap after it may still be
    /// filled.
    last_valid: Option<(i64, [f32; 2])>,
    /// Index of the first sample of the open, still fillable gap.
    gap_start: Option<u64>,
}

/// Gap fill-in, eye selection and run splitting, sample by sample.
#[derive(Debug)]
pub(crate) struct Preparer {
    eye: EyeSelection,
    fill: bool,
    max_gap_us: i64,
    max_step_us: i64,
    queue: VecDeque<Pending>,
    /// Index of `queue[0]`.
    front_index: u64,
    next_index: u64,
    eyes: [EyeState; 2],
    last_out: Option<(i64, bool)>,
    run: u64,
}

impl Preparer {
    pub fn new(options: &Preprocessing) -> Self {
        Self {
            eye: options.eye,
            fill: options.gap_fill,
            max_gap_us: options.max_gap_us(),
            max_step_us: options.max_step_us(),
            queue: VecDeque::with_capacity(256),
            front_index: 0,
            next_index: 0,
            eyes: [EyeState::default(); 2],
            last_out: None,
            run: 0,
        }
    }

    /// Takes one sample (whose time the [`Clock`] accepted); passes on every sample
    /// whose gaps are decided, in order.
    #[inline(always)]
    pub fn push(&mut self, sample: &GazeSample, mut emit: impl FnMut(Prepared)) {
        let index = self.next_index;
        self.next_index += 1;
        let t_us = sample.system_time_us;
        // Fast path: nothing waiting (so no gap open) and every eye in use valid.
        if self.queue.is_empty()
            && let Some((point, left, right)) = self.selected_point(sample)
        {
            if self.fill {
                let last = |p: Option<[f32; 2]>| p.map(|p| (t_us, p));
                self.eyes[0].last_valid = last(left);
                self.eyes[1].last_valid = last(right);
            }
            self.front_index = self.next_index;
            self.emit_point(t_us, point, &mut emit);
            return;
        }
        let mut pending = Pending {
            t_us,
            eyes: [NAN2; 2],
            open: 0,
        };
        let (use_left, use_right) = match self.eye {
            EyeSelection::Average => (true, true),
            EyeSelection::Left => (true, false),
            EyeSelection::Right => (false, true),
        };
        if use_left {
            self.eye_value(0, index, t_us, eye_point(&sample.left), &mut pending);
        }
        if use_right {
            self.eye_value(1, index, t_us, eye_point(&sample.right), &mut pending);
        }
        if self.queue.is_empty() && pending.open == 0 {
            self.emit(&pending, &mut emit);
            self.front_index = self.next_index;
            return;
        }
        self.queue.push_back(pending);
        while let Some(front) = self.queue.front().copied() {
            if front.open != 0 {
                break;
            }
            self.queue.pop_front();
            self.front_index += 1;
            self.emit(&front, &mut emit);
        }
    }

    /// Passes on every waiting sample (gaps still open stay gaps) and starts afresh.
    pub fn flush(&mut self, mut emit: impl FnMut(Prepared)) {
        while let Some(front) = self.queue.pop_front() {
            self.emit(&front, &mut emit);
        }
        self.front_index = 0;
        self.next_index = 0;
        self.eyes = [EyeState::default(); 2];
        self.last_out = None;
        self.run = 0;
    }

    /// Updates eye `e`'s gap state with its value in sample `index`.
    #[inline]
    fn eye_value(
        &mut self,
        e: usize,
        index: u64,
        t_us: i64,
        value: Option<[f32; 2]>,
        pending: &mut Pending,
    ) {
        let bit = 1u8 << e;
        let state = self.eyes[e];
        match value {
            Some(point) => {
                if let Some(gap_start) = state.gap_start {
                    let filled = match state.last_valid {
                        Some((last_us, last_point))
                            if t_us.saturating_sub(last_us) <= self.max_gap_us =>
                        {
                            Some((last_us, last_point))
                        }
                        _ => None,
                    };
                    self.close_gap(e, gap_start, index, filled.map(|f| (f, (t_us, point))));
                }
                pending.eyes[e] = point;
                self.eyes[e] = EyeState {
                    last_valid: self.fill.then_some((t_us, point)),
                    gap_start: None,
                };
            }
            None => {
                let fillable = matches!(state.last_valid,
                    Some((last_us, _)) if t_us.saturating_sub(last_us) <= self.max_gap_us);
                if fillable {
                    pending.open |= bit;
                    if state.gap_start.is_none() {
                        self.eyes[e].gap_start = Some(index);
                    }
                } else {
                    if let Some(gap_start) = state.gap_start {
                        self.close_gap(e, gap_start, index, None);
                    }
                    self.eyes[e] = EyeState::default();
                }
            }
        }
    }

    /// Decides eye `e` in the waiting samples `gap_start..end`: interpolated between
    /// `(before, after)` when given, invalid otherwise.
    #[allow(clippy::type_complexity)]
    fn close_gap(
        &mut self,
        e: usize,
        gap_start: u64,
        end: u64,
        ends: Option<((i64, [f32; 2]), (i64, [f32; 2]))>,
    ) {
        let bit = 1u8 << e;
        let first = (gap_start.max(self.front_index) - self.front_index) as usize;
        let last = (end - self.front_index) as usize;
        for pending in self.queue.range_mut(first..last.min(self.queue.len())) {
            pending.open &= !bit;
            if let Some(((t0, p0), (t1, p1))) = ends {
                let f =
                    (pending.t_us.saturating_sub(t0) as f64 / t1.saturating_sub(t0) as f64) as f32;
                pending.eyes[e] = [p0[0] + f * (p1[0] - p0[0]), p0[1] + f * (p1[1] - p0[1])];
            }
        }
    }

    /// The selected point when every eye in use is valid, with the eyes' points.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn selected_point(
        &self,
        sample: &GazeSample,
    ) -> Option<([f32; 2], Option<[f32; 2]>, Option<[f32; 2]>)> {
        match self.eye {
            EyeSelection::Average => {
                let (l, r) = (eye_point(&sample.left)?, eye_point(&sample.right)?);
                let point = [(l[0] + r[0]) * 0.5, (l[1] + r[1]) * 0.5];
                Some((point, Some(l), Some(r)))
            }
            EyeSelection::Left => eye_point(&sample.left).map(|l| (l, Some(l), None)),
            EyeSelection::Right => eye_point(&sample.right).map(|r| (r, None, Some(r))),
        }
    }

    #[inline]
    fn emit(&mut self, pending: &Pending, emit: &mut impl FnMut(Prepared)) {
        let [left, right] = pending.eyes;
        let point = match self.eye {
            EyeSelection::Left => left,
            EyeSelection::Right => right,
            EyeSelection::Average => match (left[0].is_nan(), right[0].is_nan()) {
                (false, false) => [(left[0] + right[0]) * 0.5, (left[1] + right[1]) * 0.5],
                (false, true) => left,
                (true, false) => right,
                (true, true) => NAN2,
            },
        };
        self.emit_point(pending.t_us, point, emit);
    }

    /// Passes on a sample with its selected point (NaN when invalid).
    #[inline(always)]
    fn emit_point(&mut self, t_us: i64, point: [f32; 2], emit: &mut impl FnMut(Prepared)) {
        let valid = !point[0].is_nan();
        let joined = matches!(self.last_out,
            Some((last_us, true)) if t_us.saturating_sub(last_us) <= self.max_step_us);
        if valid && !joined {
            self.run += 1;
        }
        self.last_out = Some((t_us, valid));
        emit(Prepared {
            t_us,
            point,
            valid,
            run: self.run,
        });
    }
}

/// The eye's gaze point when valid, finite and within [`PLAUSIBLE_RANGE`].
#[inline]
fn eye_point(eye: &EyeSample) -> Option<[f32; 2]> {
    eye.point()
        .filter(|[x, y]| PLAUSIBLE_RANGE.contains(x) && PLAUSIBLE_RANGE.contains(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(samples: &[GazeSample], options: &Preprocessing) -> Vec<Prepared> {
        let mut preparer = Preparer::new(options);
        let mut out = Vec::new();
        for s in samples {
            preparer.push(s, |p| out.push(p));
        }
        preparer.flush(|p| out.push(p));
        out
    }

    #[test]
    fn short_gaps_in_one_eye_are_interpolated_long_ones_are_not() {
        // 100 Hz; the left eye drops out for 50 ms (filled), then for 100 ms (not).
        let mut samples: Vec<GazeSample> = (0..40)
            .map(|i| GazeSample::binocular(i * 10_000, [0.1 + 0.01 * i as f32, 0.5]))
            .collect();
        for s in &mut samples[5..9] {
            s.left.gaze_point_valid = false; // 40 ms of invalid, 50 ms valid to valid
        }
        for s in &mut samples[20..29] {
            s.left = EyeSample::INVALID; // 100 ms valid to valid
            s.right = EyeSample::INVALID;
        }
        let options = Preprocessing::default();
        let out = run(&samples, &options);
        assert_eq!(out.len(), 40);
        assert!((out[7].point[0] - 0.17).abs() < 1e-6, "{:?}", out[7]);
        assert!(out[7].valid && out[7].run == out[0].run);
        assert!(out[20..29].iter().all(|p| !p.valid));
        assert_ne!(out[29].run, out[19].run);

        let left_only = Preprocessing {
            eye: EyeSelection::Left,
            gap_fill: false,
            ..options
        };
        let out = run(&samples, &left_only);
        assert!(!out[7].valid, "no fill-in when it is off");
    }

    #[test]
    fn missing_samples_longer_than_the_max_gap_split_runs() {
        let samples = [
            GazeSample::binocular(0, [0.5, 0.5]),
            GazeSample::binocular(10_000, [0.5, 0.5]),
            GazeSample::binocular(200_000, [0.5, 0.5]),
        ];
        let out = run(&samples, &Preprocessing::default());
        assert_eq!(out[0].run, out[1].run);
        assert_ne!(out[1].run, out[2].run);
    }

    #[test]
    fn a_small_max_gap_does_not_split_low_rate_data() {
        let samples: Vec<GazeSample> = (0..5)
            .map(|i| GazeSample::binocular(i * 33_333, [0.5, 0.5]))
            .collect();
        let options = Preprocessing {
            max_gap_ms: 10.0,
            ..Preprocessing::default()
        };
        let out = run(&samples, &options);
        assert!(out.iter().all(|p| p.run == out[0].run));
    }

    #[test]
    fn far_off_screen_and_nan_points_are_gaps() {
        let samples = [
            GazeSample::binocular(0, [0.5, 0.5]),
            GazeSample::binocular(10_000, [25.0, 0.5]),
            GazeSample::binocular(20_000, [f32::NAN, 0.5]),
            GazeSample::binocular(30_000, [1.2, -0.1]),
        ];
        let options = Preprocessing {
            gap_fill: false,
            ..Preprocessing::default()
        };
        let valid: Vec<bool> = run(&samples, &options).iter().map(|p| p.valid).collect();
        assert_eq!(valid, [true, false, false, true]);
    }

    #[test]
    fn the_clock_rejects_repeated_and_backward_times_without_forgetting() {
        let mut clock = Clock::default();
        clock.accept(10).unwrap();
        let error = clock.accept(10).unwrap_err();
        assert_eq!(
            error,
            FixationError::TimeNotIncreasing {
                index: 1,
                previous_us: 10,
                time_us: 10
            }
        );
        assert!(clock.accept(5).is_err());
        clock.accept(11).unwrap();
    }
}
