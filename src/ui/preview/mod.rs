//! The Enrollment and preview screen: a subject's recorded trials (a session folder)
//! or cohort records enroll them with a trained model — by default the demo model,
//! built and cached on first need — and any image is then described twice, generic
//! and personalized, beside what the subject said about it, with BLEU-4 and OSS
//! against their words. The subject rates both descriptions, shown blind as A and B,
//! and the ratings are saved with the session.
//!
//! Layout: `state` what is shown, `worker` the background jobs, `ratings` the saved
//! file, `screen` the drawing. [`handle_command`] applies [`PreviewCommand`]s and
//! [`receive_events`] takes in finished jobs; nothing here blocks the UI thread.

pub mod ratings;
pub mod screen;
pub mod state;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ratings::{DescriptionKind, RatedDescription, RatingEntry};
use state::{ModelStatus, PreviewState};
use worker::{Dialog, PreviewEvent};

use crate::model::deper::demo_model::{DemoSpec, default_demo_dir};

/// What the preview screen asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewCommand {
    /// Use the demo model of `spec` (built on first need, then cached) in `root`.
    UseDemoModel {
        root: PathBuf,
        spec: DemoSpec,
    },
    LoadModel(PathBuf),
    /// Support trials from a recorded session folder.
    LoadSession(PathBuf),
    /// Support trials of one subject from dataset records.
    LoadRecords {
        path: PathBuf,
        subject: String,
    },
    /// Choose or unchoose support trial `index` for enrollment.
    ToggleTrial(usize),
    Enroll,
    Describe(PathBuf),
    /// Rate "A" (0) or "B" (1) from 1 to 5.
    Rate {
        shown: usize,
        rating: u8,
    },
    SaveRatings,
    /// Save the enrolled profile (RON, as `scanscribe enroll --out` writes it).
    SaveProfile(PathBuf),
    /// Load a profile saved for the model in use.
    LoadProfile(PathBuf),
    Pick(Dialog),
    DismissErrors,
}

impl PreviewCommand {
    /// The demo model in its usual cache folder.
    pub fn use_default_demo_model() -> Self {
        Self::UseDemoModel {
            root: default_demo_dir(),
            spec: DemoSpec::default(),
        }
    }
}

/// Applies one command; slow work goes to worker threads.
pub fn handle_command(state: &mut PreviewState, ctx: &egui::Context, command: PreviewCommand) {
    let started = match command {
        PreviewCommand::UseDemoModel { root, spec } => {
            state.model = ModelStatus::Loading {
                progress: "Looking for the demo model…".into(),
                fraction: None,
            };
            state.jobs.demo_model(ctx, root, spec)
        }
        PreviewCommand::LoadModel(dir) => {
            state.model = ModelStatus::Loading {
                progress: format!("Loading {}…", dir.display()),
                fraction: None,
            };
            state.jobs.load_model(ctx, dir)
        }
        PreviewCommand::LoadSession(dir) => {
            state.support_loading = true;
            state.jobs.load_session(ctx, dir)
        }
        PreviewCommand::LoadRecords { path, subject } => {
            state.support_loading = true;
            state.jobs.load_records(ctx, path, subject)
        }
        PreviewCommand::ToggleTrial(index) => {
            if let Some(chosen) = state.chosen.get_mut(index) {
                *chosen = !*chosen;
            }
            Ok(())
        }
        PreviewCommand::Enroll => enroll(state, ctx),
        PreviewCommand::Describe(image) => describe(state, ctx, image),
        PreviewCommand::Rate { shown, rating } => {
            if let Some(draft) = state.drafts.get_mut(shown) {
                draft.rating = Some(rating.clamp(1, 5));
            }
            Ok(())
        }
        PreviewCommand::SaveRatings => save_ratings(state, ctx),
        PreviewCommand::SaveProfile(path) => match state.profile.clone() {
            Some(profile) => state.jobs.save_profile(ctx, profile, path),
            None => Err("Enroll a subject before saving a profile.".to_owned()),
        },
        PreviewCommand::LoadProfile(path) => match state.model.ready() {
            Some(model) => state.jobs.load_profile(ctx, Arc::clone(model), path),
            None => Err("Choose a model before loading a profile.".to_owned()),
        },
        PreviewCommand::Pick(dialog) => {
            state.dialog_open = true;
            state.jobs.pick(ctx, dialog, None)
        }
        PreviewCommand::DismissErrors => {
            state.errors.clear();
            Ok(())
        }
    };
    if let Err(message) = started {
        state.errors.push(message);
    }
}

fn enroll(state: &mut PreviewState, ctx: &egui::Context) -> Result<(), String> {
    let model = state
        .model
        .ready()
        .cloned()
        .ok_or("Choose a model first.")?;
    let support = state.support.as_ref().ok_or("Load support trials first.")?;
    let chosen = state.chosen_indices();
    if chosen.is_empty() {
        return Err("Choose at least one trial to enroll from.".into());
    }
    state.enrolling = true;
    state.profile = None;
    state.described = None;
    state
        .jobs
        .enroll(ctx, model, support.trials.clone(), chosen)
}

fn describe(state: &mut PreviewState, ctx: &egui::Context, image: PathBuf) -> Result<(), String> {
    let model = state
        .model
        .ready()
        .cloned()
        .ok_or("Choose a model first.")?;
    let profile = state.profile.as_ref().ok_or("Enroll the subject first.")?;
    let said = state.said_about(&image);
    state.describing = true;
    state.image_input = image.display().to_string();
    state
        .jobs
        .describe(ctx, model, profile.z_s.clone(), image, said)
}

fn save_ratings(state: &mut PreviewState, ctx: &egui::Context) -> Result<(), String> {
    let (Some(profile), Some(described)) = (&state.profile, &state.described) else {
        return Err("Describe an image before rating it.".into());
    };
    let personalized_first = state.personalized_first();
    let mut descriptions = Vec::new();
    for (shown, draft) in state.drafts.iter().enumerate() {
        let label = ["A", "B"][shown];
        let rating = draft
            .rating
            .ok_or_else(|| format!("Rate description {label} from 1 to 5 first."))?;
        let kind = if (shown == 0) == personalized_first {
            DescriptionKind::Personalized
        } else {
            DescriptionKind::Generic
        };
        let text = match kind {
            DescriptionKind::Personalized => &described.personalized,
            DescriptionKind::Generic => &described.generic,
        };
        descriptions.push(RatedDescription {
            label: label.into(),
            kind,
            text: text.clone(),
            rating,
            comment: draft.comment.trim().to_owned(),
        });
    }
    let entry = RatingEntry {
        saved_unix_s: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        subject: profile.subject.clone(),
        model_fingerprint: profile.model_fingerprint.clone(),
        support_trials: profile
            .trials
            .iter()
            .map(|t| t.trial.clone().unwrap_or_else(|| t.image.clone()))
            .collect(),
        image: described.image.display().to_string(),
        said: described.said.clone(),
        descriptions,
    };
    let path = state.ratings_file(&profile.subject);
    state.saving = true;
    state.saved_message = None;
    state.jobs.save_rating(ctx, path, entry)
}

/// Takes in every finished job.
pub fn receive_events(state: &mut PreviewState, ctx: &egui::Context) {
    while let Some(event) = state.jobs.try_receive() {
        match event {
            PreviewEvent::DemoProgress(progress, fraction) => {
                if let ModelStatus::Loading { .. } = state.model {
                    state.model = ModelStatus::Loading { progress, fraction };
                }
            }
            PreviewEvent::Model(outcome) => match outcome {
                Ok(ready) => {
                    if let Some((records, subjects)) = &ready.cohort {
                        state.records_input = records.display().to_string();
                        if state.subject_input.is_empty()
                            && let Some(first) = subjects.first()
                        {
                            state.subject_input = first.clone();
                        }
                    }
                    state.cohort = ready.cohort;
                    state.model = ModelStatus::Ready {
                        model: ready.model,
                        label: ready.label,
                    };
                    state.profile = None;
                    state.described = None;
                }
                Err(message) => {
                    state.model = ModelStatus::None;
                    state.errors.push(message);
                }
            },
            PreviewEvent::Support(outcome) => {
                state.support_loading = false;
                match outcome {
                    Ok(support) => state.set_support(support),
                    Err(message) => state.errors.push(message),
                }
            }
            PreviewEvent::Enrolled(outcome) => {
                state.enrolling = false;
                match outcome {
                    Ok(profile) => {
                        state.profile = Some(profile);
                        state.profile_loaded_from = None;
                        state.profile_message = None;
                    }
                    Err(message) => state.errors.push(message),
                }
            }
            PreviewEvent::Described(outcome) => {
                state.describing = false;
                state.drafts = Default::default();
                state.saved_message = None;
                state.texture = None;
                match outcome {
                    Ok(described) => {
                        match &described.pixels {
                            Ok(pixels) => {
                                let image = egui::ColorImage::from_rgba_unmultiplied(
                                    pixels.size_px,
                                    &pixels.rgba,
                                );
                                state.texture = Some(ctx.load_texture(
                                    "preview-image",
                                    image,
                                    egui::TextureOptions::LINEAR,
                                ));
                            }
                            Err(message) => state.errors.push(message.clone()),
                        }
                        // A new pair is rated blind: the experimenter's reveal is
                        // undone for it.
                        state.reveal = false;
                        state.described = Some(described);
                    }
                    Err(message) => state.errors.push(message),
                }
            }
            PreviewEvent::RatingsSaved(outcome) => {
                state.saving = false;
                match outcome {
                    Ok((path, count)) => {
                        state.saved_message = Some(format!(
                            "Saved to {} ({count} rated image{}).",
                            path.display(),
                            if count == 1 { "" } else { "s" }
                        ));
                    }
                    Err(message) => state.errors.push(message),
                }
            }
            PreviewEvent::ProfileSaved(outcome) => match outcome {
                Ok(path) => {
                    state.profile_message = Some(format!("Profile saved to {}.", path.display()))
                }
                Err(message) => state.errors.push(message),
            },
            PreviewEvent::ProfileLoaded(outcome) => match outcome {
                Ok((path, profile)) => {
                    state.profile_message = Some(format!(
                        "Profile of {} loaded ({} support trials).",
                        profile.subject,
                        profile.trials.len()
                    ));
                    state.profile_loaded_from = Some(path);
                    state.profile = Some(profile);
                    state.described = None;
                    state.drafts = Default::default();
                }
                Err(message) => state.errors.push(message),
            },
            PreviewEvent::DialogClosed(dialog, chosen) => {
                state.dialog_open = false;
                if let Some(path) = chosen {
                    let command = match dialog {
                        Dialog::ModelFolder => {
                            state.model_path_input = path.display().to_string();
                            PreviewCommand::LoadModel(path)
                        }
                        Dialog::SessionFolder => {
                            state.session_input = path.display().to_string();
                            PreviewCommand::LoadSession(path)
                        }
                        Dialog::RecordsFile => {
                            state.records_input = path.display().to_string();
                            PreviewCommand::LoadRecords {
                                path,
                                subject: state.subject_input.trim().to_owned(),
                            }
                        }
                        Dialog::Image => PreviewCommand::Describe(path),
                    };
                    if matches!(command, PreviewCommand::LoadModel(_)) && state.profile.is_some() {
                        // It would clear the enrollment on screen: the screen asks first.
                        state.pending_model = Some(command);
                    } else {
                        handle_command(state, ctx, command);
                    }
                }
            }
        }
    }
}
