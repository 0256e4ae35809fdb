//! Image snapshots of the two study screens, rendered headless (wgpu on lavapipe).
//! Update with `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshots`. Temporary paths
//! differ between runs (and machines), so every label showing one is masked from its
//! start to the next button or the right edge: the mask does not depend on the path's
//! length.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod ui_support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use scanscribe::ui::App;
use ui_support::*;

fn mask_paths(harness: &mut Harness<'_, App>, folder: &str) {
    // Every path label ends its row but for buttons at the right: mask up to them.
    let right_edge = harness.ctx.content_rect().right() - 16.0;
    let buttons: Vec<egui::Rect> = harness
        .query_all_by_role(egui::accesskit::Role::Button)
        .map(|node| node.rect())
        .collect();
    let rects: Vec<egui::Rect> = harness
        .query_all_by_label_contains(folder)
        .map(|node| {
            let rect = node.rect();
            let right = buttons
                .iter()
                .filter(|b| b.min.x > rect.min.x && b.y_range().intersects(rect.y_range()))
                .map(|b| b.min.x - 8.0)
                .fold(right_edge, f32::min);
            egui::Rect::from_min_max(rect.min, egui::pos2(right, rect.max.y))
        })
        .collect();
    assert!(!rects.is_empty(), "no label shows {folder}");
    for rect in rects {
        harness.mask(rect);
    }
}

#[test]
fn study_overview_snapshot() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", VALID_STUDY);
    let mut harness = harness(app_opening(&path));
    wait_for_overview(&mut harness);
    harness.remove_cursor();
    harness.run();
    mask_paths(&mut harness, &fixture.folder_text());
    harness.snapshot("study_overview");
}

#[test]
fn validation_report_snapshot() {
    let fixture = StudyFixture::new();
    let path = fixture.write("study.ron", &invalid_study());
    let mut harness = harness(app_opening(&path));
    wait_for_failure(&mut harness);
    harness.remove_cursor();
    harness.run();
    mask_paths(&mut harness, &fixture.folder_text());
    harness.snapshot("validation_report");
}
