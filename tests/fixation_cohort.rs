//! The fixation filters on the simulated cohort's gaze (subjects with their own noise,
//! drift, calibration offsets, blinks and main-sequence saccades): I-VT with the Tobii
//! defaults recovers the ground-truth fixation onsets within 20 ms. The cohort's
//! noise (0.2–0.4° RMS sample to sample, a consumer-grade tracker's) needs the
//! filter's moving-median noise reduction at high rates; measured here (seed 11, 6
//! subjects × 4 scenes): 60 Hz 0.86 precision / 0.73 recall, 300 Hz 0.99 / 0.94,
//! 1200 Hz 1.00 / 0.95.
#![allow(clippy::unwrap_used)]

mod synth;

use scanscribe::cohort::{Cohort, CohortConfig};
use scanscribe::fixation::options::NoiseReduction;
use scanscribe::fixation::{Method, Space, detect_fixations};
use synth::onset_scores;

/// A moving median of about 7 ms (3 samples at 300 Hz, 9 at 1200 Hz; none at 60 Hz).
fn noise_reduction_for(rate_hz: f64) -> NoiseReduction {
    let window = ((rate_hz * 0.007).round() as usize) | 1;
    if window >= 3 {
        NoiseReduction::MovingMedian {
            window_samples: window,
        }
    } else {
        NoiseReduction::None
    }
}

const TOLERANCE_US: i64 = 20_000;

#[test]
fn ivt_recovers_the_cohorts_fixation_onsets_at_60_300_and_1200_hz() {
    let mut results = Vec::new();
    for rate_hz in [60.0, 300.0, 1200.0] {
        let cohort = Cohort::new(CohortConfig {
            seed: 11,
            subjects: 6,
            images: 4,
            held_out: 0,
            rate_hz,
            ..CohortConfig::default()
        })
        .unwrap();
        let space = Space::Visual(cohort.config.screen);
        let method = match Method::ivt_for(&space) {
            Method::Ivt(mut options) => {
                options.preprocessing.noise_reduction = noise_reduction_for(rate_hz);
                Method::Ivt(options)
            }
            other => other,
        };
        let (mut detected_total, mut truth_total) = (0, 0);
        let (mut precision_sum, mut recall_sum) = (0.0, 0.0);

        for subject in 0..cohort.subjects.len() {
            for scene in 0..cohort.scenes.len() {
                let trial = cohort.trial(subject, scene);
                let fixations = detect_fixations(&trial.stream.samples, &method, space).unwrap();
                let detected: Vec<i64> = fixations.iter().map(|f| f.start_us).collect();
                // The filter discards fixations under 60 ms by design; so does the truth here.
                let truth: Vec<i64> = trial
                    .stream
                    .fixations
                    .iter()
                    .filter(|f| f.duration_ms() >= 60.0)
                    .map(|f| f.start_us)
                    .collect();
                let (precision, recall) = onset_scores(&detected, &truth, TOLERANCE_US);

                precision_sum += precision * detected.len() as f64;
                recall_sum += recall * truth.len() as f64;
                detected_total += detected.len();
                truth_total += truth.len();
            }
        }
        let precision = precision_sum / detected_total as f64;
        let recall = recall_sum / truth_total as f64;
        println!(
            "cohort, I-VT at {rate_hz} Hz: precision {precision:.3}, recall {recall:.3} ({detected_total} detected, {truth_total} true)"
        );
        results.push((rate_hz, precision, recall));
    }
    for (rate_hz, precision, recall) in results {
        // At 60 Hz a 60–100 ms fixation has 4–6 samples; the 20 ms velocity window eats
        // its edges and the 60 ms minimum then discards it, so recall is lower there.
        let (min_precision, min_recall) = if rate_hz < 100.0 {
            (0.8, 0.7)
        } else {
            (0.9, 0.9)
        };
        assert!(
            precision >= min_precision && recall >= min_recall,
            "{rate_hz} Hz: precision {precision:.3}, recall {recall:.3}"
        );
    }
}
