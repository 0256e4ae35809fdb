//! Hand-made recordings with known answers: exact onsets of a clean
//! fixation–saccade–fixation sequence, gaps under and over 75 ms, blinks, NaN and
//! garbage samples, short fixations, merging, bad timestamps, empty recordings, eye
//! selection and pixel mode.
#![allow(clippy::unwrap_used)]

use scanscribe::fixation::{
    EyeSelection, Fixation, FixationError, IdtOptions, IvtOptions, Method, NoiseReduction,
    OnlineDetector, Space, detect_fixations,
};
use scanscribe::gaze::{EyeSample, GazeSample};
use scanscribe::study::ScreenGeometry;

fn t_us(rate_hz: f64, k: usize) -> i64 {
    (k as f64 * 1e6 / rate_hz).round() as i64
}

fn at(rate_hz: f64, k: usize, point: [f32; 2]) -> GazeSample {
    GazeSample::binocular(t_us(rate_hz, k), point)
}

fn visual() -> Space {
    Space::Visual(ScreenGeometry::default())
}

fn ivt_with(samples: &[GazeSample], options: IvtOptions) -> Vec<Fixation> {
    detect_fixations(samples, &Method::Ivt(options), visual()).unwrap()
}

fn ivt(samples: &[GazeSample]) -> Vec<Fixation> {
    ivt_with(samples, IvtOptions::default())
}

fn idt(samples: &[GazeSample]) -> Vec<Fixation> {
    detect_fixations(samples, &Method::Idt(IdtOptions::default()), visual()).unwrap()
}

fn spans(fixations: &[Fixation]) -> Vec<(i64, i64)> {
    fixations.iter().map(|f| (f.start_us, f.end_us)).collect()
}

const P1: [f32; 2] = [0.4, 0.5];
const P2: [f32; 2] = [0.6, 0.5];

/// 300 Hz: P1 for samples 0..90, a saccade of four samples (each 1/5 of the way, about
/// 1.9°), P2 for samples 94..184.
fn fixation_saccade_fixation() -> Vec<GazeSample> {
    (0..184)
        .map(|k| {
            let s = match k {
                0..90 => 0.0,
                90..94 => (k - 89) as f32 / 5.0,
                _ => 1.0,
            };
            at(300.0, k, [P1[0] + s * (P2[0] - P1[0]), 0.5])
        })
        .collect()
}

#[test]
fn a_clean_fixation_saccade_fixation_has_exact_onsets() {
    let samples = fixation_saccade_fixation();
    // I-VT, 20 ms = 3 samples either side at 300 Hz: a sample is a fixation sample when
    // its whole window is still.
    let fixations = ivt(&samples);
    assert_eq!(
        spans(&fixations),
        [
            (t_us(300.0, 3), t_us(300.0, 86)),
            (t_us(300.0, 97), t_us(300.0, 180))
        ]
    );
    assert_eq!(fixations[0].position_display, P1);
    assert_eq!(fixations[1].position_display, P2);
    assert_eq!(fixations[0].sample_count, 84);
    // I-DT: every sample of each still period, none of the saccade.
    let fixations = idt(&samples);
    assert_eq!(
        spans(&fixations),
        [
            (t_us(300.0, 0), t_us(300.0, 89)),
            (t_us(300.0, 94), t_us(300.0, 183))
        ]
    );
    // A median filter keeps steps and ramps: the same fixations.
    let mut options = IvtOptions::default();
    options.preprocessing.noise_reduction = NoiseReduction::MovingMedian { window_samples: 3 };
    assert_eq!(ivt_with(&samples, options), ivt(&samples));
}

/// 300 Hz, 600 ms at P1 with both eyes lost in `lost`.
fn fixation_with_loss(lost: std::ops::Range<usize>) -> Vec<GazeSample> {
    (0..180)
        .map(|k| {
            if lost.contains(&k) {
                GazeSample::lost(t_us(300.0, k))
            } else {
                at(300.0, k, P1)
            }
        })
        .collect()
}

#[test]
fn gaps_up_to_75_ms_are_filled_longer_ones_split_the_fixation() {
    // 60 ms from the last valid sample (59) to the next (77): filled.
    let fixations = ivt(&fixation_with_loss(60..77));
    assert_eq!(spans(&fixations), [(t_us(300.0, 3), t_us(300.0, 176))]);
    assert_eq!(fixations[0].sample_count, 174, "filled samples count");
    // 100 ms (59 to 89): not filled; 120 ms between the parts: not merged.
    let fixations = ivt(&fixation_with_loss(60..89));
    assert_eq!(
        spans(&fixations),
        [
            (t_us(300.0, 3), t_us(300.0, 56)),
            (t_us(300.0, 92), t_us(300.0, 176))
        ]
    );
    // Exactly 75 ms is filled, 80 ms is not (200 Hz, 5 ms a sample).
    let at_200 = |lost: std::ops::Range<usize>| -> Vec<GazeSample> {
        (0..120)
            .map(|k| {
                if lost.contains(&k) {
                    GazeSample::lost(t_us(200.0, k))
                } else {
                    at(200.0, k, P1)
                }
            })
            .collect()
    };
    assert_eq!(ivt(&at_200(41..55)).len(), 1);
    assert_eq!(ivt(&at_200(41..56)).len(), 2);
    // I-DT uses the same gap fill-in.
    assert_eq!(idt(&fixation_with_loss(60..77)).len(), 1);
    assert_eq!(idt(&fixation_with_loss(60..89)).len(), 2);
}

#[test]
fn a_blink_splits_the_fixation_and_its_eyelid_artefact_stays_out() {
    // 300 Hz: P1, then the eyelid pulls the gaze down for 3 samples, 150 ms lost, P1.
    let samples: Vec<GazeSample> = (0..240)
        .map(|k| match k {
            90..93 => at(300.0, k, [P1[0], P1[1] + 0.03 * (k - 89) as f32]),
            93..138 => GazeSample::lost(t_us(300.0, k)),
            _ => at(300.0, k, P1),
        })
        .collect();
    let fixations = ivt(&samples);
    assert_eq!(fixations.len(), 2);
    for f in &fixations {
        assert!(f.bbox_display[3] < P1[1] + 0.001, "{f:?}");
    }
    assert!(fixations[0].end_us < t_us(300.0, 90));
    assert!(fixations[1].start_us > t_us(300.0, 138));

    // One eye closed for 200 ms: the other carries the fixation through.
    let wink: Vec<GazeSample> = (0..240)
        .map(|k| {
            let mut s = at(300.0, k, P1);
            s.right.gaze_point_display = [P1[0] + 0.002, P1[1]];
            if (60..120).contains(&k) {
                s.left = EyeSample::INVALID;
            }
            s
        })
        .collect();
    assert_eq!(ivt(&wink).len(), 1);
}

#[test]
fn nan_and_garbage_samples_are_gaps_never_panics() {
    let samples: Vec<GazeSample> = (0..300)
        .map(|k| {
            let mut s = at(300.0, k, P1);
            match k % 25 {
                0 => s.left.gaze_point_display = [f32::NAN, 0.5], // flagged valid, but NaN
                7 => s.right.gaze_point_display = [1e30, -1e30],
                13 => s = GazeSample::binocular(s.system_time_us, [f32::INFINITY, 0.5]),
                _ => {}
            }
            s
        })
        .collect();
    let fixations = ivt(&samples);
    assert_eq!(fixations.len(), 1);
    assert_eq!(fixations[0].position_display, P1, "no garbage in the mean");
    // Without fill-in the samples where neither eye is usable (every 25th) split the
    // fixation into 53 ms pieces; merging joins them again, else they are too short.
    let mut options = IvtOptions::default();
    options.preprocessing.gap_fill = false;
    assert_eq!(ivt_with(&samples, options).len(), 1);
    options.merge = false;
    assert!(ivt_with(&samples, options).is_empty());
    options.discard_short = false;
    assert!(ivt_with(&samples, options).len() > 10);
    assert_eq!(idt(&samples).len(), 1);

    let all_nan: Vec<GazeSample> = (0..300)
        .map(|k| at(300.0, k, [f32::NAN, f32::NAN]))
        .collect();
    assert!(ivt(&all_nan).is_empty());
    assert!(idt(&all_nan).is_empty());
}

/// 300 Hz: P1 (100 samples), a jump, a 22-sample hold at P2, a jump, P1 again.
fn with_short_hold() -> Vec<GazeSample> {
    (0..250)
        .map(|k| at(300.0, k, if (100..122).contains(&k) { P2 } else { P1 }))
        .collect()
}

#[test]
fn short_fixations_are_discarded() {
    let samples = with_short_hold();
    // The hold's fixation runs from sample 103 to 118: 50 ms, under 60 ms.
    assert_eq!(ivt(&samples).len(), 2);
    let options = IvtOptions {
        min_fixation_ms: 40.0,
        ..IvtOptions::default()
    };
    let fixations = ivt_with(&samples, options);
    assert_eq!(fixations.len(), 3);
    assert_eq!(spans(&fixations)[1], (t_us(300.0, 103), t_us(300.0, 118)));
    let options = IvtOptions {
        discard_short: false,
        ..IvtOptions::default()
    };
    assert_eq!(ivt_with(&samples, options).len(), 3);
}

/// 1200 Hz: 400 ms at P1 with a two-sample tracking glitch 3° away in the middle, then
/// `after` for 300 ms.
fn with_glitch(after: [f32; 2]) -> Vec<GazeSample> {
    (0..840)
        .map(|k| match k {
            240..242 => at(1200.0, k, [P1[0] + 0.06, P1[1]]),
            480.. => at(1200.0, k, after),
            _ => at(1200.0, k, P1),
        })
        .collect()
}

#[test]
fn close_fixations_split_by_a_glitch_are_merged() {
    let samples = with_glitch(P1);
    let merged = ivt(&samples);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0].start_us, t_us(1200.0, 12));
    assert_eq!(merged[0].end_us, t_us(1200.0, 827));
    let options = IvtOptions {
        merge: false,
        ..IvtOptions::default()
    };
    // Without merging: the two long parts (the 18 ms piece around the glitch is too short).
    assert_eq!(ivt_with(&samples, options).len(), 2);
    // 1° away after the glitch: too far to merge with what came before.
    let one_degree = ScreenGeometry::default().normalized_from_degrees(1.0)[0] as f32;
    let far = ivt(&with_glitch([P1[0] + one_degree, P1[1]]));
    assert_eq!(far.len(), 2);
}

#[test]
fn timestamps_that_do_not_increase_are_named_errors() {
    let mut samples = fixation_saccade_fixation();
    samples[50].system_time_us = samples[49].system_time_us;
    let error =
        detect_fixations(&samples, &Method::Ivt(IvtOptions::default()), visual()).unwrap_err();
    assert_eq!(
        error,
        FixationError::TimeNotIncreasing {
            index: 50,
            previous_us: t_us(300.0, 49),
            time_us: t_us(300.0, 49)
        }
    );
    let message = error.to_string();
    assert!(
        message.contains("sample 50") && message.contains("163333"),
        "{message}"
    );
    samples[50].system_time_us = 5;
    assert!(detect_fixations(&samples, &Method::Idt(IdtOptions::default()), visual()).is_err());

    // Online, the bad sample is rejected and the detector goes on as if it never came.
    let mut detector = OnlineDetector::new(&Method::Ivt(IvtOptions::default()), visual()).unwrap();
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if detector.push(s, &mut out).is_err() {
            rejected.push(i);
        }
    }
    detector.finish(&mut out);
    assert_eq!(rejected, [50]);
    samples.remove(50);
    assert_eq!(out, ivt(&samples));
}

#[test]
fn empty_and_too_short_recordings_give_no_fixations() {
    for method in [Method::ivt_for(&visual()), Method::idt_for(&visual())] {
        assert!(detect_fixations(&[], &method, visual()).unwrap().is_empty());
        let one = [at(300.0, 0, P1)];
        assert!(
            detect_fixations(&one, &method, visual())
                .unwrap()
                .is_empty()
        );
        let short: Vec<GazeSample> = (0..10).map(|k| at(300.0, k, P1)).collect();
        assert!(
            detect_fixations(&short, &method, visual())
                .unwrap()
                .is_empty()
        );
    }
}

#[test]
fn eye_selection_picks_the_eye() {
    let samples: Vec<GazeSample> = (0..150)
        .map(|k| {
            let mut s = at(300.0, k, P1);
            s.right.gaze_point_display = [P1[0] + 0.01, P1[1]];
            s
        })
        .collect();
    let x_with = |eye| {
        let mut options = IvtOptions::default();
        options.preprocessing.eye = eye;
        ivt_with(&samples, options)[0].position_display[0]
    };
    assert_eq!(x_with(EyeSelection::Left), P1[0]);
    assert_eq!(x_with(EyeSelection::Right), P1[0] + 0.01);
    assert!((x_with(EyeSelection::Average) - (P1[0] + 0.005)).abs() < 1e-6);
}

#[test]
fn pixel_mode_finds_the_rests_of_a_mouse_trace() {
    // 60 Hz: rest at (400, 300) px for 500 ms, glide to (1400, 800) px in 200 ms, rest.
    let (w, h) = (1920.0f32, 1080.0f32);
    let samples: Vec<GazeSample> = (0..72)
        .map(|k| {
            let s = ((k as f32 - 30.0) / 12.0).clamp(0.0, 1.0);
            let x = 400.0 + s * 1000.0;
            let y = 300.0 + s * 500.0;
            at(60.0, k, [x / w, y / h])
        })
        .collect();
    let space = Space::Pixels {
        resolution_px: (1920, 1080),
    };
    for method in [Method::ivt_for(&space), Method::idt_for(&space)] {
        let fixations = detect_fixations(&samples, &method, space).unwrap();
        assert_eq!(fixations.len(), 2, "{method:?}: {fixations:?}");
        let px = |f: &Fixation| (f.position_display[0] * w, f.position_display[1] * h);
        let (x0, y0) = px(&fixations[0]);
        let (x1, y1) = px(&fixations[1]);
        assert!((x0 - 400.0).abs() < 0.5 && (y0 - 300.0).abs() < 0.5);
        assert!((x1 - 1400.0).abs() < 0.5 && (y1 - 800.0).abs() < 0.5);
    }
}

#[test]
fn extreme_timestamps_never_overflow() {
    // A recording whose clock starts at -2^63 and jumps to ordinary times (a damaged
    // or hostile CSV): increasing, so accepted, and both methods finish without an
    // arithmetic overflow; the fixations after the jump are found as usual.
    for first in [i64::MIN, i64::MIN + 1, -1_000_000_000_000_000] {
        let mut samples = fixation_saccade_fixation();
        samples.insert(0, GazeSample::binocular(first, P1));
        let fixations = ivt(&samples);
        assert_eq!(fixations.len(), 2, "{first}: {:?}", spans(&fixations));
        let fixations = idt(&samples);
        assert!(!fixations.is_empty(), "{first}");
        assert!(
            fixations
                .iter()
                .all(|f| f.duration_ms().is_finite() && f.duration_ms() >= 0.0)
        );
    }
    // And the other end of the clock.
    let mut samples = fixation_saccade_fixation();
    samples.push(GazeSample::binocular(i64::MAX, P2));
    assert!(!ivt(&samples).is_empty());
    assert!(!idt(&samples).is_empty());
}
