//! The `GazeSource` trait every gaze source implements (Tobii Pro tracker, mouse,
//! simulated subject), and the types it reports: device info, capabilities,
//! notifications, calibration.
//!
//! Sources deliver samples through a bounded queue filled by their own thread (or the
//! SDK's callback thread); the consumer drains it without blocking. Nothing is dropped
//! silently: every lost sample is counted and reported as a notification.

use serde::{Deserialize, Serialize};

use super::sample::GazeSample;

/// What a source tells about the device behind it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// How the source is reached (a `tobii-prp://` or `tet-tcp://` address, `mouse`, ...).
    pub address: String,
    pub serial_number: String,
    pub model: String,
    pub device_name: String,
    pub firmware_version: String,
}

/// What a source can do.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Sampling frequencies the source offers, Hz.
    pub gaze_output_frequencies_hz: Vec<f32>,
    pub can_set_gaze_output_frequency: bool,
    /// Supports screen-based calibration through [`GazeSource::calibration`].
    pub can_do_screen_based_calibration: bool,
    /// Reports real eye data (pupil size, per-eye validity), not a stand-in.
    pub measures_eyes: bool,
}

/// Something the source reports besides samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Notification {
    /// The device stopped answering (cable pulled, tracker off).
    ConnectionLost {
        at_us: i64,
    },
    ConnectionRestored {
        at_us: i64,
    },
    /// Samples were lost because the queue was full (the consumer fell behind).
    SamplesDropped {
        at_us: i64,
        count: u64,
    },
    /// The device or SDK reported a stream error.
    StreamError {
        at_us: i64,
        message: String,
    },
    CalibrationModeEntered {
        at_us: i64,
    },
    CalibrationModeLeft {
        at_us: i64,
    },
    GazeOutputFrequencyChanged {
        at_us: i64,
        frequency_hz: f32,
    },
    /// The screen geometry the device uses changed.
    DisplayAreaChanged {
        at_us: i64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum GazeError {
    #[error("{0}")]
    Unavailable(String),
    #[error("the gaze source is not connected: {0}")]
    NotConnected(String),
    #[error("unsupported by this gaze source: {0}")]
    Unsupported(String),
    #[error("gaze source error: {0}")]
    Device(String),
}

/// A source of gaze samples.
pub trait GazeSource: Send {
    fn info(&self) -> &DeviceInfo;
    fn capabilities(&self) -> Capabilities;
    /// Current sampling frequency, Hz.
    fn gaze_output_frequency_hz(&self) -> f32;
    fn set_gaze_output_frequency_hz(&mut self, frequency_hz: f32) -> Result<(), GazeError>;
    /// Starts streaming; samples then accumulate until drained.
    fn start(&mut self) -> Result<(), GazeError>;
    fn stop(&mut self) -> Result<(), GazeError>;
    /// Moves every sample that arrived since the last call to `out`, in time order,
    /// without blocking. Returns how many were moved.
    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize;
    /// Moves the pending notifications to `out`.
    fn drain_notifications(&mut self, out: &mut Vec<Notification>);
    /// Total samples lost so far (queue overflow), also reported as notifications.
    fn dropped_samples(&self) -> u64;
    /// The source's screen-based calibration, when it has one.
    fn calibration(&mut self) -> Option<&mut dyn ScreenCalibration> {
        None
    }
}

/// Whether calibration data at one point could be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EyeCalibrationValidity {
    ValidAndUsed,
    InvalidAndNotUsed,
    ValidButNotUsed,
    Unknown,
}

/// One sample the calibration collected at a point, per eye, display-normalized.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationSampleResult {
    pub left_position_display: [f32; 2],
    pub left_validity: EyeCalibrationValidity,
    pub right_position_display: [f32; 2],
    pub right_validity: EyeCalibrationValidity,
}

/// The calibration result at one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationPointResult {
    pub target_display: [f32; 2],
    pub samples: Vec<CalibrationSampleResult>,
}

/// The outcome of computing a calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationResult {
    /// Whether the device computed and applied a calibration.
    pub success: bool,
    pub points: Vec<CalibrationPointResult>,
}

/// Screen-based calibration, as the Tobii Pro SDK runs it. `collect_data` blocks
/// (about a second on a tracker): call it from a worker thread, never the UI thread.
pub trait ScreenCalibration: Send {
    fn enter(&mut self) -> Result<(), GazeError>;
    fn collect_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError>;
    fn discard_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError>;
    fn compute_and_apply(&mut self) -> Result<CalibrationResult, GazeError>;
    fn leave(&mut self) -> Result<(), GazeError>;
}
