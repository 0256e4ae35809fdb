//! BubbleView sessions without a UI: the simulated subject clicks through the bundled
//! BubbleView demo study, and a scripted subject sends bad clicks. The clicks are
//! logged as events while the stimulus is on, become fixations, `clicks.csv` and a
//! trajectory, and reach the dataset records.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod common;

use std::path::Path;

use common::{ScriptedSource, ScriptedSubject, bubble_study_folder};
use scanscribe::cohort::DEMO_SEED;
use scanscribe::gaze::clock::SessionClock;
use scanscribe::interop::records::read_session_records;
use scanscribe::session::analysis::analyze_trial;
use scanscribe::session::bubbles::BubbleClick;
use scanscribe::session::events::{Event, EventKind, read_events};
use scanscribe::session::runner::{Response, Runner, RunnerOptions, Subject, WaitScreen};
use scanscribe::session::simulated_subject::SimulatedParticipant;
use scanscribe::session::{SessionFolder, SessionStatus};
use scanscribe::study::{Trial, load_study};

fn options(root: &Path, clock: SessionClock) -> RunnerOptions {
    RunnerOptions {
        sessions_root: root.join("sessions"),
        sync_to_disk: false,
        clock,
        ..RunnerOptions::default()
    }
}

#[test]
fn a_simulated_subject_clicks_through_the_bubble_view_demo() {
    let dir = tempfile::tempdir().unwrap();
    let study_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/demo-bubbleview.ron");
    let study = load_study(&study_path).unwrap();
    let clock = SessionClock::sped_up(16.0);
    let participant = SimulatedParticipant::new(&study, DEMO_SEED, 2, 300.0, clock).unwrap();
    let mut source = participant.gaze_source();
    let mut subject = participant.subject(&study, None);
    let runner = Runner::start(&study, "b01", &mut source, options(dir.path(), clock)).unwrap();
    let root = runner.folder().root().to_path_buf();
    let screen = study.study.screen;
    let meta = runner
        .run(
            &mut subject,
            &mut |trial| analyze_trial(trial, &study, &screen),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(meta.status, SessionStatus::Complete);
    assert!(meta.notes.is_empty(), "{:?}", meta.notes);

    let events = read_events(&root.join("events.jsonl")).unwrap().events;
    for trial in &meta.trials {
        let of_trial: Vec<&Event> = events
            .iter()
            .filter(|e| e.trial.as_deref() == Some(&trial.id))
            .collect();
        let on = of_trial
            .iter()
            .find(|e| matches!(e.kind, EventKind::StimulusOn { .. }))
            .unwrap()
            .time_us;
        let off = of_trial
            .iter()
            .find(|e| matches!(e.kind, EventKind::StimulusOff))
            .unwrap()
            .time_us;
        let clicks: Vec<(i64, u32)> = of_trial
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::BubbleClick { order, .. } => Some((e.time_us, order)),
                _ => None,
            })
            .collect();
        assert!(clicks.len() >= 4, "{}: {clicks:?}", trial.id);
        let orders: Vec<u32> = clicks.iter().map(|c| c.1).collect();
        assert_eq!(orders, (1..=clicks.len() as u32).collect::<Vec<_>>());
        assert!(clicks.iter().all(|&(t, _)| (on..=off).contains(&t)));
        assert!(
            clicks.windows(2).all(|w| w[1].0 - w[0].0 >= 600_000),
            "one click per 600 ms"
        );

        let dir = root.join("trials").join(&trial.id);
        let csv = std::fs::read_to_string(dir.join("clicks.csv")).unwrap();
        assert_eq!(csv.lines().count(), clicks.len() + 1);
        let fixations = std::fs::read_to_string(dir.join("fixations.csv")).unwrap();
        assert_eq!(fixations.lines().count(), clicks.len() + 1);
        // The fixations tile the stimulus from the first click to its end.
        let durations_ms: f64 = fixations
            .lines()
            .skip(1)
            .map(|line| line.split(',').nth(3).unwrap().parse::<f64>().unwrap())
            .sum();
        let expected_ms = (off - clicks[0].0) as f64 / 1000.0;
        assert!(
            (durations_ms - expected_ms).abs() < 1.0,
            "{durations_ms} vs {expected_ms}"
        );
    }

    let records = read_session_records(&root).unwrap();
    assert_eq!(
        records.records.len(),
        meta.trials.len(),
        "{:?}",
        records.skipped
    );
    assert!(records.records.iter().all(|r| r.trajectory.len() >= 2));
}

/// Sends a fixed set of clicks, good and bad, timed from when the stimulus came on.
struct BadClicker {
    inner: ScriptedSubject,
    stimulus_on_us: Option<i64>,
    sent: bool,
}

impl Subject for BadClicker {
    fn stimulus_on(&mut self, _trial: &Trial, _trial_index: usize) {
        self.stimulus_on_us = Some(scanscribe::gaze::clock::system_time_us());
        self.sent = false;
    }

    fn take_clicks(&mut self, _trial_index: usize, out: &mut Vec<BubbleClick>) {
        let Some(on) = self.stimulus_on_us else {
            return;
        };
        let now = scanscribe::gaze::clock::system_time_us();
        if self.sent || now < on + 150_000 {
            return;
        }
        self.sent = true;
        let click = |offset_ms: i64, x: f32, y: f32| BubbleClick {
            time_us: on + offset_ms * 1000,
            position_display: [x, y],
        };
        out.extend([
            click(-500, 0.5, 0.5),    // before the stimulus: stale
            click(50, 0.45, 0.5),     // good
            click(60, f32::NAN, 0.5), // not a position
            click(70, 1.5, 0.5),      // off the screen
            click(40, 0.55, 0.5),     // out of order: kept, after the previous
            click(10_000, 0.5, 0.45), // in the future: stamped now
        ]);
    }

    fn wait_to_continue(&mut self, screen: &WaitScreen) -> bool {
        self.inner.wait_to_continue(screen)
    }

    fn respond(&mut self, trial: &Trial, trial_index: usize) -> Response {
        self.inner.respond(trial, trial_index)
    }

    fn questionnaire(&mut self) -> Option<[u8; 10]> {
        None
    }
}

#[test]
fn bad_clicks_are_dropped_and_times_kept_in_order_within_the_stimulus() {
    let dir = tempfile::tempdir().unwrap();
    let path = bubble_study_folder(dir.path(), 1);
    let study = load_study(&path).unwrap();
    let mut source = ScriptedSource::new(300.0);
    let mut subject = BadClicker {
        inner: ScriptedSubject {
            speech: dir.path().join("none.wav"),
            waits: Vec::new(),
        },
        stimulus_on_us: None,
        sent: false,
    };
    let clock = SessionClock::real_time();
    let runner = Runner::start(&study, "b02", &mut source, options(dir.path(), clock)).unwrap();
    let root = runner.folder().root().to_path_buf();
    let screen = study.study.screen;
    let mut recorded = Vec::new();
    runner
        .run(
            &mut subject,
            &mut |trial| {
                recorded.push(trial.clicks.clone());
                analyze_trial(trial, &study, &screen)
            },
            &mut |_| {},
        )
        .unwrap();

    let clicks = &recorded[0];
    let xs: Vec<f32> = clicks.iter().map(|c| c.position_display[0]).collect();
    assert_eq!(xs, [0.45, 0.55, 0.5], "{clicks:?}");
    assert_eq!(
        clicks[1].time_us, clicks[0].time_us,
        "kept after the previous click"
    );
    let events = read_events(&root.join("events.jsonl")).unwrap().events;
    let off = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::StimulusOff))
        .unwrap()
        .time_us;
    assert!(
        clicks[2].time_us <= off,
        "a future time is stamped when it arrived"
    );
    let logged = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::BubbleClick { .. }))
        .count();
    assert_eq!(logged, 3);
    let meta = SessionFolder::read(&root).unwrap();
    let trial = root.join("trials").join(&meta.trials[0].id);
    let csv = std::fs::read_to_string(trial.join("clicks.csv")).unwrap();
    assert!(
        csv.starts_with("order,time_ms,x,y,x_image,y_image\n1,"),
        "{csv}"
    );
}
