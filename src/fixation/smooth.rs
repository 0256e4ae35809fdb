//! Noise reduction (Olsen 2012, §3.1.3), streaming: a moving median or mean of x and y
//! over a window of samples centred on each sample.
//!
//! Only the valid samples of the centre sample's run (see `prepare`) take part, so the
//! window shrinks at gaps and at the ends of the recording instead of mixing in data
//! from across a gap; an invalid sample stays invalid. Each sample leaves here half a
//! window after it arrived. Owns no classification.

use super::options::{MAX_NOISE_WINDOW_SAMPLES, NoiseReduction};
use super::prepare::Prepared;

const RING: usize = 32;
const _: () = assert!(RING > MAX_NOISE_WINDOW_SAMPLES);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Off,
    Median,
    Mean,
}

/// The noise-reduction stage.
#[derive(Debug)]
pub(crate) struct NoiseReducer {
    kind: Kind,
    half: usize,
    ring: [Prepared; RING],
    count: usize,
}

impl NoiseReducer {
    pub fn new(options: NoiseReduction) -> Self {
        let (kind, window) = match options {
            NoiseReduction::None => (Kind::Off, 1),
            NoiseReduction::MovingMedian { window_samples } => (Kind::Median, window_samples),
            NoiseReduction::MovingAverage { window_samples } => (Kind::Mean, window_samples),
        };
        let window = window.clamp(1, MAX_NOISE_WINDOW_SAMPLES);
        Self {
            kind: if window == 1 { Kind::Off } else { kind },
            half: window / 2,
            ring: [Prepared::EMPTY; RING],
            count: 0,
        }
    }

    /// Takes one sample; passes on the sample half a window back, filtered.
    #[inline]
    pub fn push(&mut self, sample: Prepared, mut emit: impl FnMut(Prepared)) {
        if self.kind == Kind::Off {
            emit(sample);
            return;
        }
        self.ring[self.count % RING] = sample;
        self.count += 1;
        if self.count > self.half {
            emit(self.filtered(self.count - 1 - self.half));
        }
    }

    /// Passes on the samples still waiting for the rest of their window; starts afresh.
    pub fn flush(&mut self, mut emit: impl FnMut(Prepared)) {
        if self.kind != Kind::Off {
            for centre in self.count.saturating_sub(self.half)..self.count {
                emit(self.filtered(centre));
            }
        }
        self.count = 0;
    }

    /// Sample `centre` filtered over the window that has arrived.
    fn filtered(&self, centre: usize) -> Prepared {
        let sample = self.ring[centre % RING];
        if !sample.valid {
            return sample;
        }
        let mut xs = [0.0f32; MAX_NOISE_WINDOW_SAMPLES];
        let mut ys = [0.0f32; MAX_NOISE_WINDOW_SAMPLES];
        let mut n = 0;
        let last = (centre + self.half).min(self.count - 1);
        for i in centre.saturating_sub(self.half)..=last {
            let other = &self.ring[i % RING];
            if other.valid && other.run == sample.run {
                xs[n] = other.point[0];
                ys[n] = other.point[1];
                n += 1;
            }
        }
        let point = match self.kind {
            Kind::Median => [median(&mut xs[..n]), median(&mut ys[..n])],
            Kind::Mean | Kind::Off => [mean(&xs[..n]), mean(&ys[..n])],
        };
        Prepared { point, ..sample }
    }
}

fn median(values: &mut [f32]) -> f32 {
    values.sort_unstable_by(f32::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) * 0.5
    }
}

fn mean(values: &[f32]) -> f32 {
    values.iter().map(|v| f64::from(*v)).sum::<f64>() as f32 / values.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(i: i64, x: f32, run: u64) -> Prepared {
        Prepared {
            t_us: i * 1000,
            point: [x, 0.5],
            valid: !x.is_nan(),
            run,
        }
    }

    fn filter(options: NoiseReduction, input: &[Prepared]) -> Vec<f32> {
        let mut reducer = NoiseReducer::new(options);
        let mut out = Vec::new();
        for s in input {
            reducer.push(*s, |p| out.push(p.point[0]));
        }
        reducer.flush(|p| out.push(p.point[0]));
        out
    }

    #[test]
    fn a_median_of_three_removes_a_spike_and_keeps_runs_apart() {
        let input = [
            sample(0, 0.1, 1),
            sample(1, 0.9, 1), // spike
            sample(2, 0.1, 1),
            sample(3, 0.1, 1),
            sample(4, f32::NAN, 1),
            sample(5, 0.7, 2),
            sample(6, 0.8, 2),
        ];
        let out = filter(NoiseReduction::MovingMedian { window_samples: 3 }, &input);
        assert_eq!(out.len(), input.len());
        assert_eq!(out[1], 0.1);
        assert!(out[4].is_nan());
        assert!(
            (out[5] - 0.75).abs() < 1e-6,
            "only run 2 is used: {}",
            out[5]
        );
        let mean = filter(NoiseReduction::MovingAverage { window_samples: 3 }, &input);
        assert!((mean[2] - (0.9 + 0.1 + 0.1) / 3.0).abs() < 1e-6);
        let off = filter(NoiseReduction::None, &input);
        assert_eq!(off[1], 0.9);
    }
}
