//! A small complex FFT for the short-time Fourier transform of the mel front end.
//!
//! Owns only the transform: radix-2 decimation in time while the length is even,
//! then a direct DFT on the odd remainder (400 = 2⁴ × 25 for Whisper). Twiddle
//! factors are computed once per plan. It must not know about audio or mels.

use std::f64::consts::PI;

/// A reusable transform plan for one length.
#[derive(Debug, Clone)]
pub struct FftPlan {
    len: usize,
    /// `exp(-2πi k / len)` for `k` in `0..len`, as `(re, im)`.
    twiddles: Vec<(f32, f32)>,
}

impl FftPlan {
    pub fn new(len: usize) -> Self {
        let twiddles = (0..len)
            .map(|k| {
                let angle = -2.0 * PI * k as f64 / len as f64;
                (angle.cos() as f32, angle.sin() as f32)
            })
            .collect();
        Self { len, twiddles }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Transforms a real signal of `self.len()` samples; returns the complex spectrum
    /// as `(re, im)` pairs, all `len` bins.
    pub fn forward_real(&self, signal: &[f32]) -> Vec<(f32, f32)> {
        let input: Vec<(f32, f32)> = signal.iter().map(|&x| (x, 0.0)).collect();
        let mut output = vec![(0.0, 0.0); self.len];
        self.transform(&input, 1, &mut output);
        output
    }

    /// Transforms `input[0], input[stride], …` (`output.len()` of them) into `output`.
    fn transform(&self, input: &[(f32, f32)], stride: usize, output: &mut [(f32, f32)]) {
        let n = output.len();
        if n == 1 {
            output[0] = input[0];
            return;
        }
        if n % 2 == 0 {
            let half = n / 2;
            let (even, odd) = output.split_at_mut(half);
            self.transform(input, stride * 2, even);
            self.transform(&input[stride..], stride * 2, odd);
            // Twiddle for bin k of a length-n transform: exp(-2πi k / n), which is
            // `twiddles[k * (len / n)]`.
            let step = self.len / n;
            for k in 0..half {
                let (wr, wi) = self.twiddles[k * step];
                let (or, oi) = odd[k];
                let (tr, ti) = (or * wr - oi * wi, or * wi + oi * wr);
                let (er, ei) = even[k];
                even[k] = (er + tr, ei + ti);
                odd[k] = (er - tr, ei - ti);
            }
            return;
        }
        // Direct DFT on the odd remainder.
        let step = self.len / n;
        for (k, bin) in output.iter_mut().enumerate() {
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for j in 0..n {
                let (xr, xi) = input[j * stride];
                let (wr, wi) = self.twiddles[(j * k % n) * step];
                re += xr * wr - xi * wi;
                im += xr * wi + xi * wr;
            }
            *bin = (re, im);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dft(signal: &[f32]) -> Vec<(f64, f64)> {
        let n = signal.len();
        (0..n)
            .map(|k| {
                signal
                    .iter()
                    .enumerate()
                    .fold((0.0, 0.0), |(re, im), (j, &x)| {
                        let angle = -2.0 * PI * (j * k) as f64 / n as f64;
                        (
                            re + f64::from(x) * angle.cos(),
                            im + f64::from(x) * angle.sin(),
                        )
                    })
            })
            .collect()
    }

    #[test]
    fn matches_the_direct_dft_for_mixed_radix_lengths() {
        for len in [1usize, 2, 5, 8, 25, 50, 400] {
            let signal: Vec<f32> = (0..len)
                .map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5)
                .collect();
            let fast = FftPlan::new(len).forward_real(&signal);
            let slow = naive_dft(&signal);
            for (k, (a, b)) in fast.iter().zip(&slow).enumerate() {
                assert!(
                    (f64::from(a.0) - b.0).abs() < 1e-3 && (f64::from(a.1) - b.1).abs() < 1e-3,
                    "len {len} bin {k}: {a:?} vs {b:?}"
                );
            }
        }
    }
}
