//! The headless session runner: takes a study, a subject code and any gaze source, and
//! drives the trials — fixation cross → stimulus → gaze recording → dictation →
//! description → next trial — with breaks and the questionnaire when the study asks
//! for them. Every event is stamped on the gaze clock and appended to `events.jsonl`;
//! samples reach `gaze.chunks` within the flush interval; metadata is rewritten
//! atomically at each step. A write error stops the session cleanly (status
//! `Stopped`, what was written is kept); a lost tracker is logged and the trial goes on.
//!
//! What the subject does (continue, speak, type, click, answer) comes from a
//! [`Subject`]: the app implements it with real screens, `scanscribe record` with a
//! simulated one. In a BubbleView study the subject's clicks on the stimulus are
//! logged as they arrive (see [`crate::session::bubbles`]).

mod describe;
mod subject;

pub use describe::{AudioInfo, DescriptionSource, TrialDescription};
pub use subject::{Response, Subject, TrialGate, WaitScreen};

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::bubbles::BubbleClick;
use super::events::{Event, EventKind, EventLog, EventsError};
use super::folder::{EVENTS_FILE, SessionError, SessionFolder};
use super::interrupted::InterruptedTrials;
use super::meta::{SessionMeta, SessionStatus};
use super::recorder::{DEFAULT_FLUSH_INTERVAL_US, TrialRecorder};
use crate::audio::AudioError;
use crate::gaze::clock::SessionClock;
use crate::gaze::quality::ValidationReport;
use crate::gaze::{GazeSample, GazeSource, Notification};
use crate::study::{LoadedStudy, tipi};

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Folder under which `<study>/<subject>_<time>/` is created.
    pub sessions_root: PathBuf,
    pub flush_interval_us: i64,
    /// How often the runner drains the gaze source.
    pub poll_interval: Duration,
    /// Ask the OS to write flushed data through to the disk (fdatasync).
    pub sync_to_disk: bool,
    /// The session's clock: real time, or sped up for pilots with simulated subjects
    /// (who must share the same clock).
    pub clock: SessionClock,
    /// What a resume does with interrupted trials.
    pub interrupted: InterruptedTrials,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            sessions_root: PathBuf::from("sessions"),
            flush_interval_us: DEFAULT_FLUSH_INTERVAL_US,
            poll_interval: Duration::from_millis(5),
            sync_to_disk: true,
            clock: SessionClock::real_time(),
            interrupted: InterruptedTrials::default(),
        }
    }
}

/// What a finished trial hands to the analysis step.
#[derive(Debug, Clone)]
pub struct RecordedTrial {
    pub index: usize,
    pub dir: PathBuf,
    pub samples: Vec<GazeSample>,
    pub stimulus_on_us: i64,
    pub stimulus_off_us: i64,
    /// BubbleView clicks during the stimulus, in time order (empty in a gaze study).
    pub clicks: Vec<BubbleClick>,
}

/// The clicks of the trial on screen, while a BubbleView stimulus is shown.
struct ClickCapture<'s> {
    subject: &'s mut dyn Subject,
    trial_id: String,
    trial_index: usize,
    placement: crate::fixation::ImagePlacement,
    /// Clicks before this (stale ones from an earlier screen) are dropped.
    since_us: i64,
    clicks: Vec<BubbleClick>,
    incoming: Vec<BubbleClick>,
}

/// Progress reports for a UI or a progress bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    TrialStarted { index: usize, of: usize, id: String },
    TrialFinished { index: usize, samples: usize },
    Notice(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Events(#[from] EventsError),
    #[error("recording stopped: {0}")]
    Gaze(String),
    #[error("recording stopped: {0}")]
    Storage(String),
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// Runs the session; `analyze` turns each recorded trial into its derived files
/// (fixations, trajectory, quality) and may fail without stopping the session.
pub struct Runner<'a> {
    study: &'a LoadedStudy,
    folder: SessionFolder,
    source: &'a mut dyn GazeSource,
    events: EventLog,
    options: RunnerOptions,
    pending_samples: Vec<GazeSample>,
    notifications: Vec<Notification>,
    resume_lines: Vec<String>,
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("folder", &self.folder.root())
            .finish()
    }
}

impl<'a> Runner<'a> {
    /// Creates a new session folder and starts the gaze stream.
    pub fn start(
        study: &'a LoadedStudy,
        subject_code: &str,
        source: &'a mut dyn GazeSource,
        options: RunnerOptions,
    ) -> Result<Self, RunError> {
        let now = options.clock.now_us();
        let folder = SessionFolder::create(
            &options.sessions_root,
            study,
            subject_code,
            source.info().clone(),
            source.gaze_output_frequency_hz(),
            now,
        )?;
        let mut runner = Self::with_folder(study, folder, source, options)?;
        runner.log(None, EventKind::SessionStart)?;
        Ok(runner)
    }

    /// Continues an interrupted or stopped session at its next pending trial.
    pub fn resume(
        study: &'a LoadedStudy,
        session_dir: &Path,
        source: &'a mut dyn GazeSource,
        options: RunnerOptions,
    ) -> Result<Self, RunError> {
        let (mut folder, _report) = SessionFolder::open(session_dir)?;
        let now_us = options.clock.now_us();
        let latest_us = folder.latest_time_us();
        let mut said = Vec::new();
        if now_us <= latest_us {
            // A sped-up clock is continued by the caller (`SessionClock::not_before`);
            // the system clock itself goes back only when the computer restarted.
            let line = format!(
                "the clock reads {:.3} s earlier than the session's last time (the computer \
                 restarted?): times after this resume are not comparable with earlier ones",
                (latest_us - now_us) as f64 / 1e6
            );
            folder.note(line.clone())?;
            said.push(line);
        }
        said.extend(folder.resume(now_us, options.interrupted)?);
        let mut runner = Self::with_folder(study, folder, source, options)?;
        runner.resume_lines = said;
        runner.log(None, EventKind::SessionResume)?;
        Ok(runner)
    }

    /// What the resume did (interrupted trials shown again or skipped, where the
    /// session goes on), for the experimenter; empty for a new session.
    pub fn resume_lines(&self) -> &[String] {
        &self.resume_lines
    }

    fn with_folder(
        study: &'a LoadedStudy,
        folder: SessionFolder,
        source: &'a mut dyn GazeSource,
        options: RunnerOptions,
    ) -> Result<Self, RunError> {
        let events = EventLog::open(&folder.root().join(EVENTS_FILE))?;
        source.start().map_err(|e| RunError::Gaze(e.to_string()))?;
        Ok(Self {
            study,
            folder,
            source,
            events,
            options,
            pending_samples: Vec::new(),
            notifications: Vec::new(),
            resume_lines: Vec::new(),
        })
    }

    pub fn folder(&self) -> &SessionFolder {
        &self.folder
    }

    /// Records an accepted validation in the session metadata (see
    /// [`SessionFolder::set_calibration`]).
    pub fn set_calibration(&mut self, report: ValidationReport) -> Result<(), RunError> {
        self.folder.set_calibration(report)?;
        Ok(())
    }

    /// Runs every pending trial, breaks and the questionnaire, then closes the session.
    pub fn run(
        mut self,
        subject: &mut dyn Subject,
        analyze: &mut dyn FnMut(&RecordedTrial) -> Result<(), String>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SessionMeta, RunError> {
        match self.run_inner(subject, analyze, progress) {
            Ok(status) => {
                let _ = self.source.stop();
                self.log(None, EventKind::SessionEnd)?;
                Ok(self.folder.close(status)?)
            }
            Err(error) => {
                let _ = self.source.stop();
                // On a full disk, the reserve's space lets the stop be recorded.
                self.folder.release_space_reserve();
                let reason = error.to_string();
                let _ = self.log(
                    None,
                    EventKind::Note {
                        text: reason.clone(),
                    },
                );
                // Keep the error the caller must see, even if closing fails as well.
                let _ = self.folder.close(SessionStatus::Stopped { reason });
                Err(error)
            }
        }
    }

    fn run_inner(
        &mut self,
        subject: &mut dyn Subject,
        analyze: &mut dyn FnMut(&RecordedTrial) -> Result<(), String>,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SessionStatus, RunError> {
        let total = self.folder.meta().trials.len();
        if self.folder.meta().next_trial() == Some(0) {
            let screen = WaitScreen::Instructions(self.study.study.instructions.clone());
            if !subject.wait_to_continue(&screen) {
                return Ok(SessionStatus::Stopped {
                    reason: "aborted at the instructions".into(),
                });
            }
        }
        let mut completed_here = 0_u32;
        while let Some(index) = self.folder.meta().next_trial() {
            if completed_here > 0
                && let Some(breaks) = &self.study.study.breaks
                && (index as u32).is_multiple_of(breaks.every_n_trials)
            {
                self.log(None, EventKind::BreakStart)?;
                let screen = WaitScreen::Break {
                    message: breaks.message.clone(),
                    min_duration_ms: breaks.min_duration_ms,
                };
                self.wait_and_record(Self::ms(breaks.min_duration_ms), None, None)?;
                let go_on = subject.wait_to_continue(&screen);
                self.log(None, EventKind::BreakEnd)?;
                if !go_on {
                    return Ok(SessionStatus::Stopped {
                        reason: "aborted at a break".into(),
                    });
                }
            }
            let trial = self.study.study.trials[self.study_index(index)].clone();
            match subject.before_trial(&trial, index) {
                TrialGate::Go => {}
                TrialGate::Paused {
                    paused_us,
                    resumed_us,
                } => {
                    self.log_at(None, EventKind::Pause, paused_us)?;
                    self.log_at(None, EventKind::Continue, resumed_us)?;
                }
                TrialGate::Stop { reason, paused_us } => {
                    if let Some(paused_us) = paused_us {
                        self.log_at(None, EventKind::Pause, paused_us)?;
                    }
                    return Ok(SessionStatus::Stopped { reason });
                }
            }
            let id = self.folder.meta().trials[index].id.clone();
            progress(Progress::TrialStarted {
                index,
                of: total,
                id,
            });
            let Some(recorded) = self.run_trial(index, subject)? else {
                // Stopped before the description: the trial stays unfinished (the
                // folder marks it interrupted), so a resume shows it again.
                let id = &self.folder.meta().trials[index].id;
                return Ok(SessionStatus::Stopped {
                    reason: format!(
                        "stopped before trial {id} was described; that trial is shown again \
                         on resume"
                    ),
                });
            };
            if let Err(message) = analyze(&recorded) {
                let text = format!(
                    "analysis of trial {} failed: {message}",
                    self.folder.meta().trials[index].id
                );
                progress(Progress::Notice(text.clone()));
                self.folder.note(text)?;
            }
            self.folder
                .finish_trial(index, self.options.clock.now_us())?;
            progress(Progress::TrialFinished {
                index,
                samples: recorded.samples.len(),
            });
            completed_here += 1;
        }
        if self.study.study.questionnaire.is_some() {
            self.log(None, EventKind::QuestionnaireStart)?;
            let answers = subject.questionnaire();
            self.log(None, EventKind::QuestionnaireEnd)?;
            if let Some(ratings) = answers {
                let record = serde_json::json!({
                    "instrument": "TIPI",
                    "ratings": ratings,
                    "scores": tipi::score(&ratings),
                });
                let path = self.folder.root().join("questionnaire.json");
                super::meta::write_atomically(&path, record.to_string().as_bytes())
                    .map_err(|e| RunError::Storage(format!("{}: {e}", path.display())))?;
            }
        }
        Ok(SessionStatus::Complete)
    }

    /// Records trial `index`; `None` when the session was stopped before the subject
    /// described it.
    fn run_trial(
        &mut self,
        index: usize,
        subject: &mut dyn Subject,
    ) -> Result<Option<RecordedTrial>, RunError> {
        let study_index = self.study_index(index);
        let trial = self.study.study.trials[study_index].clone();
        let now = self.options.clock.now_us();
        let dir = self.folder.start_trial(index, now)?;
        let mut recorder = TrialRecorder::open(
            &dir,
            self.options.flush_interval_us,
            self.options.sync_to_disk,
            now,
        )
        .map_err(|e| RunError::Storage(e.to_string()))?;
        // Samples that arrived between trials belong to no trial.
        self.pending_samples.clear();
        let _ = self.source.drain_samples(&mut self.pending_samples);
        self.pending_samples.clear();

        subject.trial_starting(&trial, index);
        if trial.fixation_cross_ms > 0 {
            self.log(Some(&trial.id), EventKind::FixationCrossOn)?;
            subject.fixation_cross_on(&trial, index);
            self.wait_and_record(Self::ms(trial.fixation_cross_ms), Some(&mut recorder), None)?;
        }
        let image = self.folder.meta().trials[index].image.clone();
        let logged_on_us = self.log(
            Some(&trial.id),
            EventKind::StimulusOn {
                image: image.clone(),
            },
        )?;
        subject.stimulus_on(&trial, index);
        let clicks = if self.study.study.attention.bubble_view().is_some() {
            let size = self.study.image_sizes_px.get(study_index).copied();
            let mut capture = ClickCapture {
                subject: &mut *subject,
                trial_id: trial.id.clone(),
                trial_index: index,
                placement: super::analysis::placement_of(
                    &self.study.study.screen,
                    size.unwrap_or((1, 1)),
                ),
                since_us: logged_on_us,
                clicks: Vec::new(),
                incoming: Vec::new(),
            };
            let duration = Self::ms(trial.viewing_time_ms);
            self.wait_and_record(duration, Some(&mut recorder), Some(&mut capture))?;
            capture.clicks
        } else {
            let duration = Self::ms(trial.viewing_time_ms);
            self.wait_and_record(duration, Some(&mut recorder), None)?;
            Vec::new()
        };
        let stimulus_off_us = self.log(Some(&trial.id), EventKind::StimulusOff)?;
        // The display's own onset, when it reports one, is the trial's true onset.
        let stimulus_on_us = match subject.stimulus_presented_us(index) {
            Some(presented_us) if (logged_on_us..stimulus_off_us).contains(&presented_us) => {
                self.log_at(
                    Some(&trial.id),
                    EventKind::StimulusPresented { image },
                    presented_us,
                )?;
                presented_us
            }
            _ => logged_on_us,
        };
        let samples = recorder
            .finish(self.options.clock.now_us())
            .map_err(|e| RunError::Storage(e.to_string()))?;

        if let Some(dictation) = trial.dictation {
            let Some(description) =
                self.describe(&trial, index, dictation.max_length_ms, subject, &dir)?
            else {
                return Ok(None);
            };
            let path = dir.join("description.json");
            let text = serde_json::to_string_pretty(&description)
                .map_err(|e| RunError::Storage(e.to_string()))?;
            super::meta::write_atomically(&path, text.as_bytes())
                .map_err(|e| RunError::Storage(format!("{}: {e}", path.display())))?;
        }
        Ok(Some(RecordedTrial {
            index,
            dir,
            samples,
            stimulus_on_us,
            stimulus_off_us,
            clicks,
        }))
    }

    /// Waits `duration`, draining the source every poll interval into `recorder`
    /// (or discarding the samples), logging the source's notifications and, during a
    /// BubbleView stimulus, the subject's clicks.
    fn wait_and_record(
        &mut self,
        duration: Duration,
        mut recorder: Option<&mut TrialRecorder>,
        mut clicks: Option<&mut ClickCapture<'_>>,
    ) -> Result<(), RunError> {
        let clock = self.options.clock;
        let end = clock.now_us() + i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        loop {
            let now = clock.now_us();
            self.pending_samples.clear();
            self.source.drain_samples(&mut self.pending_samples);
            if let Some(recorder) = recorder.as_deref_mut() {
                recorder
                    .record(&self.pending_samples, now)
                    .map_err(|e| RunError::Storage(e.to_string()))?;
            }
            self.log_notifications()?;
            if let Some(capture) = clicks.as_deref_mut() {
                self.log_clicks(capture, now)?;
            }
            if now >= end {
                return Ok(());
            }
            std::thread::sleep(
                clock
                    .real_duration(end - now)
                    .min(self.options.poll_interval),
            );
        }
    }

    /// Takes the subject's new clicks; logs and keeps the valid ones. A click's time
    /// is kept within the stimulus so far and never before the previous click.
    fn log_clicks(&mut self, capture: &mut ClickCapture<'_>, now_us: i64) -> Result<(), RunError> {
        capture
            .subject
            .take_clicks(capture.trial_index, &mut capture.incoming);
        // Drained, so the buffer is reused at every poll.
        for mut click in capture.incoming.drain(..) {
            if !click.is_valid() || click.time_us < capture.since_us {
                continue;
            }
            let previous_us = capture.clicks.last().map_or(i64::MIN, |c| c.time_us);
            click.time_us = click.time_us.min(now_us).max(previous_us);
            let order = u32::try_from(capture.clicks.len() + 1).unwrap_or(u32::MAX);
            self.log_at(
                Some(&capture.trial_id),
                EventKind::BubbleClick {
                    order,
                    position_display: click.position_display,
                    position_image: capture.placement.image_from_display(click.position_display),
                },
                click.time_us,
            )?;
            capture.clicks.push(click);
        }
        Ok(())
    }

    fn log_notifications(&mut self) -> Result<(), RunError> {
        self.notifications.clear();
        self.source.drain_notifications(&mut self.notifications);
        let notifications = std::mem::take(&mut self.notifications);
        for notification in &notifications {
            let (at_us, kind) = match notification {
                Notification::ConnectionLost { at_us } => (*at_us, EventKind::GazeLost),
                Notification::ConnectionRestored { at_us } => (*at_us, EventKind::GazeRestored),
                Notification::SamplesDropped { at_us, count } => {
                    (*at_us, EventKind::SamplesDropped { count: *count })
                }
                other => (
                    self.options.clock.now_us(),
                    EventKind::Note {
                        text: format!("{other:?}"),
                    },
                ),
            };
            self.events.append(&Event {
                time_us: at_us,
                trial: None,
                kind,
            })?;
        }
        self.notifications = notifications;
        Ok(())
    }

    fn log(&mut self, trial: Option<&str>, kind: EventKind) -> Result<i64, RunError> {
        let time_us = self.options.clock.now_us();
        self.log_at(trial, kind, time_us)
    }

    fn log_at(
        &mut self,
        trial: Option<&str>,
        kind: EventKind,
        time_us: i64,
    ) -> Result<i64, RunError> {
        self.events.append(&Event {
            time_us,
            trial: trial.map(str::to_owned),
            kind,
        })?;
        Ok(time_us)
    }

    fn ms(ms: u32) -> Duration {
        Duration::from_millis(u64::from(ms))
    }

    /// The index into `study.trials` of the session's `index`-th trial.
    fn study_index(&self, index: usize) -> usize {
        let id = &self.folder.meta().trials[index].id;
        self.study
            .study
            .trials
            .iter()
            .position(|t| &t.id == id)
            .unwrap_or(index)
    }
}
