//! A simple synthetic gaze stream with known fixation onsets, for the fixation tests
//! and benches: fixations with white noise and slow drift, joined by saccades with a
//! minimum-jerk profile whose duration follows the main sequence (21 ms + 2.2 ms/°).
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use scanscribe::gaze::{EyeSample, GazeSample};
use scanscribe::study::ScreenGeometry;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthOptions {
    pub rate_hz: f64,
    pub duration_s: f64,
    /// Noise of each sample, degrees (standard deviation per axis).
    pub noise_deg: f64,
    /// Fixation durations are uniform in this range, ms.
    pub fixation_ms: (f64, f64),
    /// Saccade amplitudes are uniform in this range, degrees.
    pub amplitude_deg: (f64, f64),
    /// Chance that a sample is lost (one eye or both), and of a blink per fixation.
    pub loss_probability: f64,
    pub blink_probability: f64,
    pub seed: u64,
}

impl SynthOptions {
    pub fn clean(rate_hz: f64, duration_s: f64, seed: u64) -> Self {
        Self {
            rate_hz,
            duration_s,
            noise_deg: 0.04,
            fixation_ms: (150.0, 450.0),
            amplitude_deg: (2.0, 12.0),
            loss_probability: 0.0,
            blink_probability: 0.0,
            seed,
        }
    }
}

/// A generated stream and its truth.
#[derive(Debug, Clone)]
pub struct Synth {
    pub samples: Vec<GazeSample>,
    /// Start and end of every true fixation (its onset is the end of the saccade, or
    /// of a blink that split it).
    pub fixations_us: Vec<(i64, i64)>,
}

/// Minimum-jerk position along a movement, `s` in `[0, 1]`.
fn minimum_jerk(s: f64) -> f64 {
    s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)
}

pub fn generate(screen: &ScreenGeometry, options: &SynthOptions) -> Synth {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let noise = Normal::new(0.0, options.noise_deg).unwrap();
    let [deg_x, deg_y] = screen.normalized_from_degrees(1.0);
    let interval_s = 1.0 / options.rate_hz;
    let end_s = options.duration_s;

    // The plan: (start_s, end_s, from, to) of each movement; fixations between.
    let mut segments = Vec::new(); // (fix_start, fix_end, position, drift)
    let mut saccades = Vec::new(); // (start, end, from, to)
    let mut t = 0.0;
    let mut position = [0.5, 0.5];
    while t < end_s {
        let duration = rng.gen_range(options.fixation_ms.0..options.fixation_ms.1) / 1000.0;
        let drift = [
            rng.gen_range(-0.3..0.3) * deg_x,
            rng.gen_range(-0.3..0.3) * deg_y,
        ];
        segments.push((t, t + duration, position, drift));
        t += duration;
        let start_position = [
            position[0] + drift[0] * duration,
            position[1] + drift[1] * duration,
        ];
        let (target, amplitude) = loop {
            let amplitude = rng.gen_range(options.amplitude_deg.0..options.amplitude_deg.1);
            let angle = rng.gen_range(0.0..std::f64::consts::TAU);
            let target = [
                start_position[0] + amplitude * angle.cos() * deg_x,
                start_position[1] + amplitude * angle.sin() * deg_y,
            ];
            if (0.1..0.9).contains(&target[0]) && (0.1..0.9).contains(&target[1]) {
                break (target, amplitude);
            }
        };
        let saccade_s = (21.0 + 2.2 * amplitude) / 1000.0;
        saccades.push((t, t + saccade_s, start_position, target));
        t += saccade_s;
        position = target;
    }

    // Blinks in the middle of fixations long enough to leave two fixations of 90 ms.
    let mut blinks = Vec::new();
    let mut truth = Vec::new();
    for &(start, end, _, _) in &segments {
        let blink_s = rng.gen_range(0.08..0.12);
        if rng.gen_bool(options.blink_probability) && end - start > blink_s + 0.18 {
            let blink_start = (start + end - blink_s) / 2.0;
            blinks.push((blink_start, blink_start + blink_s));
            truth.push((start, blink_start));
            truth.push((blink_start + blink_s, end));
        } else {
            truth.push((start, end));
        }
    }

    let count = (end_s * options.rate_hz) as usize;
    let mut samples = Vec::with_capacity(count);
    let (mut fixation, mut saccade) = (0, 0);
    for k in 0..count {
        let t = k as f64 * interval_s;
        let t_us = (t * 1e6).round() as i64;
        while fixation + 1 < segments.len() && segments[fixation].1 <= t {
            fixation += 1;
        }
        while saccade + 1 < saccades.len() && saccades[saccade].1 <= t {
            saccade += 1;
        }
        let (start, end, from, drift) = segments[fixation];
        let mut point = if t >= start && t < end {
            let dt = t - start;
            [from[0] + drift[0] * dt, from[1] + drift[1] * dt]
        } else {
            let (s0, s1, a, b) = saccades[saccade];
            let s = minimum_jerk(((t - s0) / (s1 - s0)).clamp(0.0, 1.0));
            [a[0] + s * (b[0] - a[0]), a[1] + s * (b[1] - a[1])]
        };
        point[0] += noise.sample(&mut rng) * deg_x;
        point[1] += noise.sample(&mut rng) * deg_y;
        let mut sample = GazeSample::binocular(t_us, [point[0] as f32, point[1] as f32]);
        if blinks.iter().any(|&(b0, b1)| t >= b0 && t < b1) {
            sample.left = EyeSample::INVALID;
            sample.right = EyeSample::INVALID;
        } else if rng.gen_bool(options.loss_probability) {
            match rng.gen_range(0..3) {
                0 => sample.left = EyeSample::INVALID,
                1 => sample.right.gaze_point_display = [f32::NAN, f32::NAN],
                _ => {
                    sample.left = EyeSample::INVALID;
                    sample.right = EyeSample::INVALID;
                }
            }
        }
        samples.push(sample);
    }
    let last_us = samples.last().map_or(0, |s| s.system_time_us);
    let fixations_us = truth
        .iter()
        .map(|&(s, e)| ((s * 1e6).round() as i64, (e * 1e6).round() as i64))
        .filter(|&(s, _)| s <= last_us)
        .collect();
    Synth {
        samples,
        fixations_us,
    }
}

/// Precision and recall of detected onsets against true onsets, one-to-one matches
/// within `tolerance_us`.
pub fn onset_scores(detected_us: &[i64], truth_us: &[i64], tolerance_us: i64) -> (f64, f64) {
    let mut used = vec![false; truth_us.len()];
    let mut matched = 0usize;
    for &d in detected_us {
        let best = truth_us
            .iter()
            .enumerate()
            .filter(|&(i, &t)| !used[i] && (d - t).abs() <= tolerance_us)
            .min_by_key(|&(_, &t)| (d - t).abs());
        if let Some((i, _)) = best {
            used[i] = true;
            matched += 1;
        }
    }
    (
        matched as f64 / detected_us.len().max(1) as f64,
        matched as f64 / truth_us.len().max(1) as f64,
    )
}
