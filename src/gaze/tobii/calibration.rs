//! Screen-based calibration through the SDK: enter calibration mode, collect data at
//! each target, discard a target's data, compute and apply, leave.
//!
//! `collect_data` **blocks** while the tracker gathers data (about a second on real
//! hardware, up to 10 s per the SDK): run a calibration on a worker thread, never the
//! UI thread. [`TobiiCalibrator`] is `Send` so it can be moved to one while the
//! tracker keeps streaming.
//!
//! Owns the calibration calls and the conversion of their result only.

use super::device::TrackerHandle;
use super::error::TobiiError;
use super::ffi::{self, TobiiResearchCalibrationResult, calibration_eye_validity as validity};
use super::library::Api;
use super::status;
use crate::gaze::GazeError;
use crate::gaze::ScreenCalibration;
use crate::gaze::source::{
    CalibrationPointResult, CalibrationResult, CalibrationSampleResult, EyeCalibrationValidity,
};

/// The screen-based calibration of one tracker.
#[derive(Debug)]
pub struct TobiiCalibrator {
    api: &'static Api,
    tracker: TrackerHandle,
    in_calibration_mode: bool,
}

impl TobiiCalibrator {
    pub(crate) fn new(api: &'static Api, tracker: TrackerHandle) -> Self {
        Self {
            api,
            tracker,
            in_calibration_mode: false,
        }
    }

    /// Whether [`ScreenCalibration::enter`] succeeded and `leave` has not been called.
    pub fn in_calibration_mode(&self) -> bool {
        self.in_calibration_mode
    }

    fn target_call(
        &self,
        call: unsafe extern "C" fn(ffi::EyeTrackerPtr, f32, f32) -> ffi::RawStatus,
        function: &'static str,
        target_display: [f32; 2],
    ) -> Result<(), GazeError> {
        let [x, y] = target_display;
        if !(x.is_finite() && y.is_finite()) {
            return Err(GazeError::Unsupported(format!(
                "calibration target ({x}, {y}) is not a finite display-normalized point"
            )));
        }
        // SAFETY: plain values and a tracker handle from the SDK; blocks while the
        // device collects (see the module doc).
        let code = unsafe { call(self.tracker.ptr(), x, y) };
        status::check(code)
            .map_err(TobiiError::call(function))
            .map_err(|error| GazeError::from(error).at_target(x, y))
    }
}

trait AtTarget {
    fn at_target(self, x: f32, y: f32) -> Self;
}

impl AtTarget for GazeError {
    /// Adds which target failed to the message.
    fn at_target(self, x: f32, y: f32) -> Self {
        let at = |m: String| format!("calibration target ({x:.3}, {y:.3}): {m}");
        match self {
            Self::Unavailable(m) => Self::Unavailable(at(m)),
            Self::NotConnected(m) => Self::NotConnected(at(m)),
            Self::Unsupported(m) => Self::Unsupported(at(m)),
            Self::Device(m) => Self::Device(at(m)),
        }
    }
}

fn eye_validity(raw: i32) -> EyeCalibrationValidity {
    match raw {
        validity::VALID_AND_USED => EyeCalibrationValidity::ValidAndUsed,
        validity::VALID_BUT_NOT_USED => EyeCalibrationValidity::ValidButNotUsed,
        validity::INVALID_AND_NOT_USED => EyeCalibrationValidity::InvalidAndNotUsed,
        _ => EyeCalibrationValidity::Unknown,
    }
}

/// Copies the SDK's calibration result into ours.
fn convert_result(raw: &TobiiResearchCalibrationResult) -> CalibrationResult {
    let points: &[ffi::TobiiResearchCalibrationPoint] = if raw.calibration_points.is_null()
        || raw.calibration_point_count == 0
    {
        &[]
    } else {
        // SAFETY: the SDK promises `calibration_point_count` points, alive until the
        // result is freed (after this conversion).
        unsafe { std::slice::from_raw_parts(raw.calibration_points, raw.calibration_point_count) }
    };
    let points = points
        .iter()
        .map(|point| {
            let samples: &[ffi::TobiiResearchCalibrationSample] =
                if point.calibration_samples.is_null() || point.calibration_sample_count == 0 {
                    &[]
                } else {
                    // SAFETY: as above, `calibration_sample_count` samples per point.
                    unsafe {
                        std::slice::from_raw_parts(
                            point.calibration_samples,
                            point.calibration_sample_count,
                        )
                    }
                };
            CalibrationPointResult {
                target_display: [
                    point.position_on_display_area.x,
                    point.position_on_display_area.y,
                ],
                samples: samples
                    .iter()
                    .map(|s| CalibrationSampleResult {
                        left_position_display: [
                            s.left_eye.position_on_display_area.x,
                            s.left_eye.position_on_display_area.y,
                        ],
                        left_validity: eye_validity(s.left_eye.validity),
                        right_position_display: [
                            s.right_eye.position_on_display_area.x,
                            s.right_eye.position_on_display_area.y,
                        ],
                        right_validity: eye_validity(s.right_eye.validity),
                    })
                    .collect(),
            }
        })
        .collect();
    CalibrationResult {
        success: matches!(
            raw.status,
            ffi::calibration_status::SUCCESS
                | ffi::calibration_status::SUCCESS_LEFT_EYE
                | ffi::calibration_status::SUCCESS_RIGHT_EYE
        ),
        points,
    }
}

impl ScreenCalibration for TobiiCalibrator {
    fn enter(&mut self) -> Result<(), GazeError> {
        // SAFETY: a tracker handle from the SDK.
        let code = unsafe {
            (self.api.screen_based_calibration_enter_calibration_mode)(self.tracker.ptr())
        };
        status::check(code).map_err(TobiiError::call(
            "tobii_research_screen_based_calibration_enter_calibration_mode",
        ))?;
        self.in_calibration_mode = true;
        Ok(())
    }

    /// Blocks while the tracker collects data at the target: call from a worker thread.
    fn collect_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.target_call(
            self.api.screen_based_calibration_collect_data,
            "tobii_research_screen_based_calibration_collect_data",
            target_display,
        )
    }

    fn discard_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.target_call(
            self.api.screen_based_calibration_discard_data,
            "tobii_research_screen_based_calibration_discard_data",
            target_display,
        )
    }

    fn compute_and_apply(&mut self) -> Result<CalibrationResult, GazeError> {
        let function = "tobii_research_screen_based_calibration_compute_and_apply";
        let mut raw: *mut TobiiResearchCalibrationResult = std::ptr::null_mut();
        // SAFETY: a live out-pointer; the SDK allocates the result.
        let code = unsafe {
            (self.api.screen_based_calibration_compute_and_apply)(self.tracker.ptr(), &mut raw)
        };
        status::check(code).map_err(TobiiError::call(function))?;
        // SAFETY: on OK `raw` is null or the SDK's result, alive until freed below.
        let Some(result) = (unsafe { raw.as_ref() }) else {
            return Err(TobiiError::InvalidResponse {
                function,
                what: "OK with no result".to_string(),
            }
            .into());
        };
        let converted = convert_result(result);
        // SAFETY: frees the SDK's result once; nothing borrowed from it survives.
        unsafe { (self.api.free_screen_based_calibration_result)(raw) };
        Ok(converted)
    }

    fn leave(&mut self) -> Result<(), GazeError> {
        // SAFETY: a tracker handle from the SDK.
        let code = unsafe {
            (self.api.screen_based_calibration_leave_calibration_mode)(self.tracker.ptr())
        };
        self.in_calibration_mode = false;
        status::check(code)
            .map_err(TobiiError::call(
                "tobii_research_screen_based_calibration_leave_calibration_mode",
            ))
            .map_err(GazeError::from)
    }
}

impl Drop for TobiiCalibrator {
    /// Never leaves the tracker stuck in calibration mode.
    fn drop(&mut self) {
        if self.in_calibration_mode
            && let Err(error) = self.leave()
        {
            tracing::warn!(%error, "leaving Tobii calibration mode on drop");
        }
    }
}
