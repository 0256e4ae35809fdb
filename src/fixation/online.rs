//! One entry point for both detectors and both modes.
//!
//! Online (a live display): [`OnlineDetector::push`] each sample as it arrives and draw
//! the fixations it pushes; they are final and never revised. What is not final yet
//! (a fixation growing, or waiting for a possible merge) is available from
//! [`OnlineDetector::provisional`]. Offline (a recording):
//! [`detect_fixations`], which is exactly the online detector fed every sample and then
//! [`OnlineDetector::finish`]ed, so both modes give identical fixations.
//!
//! Bad data: invalid, NaN and far off-screen gaze values are gaps, never errors; an
//! empty or too short recording gives no fixations. Timestamps must increase strictly:
//! a sample whose time is not after the previous one is rejected with
//! [`FixationError::TimeNotIncreasing`] naming its index and both times (the online
//! detector keeps its state, so a caller may skip the sample; [`detect_fixations`]
//! stops there).

use serde::{Deserialize, Serialize};

use super::Fixation;
use super::error::FixationError;
use super::idt::IdtDetector;
use super::ivt::IvtDetector;
use super::options::{IdtOptions, IvtOptions};
use super::space::Space;
use crate::gaze::GazeSample;

/// A detector and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Method {
    Ivt(IvtOptions),
    Idt(IdtOptions),
}

impl Method {
    /// I-VT with the defaults for `space`.
    pub fn ivt_for(space: &Space) -> Self {
        Self::Ivt(IvtOptions::default_for(space))
    }

    /// I-DT with the defaults for `space`.
    pub fn idt_for(space: &Space) -> Self {
        Self::Idt(IdtOptions::default_for(space))
    }
}

/// Either detector, sample by sample.
#[derive(Debug)]
pub enum OnlineDetector {
    Ivt(IvtDetector),
    Idt(IdtDetector),
}

impl OnlineDetector {
    /// A detector; errors name the impossible setting.
    pub fn new(method: &Method, space: Space) -> Result<Self, FixationError> {
        Ok(match method {
            Method::Ivt(options) => Self::Ivt(IvtDetector::new(*options, space)?),
            Method::Idt(options) => Self::Idt(IdtDetector::new(*options, space)?),
        })
    }

    /// Takes the next sample; pushes onto `out` every fixation that became final.
    #[inline]
    pub fn push(
        &mut self,
        sample: &GazeSample,
        out: &mut Vec<Fixation>,
    ) -> Result<(), FixationError> {
        match self {
            Self::Ivt(detector) => detector.push(sample, out),
            Self::Idt(detector) => detector.push(sample, out),
        }
    }

    /// Takes a batch of samples, stopping at the first rejected one.
    pub fn push_all(
        &mut self,
        samples: &[GazeSample],
        out: &mut Vec<Fixation>,
    ) -> Result<(), FixationError> {
        match self {
            Self::Ivt(detector) => samples.iter().try_for_each(|s| detector.push(s, out)),
            Self::Idt(detector) => samples.iter().try_for_each(|s| detector.push(s, out)),
        }
    }

    /// Pushes onto `out` the fixations not final yet (see [`IvtDetector::provisional`],
    /// [`IdtDetector::provisional`]), for a live display to draw as provisional.
    pub fn provisional(&self, out: &mut Vec<Fixation>) {
        match self {
            Self::Ivt(detector) => detector.provisional(out),
            Self::Idt(detector) => detector.provisional(out),
        }
    }

    /// The recording has ended: pushes the fixations still held; the detector is then
    /// ready for a new recording.
    pub fn finish(&mut self, out: &mut Vec<Fixation>) {
        match self {
            Self::Ivt(detector) => detector.finish(out),
            Self::Idt(detector) => detector.finish(out),
        }
    }
}

/// The fixations of a whole recording (the online detector fed everything, finished).
pub fn detect_fixations(
    samples: &[GazeSample],
    method: &Method,
    space: Space,
) -> Result<Vec<Fixation>, FixationError> {
    let mut detector = OnlineDetector::new(method, space)?;
    let mut fixations = Vec::new();
    detector.push_all(samples, &mut fixations)?;
    detector.finish(&mut fixations);
    Ok(fixations)
}
