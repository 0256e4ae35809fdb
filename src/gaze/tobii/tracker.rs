//! [`TobiiTracker`]: a Tobii Pro screen-based eye tracker as a [`GazeSource`] and a
//! [`ScreenCalibration`].
//!
//! Opening a tracker reads its info, capabilities and frequencies once and subscribes
//! to its notifications and stream errors for as long as it lives; `start`/`stop`
//! subscribe to and leave the gaze stream. Dropping it unsubscribes everything before
//! the sink the callbacks write into is freed.
//!
//! Owns the tracker's lifetime and state; the SDK calls themselves live in
//! `device.rs`, `stream.rs` and `calibration.rs`.

use super::calibration::TobiiCalibrator;
use super::device::{self, TrackerHandle};
use super::error::TobiiError;
use super::ffi::capability;
use super::library::TobiiLibrary;
use super::stream::{self, Stream, StreamSink};
use crate::gaze::source::CalibrationResult;
use crate::gaze::{
    Capabilities, DeviceInfo, GazeError, GazeSample, GazeSource, Notification, ScreenCalibration,
};

/// Clocks closer than this are taken to be the same clock (Linux: both
/// `CLOCK_MONOTONIC`); farther apart, SDK times are shifted onto ours.
const SAME_CLOCK_TOLERANCE_US: i64 = 10_000;

/// How a tracker is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerOptions {
    /// Samples the queue holds between drains (8192 is 6.8 s at 1200 Hz).
    pub queue_capacity: usize,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        Self {
            queue_capacity: 8192,
        }
    }
}

/// A connected Tobii Pro eye tracker.
pub struct TobiiTracker {
    library: TobiiLibrary,
    tracker: TrackerHandle,
    info: DeviceInfo,
    capabilities: Capabilities,
    frequency_hz: f32,
    /// Boxed so its address, handed to the SDK as `user_data`, never moves.
    sink: Box<StreamSink>,
    subscribed: Vec<Stream>,
    calibrator: TobiiCalibrator,
}

impl std::fmt::Debug for TobiiTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TobiiTracker")
            .field("info", &self.info)
            .field("frequency_hz", &self.frequency_hz)
            .field("subscribed", &self.subscribed)
            .finish()
    }
}

impl TobiiTracker {
    /// Loads the SDK from the standard locations and connects to `address`.
    pub fn connect(address: &str) -> Result<Self, TobiiError> {
        Self::open(&TobiiLibrary::load()?, address, TrackerOptions::default())
    }

    /// Connects to the tracker at `address` (as [`DeviceInfo::address`] gives it).
    pub fn open(
        library: &TobiiLibrary,
        address: &str,
        options: TrackerOptions,
    ) -> Result<Self, TobiiError> {
        let api = library.api;
        let tracker = device::connect(api, address)?;
        let info = device::device_info(api, tracker)?;
        let bits = device::capabilities(api, tracker)?;
        let frequencies_hz = device::all_frequencies_hz(api, tracker)?;
        let frequency_hz = device::frequency_hz(api, tracker)?;
        let capabilities = Capabilities {
            can_set_gaze_output_frequency: frequencies_hz.len() > 1,
            gaze_output_frequencies_hz: frequencies_hz,
            can_do_screen_based_calibration: bits & capability::CAN_DO_SCREEN_BASED_CALIBRATION
                != 0,
            measures_eyes: bits & capability::HAS_GAZE_DATA != 0,
        };
        let clock_offset_us = {
            let ours = crate::gaze::clock::system_time_us();
            let offset = ours - library.system_time_stamp_us()?;
            if offset.abs() < SAME_CLOCK_TOLERANCE_US {
                0
            } else {
                offset
            }
        };
        let mut opened = Self {
            library: *library,
            tracker,
            info,
            capabilities,
            frequency_hz,
            sink: Box::new(StreamSink::new(options.queue_capacity, clock_offset_us)),
            subscribed: Vec::new(),
            calibrator: TobiiCalibrator::new(api, tracker),
        };
        // On error `opened` drops and leaves whatever it joined.
        opened.subscribe(Stream::Notifications)?;
        opened.subscribe(Stream::Errors)?;
        tracing::info!(address, model = %opened.info.model, frequency_hz, "Tobii tracker opened");
        Ok(opened)
    }

    fn subscribe(&mut self, stream: Stream) -> Result<(), TobiiError> {
        if self.subscribed.contains(&stream) {
            return Ok(());
        }
        let sink: *const StreamSink = &*self.sink;
        stream::subscribe(self.library.api, self.tracker, stream, sink)?;
        self.subscribed.push(stream);
        Ok(())
    }

    fn unsubscribe(&mut self, stream: Stream) -> Result<(), TobiiError> {
        if !self.subscribed.contains(&stream) {
            return Ok(());
        }
        // On failure the stream stays listed: the SDK may still call back into `sink`.
        stream::unsubscribe(self.library.api, self.tracker, stream)?;
        self.subscribed.retain(|s| *s != stream);
        Ok(())
    }

    /// Asks the device for its current gaze output frequency (the cached value that
    /// [`GazeSource::gaze_output_frequency_hz`] returns is updated too).
    pub fn read_gaze_output_frequency_hz(&mut self) -> Result<f32, TobiiError> {
        self.frequency_hz = device::frequency_hz(self.library.api, self.tracker)?;
        Ok(self.frequency_hz)
    }

    /// Whether the gaze stream is subscribed.
    pub fn is_streaming(&self) -> bool {
        self.subscribed.contains(&Stream::Gaze)
    }

    /// The sink the callbacks write into (its queue's capacity and counters).
    pub fn sink(&self) -> &StreamSink {
        &self.sink
    }

    /// A calibrator for this tracker that can be moved to a worker thread while this
    /// tracker keeps streaming (calibration calls block).
    pub fn screen_calibrator(&self) -> TobiiCalibrator {
        TobiiCalibrator::new(self.library.api, self.tracker)
    }

    pub fn library(&self) -> &TobiiLibrary {
        &self.library
    }
}

impl GazeSource for TobiiTracker {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities.clone()
    }

    fn gaze_output_frequency_hz(&self) -> f32 {
        self.frequency_hz
    }

    fn set_gaze_output_frequency_hz(&mut self, frequency_hz: f32) -> Result<(), GazeError> {
        let offered = &self.capabilities.gaze_output_frequencies_hz;
        if !offered.iter().any(|f| (f - frequency_hz).abs() < 0.5) {
            let list: Vec<String> = offered.iter().map(|f| format!("{f}")).collect();
            return Err(TobiiError::Unsupported(format!(
                "{} offers gaze output frequencies {} Hz, not {frequency_hz} Hz",
                self.info.model,
                list.join(", ")
            ))
            .into());
        }
        device::set_frequency_hz(self.library.api, self.tracker, frequency_hz)?;
        self.frequency_hz = frequency_hz;
        Ok(())
    }

    fn start(&mut self) -> Result<(), GazeError> {
        Ok(self.subscribe(Stream::Gaze)?)
    }

    fn stop(&mut self) -> Result<(), GazeError> {
        Ok(self.unsubscribe(Stream::Gaze)?)
    }

    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize {
        self.sink.drain_samples(out)
    }

    fn drain_notifications(&mut self, out: &mut Vec<Notification>) {
        let first_new = out.len();
        self.sink.drain_notifications(out);
        for notification in &out[first_new..] {
            if let Notification::GazeOutputFrequencyChanged { frequency_hz, .. } = notification {
                self.frequency_hz = *frequency_hz;
            }
        }
    }

    fn dropped_samples(&self) -> u64 {
        self.sink.samples().dropped_total()
    }

    fn calibration(&mut self) -> Option<&mut dyn ScreenCalibration> {
        if self.capabilities.can_do_screen_based_calibration {
            Some(self)
        } else {
            None
        }
    }
}

/// Delegates to this tracker's [`TobiiCalibrator`]; `collect_data` blocks, so callers
/// run a calibration on a worker thread (or use [`TobiiTracker::screen_calibrator`]).
impl ScreenCalibration for TobiiTracker {
    fn enter(&mut self) -> Result<(), GazeError> {
        self.calibrator.enter()
    }

    fn collect_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.calibrator.collect_data(target_display)
    }

    fn discard_data(&mut self, target_display: [f32; 2]) -> Result<(), GazeError> {
        self.calibrator.discard_data(target_display)
    }

    fn compute_and_apply(&mut self) -> Result<CalibrationResult, GazeError> {
        self.calibrator.compute_and_apply()
    }

    fn leave(&mut self) -> Result<(), GazeError> {
        self.calibrator.leave()
    }
}

impl Drop for TobiiTracker {
    /// Unsubscribes every stream before `sink` is freed, so no callback can reach it;
    /// if the SDK refuses, the sink is leaked rather than freed under a live callback.
    fn drop(&mut self) {
        for stream in self.subscribed.clone() {
            if let Err(error) = self.unsubscribe(stream) {
                tracing::warn!(%error, ?stream, "unsubscribing on drop");
            }
        }
        if !self.subscribed.is_empty() {
            let still_referenced =
                std::mem::replace(&mut self.sink, Box::new(StreamSink::new(1, 0)));
            Box::leak(still_referenced);
        }
    }
}
