//! The app shell: owns the persisted settings, the runtime state, the command queue
//! and the workers, and draws one frame. The eframe wrapper is thin, so tests drive
//! [`App::ui`] directly with `egui_kittest`.

use super::app_state::{AppState, Screen};
use super::command::{Command, CommandQueue};
use super::locate::Startup;
use super::panels;
use super::session;
use super::settings::Settings;
use super::workers::Workers;

pub struct App {
    pub(super) settings: Settings,
    pub(super) state: AppState,
    pub(super) commands: CommandQueue,
    pub(super) workers: Workers,
}

impl App {
    /// An app that starts as `startup` says: loading a study, or on the Start panel
    /// saying the demo study was not found.
    pub fn new(settings: Settings, startup: Startup) -> Self {
        let mut app = Self {
            settings,
            state: AppState::default(),
            commands: CommandQueue::default(),
            workers: Workers::default(),
        };
        match startup {
            Startup::Open(path) => app.commands.send(Command::LoadStudy(path)),
            Startup::NotFound { searched } => app.state.demo_not_found = Some(searched),
        }
        app
    }

    /// The app eframe runs, with its settings restored from eframe's storage.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, startup: Startup) -> Self {
        let mut app = Self::new(Settings::from_storage(cc.storage), startup);
        if let Some(render_state) = &cc.wgpu_render_state {
            app.install_gpu_resources(render_state);
        }
        app
    }

    /// Puts the app's shader pipelines (the replay heat map) into the wgpu renderer's
    /// callback resources; the app's own views use them from then on.
    pub fn install_gpu_resources(&mut self, render_state: &eframe::egui_wgpu::RenderState) {
        super::replay::heatmap::gpu::install(render_state);
        self.state.replay.heatmap_gpu = true;
    }

    /// The app opening on the Replay screen with the session folders `sessions`
    /// (read on worker threads; a folder that is not a session is reported there).
    pub fn with_replay(mut self, sessions: Vec<std::path::PathBuf>) -> Self {
        self.commands.send(Command::ShowScreen(Screen::Replay));
        self.commands
            .send(Command::Replay(super::replay::ReplayCommand::OpenSessions(
                sessions,
            )));
        self
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The UI state, for tests that set up a situation directly.
    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.state
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Draws one frame: takes in finished background work, draws the panels, then
    /// applies the commands they sent.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.receive_worker_events(&ctx);
        self.receive_session_events(&ctx);
        super::replay::receive_events(&mut self.state.replay, &ctx);
        super::preview::receive_events(&mut self.state.preview, &ctx);

        panels::top_bar::top_bar_ui(ui, &self.state, &mut self.commands);
        panels::status_bar::status_bar_ui(ui, self.state.notice.as_deref(), &mut self.commands);
        match self.state.screen {
            Screen::Start => {
                panels::start::start_ui(ui, &mut self.state, &self.settings, &mut self.commands);
            }
            Screen::Study => panels::study_ui(ui, &self.state, &mut self.commands),
            Screen::Session => session::session_ui(ui, &mut self.state, &mut self.commands),
            Screen::Replay => {
                // The open study's trial order, for the trial list.
                if let Some(open) = self.state.study.loaded() {
                    let study = &open.loaded.study;
                    self.state.replay.study_order = Some((
                        study.id.clone(),
                        study.trials.iter().map(|t| t.id.clone()).collect(),
                    ));
                }
                super::replay::screen::replay_ui(ui, &mut self.state.replay, &mut self.commands);
            }
            Screen::Preview => {
                let study_images = self
                    .state
                    .study
                    .loaded()
                    .map_or(&[][..], |open| open.loaded.image_paths.as_slice());
                super::preview::screen::preview_ui(
                    ui,
                    &mut self.state.preview,
                    study_images,
                    &mut self.commands,
                );
            }
        }
        let study = self.state.study.loaded().map(|open| &open.loaded);
        session::presentation::presentation_viewport(
            &ctx,
            &mut self.state.session,
            study,
            &mut self.commands,
        );

        if self.handle_commands(&ctx) {
            ctx.request_repaint();
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.settings.save(storage);
    }
}
