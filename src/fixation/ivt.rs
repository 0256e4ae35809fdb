//! The Tobii I-VT fixation filter (Olsen 2012), online: samples go in one at a time,
//! each fixation comes out once it is final. The offline detector is this one fed the
//! whole recording and then finished, so both give the same fixations by construction.
//!
//! Steps, in Tobii's order: gap fill-in → eye selection → noise reduction (`prepare`,
//! `smooth`) → velocity calculator → I-VT classifier (`velocity`) → merge adjacent
//! fixations → discard short fixations (`assemble`). When the sampling rate is not
//! given, the detector holds the first 101 samples to estimate it before classifying.
//! A fixation is emitted about `merge_max_time_ms` plus half a velocity window (and
//! half a noise window) after its last sample, or, when another run of fixation
//! samples starts within `merge_max_time_ms`, once that run ends (it may merge);
//! [`IvtDetector::provisional`] shows what is not final yet.
//!
//! Where a comparison with Tobii Pro Lab may differ, by choice or by lack of a
//! specification: angles assume the eye on the normal through the screen centre at the
//! viewing distance (Tobii uses each sample's measured eye position); an odd number of
//! window intervals puts the extra one after the sample; the sampling rate comes from
//! the median of the first 100 intervals; a fixation's position is the mean of its
//! samples after gap fill-in and noise reduction (a merged one: of both fixations'
//! samples); durations run from the first to the last sample. Owns only the wiring of
//! the steps.

use super::Fixation;
use super::assemble::{Assembler, AssemblyRules};
use super::error::FixationError;
use super::options::{IvtOptions, ms_to_us};
use super::prepare::{Clock, Preparer};
use super::smooth::NoiseReducer;
use super::space::Space;
use super::velocity::{
    RATE_ESTIMATE_INTERVALS, VelocityClassifier, estimate_rate_hz, window_offsets,
};
use crate::gaze::GazeSample;

/// The I-VT filter, sample by sample.
#[derive(Debug)]
pub struct IvtDetector {
    options: IvtOptions,
    space: Space,
    clock: Clock,
    /// Samples held until the sampling rate is known.
    warm_up: Vec<GazeSample>,
    preparer: Preparer,
    reducer: NoiseReducer,
    classifier: Option<VelocityClassifier>,
    assembler: Assembler,
}

impl IvtDetector {
    /// A detector for thresholds in `space`'s unit (see [`IvtOptions::default_for`]).
    pub fn new(options: IvtOptions, space: Space) -> Result<Self, FixationError> {
        options.validate()?;
        space.validate()?;
        let rules = AssemblyRules {
            merge: options.merge.then(|| {
                (
                    ms_to_us(options.merge_max_time_ms),
                    options.merge_max_distance,
                )
            }),
            min_duration_us: options
                .discard_short
                .then(|| ms_to_us(options.min_fixation_ms)),
        };
        Ok(Self {
            options,
            space,
            clock: Clock::default(),
            warm_up: Vec::with_capacity(RATE_ESTIMATE_INTERVALS + 1),
            preparer: Preparer::new(&options.preprocessing),
            reducer: NoiseReducer::new(options.preprocessing.noise_reduction),
            classifier: options
                .sampling_rate_hz
                .map(|rate| Self::classifier(&options, space, rate)),
            assembler: Assembler::new(space, rules),
        })
    }

    /// The settings in use.
    pub fn options(&self) -> &IvtOptions {
        &self.options
    }

    /// The velocity window as `(samples before, samples after)` the classified sample,
    /// once the sampling rate is known.
    pub fn velocity_window_samples(&self) -> Option<(usize, usize)> {
        self.classifier.as_ref().map(|c| c.offsets())
    }

    /// Takes the next sample; pushes onto `out` every fixation that became final. A
    /// sample whose time is not after the previous sample's is rejected with
    /// [`FixationError::TimeNotIncreasing`] and changes nothing, so the caller may skip
    /// it and go on.
    #[inline]
    pub fn push(
        &mut self,
        sample: &GazeSample,
        out: &mut Vec<Fixation>,
    ) -> Result<(), FixationError> {
        self.clock.accept(sample.system_time_us)?;
        if self.classifier.is_none() {
            self.warm_up.push(*sample);
            if self.warm_up.len() > RATE_ESTIMATE_INTERVALS {
                self.end_warm_up(out);
            }
            return Ok(());
        }
        self.process(sample, out);
        Ok(())
    }

    /// Pushes onto `out` the fixations not final yet, oldest first, for a live display
    /// to draw as provisional: the last one that a later one may still merge with, and
    /// the run of fixation samples in progress. They may still change or vanish.
    pub fn provisional(&self, out: &mut Vec<Fixation>) {
        self.assembler.provisional(out);
    }

    /// The recording has ended: pushes the fixations still held and starts afresh for a
    /// new recording.
    pub fn finish(&mut self, out: &mut Vec<Fixation>) {
        if self.classifier.is_none() {
            self.end_warm_up(out);
        }
        let Self {
            preparer,
            reducer,
            classifier,
            assembler,
            ..
        } = self;
        if let Some(classifier) = classifier {
            preparer.flush(|p| reducer.push(p, |p| classifier.push(p, |c| assembler.push(c, out))));
            reducer.flush(|p| classifier.push(p, |c| assembler.push(c, out)));
            classifier.flush(|c| assembler.push(c, out));
        }
        assembler.flush(out);
        self.clock = Clock::default();
        self.classifier = self
            .options
            .sampling_rate_hz
            .map(|rate| Self::classifier(&self.options, self.space, rate));
    }

    #[inline]
    fn process(&mut self, sample: &GazeSample, out: &mut Vec<Fixation>) {
        let Self {
            preparer,
            reducer,
            classifier,
            assembler,
            ..
        } = self;
        if let Some(classifier) = classifier {
            preparer.push(sample, |p| {
                reducer.push(p, |p| classifier.push(p, |c| assembler.push(c, out)));
            });
        }
    }

    /// Sets up the classifier from the held samples and runs them through.
    fn end_warm_up(&mut self, out: &mut Vec<Fixation>) {
        let times: Vec<i64> = self.warm_up.iter().map(|s| s.system_time_us).collect();
        // With fewer than two samples there is no velocity; any rate will do.
        let rate = estimate_rate_hz(&times).unwrap_or(1000.0);
        self.classifier = Some(Self::classifier(&self.options, self.space, rate));
        let held = std::mem::take(&mut self.warm_up);
        for sample in &held {
            self.process(sample, out);
        }
        self.warm_up = held;
        self.warm_up.clear();
    }

    fn classifier(options: &IvtOptions, space: Space, rate_hz: f64) -> VelocityClassifier {
        let offsets = window_offsets(options.velocity_window_ms, rate_hz);
        VelocityClassifier::new(space, options.velocity_threshold, offsets)
    }
}
