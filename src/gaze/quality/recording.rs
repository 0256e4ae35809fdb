//! The data-quality report of any recording: how much of it is valid gaze, how
//! regular the sampling was and how many samples went missing, from the device clock.
//!
//! Dropped samples are estimated from gaps in `device_time_us`: an interval of `k`
//! nominal periods (rounded) means `k − 1` samples are missing. The nominal rate is
//! the one given, or else the median interval. Intervals that do not move forward
//! (a clock reset, a duplicated sample) are counted and left out of the statistics.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::gaze::sample::GazeSample;

use super::mean_and_sd;

/// The data-quality report of one recording (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingQuality {
    pub sample_count: usize,
    /// From the first to the last sample on the device clock, ms (0 for fewer than 2).
    pub duration_ms: f64,
    /// Shares of samples, `0..=1` (0 for an empty recording), with a valid gaze point in
    /// the left eye, the right eye, both, and at least one.
    pub valid_left_share: f64,
    pub valid_right_share: f64,
    pub valid_both_share: f64,
    pub valid_any_share: f64,
    /// The rate gaps are measured against, Hz; `None` when it cannot be known.
    pub nominal_frequency_hz: Option<f64>,
    /// Mean and SD of all forward intervals, gaps included, ms.
    pub interval_mean_ms: Option<f64>,
    pub interval_sd_ms: Option<f64>,
    /// SD of the intervals that hide no dropped sample: the timing jitter, ms.
    pub jitter_sd_ms: Option<f64>,
    /// Samples missing according to the gaps in the device clock.
    pub dropped_samples_estimate: u64,
    /// The longest forward interval, ms.
    pub largest_gap_ms: Option<f64>,
    /// Intervals in which the device clock did not move forward.
    pub backward_steps: usize,
}

/// The median of the positive intervals, as a rate in Hz.
fn median_rate_hz(intervals_us: &[i64]) -> Option<f64> {
    let mut sorted = intervals_us.to_vec();
    if sorted.is_empty() {
        return None;
    }
    let middle = sorted.len() / 2;
    let (_, median_us, _) = sorted.select_nth_unstable(middle);
    Some(1e6 / *median_us as f64)
}

/// The data-quality report of `samples` (in recording order). `nominal_frequency_hz`
/// is the rate the source was set to; `None` (or a non-positive value) estimates it.
pub fn recording_quality(
    samples: &[GazeSample],
    nominal_frequency_hz: Option<f64>,
) -> RecordingQuality {
    let count = samples.len();
    let share = |valid: &dyn Fn(&GazeSample) -> bool| {
        if count == 0 {
            0.0
        } else {
            samples.iter().filter(|s| valid(s)).count() as f64 / count as f64
        }
    };
    let (left, right) = (
        |s: &GazeSample| s.left.point().is_some(),
        |s: &GazeSample| s.right.point().is_some(),
    );

    let steps_us: Vec<i64> = samples
        .windows(2)
        .map(|w| w[1].device_time_us.saturating_sub(w[0].device_time_us))
        .collect();
    let forward_us: Vec<i64> = steps_us.iter().copied().filter(|&dt| dt > 0).collect();
    let nominal_frequency_hz = nominal_frequency_hz
        .filter(|hz| hz.is_finite() && *hz > 0.0)
        .or_else(|| median_rate_hz(&forward_us));

    let mut dropped_samples_estimate = 0u64;
    let mut regular_ms = Vec::new();
    if let Some(hz) = nominal_frequency_hz {
        let period_us = 1e6 / hz;
        for &dt in &forward_us {
            let periods = (dt as f64 / period_us).round();
            if periods >= 2.0 {
                dropped_samples_estimate =
                    dropped_samples_estimate.saturating_add(periods as u64 - 1);
            } else {
                regular_ms.push(dt as f64 / 1e3);
            }
        }
    }
    let forward_ms: Vec<f64> = forward_us.iter().map(|&dt| dt as f64 / 1e3).collect();
    let intervals = mean_and_sd(&forward_ms);
    let device_times = samples.iter().map(|s| s.device_time_us);
    let duration_ms = match (device_times.clone().min(), device_times.max()) {
        (Some(first), Some(last)) => last.saturating_sub(first) as f64 / 1e3,
        _ => 0.0,
    };

    RecordingQuality {
        sample_count: count,
        duration_ms,
        valid_left_share: share(&left),
        valid_right_share: share(&right),
        valid_both_share: share(&|s| left(s) && right(s)),
        valid_any_share: share(&|s| left(s) || right(s)),
        nominal_frequency_hz,
        interval_mean_ms: intervals.map(|(mean, _)| mean),
        interval_sd_ms: intervals.map(|(_, sd)| sd),
        jitter_sd_ms: mean_and_sd(&regular_ms).map(|(_, sd)| sd),
        dropped_samples_estimate,
        largest_gap_ms: forward_us.iter().max().map(|&dt| dt as f64 / 1e3),
        backward_steps: steps_us.len() - forward_us.len(),
    }
}

fn ms_text(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.2} ms"))
}

impl fmt::Display for RecordingQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |share: f64| format!("{:.1} %", share * 100.0);
        writeln!(
            f,
            "{} samples over {:.2} s",
            self.sample_count,
            self.duration_ms / 1e3
        )?;
        writeln!(
            f,
            "valid gaze: left {}, right {}, both {}, any eye {}",
            percent(self.valid_left_share),
            percent(self.valid_right_share),
            percent(self.valid_both_share),
            percent(self.valid_any_share)
        )?;
        let nominal = self
            .nominal_frequency_hz
            .map_or_else(|| "unknown".to_owned(), |hz| format!("{hz:.1} Hz"));
        writeln!(
            f,
            "sampling: nominal {nominal}, interval {} ± {} (jitter {} without gaps)",
            ms_text(self.interval_mean_ms),
            ms_text(self.interval_sd_ms),
            ms_text(self.jitter_sd_ms)
        )?;
        write!(
            f,
            "dropped: about {} samples (largest gap {})",
            self.dropped_samples_estimate,
            ms_text(self.largest_gap_ms)
        )?;
        if self.backward_steps > 0 {
            write!(
                f,
                "; the device clock failed to move forward {} times",
                self.backward_steps
            )?;
        }
        writeln!(f)
    }
}
