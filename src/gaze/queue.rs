//! The bounded, preallocated queue between a gaze producer (an SDK callback thread, a
//! sampling thread) and the consumer that drains it.
//!
//! A push never allocates and holds the lock only for the copy of one sample; when the
//! queue is full the sample is counted as dropped (never silently lost), and the
//! consumer learns of it through [`SampleQueue::take_dropped`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::sample::GazeSample;

/// A fixed-capacity multi-producer queue of gaze samples.
#[derive(Debug)]
pub struct SampleQueue {
    samples: Mutex<VecDeque<GazeSample>>,
    capacity: usize,
    dropped_total: AtomicU64,
    dropped_unreported: AtomicU64,
}

impl SampleQueue {
    /// A queue holding at most `capacity` samples, allocated now.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            samples: Mutex::new(VecDeque::with_capacity(capacity.max(1))),
            capacity: capacity.max(1),
            dropped_total: AtomicU64::new(0),
            dropped_unreported: AtomicU64::new(0),
        }
    }

    /// Adds a sample; returns `false` and counts a drop when the queue is full (or
    /// its lock was poisoned by a panicking consumer).
    pub fn push(&self, sample: GazeSample) -> bool {
        let pushed = match self.samples.lock() {
            Ok(mut samples) if samples.len() < self.capacity => {
                samples.push_back(sample);
                true
            }
            _ => false,
        };
        if !pushed {
            self.dropped_total.fetch_add(1, Ordering::Relaxed);
            self.dropped_unreported.fetch_add(1, Ordering::Relaxed);
        }
        pushed
    }

    /// Moves every queued sample to `out`, oldest first; returns how many.
    pub fn drain_into(&self, out: &mut Vec<GazeSample>) -> usize {
        let Ok(mut samples) = self.samples.lock() else {
            return 0;
        };
        let count = samples.len();
        out.extend(samples.drain(..));
        count
    }

    /// Samples dropped since the queue was made.
    pub fn dropped_total(&self) -> u64 {
        self.dropped_total.load(Ordering::Relaxed)
    }

    /// Samples dropped since the last call (for a `SamplesDropped` notification).
    pub fn take_dropped(&self) -> u64 {
        self.dropped_unreported.swap(0, Ordering::Relaxed)
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_counts_drops_and_keeps_the_oldest() {
        let queue = SampleQueue::with_capacity(3);
        for t in 0..5 {
            queue.push(GazeSample::lost(t));
        }
        assert_eq!(queue.dropped_total(), 2);
        assert_eq!(queue.take_dropped(), 2);
        assert_eq!(queue.take_dropped(), 0, "reported once");
        let mut out = Vec::new();
        assert_eq!(queue.drain_into(&mut out), 3);
        let times: Vec<i64> = out.iter().map(|s| s.system_time_us).collect();
        assert_eq!(times, [0, 1, 2]);
        assert!(queue.push(GazeSample::lost(9)), "room again after draining");
    }

    #[test]
    fn producers_on_other_threads_lose_nothing_when_drained_in_time() {
        let queue = std::sync::Arc::new(SampleQueue::with_capacity(100_000));
        let producer = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                for t in 0..50_000 {
                    queue.push(GazeSample::lost(t));
                }
            })
        };
        let mut out = Vec::new();
        while !producer.is_finished() {
            queue.drain_into(&mut out);
        }
        producer.join().unwrap();
        queue.drain_into(&mut out);
        assert_eq!(out.len(), 50_000);
        assert!(
            out.windows(2)
                .all(|w| w[0].system_time_us < w[1].system_time_us)
        );
        assert_eq!(queue.dropped_total(), 0);
    }
}
