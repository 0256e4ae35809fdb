//! The app's runtime state: which screen is shown and what the open study looks
//! like right now (loading, loaded with its thumbnails, or failed with its problems).
//!
//! Only plain data and textures live here. Nothing in this file touches the disk or
//! spawns work; the command handler changes it, the panels read it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::study::{LoadedStudy, StudyError};

/// The screen in the central area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    /// Welcome, "Open study…", recent studies.
    #[default]
    Start,
    /// The open study: its overview, the validation report, or a spinner.
    Study,
    /// Running a recording session: setup, calibration, live monitor.
    Session,
    /// Replaying recorded sessions (see `ui::replay`).
    Replay,
    /// Enrolling a subject and previewing descriptions in their style (see
    /// `ui::preview`).
    Preview,
}

/// Everything the UI shows that is not remembered between runs.
#[derive(Default)]
pub struct AppState {
    pub screen: Screen,
    pub study: StudyState,
    /// Set when no study was named and the demo study was not found: where we looked.
    pub demo_not_found: Option<Vec<PathBuf>>,
    /// A file dialog is open on a worker thread.
    pub file_dialog_open: bool,
    /// A short message for the user about the last action (e.g. no file chosen).
    pub notice: Option<String>,
    /// The text of the "Study file" path field on the Start panel.
    pub path_input: String,
    /// The recording session screens (setup, calibration, presentation, monitor).
    pub session: crate::ui::session::SessionState,
    /// The Replay screen.
    pub replay: crate::ui::replay::state::ReplayState,
    /// The Enrollment and preview screen.
    pub preview: crate::ui::preview::state::PreviewState,
}

/// The study the app is showing.
#[derive(Default)]
pub enum StudyState {
    #[default]
    None,
    /// A worker is reading and validating the file.
    Loading {
        path: PathBuf,
    },
    Loaded(Box<OpenStudy>),
    Failed(Box<LoadFailure>),
}

impl StudyState {
    /// The study file being shown or loaded, as the user named it.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::None => None,
            Self::Loading { path } => Some(path),
            Self::Loaded(open) => Some(&open.loaded.path),
            Self::Failed(failure) => Some(&failure.path),
        }
    }

    pub fn is_loading(&self) -> bool {
        matches!(self, Self::Loading { .. })
    }

    /// The loaded study, if the file passed validation.
    pub fn loaded(&self) -> Option<&OpenStudy> {
        match self {
            Self::Loaded(open) => Some(open),
            _ => None,
        }
    }

    /// Why the file failed to load, if it did.
    pub fn failure(&self) -> Option<&LoadFailure> {
        match self {
            Self::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}

/// A study that passed validation, with its trial thumbnails as they arrive.
pub struct OpenStudy {
    pub loaded: LoadedStudy,
    /// One per trial, in the file's trial order.
    pub thumbnails: Vec<Thumbnail>,
}

impl OpenStudy {
    pub fn new(loaded: LoadedStudy) -> Self {
        let thumbnails = loaded
            .study
            .trials
            .iter()
            .map(|_| Thumbnail::Pending)
            .collect();
        Self { loaded, thumbnails }
    }

    /// How many thumbnails are still being decoded.
    pub fn pending_thumbnails(&self) -> usize {
        self.thumbnails
            .iter()
            .filter(|t| matches!(t, Thumbnail::Pending))
            .count()
    }
}

/// A trial's preview image.
pub enum Thumbnail {
    /// Still being decoded on a worker thread.
    Pending,
    Ready(egui::TextureHandle),
    /// The image could not be decoded (the study loaded, so this is rare: e.g. the
    /// file changed on disk since).
    Failed(String),
}

/// A study file that did not load, with what the user needs to fix it.
pub struct LoadFailure {
    pub path: PathBuf,
    pub error: StudyError,
    /// The text of the lines the error points at (1-based line → text), read by the
    /// loader so the report can quote them.
    pub quoted_lines: BTreeMap<usize, String>,
}
