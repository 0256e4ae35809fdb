//! The app as a user drives it: open a study and see its overview, see every problem
//! of a broken one, fix it and reload, reopen from the recent list. Driven through
//! AccessKit (labels, clicks, typing) with `egui_kittest`; background work is waited
//! for by stepping the app a bounded number of times.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod ui_support;

use std::path::PathBuf;

use egui_kittest::kittest::Queryable;
use scanscribe::ui::app_state::Screen;
use scanscribe::ui::{App, Settings, Startup};
use ui_support::*;

#[test]
fn a_valid_study_shows_its_overview_and_trials() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", VALID_STUDY);
    let mut harness = harness(app_opening(&path));
    wait_for_overview(&mut harness);

    harness.get_by_label("Scenes for the UI test");
    harness.get_by_label("ui-test");
    for trial in ["kitchen", "street", "park"] {
        harness.get_by_label(trial);
    }
    harness.get_by_label("Trials (3)");
    harness.get_by_label("640 × 480 px");
    harness.get_by_label("480 × 640 px");
    harness.get_by_label("simulated subject");
    harness.get_by_label("shuffled per subject (seed 3)");
    harness.get_by_label("dictation up to 20 s");
    let open = harness.state().state().study.loaded().unwrap();
    assert_eq!(open.thumbnails.len(), 3);
}

#[test]
fn an_invalid_study_lists_every_problem_with_its_field() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", &invalid_study());
    let mut harness = harness(app_opening(&path));
    wait_for_failure(&mut harness);

    harness.get_by_label("The study file has 3 problems");
    for field in [
        "calibration.points",
        "trials[1].id",
        "trials[2].viewing_time_ms",
    ] {
        harness.get_by_label(field);
    }
    harness.get_by_label(r#"duplicate trial id "kitchen""#);
    harness.get_by_label("expected a viewing time above 0 ms");
    assert!(harness.query_by_label("Trials (3)").is_none());
}

#[test]
fn a_syntax_error_shows_its_line_and_column_and_quotes_the_line() {
    let fixture = StudyFixture::new();
    let broken = VALID_STUDY.replace(r#"title: "Scenes for the UI test","#, "title: Scenes,");
    let path = fixture.write("study.ron", &broken);
    let mut harness = harness(app_opening(&path));
    wait_for_failure(&mut harness);

    harness.get_by_label("The study file is not valid RON");
    harness.get_by_label_contains("Line 3, column");
    harness.get_by_label_contains("3 │     title: Scenes,");
}

#[test]
fn reload_after_fixing_the_file_shows_the_overview() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", &invalid_study());
    let mut harness = harness(app_opening(&path));
    wait_for_failure(&mut harness);

    fixture.write("study.ron", VALID_STUDY);
    harness.get_by_label("Reload").click();
    harness.step();
    wait_for_overview(&mut harness);

    harness.get_by_label("Scenes for the UI test");
    harness.get_by_label("street");
    assert!(
        harness
            .query_by_label("The study file has 3 problems")
            .is_none()
    );
}

#[test]
fn a_missing_file_says_it_cannot_be_read() {
    let fixture = StudyFixture::new();
    let path = fixture.dir.path().join("nowhere.ron");
    let mut harness = harness(app_opening(&path));
    wait_for_failure(&mut harness);

    harness.get_by_label("The study file cannot be read");
    // Only files that exist are remembered.
    assert!(harness.state().settings().recent_studies.is_empty());
}

#[test]
fn recent_studies_are_remembered_and_reopen() {
    let fixture = StudyFixture::new();
    let first = fixture.write("first.ron", VALID_STUDY);
    let second = fixture.write(
        "second.ron",
        &VALID_STUDY.replace("Scenes for the UI test", "The second study"),
    );
    let mut harness = harness(app_opening(&first));
    wait_for_overview(&mut harness);

    // Open the second study by typing its path on the Start screen.
    harness.get_by_label("Start").click();
    harness.run();
    let field = harness.get_by_label("Study file");
    field.focus();
    field.type_text(&second.display().to_string());
    harness.run();
    harness.get_by_label("Open").click();
    harness.step();
    wait_for_overview(&mut harness);
    harness.get_by_label("The second study");

    let recent: Vec<PathBuf> = harness.state().settings().recent_studies.clone();
    assert_eq!(recent, vec![second.clone(), first.clone()]);

    // Back on the Start screen both are listed; the first one reopens.
    harness.get_by_label("Start").click();
    harness.run();
    harness.get_by_label("second.ron");
    harness.get_by_label("first.ron").click();
    harness.step();
    wait_for_overview(&mut harness);
    assert_eq!(harness.state().state().screen, Screen::Study);
    harness.get_by_label("Scenes for the UI test");
    assert_eq!(
        harness.state().settings().recent_studies,
        vec![first.clone(), second.clone()]
    );
}

#[test]
fn removing_a_recent_study_keeps_the_file() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", VALID_STUDY);
    let settings = Settings {
        recent_studies: vec![path.clone()],
    };
    let mut harness = harness(App::new(
        settings,
        Startup::NotFound {
            searched: vec![PathBuf::from("/nowhere/studies/demo.ron")],
        },
    ));
    harness.run();
    harness.get_by_label("study.ron");
    harness.get_by_label("Remove").click();
    harness.run();

    assert!(harness.query_by_label("study.ron").is_none());
    harness.get_by_label("None yet: the studies you open are listed here.");
    assert!(harness.state().settings().recent_studies.is_empty());
    assert!(path.is_file());
}

#[test]
fn without_a_demo_study_the_start_screen_says_where_it_looked() {
    let searched = vec![
        PathBuf::from("/here/studies/demo.ron"),
        PathBuf::from("/checkout/studies/demo.ron"),
    ];
    let mut harness = harness(App::new(
        Settings::default(),
        Startup::NotFound {
            searched: searched.clone(),
        },
    ));
    harness.run();

    assert_eq!(harness.state().state().screen, Screen::Start);
    harness.get_by_label("The bundled demo study was not found. Looked for:");
    for path in &searched {
        harness.get_by_label(&path.display().to_string());
    }
    // No study is open, so there is no Study screen to switch to.
    assert!(harness.query_by_label("Study").is_none());
}
