//! Settings of the fixation detectors, serde-able so a study or a session can store
//! them, with the published defaults: Tobii Pro Lab's "Tobii I-VT (Fixation)" preset
//! (Olsen 2012) for I-VT and Salvucci & Goldberg (2000) for I-DT.
//!
//! Thresholds are measured in the detector's [`Space`]: degrees of visual angle
//! (velocities in °/s) with a screen geometry, or pixels (px/s) for traces without one.
//! Use [`IvtOptions::default_for`] / [`IdtOptions::default_for`] to get the defaults in
//! the right unit. Owns no detection code.

use serde::{Deserialize, Serialize};

use super::error::FixationError;
use super::space::Space;

/// Which eye's gaze point the detectors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EyeSelection {
    /// The mean of both eyes; one eye alone when only it is valid (Tobii "Average").
    #[default]
    Average,
    Left,
    Right,
}

/// Optional noise reduction applied after gap fill-in and eye selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseReduction {
    /// No filtering (the Tobii Pro Lab I-VT (Fixation) default).
    #[default]
    None,
    /// Median of x and of y (separately) over a centred window of this many samples (odd).
    MovingMedian { window_samples: usize },
    /// Mean over a centred window of this many samples (odd).
    MovingAverage { window_samples: usize },
}

/// Steps between samples up to this long are never gaps, whatever `max_gap_ms`, so a
/// small `max_gap_ms` cannot split low-rate data at every sample.
pub const MIN_MISSING_STEP_MS: f64 = 75.0;

/// The largest noise-reduction window accepted, in samples.
pub const MAX_NOISE_WINDOW_SAMPLES: usize = 31;

/// The steps before classification, shared by I-VT and I-DT (Olsen 2012, §3.1.1–3.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preprocessing {
    /// Fill gaps in each eye's data by linear interpolation between the last valid
    /// sample before and the first valid sample after, when those are at most
    /// `max_gap_ms` apart. Default on.
    pub gap_fill: bool,
    /// The longest gap filled in, ms (default 75). Whether or not `gap_fill` is on, a
    /// step between two consecutive samples longer than this and than
    /// [`MIN_MISSING_STEP_MS`] (samples missing from the recording) is a gap: no
    /// velocity window, dispersion window or fixation spans it. Raise it for
    /// event-driven mouse traces, which have no samples while the mouse rests.
    pub max_gap_ms: f64,
    /// Eye selection (default average).
    pub eye: EyeSelection,
    /// Noise reduction (default none).
    pub noise_reduction: NoiseReduction,
}

impl Default for Preprocessing {
    fn default() -> Self {
        Self {
            gap_fill: true,
            max_gap_ms: 75.0,
            eye: EyeSelection::Average,
            noise_reduction: NoiseReduction::None,
        }
    }
}

/// The Tobii I-VT fixation filter (Olsen 2012). Defaults: the Tobii Pro Lab
/// "Tobii I-VT (Fixation)" preset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IvtOptions {
    pub preprocessing: Preprocessing,
    /// Velocity window, ms (default 20). The window spans
    /// `max(1, round(velocity_window_ms × sampling rate))` sample intervals centred on
    /// the sample (one more interval after than before when odd); the velocity is the
    /// distance between the window's first and last sample over their time difference.
    pub velocity_window_ms: f64,
    /// Samples slower than this are fixation samples: °/s (default 30), or px/s in
    /// pixel space (default 1200).
    pub velocity_threshold: f64,
    /// The nominal sampling rate, Hz. `None` (default): the median of the first 100
    /// intervals between samples (the online detector waits for them before it
    /// classifies anything).
    pub sampling_rate_hz: Option<f64>,
    /// Merge adjacent fixations (default on).
    pub merge: bool,
    /// Merge only when at most this much time separates the end of one fixation from
    /// the start of the next, ms (default 75).
    pub merge_max_time_ms: f64,
    /// Merge only when the fixation positions are at most this far apart: ° (default
    /// 0.5), or px in pixel space (default 20).
    pub merge_max_distance: f64,
    /// Discard short fixations (default on).
    pub discard_short: bool,
    /// Fixations shorter than this are discarded, ms (default 60), measured from the
    /// first to the last sample as [`super::Fixation::duration_ms`].
    pub min_fixation_ms: f64,
}

impl Default for IvtOptions {
    fn default() -> Self {
        Self {
            preprocessing: Preprocessing::default(),
            velocity_window_ms: 20.0,
            velocity_threshold: 30.0,
            sampling_rate_hz: None,
            merge: true,
            merge_max_time_ms: 75.0,
            merge_max_distance: 0.5,
            discard_short: true,
            min_fixation_ms: 60.0,
        }
    }
}

/// Pixels per degree assumed for the pixel-space defaults: a 24" 1920×1080 screen at
/// 65 cm has about 41.
pub const DEFAULT_PX_PER_DEGREE: f64 = 40.0;

impl IvtOptions {
    /// The defaults with thresholds in the unit of `space`: degree thresholds, or the
    /// same thresholds at [`DEFAULT_PX_PER_DEGREE`] (1200 px/s, 20 px) in pixel space.
    pub fn default_for(space: &Space) -> Self {
        let degrees = Self::default();
        match space {
            Space::Visual(_) => degrees,
            Space::Pixels { .. } => Self {
                velocity_threshold: degrees.velocity_threshold * DEFAULT_PX_PER_DEGREE,
                merge_max_distance: degrees.merge_max_distance * DEFAULT_PX_PER_DEGREE,
                ..degrees
            },
        }
    }

    /// Every impossible setting, as an error naming the field.
    pub fn validate(&self) -> Result<(), FixationError> {
        self.preprocessing.validate()?;
        positive("velocity_window_ms", self.velocity_window_ms)?;
        positive("velocity_threshold", self.velocity_threshold)?;
        if let Some(rate) = self.sampling_rate_hz {
            positive("sampling_rate_hz", rate)?;
        }
        non_negative("merge_max_time_ms", self.merge_max_time_ms)?;
        non_negative("merge_max_distance", self.merge_max_distance)?;
        non_negative("min_fixation_ms", self.min_fixation_ms)
    }
}

/// I-DT, dispersion-threshold identification (Salvucci & Goldberg 2000).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdtOptions {
    pub preprocessing: Preprocessing,
    /// The largest dispersion of a fixation, `(max x − min x) + (max y − min y)`: in
    /// degrees of visual angle per axis (default 1.0), or px in pixel space (default 40).
    pub dispersion_threshold: f64,
    /// The shortest fixation, ms from its first to its last sample (default 100).
    pub min_duration_ms: f64,
}

impl Default for IdtOptions {
    fn default() -> Self {
        Self {
            preprocessing: Preprocessing::default(),
            dispersion_threshold: 1.0,
            min_duration_ms: 100.0,
        }
    }
}

impl IdtOptions {
    /// The defaults with the dispersion threshold in the unit of `space` (see
    /// [`IvtOptions::default_for`]).
    pub fn default_for(space: &Space) -> Self {
        let degrees = Self::default();
        match space {
            Space::Visual(_) => degrees,
            Space::Pixels { .. } => Self {
                dispersion_threshold: degrees.dispersion_threshold * DEFAULT_PX_PER_DEGREE,
                ..degrees
            },
        }
    }

    /// Every impossible setting, as an error naming the field.
    pub fn validate(&self) -> Result<(), FixationError> {
        self.preprocessing.validate()?;
        positive("dispersion_threshold", self.dispersion_threshold)?;
        non_negative("min_duration_ms", self.min_duration_ms)
    }
}

impl Preprocessing {
    /// Every impossible setting, as an error naming the field.
    pub fn validate(&self) -> Result<(), FixationError> {
        non_negative("max_gap_ms", self.max_gap_ms)?;
        if let NoiseReduction::MovingMedian { window_samples }
        | NoiseReduction::MovingAverage { window_samples } = self.noise_reduction
            && (window_samples % 2 == 0 || window_samples > MAX_NOISE_WINDOW_SAMPLES)
        {
            return Err(FixationError::InvalidOption {
                field: "noise_reduction.window_samples",
                message: format!(
                    "expected an odd number of samples from 1 to {MAX_NOISE_WINDOW_SAMPLES}, found {window_samples}"
                ),
            });
        }
        Ok(())
    }

    /// `max_gap_ms` in whole microseconds.
    pub(crate) fn max_gap_us(&self) -> i64 {
        ms_to_us(self.max_gap_ms)
    }

    /// The longest step between two samples that is not a gap, µs.
    pub(crate) fn max_step_us(&self) -> i64 {
        ms_to_us(self.max_gap_ms.max(MIN_MISSING_STEP_MS))
    }
}

/// Milliseconds to whole microseconds (rounded; saturating for huge values).
pub(crate) fn ms_to_us(ms: f64) -> i64 {
    (ms * 1000.0).round() as i64
}

fn positive(field: &'static str, value: f64) -> Result<(), FixationError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(FixationError::InvalidOption {
            field,
            message: format!("expected a finite number above 0, found {value}"),
        })
    }
}

fn non_negative(field: &'static str, value: f64) -> Result<(), FixationError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(FixationError::InvalidOption {
            field,
            message: format!("expected a finite number of at least 0, found {value}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_published_ones_and_round_trip_through_ron() {
        let ivt = IvtOptions::default();
        assert_eq!(
            (
                ivt.preprocessing.max_gap_ms,
                ivt.velocity_window_ms,
                ivt.velocity_threshold,
                ivt.merge_max_time_ms,
                ivt.merge_max_distance,
                ivt.min_fixation_ms
            ),
            (75.0, 20.0, 30.0, 75.0, 0.5, 60.0)
        );
        let text = ron::to_string(&ivt).unwrap();
        assert_eq!(ron::from_str::<IvtOptions>(&text).unwrap(), ivt);
        // A partial setting keeps the other defaults.
        let partial: IvtOptions = ron::from_str("(velocity_threshold: 40.0)").unwrap();
        assert_eq!(partial.velocity_threshold, 40.0);
        assert_eq!(partial.min_fixation_ms, 60.0);
        let idt = IdtOptions::default();
        assert_eq!(
            (idt.dispersion_threshold, idt.min_duration_ms),
            (1.0, 100.0)
        );
    }

    #[test]
    fn impossible_settings_name_their_field() {
        let mut ivt = IvtOptions {
            velocity_threshold: -1.0,
            ..IvtOptions::default()
        };
        assert!(
            ivt.validate()
                .unwrap_err()
                .to_string()
                .contains("velocity_threshold")
        );
        ivt.velocity_threshold = 30.0;
        ivt.preprocessing.noise_reduction = NoiseReduction::MovingMedian { window_samples: 4 };
        let message = ivt.validate().unwrap_err().to_string();
        assert!(
            message.contains("window_samples") && message.contains("odd"),
            "{message}"
        );
        let idt = IdtOptions {
            dispersion_threshold: f64::NAN,
            ..IdtOptions::default()
        };
        assert!(idt.validate().is_err());
    }
}
