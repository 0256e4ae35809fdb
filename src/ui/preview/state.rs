//! The enrollment and preview screen's runtime state: the model, the support trials
//! and which are chosen, the enrolled profile, the image described and its two
//! descriptions, and the subject's ratings being entered. Plain data; the jobs live in
//! `worker`.

use std::path::PathBuf;
use std::sync::Arc;

use super::ratings::{personalized_first, profile_path};
use super::worker::{Described, LoadedSupport, PreviewJobs};
use crate::model::deper::enroll::{Profile, TrainedModel};

/// The model the screen enrolls and describes with.
#[derive(Default)]
pub enum ModelStatus {
    #[default]
    None,
    /// Being built (the demo model) or read; the last progress line and fraction.
    Loading {
        progress: String,
        fraction: Option<f32>,
    },
    Ready {
        model: Arc<TrainedModel>,
        label: String,
    },
}

impl ModelStatus {
    pub fn ready(&self) -> Option<&Arc<TrainedModel>> {
        match self {
            Self::Ready { model, .. } => Some(model),
            _ => None,
        }
    }
}

/// A rating being entered for one shown description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingDraft {
    /// 1 to 5; `None` until the subject picks one.
    pub rating: Option<u8>,
    pub comment: String,
}

/// Everything the screen shows.
#[derive(Default)]
pub struct PreviewState {
    pub model: ModelStatus,
    /// The demo cohort's records file and unseen subjects (with the demo model).
    pub cohort: Option<(PathBuf, Vec<String>)>,
    /// The text fields.
    pub model_path_input: String,
    pub session_input: String,
    pub records_input: String,
    pub subject_input: String,
    pub image_input: String,
    pub support_loading: bool,
    pub support: Option<LoadedSupport>,
    /// One per support trial: chosen for enrollment.
    pub chosen: Vec<bool>,
    pub enrolling: bool,
    pub profile: Option<Profile>,
    /// Where the profile is saved or loaded from (defaults beside the support trials).
    pub profile_input: String,
    /// The profile came from this file (not from the support trials on screen).
    pub profile_loaded_from: Option<PathBuf>,
    /// Show which of A and B is the personalized description (for the experimenter).
    pub reveal: bool,
    /// The last profile save or load, for the user.
    pub profile_message: Option<String>,
    pub describing: bool,
    pub described: Option<Described>,
    /// The described image, uploaded.
    pub texture: Option<egui::TextureHandle>,
    /// Ratings of "A" and "B" (see [`PreviewState::personalized_first`]).
    pub drafts: [RatingDraft; 2],
    pub saving: bool,
    /// The last save's result for the user.
    pub saved_message: Option<String>,
    pub errors: Vec<String>,
    /// A model change asked for while an enrollment is on screen: it replaces the
    /// enrollment and the preview, so the screen asks first.
    pub pending_model: Option<super::PreviewCommand>,
    pub dialog_open: bool,
    pub jobs: PreviewJobs,
}

/// How many support trials are chosen by default (the paper's few-shot setting).
pub const DEFAULT_SHOTS: usize = 5;

impl PreviewState {
    /// Takes in new support trials: the first [`DEFAULT_SHOTS`] chosen, the profile
    /// and descriptions of the previous subject dropped, the reveal switch off.
    pub fn set_support(&mut self, support: LoadedSupport) {
        self.chosen = (0..support.trials.records.len())
            .map(|i| i < DEFAULT_SHOTS)
            .collect();
        self.profile_input = profile_path(
            support.session.as_deref(),
            support.records.as_deref(),
            &support.subject,
        )
        .display()
        .to_string();
        self.support = Some(support);
        self.profile = None;
        self.profile_loaded_from = None;
        self.described = None;
        self.drafts = Default::default();
        // The next subject rates blind.
        self.reveal = false;
    }

    /// Indices of the chosen support trials.
    pub fn chosen_indices(&self) -> Vec<usize> {
        (0..self.chosen.len()).filter(|&i| self.chosen[i]).collect()
    }

    /// Where `subject`'s ratings are saved: with their support trials on screen, else
    /// beside the profile loaded for them (`ratings/<subject>.jsonl`).
    pub fn ratings_file(&self, subject: &str) -> PathBuf {
        if let Some(support) = self.support.as_ref().filter(|s| s.subject == subject) {
            return super::ratings::ratings_path(
                support.session.as_deref(),
                support.records.as_deref(),
                subject,
            );
        }
        // Beside the profile file, as beside a records file.
        super::ratings::ratings_path(None, self.profile_loaded_from.as_deref(), subject)
    }

    /// Images to describe: the support set's, in order, without repeats.
    pub fn candidate_images(&self) -> Vec<PathBuf> {
        let mut images: Vec<PathBuf> = Vec::new();
        if let Some(support) = &self.support {
            for i in 0..support.trials.records.len() {
                let path = support.trials.image_path(i);
                if !images.contains(&path) {
                    images.push(path);
                }
            }
        }
        images
    }

    /// What the subject said about `image`, if a support trial shows it.
    pub fn said_about(&self, image: &std::path::Path) -> Option<String> {
        let support = self.support.as_ref()?;
        (0..support.trials.records.len())
            .find(|&i| support.trials.image_path(i) == image)
            .map(|i| support.trials.records[i].description.clone())
    }

    /// Whether "A" is the personalized description for the image described.
    pub fn personalized_first(&self) -> bool {
        match (&self.profile, &self.described) {
            (Some(profile), Some(described)) => {
                personalized_first(&profile.subject, &described.image.display().to_string())
            }
            _ => false,
        }
    }

    /// Whether the image described was one of the enrollment trials (its words were
    /// seen by the model, so its scores flatter the personalized description).
    pub fn described_image_in_support(&self) -> bool {
        let (Some(support), Some(described)) = (&self.support, &self.described) else {
            return false;
        };
        self.chosen_indices()
            .iter()
            .any(|&i| support.trials.image_path(i) == described.image)
    }
}
