//! The bar at the top: app name, screen switcher, the open study's path, and the
//! study actions (Reload, Open study…) on the Study screen.

use crate::ui::app_state::{AppState, Screen, StudyState};
use crate::ui::command::{Command, CommandQueue};
use crate::ui::session::SessionCommand;

pub const APP_NAME: &str = "scanscribe";

pub fn top_bar_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut CommandQueue) {
    egui::Panel::top("top_bar").show(ui, |ui| {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            ui.heading(egui::RichText::new(APP_NAME).strong());
            ui.separator();
            screen_switcher_ui(ui, state, commands);
            ui.separator();
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                // The Start screen has its own open actions.
                if matches!(state.screen, Screen::Study | Screen::Session) {
                    actions_ui(ui, state, commands);
                }
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    study_path_ui(ui, &state.study);
                });
            });
        });
        ui.add_space(4.0);
    });
}

fn screen_switcher_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut CommandQueue) {
    if ui
        .selectable_label(state.screen == Screen::Start, "Start")
        .clicked()
    {
        commands.send(Command::ShowScreen(Screen::Start));
    }
    if !matches!(state.study, StudyState::None)
        && ui
            .selectable_label(state.screen == Screen::Study, "Study")
            .clicked()
    {
        commands.send(Command::ShowScreen(Screen::Study));
    }
    if (state.screen == Screen::Session || state.session.running.is_some())
        && ui
            .selectable_label(state.screen == Screen::Session, "Session")
            .clicked()
    {
        commands.send(Command::ShowScreen(Screen::Session));
    }
    if ui
        .selectable_label(state.screen == Screen::Replay, "Replay")
        .on_hover_text("Play recorded sessions back")
        .clicked()
    {
        commands.send(Command::ShowScreen(Screen::Replay));
    }
    if ui
        .selectable_label(state.screen == Screen::Preview, "Preview")
        .on_hover_text("Enroll a subject and see descriptions written in their style")
        .clicked()
    {
        commands.send(Command::ShowScreen(Screen::Preview));
    }
}

fn actions_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut CommandQueue) {
    if state.study.loaded().is_some()
        && state.screen == Screen::Study
        && ui
            .button("Run a session…")
            .on_hover_text("Set up and record a session of this study")
            .clicked()
    {
        commands.send(Command::Session(SessionCommand::OpenSetup));
    }
    let open_label = if state.file_dialog_open {
        "Choosing a file…"
    } else {
        "Open study…"
    };
    if ui
        .add_enabled(!state.file_dialog_open, egui::Button::new(open_label))
        .on_hover_text("Choose a study file (.ron)")
        .clicked()
    {
        commands.send(Command::PickStudyFile);
    }
    // A failed study has its own Reload button in the validation report.
    if state.study.loaded().is_some()
        && ui
            .button("Reload")
            .on_hover_text("Read the study file again, e.g. after editing it")
            .clicked()
    {
        commands.send(Command::ReloadStudy);
    }
}

fn study_path_ui(ui: &mut egui::Ui, study: &StudyState) {
    let Some(path) = study.path() else {
        ui.weak("No study open");
        return;
    };
    // The state first, so it stays in place whatever the path's length.
    match study {
        StudyState::Failed(_) => {
            ui.colored_label(ui.visuals().error_fg_color, "not valid");
        }
        StudyState::Loading { .. } => {
            ui.add(egui::Spinner::new());
        }
        StudyState::None | StudyState::Loaded(_) => {}
    }
    let text = egui::RichText::new(path.display().to_string()).monospace();
    ui.add(egui::Label::new(text).truncate())
        .on_hover_text(path.display().to_string());
}
