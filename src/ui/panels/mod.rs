//! The app's panels, one per file. Each reads the state and sends commands; none
//! touches the disk or the workers.

pub mod loading;
pub mod overview;
pub mod start;
pub mod status_bar;
pub mod top_bar;
pub mod trial_grid;
pub mod validation;

use super::app_state::{AppState, Screen, StudyState};
use super::command::{Command, CommandQueue};

/// The Study screen: whichever panel fits the study's state.
pub fn study_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut CommandQueue) {
    egui::CentralPanel::default().show(ui, |ui| match &state.study {
        StudyState::None => {
            ui.label("No study is open.");
            if ui.button("Go to the Start screen").clicked() {
                commands.send(Command::ShowScreen(Screen::Start));
            }
        }
        StudyState::Loading { path } => loading::loading_ui(ui, path),
        StudyState::Loaded(open) => overview::overview_ui(ui, open),
        StudyState::Failed(failure) => validation::validation_ui(ui, failure, commands),
    });
}
