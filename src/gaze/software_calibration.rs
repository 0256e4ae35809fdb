//! Software screen calibration for sources that have no device calibration (mouse,
//! simulated subject): it collects the source's own samples while each target is
//! shown and reports them per point, in the same [`CalibrationResult`] a Tobii tracker
//! gives, so the validation maths in [`super::quality`] treats every source alike.
//!
//! It is honest about what it is: it measures, it never changes the data (there is no
//! mapping to apply), and a point with no valid gaze makes the result unsuccessful.
//! It owns only the collection; the angles and pass/fail live in `quality`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::clock::system_time_us;
use super::sample::{EyeSample, GazeSample};
use super::source::{
    CalibrationPointResult, CalibrationResult, CalibrationSampleResult, EyeCalibrationValidity,
    GazeError, Notification, ScreenCalibration,
};
use super::worker::NotificationLog;

/// A copy of the source's sample stream that a calibration switches on while it
/// collects. Cheap when off: the producer reads one atomic flag per sample.
#[derive(Debug, Clone, Default)]
pub struct CalibrationTap {
    recording: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<GazeSample>>>,
}

impl CalibrationTap {
    /// Called by the producer for every sample it delivers.
    pub fn offer(&self, sample: &GazeSample) {
        if self.recording.load(Ordering::Acquire) {
            self.lock().push(*sample);
        }
    }

    fn begin(&self) {
        self.lock().clear();
        self.recording.store(true, Ordering::Release);
    }

    fn end(&self) -> Vec<GazeSample> {
        self.recording.store(false, Ordering::Release);
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<GazeSample>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The calibration result at one target from the samples collected there.
pub fn point_result_from_samples(
    target_display: [f32; 2],
    samples: &[GazeSample],
) -> CalibrationPointResult {
    let eye = |e: &EyeSample| match e.point() {
        Some(p) => (p, EyeCalibrationValidity::ValidAndUsed),
        None => (
            e.gaze_point_display,
            EyeCalibrationValidity::InvalidAndNotUsed,
        ),
    };
    CalibrationPointResult {
        target_display,
        samples: samples
            .iter()
            .map(|s| {
                let (left_position_display, left_validity) = eye(&s.left);
                let (right_position_display, right_validity) = eye(&s.right);
                CalibrationSampleResult {
                    left_position_display,
                    left_validity,
                    right_position_display,
                    right_validity,
                }
            })
            .collect(),
    }
}

fn has_valid_gaze(point: &CalibrationPointResult) -> bool {
    point.samples.iter().any(|s| {
        s.left_validity == EyeCalibrationValidity::ValidAndUsed
            || s.right_validity == EyeCalibrationValidity::ValidAndUsed
    })
}

fn same_target(a: [f32; 2], b: [f32; 2]) -> bool {
    (a[0] - b[0]).hypot(a[1] - b[1]) <= 1e-6
}

/// Screen calibration by measurement only (see the module docs).
#[derive(Debug)]
pub struct SoftwareCalibration {
    tap: CalibrationTap,
    notifications: NotificationLog,
    dwell_ms: u32,
    in_calibration_mode: bool,
    points: Vec<CalibrationPointResult>,
}

impl SoftwareCalibration {
    /// How long `collect_data` gathers samples at a target by default, ms.
    pub const DEFAULT_DWELL_MS: u32 = 800;

    pub(crate) fn new(tap: CalibrationTap, notifications: NotificationLog) -> Self {
        Self {
            tap,
            notifications,
            dwell_ms: Self::DEFAULT_DWELL_MS,
            in_calibration_mode: false,
            points: Vec::new(),
        }
    }

    /// How long `collect_data` gathers samples at each target (the caller shows the
    /// target and lets the eye settle before calling it), ms.
    pub fn set_dwell_ms(&mut self, dwell_ms: u32) {
        self.dwell_ms = dwell_ms;
    }

    pub fn dwell_ms(&self) -> u32 {
        self.dwell_ms
    }

    /// The points collected so far, in collection order.
    pub fn points(&self) -> &[CalibrationPointResult] {
        &self.points
    }

    fn require_calibration_mode(&self, what: &str) -> Result<(), GazeError> {
        if self.in_calibration_mode {
            Ok(())
        } else {
            Err(GazeError::Device(format!(
                "cannot {what}: not in calibration mode (call enter first)"
            )))
        }
    }
}

impl ScreenCalibration for SoftwareCalibration {
    fn enter(&mut self) -> Result<(), GazeError> {
        if !self.in_calibration_mode {
            self.in_calibration_mode = true;
            self.points.clear();
            self.notifications
                .push(Notification::CalibrationModeEntered {
                    at_us: system_time_us(),
                });
        }
        Ok(())
    }

    /// Blocks for the dwell time while the source's samples are gathered.
    fn collect_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.require_calibration_mode("collect calibration data")?;
        self.tap.begin();
        std::thread::sleep(Duration::from_millis(u64::from(self.dwell_ms)));
        let samples = self.tap.end();
        if samples.is_empty() {
            return Err(GazeError::NotConnected(format!(
                "no gaze samples arrived during the {} ms at target ({:.3}, {:.3}); is the source started?",
                self.dwell_ms, target_display[0], target_display[1]
            )));
        }
        self.points
            .push(point_result_from_samples(target_display, &samples));
        Ok(())
    }

    fn discard_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.require_calibration_mode("discard calibration data")?;
        self.points
            .retain(|p| !same_target(p.target_display, target_display));
        Ok(())
    }

    /// Reports the collected points; `success` when there is at least one and each has
    /// some valid gaze. Nothing is applied: the source's data stay as they are.
    fn compute_and_apply(&mut self) -> Result<CalibrationResult, GazeError> {
        self.require_calibration_mode("compute a calibration")?;
        Ok(CalibrationResult {
            success: !self.points.is_empty() && self.points.iter().all(has_valid_gaze),
            points: self.points.clone(),
        })
    }

    fn leave(&mut self) -> Result<(), GazeError> {
        if self.in_calibration_mode {
            self.in_calibration_mode = false;
            self.tap.end();
            self.notifications.push(Notification::CalibrationModeLeft {
                at_us: system_time_us(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_eyes_are_marked_unused_and_a_point_without_gaze_fails() {
        let mut one_eye = GazeSample::binocular(0, [0.4, 0.5]);
        one_eye.right.gaze_point_display = [f32::NAN, 0.5];
        let point = point_result_from_samples([0.5, 0.5], &[one_eye, GazeSample::lost(1)]);
        assert_eq!(
            point.samples[0].left_validity,
            EyeCalibrationValidity::ValidAndUsed
        );
        assert_eq!(point.samples[0].left_position_display, [0.4, 0.5]);
        assert_eq!(
            point.samples[0].right_validity,
            EyeCalibrationValidity::InvalidAndNotUsed
        );
        assert!(has_valid_gaze(&point));
        let blind = point_result_from_samples([0.1, 0.1], &[GazeSample::lost(2)]);
        assert!(!has_valid_gaze(&blind));
    }

    #[test]
    fn collecting_needs_calibration_mode_and_a_running_stream() {
        let log = NotificationLog::default();
        let mut calibration = SoftwareCalibration::new(CalibrationTap::default(), log);
        calibration.set_dwell_ms(10);
        assert!(calibration.collect_data([0.5, 0.5]).is_err());
        calibration.enter().unwrap();
        let error = calibration.collect_data([0.5, 0.5]).unwrap_err();
        assert!(error.to_string().contains("no gaze samples"), "{error}");
        let result = calibration.compute_and_apply().unwrap();
        assert!(!result.success, "no points is no calibration");
    }

    #[test]
    fn the_tap_only_records_while_collecting() {
        let tap = CalibrationTap::default();
        tap.offer(&GazeSample::lost(1));
        tap.begin();
        tap.offer(&GazeSample::lost(2));
        let got = tap.end();
        tap.offer(&GazeSample::lost(3));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].system_time_us, 2);
        assert!(tap.end().is_empty());
    }
}
