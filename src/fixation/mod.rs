//! Fixations and attention trajectories: the fixation type every detector and the
//! simulated cohort produce, the detectors (Tobii I-VT and I-DT, online and offline,
//! in degrees or pixels), the fixation CSV, and the trajectory builder that turns
//! fixations on a stimulus into the `[(box, duration_ms)]` sequence DEPER learns from.
//!
//! Layout: `options` (settings and defaults), `space` (degrees or pixels), `prepare`
//! (timestamp check, gap fill-in, eye selection), `smooth` (noise reduction),
//! `velocity` + `assemble` + `ivt` (I-VT), `idt` (I-DT), `online` (one entry point:
//! [`OnlineDetector`], [`detect_fixations`]), `csv`, `trajectory`.
//!
//! Bad data: invalid, NaN and far off-screen gaze values are gaps, never errors or
//! panics; an empty or too short recording gives no fixations. Timestamps that do not
//! increase strictly are an error naming the sample index and both times
//! ([`FixationError::TimeNotIncreasing`]); online, the sample is rejected and the
//! detector goes on, which is how `scanscribe fixations --skip-bad-timestamps` drops
//! them.
//!
//! No UI and no ML here.

mod assemble;
pub mod csv;
mod error;
pub mod idt;
pub mod ivt;
pub mod online;
pub mod options;
mod prepare;
mod smooth;
pub mod space;
pub mod trajectory;
mod velocity;

use serde::{Deserialize, Serialize};

/// One fixation on the display.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fixation {
    /// Timestamp of the first sample, µs on the system clock.
    pub start_us: i64,
    /// Timestamp of the last sample, µs on the system clock.
    pub end_us: i64,
    /// Mean gaze point, display-normalized, origin top-left.
    pub position_display: [f32; 2],
    /// Bounding box of the fixation's samples, display-normalized `[x0, y0, x1, y1]`.
    pub bbox_display: [f32; 4],
    /// Number of gaze samples in the fixation.
    pub sample_count: u32,
}

impl Fixation {
    /// Duration from the first to the last sample, milliseconds.
    pub fn duration_ms(&self) -> f64 {
        self.end_us.saturating_sub(self.start_us) as f64 / 1000.0
    }
}

pub use error::FixationError;
pub use idt::IdtDetector;
pub use ivt::IvtDetector;
pub use online::{Method, OnlineDetector, detect_fixations};
pub use options::{EyeSelection, IdtOptions, IvtOptions, NoiseReduction, Preprocessing};
pub use prepare::PLAUSIBLE_RANGE;
pub use space::Space;
pub use trajectory::{ImagePlacement, TrajectoryOptions, build_trajectory};
