//! A recorded session read for replay (worker thread, no egui): its metadata, and per
//! trial the stimulus window from `events.jsonl`, the raw samples turned into fixations
//! (I-VT with the Tobii defaults, as the recorder's analysis does; in a BubbleView
//! session the logged clicks, as the analysis does there), a decimated gaze trace,
//! where the image was on the screen, and the description and transcript.
//!
//! Everything a frame needs is computed here, once, so drawing a frame only looks
//! things up (see `scanpath`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::fixation::online::{Method, detect_fixations};
use crate::fixation::{Fixation, ImagePlacement, Space};
use crate::gaze::GazeSample;
use crate::session::analysis::placement_of;
use crate::session::bubbles::{
    BubbleClick, bubble_radius_display, clicks_by_trial, fixations_from_clicks,
};
use crate::session::chunks::read_chunks;
use crate::session::events::{Event, EventKind, read_events};
use crate::session::folder::{EVENTS_FILE, GAZE_FILE};
use crate::session::runner::TrialDescription;
use crate::session::{SessionFolder, TrialState};
use crate::study::ScreenGeometry;

use super::scanpath::Scanpath;

/// One subject's session, ready to replay.
#[derive(Debug, Clone)]
pub struct ReplaySession {
    pub root: PathBuf,
    pub subject: String,
    pub study_id: String,
    pub screen: ScreenGeometry,
    /// The fixations are BubbleView clicks.
    pub clicks: bool,
    /// In presentation order; trials that never ran are left out.
    pub trials: Vec<ReplayTrial>,
}

impl ReplaySession {
    pub fn trial(&self, id: &str) -> Option<&ReplayTrial> {
        self.trials.iter().find(|t| t.id == id)
    }
}

/// One recorded trial.
#[derive(Debug, Clone)]
pub struct ReplayTrial {
    pub id: String,
    pub image: PathBuf,
    /// Where the image was on the display.
    pub placement: ImagePlacement,
    /// The fixations during the stimulus, display-normalized, in time order.
    pub fixations: Vec<Fixation>,
    /// Fixations and gaze trace in image coordinates, for drawing.
    pub scanpath: Scanpath,
    /// Stimulus onset on the session clock, µs; times in the replay count from here.
    pub stimulus_on_us: i64,
    /// Stimulus duration, ms (from the events, else from the samples).
    pub duration_ms: f64,
    /// The raw samples in the stimulus window.
    pub sample_count: usize,
    pub description: Option<String>,
    pub transcript: Option<String>,
    /// Problems met while reading this trial (damaged chunks, a torn event line, …).
    pub warnings: Vec<String>,
}

/// Why a session cannot be replayed; names the folder or file.
#[derive(Debug, thiserror::Error)]
pub enum ReplayLoadError {
    #[error(transparent)]
    Session(#[from] crate::session::SessionError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: the session has no recorded trial to replay")]
    Empty { path: PathBuf },
}

/// The gaze trace keeps at most one point per this many µs (100 Hz).
pub const TRACE_STEP_US: i64 = 10_000;

/// Reads a session folder for replay.
pub fn load_session(root: &Path) -> Result<ReplaySession, ReplayLoadError> {
    let meta = SessionFolder::read(root)?;
    let events = read_session_events(&root.join(EVENTS_FILE))?;
    let windows = stimulus_windows(&events);
    let clicks = clicks_by_trial(&events);
    let bubble_radius = meta
        .attention
        .bubble_view()
        .map(|settings| bubble_radius_display(&meta.screen, settings));
    let mut trials = Vec::new();
    for entry in &meta.trials {
        if entry.state == TrialState::Pending {
            continue;
        }
        let dir = root.join("trials").join(&entry.id);
        let gaze_path = dir.join(GAZE_FILE);
        if !gaze_path.exists() {
            continue;
        }
        let window = windows.get(&entry.id).copied();
        let attention = match bubble_radius {
            Some(radius) => Attention::Clicks {
                clicks: clicks.get(&entry.id).map_or(&[], Vec::as_slice),
                radius_display: radius,
            },
            None => Attention::Gaze,
        };
        trials.push(load_trial(
            &dir,
            &entry.id,
            Path::new(&entry.image),
            &meta.screen,
            window,
            attention,
        )?);
    }
    if trials.is_empty() {
        return Err(ReplayLoadError::Empty {
            path: root.to_path_buf(),
        });
    }
    Ok(ReplaySession {
        root: root.to_path_buf(),
        subject: meta.subject,
        study_id: meta.study_id,
        screen: meta.screen,
        clicks: bubble_radius.is_some(),
        trials,
    })
}

/// The session's events; a missing events file gives none.
fn read_session_events(path: &Path) -> Result<Vec<Event>, ReplayLoadError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let readout = read_events(path).map_err(|e| ReplayLoadError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(readout.events)
}

/// `(stimulus on, stimulus off)` per trial id, the last showing when a trial was
/// shown again after a resume.
fn stimulus_windows(events: &[Event]) -> HashMap<String, (i64, Option<i64>)> {
    let mut windows = HashMap::new();
    for event in events {
        let Some(trial) = &event.trial else { continue };
        match event.kind {
            EventKind::StimulusOn { .. } => {
                windows.insert(trial.clone(), (event.time_us, None));
            }
            EventKind::StimulusOff => {
                if let Some(window) = windows.get_mut(trial) {
                    window.1 = Some(event.time_us);
                }
            }
            _ => {}
        }
    }
    windows
}

/// Where a trial's fixations come from.
#[derive(Debug, Clone, Copy)]
pub enum Attention<'a> {
    /// Detected in the gaze samples (I-VT).
    Gaze,
    /// BubbleView clicks, with the bubble's radius (display-normalized).
    Clicks {
        clicks: &'a [BubbleClick],
        radius_display: [f32; 2],
    },
}

fn load_trial(
    dir: &Path,
    id: &str,
    image: &Path,
    screen: &ScreenGeometry,
    window: Option<(i64, Option<i64>)>,
    attention: Attention<'_>,
) -> Result<ReplayTrial, ReplayLoadError> {
    let gaze_path = dir.join(GAZE_FILE);
    let readout = read_chunks(&gaze_path).map_err(|e| ReplayLoadError::File {
        path: gaze_path.clone(),
        message: e.to_string(),
    })?;
    let mut warnings: Vec<String> = readout
        .damage
        .iter()
        .map(|d| format!("{}: skipped {d:?}", gaze_path.display()))
        .collect();
    let first_us = readout.samples.first().map_or(0, |s| s.system_time_us);
    let last_us = readout.samples.last().map_or(0, |s| s.system_time_us);
    let (on_us, off_us) = match window {
        Some((on, off)) => (on, off.unwrap_or(last_us)),
        None => {
            warnings.push(format!("{id}: no stimulus events; replaying every sample"));
            (first_us, last_us)
        }
    };
    let samples: Vec<GazeSample> = readout
        .samples
        .into_iter()
        .filter(|s| (on_us..=off_us).contains(&s.system_time_us))
        .collect();
    let placement = read_placement(dir, image, screen);
    let window = (on_us, off_us);
    let mut trial = trial_from_samples(id, image, screen, placement, &samples, window, attention)
        .map_err(|e| ReplayLoadError::File {
        path: gaze_path.clone(),
        message: e.to_string(),
    })?;
    trial.description = read_description(dir, &mut warnings);
    trial.transcript = std::fs::read_to_string(dir.join("transcript.txt"))
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    trial.warnings = warnings;
    Ok(trial)
}

/// Everything replay computes from a trial's samples (already cut to the stimulus
/// window `(on, off)`, µs) or clicks: fixations, scanpath, gaze trace. Text fields
/// are empty.
pub fn trial_from_samples(
    id: &str,
    image: &Path,
    screen: &ScreenGeometry,
    placement: ImagePlacement,
    samples: &[GazeSample],
    (on_us, off_us): (i64, i64),
    attention: Attention<'_>,
) -> Result<ReplayTrial, crate::fixation::FixationError> {
    let fixations = match attention {
        Attention::Gaze => {
            let space = Space::Visual(*screen);
            detect_fixations(samples, &Method::ivt_for(&space), space)?
        }
        Attention::Clicks {
            clicks,
            radius_display,
        } => fixations_from_clicks(clicks, off_us, radius_display),
    };
    let trace = decimated_trace(samples, on_us, &placement);
    let scanpath = Scanpath::new(&fixations, on_us, &placement, trace);
    Ok(ReplayTrial {
        id: id.to_owned(),
        image: image.to_path_buf(),
        placement,
        fixations,
        scanpath,
        stimulus_on_us: on_us,
        duration_ms: (off_us - on_us).max(0) as f64 / 1000.0,
        sample_count: samples.len(),
        description: None,
        transcript: None,
        warnings: Vec::new(),
    })
}

/// `placement.json` as the recorder wrote it, else the presentation default for the
/// image's size.
fn read_placement(dir: &Path, image: &Path, screen: &ScreenGeometry) -> ImagePlacement {
    let written = std::fs::read_to_string(dir.join("placement.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    written.unwrap_or_else(|| {
        let size = image::image_dimensions(image).unwrap_or((4, 3));
        placement_of(screen, size)
    })
}

fn read_description(dir: &Path, warnings: &mut Vec<String>) -> Option<String> {
    let path = dir.join("description.json");
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str::<TrialDescription>(&text) {
        Ok(description) => Some(description.text).filter(|t| !t.trim().is_empty()),
        Err(e) => {
            warnings.push(format!("{}: {e}", path.display()));
            None
        }
    }
}

/// The gaze point every [`TRACE_STEP_US`] (the mean of the valid samples in each
/// step), image-normalized, with its time in ms from `on_us`. Steps without a valid
/// sample are left out.
pub fn decimated_trace(
    samples: &[GazeSample],
    on_us: i64,
    placement: &ImagePlacement,
) -> Vec<(f32, [f32; 2])> {
    let mut trace = Vec::new();
    let mut step: Option<i64> = None;
    let mut sum = [0.0_f64; 2];
    let mut count = 0_u32;
    let push = |step: i64, sum: [f64; 2], count: u32, trace: &mut Vec<(f32, [f32; 2])>| {
        if count > 0 {
            let n = f64::from(count);
            let point = [(sum[0] / n) as f32, (sum[1] / n) as f32];
            let time_ms = ((step * TRACE_STEP_US) as f64 / 1000.0) as f32;
            trace.push((time_ms, placement.image_from_display(point)));
        }
    };
    for sample in samples {
        let this = (sample.system_time_us - on_us).div_euclid(TRACE_STEP_US);
        if step != Some(this) {
            if let Some(previous) = step {
                push(previous, sum, count, &mut trace);
            }
            step = Some(this);
            sum = [0.0; 2];
            count = 0;
        }
        if let Some([x, y]) = sample.average_point() {
            sum[0] += f64::from(x);
            sum[1] += f64::from(y);
            count += 1;
        }
    }
    if let Some(previous) = step {
        push(previous, sum, count, &mut trace);
    }
    trace
}
