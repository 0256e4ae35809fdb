//! The runner's view of the subject: the [`Subject`] trait (what the subject does
//! when the runner waits for them) and the answers it gives.

use std::path::PathBuf;

use crate::audio::LevelMeter;
use crate::session::bubbles::BubbleClick;
use crate::study::Trial;

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
    /// The session was stopped before the subject answered: the trial is not
    /// complete (it stays interrupted and is shown again on resume), and the
    /// session stops.
    Stopped,
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
    /// Polled while a BubbleView stimulus is shown: moves the clicks the subject made
    /// on it since the last call into `out`, oldest first.
    fn take_clicks(&mut self, _trial_index: usize, _out: &mut Vec<BubbleClick>) {}
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
