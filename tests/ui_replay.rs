//! The Replay screen as a researcher drives it, on sessions recorded headless by
//! simulated subjects: open sessions by typed path, see each subject side by side with
//! their description, play, change speed, pick another trial, overlay, export PNG and
//! CSV; wrong folders and a session of another study are refused with their paths.
//! Driven through AccessKit with `egui_kittest`.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod replay_support;
mod ui_support;

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use replay_support::Recorded;
use scanscribe::ui::app_state::Screen;
use scanscribe::ui::replay::state::{Layout, ReplayState};
use scanscribe::ui::{App, Settings, Startup};
use ui_support::{harness, step_until};

fn app() -> App {
    App::new(
        Settings::default(),
        Startup::NotFound {
            searched: vec![PathBuf::from("/nowhere/studies/demo.ron")],
        },
    )
}

fn replay<'h>(harness: &'h Harness<'_, App>) -> &'h ReplayState {
    &harness.state().state().replay
}

/// Goes to the Replay screen and adds `folder` by typing its path.
fn add_session(harness: &mut Harness<'_, App>, folder: &Path) {
    if harness.state().state().screen != Screen::Replay {
        harness.get_by_label("Replay").click();
        harness.run();
    }
    let field = harness.get_by_label("Session folder");
    field.focus();
    field.type_text(&folder.display().to_string());
    harness.run();
    harness.get_by_label("Add").click();
    harness.step();
    step_until(harness, "session read", |app| {
        app.state().replay.loading.is_empty()
    });
}

fn wait_for_textures(harness: &mut Harness<'_, App>) {
    step_until(harness, "stimulus decoded", |app| {
        app.state()
            .replay
            .textures
            .values()
            .all(|t| matches!(t, scanscribe::ui::replay::state::StimulusTexture::Ready(_)))
    });
}

#[test]
fn two_subjects_side_by_side_with_their_descriptions_and_playback() {
    let recorded = Recorded::new("replay");
    let s01 = recorded.record("s01", 0);
    let s02 = recorded.record("s02", 1);
    let mut harness = harness(app());
    add_session(&mut harness, &s01);
    add_session(&mut harness, &s02);
    wait_for_textures(&mut harness);

    let state = replay(&harness);
    assert_eq!(state.subjects.len(), 2, "errors: {:?}", state.errors);
    assert_eq!(state.trial_id.as_deref(), Some("scene-01"));
    assert_eq!(state.layout, Layout::SideBySide);
    // With the sessions' study open, the trial list follows the study's order, not
    // the first subject's shuffled one; another study's order is not used.
    let presented = state.trial_ids();
    let mut study_order = presented.clone();
    study_order.reverse();
    let study_id = state.subjects[0].session.study_id.clone();
    harness.state_mut().state_mut().replay.study_order = Some((study_id, study_order.clone()));
    assert_eq!(replay(&harness).trial_ids(), study_order);
    harness.state_mut().state_mut().replay.study_order =
        Some(("another-study".into(), study_order.clone()));
    assert_eq!(replay(&harness).trial_ids(), presented);
    let state = replay(&harness);
    let trials = state.current_trials();
    let totals: Vec<usize> = trials
        .iter()
        .map(|(_, t)| t.scanpath.fixations.len())
        .collect();
    assert!(
        totals.iter().all(|&n| n >= 3),
        "fixations per subject: {totals:?}"
    );
    let descriptions: Vec<String> = trials
        .iter()
        .map(|(_, t)| t.description.clone().unwrap())
        .collect();
    // At the start nothing has been looked at yet; each subject has its caption.
    harness.get_by_label(&format!("s01: 0 of {} fixations", totals[0]));
    harness.get_by_label(&format!("s02: 0 of {} fixations", totals[1]));
    for text in &descriptions {
        harness.get_by_label(text);
    }
    harness.get_by_label("Trials");

    // Play at 2×: the playhead moves and fixations appear in order.
    harness.get_by_label("Speed").click();
    harness.run();
    harness.get_by_label("2×").click();
    harness.run();
    assert_eq!(replay(&harness).playback.speed, 2.0);
    harness.get_by_label("Play").click();
    for _ in 0..4 {
        harness.step();
    }
    let state = replay(&harness);
    assert!(state.playback.playing);
    let t_ms = state.playback.time_ms;
    assert!(
        t_ms > 0.0 && t_ms < state.duration_ms(),
        "played to {t_ms} ms"
    );
    harness.get_by_label("Pause").click();
    harness.run();
    let state = replay(&harness);
    assert!(!state.playback.playing);
    let shown = state.current_trials()[0]
        .1
        .scanpath
        .started_count(state.playback.time_ms);
    harness.get_by_label(&format!("s01: {shown} of {} fixations", totals[0]));

    // Another trial starts from its beginning.
    harness.get_by_label("scene-02").click();
    harness.run();
    let state = replay(&harness);
    assert_eq!(state.trial_id.as_deref(), Some("scene-02"));
    assert_eq!(state.playback.time_ms, 0.0);

    // Overlay: one view, both subjects' captions.
    harness.get_by_label("Overlay").click();
    harness.run();
    assert_eq!(replay(&harness).layout, Layout::Overlay);
    harness.get_by_label_contains("s01: 0 of");
    harness.get_by_label_contains("s02: 0 of");

    // Closing a subject leaves the other.
    harness.get_by_label("Close s01").click();
    harness.run();
    let state = replay(&harness);
    assert_eq!(state.subjects.len(), 1);
    assert_eq!(state.subjects[0].session.subject, "s02");
}

#[test]
fn playback_stops_at_the_end_of_the_trial() {
    let recorded = Recorded::new("replay");
    let s01 = recorded.record("s01", 0);
    let mut harness = harness(app());
    add_session(&mut harness, &s01);
    harness.get_by_label("Speed").click();
    harness.run();
    harness.get_by_label("8×").click();
    harness.run();
    harness.get_by_label("Play").click();
    harness.step();
    for _ in 0..100 {
        harness.step();
        if !replay(&harness).playback.playing {
            break;
        }
    }
    let state = replay(&harness);
    assert!(!state.playback.playing);
    assert_eq!(state.playback.time_ms, state.duration_ms());
    let n = state.current_trials()[0].1.scanpath.fixations.len();
    harness.run();
    harness.get_by_label(&format!("s01: {n} of {n} fixations"));

    // Hovering a fixation tells its number, start and duration: sweep the pointer
    // over the view until a fixation's note appears.
    harness.ctx.all_styles_mut(|s| {
        s.interaction.tooltip_delay = 0.0;
        s.interaction.show_tooltips_only_when_still = false;
    });
    let area = replay(&harness).views_rect.expect("the view was drawn");
    let mut found = None;
    'sweep: for row in 0..24 {
        for column in 0..24 {
            let at = egui::pos2(
                area.left() + area.width() * (column as f32 + 0.5) / 24.0,
                area.top() + area.height() * (row as f32 + 0.5) / 24.0,
            );
            harness.event(egui::Event::PointerMoved(at));
            harness.step();
            harness.step();
            if harness.query_by_label_contains("s01: fixation ").is_some() {
                found = Some(at);
                break 'sweep;
            }
        }
    }
    assert!(found.is_some(), "a fixation's note under the pointer");
    harness.get_by_label_contains(&format!(" of {n}\nstarts "));
    harness.get_by_label_contains(" s after the stimulus, ");
    harness
        .render()
        .unwrap()
        .save(std::env::temp_dir().join("replay_hover.png"))
        .unwrap();
}

#[test]
fn wrong_folders_and_other_studies_are_refused_with_their_paths() {
    let recorded = Recorded::new("replay");
    let s01 = recorded.record("s01", 0);
    let other = Recorded::new("another-study");
    let foreign = other.record("s09", 2);
    let mut harness = harness(app());

    let not_a_session = recorded.dir.path().join("images");
    add_session(&mut harness, &not_a_session);
    assert!(replay(&harness).subjects.is_empty());
    harness.get_by_label_contains(&format!(
        "{}: not a session folder",
        not_a_session.display()
    ));
    harness.get_by_label("Dismiss").click();
    harness.run();
    assert!(replay(&harness).errors.is_empty());

    add_session(&mut harness, &s01);
    add_session(&mut harness, &foreign);
    let state = replay(&harness);
    assert_eq!(state.subjects.len(), 1);
    assert_eq!(state.errors.len(), 1, "{:?}", state.errors);
    assert!(
        state.errors[0].contains("another-study"),
        "{}",
        state.errors[0]
    );
    assert!(state.errors[0].contains(&foreign.display().to_string()));
}

#[test]
fn exports_write_the_fixations_csv_and_a_png_of_the_view() {
    let recorded = Recorded::new("replay");
    let s01 = recorded.record("s01", 0);
    let s02 = recorded.record("s02", 1);
    let mut harness = harness(app());
    add_session(&mut harness, &s01);
    add_session(&mut harness, &s02);
    wait_for_textures(&mut harness);
    let export_dir = PathBuf::from(&replay(&harness).export_dir_input);
    assert_eq!(
        export_dir,
        recorded.dir.path().join("exports").join("replay"),
        "outside the sessions folder, so sessions/<study>/* stays sessions only"
    );
    assert!(!export_dir.starts_with(recorded.sessions_root()));

    // The title band the PNG keeps: study, trial, subjects and time window.
    harness.get_by_label("replay · trial scene-01 · s01, s02 · 0.00–0.00 s after stimulus onset");
    harness.get_by_label("Export fixations CSV").click();
    harness.step();
    step_until(&mut harness, "CSV written", |app| {
        app.state()
            .replay
            .export_message
            .as_deref()
            .is_some_and(|m| m.starts_with("Saved"))
    });
    for (subject, _) in [("s01", &s01), ("s02", &s02)] {
        let path = export_dir.join(format!("{subject}_scene-01_fixations.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        let trial_fixations = replay(&harness)
            .subjects
            .iter()
            .find(|s| s.session.subject == subject)
            .unwrap()
            .session
            .trial("scene-01")
            .unwrap()
            .fixations
            .len();
        assert!(text.starts_with("index,start_us,end_us,duration_ms"));
        assert_eq!(
            text.lines().count(),
            trial_fixations + 1,
            "{}",
            path.display()
        );
    }

    harness.get_by_label("Export PNG").click();
    harness.step();
    step_until(&mut harness, "PNG written", |app| {
        app.state()
            .replay
            .export_message
            .as_deref()
            .is_some_and(|m| m.ends_with(".png"))
    });
    let png = export_dir.join("scene-01_000000ms.png");
    let image = image::open(&png).unwrap().to_rgba8();
    let rect = replay(&harness).views_rect.unwrap();
    let ppp = harness.ctx.pixels_per_point();
    assert_eq!(image.width(), (rect.width() * ppp).round() as u32);
    // The stimulus is in it: not a blank picture.
    let first = image.get_pixel(image.width() / 4, image.height() / 2);
    assert!(image.pixels().any(|p| p != first));
}
