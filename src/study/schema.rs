//! The study file's schema: what an experimenter writes in `studies/*.ron`.
//!
//! Every struct denies unknown fields, so a misspelt field is an error with its line,
//! never silently ignored. Optional parts have serde defaults; see `studies/demo.ron`
//! for a complete example.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::geometry::ScreenGeometry;

/// A whole study: what the subject sees, in which order, and how gaze is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Short identifier used in session folder names (letters, digits, `-`, `_`).
    pub id: String,
    pub title: String,
    /// Shown to the subject before the first trial.
    pub instructions: String,
    pub screen: ScreenGeometry,
    /// The gaze source the study prefers; the app falls back (and says so) when it is absent.
    #[serde(default)]
    pub gaze_source: GazeSourceKind,
    #[serde(default)]
    pub calibration: CalibrationPlan,
    /// How attention is recorded: gaze (the default), or BubbleView clicks.
    #[serde(default)]
    pub attention: AttentionMode,
    /// Folder the trial images are relative to, itself relative to the study file.
    /// Trial images may not leave it. Default: the study file's folder.
    #[serde(default = "default_image_root")]
    pub image_root: PathBuf,
    pub trials: Vec<Trial>,
    /// Per-subject shuffling of the trial order.
    #[serde(default)]
    pub randomization: Option<Randomization>,
    /// Rest screens between blocks of trials.
    #[serde(default)]
    pub breaks: Option<Breaks>,
    /// A questionnaire at the end of the session.
    #[serde(default)]
    pub questionnaire: Option<Questionnaire>,
}

fn default_image_root() -> PathBuf {
    PathBuf::from(".")
}

/// Which kind of gaze source a study is meant for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GazeSourceKind {
    /// A Tobii Pro screen-based eye tracker through the Tobii Pro SDK.
    Tobii,
    /// The mouse pointer stands in for gaze.
    #[default]
    Mouse,
    /// A simulated subject from the cohort generator.
    Simulated,
}

impl GazeSourceKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Tobii => "Tobii Pro eye tracker",
            Self::Mouse => "mouse (pointer as gaze)",
            Self::Simulated => "simulated subject",
        }
    }
}

/// How a study records where the subject attends.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum AttentionMode {
    /// Gaze from the session's gaze source becomes fixations (I-VT).
    #[default]
    Gaze,
    /// BubbleView (Kim et al. 2017): the stimulus is shown blurred and each click reveals
    /// a sharp disc around it. The clicks, with their order and times, are the
    /// attention samples; each becomes a fixation lasting until the next click. Gaze
    /// (or the pointer) is still recorded alongside.
    BubbleView(BubbleView),
}

impl AttentionMode {
    /// The BubbleView settings, when the study uses it.
    pub fn bubble_view(&self) -> Option<&BubbleView> {
        match self {
            Self::Gaze => None,
            Self::BubbleView(settings) => Some(settings),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Gaze => "gaze (fixations from the gaze source)".to_owned(),
            Self::BubbleView(settings) => format!(
                "BubbleView clicks (bubble radius {}°, blur σ {}°{})",
                settings.bubble_radius_deg,
                settings.blur_sigma_deg,
                if settings.keep_revealed {
                    ", bubbles stay open"
                } else {
                    ""
                }
            ),
        }
    }
}

/// BubbleView settings; sizes are visual angles at the study's viewing distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BubbleView {
    /// Radius of the sharp disc a click reveals, degrees.
    #[serde(default = "default_bubble_radius_deg")]
    pub bubble_radius_deg: f64,
    /// Standard deviation of the Gaussian blur over the rest of the image, degrees.
    #[serde(default = "default_blur_sigma_deg")]
    pub blur_sigma_deg: f64,
    /// Every bubble stays open; by default only the latest click's bubble is sharp,
    /// as in the original interface.
    #[serde(default)]
    pub keep_revealed: bool,
}

impl Default for BubbleView {
    fn default() -> Self {
        Self {
            bubble_radius_deg: default_bubble_radius_deg(),
            blur_sigma_deg: default_blur_sigma_deg(),
            keep_revealed: false,
        }
    }
}

fn default_bubble_radius_deg() -> f64 {
    1.5
}

fn default_blur_sigma_deg() -> f64 {
    0.6
}

/// Calibration and validation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationPlan {
    /// Number of calibration targets: 5, 9 or 13 (standard layouts).
    pub points: u8,
    /// Validation targets in display-normalized coordinates (origin top-left).
    pub validation_points: Vec<(f64, f64)>,
    /// A validation point passes when the mean angular offset is at most this.
    pub max_accuracy_deg: f64,
    /// ... and the RMS sample-to-sample precision is at most this.
    pub max_precision_rms_deg: f64,
}

impl Default for CalibrationPlan {
    fn default() -> Self {
        Self {
            points: 9,
            validation_points: vec![(0.3, 0.3), (0.7, 0.3), (0.5, 0.5), (0.3, 0.7), (0.7, 0.7)],
            max_accuracy_deg: 1.0,
            max_precision_rms_deg: 0.5,
        }
    }
}

impl CalibrationPlan {
    /// The calibration target positions for the configured count, display-normalized.
    /// `None` for an unsupported count.
    pub fn calibration_targets(&self) -> Option<Vec<(f64, f64)>> {
        let (lo, mid, hi) = (0.1, 0.5, 0.9);
        let five = vec![(mid, mid), (lo, lo), (hi, lo), (lo, hi), (hi, hi)];
        match self.points {
            5 => Some(five),
            9 => Some(vec![
                (mid, mid),
                (lo, lo),
                (mid, lo),
                (hi, lo),
                (lo, mid),
                (hi, mid),
                (lo, hi),
                (mid, hi),
                (hi, hi),
            ]),
            13 => {
                let mut points = self.with_points(9).calibration_targets()?;
                points.extend([(0.3, 0.3), (0.7, 0.3), (0.3, 0.7), (0.7, 0.7)]);
                Some(points)
            }
            _ => None,
        }
    }

    fn with_points(&self, points: u8) -> Self {
        Self {
            points,
            ..self.clone()
        }
    }
}

/// One stimulus presentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trial {
    /// Unique within the study.
    pub id: String,
    /// Image file, relative to the study's `image_root`.
    pub image: PathBuf,
    /// How long the image is shown, milliseconds.
    pub viewing_time_ms: u32,
    /// Spoken description after viewing; `None` for a viewing-only trial.
    #[serde(default)]
    pub dictation: Option<Dictation>,
    /// A central fixation cross shown this long before the image; 0 for none.
    #[serde(default = "default_fixation_cross_ms")]
    pub fixation_cross_ms: u32,
}

fn default_fixation_cross_ms() -> u32 {
    1000
}

/// Dictation settings of a trial.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dictation {
    /// Recording stops by itself after this long, milliseconds.
    pub max_length_ms: u32,
}

/// Per-subject randomization of the trial order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Randomization {
    /// Combined with the subject code, so each subject gets their own stable order.
    pub seed: u64,
}

/// Rest screens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breaks {
    /// A break after every this many trials.
    pub every_n_trials: u32,
    /// The subject cannot continue before this long has passed, milliseconds.
    #[serde(default)]
    pub min_duration_ms: u32,
    #[serde(default = "default_break_message")]
    pub message: String,
}

fn default_break_message() -> String {
    "Take a short break. Press space when you are ready to continue.".to_owned()
}

/// The questionnaire asked at the end of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Questionnaire {
    /// The Ten-Item Personality Inventory (see [`super::tipi`]).
    Tipi,
}
