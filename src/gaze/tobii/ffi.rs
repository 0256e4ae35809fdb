//! `#[repr(C)]` mirrors of the Tobii Pro SDK **2.x** C types we use, written from the
//! public headers `tobii_research.h`, `tobii_research_eyetracker.h`,
//! `tobii_research_streams.h` and `tobii_research_calibration.h`, plus the function
//! pointer types of every entry point we resolve.
//!
//! C enums that the SDK writes (validity, status, notification type, ...) are kept as
//! plain `i32` fields: reading an out-of-range value into a Rust `enum` would be
//! undefined behaviour, so values are interpreted with the constants below instead.
//!
//! SDK 1.x differs: its `TobiiResearchGazeOrigin` carries an extra track-box position,
//! which makes `TobiiResearchGazeData` 136 bytes (timestamps at 120/128) instead of
//! 112 (96/104); its notification numbering differs too. `library.rs` refuses 1.x.
//!
//! Owns layouts and constants only; no calls into the SDK happen here.

use std::ffi::{c_char, c_int, c_void};

/// `TobiiResearchStatus`, returned by every fallible SDK function (see `status.rs`).
pub type RawStatus = c_int;

/// `TobiiResearchValidity`: invalid.
pub const VALIDITY_INVALID: i32 = 0;
/// `TobiiResearchValidity`: valid.
pub const VALIDITY_VALID: i32 = 1;

/// Opaque `TobiiResearchEyeTracker`; only ever handled through pointers.
#[repr(C)]
pub struct TobiiResearchEyeTracker {
    _opaque: [u8; 0],
}

/// `TobiiResearchEyeTrackers`: the list `tobii_research_find_all_eyetrackers` returns.
#[repr(C)]
#[derive(Debug)]
pub struct TobiiResearchEyeTrackers {
    pub eyetrackers: *mut *mut TobiiResearchEyeTracker,
    pub count: usize,
}

/// `TobiiResearchSDKVersion`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TobiiResearchSdkVersion {
    pub major: c_int,
    pub minor: c_int,
    pub revision: c_int,
    pub build: c_int,
}

/// `TobiiResearchNormalizedPoint2D`: display-area normalized, origin top-left.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchNormalizedPoint2D {
    pub x: f32,
    pub y: f32,
}

/// `TobiiResearchPoint3D` (also `TobiiResearchNormalizedPoint3D`), millimetres in the
/// user coordinate system unless said otherwise.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchPoint3D {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

/// `TobiiResearchGazePoint`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchGazePoint {
    pub position_on_display_area: TobiiResearchNormalizedPoint2D,
    pub position_in_user_coordinates: TobiiResearchPoint3D,
    /// `TobiiResearchValidity`.
    pub validity: i32,
}

/// `TobiiResearchPupilData`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchPupilData {
    pub diameter_mm: f32,
    /// `TobiiResearchValidity`.
    pub validity: i32,
}

/// `TobiiResearchGazeOrigin` (2.x: no track-box position).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchGazeOrigin {
    pub position_in_user_coordinates: TobiiResearchPoint3D,
    /// `TobiiResearchValidity`.
    pub validity: i32,
}

/// `TobiiResearchEyeData`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchEyeData {
    pub gaze_point: TobiiResearchGazePoint,
    pub pupil_data: TobiiResearchPupilData,
    pub gaze_origin: TobiiResearchGazeOrigin,
}

/// `TobiiResearchGazeData`: one sample, as the gaze callback receives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchGazeData {
    pub left_eye: TobiiResearchEyeData,
    pub right_eye: TobiiResearchEyeData,
    /// Microseconds on the tracker's clock.
    pub device_time_stamp: i64,
    /// Microseconds on the computer's clock (`CLOCK_MONOTONIC` on Linux).
    pub system_time_stamp: i64,
}

/// `TobiiResearchGazeOutputFrequencies`.
#[repr(C)]
#[derive(Debug)]
pub struct TobiiResearchGazeOutputFrequencies {
    pub frequencies: *mut f32,
    pub frequency_count: usize,
}

/// `TobiiResearchDisplayArea` (millimetres, user coordinate system).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchDisplayArea {
    pub bottom_left: TobiiResearchPoint3D,
    pub bottom_right: TobiiResearchPoint3D,
    pub height: f32,
    pub top_left: TobiiResearchPoint3D,
    pub top_right: TobiiResearchPoint3D,
    pub width: f32,
}

/// `TobiiResearchCapabilities` bits (2.x; bits 4, 6 and 7 were HMD-only and removed).
pub mod capability {
    pub const CAN_SET_DISPLAY_AREA: u32 = 1 << 0;
    pub const HAS_EXTERNAL_SIGNAL: u32 = 1 << 1;
    pub const HAS_EYE_IMAGES: u32 = 1 << 2;
    pub const HAS_GAZE_DATA: u32 = 1 << 3;
    pub const CAN_DO_SCREEN_BASED_CALIBRATION: u32 = 1 << 5;
    pub const CAN_DO_MONOCULAR_CALIBRATION: u32 = 1 << 8;
    pub const HAS_EYE_OPENNESS_DATA: u32 = 1 << 9;
}

/// `TobiiResearchNotificationType` values, numbered as the 2.x header's enumerator
/// order gives them (the header has no explicit values).
///
/// The 2.x header's comment on `DISPLAY_AREA_CHANGED` says it is "set to 6 since an
/// old deprecated notification type occupied the 5 slot", but the enumerator carries
/// no `= 6`, so any C compiler gives it 5 (in 1.x, `TRACK_BOX_CHANGED` was 5 and
/// `DISPLAY_AREA_CHANGED` 6). We follow what the header compiles to.
pub mod notification_type {
    pub const CONNECTION_LOST: i32 = 0;
    pub const CONNECTION_RESTORED: i32 = 1;
    pub const CALIBRATION_MODE_ENTERED: i32 = 2;
    pub const CALIBRATION_MODE_LEFT: i32 = 3;
    pub const CALIBRATION_CHANGED: i32 = 4;
    pub const DISPLAY_AREA_CHANGED: i32 = 5;
    pub const GAZE_OUTPUT_FREQUENCY_CHANGED: i32 = 6;
    pub const EYE_TRACKING_MODE_CHANGED: i32 = 7;
    pub const DEVICE_FAULTS: i32 = 8;
    pub const DEVICE_WARNINGS: i32 = 9;
    pub const STREAM_BUFFER_OVERFLOW: i32 = 10;
    pub const UNKNOWN: i32 = 11;
}

/// `TobiiResearchNotificationString`.
pub const NOTIFICATION_TEXT_LEN: usize = 512;

/// The anonymous union inside `TobiiResearchNotification`; which member is set
/// depends on the notification type.
#[repr(C)]
#[derive(Clone, Copy)]
pub union TobiiResearchNotificationValue {
    pub output_frequency: f32,
    pub display_area: TobiiResearchDisplayArea,
    pub text: [c_char; NOTIFICATION_TEXT_LEN],
}

/// `TobiiResearchNotification`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TobiiResearchNotification {
    pub system_time_stamp: i64,
    /// `TobiiResearchNotificationType`, see [`notification_type`].
    pub notification_type: i32,
    pub value: TobiiResearchNotificationValue,
}

/// `TobiiResearchStreamError` values.
pub mod stream_error {
    pub const CONNECTION_LOST: i32 = 0;
    pub const INSUFFICIENT_LICENSE: i32 = 1;
    pub const NOT_SUPPORTED: i32 = 2;
    pub const TOO_MANY_SUBSCRIBERS: i32 = 3;
    pub const INTERNAL_ERROR: i32 = 4;
    pub const USER_ERROR: i32 = 5;
}

/// `TobiiResearchStreamErrorSource` values.
pub mod stream_error_source {
    pub const USER: i32 = 0;
    pub const STREAM_PUMP: i32 = 1;
    pub const SUBSCRIPTION_GAZE_DATA: i32 = 2;
    pub const SUBSCRIPTION_EXTERNAL_SIGNAL: i32 = 3;
    pub const SUBSCRIPTION_TIME_SYNCHRONIZATION_DATA: i32 = 4;
    pub const SUBSCRIPTION_EYE_IMAGE: i32 = 5;
    pub const SUBSCRIPTION_NOTIFICATION: i32 = 6;
    pub const SUBSCRIPTION_USER_POSITION_GUIDE: i32 = 7;
}

/// `TobiiResearchStreamErrorData`.
#[repr(C)]
#[derive(Debug)]
pub struct TobiiResearchStreamErrorData {
    pub system_time_stamp: i64,
    /// `TobiiResearchStreamError`, see [`stream_error`].
    pub error: i32,
    /// `TobiiResearchStreamErrorSource`, see [`stream_error_source`].
    pub source: i32,
    pub message: *const c_char,
}

/// `TobiiResearchCalibrationStatus` values.
pub mod calibration_status {
    pub const FAILURE: i32 = 0;
    pub const SUCCESS: i32 = 1;
    pub const SUCCESS_LEFT_EYE: i32 = 2;
    pub const SUCCESS_RIGHT_EYE: i32 = 3;
}

/// `TobiiResearchCalibrationEyeValidity` values (a signed enum).
pub mod calibration_eye_validity {
    pub const INVALID_AND_NOT_USED: i32 = -1;
    pub const VALID_BUT_NOT_USED: i32 = 0;
    pub const VALID_AND_USED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
}

/// `TobiiResearchCalibrationEyeData`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchCalibrationEyeData {
    pub position_on_display_area: TobiiResearchNormalizedPoint2D,
    /// `TobiiResearchCalibrationEyeValidity`, see [`calibration_eye_validity`].
    pub validity: i32,
}

/// `TobiiResearchCalibrationSample`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TobiiResearchCalibrationSample {
    pub left_eye: TobiiResearchCalibrationEyeData,
    pub right_eye: TobiiResearchCalibrationEyeData,
}

/// `TobiiResearchCalibrationPoint`.
#[repr(C)]
#[derive(Debug)]
pub struct TobiiResearchCalibrationPoint {
    pub position_on_display_area: TobiiResearchNormalizedPoint2D,
    pub calibration_samples: *mut TobiiResearchCalibrationSample,
    pub calibration_sample_count: usize,
}

/// `TobiiResearchCalibrationResult`.
#[repr(C)]
#[derive(Debug)]
pub struct TobiiResearchCalibrationResult {
    pub calibration_points: *mut TobiiResearchCalibrationPoint,
    pub calibration_point_count: usize,
    /// `TobiiResearchCalibrationStatus`, see [`calibration_status`].
    pub status: i32,
}

pub type EyeTrackerPtr = *mut TobiiResearchEyeTracker;

/// `tobii_research_gaze_data_callback`.
pub type GazeDataCallback = unsafe extern "C" fn(*mut TobiiResearchGazeData, *mut c_void);
/// `tobii_research_stream_error_callback`.
pub type StreamErrorCallback = unsafe extern "C" fn(*mut TobiiResearchStreamErrorData, *mut c_void);
/// `tobii_research_notification_callback`.
pub type NotificationCallback = unsafe extern "C" fn(*mut TobiiResearchNotification, *mut c_void);

#[cfg(test)]
mod tests {
    use std::mem::{align_of, offset_of, size_of};

    use super::*;

    /// Sizes and offsets as gcc lays out the vendored 2.x headers on x86-64 (and any
    /// LP64 target): a layout mismatch would silently scramble every sample.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn gaze_data_matches_the_2x_header_layout() {
        assert_eq!(size_of::<TobiiResearchGazePoint>(), 24);
        assert_eq!(size_of::<TobiiResearchPupilData>(), 8);
        assert_eq!(size_of::<TobiiResearchGazeOrigin>(), 16, "1.x has 28 here");
        assert_eq!(size_of::<TobiiResearchEyeData>(), 48);
        assert_eq!(offset_of!(TobiiResearchEyeData, pupil_data), 24);
        assert_eq!(offset_of!(TobiiResearchEyeData, gaze_origin), 32);
        assert_eq!(size_of::<TobiiResearchGazeData>(), 112, "1.x is 136");
        assert_eq!(align_of::<TobiiResearchGazeData>(), 8);
        assert_eq!(offset_of!(TobiiResearchGazeData, right_eye), 48);
        assert_eq!(offset_of!(TobiiResearchGazeData, device_time_stamp), 96);
        assert_eq!(offset_of!(TobiiResearchGazeData, system_time_stamp), 104);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn other_structs_match_the_2x_header_layout() {
        assert_eq!(size_of::<TobiiResearchEyeTrackers>(), 16);
        assert_eq!(size_of::<TobiiResearchSdkVersion>(), 16);
        assert_eq!(size_of::<TobiiResearchGazeOutputFrequencies>(), 16);
        assert_eq!(size_of::<TobiiResearchDisplayArea>(), 56);
        assert_eq!(offset_of!(TobiiResearchDisplayArea, height), 24);
        assert_eq!(offset_of!(TobiiResearchDisplayArea, width), 52);
        assert_eq!(size_of::<TobiiResearchNotification>(), 528);
        assert_eq!(offset_of!(TobiiResearchNotification, notification_type), 8);
        assert_eq!(offset_of!(TobiiResearchNotification, value), 12);
        assert_eq!(size_of::<TobiiResearchStreamErrorData>(), 24);
        assert_eq!(offset_of!(TobiiResearchStreamErrorData, source), 12);
        assert_eq!(offset_of!(TobiiResearchStreamErrorData, message), 16);
        assert_eq!(size_of::<TobiiResearchCalibrationEyeData>(), 12);
        assert_eq!(size_of::<TobiiResearchCalibrationSample>(), 24);
        assert_eq!(size_of::<TobiiResearchCalibrationPoint>(), 24);
        assert_eq!(
            offset_of!(TobiiResearchCalibrationPoint, calibration_samples),
            8
        );
        assert_eq!(size_of::<TobiiResearchCalibrationResult>(), 24);
        assert_eq!(offset_of!(TobiiResearchCalibrationResult, status), 16);
    }
}
