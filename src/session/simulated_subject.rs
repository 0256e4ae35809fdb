//! A simulated participant for headless sessions (`scanscribe record --source
//! simulated`): a subject of the simulated cohort who looks at the study's images and
//! describes them, through a gaze source and a [`Subject`] that share one state.
//!
//! Study images must be cohort scenes: files named `scene-NNN.png` rendered from the
//! cohort seed (the bundled demo images use [`crate::cohort::DEMO_SEED`]; `scanscribe
//! simulate --seed S` writes others). Each image is checked pixel for pixel against
//! the scene it names, so the simulated gaze always matches what is on the picture.
//!
//! At each trial start the subject's synthesized stream for that scene begins at the
//! fixation cross; samples are re-stamped onto the session clock, which the runner
//! shares: real time, or sped up for pilots and tests (the data keep real-time
//! spacing either way). When the stream ends before the trial does, the subject has
//! looked away: no samples.
//!
//! In a BubbleView study the subject also clicks: where it looks, a moment after a
//! fixation begins ([`CLICK_DELAY_MS`], or as it ends if it is shorter), at most one click per
//! [`MIN_CLICK_INTERVAL_MS`] (people click more slowly than they move their eyes).

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::bubbles::BubbleClick;
use super::runner::{Response, Subject, WaitScreen};
use crate::cohort::render::render_scene;
use crate::cohort::{Cohort, CohortConfig};
use crate::fixation::Fixation;
use crate::gaze::clock::SessionClock;
use crate::gaze::{Capabilities, DeviceInfo, GazeError, GazeSample, GazeSource, Notification};
use crate::study::{LoadedStudy, Trial};

#[derive(Debug, thiserror::Error)]
pub enum SimulatedSubjectError {
    #[error(
        "{path}: a simulated subject needs cohort scenes named scene-NNN.png; this image is not one"
    )]
    NotACohortImage { path: String },
    #[error(
        "{path}: the image is not scene {index} of cohort seed {seed} (pixels differ); pass the seed the images were made with (--cohort-seed)"
    )]
    WrongSeed {
        path: String,
        index: usize,
        seed: u64,
    },
    #[error("{path}: cannot read the image: {message}")]
    Image { path: String, message: String },
    #[error("simulated subject {index} does not exist: the cohort has {count} subjects")]
    NoSuchSubject { index: usize, count: usize },
    #[error("cohort: {0}")]
    Cohort(String),
}

/// A simulated click follows the start of the fixation it marks by this long.
pub const CLICK_DELAY_MS: i64 = 250;
/// A simulated subject clicks at most once per this long.
pub const MIN_CLICK_INTERVAL_MS: i64 = 600;

/// What the source replays now.
#[derive(Debug, Default)]
struct Replay {
    samples: Vec<GazeSample>,
    /// BubbleView clicks on the stream's clock, display-normalized, in time order.
    clicks: Vec<BubbleClick>,
    next_click: usize,
    /// Time of the first sample in the stream, µs.
    stream_start_us: i64,
    /// Session-clock time at which the stream started.
    clock_start_us: i64,
    next: usize,
}

/// Builds the simulated participant for a study.
#[derive(Debug)]
pub struct SimulatedParticipant {
    cohort: Cohort,
    subject: usize,
    /// The cohort scene of each study trial, in study order.
    scene_of_trial: Vec<usize>,
    clock: SessionClock,
    replay: Arc<Mutex<Replay>>,
}

impl SimulatedParticipant {
    /// Subject `subject` (0-based) of the cohort with `seed`, sampled at `rate_hz`, on
    /// the session clock `clock` (the runner must use the same one).
    pub fn new(
        study: &LoadedStudy,
        seed: u64,
        subject: usize,
        rate_hz: f64,
        clock: SessionClock,
    ) -> Result<Self, SimulatedSubjectError> {
        let mut scene_of_trial = Vec::new();
        for path in &study.image_paths {
            scene_of_trial.push(scene_index(path)?);
        }
        let images = scene_of_trial.iter().max().map_or(1, |m| m + 1);
        let subjects = (subject + 1).max(6);
        let cohort = Cohort::new(CohortConfig {
            seed,
            subjects,
            images,
            held_out: 0,
            rate_hz,
            screen: study.study.screen,
            max_mentions: None,
        })
        .map_err(|e| SimulatedSubjectError::Cohort(e.to_string()))?;
        for (path, &index) in study.image_paths.iter().zip(&scene_of_trial) {
            let expected = render_scene(&cohort.scenes[index]);
            let actual = image::open(path)
                .map_err(|e| SimulatedSubjectError::Image {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
                .to_rgb8();
            if actual != expected {
                return Err(SimulatedSubjectError::WrongSeed {
                    path: path.display().to_string(),
                    index,
                    seed,
                });
            }
        }
        Ok(Self {
            cohort,
            subject,
            scene_of_trial,
            clock,
            replay: Arc::default(),
        })
    }

    /// The subject's code in the cohort (`s01`, ...).
    pub fn cohort_subject_id(&self) -> &str {
        &self.cohort.subjects[self.subject].id
    }

    /// The gaze source that replays this participant's gaze.
    pub fn gaze_source(&self) -> SimulatedGaze {
        SimulatedGaze {
            info: DeviceInfo {
                address: format!(
                    "simulated://cohort-{}/{}",
                    self.cohort.config.seed,
                    self.cohort_subject_id()
                ),
                serial_number: String::new(),
                model: "scanscribe simulated subject".into(),
                device_name: format!("simulated subject {}", self.cohort_subject_id()),
                firmware_version: env!("CARGO_PKG_VERSION").into(),
            },
            rate_hz: self.cohort.config.rate_hz as f32,
            clock: self.clock,
            replay: self.replay.clone(),
            running: false,
        }
    }

    /// The [`Subject`] side: looks when a trial starts, describes with the cohort text,
    /// or speaks `speech_dir/<trial id>.wav` when that file exists.
    pub fn subject<'a>(
        &'a self,
        study: &'a LoadedStudy,
        speech_dir: Option<&'a Path>,
    ) -> SimulatedSubject<'a> {
        SimulatedSubject {
            participant: self,
            study,
            speech_dir,
        }
    }
}

/// The scene index a file name `scene-NNN.png` names (NNN counts from 1).
fn scene_index(path: &Path) -> Result<usize, SimulatedSubjectError> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("scene-"))
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| n.checked_sub(1))
        .ok_or_else(|| SimulatedSubjectError::NotACohortImage {
            path: path.display().to_string(),
        })
}

/// The participant's behaviour at the runner's prompts.
#[derive(Debug)]
pub struct SimulatedSubject<'a> {
    participant: &'a SimulatedParticipant,
    study: &'a LoadedStudy,
    speech_dir: Option<&'a Path>,
}

impl SimulatedSubject<'_> {
    fn scene_of(&self, trial: &Trial) -> Option<usize> {
        let position = self
            .study
            .study
            .trials
            .iter()
            .position(|t| t.id == trial.id)?;
        self.participant.scene_of_trial.get(position).copied()
    }
}

impl Subject for SimulatedSubject<'_> {
    fn trial_starting(&mut self, trial: &Trial, _trial_index: usize) {
        let Some(scene) = self.scene_of(trial) else {
            return;
        };
        let simulated = self
            .participant
            .cohort
            .trial(self.participant.subject, scene);
        let clicks = if self.study.study.attention.bubble_view().is_some() {
            clicks_of(&simulated.stream.fixations)
        } else {
            Vec::new()
        };
        let samples = simulated.stream.samples;
        let mut replay = self
            .participant
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *replay = Replay {
            stream_start_us: samples.first().map_or(0, |s| s.system_time_us),
            clock_start_us: self.participant.clock.now_us(),
            samples,
            next: 0,
            clicks,
            next_click: 0,
        };
    }

    fn take_clicks(&mut self, _trial_index: usize, out: &mut Vec<BubbleClick>) {
        let now = self.participant.clock.now_us();
        let mut replay = self
            .participant
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while let Some(click) = replay.clicks.get(replay.next_click).copied() {
            let clock_us = replay.clock_start_us + (click.time_us - replay.stream_start_us);
            if clock_us > now {
                break;
            }
            out.push(BubbleClick {
                time_us: clock_us,
                ..click
            });
            replay.next_click += 1;
        }
    }

    fn wait_to_continue(&mut self, _screen: &WaitScreen) -> bool {
        true
    }

    fn respond(&mut self, trial: &Trial, _trial_index: usize) -> Response {
        if let Some(dir) = self.speech_dir {
            let wav = dir.join(format!("{}.wav", trial.id));
            if wav.exists() {
                return Response::Speech(wav);
            }
        }
        match self.scene_of(trial) {
            Some(scene) => Response::Text(
                self.participant
                    .cohort
                    .trial(self.participant.subject, scene)
                    .description
                    .text,
            ),
            None => Response::Nothing,
        }
    }

    fn questionnaire(&mut self) -> Option<[u8; 10]> {
        // Stable per subject: a personality derived from the subject's index.
        let seed =
            self.participant.subject as u64 * 0x9E37_79B9 + self.participant.cohort.config.seed;
        Some(std::array::from_fn(|i| 1 + ((seed >> (i * 3)) % 7) as u8))
    }
}

/// Where and when the simulated subject clicks, given its fixations (see the module
/// docs); times on the fixations' clock.
fn clicks_of(fixations: &[Fixation]) -> Vec<BubbleClick> {
    let mut clicks: Vec<BubbleClick> = Vec::new();
    for fixation in fixations {
        let time_us = (fixation.start_us + CLICK_DELAY_MS * 1000).min(fixation.end_us);
        let spaced = clicks
            .last()
            .is_none_or(|last| time_us - last.time_us >= MIN_CLICK_INTERVAL_MS * 1000);
        if spaced {
            clicks.push(BubbleClick {
                time_us,
                position_display: fixation.position_display,
            });
        }
    }
    clicks
}

/// The gaze source of a simulated participant (see the module docs).
#[derive(Debug)]
pub struct SimulatedGaze {
    info: DeviceInfo,
    rate_hz: f32,
    clock: SessionClock,
    replay: Arc<Mutex<Replay>>,
    running: bool,
}

impl GazeSource for SimulatedGaze {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            gaze_output_frequencies_hz: vec![self.rate_hz],
            can_set_gaze_output_frequency: false,
            can_do_screen_based_calibration: false,
            measures_eyes: true,
        }
    }

    fn gaze_output_frequency_hz(&self) -> f32 {
        self.rate_hz
    }

    fn set_gaze_output_frequency_hz(&mut self, _frequency_hz: f32) -> Result<(), GazeError> {
        Err(GazeError::Unsupported(
            "the simulated subject's rate is set when it is created".into(),
        ))
    }

    fn start(&mut self) -> Result<(), GazeError> {
        self.running = true;
        Ok(())
    }

    fn stop(&mut self) -> Result<(), GazeError> {
        self.running = false;
        Ok(())
    }

    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize {
        if !self.running {
            return 0;
        }
        let now = self.clock.now_us();
        let mut replay = self.replay.lock().unwrap_or_else(PoisonError::into_inner);
        let before = out.len();
        while let Some(sample) = replay.samples.get(replay.next) {
            let clock_us = replay.clock_start_us + (sample.system_time_us - replay.stream_start_us);
            if clock_us > now {
                break;
            }
            let mut restamped = *sample;
            restamped.system_time_us = clock_us;
            out.push(restamped);
            replay.next += 1;
        }
        out.len() - before
    }

    fn drain_notifications(&mut self, _out: &mut Vec<Notification>) {}

    fn dropped_samples(&self) -> u64 {
        0
    }
}
