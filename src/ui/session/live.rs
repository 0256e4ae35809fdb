//! What the experimenter's live monitor shows, gathered on the session thread: a
//! [`TeeSource`] wraps the real gaze source, and every batch the runner (or the
//! calibration) drains also updates a [`LiveMonitor`]: the latest gaze point, the
//! fixations of the current trial as the streaming I-VT detector forms them, and the
//! data-quality counters.
//!
//! No egui here. The UI copies a [`LiveSnapshot`] out under a lock held for that copy.

use std::sync::{Arc, Mutex, PoisonError};

use crate::fixation::space::Space;
use crate::fixation::{Fixation, Method, OnlineDetector};
use crate::gaze::{
    Capabilities, DeviceInfo, GazeError, GazeSample, GazeSource, Notification, ScreenCalibration,
};
use crate::study::ScreenGeometry;

/// A copy of the live data for one frame of the monitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSnapshot {
    /// The latest valid gaze point, display-normalized; `None` while gaze is lost.
    pub gaze_display: Option<[f32; 2]>,
    /// Final fixations of the current trial, in order.
    pub fixations: Vec<Fixation>,
    /// Fixations still forming (drawn as provisional).
    pub provisional: Vec<Fixation>,
    /// Samples of the current trial, and how many had a valid gaze point.
    pub trial_samples: u64,
    pub trial_valid_samples: u64,
    /// Samples the source lost since it started (queue overflow).
    pub dropped_samples: u64,
}

impl LiveSnapshot {
    /// The share of the current trial's samples with valid gaze, percent.
    pub fn valid_percent(&self) -> Option<f64> {
        (self.trial_samples > 0)
            .then(|| 100.0 * self.trial_valid_samples as f64 / self.trial_samples as f64)
    }
}

#[derive(Debug, Default)]
struct Live {
    snapshot: LiveSnapshot,
    /// Runs from a trial's start to its stimulus going off.
    detector: Option<OnlineDetector>,
}

/// Shared live data: the session thread writes, the UI reads. Clones share.
#[derive(Debug, Clone, Default)]
pub struct LiveMonitor(Arc<Mutex<Live>>);

impl LiveMonitor {
    /// A copy of the current data.
    pub fn snapshot(&self) -> LiveSnapshot {
        self.lock().snapshot.clone()
    }

    /// A new trial starts: its fixations and counters start from zero, and fixations
    /// are detected in degrees of visual angle on `screen`.
    pub fn start_trial(&self, screen: &ScreenGeometry) {
        let space = Space::Visual(*screen);
        let mut live = self.lock();
        live.detector = OnlineDetector::new(&Method::ivt_for(&space), space).ok();
        let dropped = live.snapshot.dropped_samples;
        live.snapshot = LiveSnapshot {
            dropped_samples: dropped,
            ..LiveSnapshot::default()
        };
    }

    /// The stimulus went off: the fixations still forming become final.
    pub fn end_trial(&self) {
        let mut live = self.lock();
        let Live { snapshot, detector } = &mut *live;
        if let Some(mut detector) = detector.take() {
            detector.finish(&mut snapshot.fixations);
        }
        snapshot.provisional.clear();
    }

    fn record(&self, samples: &[GazeSample], dropped_total: u64) {
        let mut live = self.lock();
        let Live { snapshot, detector } = &mut *live;
        snapshot.dropped_samples = dropped_total;
        for sample in samples {
            snapshot.gaze_display = sample.average_point();
            if let Some(detector) = detector.as_mut() {
                snapshot.trial_samples += 1;
                snapshot.trial_valid_samples += u64::from(snapshot.gaze_display.is_some());
                // A rejected sample (time not increasing) is only left out of the view.
                let _ = detector.push(sample, &mut snapshot.fixations);
            }
        }
        if let Some(detector) = detector.as_ref() {
            snapshot.provisional.clear();
            detector.provisional(&mut snapshot.provisional);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A gaze source that reports every drained batch to a [`LiveMonitor`] and otherwise
/// passes everything through.
pub struct TeeSource {
    inner: Box<dyn GazeSource>,
    monitor: LiveMonitor,
}

impl TeeSource {
    pub fn new(inner: Box<dyn GazeSource>, monitor: LiveMonitor) -> Self {
        Self { inner, monitor }
    }
}

impl GazeSource for TeeSource {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn gaze_output_frequency_hz(&self) -> f32 {
        self.inner.gaze_output_frequency_hz()
    }

    fn set_gaze_output_frequency_hz(&mut self, frequency_hz: f32) -> Result<(), GazeError> {
        self.inner.set_gaze_output_frequency_hz(frequency_hz)
    }

    fn start(&mut self) -> Result<(), GazeError> {
        self.inner.start()
    }

    fn stop(&mut self) -> Result<(), GazeError> {
        self.inner.stop()
    }

    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize {
        let before = out.len();
        let moved = self.inner.drain_samples(out);
        self.monitor
            .record(&out[before..], self.inner.dropped_samples());
        moved
    }

    fn drain_notifications(&mut self, out: &mut Vec<Notification>) {
        self.inner.drain_notifications(out);
    }

    fn dropped_samples(&self) -> u64 {
        self.inner.dropped_samples()
    }

    fn calibration(&mut self) -> Option<&mut dyn ScreenCalibration> {
        self.inner.calibration()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen() -> ScreenGeometry {
        crate::study::ScreenGeometry {
            resolution_px: (1920, 1080),
            size_mm: (531.0, 299.0),
            viewing_distance_mm: 650.0,
        }
    }

    #[test]
    fn a_steady_gaze_becomes_a_fixation_and_lost_samples_count_against_validity() {
        let monitor = LiveMonitor::default();
        monitor.record(&[GazeSample::binocular(0, [0.1, 0.1])], 0);
        assert_eq!(monitor.snapshot().trial_samples, 0, "no trial yet");
        monitor.start_trial(&screen());
        // 400 ms at 100 Hz on one spot, then 100 ms lost.
        let mut samples: Vec<GazeSample> = (0..40)
            .map(|i| GazeSample::binocular(i * 10_000, [0.4, 0.6]))
            .collect();
        samples.extend((40..50).map(|i| GazeSample::lost(i * 10_000)));
        monitor.record(&samples, 3);
        monitor.end_trial();
        let live = monitor.snapshot();
        assert_eq!(live.trial_samples, 50);
        assert_eq!(live.valid_percent(), Some(80.0));
        assert_eq!(live.dropped_samples, 3);
        assert_eq!(live.gaze_display, None, "the last sample was lost");
        assert_eq!(live.fixations.len(), 1, "{:?}", live.fixations);
        let [x, y] = live.fixations[0].position_display;
        assert!((x - 0.4).abs() < 1e-4 && (y - 0.6).abs() < 1e-4);
        assert!(live.provisional.is_empty());
    }
}
