//! The Start screen: what the app is for, opening a study (dialog or typed path),
//! and the recently opened studies.

use std::path::{Path, PathBuf};

use crate::ui::app_state::AppState;
use crate::ui::command::{Command, CommandQueue};
use crate::ui::settings::Settings;

pub fn start_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    settings: &Settings,
    commands: &mut CommandQueue,
) {
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.set_max_width(760.0);
            ui.add_space(8.0);
            ui.heading("Welcome to scanscribe");
            ui.label(
                "Eye-tracking studies of how people look at images and describe them. \
                 Open a study file to check it and see its trials.",
            );
            ui.add_space(12.0);
            if let Some(searched) = &state.demo_not_found {
                demo_not_found_ui(ui, searched);
                ui.add_space(12.0);
            }
            open_ui(ui, state, commands);
            ui.add_space(20.0);
            recent_studies_ui(ui, &settings.recent_studies, commands);
        });
    });
}

fn demo_not_found_ui(ui: &mut egui::Ui, searched: &[PathBuf]) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The bundled demo study was not found. Looked for:",
        );
        for path in searched {
            ui.monospace(path.display().to_string());
        }
        ui.label("Open a study file below, or start scanscribe with --study PATH.");
    });
}

fn open_ui(ui: &mut egui::Ui, state: &mut AppState, commands: &mut CommandQueue) {
    ui.horizontal(|ui| {
        let label = if state.file_dialog_open {
            "Choosing a file…"
        } else {
            "Open study…"
        };
        if ui
            .add_enabled(!state.file_dialog_open, egui::Button::new(label))
            .clicked()
        {
            commands.send(Command::PickStudyFile);
        }
        ui.weak("or type its path:");
    });
    ui.horizontal(|ui| {
        let label = ui.label("Study file");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut state.path_input)
                    .hint_text("studies/demo.ron")
                    .desired_width(420.0),
            )
            .labelled_by(label.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = state.path_input.trim();
        let clicked = ui
            .add_enabled(!path.is_empty(), egui::Button::new("Open"))
            .clicked();
        if (clicked || entered) && !path.is_empty() {
            commands.send(Command::LoadStudy(PathBuf::from(path)));
        }
    });
}

fn recent_studies_ui(ui: &mut egui::Ui, recent: &[PathBuf], commands: &mut CommandQueue) {
    ui.heading("Recent studies");
    if recent.is_empty() {
        ui.weak("None yet: the studies you open are listed here.");
        return;
    }
    egui::Grid::new("recent_studies")
        .num_columns(3)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            for path in recent {
                if ui
                    .button(file_name(path))
                    .on_hover_text(format!("Open {}", path.display()))
                    .clicked()
                {
                    commands.send(Command::LoadStudy(path.clone()));
                }
                let folder = path
                    .parent()
                    .map_or(String::new(), |p| p.display().to_string());
                ui.weak(folder);
                if ui
                    .small_button("Remove")
                    .on_hover_text("Remove from this list (the file is kept)")
                    .clicked()
                {
                    commands.send(Command::ForgetRecentStudy(path.clone()));
                }
                ui.end_row();
            }
        });
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}
