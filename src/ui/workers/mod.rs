//! Background work for the app: reading and validating study files, decoding
//! thumbnails, file dialogs. Each job runs on its own thread and reports through one
//! channel, then asks egui to repaint; the UI thread never waits on the disk.
//!
//! Jobs tied to a study carry the load generation they belong to; when the user
//! opens another study the generation moves on, running jobs of the old one stop
//! early, and their late reports are dropped by the app.

mod file_dialog;
mod study_loader;
mod thumbnails;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::study::LoadedStudy;

use super::app_state::LoadFailure;

pub use thumbnails::{THUMBNAIL_MAX_SIDE_PX, ThumbnailPixels};

/// A report from a background job.
pub enum WorkerEvent {
    StudyLoaded {
        generation: u64,
        /// The file as the user named it.
        path: PathBuf,
        /// The same file as an absolute path, for the recent list.
        absolute_path: PathBuf,
        outcome: Result<Box<LoadedStudy>, Box<LoadFailure>>,
    },
    Thumbnail {
        generation: u64,
        trial_index: usize,
        pixels: Result<ThumbnailPixels, String>,
    },
    /// The file dialog closed; `None` when nothing was chosen.
    StudyFileChosen(Option<PathBuf>),
}

/// Starts background jobs and collects their reports.
pub struct Workers {
    sender: Sender<WorkerEvent>,
    receiver: Receiver<WorkerEvent>,
    generation: Arc<AtomicU64>,
}

impl Default for Workers {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Self {
            sender,
            receiver,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Workers {
    /// The generation of the latest study load; reports from older ones are stale.
    pub fn current_generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Starts reading and validating `path`; stops the jobs of the previous study.
    /// Returns the new generation.
    pub fn load_study(&self, ctx: &egui::Context, path: PathBuf) -> Result<u64, String> {
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let reporter = self.reporter(ctx);
        spawn("study-loader", move || {
            reporter.send(study_loader::load(generation, path));
        })?;
        Ok(generation)
    }

    /// Starts decoding the trial thumbnails of the study loaded in `generation`.
    pub fn decode_thumbnails(
        &self,
        ctx: &egui::Context,
        generation: u64,
        image_paths: Vec<PathBuf>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        let current = Arc::clone(&self.generation);
        spawn("thumbnails", move || {
            for (trial_index, path) in image_paths.iter().enumerate() {
                if current.load(Ordering::SeqCst) != generation {
                    return; // another study was opened meanwhile
                }
                let pixels = thumbnails::decode(path);
                reporter.send(WorkerEvent::Thumbnail {
                    generation,
                    trial_index,
                    pixels,
                });
            }
        })
    }

    /// Opens a file dialog for study files, starting in `folder` when given.
    pub fn pick_study_file(
        &self,
        ctx: &egui::Context,
        folder: Option<PathBuf>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("file-dialog", move || {
            reporter.send(WorkerEvent::StudyFileChosen(file_dialog::pick_study_file(
                folder,
            )));
        })
    }

    /// The next report, if one has arrived. Never blocks.
    pub fn try_receive(&self) -> Option<WorkerEvent> {
        self.receiver.try_recv().ok()
    }

    fn reporter(&self, ctx: &egui::Context) -> Reporter {
        Reporter {
            sender: self.sender.clone(),
            ctx: ctx.clone(),
        }
    }
}

/// Sends a report and wakes the UI so it is shown at once.
struct Reporter {
    sender: Sender<WorkerEvent>,
    ctx: egui::Context,
}

impl Reporter {
    fn send(&self, event: WorkerEvent) {
        // A closed channel means the app is gone; there is nobody left to tell.
        if self.sender.send(event).is_ok() {
            self.ctx.request_repaint();
        }
    }
}

fn spawn(name: &str, job: impl FnOnce() + Send + 'static) -> Result<(), String> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(job)
        .map(|_| ())
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}
