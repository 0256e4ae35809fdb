//! I-DT, dispersion-threshold fixation identification (Salvucci & Goldberg 2000),
//! online: samples go in one at a time, each fixation comes out once it is final. The
//! offline detector is this one fed the whole recording and then finished.
//!
//! After the same gap fill-in, eye selection and noise reduction as I-VT, a window is
//! opened over the first samples covering `min_duration_ms` (first to last sample). If
//! its dispersion `(max x − min x) + (max y − min y)` (x and y in degrees of visual angle,
//! as pymovements' `pix2deg`, or in px) is at most the threshold, the window grows
//! sample by sample while it stays so, and becomes a fixation when the next sample
//! would exceed it; that sample opens the next window. Otherwise the window's first
//! sample is dropped. An invalid sample or a step longer than `max_gap_ms` (and 75 ms) ends the
//! window (a fixation if it was one). Compared with pymovements' `idt`: there the
//! sample that breaks the threshold ends up inside the fixation, and the minimum
//! duration counts samples (`minimum_duration / interval`, one sample more than here).
//! Owns only this windowing.

use std::collections::VecDeque;

use super::Fixation;
use super::assemble::Accumulator;
use super::error::FixationError;
use super::options::{IdtOptions, ms_to_us};
use super::prepare::{Clock, Prepared, Preparer};
use super::smooth::NoiseReducer;
use super::space::Space;
use crate::gaze::GazeSample;

/// The I-DT detector, sample by sample.
#[derive(Debug)]
pub struct IdtDetector {
    options: IdtOptions,
    clock: Clock,
    preparer: Preparer,
    reducer: NoiseReducer,
    window: DispersionWindow,
}

impl IdtDetector {
    /// A detector for thresholds in `space`'s unit (see [`IdtOptions::default_for`]).
    pub fn new(options: IdtOptions, space: Space) -> Result<Self, FixationError> {
        options.validate()?;
        space.validate()?;
        Ok(Self {
            options,
            clock: Clock::default(),
            preparer: Preparer::new(&options.preprocessing),
            reducer: NoiseReducer::new(options.preprocessing.noise_reduction),
            window: DispersionWindow::new(
                space,
                options.dispersion_threshold,
                ms_to_us(options.min_duration_ms),
            ),
        })
    }

    /// The settings in use.
    pub fn options(&self) -> &IdtOptions {
        &self.options
    }

    /// Takes the next sample; pushes onto `out` every fixation that became final. A
    /// sample whose time is not after the previous sample's is rejected with
    /// [`FixationError::TimeNotIncreasing`] and changes nothing.
    #[inline]
    pub fn push(
        &mut self,
        sample: &GazeSample,
        out: &mut Vec<Fixation>,
    ) -> Result<(), FixationError> {
        self.clock.accept(sample.system_time_us)?;
        let Self {
            preparer,
            reducer,
            window,
            ..
        } = self;
        preparer.push(sample, |p| reducer.push(p, |p| window.push(p, out)));
        Ok(())
    }

    /// Pushes onto `out` the fixation growing now, if any, for a live display to draw as
    /// provisional (it is final, longer, once a sample breaks the threshold).
    pub fn provisional(&self, out: &mut Vec<Fixation>) {
        out.extend(self.window.fixation.map(|(a, _)| a.to_fixation()));
    }

    /// The recording has ended: pushes the fixation in progress, if any, and starts
    /// afresh for a new recording.
    pub fn finish(&mut self, out: &mut Vec<Fixation>) {
        let Self {
            preparer,
            reducer,
            window,
            ..
        } = self;
        preparer.flush(|p| reducer.push(p, |p| window.push(p, out)));
        reducer.flush(|p| window.push(p, out));
        window.end(out);
        self.clock = Clock::default();
    }
}

/// A sliding maximum (monotonic deque): values of samples by index.
#[derive(Debug, Default)]
struct SlidingMax {
    deque: VecDeque<(u64, f64)>,
}

impl SlidingMax {
    fn push(&mut self, index: u64, value: f64) {
        while self.deque.back().is_some_and(|&(_, v)| v <= value) {
            self.deque.pop_back();
        }
        self.deque.push_back((index, value));
    }

    /// Forgets sample `index` (the oldest in the window).
    fn remove(&mut self, index: u64) {
        if self.deque.front().is_some_and(|&(i, _)| i == index) {
            self.deque.pop_front();
        }
    }

    fn max(&self) -> f64 {
        self.deque.front().map_or(f64::NAN, |&(_, v)| v)
    }
}

#[derive(Debug, Clone, Copy)]
struct WindowSample {
    t_us: i64,
    point: [f32; 2],
}

/// The I-DT window over the prepared samples.
#[derive(Debug)]
struct DispersionWindow {
    space: Space,
    threshold: f64,
    min_duration_us: i64,
    /// While opening a window: its samples and sliding extremes of x, −x, y, −y.
    samples: VecDeque<WindowSample>,
    front_index: u64,
    extremes: [SlidingMax; 4],
    /// While growing a fixation: its sums and `[max x, −min x, max y, −min y]`.
    fixation: Option<(Accumulator, [f64; 4])>,
    run: u64,
}

impl DispersionWindow {
    fn new(space: Space, threshold: f64, min_duration_us: i64) -> Self {
        Self {
            space,
            threshold,
            min_duration_us,
            samples: VecDeque::with_capacity(1024),
            front_index: 0,
            extremes: Default::default(),
            fixation: None,
            run: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, sample: Prepared, out: &mut Vec<Fixation>) {
        if !sample.valid {
            self.end(out);
            return;
        }
        if sample.run != self.run {
            self.end(out);
            self.run = sample.run;
        }
        if let Some((accumulator, _)) = &mut self.fixation
            && accumulator.contains(sample.point)
        {
            // Inside the box so far: the dispersion does not change (the per-axis
            // coordinates grow with x and y).
            accumulator.add(sample.t_us, sample.point);
            return;
        }
        let [x, y] = self.space.axes(sample.point);
        let values = [x, -x, y, -y];
        if let Some((accumulator, extent)) = &mut self.fixation {
            let grown = std::array::from_fn(|i| extent[i].max(values[i]));
            if dispersion(&grown) <= self.threshold {
                accumulator.add(sample.t_us, sample.point);
                *extent = grown;
                return;
            }
            self.end(out);
        }
        let index = self.front_index + self.samples.len() as u64;
        self.samples.push_back(WindowSample {
            t_us: sample.t_us,
            point: sample.point,
        });
        for (extreme, value) in self.extremes.iter_mut().zip(values) {
            extreme.push(index, value);
        }
        while let Some(first) = self.samples.front().copied() {
            if sample.t_us.saturating_sub(first.t_us) < self.min_duration_us {
                break;
            }
            let extent = std::array::from_fn(|i| self.extremes[i].max());
            if dispersion(&extent) <= self.threshold {
                let mut accumulator = Accumulator::new(first.t_us, first.point);
                for s in self.samples.iter().skip(1) {
                    accumulator.add(s.t_us, s.point);
                }
                self.clear_window();
                self.fixation = Some((accumulator, extent));
                break;
            }
            self.samples.pop_front();
            for extreme in &mut self.extremes {
                extreme.remove(self.front_index);
            }
            self.front_index += 1;
        }
    }

    /// Ends the window: pushes the fixation it holds, if any.
    fn end(&mut self, out: &mut Vec<Fixation>) {
        if let Some((accumulator, _)) = self.fixation.take() {
            out.push(accumulator.to_fixation());
        }
        self.clear_window();
    }

    fn clear_window(&mut self) {
        self.front_index += self.samples.len() as u64;
        self.samples.clear();
        for extreme in &mut self.extremes {
            extreme.deque.clear();
        }
    }
}

/// `(max x − min x) + (max y − min y)` from `[max x, −min x, max y, −min y]`.
#[inline]
fn dispersion(extent: &[f64; 4]) -> f64 {
    (extent[0] + extent[1]) + (extent[2] + extent[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_max_forgets_the_oldest() {
        let mut max = SlidingMax::default();
        for (i, v) in [3.0, 1.0, 2.0].into_iter().enumerate() {
            max.push(i as u64, v);
        }
        assert_eq!(max.max(), 3.0);
        max.remove(0);
        assert_eq!(max.max(), 2.0);
        max.remove(1);
        max.remove(2);
        assert!(max.max().is_nan());
    }
}
