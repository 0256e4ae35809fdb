//! The mouse pointer standing in for gaze: a [`GazeSource`] for pilots and demos with
//! no eye tracker.
//!
//! Whoever owns the pointer (the app's window) pushes its display-normalized position,
//! or "outside the window", into a cheap cloneable [`PointerFeed`]; the source samples
//! that latest value at a fixed rate on its own thread, stamping each sample with
//! [`system_time_us`]. A pointer outside the window gives [`GazeSample::lost`]. This
//! module never touches a window or UI toolkit: converting window pixels to display
//! coordinates is the feeder's job.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use super::clock::system_time_us;
use super::sample::GazeSample;
use super::software_calibration::SoftwareCalibration;
use super::source::{
    Capabilities, DeviceInfo, GazeError, GazeSource, Notification, ScreenCalibration,
};
use super::worker::{Producer, SamplingThread, SourceChannels, sleep_until_us};

/// The latest pointer position, shared lock-free between the pointer's owner and the
/// sampling thread. Clones share the same position.
#[derive(Debug, Clone)]
pub struct PointerFeed(Arc<AtomicU64>);

/// Both coordinates NaN: no pointer over the window.
const OUTSIDE_BITS: u64 = u64::MAX;

impl Default for PointerFeed {
    /// A feed that starts with the pointer outside the window.
    fn default() -> Self {
        Self(Arc::new(AtomicU64::new(OUTSIDE_BITS)))
    }
}

impl PointerFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// The pointer is at this display-normalized point (origin top-left; values
    /// outside `[0,1]` are beside the display). A non-finite point counts as outside.
    pub fn set_position_display(&self, point_display: [f32; 2]) {
        let [x, y] = point_display;
        let bits = if x.is_finite() && y.is_finite() {
            (u64::from(x.to_bits()) << 32) | u64::from(y.to_bits())
        } else {
            OUTSIDE_BITS
        };
        self.0.store(bits, Ordering::Relaxed);
    }

    /// The pointer left the window (or the window lost focus).
    pub fn set_outside(&self) {
        self.0.store(OUTSIDE_BITS, Ordering::Relaxed);
    }

    /// `Some(point)` for a position, `None` for outside.
    pub fn set(&self, point_display: Option<[f32; 2]>) {
        match point_display {
            Some(point) => self.set_position_display(point),
            None => self.set_outside(),
        }
    }

    /// The latest position; `None` when the pointer is outside.
    pub fn latest(&self) -> Option<[f32; 2]> {
        let bits = self.0.load(Ordering::Relaxed);
        let x = f32::from_bits((bits >> 32) as u32);
        let y = f32::from_bits((bits & 0xFFFF_FFFF) as u32);
        (x.is_finite() && y.is_finite()).then_some([x, y])
    }
}

/// The pointer sampled at a fixed rate (see the module docs).
#[derive(Debug)]
pub struct MouseSource {
    info: DeviceInfo,
    feed: PointerFeed,
    frequency_hz: f32,
    /// Shared with the sampling thread so a rate change applies while running.
    period_us: Arc<AtomicI64>,
    channels: SourceChannels,
    thread: Option<SamplingThread>,
    calibration: SoftwareCalibration,
}

impl MouseSource {
    pub const DEFAULT_FREQUENCY_HZ: f32 = 120.0;
    pub const MIN_FREQUENCY_HZ: f32 = 60.0;
    pub const MAX_FREQUENCY_HZ: f32 = 1000.0;
    /// The rates offered in [`Capabilities`]; any rate between the limits is accepted.
    pub const OFFERED_FREQUENCIES_HZ: [f32; 5] = [60.0, 120.0, 250.0, 500.0, 1000.0];
    /// Ten seconds at the highest rate: room for a consumer that stalls briefly.
    const QUEUE_CAPACITY: usize = 10_000;

    /// A mouse source reading `feed`, sampling at [`Self::DEFAULT_FREQUENCY_HZ`].
    pub fn new(feed: PointerFeed) -> Self {
        let channels = SourceChannels::with_capacity(Self::QUEUE_CAPACITY);
        let calibration =
            SoftwareCalibration::new(channels.tap.clone(), channels.notifications.clone());
        Self {
            info: DeviceInfo {
                address: "mouse".to_owned(),
                serial_number: String::new(),
                model: "mouse pointer standing in for gaze (no eye tracker)".to_owned(),
                device_name: "Mouse".to_owned(),
                firmware_version: String::new(),
            },
            feed,
            frequency_hz: Self::DEFAULT_FREQUENCY_HZ,
            period_us: Arc::new(AtomicI64::new(period_us(Self::DEFAULT_FREQUENCY_HZ))),
            channels,
            thread: None,
            calibration,
        }
    }

    /// A mouse source sampling at `frequency_hz` (between the limits).
    pub fn with_frequency_hz(feed: PointerFeed, frequency_hz: f32) -> Result<Self, GazeError> {
        let mut source = Self::new(feed);
        source.set_gaze_output_frequency_hz(frequency_hz)?;
        Ok(source)
    }

    /// Another handle on the feed this source samples.
    pub fn feed(&self) -> PointerFeed {
        self.feed.clone()
    }

    /// The software calibration, with its settings (dwell time).
    pub fn software_calibration(&mut self) -> &mut SoftwareCalibration {
        &mut self.calibration
    }

    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

fn period_us(frequency_hz: f32) -> i64 {
    (1e6 / f64::from(frequency_hz)).round() as i64
}

/// The sampling loop: one sample per period on a fixed schedule. When the thread falls
/// behind by a whole period (a stalled machine), the missed ticks are skipped, so they
/// show as a gap in the timestamps rather than a burst of stale samples.
fn sample_pointer(
    feed: &PointerFeed,
    period_us: &AtomicI64,
    producer: &Producer,
    stop: &AtomicBool,
) {
    let mut next_us = system_time_us();
    while sleep_until_us(next_us, stop) {
        let now_us = system_time_us();
        producer.deliver(match feed.latest() {
            Some(point) => GazeSample::binocular(now_us, point),
            None => GazeSample::lost(now_us),
        });
        let period = period_us.load(Ordering::Relaxed).max(1);
        next_us += period;
        if next_us <= now_us {
            next_us = now_us + period;
        }
    }
}

impl GazeSource for MouseSource {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            gaze_output_frequencies_hz: Self::OFFERED_FREQUENCIES_HZ.to_vec(),
            can_set_gaze_output_frequency: true,
            can_do_screen_based_calibration: true,
            measures_eyes: false,
        }
    }

    fn gaze_output_frequency_hz(&self) -> f32 {
        self.frequency_hz
    }

    fn set_gaze_output_frequency_hz(&mut self, frequency_hz: f32) -> Result<(), GazeError> {
        if !(Self::MIN_FREQUENCY_HZ..=Self::MAX_FREQUENCY_HZ).contains(&frequency_hz) {
            return Err(GazeError::Unsupported(format!(
                "mouse sampling rate {frequency_hz} Hz: expected {} to {} Hz",
                Self::MIN_FREQUENCY_HZ,
                Self::MAX_FREQUENCY_HZ
            )));
        }
        self.frequency_hz = frequency_hz;
        self.period_us
            .store(period_us(frequency_hz), Ordering::Relaxed);
        self.channels
            .notifications
            .push(Notification::GazeOutputFrequencyChanged {
                at_us: system_time_us(),
                frequency_hz,
            });
        Ok(())
    }

    fn start(&mut self) -> Result<(), GazeError> {
        if self.is_running() {
            return Ok(());
        }
        let feed = self.feed.clone();
        let period = Arc::clone(&self.period_us);
        let producer = self.channels.producer();
        self.thread = Some(SamplingThread::spawn("mouse-gaze", move |stop| {
            sample_pointer(&feed, &period, &producer, stop);
        })?);
        Ok(())
    }

    fn stop(&mut self) -> Result<(), GazeError> {
        if self.thread.take().is_none_or(|mut thread| thread.stop()) {
            Ok(())
        } else {
            Err(GazeError::Device(
                "the mouse sampling thread panicked".to_owned(),
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
    fn the_feed_round_trips_positions_and_outside() {
        let feed = PointerFeed::new();
        assert_eq!(feed.latest(), None, "starts outside");
        let other = feed.clone();
        other.set_position_display([0.25, -0.5]);
        assert_eq!(
            feed.latest(),
            Some([0.25, -0.5]),
            "clones share the pointer"
        );
        feed.set_position_display([f32::NAN, 0.5]);
        assert_eq!(feed.latest(), None, "NaN is outside");
        feed.set(Some([1.0, 0.0]));
        assert_eq!(feed.latest(), Some([1.0, 0.0]));
        feed.set_outside();
        assert_eq!(other.latest(), None);
    }

    #[test]
    fn rates_outside_the_limits_are_refused_and_it_says_it_is_a_mouse() {
        let mut source = MouseSource::new(PointerFeed::new());
        assert!(source.set_gaze_output_frequency_hz(5000.0).is_err());
        assert!(source.set_gaze_output_frequency_hz(f32::NAN).is_err());
        assert_eq!(source.gaze_output_frequency_hz(), 120.0);
        source.set_gaze_output_frequency_hz(250.0).unwrap();
        assert_eq!(source.gaze_output_frequency_hz(), 250.0);
        assert!(!source.capabilities().measures_eyes);
        assert!(source.info().model.contains("mouse"));
    }
}
