//! Whisper's log-mel front end, computed here rather than borrowed: a centred
//! short-time Fourier transform (periodic Hann window, `n_fft` 400, hop 160,
//! reflect padding), Slaney-style mel filters built like librosa's
//! `mel(sr=16000, n_fft=400, n_mels=80)` (Slaney mel scale, area normalisation),
//! `log10` with a 1e-10 floor, a dynamic range of 8 below the maximum and the
//! `(x + 4) / 4` scaling Whisper was trained on.
//!
//! Owns only the numbers from samples to features; it must not load models or audio.

use candle_core::{Device, Tensor};

/// Sample rate Whisper expects.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// FFT length and window length, in samples.
pub const N_FFT: usize = 400;
/// Hop between frames, in samples (10 ms).
pub const HOP_LENGTH: usize = 160;
/// One model window: 30 s of audio.
pub const WINDOW_SAMPLES: usize = 30 * SAMPLE_RATE_HZ as usize;
/// Frames in one model window.
pub const WINDOW_FRAMES: usize = WINDOW_SAMPLES / HOP_LENGTH;

/// Hertz to mels on the Slaney scale: linear below 1 kHz, logarithmic above.
pub fn hz_to_mel_slaney(frequency_hz: f64) -> f64 {
    let linear_step_hz = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / linear_step_hz;
    let log_step = 6.4f64.ln() / 27.0;
    if frequency_hz >= min_log_hz {
        min_log_mel + (frequency_hz / min_log_hz).ln() / log_step
    } else {
        frequency_hz / linear_step_hz
    }
}

/// Inverse of [`hz_to_mel_slaney`].
pub fn mel_to_hz_slaney(mel: f64) -> f64 {
    let linear_step_hz = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / linear_step_hz;
    let log_step = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (log_step * (mel - min_log_mel)).exp()
    } else {
        mel * linear_step_hz
    }
}

/// Triangular mel filters from 0 Hz to Nyquist, area-normalised ("slaney"), as a
/// row-major `n_mels × (n_fft / 2 + 1)` matrix.
pub fn mel_filters(sample_rate_hz: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_bins = n_fft / 2 + 1;
    let nyquist_hz = f64::from(sample_rate_hz) / 2.0;
    let bin_hz: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * nyquist_hz / (n_bins - 1).max(1) as f64)
        .collect();
    let max_mel = hz_to_mel_slaney(nyquist_hz);
    let edges_hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz_slaney(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut weights = vec![0.0f32; n_mels * n_bins];
    for m in 0..n_mels {
        let (low, centre, high) = (edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]);
        let area_norm = 2.0 / (high - low);
        for (k, &f) in bin_hz.iter().enumerate() {
            let rising = (f - low) / (centre - low);
            let falling = (high - f) / (high - centre);
            let w = rising.min(falling).max(0.0);
            weights[m * n_bins + k] = (w * area_norm) as f32;
        }
    }
    weights
}

/// Periodic Hann window (`torch.hann_window(n)`), the window Whisper's STFT uses.
pub fn hann_window(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let phase = 2.0 * std::f64::consts::PI * i as f64 / len as f64;
            (0.5 - 0.5 * phase.cos()) as f32
        })
        .collect()
}

/// The log-mel front end for one filter count; build once, reuse for every window.
///
/// The STFT is a matrix product of the framed signal with a windowed DFT basis
/// (cosine and sine columns for the `n_fft / 2 + 1` bins), so the heavy arithmetic
/// runs in candle's optimised kernels, on the model's device.
#[derive(Debug, Clone)]
pub struct MelFrontEnd {
    n_mels: usize,
    filters: Vec<f32>,
    /// `n_fft × 2·n_bins`: Hann-windowed cosines, then sines.
    basis: Tensor,
    /// `n_bins × n_mels`.
    filters_by_bin: Tensor,
    device: Device,
}

impl MelFrontEnd {
    pub fn new(n_mels: usize, device: &Device) -> Result<Self, candle_core::Error> {
        let filters = mel_filters(SAMPLE_RATE_HZ, N_FFT, n_mels);
        let n_bins = N_FFT / 2 + 1;
        let window = hann_window(N_FFT);
        let mut basis = vec![0.0f32; N_FFT * 2 * n_bins];
        for (i, w) in window.iter().enumerate() {
            for k in 0..n_bins {
                // Reduce i·k modulo n_fft first so the angle stays exact.
                let angle = 2.0 * std::f64::consts::PI * ((i * k) % N_FFT) as f64 / N_FFT as f64;
                basis[i * 2 * n_bins + k] = w * angle.cos() as f32;
                basis[i * 2 * n_bins + n_bins + k] = -w * angle.sin() as f32;
            }
        }
        let basis = Tensor::from_vec(basis, (N_FFT, 2 * n_bins), device)?;
        let filters_by_bin = Tensor::from_slice(&filters, (n_mels, n_bins), device)?
            .t()?
            .contiguous()?;
        Ok(Self {
            n_mels,
            filters,
            basis,
            filters_by_bin,
            device: device.clone(),
        })
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    pub fn filters(&self) -> &[f32] {
        &self.filters
    }

    /// Log-mel features of 16 kHz mono samples as an `n_mels × n_frames` tensor with
    /// `n_frames = samples.len() / HOP_LENGTH` (the centred STFT's last frame is
    /// dropped, as Whisper does).
    pub fn log_mel_tensor(&self, samples: &[f32]) -> Result<Tensor, candle_core::Error> {
        let n_frames = samples.len() / HOP_LENGTH;
        let n_bins = N_FFT / 2 + 1;
        if n_frames == 0 {
            return Tensor::zeros((self.n_mels, 0), candle_core::DType::F32, &self.device);
        }
        let pad = (N_FFT / 2) as isize;
        let mut frames = Vec::with_capacity(n_frames * N_FFT);
        for t in 0..n_frames {
            let start = (t * HOP_LENGTH) as isize - pad;
            let end = start + N_FFT as isize;
            if start >= 0 && end <= samples.len() as isize {
                frames.extend_from_slice(&samples[start as usize..end as usize]);
            } else {
                frames.extend((start..end).map(|i| reflect(samples, i)));
            }
        }
        let frames = Tensor::from_vec(frames, (n_frames, N_FFT), &self.device)?;
        let spectrum = frames.matmul(&self.basis)?;
        let power =
            (spectrum.narrow(1, 0, n_bins)?.sqr()? + spectrum.narrow(1, n_bins, n_bins)?.sqr()?)?;
        let mel = power.matmul(&self.filters_by_bin)?; // n_frames × n_mels
        let log_mel = (mel.maximum(1e-10f32)?.log()? / std::f64::consts::LN_10)?;
        let max = log_mel.max_all()?.to_scalar::<f32>()?;
        let clamped = log_mel.maximum(max - 8.0)?;
        ((clamped + 4.0)? / 4.0)?.t()?.contiguous()
    }

    /// [`Self::log_mel_tensor`] as a row-major vector, with `n_frames`.
    pub fn log_mel(&self, samples: &[f32]) -> Result<(Vec<f32>, usize), candle_core::Error> {
        let features = self.log_mel_tensor(samples)?;
        let n_frames = features.dim(1)?;
        Ok((features.flatten_all()?.to_vec1()?, n_frames))
    }

    /// Features of one model window, `1 × n_mels × WINDOW_FRAMES`: the samples
    /// zero-padded (or cut) to 30 s, then [`Self::log_mel_tensor`].
    pub fn window_features(&self, samples: &[f32]) -> Result<Tensor, candle_core::Error> {
        let mut padded = vec![0.0f32; WINDOW_SAMPLES];
        let used = samples.len().min(WINDOW_SAMPLES);
        padded[..used].copy_from_slice(&samples[..used]);
        self.log_mel_tensor(&padded)?.unsqueeze(0)
    }
}

/// `samples[index]` with reflection at both ends (numpy's `reflect` padding); zero
/// for signals too short to reflect.
fn reflect(samples: &[f32], index: isize) -> f32 {
    let len = samples.len() as isize;
    if len < 2 {
        return if index == 0 && len == 1 {
            samples[0]
        } else {
            0.0
        };
    }
    let period = 2 * (len - 1);
    let mut i = index.rem_euclid(period);
    if i >= len {
        i = period - i;
    }
    samples[i as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips_and_is_linear_below_one_kilohertz() {
        assert!((hz_to_mel_slaney(500.0) - 7.5).abs() < 1e-9);
        assert!((hz_to_mel_slaney(1000.0) - 15.0).abs() < 1e-9);
        for hz in [0.0, 440.0, 1000.0, 3000.0, 8000.0] {
            assert!((mel_to_hz_slaney(hz_to_mel_slaney(hz)) - hz).abs() < 1e-6);
        }
    }

    #[test]
    fn reflect_padding_mirrors_without_repeating_the_edge() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let padded: Vec<f32> = (-2..6).map(|i| reflect(&x, i)).collect();
        assert_eq!(padded, vec![3.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 2.0]);
    }

    #[test]
    fn a_pure_tone_peaks_in_the_filter_around_its_frequency() {
        let front_end = MelFrontEnd::new(80, &Device::Cpu).unwrap();
        let tone: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16_000.0).sin())
            .collect();
        let (mel, frames) = front_end.log_mel(&tone).unwrap();
        assert_eq!(frames, 100);
        let t = 50;
        let loudest = (0..80)
            .max_by(|&a, &b| mel[a * frames + t].total_cmp(&mel[b * frames + t]))
            .unwrap_or(0);
        // 1 kHz is 15 Slaney mels; filter m is centred on mel (m+1)·max/81.
        let centre_hz = mel_to_hz_slaney(hz_to_mel_slaney(8000.0) * (loudest + 1) as f64 / 81.0);
        assert!((centre_hz - 1000.0).abs() < 60.0, "peak at {centre_hz} Hz");
    }

    #[test]
    fn window_features_have_the_whisper_shape_and_range() {
        let front_end = MelFrontEnd::new(80, &Device::Cpu).unwrap();
        let features = front_end.window_features(&[0.1; 8000]).unwrap();
        assert_eq!(features.dims(), &[1, 80, WINDOW_FRAMES]);
        let features: Vec<f32> = features.flatten_all().unwrap().to_vec1().unwrap();
        let max = features.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let min = features.iter().cloned().fold(f32::INFINITY, f32::min);
        assert!(
            max - min <= 2.0 + 1e-6,
            "dynamic range is 8 log10 units / 4"
        );
    }

    fn f32s(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }

    /// Reference values from tests/fixtures/speech/make_mel_fixture.py (numpy,
    /// following librosa and Whisper).
    #[test]
    fn filters_match_the_numpy_librosa_reference() {
        let expected = f32s(include_bytes!(
            "../../../tests/fixtures/speech/mel_filters_80.f32"
        ));
        let filters = mel_filters(16_000, 400, 80);
        assert_eq!(filters.len(), expected.len());
        let worst = filters
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "largest filter difference {worst}");
    }

    #[test]
    fn log_mel_matches_the_numpy_whisper_reference() {
        let signal = f32s(include_bytes!(
            "../../../tests/fixtures/speech/signal_8000.f32"
        ));
        let expected = f32s(include_bytes!(
            "../../../tests/fixtures/speech/log_mel_80x50.f32"
        ));
        let (features, frames) = MelFrontEnd::new(80, &Device::Cpu)
            .unwrap()
            .log_mel(&signal)
            .unwrap();
        assert_eq!(frames, 50);
        let worst = features
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 2e-3, "largest log-mel difference {worst}");
    }
}
