//! A BubbleView session as an experimenter and a subject run it: the study overview
//! and the setup say it is BubbleView, no calibration is asked for, the stimulus is
//! drawn blurred and each click on it opens a sharp bubble there; the clicks land in
//! the session folder as events, `clicks.csv`, fixations and a trajectory, and replay
//! reads them back as fixations. Driven through AccessKit with `egui_kittest`; the
//! session thread runs in real time.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod ui_support;

use std::path::Path;
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use scanscribe::session::SessionFolder;
use scanscribe::session::events::{EventKind, read_events};
use scanscribe::study::AttentionMode;
use scanscribe::ui::replay::data::load_session;
use scanscribe::ui::session::presentation::{BUBBLE_VIEW_LABEL, VIEWPORT_TITLE};
use scanscribe::ui::session::protocol::SubjectScreen;
use scanscribe::ui::session::state::Stage;
use ui_support::*;

const BUBBLE_STUDY: &str = r#"Study(
    id: "bubble-test",
    title: "BubbleView test",
    instructions: "Click where you want to look.",
    screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
    gaze_source: Mouse,
    attention: BubbleView((bubble_radius_deg: 2.0, blur_sigma_deg: 0.8)),
    image_root: "images",
    trials: [
        (id: "kitchen", image: "kitchen.png", viewing_time_ms: 5000, dictation: (max_length_ms: 5000), fixation_cross_ms: 100),
    ],
)
"#;

#[test]
fn clicks_open_bubbles_and_become_fixations_in_the_session_and_in_replay() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", BUBBLE_STUDY);
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    wait_for_overview(&mut harness);
    harness.get_by_label("BubbleView clicks (bubble radius 2°, blur σ 0.8°)");

    start_session(&mut harness, &sessions, "b01", None);
    wait(
        &mut harness,
        "blurred stimulus",
        Duration::from_secs(10),
        |app| {
            screen_is(app, |s| matches!(s, SubjectScreen::Stimulus { .. }))
                && app
                    .state()
                    .session
                    .running
                    .as_ref()
                    .is_some_and(|r| r.blurred_stimuli.first().is_some_and(Option::is_some))
        },
    );

    let picture = harness.get_by_label(BUBBLE_VIEW_LABEL).rect();
    // The middle of the white square of the test image (it spans 25–50 % of each
    // side), then its corner at the picture's centre: the open bubble shows it sharp.
    picture_click(&harness, picture.lerp_inside(egui::vec2(0.375, 0.375)));
    harness.step();
    picture_click(&harness, picture.center());
    harness.step();
    let clicks = &harness
        .state()
        .state()
        .session
        .running
        .as_ref()
        .unwrap()
        .bubble_clicks;
    assert_eq!(clicks.len(), 2, "each press is a click: {clicks:?}");

    // Only the subject's screen: the monitor beside it shows live gaze and times.
    let window = harness.get_by_label(VIEWPORT_TITLE).rect();
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, 0.0),
        egui::pos2(window.left() - 8.0, 760.0),
    ));
    harness.mask(egui::Rect::from_min_max(
        egui::pos2(0.0, 0.0),
        egui::pos2(1100.0, window.top() - 8.0),
    ));
    harness.snapshot("bubble_view_stimulus");

    wait(
        &mut harness,
        "description prompt",
        Duration::from_secs(10),
        |app| screen_is(app, |s| matches!(s, SubjectScreen::Describe { .. })),
    );
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("a white square in a kitchen");
    harness.step();
    harness.key_press(egui::Key::Enter);
    harness.step();
    wait(
        &mut harness,
        "end of the session",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Finished(_))),
    );

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
    assert!(matches!(meta.attention, AttentionMode::BubbleView(_)));
    assert!(meta.calibration.is_none());
    let events = read_events(&folder.join("events.jsonl")).unwrap().events;
    let logged: Vec<(u32, [f32; 2])> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::BubbleClick {
                order,
                position_image,
                ..
            } => Some((order, position_image)),
            _ => None,
        })
        .collect();
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert_eq!((logged[0].0, logged[1].0), (1, 2));
    let near = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).abs() < 0.02 && (a[1] - b[1]).abs() < 0.02;
    assert!(near(logged[0].1, [0.375, 0.375]), "{logged:?}");
    assert!(near(logged[1].1, [0.5, 0.5]), "{logged:?}");

    let trial = folder.join("trials/kitchen");
    let clicks_csv = std::fs::read_to_string(trial.join("clicks.csv")).unwrap();
    assert_eq!(clicks_csv.lines().count(), 3, "{clicks_csv}");
    let fixations_csv = std::fs::read_to_string(trial.join("fixations.csv")).unwrap();
    assert_eq!(fixations_csv.lines().count(), 3, "{fixations_csv}");
    let trajectory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(trial.join("trajectory.json")).unwrap())
            .unwrap();
    assert_eq!(trajectory.as_array().unwrap().len(), 2);

    let replay = load_session(&folder).unwrap();
    let fixations = &replay.trials[0].fixations;
    assert_eq!(fixations.len(), 2, "replay reads the clicks as fixations");
    let first_image = replay.trials[0]
        .placement
        .image_from_display(fixations[0].position_display);
    assert!(near(first_image, [0.375, 0.375]), "{first_image:?}");
    // The last click lasts until the stimulus went off.
    assert!(
        fixations[1].duration_ms() > 1000.0,
        "{}",
        fixations[1].duration_ms()
    );
}

/// From the study overview: sets up a session for `subject` under `sessions` (with the
/// gaze source labelled `source`, else the mouse), starts it and goes past the
/// instructions. A BubbleView study asks for no calibration, so none is skipped here.
fn start_session(
    harness: &mut egui_kittest::Harness<'_, scanscribe::ui::App>,
    sessions: &Path,
    subject: &str,
    source: Option<&str>,
) {
    harness.get_by_label("Run a session…").click();
    harness.step();
    wait(harness, "device probe", Duration::from_secs(20), |app| {
        app.state().session.probe.is_some()
    });
    harness.get_by_label_contains("BubbleView study: the subject clicks on a blurred picture");
    if let Some(source) = source {
        harness.get_by_label(source).click();
    }
    fill(harness, "Subject code", subject, false);
    fill(
        harness,
        "Output folder",
        &sessions.display().to_string(),
        true,
    );
    harness.get_by_label("Start session").click();
    harness.step();
    // No calibration step: the instructions come straight away.
    wait(harness, "instructions", Duration::from_secs(20), |app| {
        screen_is(app, |s| matches!(s, SubjectScreen::Instructions(_)))
    });
    harness.key_press(egui::Key::Space);
    harness.step();
}

/// A press and release of the primary button at `pos`.
fn picture_click(harness: &egui_kittest::Harness<'_, scanscribe::ui::App>, pos: egui::Pos2) {
    harness.event(egui::Event::PointerMoved(pos));
    for pressed in [true, false] {
        harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::default(),
        });
    }
}

#[test]
fn the_simulated_subject_opens_bubbles_the_experimenter_sees() {
    let fixture = StudyFixture::new();
    // The demo scenes: the simulated subject only views cohort images.
    let demo_images = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let study = BUBBLE_STUDY
        .replace("image_root: \"images\"", &format!("image_root: {:?}", demo_images.display().to_string()))
        .replace(
            "(id: \"kitchen\", image: \"kitchen.png\", viewing_time_ms: 5000, dictation: (max_length_ms: 5000), fixation_cross_ms: 100)",
            "(id: \"scene-01\", image: \"scene-01.png\", viewing_time_ms: 3000, fixation_cross_ms: 100)",
        );
    let path = fixture.write("study.ron", &study);
    let sessions = fixture.dir.path().join("sessions");
    let mut harness = harness(app_opening(&path));
    wait_for_overview(&mut harness);
    start_session(
        &mut harness,
        &sessions,
        "sim01",
        Some("Simulated subject (demo cohort, no eye tracker)"),
    );
    wait(
        &mut harness,
        "a simulated click on the stimulus",
        Duration::from_secs(10),
        |app| {
            screen_is(app, |s| matches!(s, SubjectScreen::Stimulus { .. }))
                && app
                    .state()
                    .session
                    .running
                    .as_ref()
                    .is_some_and(|r| !r.bubble_clicks.is_empty())
        },
    );
    wait(
        &mut harness,
        "end of the session",
        Duration::from_secs(10),
        |app| stage_is(app, |s| matches!(s, Stage::Finished(_))),
    );
    let running = harness.state().state().session.running.as_ref().unwrap();
    let shown = running.bubble_clicks.len();
    let folder = running.folder.clone().unwrap();
    let events = read_events(&folder.join("events.jsonl")).unwrap().events;
    let logged = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::BubbleClick { .. }))
        .count();
    assert!(logged >= 2, "{logged} clicks in 3 s");
    assert_eq!(shown, logged, "every logged click was shown");
}
