//! The messages between the UI thread and the session thread: what the UI asks for
//! ([`ToSession`]) and what the session thread reports ([`FromSession`]). Plain data;
//! the session thread wakes the UI after each report.

use std::path::PathBuf;
use std::sync::mpsc::Sender;

use crate::audio::LevelMeter;
use crate::gaze::DeviceInfo;
use crate::gaze::quality::ValidationReport;
use crate::session::SessionMeta;
use crate::session::bubbles::BubbleClick;
use crate::session::runner::{Progress, Response};

/// From the UI to the session thread.
#[derive(Debug, Clone, PartialEq)]
pub enum ToSession {
    /// Show the calibration targets and collect gaze at each: all of them, or only
    /// the ones that failed last time.
    Calibrate {
        redo_failing: bool,
    },
    /// The same for the validation targets.
    Validate {
        redo_failing: bool,
    },
    /// Record the last validation in the session and start the trials.
    AcceptCalibration,
    /// Start the trials without a calibration (the session metadata then has none).
    SkipCalibration,
    /// Space on the instructions or a break screen.
    Continue,
    /// The subject's typed (or skipped) description of the current trial.
    Describe(Response),
    /// The subject finished speaking.
    DictationDone,
    /// The TIPI ratings, `None` when declined.
    Questionnaire(Option<[u8; 10]>),
    /// The presentation window presented the first frame of this trial's stimulus
    /// at `present_us` (gaze clock).
    Presented {
        trial_index: usize,
        present_us: i64,
    },
    /// A click on a BubbleView stimulus of this trial.
    BubbleClick {
        trial_index: usize,
        click: BubbleClick,
    },
    /// Pause before the next trial (confirmed by the experimenter).
    Pause {
        at_us: i64,
    },
    Resume {
        at_us: i64,
    },
    /// End the session at the next step; completed trials are kept, the rest stay
    /// pending for a resume.
    Stop {
        by: StopOrigin,
    },
}

/// Who stopped a session, for the reason recorded in `session.ron`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOrigin {
    /// The experimenter, on the monitor.
    Experimenter,
    /// Someone at the subject's screen (the pause screen's Stop, or S).
    SubjectScreen,
}

impl StopOrigin {
    pub fn words(self) -> &'static str {
        match self {
            Self::Experimenter => "by the experimenter",
            Self::SubjectScreen => "on the subject's screen",
        }
    }
}

/// How the source's calibration works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationKind {
    /// The tracker calibrates itself (Tobii Pro SDK).
    Device,
    /// The mouse or simulated source: measured only, nothing is changed.
    Software,
}

/// Which part of calibration a target belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPhase {
    Calibration,
    Validation,
}

/// One point of a calibration or validation result, for the result plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointPlot {
    pub target_display: [f32; 2],
    /// Mean gaze of each eye while the target was shown; `None` with no valid gaze.
    pub left_display: Option<[f32; 2]>,
    pub right_display: Option<[f32; 2]>,
    pub passed: bool,
}

/// A calibration or validation outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationOutcome {
    pub phase: TargetPhase,
    pub points: Vec<PointPlot>,
    pub report: ValidationReport,
    /// Problems collecting the data (e.g. no gaze arrived), one per line.
    pub problems: Vec<String>,
}

/// A trial image decoded on a worker thread.
#[derive(Debug, Clone, PartialEq)]
pub struct StimulusPixels {
    /// Index into the study's trials.
    pub study_index: usize,
    pub size_px: [usize; 2],
    pub rgba: Vec<u8>,
    /// The blurred image a BubbleView study shows: its size (may be smaller than the
    /// image's) and pixels.
    pub blurred_rgba: Option<([usize; 2], Vec<u8>)>,
}

/// What the subject's screen shows now.
#[derive(Debug, Clone)]
pub enum SubjectScreen {
    /// Nothing to do: a neutral screen between steps.
    Blank,
    CalibrationTarget {
        phase: TargetPhase,
        target_display: [f32; 2],
        /// The dot shrinks this long, then gaze is collected while it stays small.
        shrink_ms: u32,
        dwell_ms: u32,
    },
    Instructions(String),
    FixationCross {
        trial_index: usize,
        duration_ms: u32,
    },
    Stimulus {
        trial_index: usize,
        study_index: usize,
        duration_ms: u32,
    },
    Describe {
        trial_index: usize,
    },
    Dictating {
        trial_index: usize,
        level: LevelMeter,
        max_length_ms: u32,
    },
    Break {
        message: String,
    },
    Paused,
    Questionnaire,
}

/// From the session thread to the UI.
#[derive(Debug)]
pub enum FromSession {
    /// The gaze source is open and streaming.
    SourceReady {
        info: DeviceInfo,
        rate_hz: f32,
        calibration: CalibrationKind,
    },
    /// Every trial image, or why one could not be decoded.
    Stimuli(Vec<Result<StimulusPixels, String>>),
    Screen(SubjectScreen),
    Calibration(Box<CalibrationOutcome>),
    /// The session folder exists and the trials begin.
    Started {
        folder: PathBuf,
        trial_ids: Vec<String>,
        /// Trials already complete (a resumed session's earlier ones).
        completed_trials: usize,
    },
    Progress(Progress),
    /// The simulated subject clicked on this trial's BubbleView stimulus.
    SimulatedClick {
        trial_index: usize,
        position_display: [f32; 2],
    },
    /// The session thread ended: the closed session, or why it could not run.
    Finished(Result<Box<SessionMeta>, String>),
}

/// Sends reports to the UI and wakes it.
#[derive(Clone)]
pub struct Reporter {
    pub sender: Sender<FromSession>,
    pub ctx: egui::Context,
}

impl Reporter {
    /// `false` when the UI is gone.
    pub fn send(&self, message: FromSession) -> bool {
        let sent = self.sender.send(message).is_ok();
        self.ctx.request_repaint();
        sent
    }
}
