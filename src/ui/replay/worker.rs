//! The replay screen's background jobs: reading session folders (fixations and all),
//! decoding stimulus images, the folder dialog, and writing exports. Each job runs on
//! its own thread and reports through the replay channel, waking the UI.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use super::data::{ReplaySession, load_session};
use super::export;

/// Stimulus textures are decoded to fit in a square of this many pixels.
pub const STIMULUS_MAX_SIDE_PX: u32 = 1600;

/// Decoded stimulus pixels (unmultiplied RGBA, row-major).
pub struct StimulusPixels {
    pub size_px: [usize; 2],
    pub rgba: Vec<u8>,
}

/// A report from a replay job.
pub enum ReplayEvent {
    SessionLoaded {
        path: PathBuf,
        outcome: Result<Box<ReplaySession>, String>,
    },
    Image {
        path: PathBuf,
        pixels: Result<StimulusPixels, String>,
    },
    /// The folder dialog closed; empty when nothing was chosen.
    FoldersChosen(Vec<PathBuf>),
    /// An export finished: the files written, or what went wrong.
    Exported(Result<Vec<PathBuf>, String>),
}

/// The replay channel.
pub struct ReplayJobs {
    sender: Sender<ReplayEvent>,
    receiver: Receiver<ReplayEvent>,
}

impl Default for ReplayJobs {
    fn default() -> Self {
        let (sender, receiver) = channel();
        Self { sender, receiver }
    }
}

/// Sends one report and wakes the UI.
#[derive(Clone)]
pub struct Reporter {
    sender: Sender<ReplayEvent>,
    ctx: egui::Context,
}

impl Reporter {
    pub fn send(&self, event: ReplayEvent) {
        // A closed channel means the app is gone; nobody is left to tell.
        if self.sender.send(event).is_ok() {
            self.ctx.request_repaint();
        }
    }
}

impl ReplayJobs {
    pub fn reporter(&self, ctx: &egui::Context) -> Reporter {
        Reporter {
            sender: self.sender.clone(),
            ctx: ctx.clone(),
        }
    }

    /// The next report, if one has arrived. Never blocks.
    pub fn try_receive(&self) -> Option<ReplayEvent> {
        self.receiver.try_recv().ok()
    }

    pub fn load_session(&self, ctx: &egui::Context, path: PathBuf) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("replay-session", move || {
            let outcome = load_session(&path).map(Box::new).map_err(|e| e.to_string());
            reporter.send(ReplayEvent::SessionLoaded { path, outcome });
        })
    }

    pub fn load_image(&self, ctx: &egui::Context, path: PathBuf) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("replay-image", move || {
            let pixels = decode_stimulus(&path);
            reporter.send(ReplayEvent::Image { path, pixels });
        })
    }

    /// A folder dialog (several folders may be chosen), starting in `folder`.
    pub fn pick_folders(&self, ctx: &egui::Context, folder: Option<PathBuf>) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("replay-dialog", move || {
            let mut dialog = rfd::FileDialog::new().set_title("Open session folders");
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            reporter.send(ReplayEvent::FoldersChosen(
                dialog.pick_folders().unwrap_or_default(),
            ));
        })
    }

    /// Writes each subject's fixations of a trial as CSV into `dir`.
    pub fn export_fixations(
        &self,
        ctx: &egui::Context,
        dir: PathBuf,
        tables: Vec<export::FixationTable>,
    ) -> Result<(), String> {
        let reporter = self.reporter(ctx);
        spawn("replay-export", move || {
            reporter.send(ReplayEvent::Exported(export::write_fixation_tables(
                &dir, &tables,
            )));
        })
    }
}

/// Decodes a stimulus image, shrunk to fit [`STIMULUS_MAX_SIDE_PX`]; the error names
/// the file.
pub fn decode_stimulus(path: &Path) -> Result<StimulusPixels, String> {
    let image = image::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let image = if image.width().max(image.height()) > STIMULUS_MAX_SIDE_PX {
        image.thumbnail(STIMULUS_MAX_SIDE_PX, STIMULUS_MAX_SIDE_PX)
    } else {
        image
    };
    let rgba = image.to_rgba8();
    Ok(StimulusPixels {
        size_px: [rgba.width() as usize, rgba.height() as usize],
        rgba: rgba.into_raw(),
    })
}

pub fn spawn(name: &str, job: impl FnOnce() + Send + 'static) -> Result<(), String> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(job)
        .map(|_| ())
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}
