//! The Replay screen, for researchers: open one or several recorded sessions of a
//! study, pick a trial, and play its scanpaths back — fixations numbered in order and
//! sized by duration, saccade lines, the gaze point, a heat map drawn by a WGSL shader —
//! with subjects side by side or overlaid, each subject's description and transcript
//! beside, and exports (the view as PNG, the fixations as CSV).
//!
//! Layout: `data` reads a session (worker side, no egui), `scanpath` is what a frame
//! looks up, `settled_mesh` the meshes of fixations that no longer change (discs from
//! `disc_atlas`), `heatmap` the heat map (settings, CPU reference, GPU pipelines),
//! `state` the screen's state, `worker` its background jobs, `screen` and `scene` the
//! drawing, `export` the files written. [`handle_command`] applies [`ReplayCommand`]s and
//! [`receive_events`] takes in finished jobs; nothing here blocks the UI thread.

pub mod data;
pub mod disc_atlas;
pub mod export;
pub mod heatmap;
pub mod scanpath;
pub mod scene;
pub mod screen;
pub mod settled_mesh;
pub mod state;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;

use state::{OpenSubject, ReplayState, StimulusTexture};
use worker::{ReplayEvent, StimulusPixels};

/// What the replay screen asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayCommand {
    /// Choose session folders in a dialog (on a worker thread).
    PickSessions,
    /// Read these session folders (on worker threads) and add them.
    OpenSessions(Vec<PathBuf>),
    /// Close the session opened from this folder.
    CloseSession(PathBuf),
    SelectTrial(String),
    Play,
    Pause,
    /// Move the playhead (ms from stimulus onset).
    Seek {
        time_ms: u64,
    },
    /// Replay speed in percent of real time.
    SetSpeed {
        percent: u32,
    },
    /// Save the views as they are on screen as a PNG in the export folder.
    ExportView,
    /// Save each subject's fixations of the trial as CSV in the export folder.
    ExportFixations,
    DismissErrors,
}

/// Applies one command; slow work goes to worker threads.
pub fn handle_command(state: &mut ReplayState, ctx: &egui::Context, command: ReplayCommand) {
    match command {
        ReplayCommand::PickSessions => {
            let folder = state
                .subjects
                .first()
                .and_then(|s| s.session.root.parent().map(std::path::Path::to_path_buf));
            match state.jobs.pick_folders(ctx, folder) {
                Ok(()) => state.dialog_open = true,
                Err(message) => state.errors.push(message),
            }
        }
        ReplayCommand::OpenSessions(paths) => {
            for path in paths {
                let open = state.subjects.iter().any(|s| s.session.root == path);
                if open || state.loading.contains(&path) {
                    continue;
                }
                match state.jobs.load_session(ctx, path.clone()) {
                    Ok(()) => state.loading.push(path),
                    Err(message) => state.errors.push(message),
                }
            }
        }
        ReplayCommand::CloseSession(path) => {
            state.subjects.retain(|s| s.session.root != path);
            let ids = state.trial_ids();
            if state.trial_id.as_ref().is_none_or(|id| !ids.contains(id)) {
                state.trial_id = ids.first().cloned();
            }
        }
        ReplayCommand::SelectTrial(id) => {
            state.trial_id = Some(id);
            state.playback.time_ms = 0.0;
            state.playback.playing = false;
            request_textures(state, ctx);
        }
        ReplayCommand::Play => {
            if state.playback.time_ms >= state.duration_ms() {
                state.playback.time_ms = 0.0;
            }
            state.playback.playing = !state.subjects.is_empty();
        }
        ReplayCommand::Pause => state.playback.playing = false,
        ReplayCommand::Seek { time_ms } => {
            state.playback.time_ms = (time_ms as f32).min(state.duration_ms());
        }
        ReplayCommand::SetSpeed { percent } => {
            state.playback.speed = (percent as f32 / 100.0).clamp(0.05, 16.0);
        }
        ReplayCommand::ExportView => export_view(state, ctx),
        ReplayCommand::ExportFixations => export_fixations(state, ctx),
        ReplayCommand::DismissErrors => {
            state.errors.clear();
            state.export_message = None;
        }
    }
}

/// Takes in every finished replay job; never blocks.
pub fn receive_events(state: &mut ReplayState, ctx: &egui::Context) {
    while let Some(event) = state.jobs.try_receive() {
        match event {
            ReplayEvent::SessionLoaded { path, outcome } => {
                state.loading.retain(|p| p != &path);
                match outcome {
                    Ok(session) => add_session(state, *session),
                    Err(message) => state.errors.push(message),
                }
                request_textures(state, ctx);
            }
            ReplayEvent::Image { path, pixels } => {
                let texture = match pixels {
                    Ok(pixels) => StimulusTexture::Ready(texture(ctx, &path, pixels)),
                    Err(message) => StimulusTexture::Failed(message),
                };
                state.textures.insert(path, texture);
            }
            ReplayEvent::FoldersChosen(paths) => {
                state.dialog_open = false;
                if paths.is_empty() {
                    state.errors.push(
                        "No session folder chosen. If no dialog appeared (no file-dialog \
                         portal or zenity here), type the folder's path."
                            .to_owned(),
                    );
                } else {
                    handle_command(state, ctx, ReplayCommand::OpenSessions(paths));
                }
            }
            ReplayEvent::Exported(outcome) => {
                state.export_message = Some(match outcome {
                    Ok(paths) => format!(
                        "Saved {}",
                        paths
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Err(message) => format!("Export failed: {message}"),
                });
            }
        }
    }
}

/// Adds a session that was read (or built) elsewhere; refuses one of another study.
pub fn add_session(state: &mut ReplayState, session: data::ReplaySession) {
    if let Some(first) = state.subjects.first()
        && first.session.study_id != session.study_id
    {
        state.errors.push(format!(
            "{}: a session of study \"{}\", but the open sessions are of study \"{}\"; close them first to compare another study",
            session.root.display(),
            session.study_id,
            first.session.study_id
        ));
        return;
    }
    if state
        .subjects
        .iter()
        .any(|s| s.session.root == session.root)
    {
        return;
    }
    if state.export_dir_input.is_empty() {
        state.export_dir_input = default_export_dir(&session.root, &session.study_id)
            .display()
            .to_string();
    }
    let color = state.next_color();
    state.subjects.push(OpenSubject {
        session: Arc::new(session),
        color,
    });
    if state.trial_id.is_none() {
        state.trial_id = state.trial_ids().into_iter().next();
    }
}

/// Where exports go unless the user says otherwise: outside the sessions folder, so
/// that `sessions/<study>/*` keeps meaning sessions. A session lives in
/// `<sessions>/<study>/<subject>_<time>/`; exports go to `<above sessions>/exports/<study>/`.
pub fn default_export_dir(session_root: &std::path::Path, study_id: &str) -> PathBuf {
    let above_sessions = session_root
        .parent()
        .and_then(std::path::Path::parent)
        .and_then(std::path::Path::parent)
        .unwrap_or(std::path::Path::new(""));
    above_sessions.join("exports").join(study_id)
}

/// Starts decoding the images of the chosen trial that are not loaded yet.
fn request_textures(state: &mut ReplayState, ctx: &egui::Context) {
    let wanted: Vec<PathBuf> = state
        .current_trials()
        .iter()
        .map(|(_, trial)| trial.image.clone())
        .collect();
    for path in wanted {
        if state.textures.contains_key(&path) {
            continue;
        }
        match state.jobs.load_image(ctx, path.clone()) {
            Ok(()) => {
                state.textures.insert(path, StimulusTexture::Pending);
            }
            Err(message) => state.errors.push(message),
        }
    }
}

fn texture(
    ctx: &egui::Context,
    path: &std::path::Path,
    pixels: StimulusPixels,
) -> egui::TextureHandle {
    let image = egui::ColorImage::from_rgba_unmultiplied(pixels.size_px, &pixels.rgba);
    ctx.load_texture(
        format!("replay-stimulus-{}", path.display()),
        image,
        egui::TextureOptions::LINEAR,
    )
}

fn export_dir(state: &ReplayState) -> Option<PathBuf> {
    let text = state.export_dir_input.trim();
    (!text.is_empty()).then(|| PathBuf::from(text))
}

fn export_fixations(state: &mut ReplayState, ctx: &egui::Context) {
    let Some(dir) = export_dir(state) else {
        state.export_message = Some("Export failed: type an export folder first".to_owned());
        return;
    };
    let tables: Vec<export::FixationTable> = state
        .current_trials()
        .iter()
        .map(|(subject, trial)| export::FixationTable {
            subject: subject.session.subject.clone(),
            trial: trial.id.clone(),
            fixations: trial.fixations.clone(),
            resolution_px: subject.session.screen.resolution_px,
        })
        .collect();
    if tables.is_empty() {
        state.export_message = Some("Export failed: no trial is shown".to_owned());
        return;
    }
    if let Err(message) = state.jobs.export_fixations(ctx, dir, tables) {
        state.export_message = Some(format!("Export failed: {message}"));
    }
}

fn export_view(state: &mut ReplayState, ctx: &egui::Context) {
    let (Some(dir), Some(rect), Some(trial)) =
        (export_dir(state), state.views_rect, state.trial_id.clone())
    else {
        state.export_message =
            Some("Export failed: open a session and type an export folder first".to_owned());
        return;
    };
    let path = dir.join(export::view_file_name(&trial, state.playback.time_ms));
    let pixels_per_point = ctx.pixels_per_point();
    let reporter = state.jobs.reporter(ctx);
    ctx.request_screenshot(move |image| {
        // Called where the frame was rendered: hand the encoding to a thread.
        let job_reporter = reporter.clone();
        let spawned = worker::spawn("replay-png", move || {
            job_reporter.send(ReplayEvent::Exported(
                export::save_view_png(&image, rect, pixels_per_point, &path).map(|p| vec![p]),
            ));
        });
        if let Err(message) = spawned {
            reporter.send(ReplayEvent::Exported(Err(message)));
        }
    });
    state.export_message = Some("Saving the view…".to_owned());
}
