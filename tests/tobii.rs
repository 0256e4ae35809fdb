#![allow(clippy::unwrap_used)]
//! The Tobii Pro SDK binding driven end to end through its real run-time loading code,
//! against `tests/tobii_double/fake_tobii_research.c` compiled here with the system C
//! compiler: discovery, device info, sustained 1200 Hz streaming, injected faults,
//! calibration, a refused SDK 1.x and an absent SDK.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use scanscribe::gaze::source::EyeCalibrationValidity;
use scanscribe::gaze::tobii::{
    LIBRARY_ENV, TobiiError, TobiiLibrary, TobiiTracker, TrackerOptions, discover,
};
use scanscribe::gaze::{GazeError, GazeSample, GazeSource, Notification, ScreenCalibration};

/// Compiles the double (once per variant and process) into the target's temp dir.
fn build_double(variant: &str, defines: &[&str]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tobii_double");
    std::fs::create_dir_all(&dir).unwrap();
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tobii_double/fake_tobii_research.c");
    let out = dir.join(format!("lib{variant}{}", std::env::consts::DLL_SUFFIX));
    let partial = dir.join(format!(".{variant}-{}.partial", std::process::id()));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let status = Command::new(compiler)
        .args(["-shared", "-fPIC", "-pthread", "-O2", "-Wall", "-o"])
        .arg(&partial)
        .arg(&source)
        .args(defines)
        .arg("-lm")
        .status()
        .unwrap();
    assert!(status.success(), "compiling {}", source.display());
    // A rename never changes a file another test process has mapped.
    std::fs::rename(&partial, &out).unwrap();
    out
}

fn double_v2() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| build_double("fake_tobii_v2", &[]))
}

fn library() -> TobiiLibrary {
    TobiiLibrary::load_from(double_v2()).unwrap()
}

fn open(address: &str, options: TrackerOptions) -> TobiiTracker {
    TobiiTracker::open(&library(), address, options).unwrap()
}

/// Drains `tracker` every 5 ms for `duration`.
fn collect_for(
    tracker: &mut TobiiTracker,
    duration: Duration,
) -> (Vec<GazeSample>, Vec<Notification>) {
    let (mut samples, mut notes) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < duration {
        std::thread::sleep(Duration::from_millis(5));
        tracker.drain_samples(&mut samples);
        tracker.drain_notifications(&mut notes);
    }
    (samples, notes)
}

/// Drains `tracker` every 5 ms until `done` holds, then `settle` longer; panics
/// after 20 s (a machine under load may start the fake's thread late).
fn collect_until(
    tracker: &mut TobiiTracker,
    settle: Duration,
    done: impl Fn(&[GazeSample], &[Notification]) -> bool,
) -> (Vec<GazeSample>, Vec<Notification>) {
    let (mut samples, mut notes) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while !done(&samples, &notes) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "gave up: {notes:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
        tracker.drain_samples(&mut samples);
        tracker.drain_notifications(&mut notes);
    }
    let (more_samples, more_notes) = collect_for(tracker, settle);
    samples.extend(more_samples);
    notes.extend(more_notes);
    (samples, notes)
}

fn has(notes: &[Notification], wanted: impl Fn(&Notification) -> bool) -> bool {
    notes.iter().any(wanted)
}

fn device_steps_us(samples: &[GazeSample]) -> Vec<i64> {
    samples
        .windows(2)
        .map(|w| w[1].device_time_us - w[0].device_time_us)
        .collect()
}

#[test]
fn discovery_finds_the_fake_tracker_with_its_info() {
    let library = library();
    assert!(library.version_string().starts_with("2."), "{library:?}");
    let found = library.find_all().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let info = &found[0];
    assert_eq!(info.address, "tobii-prp://FAKE-0001");
    assert_eq!(info.serial_number, "FAKE-0001");
    assert_eq!(info.model, "Tobii Pro Spectrum (fake)");
    assert_eq!(info.device_name, "scanscribe test double");
    assert_eq!(info.firmware_version, "2.6.1-fake");

    let tracker = open(&info.address, TrackerOptions::default());
    assert_eq!(tracker.info(), info);
    let caps = tracker.capabilities();
    assert_eq!(
        caps.gaze_output_frequencies_hz,
        [60.0, 120.0, 300.0, 600.0, 1200.0]
    );
    assert!(caps.can_set_gaze_output_frequency && caps.can_do_screen_based_calibration);
    assert!(caps.measures_eyes);
    assert_eq!(tracker.gaze_output_frequency_hz(), 1200.0);

    let sdk_now_us = library.system_time_stamp_us().unwrap();
    let ours_us = scanscribe::gaze::clock::system_time_us();
    assert!(
        (ours_us - sdk_now_us).abs() < 10_000,
        "the SDK stamps on our clock"
    );
}

#[test]
fn discovery_without_trackers_is_an_empty_list() {
    let path = build_double("fake_tobii_none", &["-DFAKE_TOBII_NO_TRACKERS"]);
    let found = TobiiLibrary::load_from(&path).unwrap().find_all().unwrap();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn streams_1200_hz_for_4_s_with_no_drop_and_monotonic_timestamps() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?test=sustained",
        TrackerOptions::default(),
    );
    tracker.start().unwrap();
    assert!(tracker.is_streaming());
    let (mut samples, notes) = collect_for(&mut tracker, Duration::from_secs(4));
    tracker.stop().unwrap();
    // Samples delivered between the last drain and the unsubscribe are still ours.
    tracker.drain_samples(&mut samples);

    assert!(
        samples.len() >= 4500,
        "about 4800 samples expected, got {}",
        samples.len()
    );
    assert_eq!(tracker.dropped_samples(), 0);
    assert!(notes.is_empty(), "{notes:?}");
    assert!(
        samples
            .windows(2)
            .all(|w| w[0].system_time_us < w[1].system_time_us)
    );
    let steps = device_steps_us(&samples);
    assert!(
        steps.iter().all(|&s| (833..=834).contains(&s)),
        "every 1200 Hz step is 833 or 834 us; no gap means no sample lost: {:?}",
        steps
            .iter()
            .filter(|&&s| !(833..=834).contains(&s))
            .take(5)
            .collect::<Vec<_>>()
    );
    let lag_us = scanscribe::gaze::clock::system_time_us() - samples.last().unwrap().system_time_us;
    assert!(
        (0..1_000_000).contains(&lag_us),
        "samples are on our clock: lag {lag_us} us"
    );

    // The scripted path: a circle of radius 0.3 around the centre, the right eye
    // 0.01 to the right of the left one, blinks (both eyes invalid) 5% of the time.
    let mut blinks = 0;
    for s in &samples {
        let Some([x, y]) = s.left.point() else {
            assert_eq!(s.average_point(), None);
            assert!(!s.left.pupil_valid && !s.right.gaze_origin_valid);
            blinks += 1;
            continue;
        };
        let radius = ((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt();
        assert!(
            (radius - 0.3).abs() < 1e-3,
            "left eye off the circle: ({x}, {y})"
        );
        let [rx, ry] = s.right.point().unwrap();
        assert!((rx - x - 0.01).abs() < 1e-4 && (ry - y).abs() < 1e-6);
        assert_eq!(
            (s.left.pupil_diameter_mm, s.right.pupil_diameter_mm),
            (3.0, 3.2)
        );
        assert_eq!(s.left.gaze_origin_mm, [-30.0, 0.0, 600.0]);
    }
    let blink_share = f64::from(blinks) / samples.len() as f64;
    assert!(
        (0.03..0.07).contains(&blink_share),
        "blink share {blink_share}"
    );

    std::thread::sleep(Duration::from_millis(30));
    let mut after = Vec::new();
    assert_eq!(
        tracker.drain_samples(&mut after),
        0,
        "nothing arrives after stop"
    );
}

#[test]
fn a_frequency_change_is_applied_and_notified() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?test=frequency",
        TrackerOptions::default(),
    );
    let error = tracker.set_gaze_output_frequency_hz(500.0).unwrap_err();
    assert!(
        matches!(&error, GazeError::Unsupported(m) if m.contains("600")),
        "{error}"
    );
    tracker.set_gaze_output_frequency_hz(600.0).unwrap();
    assert_eq!(tracker.gaze_output_frequency_hz(), 600.0);
    assert_eq!(tracker.read_gaze_output_frequency_hz().unwrap(), 600.0);
    tracker.start().unwrap();
    let (samples, notes) = collect_until(&mut tracker, Duration::ZERO, |samples, _| {
        samples.len() > 100
    });
    assert!(notes.iter().any(|n| matches!(
        n,
        Notification::GazeOutputFrequencyChanged { frequency_hz, .. } if *frequency_hz == 600.0
    )));
    assert!(
        device_steps_us(&samples)
            .iter()
            .all(|s| (1666..=1667).contains(s))
    );
}

#[test]
fn a_disconnect_mid_stream_surfaces_as_notifications_and_a_gap() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?disconnect_after_ms=300&restore_after_ms=250",
        TrackerOptions::default(),
    );
    tracker.start().unwrap();
    let (samples, notes) = collect_until(&mut tracker, Duration::from_millis(50), |_, notes| {
        has(notes, |n| {
            matches!(n, Notification::ConnectionRestored { .. })
        })
    });
    let lost = notes
        .iter()
        .position(|n| matches!(n, Notification::ConnectionLost { .. }));
    let restored = notes
        .iter()
        .position(|n| matches!(n, Notification::ConnectionRestored { .. }));
    assert!(lost.unwrap() < restored.unwrap(), "{notes:?}");
    assert!(notes.iter().any(|n| matches!(
        n,
        Notification::StreamError { message, .. }
            if message.contains("connection lost") && message.contains("unplugged")
    )));
    let longest_gap_us = device_steps_us(&samples).into_iter().max().unwrap();
    assert!(
        (200_000..400_000).contains(&longest_gap_us),
        "about 250 ms without samples, got {longest_gap_us} us"
    );
}

#[test]
fn a_delivery_burst_overflows_the_queue_and_every_lost_sample_is_counted() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?stall_after_ms=100&stall_ms=500",
        TrackerOptions { queue_capacity: 64 },
    );
    tracker.start().unwrap();
    // The overflow notification comes right before the backlog of the stall.
    let (samples, notes) = collect_until(&mut tracker, Duration::from_millis(200), |_, notes| {
        has(notes, is_sdk_overflow)
    });
    tracker.stop().unwrap();

    let dropped = tracker.dropped_samples();
    assert!(dropped > 0, "600 samples at once cannot fit 64 slots");
    let reported: u64 = notes
        .iter()
        .map(|n| match n {
            Notification::SamplesDropped { count, .. } => *count,
            _ => 0,
        })
        .sum();
    assert_eq!(reported, dropped, "every drop is reported, once");
    let span_us = samples.last().unwrap().device_time_us - samples[0].device_time_us;
    let emitted = (span_us as f64 * 1200.0 / 1e6).round() as u64 + 1;
    assert_eq!(
        samples.len() as u64 + dropped,
        emitted,
        "nothing lost silently"
    );
    assert!(has(&notes, is_sdk_overflow));
}

fn is_sdk_overflow(notification: &Notification) -> bool {
    matches!(notification, Notification::StreamError { message, .. }
        if message.contains("stream buffer overflowed"))
}

#[test]
fn a_display_area_change_is_notified() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?display_area_after_ms=50",
        TrackerOptions::default(),
    );
    tracker.start().unwrap();
    let (samples, notes) = collect_until(&mut tracker, Duration::ZERO, |_, notes| {
        has(notes, |n| {
            matches!(n, Notification::DisplayAreaChanged { .. })
        })
    });
    let at_us = notes.iter().find_map(|n| match n {
        Notification::DisplayAreaChanged { at_us } => Some(*at_us),
        _ => None,
    });
    let first_us = samples[0].system_time_us;
    assert!(
        (49_000..52_000).contains(&(at_us.unwrap() - first_us)),
        "50 ms into the stream"
    );
}

#[test]
fn an_unreachable_tracker_is_not_connected() {
    let error = TobiiTracker::open(&library(), "tobii-prp://offline", TrackerOptions::default())
        .unwrap_err();
    assert!(
        error.to_string().contains("SE_CONNECTION_FAILED"),
        "{error}"
    );
    assert!(matches!(GazeError::from(error), GazeError::NotConnected(_)));
}

#[test]
fn a_calibration_round_trip_on_a_worker_thread_while_streaming() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?cal_invalid=0.9,0.1&cal_error=0.5,0.5&collect_ms=20",
        TrackerOptions::default(),
    );
    let mut early = tracker.screen_calibrator();
    let error = early.collect_data([0.1, 0.1]).unwrap_err();
    assert!(
        error.to_string().contains("CALIBRATION_NOT_STARTED"),
        "{error}"
    );

    tracker.start().unwrap();
    let mut calibrator = tracker.screen_calibrator();
    let worker = std::thread::spawn(move || {
        calibrator.enter().unwrap();
        let mut failures = Vec::new();
        for target in [[0.1, 0.1], [0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.9, 0.9]] {
            if let Err(error) = calibrator.collect_data(target) {
                failures.push(error.to_string());
            }
        }
        calibrator.discard_data([0.9, 0.9]).unwrap();
        let result = calibrator.compute_and_apply().unwrap();
        calibrator.leave().unwrap();
        (failures, result)
    });
    let mut streamed = Vec::new();
    while !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
        tracker.drain_samples(&mut streamed);
    }
    let (failures, result) = worker.join().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    tracker.drain_samples(&mut streamed);
    assert!(
        streamed.len() > 50,
        "gaze keeps streaming during calibration"
    );

    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("(0.500, 0.500)") && failures[0].contains("SE_OPERATION_FAILED"));
    assert!(result.success);
    let targets: Vec<[f32; 2]> = result.points.iter().map(|p| p.target_display).collect();
    assert_eq!(targets, [[0.1, 0.1], [0.9, 0.1], [0.1, 0.9]]);
    for point in &result.points {
        assert_eq!(point.samples.len(), 6);
        let expected = if point.target_display == [0.9, 0.1] {
            EyeCalibrationValidity::InvalidAndNotUsed
        } else {
            EyeCalibrationValidity::ValidAndUsed
        };
        for s in &point.samples {
            assert_eq!((s.left_validity, s.right_validity), (expected, expected));
            assert!(s.left_position_display[0] <= point.target_display[0]);
            assert!(s.right_position_display[0] >= point.target_display[0]);
        }
    }
    let mut notes = Vec::new();
    tracker.drain_notifications(&mut notes);
    let entered = notes
        .iter()
        .position(|n| matches!(n, Notification::CalibrationModeEntered { .. }));
    let left = notes
        .iter()
        .position(|n| matches!(n, Notification::CalibrationModeLeft { .. }));
    assert!(entered.unwrap() < left.unwrap(), "{notes:?}");
}

#[test]
fn a_calibration_with_too_little_valid_data_fails() {
    let mut tracker = open(
        "tobii-prp://FAKE-0001?cal_invalid=0.5,0.5&collect_ms=5",
        TrackerOptions::default(),
    );
    let calibration = tracker.calibration().unwrap();
    calibration.enter().unwrap();
    calibration.collect_data([0.5, 0.5]).unwrap();
    calibration.collect_data([0.1, 0.1]).unwrap();
    let result = calibration.compute_and_apply().unwrap();
    calibration.leave().unwrap();
    assert!(!result.success, "one valid point cannot calibrate");
    assert_eq!(result.points.len(), 2);
}

#[test]
fn an_sdk_1x_library_is_refused_plainly() {
    let path = build_double("fake_tobii_v1", &["-DFAKE_TOBII_SDK_MAJOR=1"]);
    let error = TobiiLibrary::load_from(&path).unwrap_err();
    assert!(
        matches!(error, TobiiError::UnsupportedSdkVersion { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("SDK 1.11.0.42") && message.contains("needs SDK 2.x"),
        "{message}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
}

/// Runs [`child_probe`] in a fresh process with `env` set (the only safe way to give
/// `SCANSCRIBE_TOBII_LIB` to the real lookup); returns (stdout, stderr).
fn run_probe(env: &[(&str, &str)]) -> (String, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([
        "child_probe",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    command.env("SCANSCRIBE_TOBII_PROBE", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "probe failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

/// Not a test on its own: the process [`run_probe`] starts.
#[test]
#[ignore = "run by run_probe in a child process"]
fn child_probe() {
    assert_eq!(std::env::var("SCANSCRIBE_TOBII_PROBE").as_deref(), Ok("1"));
    match discover() {
        Err(error) => println!("PROBE error: {error}"),
        Ok(found) => {
            println!("PROBE found {}", found.len());
            let mut tracker = TobiiTracker::connect(&found[0].address).unwrap();
            tracker.start().unwrap();
            let (samples, _) = collect_for(&mut tracker, Duration::from_millis(100));
            let calibration = tracker.calibration().unwrap();
            calibration.enter().unwrap();
            for target in [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]] {
                calibration.collect_data(target).unwrap();
            }
            let result = calibration.compute_and_apply().unwrap();
            calibration.leave().unwrap();
            println!(
                "PROBE samples {} calibrated {}",
                samples.len(),
                result.success
            );
        }
    }
}

#[test]
fn an_absent_sdk_is_reported_plainly() {
    let (stdout, _) = run_probe(&[(LIBRARY_ENV, "/nonexistent/libtobii_research.so")]);
    assert!(
        stdout.contains("PROBE error: the Tobii Pro SDK is not installed")
            && stdout.contains("/nonexistent/libtobii_research.so (from SCANSCRIBE_TOBII_LIB)"),
        "{stdout}"
    );
}

#[test]
fn discovery_through_the_env_override_streams_calibrates_and_frees_everything() {
    let library = double_v2().to_str().unwrap();
    let (stdout, stderr) = run_probe(&[(LIBRARY_ENV, library), ("FAKE_TOBII_REPORT_LEAKS", "1")]);
    assert!(stdout.contains("PROBE found 1"), "{stdout}");
    assert!(stdout.contains("calibrated true"), "{stdout}");
    assert!(
        stderr.contains("fake_tobii: 0 SDK allocations not freed"),
        "every SDK string, list and result is given back:\n{stderr}"
    );
}
