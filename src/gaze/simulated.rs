//! A simulated subject: a [`GazeSource`] that replays recorded or generated samples
//! (a cohort stream, a gaze CSV) on its own thread, as if a tracker were delivering
//! them now.
//!
//! Each replay re-stamps `system_time_us` onto the live clock by one constant offset
//! (the first sample lands at the moment of `start`), so the relative timing is kept
//! exactly; `device_time_us` and the eye data are passed through untouched, so gaps
//! in the device clock still reveal the recording's dropped samples. At a speed above
//! real time the stamps run ahead of the live clock by design: the data keep their own
//! timing, only the delivery is faster. It owns no file format (see [`super::csv`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::clock::system_time_us;
use super::sample::GazeSample;
use super::software_calibration::SoftwareCalibration;
use super::source::{
    Capabilities, DeviceInfo, GazeError, GazeSource, Notification, ScreenCalibration,
};
use super::worker::{Producer, SamplingThread, SourceChannels, sleep_until_us};

/// How fast a replay delivers its samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplaySpeed {
    /// At the recording's own pace.
    RealTime,
    /// This many times faster than real time (0.5 is half speed).
    Factor(f64),
    /// With no waiting at all (tests, batch processing).
    AsFastAsPossible,
}

impl ReplaySpeed {
    /// Wall-clock microseconds after the start at which a sample `relative_us` into
    /// the recording is due; `None` for no waiting.
    fn due_after_start_us(self, relative_us: i64) -> Option<i64> {
        match self {
            Self::RealTime => Some(relative_us),
            Self::Factor(factor) => Some((relative_us as f64 / factor) as i64),
            Self::AsFastAsPossible => None,
        }
    }
}

/// Progress shared with the replay thread.
#[derive(Debug, Default)]
struct ReplayProgress {
    delivered: AtomicUsize,
    finished: AtomicBool,
}

/// Replays samples as a gaze source (see the module docs).
#[derive(Debug)]
pub struct SimulatedSource {
    info: DeviceInfo,
    samples: Arc<[GazeSample]>,
    speed: ReplaySpeed,
    frequency_hz: f32,
    channels: SourceChannels,
    progress: Arc<ReplayProgress>,
    thread: Option<SamplingThread>,
    calibration: SoftwareCalibration,
}

impl SimulatedSource {
    /// A source replaying `samples` in their order at `speed`. The queue holds the
    /// whole recording, so one replay never overflows even if nobody drains it.
    pub fn new(samples: Vec<GazeSample>, speed: ReplaySpeed) -> Result<Self, GazeError> {
        if let ReplaySpeed::Factor(factor) = speed
            && !(factor.is_finite() && factor > 0.0)
        {
            return Err(GazeError::Unsupported(format!(
                "replay speed factor {factor}: expected a finite number above 0"
            )));
        }
        let channels = SourceChannels::with_capacity(samples.len().max(1));
        let calibration =
            SoftwareCalibration::new(channels.tap.clone(), channels.notifications.clone());
        Ok(Self {
            info: DeviceInfo {
                address: "simulated".to_owned(),
                serial_number: String::new(),
                model: "simulated subject (replayed samples, no eye tracker)".to_owned(),
                device_name: "Simulated subject".to_owned(),
                firmware_version: String::new(),
            },
            frequency_hz: recorded_frequency_hz(&samples).unwrap_or(0.0) as f32,
            samples: samples.into(),
            speed,
            channels,
            progress: Arc::default(),
            thread: None,
            calibration,
        })
    }

    /// A source replaying a gaze CSV (see [`super::csv`]); the address names the file.
    pub fn from_csv(path: &Path, speed: ReplaySpeed) -> Result<Self, GazeError> {
        let samples =
            super::csv::read_samples(path).map_err(|e| GazeError::Unavailable(e.to_string()))?;
        let mut source = Self::new(samples, speed)?;
        source.info.address = format!("simulated:{}", path.display());
        Ok(source)
    }

    /// Names where the samples came from (shown as the device address).
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.info.address = address.into();
        self
    }

    /// Whether the current replay delivered its last sample (it is then in the queue).
    pub fn is_finished(&self) -> bool {
        self.progress.finished.load(Ordering::Acquire)
    }

    /// Samples delivered so far by the current replay.
    pub fn delivered_count(&self) -> usize {
        self.progress.delivered.load(Ordering::Acquire)
    }

    /// Samples in the recording.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    pub fn speed(&self) -> ReplaySpeed {
        self.speed
    }

    /// The software calibration, with its settings (dwell time).
    pub fn software_calibration(&mut self) -> &mut SoftwareCalibration {
        &mut self.calibration
    }
}

/// The recording's rate from its median positive interval on the system clock, Hz.
fn recorded_frequency_hz(samples: &[GazeSample]) -> Option<f64> {
    let mut intervals_us: Vec<i64> = samples
        .windows(2)
        .map(|w| w[1].system_time_us.saturating_sub(w[0].system_time_us))
        .filter(|&dt| dt > 0)
        .collect();
    if intervals_us.is_empty() {
        return None;
    }
    let middle = intervals_us.len() / 2;
    let (_, median_us, _) = intervals_us.select_nth_unstable(middle);
    Some(1e6 / *median_us as f64)
}

/// The replay loop: delivers every sample once, re-stamped, paced by `speed`.
fn replay(
    samples: &[GazeSample],
    speed: ReplaySpeed,
    producer: &Producer,
    progress: &ReplayProgress,
    stop: &AtomicBool,
) {
    let start_us = system_time_us();
    let first_us = samples.first().map_or(0, |s| s.system_time_us);
    let offset_us = start_us.saturating_sub(first_us);
    for sample in samples {
        let relative_us = sample.system_time_us.saturating_sub(first_us);
        let on_time = match speed.due_after_start_us(relative_us) {
            Some(due_us) => sleep_until_us(start_us.saturating_add(due_us), stop),
            None => !stop.load(Ordering::Relaxed),
        };
        if !on_time {
            return;
        }
        producer.deliver(GazeSample {
            system_time_us: sample.system_time_us.saturating_add(offset_us),
            ..*sample
        });
        progress.delivered.fetch_add(1, Ordering::Release);
    }
    progress.finished.store(true, Ordering::Release);
}

impl GazeSource for SimulatedSource {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            gaze_output_frequencies_hz: vec![self.frequency_hz],
            can_set_gaze_output_frequency: false,
            can_do_screen_based_calibration: true,
            measures_eyes: false,
        }
    }

    /// The recording's rate (median interval); 0 when it has fewer than two samples.
    fn gaze_output_frequency_hz(&self) -> f32 {
        self.frequency_hz
    }

    fn set_gaze_output_frequency_hz(&mut self, frequency_hz: f32) -> Result<(), GazeError> {
        if (frequency_hz - self.frequency_hz).abs() < 0.5 {
            return Ok(());
        }
        Err(GazeError::Unsupported(format!(
            "a replay runs at its recording's rate ({:.1} Hz), not {frequency_hz} Hz",
            self.frequency_hz
        )))
    }

    /// Replays from the first sample (again, after a finished or stopped replay).
    fn start(&mut self) -> Result<(), GazeError> {
        if self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        self.stop()?;
        self.progress = Arc::default();
        let samples = Arc::clone(&self.samples);
        let speed = self.speed;
        let producer = self.channels.producer();
        let progress = Arc::clone(&self.progress);
        self.thread = Some(SamplingThread::spawn("simulated-gaze", move |stop| {
            replay(&samples, speed, &producer, &progress, stop);
        })?);
        Ok(())
    }

    fn stop(&mut self) -> Result<(), GazeError> {
        if self.thread.take().is_none_or(|mut thread| thread.stop()) {
            Ok(())
        } else {
            Err(GazeError::Device(
                "the simulated replay thread panicked".to_owned(),
            ))
        }
    }

    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize {
        self.channels.drain_samples(out)
    }

    fn drain_notifications(&mut self, out: &mut Vec<Notification>) {
        self.channels.drain_notifications(out);
    }

    fn dropped_samples(&self) -> u64 {
        self.channels.dropped_total()
    }

    fn calibration(&mut self) -> Option<&mut dyn ScreenCalibration> {
        Some(&mut self.calibration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_speed_factors_are_refused() {
        for factor in [0.0, -2.0, f64::NAN, f64::INFINITY] {
            let error = SimulatedSource::new(Vec::new(), ReplaySpeed::Factor(factor)).unwrap_err();
            assert!(error.to_string().contains("speed factor"), "{error}");
        }
    }

    #[test]
    fn the_rate_is_read_from_the_recording() {
        let samples: Vec<_> = (0..50)
            .map(|i| GazeSample::binocular(1_000 + i * 4_000, [0.5, 0.5]))
            .collect();
        let mut source = SimulatedSource::new(samples, ReplaySpeed::RealTime).unwrap();
        assert!((source.gaze_output_frequency_hz() - 250.0).abs() < 1e-3);
        assert!(source.set_gaze_output_frequency_hz(250.0).is_ok());
        assert!(source.set_gaze_output_frequency_hz(60.0).is_err());
        assert!(!source.capabilities().measures_eyes);
    }
}
