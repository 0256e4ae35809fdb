//! The session screens' state on the UI thread: the setup form and what the probes
//! found, and the running session as the session thread reports it. Only data,
//! textures and the channel ends to the workers live here; the command handler
//! (`handling.rs`) changes it, the panels read it (and edit their own input fields).

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use crate::audio::LevelMeter;
use crate::gaze::{DeviceInfo, PointerFeed};
use crate::session::SessionMeta;
use crate::session::runner::Progress;

use super::live::LiveMonitor;
use super::probe::{MicTest, ProbeReport};
use super::protocol::{CalibrationKind, CalibrationOutcome, SubjectScreen, TargetPhase};
use super::worker::{SessionLink, SourceChoice};

/// The microphone the subject dictates into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MicChoice {
    /// No audio: descriptions are typed in the presentation window.
    #[default]
    None,
    /// The system's default input device.
    Default,
    Named(String),
}

impl MicChoice {
    pub fn label(&self) -> String {
        match self {
            Self::None => "No microphone (typed descriptions)".to_owned(),
            Self::Default => "Default input device".to_owned(),
            Self::Named(name) => name.clone(),
        }
    }
}

/// What the experimenter fills in before a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupForm {
    pub subject: String,
    pub source: SourceChoice,
    pub microphone: MicChoice,
    /// Folder under which `<study>/<subject>_<time>/` is created.
    pub sessions_root: String,
    /// Open the presentation window full screen.
    pub full_screen: bool,
}

impl Default for SetupForm {
    fn default() -> Self {
        Self {
            subject: String::new(),
            source: SourceChoice::Mouse,
            microphone: MicChoice::None,
            sessions_root: "sessions".to_owned(),
            full_screen: true,
        }
    }
}

/// A session started from the command line (`--record-subject`): it starts as soon
/// as the study is loaded, with the mouse, typed descriptions and no calibration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickStart {
    pub subject: String,
    pub sessions_root: PathBuf,
}

/// Where a session is.
#[derive(Debug)]
pub enum Stage {
    /// Opening the gaze source.
    Opening,
    /// Calibration and validation (or skipping them).
    Calibrating,
    /// The trials run.
    Recording,
    /// The session thread ended.
    Finished(Result<Box<SessionMeta>, String>),
}

/// The overlay on the subject's screen after Escape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseState {
    Running,
    /// "Pause the session?" is asked.
    Confirming,
    /// Confirmed: the session pauses before the next trial.
    Requested,
}

/// A session from the moment Start was pressed.
pub struct RunningSession {
    pub link: SessionLink,
    pub live: LiveMonitor,
    pub stage: Stage,
    pub source: Option<(DeviceInfo, f32, CalibrationKind)>,
    pub source_choice: SourceChoice,
    pub full_screen: bool,
    /// What the subject's screen shows, and since when.
    pub screen: SubjectScreen,
    pub screen_since: Instant,
    /// Trial images by study trial index, as they are decoded.
    pub stimuli: Vec<Option<egui::TextureHandle>>,
    /// Their blurred versions, in a BubbleView study.
    pub blurred_stimuli: Vec<Option<egui::TextureHandle>>,
    /// The BubbleView clicks on the current stimulus, display-normalized, in order.
    pub bubble_clicks: Vec<[f32; 2]>,
    pub stimulus_problems: Vec<String>,
    pub calibration: Option<CalibrationOutcome>,
    pub validation: Option<CalibrationOutcome>,
    /// A target sequence is running on the session thread.
    pub calibration_busy: Option<TargetPhase>,
    pub folder: Option<PathBuf>,
    pub trial_ids: Vec<String>,
    pub current_trial: Option<usize>,
    pub completed_trials: usize,
    pub notices: Vec<String>,
    pub pause: PauseState,
    /// The experimenter asked to stop; waiting for the session thread.
    pub stop_requested: bool,
    /// The description being typed in the presentation window.
    pub description_text: String,
    /// Descriptions are typed (no microphone was chosen): the instructions say so.
    pub typed_descriptions: bool,
    /// The questionnaire's answers so far (1–7).
    pub questionnaire: [Option<u8>; 10],
    /// The trial whose first stimulus frame was drawn and still has to be reported.
    pub stimulus_frame_pending: Option<usize>,
    /// The trial whose present time was reported.
    pub stimulus_reported: Option<usize>,
}

impl RunningSession {
    pub fn new(
        link: SessionLink,
        live: LiveMonitor,
        source: SourceChoice,
        full_screen: bool,
    ) -> Self {
        Self {
            link,
            live,
            stage: Stage::Opening,
            source: None,
            source_choice: source,
            full_screen,
            screen: SubjectScreen::Blank,
            screen_since: Instant::now(),
            stimuli: Vec::new(),
            blurred_stimuli: Vec::new(),
            bubble_clicks: Vec::new(),
            stimulus_problems: Vec::new(),
            calibration: None,
            validation: None,
            calibration_busy: None,
            folder: None,
            trial_ids: Vec::new(),
            current_trial: None,
            completed_trials: 0,
            notices: Vec::new(),
            pause: PauseState::Running,
            stop_requested: false,
            description_text: String::new(),
            typed_descriptions: true,
            questionnaire: [None; 10],
            stimulus_frame_pending: None,
            stimulus_reported: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.stage, Stage::Finished(_))
    }

    /// Milliseconds since the current subject screen appeared.
    pub fn screen_elapsed_ms(&self) -> u64 {
        u64::try_from(self.screen_since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn apply_progress(&mut self, progress: Progress) {
        match progress {
            Progress::TrialStarted { index, .. } => self.current_trial = Some(index),
            Progress::TrialFinished { .. } => self.completed_trials += 1,
            Progress::Notice(text) => self.notices.push(text),
        }
    }
}

/// Everything the session screens hold.
#[derive(Default)]
pub struct SessionState {
    pub form: SetupForm,
    /// What the last device probe found; `None` while it runs (or before).
    pub probe: Option<ProbeReport>,
    pub probe_running: Option<Receiver<ProbeReport>>,
    /// The live level of the chosen microphone in the setup.
    pub mic_test: Option<MicTest>,
    pub mic_level: Option<Result<LevelMeter, String>>,
    pub mic_level_pending: Option<Receiver<Result<LevelMeter, String>>>,
    pub running: Option<RunningSession>,
    /// Set by `--record-subject`; taken when the session starts.
    pub quick_start: Option<QuickStart>,
    /// The presentation window writes the pointer here; the mouse source reads it.
    pub feed: PointerFeed,
    /// A problem with the setup the experimenter must fix (shown on the setup screen).
    pub setup_problem: Option<String>,
}

impl SessionState {
    /// A session is running and has not ended.
    pub fn is_active(&self) -> bool {
        self.running.as_ref().is_some_and(|r| !r.is_finished())
    }
}
