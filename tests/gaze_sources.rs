#![allow(clippy::unwrap_used)]
//! The mouse and simulated gaze sources on their own threads, and the software
//! calibration measured through them. Timing is checked with slack, never for speed.

use std::time::{Duration, Instant};

use scanscribe::gaze::clock::system_time_us;
use scanscribe::gaze::quality::validate_calibration;
use scanscribe::gaze::{
    GazeSample, GazeSource, MouseSource, Notification, PointerFeed, ReplaySpeed, SimulatedSource,
};
use scanscribe::study::{CalibrationPlan, ScreenGeometry};

fn drain(source: &mut dyn GazeSource) -> Vec<GazeSample> {
    let mut out = Vec::new();
    source.drain_samples(&mut out);
    out
}

fn wait_until_finished(source: &SimulatedSource) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !source.is_finished() {
        assert!(Instant::now() < deadline, "the replay never finished");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn the_mouse_is_sampled_at_its_rate_with_the_pushed_positions() {
    let feed = PointerFeed::new();
    let mut source = MouseSource::new(feed.clone());
    assert_eq!(source.gaze_output_frequency_hz(), 120.0);
    feed.set_position_display([0.25, 0.75]);
    source.start().unwrap();
    std::thread::sleep(Duration::from_millis(250));
    feed.set_position_display([0.6, 0.4]);
    std::thread::sleep(Duration::from_millis(250));
    source.stop().unwrap();
    let samples = drain(&mut source);

    // ~60 samples in 0.5 s at 120 Hz; fewer if the machine stalls, never many more.
    assert!(
        (30..=66).contains(&samples.len()),
        "{} samples",
        samples.len()
    );
    assert!(
        samples
            .windows(2)
            .all(|w| w[0].system_time_us < w[1].system_time_us),
        "timestamps increase"
    );
    let points: Vec<[f32; 2]> = samples.iter().map(|s| s.left.point().unwrap()).collect();
    let switch = points.iter().position(|p| *p == [0.6, 0.4]).unwrap();
    assert!(switch > 0, "the first position was sampled first");
    assert!(points[..switch].iter().all(|p| *p == [0.25, 0.75]));
    assert!(points[switch..].iter().all(|p| *p == [0.6, 0.4]));
    assert!(samples.iter().all(|s| s.right.point() == s.left.point()));

    std::thread::sleep(Duration::from_millis(30));
    assert!(drain(&mut source).is_empty(), "nothing arrives after stop");
    assert_eq!(source.dropped_samples(), 0);
}

#[test]
fn a_pointer_outside_the_window_gives_lost_samples() {
    let feed = PointerFeed::new();
    let mut source = MouseSource::with_frequency_hz(feed.clone(), 250.0).unwrap();
    feed.set_outside();
    let before_us = system_time_us();
    source.start().unwrap();
    std::thread::sleep(Duration::from_millis(60));
    source.stop().unwrap();
    let samples = drain(&mut source);
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|s| s.average_point().is_none()));
    assert!(samples[0].system_time_us >= before_us, "on the live clock");
    let mut notes = Vec::new();
    source.drain_notifications(&mut notes);
    assert!(notes.iter().any(|n| matches!(
        n,
        Notification::GazeOutputFrequencyChanged { frequency_hz, .. } if *frequency_hz == 250.0
    )));
}

#[test]
fn the_software_calibration_measures_the_mouse_without_changing_it() {
    let screen = ScreenGeometry::default();
    let dx = (screen.viewing_distance_mm * 1f64.to_radians().tan() / screen.size_mm.0) as f32;
    let feed = PointerFeed::new();
    let mut source = MouseSource::new(feed.clone());
    source.software_calibration().set_dwell_ms(150);
    source.start().unwrap();
    let calibration = source.calibration().unwrap();
    calibration.enter().unwrap();
    feed.set_position_display([0.5 + dx, 0.5]); // 1° right of the target
    calibration.collect_data([0.5, 0.5]).unwrap();
    feed.set_position_display([0.1, 0.1]);
    calibration.collect_data([0.1, 0.1]).unwrap();
    calibration.discard_data([0.1, 0.1]).unwrap();
    let result = calibration.compute_and_apply().unwrap();
    calibration.leave().unwrap();
    source.stop().unwrap();

    assert!(result.success);
    assert_eq!(result.points.len(), 1, "the discarded point is gone");
    let report = validate_calibration(&screen, &CalibrationPlan::default(), &result);
    let accuracy = report.points[0].average.accuracy_deg.unwrap();
    assert!((accuracy - 1.0).abs() < 1e-4, "{accuracy}");
    // The data stream itself is untouched: the queued samples still read 1° off.
    let samples = drain(&mut source);
    assert!(
        samples
            .iter()
            .any(|s| s.left.point() == Some([0.5 + dx, 0.5]))
    );
    let mut notes = Vec::new();
    source.drain_notifications(&mut notes);
    assert!(matches!(
        notes[..],
        [
            Notification::CalibrationModeEntered { .. },
            Notification::CalibrationModeLeft { .. }
        ]
    ));
}

/// 500 samples at 120 Hz starting at 5 s, with a 3-sample device gap and some blinks.
fn recording() -> Vec<GazeSample> {
    (0..500i64)
        .map(|i| {
            let t = 5_000_000 + i * 8_333 + if i >= 100 { 3 * 8_333 } else { 0 };
            let mut s = if i % 50 < 3 {
                GazeSample::lost(t)
            } else {
                GazeSample::binocular(t, [i as f32 / 500.0, 0.5])
            };
            s.device_time_us = 77 + t;
            s
        })
        .collect()
}

fn assert_replayed(original: &[GazeSample], replayed: &[GazeSample], started_us: i64) {
    assert_eq!(replayed.len(), original.len());
    let offset = replayed[0].system_time_us - original[0].system_time_us;
    assert!(
        replayed[0].system_time_us >= started_us,
        "re-stamped onto the live clock"
    );
    for (a, b) in original.iter().zip(replayed) {
        assert_eq!(
            b.system_time_us - a.system_time_us,
            offset,
            "relative timing kept"
        );
        assert_eq!(b.device_time_us, a.device_time_us, "device clock untouched");
        assert_eq!(
            format!("{:?}", (a.left, a.right)),
            format!("{:?}", (b.left, b.right))
        );
    }
}

#[test]
fn a_fast_replay_keeps_order_and_timing_and_finishes() {
    let original = recording();
    for speed in [ReplaySpeed::AsFastAsPossible, ReplaySpeed::Factor(40.0)] {
        let mut source = SimulatedSource::new(original.clone(), speed).unwrap();
        assert!(!source.is_finished());
        let started_us = system_time_us();
        source.start().unwrap();
        wait_until_finished(&source);
        assert_eq!(source.delivered_count(), 500);
        assert_replayed(&original, &drain(&mut source), started_us);
        assert_eq!(source.dropped_samples(), 0, "{speed:?}");

        // Starting again replays from the beginning on the new live time.
        let restarted_us = system_time_us();
        source.start().unwrap();
        wait_until_finished(&source);
        assert_replayed(&original, &drain(&mut source), restarted_us);
    }
}

#[test]
fn a_real_time_replay_takes_the_recording_s_own_time() {
    // 19 samples at 120 Hz span 150 ms.
    let original: Vec<_> = (0..19)
        .map(|i| GazeSample::binocular(i * 8_333, [0.5, 0.5]))
        .collect();
    let mut source = SimulatedSource::new(original.clone(), ReplaySpeed::RealTime).unwrap();
    let started = Instant::now();
    let started_us = system_time_us();
    source.start().unwrap();
    wait_until_finished(&source);
    assert!(
        started.elapsed() >= Duration::from_millis(145),
        "{:?}",
        started.elapsed()
    );
    let replayed = drain(&mut source);
    assert_replayed(&original, &replayed, started_us);
    assert!(replayed.last().unwrap().system_time_us <= system_time_us());
}

#[test]
fn stopping_a_replay_halts_it_unfinished() {
    let long: Vec<_> = (0..1200)
        .map(|i| GazeSample::binocular(i * 8_333, [0.5, 0.5]))
        .collect();
    let mut source = SimulatedSource::new(long, ReplaySpeed::RealTime).unwrap();
    source.start().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    source.stop().unwrap();
    assert!(!source.is_finished());
    let delivered = source.delivered_count();
    assert!(delivered > 0 && delivered < 1200, "{delivered}");
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(drain(&mut source).len(), delivered);
}

#[test]
fn a_gaze_csv_replays_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("subject.csv");
    let original = recording();
    scanscribe::gaze::csv::write_samples(&path, &original).unwrap();
    let mut source = SimulatedSource::from_csv(&path, ReplaySpeed::AsFastAsPossible).unwrap();
    assert!(source.info().address.contains("subject.csv"));
    assert!((source.gaze_output_frequency_hz() - 120.0).abs() < 0.1);
    source.start().unwrap();
    wait_until_finished(&source);
    assert_eq!(drain(&mut source).len(), original.len());

    let missing = dir.path().join("nobody.csv");
    let error = SimulatedSource::from_csv(&missing, ReplaySpeed::RealTime).unwrap_err();
    assert!(error.to_string().contains("nobody.csv"), "{error}");
}

#[test]
fn an_empty_replay_finishes_at_once() {
    let mut source = SimulatedSource::new(Vec::new(), ReplaySpeed::RealTime).unwrap();
    source.start().unwrap();
    wait_until_finished(&source);
    assert!(drain(&mut source).is_empty());
    assert_eq!(source.gaze_output_frequency_hz(), 0.0);
}
