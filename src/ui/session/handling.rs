//! Applying session commands and the session thread's reports to the state. The only
//! place in the session screens that starts work (probes, microphone tests, the
//! session thread); it never waits for it.

use std::path::PathBuf;
use std::time::Instant;

use crate::gaze::clock::system_time_us;
use crate::study::LoadedStudy;
use crate::ui::app::App;
use crate::ui::app_state::Screen;

use super::command::SessionCommand;
use super::live::LiveMonitor;
use super::probe::{spawn_mic_test, spawn_probe};
use super::protocol::{FromSession, SubjectScreen, TargetPhase, ToSession};
use super::state::{MicChoice, PauseState, QuickStart, RunningSession, SessionState, Stage};
use super::subject::DescriptionMode;
use super::worker::{SessionSpec, SessionStart, SourceChoice, spawn_session};

impl App {
    /// Starts a session as soon as the study is loaded (`--record-subject`): the mouse
    /// as the gaze source, typed descriptions, calibration skipped.
    #[must_use]
    pub fn with_quick_start(mut self, quick: QuickStart) -> Self {
        self.state.session.quick_start = Some(quick);
        self
    }

    pub(in crate::ui) fn handle_session_command(
        &mut self,
        ctx: &egui::Context,
        command: SessionCommand,
    ) {
        let study = self.state.study.loaded().map(|open| open.loaded.clone());
        let session = &mut self.state.session;
        match command {
            SessionCommand::OpenSetup => {
                self.state.screen = Screen::Session;
                if session.probe.is_none() && session.probe_running.is_none() {
                    start_probe(session, ctx, study.as_ref());
                }
            }
            SessionCommand::Probe => start_probe(session, ctx, study.as_ref()),
            SessionCommand::TestMicrophone => {
                session.mic_test = None; // closes the previous microphone first
                session.mic_level = None;
                session.mic_level_pending = None;
                if session.form.microphone != MicChoice::None {
                    match spawn_mic_test(ctx, &session.form.microphone) {
                        Ok((test, pending)) => {
                            session.mic_test = Some(test);
                            session.mic_level_pending = Some(pending);
                        }
                        Err(message) => session.mic_level = Some(Err(message)),
                    }
                }
            }
            SessionCommand::Start => {
                let subject = session.form.subject.trim().to_owned();
                start_session(session, ctx, study, SessionStart::New { subject });
                self.state.screen = Screen::Session;
            }
            SessionCommand::Resume(folder) => {
                start_session(session, ctx, study, SessionStart::Resume { folder });
                self.state.screen = Screen::Session;
            }
            SessionCommand::Send(message) => send(session, message),
            SessionCommand::StimulusPresented {
                trial_index,
                present_us,
            } => {
                if let Some(running) = session.running.as_mut() {
                    running.stimulus_reported = Some(trial_index);
                }
                send(
                    session,
                    ToSession::Presented {
                        trial_index,
                        present_us,
                    },
                );
            }
            SessionCommand::Dismiss => {
                if !session.is_active() {
                    session.running = None;
                    start_probe(session, ctx, study.as_ref());
                }
            }
        }
    }

    /// Takes in every report of the probes and the session thread; never blocks.
    pub(in crate::ui) fn receive_session_events(&mut self, ctx: &egui::Context) {
        let session = &mut self.state.session;
        if let Some(pending) = &session.probe_running
            && let Ok(report) = pending.try_recv()
        {
            // A tracker found is the default over the stand-ins (until one is picked).
            if let (Ok(trackers), SourceChoice::Mouse) = (&report.tobii, &session.form.source)
                && let Some(first) = trackers.first()
                && session.probe.is_none()
            {
                session.form.source = SourceChoice::Tobii {
                    address: first.address.clone(),
                };
            }
            session.probe = Some(report);
            session.probe_running = None;
        }
        if let Some(pending) = &session.mic_level_pending
            && let Ok(level) = pending.try_recv()
        {
            session.mic_level = Some(level);
            session.mic_level_pending = None;
        }
        if let Some(running) = session.running.as_mut() {
            while let Ok(message) = running.link.from_session.try_recv() {
                apply(ctx, running, message);
            }
            if running.is_finished() {
                // The thread is gone: nothing more to hear.
            } else if matches!(running.screen, SubjectScreen::Dictating { .. })
                || matches!(running.stage, Stage::Recording | Stage::Calibrating)
            {
                // Time left, level meters and the live gaze move without input events.
                ctx.request_repaint_after(std::time::Duration::from_millis(16));
            }
        }
        let quick = session.quick_start.is_some() && session.running.is_none();
        if quick && let Some(open) = self.state.study.loaded() {
            let study = open.loaded.clone();
            if let Some(quick) = session.quick_start.take() {
                session.form.subject.clone_from(&quick.subject);
                session.form.sessions_root = quick.sessions_root.display().to_string();
                session.form.source = SourceChoice::Mouse;
                session.form.microphone = MicChoice::None;
                start_session(
                    session,
                    ctx,
                    Some(study),
                    SessionStart::New {
                        subject: quick.subject,
                    },
                );
                if let Some(running) = session.running.as_ref() {
                    let _ = running.link.to_session.send(ToSession::SkipCalibration);
                }
                self.state.screen = Screen::Session;
            }
        }
    }
}

fn start_probe(session: &mut SessionState, ctx: &egui::Context, study: Option<&LoadedStudy>) {
    let Some(study) = study else { return };
    match spawn_probe(
        ctx,
        PathBuf::from(session.form.sessions_root.trim()),
        study.study.id.clone(),
    ) {
        Ok(pending) => session.probe_running = Some(pending),
        Err(message) => session.setup_problem = Some(message),
    }
}

fn start_session(
    session: &mut SessionState,
    ctx: &egui::Context,
    study: Option<LoadedStudy>,
    start: SessionStart,
) {
    if session.is_active() {
        return;
    }
    let Some(study) = study else {
        session.setup_problem = Some("No study is loaded.".to_owned());
        return;
    };
    if let SessionStart::New { subject } = &start
        && let Err(e) = crate::session::check_subject_code(subject)
    {
        session.setup_problem = Some(e.to_string());
        return;
    }
    let sessions_root = session.form.sessions_root.trim();
    if sessions_root.is_empty() {
        session.setup_problem = Some("Choose an output folder for the session.".to_owned());
        return;
    }
    // The session opens its own microphone; the setup's test must let go of it.
    session.mic_test = None;
    session.mic_level = None;
    let live = LiveMonitor::default();
    let description = match &session.form.microphone {
        MicChoice::None => DescriptionMode::Typed,
        MicChoice::Default => DescriptionMode::Microphone(None),
        MicChoice::Named(name) => DescriptionMode::Microphone(Some(name.clone())),
    };
    let typed = description == DescriptionMode::Typed;
    let spec = SessionSpec {
        study,
        start,
        source: session.form.source.clone(),
        description,
        sessions_root: PathBuf::from(sessions_root),
        feed: session.feed.clone(),
        live: live.clone(),
    };
    match spawn_session(spec, ctx) {
        Ok(link) => {
            session.setup_problem = None;
            let mut running = RunningSession::new(
                link,
                live,
                session.form.source.clone(),
                session.form.full_screen,
            );
            running.typed_descriptions = typed;
            session.running = Some(running);
        }
        Err(message) => session.setup_problem = Some(message),
    }
}

fn send(session: &mut SessionState, message: ToSession) {
    let Some(running) = session.running.as_mut() else {
        return;
    };
    match &message {
        ToSession::Calibrate { .. } => running.calibration_busy = Some(TargetPhase::Calibration),
        ToSession::Validate { .. } => running.calibration_busy = Some(TargetPhase::Validation),
        ToSession::Pause { .. } => running.pause = PauseState::Requested,
        ToSession::Resume { .. } => running.pause = PauseState::Running,
        ToSession::Stop { .. } => running.stop_requested = true,
        ToSession::Describe(_) => running.description_text.clear(),
        _ => {}
    }
    if running.link.to_session.send(message).is_err() {
        running
            .notices
            .push("the session thread has ended; the request was not delivered".to_owned());
    }
}

fn apply(ctx: &egui::Context, running: &mut RunningSession, message: FromSession) {
    match message {
        FromSession::SourceReady {
            info,
            rate_hz,
            calibration,
        } => {
            running.source = Some((info, rate_hz, calibration));
            running.stage = Stage::Calibrating;
        }
        FromSession::Stimuli(images) => {
            let texture = |name: String, size_px: [usize; 2], rgba: &[u8]| {
                let color = egui::ColorImage::from_rgba_unmultiplied(size_px, rgba);
                ctx.load_texture(name, color, egui::TextureOptions::LINEAR)
            };
            running.stimuli.clear();
            running.blurred_stimuli.clear();
            for image in images {
                match image {
                    Ok(pixels) => {
                        let index = pixels.study_index;
                        running.stimuli.push(Some(texture(
                            format!("stimulus-{index}"),
                            pixels.size_px,
                            &pixels.rgba,
                        )));
                        running
                            .blurred_stimuli
                            .push(pixels.blurred_rgba.map(|(size, rgba)| {
                                texture(format!("stimulus-{index}-blurred"), size, &rgba)
                            }));
                    }
                    Err(message) => {
                        running.stimulus_problems.push(message);
                        running.stimuli.push(None);
                        running.blurred_stimuli.push(None);
                    }
                }
            }
        }
        FromSession::Screen(screen) => {
            if let SubjectScreen::Stimulus { trial_index, .. } = &screen {
                running.stimulus_frame_pending = Some(*trial_index);
                running.bubble_clicks.clear();
            }
            if matches!(screen, SubjectScreen::Paused) {
                running.pause = PauseState::Running;
            }
            running.screen = screen;
            running.screen_since = Instant::now();
        }
        FromSession::Calibration(outcome) => {
            running.calibration_busy = None;
            match outcome.phase {
                TargetPhase::Calibration => running.calibration = Some(*outcome),
                TargetPhase::Validation => running.validation = Some(*outcome),
            }
        }
        FromSession::Started {
            folder,
            trial_ids,
            completed_trials,
        } => {
            running.folder = Some(folder);
            running.trial_ids = trial_ids;
            running.completed_trials = completed_trials;
            running.stage = Stage::Recording;
        }
        FromSession::Progress(progress) => running.apply_progress(progress),
        FromSession::SimulatedClick {
            trial_index,
            position_display,
        } => {
            if matches!(running.screen, SubjectScreen::Stimulus { trial_index: shown, .. } if shown == trial_index)
            {
                running.bubble_clicks.push(position_display);
            }
        }
        FromSession::Finished(outcome) => {
            running.stage = Stage::Finished(outcome);
            running.screen = SubjectScreen::Blank;
        }
    }
}

/// The gaze clock now, for stamping the presentation's frames.
pub fn frame_time_us() -> i64 {
    system_time_us()
}
