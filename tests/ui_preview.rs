//! The Enrollment and preview screen as a subject and experimenter use it, on a tiny
//! demo model built for the test: load the model by typed folder, load an unseen
//! cohort subject's records, enroll from the first five trials in the background,
//! describe one of their images, see what they said beside descriptions A and B with
//! scores, rate both and save; the ratings file is read back. A recorded session
//! enrolls too, and its ratings go into the session folder. Driven through AccessKit
//! with `egui_kittest`.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod replay_support;
mod ui_support;

use std::path::{Path, PathBuf};

use candle_core::Device;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use replay_support::Recorded;
use scanscribe::model::deper::demo_model::{DemoModel, DemoSpec, RECIPE, ensure_demo_model};
use scanscribe::ui::app_state::Screen;
use scanscribe::ui::preview::ratings::{DescriptionKind, read_ratings};
use scanscribe::ui::preview::screen::replace_question;
use scanscribe::ui::preview::state::PreviewState;
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

fn preview<'h>(harness: &'h Harness<'_, App>) -> &'h PreviewState {
    &harness.state().state().preview
}

/// A tiny demo cohort and model (seconds to train).
fn tiny_demo(root: &Path) -> DemoModel {
    let spec = DemoSpec {
        seed: 3,
        subjects: 5,
        held_out: 2,
        images: 7,
        preset: "tiny".into(),
        recipe: RECIPE,
    };
    ensure_demo_model(root, &spec, &Device::Cpu, &mut |_| {}).unwrap()
}

fn type_into(harness: &mut Harness<'_, App>, label: &str, text: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    field.type_text(text);
    harness.run();
}

fn open_screen_and_load_model(harness: &mut Harness<'_, App>, model: &Path) {
    harness.get_by_label("Preview").click();
    harness.run();
    assert_eq!(harness.state().state().screen, Screen::Preview);
    type_into(harness, "Model folder", &model.display().to_string());
    harness.get_by_label("Load model").click();
    harness.step();
    step_until(harness, "model loaded", |app| {
        app.state().preview.model.ready().is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(
        preview(harness).errors.is_empty(),
        "{:?}",
        preview(harness).errors
    );
}

fn enroll(harness: &mut Harness<'_, App>, trials: usize) {
    harness
        .get_by_label(&format!("Enroll from {trials} trials"))
        .click();
    harness.step();
    step_until(harness, "enrolled", |app| {
        app.state().preview.profile.is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(
        preview(harness).errors.is_empty(),
        "{:?}",
        preview(harness).errors
    );
}

fn describe(harness: &mut Harness<'_, App>, image_button: &str) {
    harness.get_by_label(image_button).click();
    harness.step();
    step_until(harness, "described", |app| {
        app.state().preview.described.is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(
        preview(harness).errors.is_empty(),
        "{:?}",
        preview(harness).errors
    );
}

/// Rates A and B (the `n`-th "4" and "2" buttons: A's row comes first) and saves.
fn rate_and_save(harness: &mut Harness<'_, App>) {
    harness.get_all_by_label("4").next().unwrap().click();
    harness.run();
    harness.get_all_by_label("2").nth(1).unwrap().click();
    harness.run();
    let comment = harness.get_by_label("Comment on A (optional)");
    comment.focus();
    comment.type_text("too formal");
    harness.run();
    harness.get_by_label("Save ratings").click();
    harness.step();
    step_until(harness, "ratings saved", |app| {
        app.state().preview.saved_message.is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(
        preview(harness).errors.is_empty(),
        "{:?}",
        preview(harness).errors
    );
}

#[test]
fn an_unseen_cohort_subject_is_enrolled_previewed_and_rates_blind() {
    let dir = tempfile::tempdir().unwrap();
    let demo = tiny_demo(dir.path());
    let subject = demo.unseen_subjects()[0].clone();
    let records = demo.data.join("records.jsonl");
    let mut harness = harness(app());
    open_screen_and_load_model(&mut harness, &demo.model);

    type_into(&mut harness, "Records file", &records.display().to_string());
    type_into(&mut harness, "Subject", &subject);
    harness.get_by_label("Load records").click();
    harness.step();
    step_until(&mut harness, "records read", |app| {
        app.state().preview.support.is_some() || !app.state().preview.errors.is_empty()
    });
    let trials = preview(&harness)
        .support
        .as_ref()
        .unwrap()
        .trials
        .records
        .len();
    assert_eq!(trials, 7, "every trial of the subject");
    assert_eq!(preview(&harness).chosen_indices(), vec![0, 1, 2, 3, 4]);
    enroll(&mut harness, 5);
    let profile = preview(&harness).profile.clone().unwrap();
    assert_eq!(profile.subject, subject);
    assert_eq!(profile.trials.len(), 5);

    // The seventh image was not used for enrollment: what the subject said is shown.
    let seventh = preview(&harness).candidate_images()[6].clone();
    let name = seventh.file_name().unwrap().to_string_lossy().into_owned();
    describe(&mut harness, &name);
    let described = preview(&harness).described.as_ref().unwrap();
    let said = described.said.clone().unwrap();
    assert!(!described.generic.is_empty() && !described.personalized.is_empty());
    assert!(
        described.bleu4.is_some(),
        "scored against the subject's words"
    );
    assert!(!preview(&harness).described_image_in_support());
    harness.get_by_label("What the subject said");
    harness.get_by_label(&said);
    harness.get_by_label("Description A");
    harness.get_by_label("Description B");
    assert!(preview(&harness).texture.is_some(), "the image is shown");
    // Temporary paths differ between runs: mask the fields and the model line.
    let mut masks: Vec<egui::Rect> = harness
        .query_all_by_role(egui::accesskit::Role::TextInput)
        .map(|node| node.rect())
        .collect();
    // A tiny model's words depend on float rounding (thread counts): mask them and
    // their scores; the snapshot is about the layout.
    let described = preview(&harness).described.as_ref().unwrap();
    for text in [described.generic.clone(), described.personalized.clone()] {
        for node in harness.query_all_by_label(&text) {
            masks.push(node.rect().expand2(egui::vec2(0.0, 22.0)));
        }
    }
    // The model line is as long as its path: mask it to the panel's edge.
    let model_line = harness.get_by_label_contains("Using ").rect();
    let panel_edge = masks
        .iter()
        .filter(|r| r.min.x < model_line.min.x + 150.0) // the left panel's fields
        .map(|r| r.max.x)
        .fold(model_line.min.x, f32::max);
    masks.push(egui::Rect::from_min_max(
        model_line.min,
        egui::pos2(panel_edge, model_line.max.y),
    ));
    for rect in masks {
        harness.mask(rect);
    }
    harness.snapshot("preview_rated");

    // Description B's column, comment field included, stays inside the window.
    let window = harness.ctx.content_rect();
    let comment_b = harness.get_by_label("Comment on B (optional)").rect();
    assert!(
        comment_b.max.x <= window.max.x,
        "{comment_b:?} runs past {window:?}"
    );
    rate_and_save(&mut harness);
    let path = dir
        .path()
        .join("data/ratings")
        .join(format!("{subject}.jsonl"));
    let entries = read_ratings(&path).unwrap();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.subject, subject);
    assert_eq!(entry.said.as_deref(), Some(said.as_str()));
    assert_eq!(entry.support_trials.len(), 5);
    let a = &entry.descriptions[0];
    let b = &entry.descriptions[1];
    assert_eq!(
        (a.label.as_str(), a.rating, a.comment.as_str()),
        ("A", 4, "too formal")
    );
    assert_eq!((b.label.as_str(), b.rating), ("B", 2));
    assert_ne!(a.kind, b.kind, "one generic, one personalized");
    let personalized = if a.kind == DescriptionKind::Personalized {
        a
    } else {
        b
    };
    let described = preview(&harness).described.as_ref().unwrap();
    assert_eq!(personalized.text, described.personalized);

    // The experimenter reveals which is which; the next image is rated blind again.
    harness
        .get_by_label("Reveal which is which (experimenter)")
        .click();
    harness.step();
    assert!(preview(&harness).reveal);
    let first = preview(&harness).candidate_images()[0].clone();
    harness
        .get_by_label(&first.file_name().unwrap().to_string_lossy())
        .click();
    harness.step();
    assert!(preview(&harness).describing);
    step_until(&mut harness, "described again", |app| {
        !app.state().preview.describing
    });
    assert!(!preview(&harness).reveal, "the new pair is blind");
}

#[test]
fn a_recorded_session_enrolls_and_keeps_its_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let demo = tiny_demo(&dir.path().join("demo"));
    let recorded = Recorded::new("preview-test");
    let session = recorded.record("p01", 0);
    let mut harness = harness(app());
    open_screen_and_load_model(&mut harness, &demo.model);

    // A records file that is not there is refused by name.
    let missing = dir.path().join("missing.jsonl");
    type_into(&mut harness, "Records file", &missing.display().to_string());
    type_into(&mut harness, "Subject", "p01");
    harness.get_by_label("Load records").click();
    harness.step();
    step_until(&mut harness, "refused", |app| {
        !app.state().preview.errors.is_empty()
    });
    let error = preview(&harness).errors.join(" ");
    assert!(error.contains("missing.jsonl"), "{error}");
    harness.get_by_label("Dismiss").click();
    harness.run();

    type_into(
        &mut harness,
        "Session folder",
        &session.display().to_string(),
    );
    harness.get_by_label("Load session").click();
    harness.step();
    step_until(&mut harness, "session read", |app| {
        app.state().preview.support.is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(
        preview(&harness).errors.is_empty(),
        "{:?}",
        preview(&harness).errors
    );
    assert_eq!(preview(&harness).chosen_indices(), vec![0, 1]);
    // Enroll from the first trial only, then preview the second.
    harness.get_by_label("scene-02").click();
    harness.run();
    enroll(&mut harness, 1);
    describe(&mut harness, "scene-02.png");
    assert!(!preview(&harness).described_image_in_support());
    rate_and_save(&mut harness);
    rate_and_save(&mut harness);
    let entries = read_ratings(&session.join("ratings.jsonl")).unwrap();
    assert_eq!(entries.len(), 2, "saving again appends");
    assert_eq!(entries[0].subject, "p01");
    assert!(entries[0].image.ends_with("scene-02.png"));

    // The experimenter may reveal which description is which.
    let kind = if preview(&harness).personalized_first() {
        "personalized"
    } else {
        "generic"
    };
    harness
        .get_by_label("Reveal which is which (experimenter)")
        .click();
    harness.step();
    harness.get_by_label(&format!("Description A ({kind})"));

    // The profile is saved in the session, and loaded back without enrolling.
    let profile_file = session.join("profile.ron");
    assert_eq!(
        preview(&harness).profile_input,
        profile_file.display().to_string()
    );
    harness.get_by_label("Save profile").click();
    harness.step();
    step_until(&mut harness, "profile saved", |app| {
        app.state().preview.profile_message.is_some() || !app.state().preview.errors.is_empty()
    });
    assert!(profile_file.is_file(), "{:?}", preview(&harness).errors);
    let enrolled = preview(&harness).profile.clone().unwrap();
    harness.get_by_label("Load session").click();
    harness.step();
    step_until(&mut harness, "support read again", |app| {
        app.state().preview.support.is_some() && app.state().preview.profile.is_none()
    });
    harness.get_by_label("Load profile").click();
    harness.step();
    step_until(&mut harness, "profile loaded", |app| {
        app.state().preview.profile.is_some() || !app.state().preview.errors.is_empty()
    });
    let loaded = preview(&harness).profile.clone().unwrap();
    assert_eq!(loaded.z_s, enrolled.z_s);
    harness.get_by_label("Profile of p01 loaded (1 support trials).");
    assert_eq!(
        preview(&harness).ratings_file("p01"),
        session.join("ratings.jsonl"),
        "ratings stay with the session"
    );

    // Loading a model again would clear the enrollment: the screen asks first.
    harness.get_by_label("Load model").click();
    harness.run();
    harness.get_by_label(&replace_question("p01"));
    harness.get_by_label("Keep this model").click();
    harness.run();
    assert!(preview(&harness).profile.is_some(), "kept");
    assert!(harness.query_by_label(&replace_question("p01")).is_none());
    harness.get_by_label("Load model").click();
    harness.run();
    harness.get_by_label("Replace the model").click();
    harness.step();
    step_until(&mut harness, "model loaded again", |app| {
        app.state().preview.model.ready().is_some() && app.state().preview.pending_model.is_none()
    });
}
