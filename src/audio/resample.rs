//! Sample-rate conversion to the 16 kHz mono that speech recognition expects.
//!
//! Channels are averaged to mono, then a streaming windowed-sinc interpolator
//! (Blackman window, cutoff just below the lower Nyquist frequency) converts the
//! rate. It runs on blocks of any size and gives the same output however the input
//! is split.

/// The rate everything is converted to.
pub const TARGET_RATE_HZ: u32 = 16_000;

/// Streaming mono resampler.
#[derive(Debug, Clone)]
pub struct Resampler {
    input_rate_hz: u32,
    output_rate_hz: u32,
    channels: usize,
    /// Input samples (mono) not yet fully consumed, starting `half_width` samples of
    /// history before `position`.
    buffer: Vec<f32>,
    /// Position of the next output sample, in input samples from the buffer start.
    position: f64,
    step: f64,
    cutoff: f64,
    half_width: usize,
}

impl Resampler {
    pub fn new(input_rate_hz: u32, channels: u16, output_rate_hz: u32) -> Self {
        let step = f64::from(input_rate_hz) / f64::from(output_rate_hz);
        // Cutoff relative to the input Nyquist; a little margin for the transition band.
        let cutoff = (1.0 / step).min(1.0) * 0.92;
        let half_width = (16.0 * step.max(1.0)).ceil() as usize;
        Self {
            input_rate_hz,
            output_rate_hz,
            channels: usize::from(channels.max(1)),
            buffer: vec![0.0; half_width],
            position: half_width as f64,
            step,
            cutoff,
            half_width,
        }
    }

    pub fn input_rate_hz(&self) -> u32 {
        self.input_rate_hz
    }

    pub fn output_rate_hz(&self) -> u32 {
        self.output_rate_hz
    }

    /// Converts interleaved input samples, appending the output to `out`.
    pub fn process(&mut self, interleaved: &[f32], out: &mut Vec<f32>) {
        let channels = self.channels;
        self.buffer.extend(
            interleaved
                .chunks_exact(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
        self.emit(out);
    }

    /// Flushes the tail (pads with silence), appending the last outputs to `out`.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        self.buffer
            .extend(std::iter::repeat_n(0.0, self.half_width + 1));
        self.emit(out);
    }

    fn emit(&mut self, out: &mut Vec<f32>) {
        let half_width = self.half_width as f64;
        while self.position + half_width < self.buffer.len() as f64 {
            out.push(self.interpolate(self.position));
            self.position += self.step;
        }
        // Keep only the history the next outputs need.
        let keep_from = (self.position - half_width).floor().max(0.0) as usize;
        if keep_from > 0 {
            self.buffer.drain(..keep_from);
            self.position -= keep_from as f64;
        }
    }

    fn interpolate(&self, t: f64) -> f32 {
        let centre = t.floor() as isize;
        let half_width = self.half_width as isize;
        let mut sum = 0.0;
        for j in (centre - half_width + 1)..=(centre + half_width) {
            let Some(&x) = usize::try_from(j).ok().and_then(|j| self.buffer.get(j)) else {
                continue;
            };
            let d = t - j as f64;
            sum += f64::from(x) * self.kernel(d);
        }
        sum as f32
    }

    fn kernel(&self, d: f64) -> f64 {
        let w = self.half_width as f64;
        if d.abs() >= w {
            return 0.0;
        }
        let x = self.cutoff * d;
        let sinc = if x.abs() < 1e-9 {
            1.0
        } else {
            (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
        };
        // Blackman window over [-w, w].
        let phase = std::f64::consts::PI * (d / w + 1.0);
        let window = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
        self.cutoff * sinc * window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, seconds: f64, channels: u16) -> Vec<f32> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .flat_map(|i| {
                let v = (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin() as f32;
                std::iter::repeat_n(v * 0.5, usize::from(channels))
            })
            .collect()
    }

    fn rms(v: &[f32]) -> f64 {
        (v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn speech_band_tones_pass_and_the_length_scales_with_the_rate() {
        let mut resampler = Resampler::new(48_000, 2, TARGET_RATE_HZ);
        let mut out = Vec::new();
        resampler.process(&tone(48_000, 1000.0, 1.0, 2), &mut out);
        resampler.finish(&mut out);
        assert!((out.len() as i64 - 16_000).abs() <= 40, "{}", out.len());
        let middle = &out[2000..14_000];
        assert!(
            (rms(middle) - 0.5 / 2f64.sqrt()).abs() < 0.01,
            "{}",
            rms(middle)
        );
    }

    #[test]
    fn tones_above_the_new_nyquist_are_removed() {
        let mut resampler = Resampler::new(44_100, 1, TARGET_RATE_HZ);
        let mut out = Vec::new();
        resampler.process(&tone(44_100, 12_000.0, 1.0, 1), &mut out);
        assert!(
            rms(&out[2000..12_000]) < 0.01,
            "aliasing: {}",
            rms(&out[2000..12_000])
        );
    }

    #[test]
    fn block_splitting_does_not_change_the_output() {
        let input = tone(48_000, 440.0, 0.3, 1);
        let mut whole = Vec::new();
        let mut a = Resampler::new(48_000, 1, TARGET_RATE_HZ);
        a.process(&input, &mut whole);
        a.finish(&mut whole);
        let mut pieces = Vec::new();
        let mut b = Resampler::new(48_000, 1, TARGET_RATE_HZ);
        for block in input.chunks(731) {
            b.process(block, &mut pieces);
        }
        b.finish(&mut pieces);
        assert_eq!(whole.len(), pieces.len());
        assert!(whole.iter().zip(&pieces).all(|(x, y)| (x - y).abs() < 1e-6));
    }
}
