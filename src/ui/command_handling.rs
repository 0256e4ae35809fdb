//! Applying commands and worker reports to the app state. This is the only place that
//! starts background work; it never waits for it.

use super::app::App;
use super::app_state::{OpenStudy, Screen, StudyState, Thumbnail};
use super::command::Command;
use super::workers::{ThumbnailPixels, WorkerEvent};
use crate::study::StudyError;

impl App {
    /// Applies the commands sent this frame. Returns whether there were any.
    pub(super) fn handle_commands(&mut self, ctx: &egui::Context) -> bool {
        let commands = self.commands.take_all();
        let any = !commands.is_empty();
        for command in commands {
            self.handle_command(ctx, command);
        }
        any
    }

    fn handle_command(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::PickStudyFile => {
                let folder = self
                    .state
                    .study
                    .path()
                    .and_then(|path| path.parent())
                    .map(std::path::Path::to_path_buf);
                match self.workers.pick_study_file(ctx, folder) {
                    Ok(()) => {
                        self.state.file_dialog_open = true;
                        self.state.notice = None;
                    }
                    Err(message) => self.state.notice = Some(message),
                }
            }
            Command::LoadStudy(path) => {
                self.state.notice = None;
                match self.workers.load_study(ctx, path.clone()) {
                    Ok(_) => {
                        self.state.study = StudyState::Loading { path };
                        self.state.screen = Screen::Study;
                    }
                    Err(message) => self.state.notice = Some(message),
                }
            }
            Command::ReloadStudy => {
                if let Some(path) = self.state.study.path().map(std::path::Path::to_path_buf) {
                    self.handle_command(ctx, Command::LoadStudy(path));
                }
            }
            Command::ShowScreen(screen) => self.state.screen = screen,
            Command::ForgetRecentStudy(path) => self.settings.forget_study(&path),
            Command::DismissNotice => self.state.notice = None,
            Command::Session(command) => self.handle_session_command(ctx, command),
            Command::Replay(command) => {
                crate::ui::replay::handle_command(&mut self.state.replay, ctx, command);
            }
            Command::Preview(command) => {
                crate::ui::preview::handle_command(&mut self.state.preview, ctx, command);
            }
        }
    }

    /// Takes in every report that has arrived; never blocks.
    pub(super) fn receive_worker_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.workers.try_receive() {
            self.handle_worker_event(ctx, event);
        }
    }

    fn handle_worker_event(&mut self, ctx: &egui::Context, event: WorkerEvent) {
        let current = self.workers.current_generation();
        match event {
            WorkerEvent::StudyLoaded {
                generation,
                path,
                absolute_path,
                outcome,
            } if generation == current => {
                let file_exists = !matches!(
                    &outcome,
                    Err(failure) if matches!(failure.error, StudyError::Io { .. })
                );
                if file_exists {
                    self.settings.remember_study(&absolute_path);
                }
                self.state.study = match outcome {
                    Ok(loaded) => {
                        let image_paths = loaded.image_paths.clone();
                        if let Err(message) =
                            self.workers.decode_thumbnails(ctx, generation, image_paths)
                        {
                            self.state.notice = Some(message);
                        }
                        StudyState::Loaded(Box::new(OpenStudy::new(*loaded)))
                    }
                    Err(failure) => {
                        tracing::info!("{} did not load: {}", path.display(), failure.error);
                        StudyState::Failed(failure)
                    }
                };
            }
            WorkerEvent::Thumbnail {
                generation,
                trial_index,
                pixels,
            } if generation == current => {
                if let StudyState::Loaded(open) = &mut self.state.study
                    && let Some(slot) = open.thumbnails.get_mut(trial_index)
                {
                    *slot = match pixels {
                        Ok(pixels) => Thumbnail::Ready(texture(ctx, trial_index, pixels)),
                        Err(message) => Thumbnail::Failed(message),
                    };
                }
            }
            WorkerEvent::StudyFileChosen(chosen) => {
                self.state.file_dialog_open = false;
                match chosen {
                    Some(path) => self.commands.send(Command::LoadStudy(path)),
                    None => {
                        self.state.notice = Some(
                            "No study file chosen. If no dialog appeared (this system has no \
                             file-dialog portal or zenity), type the path on the Start screen."
                                .to_owned(),
                        );
                    }
                }
            }
            // A report from a study that is no longer shown.
            WorkerEvent::StudyLoaded { .. } | WorkerEvent::Thumbnail { .. } => {}
        }
    }
}

/// Uploads decoded pixels as an egui texture (UI thread; cheap for a thumbnail).
fn texture(
    ctx: &egui::Context,
    trial_index: usize,
    pixels: ThumbnailPixels,
) -> egui::TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(pixels.size_px, &pixels.rgba);
    ctx.load_texture(
        format!("trial-thumbnail-{trial_index}"),
        image,
        egui::TextureOptions::LINEAR,
    )
}
