//! Plumbing shared by the sources that produce samples on a thread of their own (the
//! mouse and the simulated subject): the queue, notification log and calibration tap a
//! source hands to its thread, and the thread handle that stops and joins on drop.
//!
//! It owns no policy (rates, pacing, what a sample holds): that stays in each source.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::clock::system_time_us;
use super::queue::SampleQueue;
use super::sample::GazeSample;
use super::software_calibration::CalibrationTap;
use super::source::{GazeError, Notification};

/// Notifications a source (or its calibration) has to report, shared between threads.
#[derive(Debug, Clone, Default)]
pub(crate) struct NotificationLog(Arc<Mutex<Vec<Notification>>>);

impl NotificationLog {
    pub(crate) fn push(&self, notification: Notification) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notification);
    }

    fn drain_into(&self, out: &mut Vec<Notification>) {
        out.append(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The consumer's end of a threaded source.
#[derive(Debug)]
pub(crate) struct SourceChannels {
    queue: Arc<SampleQueue>,
    pub(crate) notifications: NotificationLog,
    pub(crate) tap: CalibrationTap,
}

impl SourceChannels {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            queue: Arc::new(SampleQueue::with_capacity(capacity)),
            notifications: NotificationLog::default(),
            tap: CalibrationTap::default(),
        }
    }

    /// The producer's end, for the sampling thread.
    pub(crate) fn producer(&self) -> Producer {
        Producer {
            queue: Arc::clone(&self.queue),
            tap: self.tap.clone(),
        }
    }

    pub(crate) fn drain_samples(&self, out: &mut Vec<GazeSample>) -> usize {
        self.queue.drain_into(out)
    }

    /// Pending notifications, with a `SamplesDropped` for any overflow since last time.
    pub(crate) fn drain_notifications(&self, out: &mut Vec<Notification>) {
        self.notifications.drain_into(out);
        let count = self.queue.take_dropped();
        if count > 0 {
            out.push(Notification::SamplesDropped {
                at_us: system_time_us(),
                count,
            });
        }
    }

    pub(crate) fn dropped_total(&self) -> u64 {
        self.queue.dropped_total()
    }
}

/// What a sampling thread writes to.
#[derive(Debug, Clone)]
pub(crate) struct Producer {
    queue: Arc<SampleQueue>,
    tap: CalibrationTap,
}

impl Producer {
    /// Queues a sample (counting it as dropped when the queue is full) and lets a
    /// running calibration see it.
    pub(crate) fn deliver(&self, sample: GazeSample) {
        self.tap.offer(&sample);
        self.queue.push(sample);
    }
}

/// A named thread with a stop flag; stopping (or dropping) joins it.
#[derive(Debug)]
pub(crate) struct SamplingThread {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl SamplingThread {
    /// Runs `body` on a new thread; `body` returns when the flag it gets turns true.
    pub(crate) fn spawn(
        name: &str,
        body: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> Result<Self, GazeError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || body(&flag))
            .map_err(|e| GazeError::Device(format!("cannot start the {name} thread: {e}")))?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Whether the thread's body has returned (stopped or ran out of work).
    pub(crate) fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Asks the thread to stop and waits for it; no sample arrives after this returns.
    /// Returns `false` when the thread had panicked.
    pub(crate) fn stop(&mut self) -> bool {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().is_none_or(|h| h.join().is_ok())
    }
}

impl Drop for SamplingThread {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Longest single sleep, so a stop request is honoured within this long.
const MAX_SLEEP_US: i64 = 20_000;

/// Sleeps until `deadline_us` on the system clock; returns `false` (early) when `stop`
/// turned true meanwhile.
pub(crate) fn sleep_until_us(deadline_us: i64, stop: &AtomicBool) -> bool {
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let left_us = deadline_us - system_time_us();
        if left_us <= 0 {
            return true;
        }
        let nap_us = left_us.min(MAX_SLEEP_US).unsigned_abs();
        std::thread::sleep(Duration::from_micros(nap_us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_interrupts_a_long_sleep() {
        let mut thread = SamplingThread::spawn("sleeper", |stop| {
            sleep_until_us(system_time_us() + 60_000_000, stop);
        })
        .unwrap();
        assert!(!thread.is_finished());
        assert!(thread.stop(), "joined cleanly, long before a minute");
        assert!(thread.is_finished());
    }

    #[test]
    fn overflow_is_reported_as_a_notification() {
        let channels = SourceChannels::with_capacity(2);
        let producer = channels.producer();
        for t in 0..5 {
            producer.deliver(GazeSample::lost(t));
        }
        let mut notes = Vec::new();
        channels.drain_notifications(&mut notes);
        assert!(matches!(
            notes.as_slice(),
            [Notification::SamplesDropped { count: 3, .. }]
        ));
        assert_eq!(channels.dropped_total(), 3);
    }
}
