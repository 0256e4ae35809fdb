//! The replay screen's runtime state: the open sessions (each with its colour), what
//! is loading, the chosen trial, the playhead, the view options and the stimulus
//! textures. Plain data plus textures; loading and saving happen in `worker`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::data::{ReplaySession, ReplayTrial};
use super::heatmap::HeatmapSettings;
use super::settled_mesh::SettledMeshes;
use super::worker::ReplayJobs;

/// The colours subjects are drawn in, in the order they were opened.
pub const SUBJECT_COLORS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(255, 99, 71),
    egui::Color32::from_rgb(30, 144, 255),
    egui::Color32::from_rgb(50, 205, 50),
    egui::Color32::from_rgb(255, 165, 0),
    egui::Color32::from_rgb(186, 85, 211),
    egui::Color32::from_rgb(0, 206, 209),
];

/// Playback speeds offered.
pub const SPEEDS: [f32; 6] = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

/// How several subjects are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// One view per subject, next to each other.
    #[default]
    SideBySide,
    /// All subjects on one image, each in its colour.
    Overlay,
}

/// The playhead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Playback {
    /// Time from stimulus onset, ms.
    pub time_ms: f32,
    pub playing: bool,
    /// Replay speed (1 = real time).
    pub speed: f32,
}

impl Default for Playback {
    fn default() -> Self {
        Self {
            time_ms: 0.0,
            playing: false,
            speed: 1.0,
        }
    }
}

/// What is drawn over the stimulus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewOptions {
    pub fixations: bool,
    pub saccades: bool,
    pub gaze_point: bool,
    /// Show only the fixations of the last this many seconds; `None`: all so far.
    pub trail_s: Option<f32>,
    pub heatmap: HeatmapSettings,
}

impl Default for ViewOptions {
    fn default() -> Self {
        Self {
            fixations: true,
            saccades: true,
            gaze_point: true,
            trail_s: None,
            heatmap: HeatmapSettings::default(),
        }
    }
}

/// One open session and its colour.
pub struct OpenSubject {
    pub session: Arc<ReplaySession>,
    pub color: egui::Color32,
}

/// A stimulus image as a texture.
pub enum StimulusTexture {
    Pending,
    Ready(egui::TextureHandle),
    Failed(String),
}

/// Everything the replay screen shows.
#[derive(Default)]
pub struct ReplayState {
    pub subjects: Vec<OpenSubject>,
    /// Session folders being read on worker threads.
    pub loading: Vec<PathBuf>,
    /// Problems with the last actions (a folder that is not a session, a study mismatch).
    pub errors: Vec<String>,
    /// The last export's result, for the user.
    pub export_message: Option<String>,
    pub trial_id: Option<String>,
    pub playback: Playback,
    pub layout: Layout,
    pub view: ViewOptions,
    /// The "Session folder" field.
    pub path_input: String,
    /// The "Export folder" field; filled in when the first session opens.
    pub export_dir_input: String,
    /// The open study's id and trial ids in file order: the trial list follows it
    /// for sessions of that study (a session only knows its own, shuffled, order).
    pub study_order: Option<(String, Vec<String>)>,
    pub dialog_open: bool,
    /// Stimulus textures by image path.
    pub textures: HashMap<PathBuf, StimulusTexture>,
    /// The heat map pipelines are installed in the renderer (a wgpu renderer).
    pub heatmap_gpu: bool,
    /// Where the views were drawn last frame (points), for the PNG export.
    pub views_rect: Option<egui::Rect>,
    /// The settled part of each view's scanpaths, tessellated once.
    pub settled_meshes: SettledMeshes,
    pub jobs: ReplayJobs,
}

impl ReplayState {
    /// Trial ids of the open sessions: in the study's order when the open study is
    /// theirs, else the first session's presentation order; then any others.
    pub fn trial_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        let recorded = |id: &str| self.subjects.iter().any(|s| s.session.trial(id).is_some());
        if let (Some((study_id, order)), Some(first)) = (&self.study_order, self.subjects.first())
            && *study_id == first.session.study_id
        {
            ids.extend(order.iter().filter(|id| recorded(id)).cloned());
        }
        for subject in &self.subjects {
            for trial in &subject.session.trials {
                if !ids.contains(&trial.id) {
                    ids.push(trial.id.clone());
                }
            }
        }
        ids
    }

    /// The chosen trial of each open subject that recorded it, with the subject.
    pub fn current_trials(&self) -> Vec<(&OpenSubject, &ReplayTrial)> {
        let Some(id) = &self.trial_id else {
            return Vec::new();
        };
        self.subjects
            .iter()
            .filter_map(|s| s.session.trial(id).map(|t| (s, t)))
            .collect()
    }

    /// The chosen trial's length: the longest of the subjects', ms.
    pub fn duration_ms(&self) -> f32 {
        self.current_trials()
            .iter()
            .map(|(_, t)| t.duration_ms as f32)
            .fold(0.0, f32::max)
    }

    /// The colour for the next subject opened.
    pub fn next_color(&self) -> egui::Color32 {
        let used = |c: &egui::Color32| self.subjects.iter().any(|s| s.color == *c);
        SUBJECT_COLORS
            .iter()
            .find(|c| !used(c))
            .copied()
            .unwrap_or(SUBJECT_COLORS[self.subjects.len() % SUBJECT_COLORS.len()])
    }

    /// Moves the playhead by `dt_s` of wall time when playing; stops at the end.
    pub fn advance(&mut self, dt_s: f32) {
        if !self.playback.playing {
            return;
        }
        let duration = self.duration_ms();
        let dt_s = dt_s.clamp(0.0, 0.25);
        self.playback.time_ms += dt_s * 1000.0 * self.playback.speed;
        if self.playback.time_ms >= duration {
            self.playback.time_ms = duration;
            self.playback.playing = false;
        }
    }
}
