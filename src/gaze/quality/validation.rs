//! Calibration validation: how far gaze lands from each target (accuracy) and how
//! steady it is (precision), in degrees of visual angle, per eye and for the average
//! of the two eyes, judged against the study's [`CalibrationPlan`] limits.
//!
//! Definitions (as in Holmqvist et al. 2011 and Tobii Pro Lab):
//! - accuracy: the mean of the angles between each valid gaze point and the target;
//! - precision RMS: the root mean square of the angles between consecutive valid gaze
//!   points (invalid samples are skipped, not bridged by interpolation);
//! - precision SD: the population standard deviation of the valid gaze points around
//!   their mean point, i.e. the RMS of their angles to that mean.
//!
//! A point passes when its average-eye accuracy and RMS precision are within the
//! plan's limits; the per-eye values are reported for the experimenter to judge.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gaze::sample::GazeSample;
use crate::gaze::source::{CalibrationResult, CalibrationSampleResult, EyeCalibrationValidity};
use crate::study::{CalibrationPlan, ScreenGeometry};

use super::degrees_text;

/// Accuracy and precision of one eye (or the eyes' average) at one target.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EyeQuality {
    /// Valid gaze points the values are computed from.
    pub valid_sample_count: usize,
    /// Mean angle between gaze and target; `None` with no valid gaze.
    pub accuracy_deg: Option<f64>,
    /// RMS of sample-to-sample angles; `None` with fewer than two valid points.
    pub precision_rms_deg: Option<f64>,
    /// SD of the gaze points around their mean; `None` with fewer than two valid points.
    pub precision_sd_deg: Option<f64>,
}

/// Why a validation point has to be redone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PointProblem {
    /// The target is not a finite point.
    InvalidTarget,
    /// No valid gaze at all (eyes not found, pointer outside the window).
    NoValidGaze,
    /// Too few valid samples to measure precision.
    TooFewSamples { valid_sample_count: usize },
    Inaccurate {
        accuracy_deg: f64,
        max_accuracy_deg: f64,
    },
    Imprecise {
        precision_rms_deg: f64,
        max_precision_rms_deg: f64,
    },
}

impl fmt::Display for PointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTarget => write!(f, "the target is not a finite point"),
            Self::NoValidGaze => write!(f, "no valid gaze"),
            Self::TooFewSamples { valid_sample_count } => write!(
                f,
                "only {valid_sample_count} valid sample(s), precision needs at least 2"
            ),
            Self::Inaccurate {
                accuracy_deg,
                max_accuracy_deg,
            } => write!(
                f,
                "accuracy {accuracy_deg:.2}° is worse than {max_accuracy_deg:.2}°"
            ),
            Self::Imprecise {
                precision_rms_deg,
                max_precision_rms_deg,
            } => write!(
                f,
                "precision RMS {precision_rms_deg:.2}° is worse than {max_precision_rms_deg:.2}°"
            ),
        }
    }
}

/// The validation outcome at one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointQuality {
    /// Display-normalized, origin top-left.
    pub target_display: [f64; 2],
    /// All samples collected at the target, valid or not.
    pub sample_count: usize,
    pub left: EyeQuality,
    pub right: EyeQuality,
    /// The average of the valid eyes per sample (one eye when only one is valid).
    pub average: EyeQuality,
    /// Empty when the point passes.
    pub problems: Vec<PointProblem>,
}

impl PointQuality {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Per-point values averaged over the points that have them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MeanQuality {
    pub accuracy_deg: Option<f64>,
    pub precision_rms_deg: Option<f64>,
    pub precision_sd_deg: Option<f64>,
}

/// The outcome of a validation (or a calibration result measured the same way).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub max_accuracy_deg: f64,
    pub max_precision_rms_deg: f64,
    pub points: Vec<PointQuality>,
    /// Indices into `points` of the points that failed, in order.
    pub points_to_redo: Vec<usize>,
    pub mean_left: MeanQuality,
    pub mean_right: MeanQuality,
    pub mean_average: MeanQuality,
}

impl ValidationReport {
    /// Every point passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.points.is_empty() && self.points_to_redo.is_empty()
    }

    /// The targets of the points to redo, display-normalized.
    pub fn targets_to_redo(&self) -> Vec<[f64; 2]> {
        self.points_to_redo
            .iter()
            .filter_map(|&i| self.points.get(i).map(|p| p.target_display))
            .collect()
    }
}

/// The gaze collected while one validation target was shown.
#[derive(Debug, Clone, Copy)]
pub struct TargetGaze<'a> {
    /// Display-normalized, origin top-left.
    pub target_display: [f64; 2],
    /// In time order.
    pub samples: &'a [GazeSample],
}

/// Accuracy and precision of a series of gaze points (display-normalized, time order)
/// around `target_display`. Non-finite points are left out.
pub fn eye_quality(
    screen: &ScreenGeometry,
    target_display: [f64; 2],
    points_display: &[[f64; 2]],
) -> EyeQuality {
    let points: Vec<[f64; 2]> = points_display
        .iter()
        .copied()
        .filter(|p| p[0].is_finite() && p[1].is_finite())
        .collect();
    let count = points.len();
    let target_finite = target_display.iter().all(|v| v.is_finite());
    let accuracy_deg = (count > 0 && target_finite).then(|| {
        points
            .iter()
            .map(|&p| screen.angle_between_deg(p, target_display))
            .sum::<f64>()
            / count as f64
    });
    if count < 2 {
        return EyeQuality {
            valid_sample_count: count,
            accuracy_deg,
            ..EyeQuality::default()
        };
    }
    let rms = |angles: &mut dyn Iterator<Item = f64>, n: usize| {
        (angles.map(|a| a * a).sum::<f64>() / n as f64).sqrt()
    };
    let precision_rms_deg = rms(
        &mut points
            .windows(2)
            .map(|w| screen.angle_between_deg(w[0], w[1])),
        count - 1,
    );
    let mean = [
        points.iter().map(|p| p[0]).sum::<f64>() / count as f64,
        points.iter().map(|p| p[1]).sum::<f64>() / count as f64,
    ];
    let precision_sd_deg = rms(
        &mut points.iter().map(|&p| screen.angle_between_deg(p, mean)),
        count,
    );
    EyeQuality {
        valid_sample_count: count,
        accuracy_deg,
        precision_rms_deg: Some(precision_rms_deg),
        precision_sd_deg: Some(precision_sd_deg),
    }
}

/// Valid gaze points per eye and for the eyes' average, in sample order.
#[derive(Default)]
struct EyePoints {
    left: Vec<[f64; 2]>,
    right: Vec<[f64; 2]>,
    average: Vec<[f64; 2]>,
}

impl EyePoints {
    fn push(&mut self, left: Option<[f32; 2]>, right: Option<[f32; 2]>) {
        let wide = |p: [f32; 2]| [f64::from(p[0]), f64::from(p[1])];
        let (left, right) = (left.map(wide), right.map(wide));
        if let Some(l) = left {
            self.left.push(l);
        }
        if let Some(r) = right {
            self.right.push(r);
        }
        match (left, right) {
            (Some(l), Some(r)) => self
                .average
                .push([(l[0] + r[0]) / 2.0, (l[1] + r[1]) / 2.0]),
            (Some(p), None) | (None, Some(p)) => self.average.push(p),
            (None, None) => {}
        }
    }
}

/// `value` is at most `limit`; false when either is not a number, so NaN fails.
fn within_limit(value: f64, limit: f64) -> bool {
    value <= limit
}

fn point_quality(
    screen: &ScreenGeometry,
    plan: &CalibrationPlan,
    target_display: [f64; 2],
    sample_count: usize,
    eyes: &EyePoints,
) -> PointQuality {
    let average = eye_quality(screen, target_display, &eyes.average);
    let mut problems = Vec::new();
    if !target_display.iter().all(|v| v.is_finite()) {
        problems.push(PointProblem::InvalidTarget);
    } else if average.valid_sample_count == 0 {
        problems.push(PointProblem::NoValidGaze);
    } else if average.valid_sample_count < 2 {
        problems.push(PointProblem::TooFewSamples {
            valid_sample_count: average.valid_sample_count,
        });
    }
    if let Some(accuracy_deg) = average.accuracy_deg
        && !within_limit(accuracy_deg, plan.max_accuracy_deg)
    {
        problems.push(PointProblem::Inaccurate {
            accuracy_deg,
            max_accuracy_deg: plan.max_accuracy_deg,
        });
    }
    if let Some(precision_rms_deg) = average.precision_rms_deg
        && !within_limit(precision_rms_deg, plan.max_precision_rms_deg)
    {
        problems.push(PointProblem::Imprecise {
            precision_rms_deg,
            max_precision_rms_deg: plan.max_precision_rms_deg,
        });
    }
    PointQuality {
        target_display,
        sample_count,
        left: eye_quality(screen, target_display, &eyes.left),
        right: eye_quality(screen, target_display, &eyes.right),
        average,
        problems,
    }
}

fn mean_quality(qualities: impl Iterator<Item = EyeQuality> + Clone) -> MeanQuality {
    let mean = |field: fn(&EyeQuality) -> Option<f64>| {
        let values: Vec<f64> = qualities.clone().filter_map(|q| field(&q)).collect();
        super::mean_and_sd(&values).map(|(mean, _)| mean)
    };
    MeanQuality {
        accuracy_deg: mean(|q| q.accuracy_deg),
        precision_rms_deg: mean(|q| q.precision_rms_deg),
        precision_sd_deg: mean(|q| q.precision_sd_deg),
    }
}

fn report(plan: &CalibrationPlan, points: Vec<PointQuality>) -> ValidationReport {
    let points_to_redo = (0..points.len()).filter(|&i| !points[i].passed()).collect();
    ValidationReport {
        max_accuracy_deg: plan.max_accuracy_deg,
        max_precision_rms_deg: plan.max_precision_rms_deg,
        mean_left: mean_quality(points.iter().map(|p| p.left)),
        mean_right: mean_quality(points.iter().map(|p| p.right)),
        mean_average: mean_quality(points.iter().map(|p| p.average)),
        points_to_redo,
        points,
    }
}

/// Validates the gaze collected at each target against the plan's limits.
pub fn validate(
    screen: &ScreenGeometry,
    plan: &CalibrationPlan,
    targets: &[TargetGaze<'_>],
) -> ValidationReport {
    let points = targets
        .iter()
        .map(|target| {
            let mut eyes = EyePoints::default();
            for sample in target.samples {
                eyes.push(sample.left.point(), sample.right.point());
            }
            point_quality(
                screen,
                plan,
                target.target_display,
                target.samples.len(),
                &eyes,
            )
        })
        .collect();
    report(plan, points)
}

fn calibration_eye_point(position: [f32; 2], validity: EyeCalibrationValidity) -> Option<[f32; 2]> {
    let usable = matches!(
        validity,
        EyeCalibrationValidity::ValidAndUsed | EyeCalibrationValidity::ValidButNotUsed
    );
    (usable && position.iter().all(|v| v.is_finite())).then_some(position)
}

/// Measures a calibration result (a tracker's, or the software calibration's) the
/// same way as a validation: the samples each target collected against that target.
pub fn validate_calibration(
    screen: &ScreenGeometry,
    plan: &CalibrationPlan,
    result: &CalibrationResult,
) -> ValidationReport {
    let points = result
        .points
        .iter()
        .map(|point| {
            let mut eyes = EyePoints::default();
            for s in &point.samples {
                let CalibrationSampleResult {
                    left_position_display,
                    left_validity,
                    right_position_display,
                    right_validity,
                } = *s;
                eyes.push(
                    calibration_eye_point(left_position_display, left_validity),
                    calibration_eye_point(right_position_display, right_validity),
                );
            }
            let target = [
                f64::from(point.target_display[0]),
                f64::from(point.target_display[1]),
            ];
            point_quality(screen, plan, target, point.samples.len(), &eyes)
        })
        .collect();
    report(plan, points)
}

fn eye_line(f: &mut fmt::Formatter<'_>, label: &str, q: &EyeQuality) -> fmt::Result {
    writeln!(
        f,
        "    {label:<8} accuracy {:>7}  precision RMS {:>7}  SD {:>7}  ({} valid)",
        degrees_text(q.accuracy_deg),
        degrees_text(q.precision_rms_deg),
        degrees_text(q.precision_sd_deg),
        q.valid_sample_count
    )
}

fn mean_line(f: &mut fmt::Formatter<'_>, label: &str, q: &MeanQuality) -> fmt::Result {
    writeln!(
        f,
        "    {label:<8} accuracy {:>7}  precision RMS {:>7}  SD {:>7}",
        degrees_text(q.accuracy_deg),
        degrees_text(q.precision_rms_deg),
        degrees_text(q.precision_sd_deg)
    )
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let passing = self.points.len() - self.points_to_redo.len();
        writeln!(
            f,
            "validation: {passing} of {} points pass (limits: accuracy {:.2}°, precision RMS {:.2}°)",
            self.points.len(),
            self.max_accuracy_deg,
            self.max_precision_rms_deg
        )?;
        for (i, point) in self.points.iter().enumerate() {
            let [x, y] = point.target_display;
            let verdict = if point.passed() {
                "pass".to_owned()
            } else {
                let reasons: Vec<String> = point.problems.iter().map(|p| p.to_string()).collect();
                format!("REDO: {}", reasons.join("; "))
            };
            writeln!(
                f,
                "  point {} at ({x:.3}, {y:.3}), {} samples: {verdict}",
                i + 1,
                point.sample_count
            )?;
            eye_line(f, "left", &point.left)?;
            eye_line(f, "right", &point.right)?;
            eye_line(f, "average", &point.average)?;
        }
        writeln!(f, "  mean over points:")?;
        mean_line(f, "left", &self.mean_left)?;
        mean_line(f, "right", &self.mean_right)?;
        mean_line(f, "average", &self.mean_average)?;
        if !self.points_to_redo.is_empty() {
            let numbers: Vec<String> = self
                .points_to_redo
                .iter()
                .map(|i| (i + 1).to_string())
                .collect();
            writeln!(f, "  redo points: {}", numbers.join(", "))?;
        }
        Ok(())
    }
}
