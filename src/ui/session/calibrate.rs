//! Calibration and validation on the session thread, before the trials: shows each
//! target in the presentation window (a dot that shrinks, then holds while gaze is
//! collected), has the source calibrate (the Tobii tracker's own calibration, or the
//! software calibration of the mouse and simulated sources, which measures and
//! changes nothing), and measures accuracy and precision in degrees against the
//! study's thresholds. Failing points can be redone alone; the accepted validation
//! goes into the session metadata.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use crate::gaze::GazeSample;
use crate::gaze::GazeSource;
use crate::gaze::quality::{TargetGaze, ValidationReport, validate, validate_calibration};
use crate::gaze::software_calibration::point_result_from_samples;
use crate::gaze::source::{CalibrationResult, EyeCalibrationValidity};
use crate::study::LoadedStudy;

use super::live::TeeSource;
use super::protocol::{
    CalibrationOutcome, FromSession, PointPlot, Reporter, SubjectScreen, TargetPhase, ToSession,
};

/// How long the target dot shrinks before gaze is collected at it.
pub const SHRINK_MS: u32 = 700;
/// How long gaze is collected at a target (sources without their own calibration).
pub const DWELL_MS: u32 = 800;

/// How the calibration step ended.
pub enum Calibrated {
    Accepted(Box<ValidationReport>),
    Skipped,
    Stopped,
}

/// The calibration step of one session (see the module docs).
pub struct CalibrationRun<'a> {
    study: &'a LoadedStudy,
    source: &'a mut TeeSource,
    inbox: &'a Receiver<ToSession>,
    reporter: &'a Reporter,
    in_calibration_mode: bool,
    /// Per calibration target, for sources without a calibration of their own.
    measured: Vec<Option<Vec<GazeSample>>>,
    /// Target indices that failed in the last calibration / validation.
    failing_calibration: Vec<usize>,
    validation_samples: Vec<Vec<GazeSample>>,
    last_validation: Option<ValidationReport>,
    stop_requested: bool,
    scratch: Vec<GazeSample>,
}

impl<'a> CalibrationRun<'a> {
    pub fn new(
        study: &'a LoadedStudy,
        source: &'a mut TeeSource,
        inbox: &'a Receiver<ToSession>,
        reporter: &'a Reporter,
    ) -> Self {
        let targets = calibration_targets(study).len();
        Self {
            study,
            source,
            inbox,
            reporter,
            in_calibration_mode: false,
            measured: vec![None; targets],
            failing_calibration: Vec::new(),
            validation_samples: vec![Vec::new(); study.study.calibration.validation_points.len()],
            last_validation: None,
            stop_requested: false,
            scratch: Vec::new(),
        }
    }

    /// Serves the experimenter's requests until they accept, skip or stop.
    pub fn run(mut self) -> Calibrated {
        let outcome = loop {
            self.discard_samples();
            let message = match self.inbox.recv_timeout(Duration::from_millis(10)) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break Calibrated::Stopped,
            };
            match message {
                ToSession::Calibrate { redo_failing } => self.calibrate(redo_failing),
                ToSession::Validate { redo_failing } => self.validate_targets(redo_failing),
                ToSession::AcceptCalibration => {
                    if let Some(report) = self.last_validation.take() {
                        break Calibrated::Accepted(Box::new(report));
                    }
                }
                ToSession::SkipCalibration => break Calibrated::Skipped,
                ToSession::Stop { .. } => break Calibrated::Stopped,
                _ => {}
            }
            if self.stop_requested {
                break Calibrated::Stopped;
            }
        };
        if self.in_calibration_mode
            && let Some(calibration) = self.source.calibration()
        {
            // Leaving fails only with a lost device, which the trials will report.
            let _ = calibration.leave();
        }
        self.reporter
            .send(FromSession::Screen(SubjectScreen::Blank));
        outcome
    }

    fn show_target(&mut self, phase: TargetPhase, target: [f32; 2], dwell_ms: u32) {
        self.reporter
            .send(FromSession::Screen(SubjectScreen::CalibrationTarget {
                phase,
                target_display: target,
                shrink_ms: SHRINK_MS,
                dwell_ms,
            }));
        self.collect_for(Duration::from_millis(u64::from(SHRINK_MS)));
        self.scratch.clear();
    }

    /// Drains the source for `duration` into `scratch`, watching for a stop.
    fn collect_for(&mut self, duration: Duration) {
        self.scratch.clear();
        let end = Instant::now() + duration;
        while Instant::now() < end {
            self.source.drain_samples(&mut self.scratch);
            match self.inbox.try_recv() {
                Ok(ToSession::Stop { .. }) | Err(TryRecvError::Disconnected) => {
                    self.stop_requested = true;
                }
                // Other requests wait until this sequence is done (the UI disables them).
                Ok(_) | Err(TryRecvError::Empty) => {}
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.source.drain_samples(&mut self.scratch);
    }

    fn discard_samples(&mut self) {
        self.scratch.clear();
        self.source.drain_samples(&mut self.scratch);
        self.scratch.clear();
    }

    fn calibrate(&mut self, redo_failing: bool) {
        let targets = calibration_targets(self.study);
        let indices: Vec<usize> = if redo_failing {
            self.failing_calibration.clone()
        } else {
            (0..targets.len()).collect()
        };
        let mut problems = Vec::new();
        let has_own = self.source.calibration().is_some();
        if has_own && !self.in_calibration_mode {
            match self.source.calibration().map(|c| c.enter()) {
                Some(Err(e)) => problems.push(format!("entering calibration mode: {e}")),
                _ => self.in_calibration_mode = true,
            }
        }
        for &index in &indices {
            if self.stop_requested {
                return;
            }
            let target = targets[index];
            if has_own {
                if let Some(Err(e)) = self.source.calibration().map(|c| c.discard_data(target)) {
                    problems.push(format!("point {}: {e}", index + 1));
                }
                self.show_target(TargetPhase::Calibration, target, DWELL_MS);
                if let Some(Err(e)) = self.source.calibration().map(|c| c.collect_data(target)) {
                    problems.push(format!("point {}: {e}", index + 1));
                }
            } else {
                self.show_target(TargetPhase::Calibration, target, DWELL_MS);
                self.collect_for(Duration::from_millis(u64::from(DWELL_MS)));
                self.measured[index] = Some(std::mem::take(&mut self.scratch));
            }
        }
        let computed = self.source.calibration().map(|c| c.compute_and_apply());
        let result = match computed {
            Some(Ok(result)) => result,
            Some(Err(e)) => {
                problems.push(format!("computing the calibration: {e}"));
                CalibrationResult {
                    success: false,
                    points: Vec::new(),
                }
            }
            None => {
                let points: Vec<_> = targets
                    .iter()
                    .zip(&self.measured)
                    .filter_map(|(target, samples)| {
                        samples
                            .as_ref()
                            .map(|s| point_result_from_samples(*target, s))
                    })
                    .collect();
                CalibrationResult {
                    success: !points.is_empty(),
                    points,
                }
            }
        };
        let plan = &self.study.study.calibration;
        let report = validate_calibration(&self.study.study.screen, plan, &result);
        let points: Vec<PointPlot> = result
            .points
            .iter()
            .zip(&report.points)
            .map(|(point, quality)| {
                let mean = |left: bool| {
                    mean_point(point.samples.iter().filter_map(|s| {
                        let (p, v) = if left {
                            (s.left_position_display, s.left_validity)
                        } else {
                            (s.right_position_display, s.right_validity)
                        };
                        (v == EyeCalibrationValidity::ValidAndUsed).then_some(p)
                    }))
                };
                PointPlot {
                    target_display: point.target_display,
                    left_display: mean(true),
                    right_display: mean(false),
                    passed: quality.passed(),
                }
            })
            .collect();
        self.failing_calibration = points
            .iter()
            .filter(|p| !p.passed)
            .filter_map(|p| targets.iter().position(|t| same(*t, p.target_display)))
            .collect();
        self.reporter
            .send(FromSession::Screen(SubjectScreen::Blank));
        self.reporter
            .send(FromSession::Calibration(Box::new(CalibrationOutcome {
                phase: TargetPhase::Calibration,
                points,
                report,
                problems,
            })));
    }

    fn validate_targets(&mut self, redo_failing: bool) {
        let plan = &self.study.study.calibration;
        let targets: Vec<[f32; 2]> = plan
            .validation_points
            .iter()
            .map(|&(x, y)| [x as f32, y as f32])
            .collect();
        let indices: Vec<usize> = match (&self.last_validation, redo_failing) {
            (Some(report), true) => report.points_to_redo.clone(),
            _ => (0..targets.len()).collect(),
        };
        for &index in &indices {
            if self.stop_requested {
                return;
            }
            self.show_target(TargetPhase::Validation, targets[index], DWELL_MS);
            self.collect_for(Duration::from_millis(u64::from(DWELL_MS)));
            self.validation_samples[index] = std::mem::take(&mut self.scratch);
        }
        let gaze: Vec<TargetGaze<'_>> = plan
            .validation_points
            .iter()
            .zip(&self.validation_samples)
            .map(|(&(x, y), samples)| TargetGaze {
                target_display: [x, y],
                samples,
            })
            .collect();
        let report = validate(&self.study.study.screen, plan, &gaze);
        let points = targets
            .iter()
            .zip(&self.validation_samples)
            .zip(&report.points)
            .map(|((target, samples), quality)| PointPlot {
                target_display: *target,
                left_display: mean_point(samples.iter().filter_map(|s| s.left.point())),
                right_display: mean_point(samples.iter().filter_map(|s| s.right.point())),
                passed: quality.passed(),
            })
            .collect();
        let problems = if self.source.dropped_samples() > 0 {
            vec![format!(
                "{} samples dropped by the source so far",
                self.source.dropped_samples()
            )]
        } else {
            Vec::new()
        };
        self.last_validation = Some(report.clone());
        self.reporter
            .send(FromSession::Screen(SubjectScreen::Blank));
        self.reporter
            .send(FromSession::Calibration(Box::new(CalibrationOutcome {
                phase: TargetPhase::Validation,
                points,
                report,
                problems,
            })));
    }
}

/// The study's calibration targets, display-normalized (empty for an unknown count,
/// which study validation rejects).
pub fn calibration_targets(study: &LoadedStudy) -> Vec<[f32; 2]> {
    study
        .study
        .calibration
        .calibration_targets()
        .unwrap_or_default()
        .into_iter()
        .map(|(x, y)| [x as f32, y as f32])
        .collect()
}

fn same(a: [f32; 2], b: [f32; 2]) -> bool {
    (a[0] - b[0]).hypot(a[1] - b[1]) <= 1e-5
}

fn mean_point(points: impl Iterator<Item = [f32; 2]>) -> Option<[f32; 2]> {
    let (mut sum, mut n) = ([0.0_f64; 2], 0_u32);
    for [x, y] in points.filter(|p| p.iter().all(|v| v.is_finite())) {
        sum[0] += f64::from(x);
        sum[1] += f64::from(y);
        n += 1;
    }
    (n > 0).then(|| {
        [
            (sum[0] / f64::from(n)) as f32,
            (sum[1] / f64::from(n)) as f32,
        ]
    })
}
