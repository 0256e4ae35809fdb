//! Classified samples → fixations, streaming (Olsen 2012, §3.1.5–3.1.7): runs of
//! consecutive fixation samples become fixations; adjacent fixations close in time and
//! space are merged; short ones are discarded.
//!
//! A fixation's position is the mean of its samples' points (after gap fill-in, eye
//! selection and noise reduction), its box their bounding box. Two fixations merge when
//! at most `merge_max_time_ms` separate the last sample of the first from the first
//! sample of the second and their positions are at most `merge_max_distance` apart; the
//! merged fixation spans both, and its position and box are those of both fixations'
//! samples (the samples between them do not count). Merging repeats with the next
//! fixation. A fixation is emitted as soon as no later fixation can merge with it:
//! `merge_max_time_ms` after its end, or, when the next run of fixation samples starts
//! sooner, when that run ends (its mean position decides the merge).
//! Owns no velocity computation.

use super::Fixation;
use super::space::Space;
use super::velocity::{Class, Classified};

/// Running sums of one fixation's samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Accumulator {
    pub start_us: i64,
    pub end_us: i64,
    sum: [f64; 2],
    min: [f32; 2],
    max: [f32; 2],
    count: u32,
}

impl Accumulator {
    #[inline]
    pub fn new(t_us: i64, point: [f32; 2]) -> Self {
        Self {
            start_us: t_us,
            end_us: t_us,
            sum: [f64::from(point[0]), f64::from(point[1])],
            min: point,
            max: point,
            count: 1,
        }
    }

    #[inline(always)]
    pub fn add(&mut self, t_us: i64, point: [f32; 2]) {
        self.end_us = t_us;
        self.sum[0] += f64::from(point[0]);
        self.sum[1] += f64::from(point[1]);
        self.min = [self.min[0].min(point[0]), self.min[1].min(point[1])];
        self.max = [self.max[0].max(point[0]), self.max[1].max(point[1])];
        self.count += 1;
    }

    /// Whether `point` lies in the bounding box of the samples so far.
    #[inline]
    pub fn contains(&self, point: [f32; 2]) -> bool {
        (self.min[0]..=self.max[0]).contains(&point[0])
            && (self.min[1]..=self.max[1]).contains(&point[1])
    }

    /// Takes in a later fixation.
    pub fn absorb(&mut self, later: &Self) {
        self.end_us = later.end_us;
        self.sum = [self.sum[0] + later.sum[0], self.sum[1] + later.sum[1]];
        self.min = [self.min[0].min(later.min[0]), self.min[1].min(later.min[1])];
        self.max = [self.max[0].max(later.max[0]), self.max[1].max(later.max[1])];
        self.count += later.count;
    }

    pub fn position(&self) -> [f32; 2] {
        let n = f64::from(self.count);
        [(self.sum[0] / n) as f32, (self.sum[1] / n) as f32]
    }

    pub fn to_fixation(self) -> Fixation {
        Fixation {
            start_us: self.start_us,
            end_us: self.end_us,
            position_display: self.position(),
            bbox_display: [self.min[0], self.min[1], self.max[0], self.max[1]],
            sample_count: self.count,
        }
    }
}

/// The merge and discard settings in the units the assembler works in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AssemblyRules {
    /// `(max time between, max distance)` when merging is on.
    pub merge: Option<(i64, f64)>,
    /// The shortest fixation kept when discarding is on, µs.
    pub min_duration_us: Option<i64>,
}

/// The fixation assembler of the I-VT filter.
#[derive(Debug)]
pub(crate) struct Assembler {
    space: Space,
    rules: AssemblyRules,
    /// The run of fixation samples in progress.
    open: Option<Accumulator>,
    /// The last closed fixation, while a later one may still merge with it.
    pending: Option<Accumulator>,
}

impl Assembler {
    pub fn new(space: Space, rules: AssemblyRules) -> Self {
        Self {
            space,
            rules,
            open: None,
            pending: None,
        }
    }

    /// Takes one classified sample; pushes every fixation that became final.
    #[inline(always)]
    pub fn push(&mut self, sample: Classified, out: &mut Vec<Fixation>) {
        if sample.class == Class::Fixation {
            match &mut self.open {
                Some(run) => run.add(sample.t_us, sample.point),
                None => self.open = Some(Accumulator::new(sample.t_us, sample.point)),
            }
        } else if let Some(run) = self.open.take() {
            self.close(run, out);
        }
        // Emit the pending fixation once no fixation that may still come can merge.
        if let (Some(pending), Some((max_time_us, _))) = (&self.pending, self.rules.merge) {
            let next_start_us = self.open.as_ref().map_or(sample.t_us, |run| run.start_us);
            let later_starts_only = self.open.is_none();
            let too_late = next_start_us.saturating_sub(pending.end_us) > max_time_us
                || (later_starts_only
                    && next_start_us.saturating_sub(pending.end_us) >= max_time_us);
            if too_late {
                let pending = *pending;
                self.pending = None;
                self.finish(pending, out);
            }
        }
    }

    /// The fixations not final yet, oldest first: the last closed one (a later one may
    /// still merge with it) and the run in progress (it may grow, merge or be
    /// discarded).
    pub fn provisional(&self, out: &mut Vec<Fixation>) {
        out.extend(
            self.pending
                .iter()
                .chain(&self.open)
                .map(|a| a.to_fixation()),
        );
    }

    /// Closes the run in progress, pushes what remains; starts afresh.
    pub fn flush(&mut self, out: &mut Vec<Fixation>) {
        if let Some(run) = self.open.take() {
            self.close(run, out);
        }
        if let Some(pending) = self.pending.take() {
            self.finish(pending, out);
        }
    }

    fn close(&mut self, run: Accumulator, out: &mut Vec<Fixation>) {
        let Some((max_time_us, max_distance)) = self.rules.merge else {
            self.finish(run, out);
            return;
        };
        match &mut self.pending {
            Some(pending)
                if run.start_us.saturating_sub(pending.end_us) <= max_time_us
                    && self.space.distance(pending.position(), run.position()) <= max_distance =>
            {
                pending.absorb(&run);
            }
            Some(pending) => {
                let previous = std::mem::replace(pending, run);
                self.finish(previous, out);
            }
            None => self.pending = Some(run),
        }
    }

    fn finish(&self, fixation: Accumulator, out: &mut Vec<Fixation>) {
        let long_enough = self
            .rules
            .min_duration_us
            .is_none_or(|min| fixation.end_us.saturating_sub(fixation.start_us) >= min);
        if long_enough {
            out.push(fixation.to_fixation());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(
        assembler: &mut Assembler,
        from_ms: i64,
        to_ms: i64,
        x: f32,
        class: Class,
    ) -> Vec<Fixation> {
        let mut out = Vec::new();
        for ms in (from_ms..to_ms).step_by(10) {
            let sample = Classified {
                t_us: ms * 1000,
                point: [x, 0.5],
                class,
            };
            assembler.push(sample, &mut out);
        }
        out
    }

    fn pixels() -> Space {
        Space::Pixels {
            resolution_px: (1000, 1000),
        }
    }

    #[test]
    fn close_fixations_merge_and_the_result_is_emitted_once_final() {
        let rules = AssemblyRules {
            merge: Some((75_000, 5.0)),
            min_duration_us: Some(60_000),
        };
        let mut assembler = Assembler::new(pixels(), rules);
        assert!(feed(&mut assembler, 0, 100, 0.500, Class::Fixation).is_empty());
        assert!(feed(&mut assembler, 100, 150, 0.500, Class::Saccade).is_empty());
        // 2 px away, 60 ms after: merges.
        assert!(feed(&mut assembler, 150, 300, 0.502, Class::Fixation).is_empty());
        // A saccade: the merged fixation is final once 75 ms have passed.
        let out = feed(&mut assembler, 300, 400, 0.9, Class::Saccade);
        assert_eq!(out.len(), 1);
        let f = out[0];
        assert_eq!((f.start_us, f.end_us, f.sample_count), (0, 290_000, 25));
        assert!((f.position_display[0] - (10.0 * 0.5 + 15.0 * 0.502) / 25.0).abs() < 1e-6);
        assert_eq!(f.bbox_display[2], 0.502);
    }

    #[test]
    fn far_or_late_fixations_stay_apart_and_short_ones_are_dropped() {
        let rules = AssemblyRules {
            merge: Some((75_000, 5.0)),
            min_duration_us: Some(60_000),
        };
        let mut assembler = Assembler::new(pixels(), rules);
        let mut out = feed(&mut assembler, 0, 100, 0.5, Class::Fixation);
        out.extend(feed(&mut assembler, 100, 120, 0.5, Class::Saccade));
        out.extend(feed(&mut assembler, 120, 200, 0.6, Class::Fixation)); // 100 px away
        out.extend(feed(&mut assembler, 200, 300, 0.6, Class::Unclassified)); // 100 ms gap
        out.extend(feed(&mut assembler, 300, 340, 0.6, Class::Fixation)); // 30 ms: too short
        assembler.flush(&mut out);
        let starts: Vec<i64> = out.iter().map(|f| f.start_us / 1000).collect();
        assert_eq!(starts, [0, 120]);
    }
}
