//! What the UI can ask the app to do. Panels only push commands; the command handler
//! (`command_handling.rs`) applies them after the frame is drawn, and starts workers
//! for anything slow.

use std::path::PathBuf;

use super::app_state::Screen;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Ask the user for a study file in a file dialog (on a worker thread).
    PickStudyFile,
    /// Read and validate a study file (on a worker thread) and show it.
    LoadStudy(PathBuf),
    /// Load the study file being shown again, e.g. after fixing it.
    ReloadStudy,
    ShowScreen(Screen),
    /// Remove a study from the recent list (the file is left alone).
    ForgetRecentStudy(PathBuf),
    /// Hide the notice in the status bar.
    DismissNotice,
    /// A request of the session screens (handled in `ui::session`).
    Session(crate::ui::session::SessionCommand),
    /// Something for the Replay screen (handled in `ui::replay`).
    Replay(crate::ui::replay::ReplayCommand),
    /// Something for the Enrollment and preview screen (handled in `ui::preview`).
    Preview(crate::ui::preview::PreviewCommand),
}

/// Commands sent during a frame, applied in order after it.
#[derive(Debug, Default)]
pub struct CommandQueue {
    pending: Vec<Command>,
}

impl CommandQueue {
    pub fn send(&mut self, command: Command) {
        self.pending.push(command);
    }

    pub fn take_all(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.pending)
    }
}
