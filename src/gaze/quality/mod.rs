//! Gaze data quality: calibration/validation accuracy and precision in degrees of
//! visual angle from the study's screen geometry ([`validation`]), and a quality report
//! for any recording: validity, sampling regularity, dropped samples ([`recording`]).
//!
//! Pure maths on samples that are already recorded: no threads, no devices, no UI.
//! Invalid or not-a-number data never panic; they are counted and left out.

pub mod recording;
pub mod validation;

pub use recording::{RecordingQuality, recording_quality};
pub use validation::{
    EyeQuality, MeanQuality, PointProblem, PointQuality, TargetGaze, ValidationReport, eye_quality,
    validate, validate_calibration,
};

/// Mean and population standard deviation; `None` for no values.
fn mean_and_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Some((mean, variance.sqrt()))
}

/// A value in degrees for reports, or a dash when there is none.
fn degrees_text(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}°"))
}
