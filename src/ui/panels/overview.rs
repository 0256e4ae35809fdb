//! The study overview: what the study is, how it is set up, and its trials.

use crate::study::{Questionnaire, Study};
use crate::ui::app_state::OpenStudy;

use super::trial_grid;

pub fn overview_ui(ui: &mut egui::Ui, open: &OpenStudy) {
    let study = &open.loaded.study;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.add_space(4.0);
        ui.heading(&study.title);
        ui.horizontal(|ui| {
            ui.weak("Study id");
            ui.monospace(&study.id);
            ui.weak("·");
            let green = if ui.visuals().dark_mode {
                egui::Color32::from_rgb(110, 200, 120)
            } else {
                egui::Color32::from_rgb(20, 120, 40)
            };
            ui.colored_label(green, "valid");
        });
        ui.add_space(8.0);
        egui::CollapsingHeader::new("Instructions for the subject")
            .default_open(true)
            .show(ui, |ui| {
                ui.add(egui::Label::new(&study.instructions).wrap());
            });
        egui::CollapsingHeader::new("Set-up")
            .default_open(true)
            .show(ui, |ui| setup_grid_ui(ui, open));
        ui.add_space(8.0);
        let pending = open.pending_thumbnails();
        ui.horizontal(|ui| {
            ui.heading(format!("Trials ({})", study.trials.len()));
            if pending > 0 {
                ui.add(egui::Spinner::new());
                ui.weak(format!("loading {pending} preview(s)…"));
            }
        });
        ui.add_space(4.0);
        trial_grid::trial_grid_ui(ui, open);
    });
}

fn setup_grid_ui(ui: &mut egui::Ui, open: &OpenStudy) {
    let study = &open.loaded.study;
    egui::Grid::new("study_setup")
        .num_columns(2)
        .spacing([24.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            for (name, value) in setup_rows(study) {
                ui.strong(name);
                ui.label(value);
                ui.end_row();
            }
            ui.strong("Image folder");
            ui.monospace(study.image_root.display().to_string())
                .on_hover_text(open.loaded.image_root.display().to_string());
            ui.end_row();
        });
}

/// The set-up facts, as (name, value) rows.
fn setup_rows(study: &Study) -> Vec<(&'static str, String)> {
    let screen = &study.screen;
    let calibration = &study.calibration;
    let total_viewing_ms: u64 = study
        .trials
        .iter()
        .map(|t| u64::from(t.viewing_time_ms))
        .sum();
    vec![
        (
            "Screen",
            format!(
                "{} × {} px, {} × {} mm",
                screen.resolution_px.0, screen.resolution_px.1, screen.size_mm.0, screen.size_mm.1
            ),
        ),
        (
            "Viewing distance",
            format!(
                "{} mm ({:.1} px per degree of visual angle)",
                screen.viewing_distance_mm,
                screen.px_per_degree()
            ),
        ),
        ("Gaze source", study.gaze_source.label().to_owned()),
        ("Attention", study.attention.label()),
        (
            "Calibration",
            format!(
                "{}{} points, then {} validation points; passes at ≤ {}° accuracy and ≤ {}° RMS precision",
                if study.attention.bubble_view().is_some() {
                    "only with an eye tracker beside the clicks: "
                } else {
                    ""
                },
                calibration.points,
                calibration.validation_points.len(),
                calibration.max_accuracy_deg,
                calibration.max_precision_rms_deg
            ),
        ),
        (
            "Trial order",
            match &study.randomization {
                Some(r) => format!("shuffled per subject (seed {})", r.seed),
                None => "as listed in the file".to_owned(),
            },
        ),
        (
            "Breaks",
            match &study.breaks {
                Some(b) => format!(
                    "after every {} trials, at least {}",
                    b.every_n_trials,
                    seconds(b.min_duration_ms)
                ),
                None => "none".to_owned(),
            },
        ),
        (
            "Questionnaire",
            match study.questionnaire {
                Some(Questionnaire::Tipi) => {
                    "TIPI (Ten-Item Personality Inventory) at the end".to_owned()
                }
                None => "none".to_owned(),
            },
        ),
        (
            "Viewing time",
            format!(
                "{} in total over {} trials",
                seconds_u64(total_viewing_ms),
                study.trials.len()
            ),
        ),
    ]
}

/// `8000` → `"8 s"`, `2500` → `"2.5 s"`.
pub fn seconds(duration_ms: u32) -> String {
    seconds_u64(u64::from(duration_ms))
}

fn seconds_u64(duration_ms: u64) -> String {
    if duration_ms.is_multiple_of(1000) {
        format!("{} s", duration_ms / 1000)
    } else {
        format!("{:.1} s", duration_ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(seconds(8000), "8 s");
        assert_eq!(seconds(2500), "2.5 s");
        assert_eq!(seconds(0), "0 s");
    }
}
