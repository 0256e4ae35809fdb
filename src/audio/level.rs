//! The input level meter the UI shows while the subject speaks: RMS and peak in dBFS
//! of the most recent block, shared lock-free between the audio worker and the UI.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The quietest level reported, dBFS (silence reads as this).
pub const FLOOR_DBFS: f32 = -96.0;

/// A cloneable handle to the latest level; the audio worker writes, anyone reads.
#[derive(Debug, Clone)]
pub struct LevelMeter {
    rms_bits: Arc<AtomicU32>,
    peak_bits: Arc<AtomicU32>,
}

impl Default for LevelMeter {
    fn default() -> Self {
        Self {
            rms_bits: Arc::new(AtomicU32::new(FLOOR_DBFS.to_bits())),
            peak_bits: Arc::new(AtomicU32::new(FLOOR_DBFS.to_bits())),
        }
    }
}

impl LevelMeter {
    /// Measures a block of samples in `[-1, 1]` and publishes its level.
    pub fn update(&self, samples: &[f32]) {
        if samples.is_empty() {
            return;
        }
        let sum_sq: f64 = samples.iter().map(|s| f64::from(*s).powi(2)).sum();
        let rms = (sum_sq / samples.len() as f64).sqrt() as f32;
        let peak = samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
        self.rms_bits
            .store(to_dbfs(rms).to_bits(), Ordering::Relaxed);
        self.peak_bits
            .store(to_dbfs(peak).to_bits(), Ordering::Relaxed);
    }

    /// RMS level of the latest block, dBFS.
    pub fn rms_dbfs(&self) -> f32 {
        f32::from_bits(self.rms_bits.load(Ordering::Relaxed))
    }

    /// Peak level of the latest block, dBFS.
    pub fn peak_dbfs(&self) -> f32 {
        f32::from_bits(self.peak_bits.load(Ordering::Relaxed))
    }
}

fn to_dbfs(amplitude: f32) -> f32 {
    if amplitude <= 0.0 || !amplitude.is_finite() {
        FLOOR_DBFS
    } else {
        (20.0 * amplitude.log10()).max(FLOOR_DBFS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_square_is_zero_dbfs_and_silence_is_the_floor() {
        let meter = LevelMeter::default();
        meter.update(&[1.0, -1.0, 1.0, -1.0]);
        assert!(meter.rms_dbfs().abs() < 1e-4 && meter.peak_dbfs().abs() < 1e-4);
        meter.update(&[0.0; 64]);
        assert_eq!(meter.rms_dbfs(), FLOOR_DBFS);
        meter.update(&[0.1, -0.1]);
        assert!(
            (meter.rms_dbfs() + 20.0).abs() < 1e-3,
            "{}",
            meter.rms_dbfs()
        );
    }
}
