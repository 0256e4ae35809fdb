//! Fixations and attention trajectories: the fixation type every detector and the
//! simulated cohort produce, and the trajectory builder that turns fixations on a
//! stimulus into the `[(box, duration_ms)]` sequence DEPER learns from.
//!
//! No UI and no ML here.

pub mod trajectory;

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
        (self.end_us - self.start_us) as f64 / 1000.0
    }
}

pub use trajectory::{ImagePlacement, TrajectoryOptions, build_trajectory};
