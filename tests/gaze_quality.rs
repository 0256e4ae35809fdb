#![allow(clippy::unwrap_used)]
//! Calibration/validation maths and the recording data-quality report, on hand-worked
//! cases from the screen geometry.

use scanscribe::gaze::GazeSample;
use scanscribe::gaze::quality::{
    PointProblem, TargetGaze, eye_quality, recording_quality, validate, validate_calibration,
};
use scanscribe::gaze::software_calibration::point_result_from_samples;
use scanscribe::gaze::source::CalibrationResult;
use scanscribe::study::{CalibrationPlan, ScreenGeometry};

const PERIOD_US: i64 = 8_333;

fn screen() -> ScreenGeometry {
    ScreenGeometry::default()
}

/// The display-normalized horizontal distance from the screen centre that is exactly
/// `degrees` away from the centre along the line of sight.
fn dx_from_centre(degrees: f64) -> f64 {
    let s = screen();
    s.viewing_distance_mm * degrees.to_radians().tan() / s.size_mm.0
}

fn samples_at(points: &[[f32; 2]]) -> Vec<GazeSample> {
    points
        .iter()
        .enumerate()
        .map(|(i, &p)| GazeSample::binocular(i as i64 * PERIOD_US, p))
        .collect()
}

fn wide(p: [f32; 2]) -> [f64; 2] {
    [f64::from(p[0]), f64::from(p[1])]
}

#[test]
fn a_gaze_exactly_one_degree_off_target_has_an_accuracy_of_one_degree() {
    // Gaze at the centre (exact in f32); target 1° to its right, computed in f64.
    let target = [0.5 + dx_from_centre(1.0), 0.5];
    let samples = samples_at(&[[0.5, 0.5]; 30]);
    let report = validate(
        &screen(),
        &CalibrationPlan::default(),
        &[TargetGaze {
            target_display: target,
            samples: &samples,
        }],
    );
    let point = &report.points[0];
    for eye in [point.left, point.right, point.average] {
        assert!((eye.accuracy_deg.unwrap() - 1.0).abs() < 1e-6, "{eye:?}");
        assert_eq!(eye.precision_rms_deg, Some(0.0), "a still gaze is precise");
        assert_eq!(eye.precision_sd_deg, Some(0.0));
        assert_eq!(eye.valid_sample_count, 30);
    }
    assert!((report.mean_average.accuracy_deg.unwrap() - 1.0).abs() < 1e-6);
    // The default plan allows at most 1.0°: exactly 1° (± rounding) is on the edge,
    // so judge a stricter plan to see the point fail.
    let strict = CalibrationPlan {
        max_accuracy_deg: 0.9,
        ..CalibrationPlan::default()
    };
    let report = validate(
        &screen(),
        &strict,
        &[TargetGaze {
            target_display: target,
            samples: &samples,
        }],
    );
    assert_eq!(report.points_to_redo, [0]);
    assert!(matches!(
        report.points[0].problems[..],
        [PointProblem::Inaccurate { .. }]
    ));
}

#[test]
fn alternating_gaze_has_a_known_rms_and_sd() {
    // Gaze alternates between two points symmetric about the centre, the target.
    let (a, b) = ([0.49_f32, 0.5], [0.51_f32, 0.5]);
    let samples = samples_at(&[a, b, a, b, a, b, a, b]);
    let s = screen();
    let quality = eye_quality(
        &s,
        [0.5, 0.5],
        &samples
            .iter()
            .map(|x| wide(x.left.point().unwrap()))
            .collect::<Vec<_>>(),
    );
    let step = s.angle_between_deg(wide(a), wide(b));
    let half = s.angle_between_deg(wide(a), [0.5, 0.5]);
    assert!((quality.precision_rms_deg.unwrap() - step).abs() < 1e-9);
    assert!((quality.precision_sd_deg.unwrap() - half).abs() < 1e-9);
    assert!((quality.accuracy_deg.unwrap() - half).abs() < 1e-9);
    assert!(
        (step - 2.0 * half).abs() < 1e-9,
        "symmetric: SD is half the step"
    );

    // Unequal steps: RMS is the root of the mean of their squares.
    let points = [[0.5, 0.5], [0.52, 0.5], [0.52, 0.53]];
    let quality = eye_quality(&s, [0.5, 0.5], &points);
    let (d1, d2) = (
        s.angle_between_deg(points[0], points[1]),
        s.angle_between_deg(points[1], points[2]),
    );
    let expected = ((d1 * d1 + d2 * d2) / 2.0).sqrt();
    assert!((quality.precision_rms_deg.unwrap() - expected).abs() < 1e-9);
}

#[test]
fn points_beyond_the_limits_are_listed_for_redo() {
    let plan = CalibrationPlan::default(); // accuracy ≤ 1.0°, precision RMS ≤ 0.5°
    let on_target = samples_at(&[[0.3, 0.3]; 20]);
    let off = (0.5 + dx_from_centre(1.5)) as f32; // 1.5° from the centre target
    let far = samples_at(&[[off, 0.5]; 20]);
    let dx = dx_from_centre(0.4) as f32; // 0.8° steps: imprecise, but on average on target
    let jumpy = samples_at(&[[0.7 - dx, 0.7], [0.7 + dx, 0.7]].repeat(10));
    let report = validate(
        &screen(),
        &plan,
        &[
            TargetGaze {
                target_display: [0.3, 0.3],
                samples: &on_target,
            },
            TargetGaze {
                target_display: [0.5, 0.5],
                samples: &far,
            },
            TargetGaze {
                target_display: [0.7, 0.7],
                samples: &jumpy,
            },
        ],
    );
    assert_eq!(report.points_to_redo, [1, 2]);
    assert_eq!(report.targets_to_redo(), [[0.5, 0.5], [0.7, 0.7]]);
    assert!(!report.passed());
    assert!(report.points[0].passed());
    assert!(matches!(
        report.points[1].problems[..],
        [PointProblem::Inaccurate { accuracy_deg, .. }] if (accuracy_deg - 1.5).abs() < 1e-4
    ));
    assert!(matches!(
        report.points[2].problems[..],
        [PointProblem::Imprecise { .. }]
    ));
    let text = report.to_string();
    assert!(text.contains("1 of 3 points pass"), "{text}");
    assert!(text.contains("redo points: 2, 3"), "{text}");
    assert!(
        text.contains("accuracy 1.50° is worse than 1.00°"),
        "{text}"
    );
}

#[test]
fn each_eye_is_measured_apart_from_the_average() {
    // The left eye looks 1° left of the target, the right eye 1° right: each eye is
    // 1° off, their average is on target.
    let dx = dx_from_centre(1.0) as f32;
    let samples: Vec<GazeSample> = (0..10)
        .map(|i| {
            let mut s = GazeSample::binocular(i * PERIOD_US, [0.5 - dx, 0.5]);
            s.right.gaze_point_display = [0.5 + dx, 0.5];
            s
        })
        .collect();
    let report = validate(
        &screen(),
        &CalibrationPlan::default(),
        &[TargetGaze {
            target_display: [0.5, 0.5],
            samples: &samples,
        }],
    );
    let point = &report.points[0];
    assert!((point.left.accuracy_deg.unwrap() - 1.0).abs() < 1e-4);
    assert!((point.right.accuracy_deg.unwrap() - 1.0).abs() < 1e-4);
    assert!(point.average.accuracy_deg.unwrap() < 1e-4);
    assert!(point.passed(), "judged on the average of the eyes");
    assert!((report.mean_left.accuracy_deg.unwrap() - 1.0).abs() < 1e-4);
}

#[test]
fn a_calibration_result_is_measured_like_a_validation() {
    let dx = dx_from_centre(1.0) as f32;
    let mut samples = samples_at(&[[0.5 + dx, 0.5]; 12]);
    samples.push(GazeSample::lost(99 * PERIOD_US));
    let result = CalibrationResult {
        success: true,
        points: vec![point_result_from_samples([0.5, 0.5], &samples)],
    };
    let report = validate_calibration(&screen(), &CalibrationPlan::default(), &result);
    let point = &report.points[0];
    assert_eq!(point.sample_count, 13);
    assert_eq!(
        point.average.valid_sample_count, 12,
        "the lost sample is left out"
    );
    assert!((point.average.accuracy_deg.unwrap() - 1.0).abs() < 1e-4);
}

#[test]
fn nan_and_missing_data_never_panic_and_fail_the_point() {
    let mut nan_flagged_valid = GazeSample::binocular(0, [f32::NAN, 0.5]);
    nan_flagged_valid.right.gaze_point_display = [0.5, f32::INFINITY];
    let blind = vec![nan_flagged_valid, GazeSample::lost(PERIOD_US)];
    let single = samples_at(&[[0.5, 0.5]]);
    let fine = samples_at(&[[0.5, 0.5]; 5]);
    let report = validate(
        &screen(),
        &CalibrationPlan::default(),
        &[
            TargetGaze {
                target_display: [0.5, 0.5],
                samples: &blind,
            },
            TargetGaze {
                target_display: [0.5, 0.5],
                samples: &single,
            },
            TargetGaze {
                target_display: [f64::NAN, 0.5],
                samples: &fine,
            },
            TargetGaze {
                target_display: [0.5, 0.5],
                samples: &[],
            },
        ],
    );
    assert_eq!(report.points[0].problems, [PointProblem::NoValidGaze]);
    assert_eq!(report.points[0].average.accuracy_deg, None);
    assert!(matches!(
        report.points[1].problems[..],
        [PointProblem::TooFewSamples {
            valid_sample_count: 1
        }]
    ));
    assert_eq!(report.points[2].problems, [PointProblem::InvalidTarget]);
    assert_eq!(report.points[2].average.accuracy_deg, None);
    assert_eq!(report.points[3].problems, [PointProblem::NoValidGaze]);
    assert_eq!(report.points_to_redo, [0, 1, 2, 3]);
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("NaN"), "{json}");
    let empty = validate(&screen(), &CalibrationPlan::default(), &[]);
    assert!(!empty.passed(), "no points is no validation");
    assert!(empty.to_string().contains("0 of 0 points pass"));
}

#[test]
fn the_recording_report_counts_dropped_and_invalid_samples() {
    // 200 ticks at 120 Hz; ticks 10, 11, 12 and 150 never arrived: 4 dropped.
    let period_us = 1e6 / 120.0;
    let mut samples: Vec<GazeSample> = (0..200)
        .filter(|i| ![10, 11, 12, 150].contains(i))
        .map(|i| {
            let t = (f64::from(i) * period_us).round() as i64;
            GazeSample::binocular(1_000_000 + t, [0.5, 0.5])
        })
        .collect();
    assert_eq!(samples.len(), 196);
    // 8 samples with neither eye, 4 with only the right eye, 2 NaN flagged valid left.
    for s in &mut samples[20..28] {
        *s = GazeSample {
            left: scanscribe::gaze::EyeSample::INVALID,
            right: scanscribe::gaze::EyeSample::INVALID,
            ..*s
        };
    }
    for s in &mut samples[40..44] {
        s.left.gaze_point_valid = false;
    }
    for s in &mut samples[60..62] {
        s.left.gaze_point_display = [f32::NAN, f32::NAN];
    }

    for nominal in [Some(120.0), None] {
        let report = recording_quality(&samples, nominal);
        assert_eq!(report.sample_count, 196);
        assert_eq!(report.dropped_samples_estimate, 4, "{nominal:?}");
        assert!((report.nominal_frequency_hz.unwrap() - 120.0).abs() < 0.1);
        assert!((report.duration_ms - 199.0 * period_us / 1e3).abs() < 0.01);
        assert!((report.valid_any_share - 188.0 / 196.0).abs() < 1e-12);
        assert!((report.valid_left_share - 182.0 / 196.0).abs() < 1e-12);
        assert!((report.valid_right_share - 188.0 / 196.0).abs() < 1e-12);
        assert!((report.valid_both_share - 182.0 / 196.0).abs() < 1e-12);
        let mean_ms = report.interval_mean_ms.unwrap();
        assert!((mean_ms - 199.0 * period_us / 1e3 / 195.0).abs() < 1e-5);
        assert!(report.jitter_sd_ms.unwrap() < 0.001, "only rounding jitter");
        assert!(
            report.interval_sd_ms.unwrap() > 1.0,
            "the gaps widen the spread"
        );
        assert!((report.largest_gap_ms.unwrap() - 4.0 * period_us / 1e3).abs() < 0.01);
        assert_eq!(report.backward_steps, 0);
    }
    let text = recording_quality(&samples, Some(120.0)).to_string();
    assert!(text.contains("196 samples"), "{text}");
    assert!(text.contains("about 4 samples"), "{text}");
}

#[test]
fn empty_and_odd_recordings_give_a_report_not_a_panic() {
    let empty = recording_quality(&[], None);
    assert_eq!(empty.sample_count, 0);
    assert_eq!(empty.valid_any_share, 0.0);
    assert_eq!(empty.nominal_frequency_hz, None);
    assert_eq!(empty.interval_mean_ms, None);
    assert!(empty.to_string().contains("0 samples"));

    // A clock that steps back, a duplicate and a silly nominal rate.
    let mut samples = samples_at(&[[0.5, 0.5]; 5]);
    samples[3].device_time_us = 0;
    samples[4].device_time_us = 0;
    let report = recording_quality(&samples, Some(f64::NAN));
    assert_eq!(report.backward_steps, 2);
    assert!(report.nominal_frequency_hz.unwrap().is_finite());
    assert!(serde_json::to_string(&report).is_ok());
}
