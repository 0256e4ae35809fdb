//! The preview screen's background jobs: building or loading the model, reading the
//! support trials (a session folder or cohort records), enrolling, describing an image
//! both ways with its scores, saving ratings, and the file dialogs. Each runs on its
//! own thread and reports through the preview channel, waking the UI.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};

use candle_core::Device;

use super::ratings::{RatingEntry, append_rating};
use crate::dataset::read_records;
use crate::interop::records::read_session_records;
use crate::metrics::wordnet::{DEFAULT_WORDNET_DIR, Lexicon};
use crate::model::deper::data::Trials;
use crate::model::deper::demo_model::{DemoProgress, DemoSpec, ensure_demo_model};
use crate::model::deper::enroll::{
    Profile, TrainedModel, enroll_trials, load_profile, save_profile,
};
use crate::model::deper::personalization::{QueryDescriptions, score};
use crate::model::generate::GenerateOptions;
use crate::ui::replay::worker::{StimulusPixels, decode_stimulus, spawn};

/// A model ready to enroll and describe with.
pub struct ReadyModel {
    pub model: Arc<TrainedModel>,
    /// What to call it on screen.
    pub label: String,
    /// The demo cohort's records and its unseen subjects, for the demo model.
    pub cohort: Option<(PathBuf, Vec<String>)>,
}

/// Support trials read from a session or from cohort records.
pub struct LoadedSupport {
    pub trials: Trials,
    pub subject: String,
    /// The session folder the trials came from (ratings are saved there).
    pub session: Option<PathBuf>,
    /// The records file they came from.
    pub records: Option<PathBuf>,
    /// Trials of the session left out, with why.
    pub skipped: Vec<String>,
}

/// Both descriptions of one image, with scores against what the subject said.
pub struct Described {
    pub image: PathBuf,
    pub said: Option<String>,
    pub generic: String,
    pub personalized: String,
    /// BLEU-4 `(generic, personalized)` against `said`.
    pub bleu4: Option<(f64, f64)>,
    /// OSS `(generic, personalized)` against `said` (needs WordNet).
    pub oss: Option<(f64, f64)>,
    /// The image for display, or why it could not be decoded.
    pub pixels: Result<StimulusPixels, String>,
}

/// Which dialog closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    ModelFolder,
    SessionFolder,
    RecordsFile,
    Image,
}

/// A report from a preview job.
pub enum PreviewEvent {
    /// How building the demo model is going.
    DemoProgress(String, Option<f32>),
    Model(Result<ReadyModel, String>),
    Support(Result<LoadedSupport, String>),
    Enrolled(Result<Profile, String>),
    Described(Result<Described, String>),
    /// Ratings saved: the file and how many entries it holds now.
    RatingsSaved(Result<(PathBuf, usize), String>),
    ProfileSaved(Result<PathBuf, String>),
    ProfileLoaded(Result<(PathBuf, Profile), String>),
    DialogClosed(Dialog, Option<PathBuf>),
}

/// The preview channel.
pub struct PreviewJobs {
    sender: Sender<PreviewEvent>,
    receiver: Receiver<PreviewEvent>,
}

impl Default for PreviewJobs {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Self { sender, receiver }
    }
}

/// Sends reports of one job and wakes the UI.
#[derive(Clone)]
struct Reporter {
    sender: Sender<PreviewEvent>,
    ctx: egui::Context,
}

impl Reporter {
    fn send(&self, event: PreviewEvent) {
        // A closed channel means the app is gone; nobody is left to tell.
        if self.sender.send(event).is_ok() {
            self.ctx.request_repaint();
        }
    }
}

impl PreviewJobs {
    fn reporter(&self, ctx: &egui::Context) -> Reporter {
        Reporter {
            sender: self.sender.clone(),
            ctx: ctx.clone(),
        }
    }

    /// The next report, if one has arrived. Never blocks.
    pub fn try_receive(&self) -> Option<PreviewEvent> {
        self.receiver.try_recv().ok()
    }

    /// Builds the demo model in `root` if it is not cached yet, then loads it.
    pub fn demo_model(
        &self,
        ctx: &egui::Context,
        root: PathBuf,
        spec: DemoSpec,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-demo-model", move || {
            let progress_reporter = reporter.clone();
            let mut progress = |p: &DemoProgress| {
                let (text, fraction) = match p {
                    DemoProgress::Simulating { done, total } => (
                        format!("Simulating the demo cohort ({done}/{total})"),
                        Some(*done as f32 / (*total).max(1) as f32),
                    ),
                    DemoProgress::Training(t) => (
                        format!(
                            "Training stage {:?}: epoch {}/{}, batch {}/{}, loss {:.3}",
                            t.stage,
                            t.epoch + 1,
                            t.epochs,
                            t.batch,
                            t.batches,
                            t.loss
                        ),
                        Some(
                            (t.epoch as f32 + t.batch as f32 / t.batches.max(1) as f32)
                                / t.epochs.max(1) as f32,
                        ),
                    ),
                };
                progress_reporter.send(PreviewEvent::DemoProgress(text, fraction));
            };
            let outcome = ensure_demo_model(&root, &spec, &Device::Cpu, &mut progress)
                .map_err(|e| e.to_string())
                .and_then(|demo| {
                    let model = TrainedModel::load(&demo.model, &Device::Cpu)
                        .map_err(|e| format!("{}: {e}", demo.model.display()))?;
                    Ok(ReadyModel {
                        model: Arc::new(model),
                        label: format!("the demo model ({})", demo.model.display()),
                        cohort: Some((demo.data.join("records.jsonl"), demo.unseen_subjects())),
                    })
                });
            reporter.send(PreviewEvent::Model(outcome));
        })
    }

    pub fn load_model(&self, ctx: &egui::Context, dir: PathBuf) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-model", move || {
            let outcome = TrainedModel::load(&dir, &Device::Cpu)
                .map(|model| ReadyModel {
                    model: Arc::new(model),
                    label: dir.display().to_string(),
                    cohort: None,
                })
                .map_err(|e| format!("{} is not a trained model folder: {e}", dir.display()));
            reporter.send(PreviewEvent::Model(outcome));
        })
    }

    pub fn load_session(&self, ctx: &egui::Context, dir: PathBuf) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-session", move || {
            reporter.send(PreviewEvent::Support(session_support(&dir)));
        })
    }

    pub fn load_records(
        &self,
        ctx: &egui::Context,
        path: PathBuf,
        subject: String,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-records", move || {
            reporter.send(PreviewEvent::Support(records_support(&path, &subject)));
        })
    }

    pub fn enroll(
        &self,
        ctx: &egui::Context,
        model: Arc<TrainedModel>,
        trials: Trials,
        chosen: Vec<usize>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-enroll", move || {
            let outcome = enroll_trials(&model, &trials, &chosen).map_err(|e| e.to_string());
            reporter.send(PreviewEvent::Enrolled(outcome));
        })
    }

    pub fn describe(
        &self,
        ctx: &egui::Context,
        model: Arc<TrainedModel>,
        z_s: Vec<f32>,
        image: PathBuf,
        said: Option<String>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-describe", move || {
            reporter.send(PreviewEvent::Described(describe_both(
                &model, &z_s, image, said,
            )));
        })
    }

    pub fn save_rating(
        &self,
        ctx: &egui::Context,
        path: PathBuf,
        entry: RatingEntry,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-ratings", move || {
            let outcome = append_rating(&path, &entry).map(|count| (path, count));
            reporter.send(PreviewEvent::RatingsSaved(outcome));
        })
    }

    pub fn save_profile(
        &self,
        ctx: &egui::Context,
        profile: Profile,
        path: PathBuf,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-profile", move || {
            let outcome = path
                .parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| format!("{}: {e}", path.display()))
                .and_then(|()| save_profile(&profile, &path).map_err(|e| e.to_string()))
                .map(|()| path);
            reporter.send(PreviewEvent::ProfileSaved(outcome));
        })
    }

    /// Reads a saved profile; it must come from `model` (same fingerprint).
    pub fn load_profile(
        &self,
        ctx: &egui::Context,
        model: Arc<TrainedModel>,
        path: PathBuf,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-profile", move || {
            let outcome = load_profile(&path, &model)
                .map(|profile| (path, profile))
                .map_err(|e| e.to_string());
            reporter.send(PreviewEvent::ProfileLoaded(outcome));
        })
    }

    /// A file or folder dialog for `dialog`, starting in `folder`.
    pub fn pick(
        &self,
        ctx: &egui::Context,
        dialog: Dialog,
        folder: Option<PathBuf>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("preview-dialog", move || {
            let mut files = rfd::FileDialog::new();
            if let Some(folder) = folder {
                files = files.set_directory(folder);
            }
            let chosen = match dialog {
                Dialog::ModelFolder => files.set_title("Open a trained model folder").pick_folder(),
                Dialog::SessionFolder => files.set_title("Open a session folder").pick_folder(),
                Dialog::RecordsFile => files
                    .set_title("Open dataset records")
                    .add_filter("records", &["jsonl"])
                    .pick_file(),
                Dialog::Image => files
                    .set_title("Describe an image")
                    .add_filter("images", &["png", "jpg", "jpeg", "bmp", "webp"])
                    .pick_file(),
            };
            reporter.send(PreviewEvent::DialogClosed(dialog, chosen));
        })
    }
}

/// The finished, described trials of a session folder.
fn session_support(dir: &Path) -> Result<LoadedSupport, String> {
    let session = read_session_records(dir).map_err(|e| e.to_string())?;
    let Some(first) = session.records.first() else {
        return Err(format!(
            "{}: no finished trial with a description and a trajectory{}",
            dir.display(),
            if session.skipped.is_empty() {
                String::new()
            } else {
                format!(" ({})", session.skipped.join("; "))
            }
        ));
    };
    let subject = first.subject.clone();
    // The recorded image paths are absolute or relative to where the session ran.
    Ok(LoadedSupport {
        trials: Trials {
            root: PathBuf::new(),
            records: session.records,
        },
        subject,
        session: Some(dir.to_path_buf()),
        records: None,
        skipped: session.skipped,
    })
}

/// The trials of `subject` in a records file (images relative to the file).
fn records_support(path: &Path, subject: &str) -> Result<LoadedSupport, String> {
    let records = read_records(path).map_err(|e| e.to_string())?;
    let mine: Vec<_> = records
        .into_iter()
        .filter(|r| r.subject == subject)
        .collect();
    if mine.is_empty() {
        return Err(format!(
            "{}: no trials of subject `{subject}`",
            path.display()
        ));
    }
    Ok(LoadedSupport {
        trials: Trials {
            root: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
            records: mine,
        },
        subject: subject.to_owned(),
        session: None,
        records: Some(path.to_path_buf()),
        skipped: Vec::new(),
    })
}

/// WordNet for OSS, loaded once (absent: no OSS).
fn lexicon() -> Option<&'static Lexicon> {
    static LEXICON: OnceLock<Option<Lexicon>> = OnceLock::new();
    LEXICON
        .get_or_init(|| Lexicon::load(Path::new(DEFAULT_WORDNET_DIR)).ok())
        .as_ref()
}

fn describe_both(
    model: &TrainedModel,
    z_s: &[f32],
    image: PathBuf,
    said: Option<String>,
) -> Result<Described, String> {
    let options = GenerateOptions::default();
    let describe = |z: Option<&[f32]>| {
        model
            .describe(&image, z, &options)
            .map(|(text, _)| text)
            .map_err(|e| format!("{}: {e}", image.display()))
    };
    let generic = describe(None)?;
    let personalized = describe(Some(z_s))?;
    let (bleu4, oss) = match &said {
        Some(said) => {
            let query = QueryDescriptions {
                subject: String::new(),
                image: image.display().to_string(),
                said: said.clone(),
                generic: generic.clone(),
                personalized: personalized.clone(),
            };
            let scores = score(&[query], lexicon());
            (
                Some((scores.bleu4_generic, scores.bleu4_personalized)),
                scores.oss_generic.zip(scores.oss_personalized),
            )
        }
        None => (None, None),
    };
    let pixels = decode_stimulus(&image);
    Ok(Described {
        pixels,
        image,
        said,
        generic,
        personalized,
        bleu4,
        oss,
    })
}
