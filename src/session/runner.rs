//! The headless session runner: takes a study, a subject code and any gaze source, and
//! drives the trials — fixation cross → stimulus → gaze recording → dictation →
//! description → next trial — with breaks and the questionnaire when the study asks
//! for them. Every event is stamped on the gaze clock and appended to `events.jsonl`;
//! samples reach `gaze.chunks` within the flush interval; metadata is rewritten
//! atomically at each step. A write error stops the session cleanly (status
//! `Stopped`, what was written is kept); a lost tracker is logged and the trial goes on.
//!
//! What the subject does (continue, speak, type, answer) comes from a [`Subject`]:
//! the app implements it with real screens, `scanscribe record` with a simulated one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::events::{Event, EventKind, EventLog, EventsError};
use super::folder::{EVENTS_FILE, SessionError, SessionFolder};
use super::meta::{SessionMeta, SessionStatus};
use super::recorder::{DEFAULT_FLUSH_INTERVAL_US, TrialRecorder};
use crate::audio::{AudioError, Dictation, LevelMeter};
use crate::gaze::clock::SessionClock;
use crate::gaze::quality::ValidationReport;
use crate::gaze::{GazeSample, GazeSource, Notification};
use crate::study::{LoadedStudy, Trial, tipi};

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
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            sessions_root: PathBuf::from("sessions"),
            flush_interval_us: DEFAULT_FLUSH_INTERVAL_US,
            poll_interval: Duration::from_millis(5),
            sync_to_disk: true,
            clock: SessionClock::real_time(),
        }
    }
}

/// Which screen waits for the subject.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitScreen {
    Instructions(String),
    Break {
        message: String,
        min_duration_ms: u32,
    },
}

/// How the subject answers a description prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Speech, as a WAV file played through the dictation pipeline.
    Speech(PathBuf),
    /// Typed (or supplied) text.
    Text(String),
    /// Nothing (skipped).
    Nothing,
    /// Live speech from a microphone (`None`: the default input device), recorded until
    /// [`Subject::dictation_done`] says so or the trial's maximum length. A microphone
    /// that cannot be opened is noted and the trial gets no description.
    Microphone { device_name: Option<String> },
}

/// Whether the next trial may start (asked before each trial; the app pauses here).
#[derive(Debug, Clone, PartialEq)]
pub enum TrialGate {
    Go,
    /// The experimenter paused between trials and went on; both times on the gaze clock.
    Paused {
        paused_us: i64,
        resumed_us: i64,
    },
    /// End the session here: the next trial stays pending, so it can be resumed.
    /// `paused_us`: when a pause began that ended in this stop.
    Stop {
        reason: String,
        paused_us: Option<i64>,
    },
}

/// What the subject does when the runner waits for them.
pub trait Subject {
    /// Called before the trial's fixation cross (a simulated subject starts looking).
    fn trial_starting(&mut self, _trial: &Trial, _trial_index: usize) {}
    /// Asked before each trial (before its folder is touched).
    fn before_trial(&mut self, _trial: &Trial, _trial_index: usize) -> TrialGate {
        TrialGate::Go
    }
    /// The fixation cross is on from now, for the trial's `fixation_cross_ms`.
    fn fixation_cross_on(&mut self, _trial: &Trial, _trial_index: usize) {}
    /// The stimulus is on from now (the time logged as `stimulus_on`), for the
    /// trial's `viewing_time_ms`.
    fn stimulus_on(&mut self, _trial: &Trial, _trial_index: usize) {}
    /// When the display presented the first frame showing the current trial's
    /// stimulus, on the gaze clock, if the subject's display knows it. Asked when
    /// the stimulus goes off; logged as `stimulus_presented`.
    fn stimulus_presented_us(&mut self, _trial_index: usize) -> Option<i64> {
        None
    }
    /// A microphone dictation started; `level` is its live input level.
    fn dictation_started(&mut self, _trial: &Trial, _trial_index: usize, _level: &LevelMeter) {}
    /// Polled while a microphone dictation runs: `true` ends it (the subject is done).
    fn dictation_done(&mut self) -> bool {
        false
    }
    /// Returns when the subject continues; `false` aborts the session.
    fn wait_to_continue(&mut self, screen: &WaitScreen) -> bool;
    /// The description of a trial's image.
    fn respond(&mut self, trial: &Trial, trial_index: usize) -> Response;
    /// The ten TIPI ratings, `None` if declined.
    fn questionnaire(&mut self) -> Option<[u8; 10]>;
}

/// How a trial's description came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionSource {
    Typed,
    /// Spoken; the text comes from transcription (empty until transcribed).
    Dictated,
    None,
}

/// `description.json` of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialDescription {
    pub text: String,
    pub source: DescriptionSource,
    /// Edited by the experimenter or subject after the trial.
    #[serde(default)]
    pub edited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioInfo>,
}

/// The dictation recording of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub file: String,
    pub first_sample_us: Option<i64>,
    pub duration_ms: f64,
    pub dropped_input_samples: u64,
}

/// What a finished trial hands to the analysis step.
#[derive(Debug, Clone)]
pub struct RecordedTrial {
    pub index: usize,
    pub dir: PathBuf,
    pub samples: Vec<GazeSample>,
    pub stimulus_on_us: i64,
    pub stimulus_off_us: i64,
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
        folder.resume(options.clock.now_us())?;
        let mut runner = Self::with_folder(study, folder, source, options)?;
        runner.log(None, EventKind::SessionResume)?;
        Ok(runner)
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
                self.wait_and_record(Self::ms(breaks.min_duration_ms), None)?;
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
            let recorded = self.run_trial(index, subject)?;
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

    fn run_trial(
        &mut self,
        index: usize,
        subject: &mut dyn Subject,
    ) -> Result<RecordedTrial, RunError> {
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
            self.wait_and_record(Self::ms(trial.fixation_cross_ms), Some(&mut recorder))?;
        }
        let image = self.folder.meta().trials[index].image.clone();
        let logged_on_us = self.log(
            Some(&trial.id),
            EventKind::StimulusOn {
                image: image.clone(),
            },
        )?;
        subject.stimulus_on(&trial, index);
        self.wait_and_record(Self::ms(trial.viewing_time_ms), Some(&mut recorder))?;
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
            let description =
                self.describe(&trial, index, dictation.max_length_ms, subject, &dir)?;
            let path = dir.join("description.json");
            let text = serde_json::to_string_pretty(&description)
                .map_err(|e| RunError::Storage(e.to_string()))?;
            super::meta::write_atomically(&path, text.as_bytes())
                .map_err(|e| RunError::Storage(format!("{}: {e}", path.display())))?;
        }
        Ok(RecordedTrial {
            index,
            dir,
            samples,
            stimulus_on_us,
            stimulus_off_us,
        })
    }

    fn describe(
        &mut self,
        trial: &Trial,
        index: usize,
        max_length_ms: u32,
        subject: &mut dyn Subject,
        dir: &Path,
    ) -> Result<TrialDescription, RunError> {
        match subject.respond(trial, index) {
            Response::Text(text) => Ok(TrialDescription {
                text,
                source: DescriptionSource::Typed,
                edited: false,
                audio: None,
            }),
            Response::Nothing => Ok(TrialDescription {
                text: String::new(),
                source: DescriptionSource::None,
                edited: false,
                audio: None,
            }),
            Response::Microphone { device_name } => {
                self.dictate_from_microphone(trial, index, device_name, max_length_ms, subject, dir)
            }
            Response::Speech(wav) => {
                let out = dir.join("audio.wav");
                let realtime = self.options.clock.speed() <= 1.0;
                self.log(Some(&trial.id), EventKind::DictationStart)?;
                let dictation = Dictation::from_wav_file(&wav, &out, realtime)?;
                // The subject speaks until the recording ends or the maximum length.
                self.finish_dictation(&trial.id, dictation, max_length_ms, &mut |d| {
                    d.input_finished()
                })
            }
        }
    }

    fn dictate_from_microphone(
        &mut self,
        trial: &Trial,
        index: usize,
        device_name: Option<String>,
        max_length_ms: u32,
        subject: &mut dyn Subject,
        dir: &Path,
    ) -> Result<TrialDescription, RunError> {
        let out = dir.join("audio.wav");
        let dictation = match Dictation::from_microphone(device_name.as_deref(), &out) {
            Ok(dictation) => dictation,
            Err(error) => {
                // The session goes on without this dictation; the reason is kept.
                self.folder
                    .note(format!("trial {}: no dictation: {error}", trial.id))?;
                return Ok(TrialDescription {
                    text: String::new(),
                    source: DescriptionSource::None,
                    edited: false,
                    audio: None,
                });
            }
        };
        self.log(Some(&trial.id), EventKind::DictationStart)?;
        subject.dictation_started(trial, index, dictation.level());
        self.finish_dictation(&trial.id, dictation, max_length_ms, &mut |_| {
            subject.dictation_done()
        })
    }

    /// Records until `done` says so or `max_length_ms` has passed, then stops the
    /// dictation, logs it and describes its audio file.
    fn finish_dictation(
        &mut self,
        trial_id: &str,
        dictation: Dictation,
        max_length_ms: u32,
        done: &mut dyn FnMut(&Dictation) -> bool,
    ) -> Result<TrialDescription, RunError> {
        let deadline_us = self.options.clock.now_us()
            + i64::try_from(Self::ms(max_length_ms).as_micros()).unwrap_or(i64::MAX);
        while !done(&dictation) && self.options.clock.now_us() < deadline_us {
            self.wait_and_record(self.options.poll_interval, None)?;
        }
        let summary = dictation.stop()?;
        self.log(Some(trial_id), EventKind::DictationStop)?;
        Ok(TrialDescription {
            text: String::new(),
            source: DescriptionSource::Dictated,
            edited: false,
            audio: Some(AudioInfo {
                file: "audio.wav".into(),
                first_sample_us: summary.first_sample_us,
                duration_ms: summary.duration_ms(),
                dropped_input_samples: summary.dropped_input_samples,
            }),
        })
    }

    /// Waits `duration`, draining the source every poll interval into `recorder`
    /// (or discarding the samples) and logging the source's notifications.
    fn wait_and_record(
        &mut self,
        duration: Duration,
        mut recorder: Option<&mut TrialRecorder>,
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
