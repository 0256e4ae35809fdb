//! Running a recording session from the app (issue #7, recording half): the setup
//! (`setup.rs`), calibration and validation (`calibration.rs`), the subject's screen
//! in its own viewport (`presentation.rs`) and the experimenter's live monitor
//! (`monitor.rs`).
//!
//! Threads: the session thread (`worker.rs`) owns the gaze source and the
//! [`Runner`](crate::session::runner::Runner); it runs calibration (`calibrate.rs`),
//! then the trials with [`AppSubject`](subject::AppSubject), which turns each of the
//! runner's prompts into a screen and waits for the UI's answer. Probes for devices,
//! microphones and resumable sessions run on their own threads (`probe.rs`). The UI
//! thread only reads state and sends [`SessionCommand`]s; `handling.rs` applies them
//! and takes in the reports ([`protocol`]). The live gaze and fixations come from a
//! source wrapper on the session thread (`live.rs`). A BubbleView study shows the
//! stimulus blurred (`blur.rs`, on the session thread) with sharp discs where the
//! subject clicks (`bubble_view.rs`); the clicks go to the session thread as
//! [`ToSession::BubbleClick`](protocol::ToSession::BubbleClick).
//!
//! The shell knows this module through one state field (`AppState::session`), one
//! command variant (`Command::Session`), the `Screen::Session` variant, and a call
//! per frame for the presentation viewport.

pub mod blur;
pub mod bubble_view;
mod calibrate;
pub mod calibration;
pub mod command;
mod handling;
pub mod live;
pub mod monitor;
pub mod presentation;
pub mod probe;
pub mod protocol;
pub mod setup;
pub mod state;
pub mod subject;
pub mod worker;

pub use command::SessionCommand;
pub use state::{QuickStart, SessionState};

use crate::ui::app_state::AppState;
use crate::ui::command::CommandQueue;

use state::Stage;

/// The Session screen in the main window: the setup, or the running session's
/// calibration, monitor or summary.
pub fn session_ui(ui: &mut egui::Ui, state: &mut AppState, commands: &mut CommandQueue) {
    egui::CentralPanel::default().show(ui, |ui| {
        let Some(open) = state.study.loaded() else {
            ui.label("Open a valid study to run a session.");
            return;
        };
        let session = &mut state.session;
        egui::ScrollArea::vertical().show(ui, |ui| match &session.running {
            None => setup::setup_ui(ui, session, open, commands),
            Some(running) => match &running.stage {
                Stage::Opening => {
                    ui.horizontal(|ui| {
                        ui.add(egui::Spinner::new());
                        ui.label("Opening the gaze source…");
                    });
                }
                Stage::Calibrating => {
                    calibration::calibration_ui(ui, running, &open.loaded, commands);
                }
                Stage::Recording => monitor::monitor_ui(ui, running, &open.loaded, commands),
                Stage::Finished(_) => monitor::finished_ui(ui, running, commands),
            },
        });
    });
}
