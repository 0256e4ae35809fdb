//! The session screens as an experimenter drives them: set up a session, skip or run
//! calibration and validation, present two short trials with typed descriptions, and
//! find a valid session folder. Driven through AccessKit with `egui_kittest`; the
//! subject's screen is embedded in the main window here. The session thread runs in
//! real time, so the study's trials are short.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod ui_support;

use std::path::Path;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable};
use scanscribe::session::events::{EventKind, read_events};
use scanscribe::session::runner::TrialDescription;
use scanscribe::session::{SessionFolder, SessionStatus, TrialState};
use scanscribe::ui::App;
use scanscribe::ui::session::monitor::{PAUSE_ASKED, STOP_QUESTION};
use scanscribe::ui::session::presentation::answer_hint;
use scanscribe::ui::session::protocol::SubjectScreen;
use scanscribe::ui::session::state::{PauseState, Stage};
use ui_support::*;

const RECORDING_STUDY: &str = r#"Study(
    id: "rec-test",
    title: "Recording test",
    instructions: "Look at each picture, then describe it.",
    screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
    gaze_source: Mouse,
    calibration: (points: 5, validation_points: [(0.3, 0.3), (0.7, 0.7)], max_accuracy_deg: 1.0, max_precision_rms_deg: 0.5),
    image_root: "images",
    trials: [
        (id: "kitchen", image: "kitchen.png", viewing_time_ms: 400, dictation: (max_length_ms: 5000), fixation_cross_ms: 100),
        (id: "street", image: "street.png", viewing_time_ms: 400, dictation: (max_length_ms: 5000), fixation_cross_ms: 100),
    ],
    questionnaire: Tipi,
)
"#;

/// Opens the study, goes to the session setup, and fills in the subject code and an
/// output folder under `sessions`.
fn set_up(harness: &mut Harness<'_, App>, sessions: &Path) {
    wait_for_overview(harness);
    harness.get_by_label("Run a session…").click();
    harness.step();
    wait(harness, "device probe", Duration::from_secs(20), |app| {
        app.state().session.probe.is_some()
    });
    harness.get_by_label("New session: Recording test");
    fill(harness, "Subject code", "t01", false);
    fill(
        harness,
        "Output folder",
        &sessions.display().to_string(),
        true,
    );
    harness.step();
    harness.step();
    let form = &harness.state().state().session.form;
    assert_eq!(form.subject, "t01");
    assert_eq!(form.sessions_root, sessions.display().to_string());
}

/// Stops the session on the monitor ("Stop the session…", then "Stop now") and waits
/// for its end.
fn stop_from_monitor(harness: &mut Harness<'_, App>) {
    harness.get_by_label("Stop the session…").click();
    harness.step();
    harness.step();
    harness.get_by_label("Stop now").click();
    harness.step();
    wait(
        harness,
        "end of the session",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Finished(_))),
    );
}

fn describe(harness: &mut Harness<'_, App>, text: &str) {
    wait(
        harness,
        "description prompt",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Describe { .. })),
    );
    harness.get_by_label("Describe the picture you just saw.");
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text(text);
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    wait(harness, "description sent", Duration::from_secs(5), |app| {
        !screen_is(app, |s| matches!(s, SubjectScreen::Describe { .. }))
    });
}

#[test]
fn a_session_with_the_mouse_runs_two_trials_into_a_valid_folder() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", RECORDING_STUDY);
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    set_up(&mut harness, &sessions);
    harness.get_by_label("Mouse (pointer as gaze, no eye tracker)");
    harness.get_by_label(
        "No eye tracker: this session records a stand-in for gaze (for pilots and training).",
    );
    harness.get_by_label("Descriptions are typed by the subject in the presentation window.");

    harness.get_by_label("Start session").click();
    harness.step();
    wait(
        &mut harness,
        "calibration screen",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Calibrating)),
    );
    harness.get_by_label_contains("Software calibration: no eye tracker");
    harness.get_by_label("Skip calibration").click();
    harness.step();
    wait(
        &mut harness,
        "instructions",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Instructions(_))),
    );
    harness.get_by_label("Look at each picture, then describe it.");
    // No microphone was chosen: the subject is told to type, and how to finish.
    harness.get_by_label(answer_hint(true));
    harness.get_by_label("Press space to begin.");
    harness.key_press(egui::Key::Space);
    harness.step();
    describe(&mut harness, "a kitchen with a white square");
    describe(&mut harness, "a blue street");
    wait(
        &mut harness,
        "questionnaire",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Questionnaire)),
    );
    harness.get_by_label("Extraverted, enthusiastic.");
    harness.get_by_label("I prefer not to answer").click();
    harness.step();
    wait(
        &mut harness,
        "end of the session",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Finished(_))),
    );
    harness.get_by_label("Session ended");
    harness.get_by_label("2 of 2 trials recorded");

    let running = harness.state().state().session.running.as_ref().unwrap();
    let folder = running.folder.clone().unwrap();
    assert!(folder.starts_with(&sessions), "{}", folder.display());
    let meta = SessionFolder::read(&folder).unwrap();
    assert_eq!(meta.status, SessionStatus::Complete);
    assert_eq!(meta.subject, "t01");
    assert_eq!(meta.gaze_source.address, "mouse");
    assert!(meta.calibration.is_none(), "calibration was skipped");
    assert!(meta.trials.iter().all(|t| t.state == TrialState::Complete));
    let events = read_events(&folder.join("events.jsonl")).unwrap().events;
    let mut texts = Vec::new();
    for trial in &meta.trials {
        let on = events.iter().find(|e| {
            e.trial.as_deref() == Some(&trial.id) && matches!(e.kind, EventKind::StimulusOn { .. })
        });
        let presented = events.iter().find(|e| {
            e.trial.as_deref() == Some(&trial.id)
                && matches!(e.kind, EventKind::StimulusPresented { .. })
        });
        let (on, presented) = (
            on.unwrap(),
            presented.expect("the frame's present time is logged"),
        );
        assert!(
            presented.time_us >= on.time_us,
            "presented before it was put on"
        );
        let dir = folder.join("trials").join(&trial.id);
        for file in [
            "gaze.chunks",
            "fixations.csv",
            "trajectory.json",
            "quality.json",
        ] {
            assert!(dir.join(file).is_file(), "{} has no {file}", trial.id);
        }
        let text = std::fs::read_to_string(dir.join("description.json")).unwrap();
        let description: TrialDescription = serde_json::from_str(&text).unwrap();
        texts.push(description.text);
    }
    texts.sort();
    assert_eq!(texts, ["a blue street", "a kitchen with a white square"]);
}

#[test]
fn calibration_and_validation_report_failing_points_and_the_accepted_one_is_kept() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", RECORDING_STUDY);
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    set_up(&mut harness, &sessions);
    harness.get_by_label("Start session").click();
    harness.step();
    wait(
        &mut harness,
        "calibration screen",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Calibrating)),
    );
    assert_eq!(harness.query_all_by_label("Not run yet.").count(), 2);
    assert!(
        harness
            .get_by_label("Accept and start the trials")
            .accesskit_node()
            .is_disabled(),
        "nothing to accept before a validation"
    );
    // The pointer never enters the subject's screen: every point lacks gaze.
    harness.get_by_label("Calibrate (5 points)").click();
    harness.step();
    wait(
        &mut harness,
        "calibration result",
        Duration::from_secs(30),
        |app| {
            app.state()
                .session
                .running
                .as_ref()
                .is_some_and(|r| r.calibration.is_some() && r.calibration_busy.is_none())
        },
    );
    harness.get_by_label("Calibration: 5 point(s) failed");
    harness.get_by_label("Redo 5 failing calibration point(s)");
    harness.get_by_label("Validate (2 points)").click();
    harness.step();
    wait(
        &mut harness,
        "validation result",
        Duration::from_secs(20),
        |app| {
            app.state()
                .session
                .running
                .as_ref()
                .is_some_and(|r| r.validation.is_some() && r.calibration_busy.is_none())
        },
    );
    harness.get_by_label("Validation: 2 point(s) failed");
    // Redoing only the failing points shows them again, one by one.
    harness
        .get_by_label("Redo 2 failing validation point(s)")
        .click();
    harness.step();
    wait(
        &mut harness,
        "a validation target",
        Duration::from_secs(5),
        |app| {
            screen_is(app, |s| {
                matches!(s, SubjectScreen::CalibrationTarget { .. })
            })
        },
    );
    wait(
        &mut harness,
        "validation redone",
        Duration::from_secs(20),
        |app| {
            app.state()
                .session
                .running
                .as_ref()
                .is_some_and(|r| r.calibration_busy.is_none())
        },
    );
    harness.get_by_label("Accept and start the trials").click();
    harness.step();
    wait(
        &mut harness,
        "instructions",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Instructions(_))),
    );
    stop_from_monitor(&mut harness);
    harness.get_by_label("Calibration: accepted (with failing points)");
    let folder = harness
        .state()
        .state()
        .session
        .running
        .as_ref()
        .unwrap()
        .folder
        .clone()
        .unwrap();
    let meta = SessionFolder::read(&folder).unwrap();
    let report = meta
        .calibration
        .expect("the accepted validation is in session.ron");
    assert_eq!(meta.calibration_count, 1);
    assert_eq!(report.points.len(), 2);
    assert!(!report.passed());
    assert!(matches!(meta.status, SessionStatus::Stopped { .. }));
    assert!(meta.trials.iter().all(|t| t.state == TrialState::Pending));
}

#[test]
fn session_setup_snapshot() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", RECORDING_STUDY);
    let mut harness = harness(app_opening(&path));
    wait_for_overview(&mut harness);
    harness.get_by_label("Run a session…").click();
    harness.step();
    wait(
        &mut harness,
        "device probe",
        Duration::from_secs(20),
        |app| app.state().session.probe.is_some(),
    );
    fill(&mut harness, "Subject code", "s07", false);
    harness.remove_cursor();
    harness.run_ok();
    let rect = harness.get_by_label_contains("study.ron").rect();
    harness.mask(rect);
    harness.snapshot("session_setup");
}

/// Starts a mouse session of `study` without calibration and passes the instructions.
fn start_trials(harness: &mut Harness<'_, App>, sessions: &Path) {
    set_up(harness, sessions);
    harness.get_by_label("Start session").click();
    harness.step();
    wait(
        harness,
        "calibration screen",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Calibrating)),
    );
    harness.get_by_label("Skip calibration").click();
    harness.step();
    wait(harness, "instructions", Duration::from_secs(10), |app| {
        screen_is(app, |s| matches!(s, SubjectScreen::Instructions(_)))
    });
    harness.key_press(egui::Key::Space);
    harness.step();
}

fn session_meta(harness: &Harness<'_, App>) -> scanscribe::session::SessionMeta {
    let running = harness.state().state().session.running.as_ref().unwrap();
    SessionFolder::read(running.folder.as_ref().unwrap()).unwrap()
}

#[test]
fn stop_asks_first_and_never_completes_a_trial_that_was_not_described() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", RECORDING_STUDY);
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    start_trials(&mut harness, &sessions);
    wait(
        &mut harness,
        "description prompt",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Describe { .. })),
    );
    // A stray click on Stop asks, and "Keep going" goes on.
    harness.get_by_label("Stop the session…").click();
    harness.step();
    harness.step();
    harness.get_by_label(STOP_QUESTION);
    harness.get_by_label("Keep going").click();
    harness.step();
    harness.step();
    assert!(harness.query_by_label(STOP_QUESTION).is_none());
    assert!(screen_is(harness.state(), |s| matches!(
        s,
        SubjectScreen::Describe { .. }
    )));
    // Stopping while the subject describes: the trial is not complete.
    stop_from_monitor(&mut harness);
    let meta = session_meta(&harness);
    let SessionStatus::Stopped { reason } = &meta.status else {
        panic!("{:?}", meta.status);
    };
    assert!(
        reason.contains("before trial kitchen was described"),
        "{reason}"
    );
    assert_eq!(
        meta.trials[0].state,
        TrialState::Interrupted,
        "{:?}",
        meta.trials
    );
    assert_eq!(meta.trials[1].state, TrialState::Pending);
    let folder = harness.state().state().session.running.as_ref().unwrap();
    let trial_dir = folder
        .folder
        .as_ref()
        .unwrap()
        .join("trials")
        .join("kitchen");
    assert!(
        !trial_dir.join("description.json").exists(),
        "no empty description is saved as the subject's"
    );
}

/// The recording study with a long first stimulus, to press Escape during it.
fn slow_study() -> String {
    RECORDING_STUDY.replacen("viewing_time_ms: 400", "viewing_time_ms: 2500", 1)
}

#[test]
fn escape_during_the_stimulus_asks_to_pause_only_after_the_picture_is_gone() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", &slow_study());
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    start_trials(&mut harness, &sessions);
    wait(&mut harness, "stimulus", Duration::from_secs(10), |app| {
        screen_is(app, |s| matches!(s, SubjectScreen::Stimulus { .. }))
    });
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    let pause = |h: &Harness<'_, App>| h.state().state().session.running.as_ref().unwrap().pause;
    assert_eq!(pause(&harness), PauseState::Confirming);
    assert!(screen_is(harness.state(), |s| matches!(
        s,
        SubjectScreen::Stimulus { .. }
    )));
    assert!(
        harness.query_by_label("Pause the session?").is_none(),
        "nothing covers the stimulus while it is recorded"
    );
    harness.get_by_label(PAUSE_ASKED);
    // Once the picture is gone, the subject is asked.
    wait(
        &mut harness,
        "description prompt",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Describe { .. })),
    );
    harness.get_by_label("Pause the session?");
    harness.get_by_label("Pause (Enter)").click();
    harness.step();
    describe(&mut harness, "a kitchen");
    wait(
        &mut harness,
        "pause screen",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Paused)),
    );
    // Stopped from the subject's screen: the reason says so.
    harness.get_by_label("Stop the session (S)").click();
    harness.step();
    wait(
        &mut harness,
        "end of the session",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Finished(_))),
    );
    let meta = session_meta(&harness);
    assert_eq!(
        meta.status,
        SessionStatus::Stopped {
            reason: "stopped on the subject's screen during a pause".into()
        }
    );
    assert_eq!(meta.trials[0].state, TrialState::Complete);
}
