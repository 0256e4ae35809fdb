//! The detectors recover the true fixation onsets of a synthetic stream (fixations
//! with noise and drift, main-sequence saccades) at 60, 300 and 1200 Hz: precision
//! and recall of onsets within 20 ms are at least 0.9.
//!
//! I-DT at 1200 Hz is the exception, and the test pins it: its window accepts the
//! last fraction of a degree of the saccade (with 100 ms of noise and drift still
//! under 1°), so long fixations then outgrow the threshold and split in two; recall
//! stays high, precision is lower. Use I-VT for high-rate data.
#![allow(clippy::unwrap_used)]

mod synth;

use scanscribe::fixation::{Method, Space, detect_fixations};
use scanscribe::study::ScreenGeometry;
use synth::{SynthOptions, generate, onset_scores};

const TOLERANCE_US: i64 = 20_000;

fn scores(method: &Method, options: &SynthOptions) -> (f64, f64, usize) {
    let screen = ScreenGeometry::default();
    let synth = generate(&screen, options);
    let fixations = detect_fixations(&synth.samples, method, Space::Visual(screen)).unwrap();
    let detected: Vec<i64> = fixations.iter().map(|f| f.start_us).collect();
    let truth: Vec<i64> = synth.fixations_us.iter().map(|f| f.0).collect();
    let (precision, recall) = onset_scores(&detected, &truth, TOLERANCE_US);
    (precision, recall, truth.len())
}

#[test]
fn ivt_recovers_onsets_at_60_300_and_1200_hz() {
    let space = Space::Visual(ScreenGeometry::default());
    for (rate, seed) in [(60.0, 1), (300.0, 2), (1200.0, 3)] {
        let options = SynthOptions::clean(rate, 60.0, seed);
        let (precision, recall, n) = scores(&Method::ivt_for(&space), &options);
        println!("I-VT {rate} Hz: precision {precision:.3}, recall {recall:.3} over {n} fixations");
        assert!(
            precision >= 0.9 && recall >= 0.9,
            "{rate} Hz: {precision} {recall}"
        );
    }
}

#[test]
fn idt_recovers_onsets_at_60_300_and_1200_hz() {
    let space = Space::Visual(ScreenGeometry::default());
    for (rate, seed, min_precision) in [(60.0, 4, 0.9), (300.0, 5, 0.9), (1200.0, 6, 0.8)] {
        let options = SynthOptions::clean(rate, 60.0, seed);
        let (precision, recall, n) = scores(&Method::idt_for(&space), &options);
        println!("I-DT {rate} Hz: precision {precision:.3}, recall {recall:.3} over {n} fixations");
        assert!(
            precision >= min_precision && recall >= 0.9,
            "{rate} Hz: {precision} {recall}"
        );
    }
}

#[test]
fn ivt_recovers_onsets_through_lost_samples_and_blinks() {
    let space = Space::Visual(ScreenGeometry::default());
    for (rate, seed) in [(60.0, 7), (300.0, 8), (1200.0, 9)] {
        let options = SynthOptions {
            loss_probability: 0.01,
            blink_probability: 0.1,
            ..SynthOptions::clean(rate, 60.0, seed)
        };
        let (precision, recall, n) = scores(&Method::ivt_for(&space), &options);
        println!("I-VT {rate} Hz with loss: precision {precision:.3}, recall {recall:.3} over {n}");
        // A blink splits a fixation in two: both parts are in the truth.
        assert!(
            precision >= 0.9 && recall >= 0.9,
            "{rate} Hz: {precision} {recall}"
        );
    }
}
