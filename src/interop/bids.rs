//! Export of recorded sessions as a BIDS dataset with eye-tracking physiological
//! recordings (BIDS 1.11, the eyetrack `PhysioType` from BEP020).
//!
//! Layout (each trial is one run, so every recording is continuous):
//!
//! ```text
//! dataset_description.json, README, participants.tsv, participants.json
//! stimuli/<image>                                   the images shown
//! sub-<s>/[ses-<n>/]beh/
//!   sub-<s>_task-<t>_run-<k>_events.tsv|json        stimulus, fixation cross, dictation, BubbleView clicks
//!   sub-<s>_task-<t>_run-<k>_recording-eye1_physio.tsv.gz|json        left eye
//!   sub-<s>_task-<t>_run-<k>_recording-eye1_physioevents.tsv.gz|json  messages
//!   ... recording-eye2 ...                                            right eye
//! sourcedata/sub-<s>/[ses-<n>/]beh/                 dictation audio, descriptions
//! ```
//!
//! Physio columns: `timestamp` (µs on the gaze clock), `x_coordinate`, `y_coordinate`
//! (pixels on the screen, origin top-left), `pupil_size` (mm); `n/a` where the eye was
//! not seen. Event onsets in `events.tsv` are seconds from the run's first sample
//! (the physio `StartTime` is 0); `physioevents` onsets are in `timestamp` units.
//! Labels keep only letters and digits (`s-07` → `s07`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::bids_files::{FileError, cell, io_error, label, write_json, write_tsv, write_tsv_gz};
use super::stimulus::StimulusFolders;
use crate::gaze::{EyeSample, GazeSample};
use crate::session::chunks::read_chunks;
use crate::session::events::{Event, EventKind, read_events};
use crate::session::folder::{EVENTS_FILE, GAZE_FILE, SessionError, SessionFolder};
use crate::session::meta::{SessionMeta, TrialState};

/// The BIDS version the export follows.
pub const BIDS_VERSION: &str = "1.11.1";

#[derive(Debug, thiserror::Error)]
pub enum BidsError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("no session to export")]
    Nothing,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BidsSummary {
    pub subjects: usize,
    pub runs: usize,
    pub samples: usize,
    /// Trials left out, with the reason.
    pub skipped: Vec<String>,
    /// Damage skipped in the gaze files of exported runs.
    pub notes: Vec<String>,
}

/// Exports sessions (folders) into a BIDS dataset at `out` (created if needed).
/// Sessions of the same subject become `ses-1`, `ses-2`, ... in start order.
pub fn export_bids(sessions: &[PathBuf], out: &Path) -> Result<BidsSummary, BidsError> {
    if sessions.is_empty() {
        return Err(BidsError::Nothing);
    }
    let mut metas = Vec::new();
    for dir in sessions {
        metas.push((dir.clone(), SessionFolder::read(dir)?));
    }
    metas.sort_by_key(|(_, meta)| (meta.subject.clone(), meta.created_unix_s));
    let mut per_subject: BTreeMap<String, Vec<(PathBuf, SessionMeta)>> = BTreeMap::new();
    for (dir, meta) in metas {
        per_subject
            .entry(label(&meta.subject))
            .or_default()
            .push((dir, meta));
    }

    std::fs::create_dir_all(out.join("stimuli")).map_err(io_error(out))?;
    let mut summary = BidsSummary::default();
    let study_title = per_subject
        .values()
        .flatten()
        .next()
        .map(|(_, m)| m.study_id.clone())
        .unwrap_or_default();
    for (subject, sessions) in &per_subject {
        summary.subjects += 1;
        let several = sessions.len() > 1;
        for (n, (dir, meta)) in sessions.iter().enumerate() {
            let session_label = several.then(|| (n + 1).to_string());
            export_session(
                dir,
                meta,
                subject,
                session_label.as_deref(),
                out,
                &mut summary,
            )?;
        }
    }
    write_dataset_files(out, &study_title, per_subject.keys())?;
    Ok(summary)
}

fn write_dataset_files<'a>(
    out: &Path,
    study_id: &str,
    subjects: impl Iterator<Item = &'a String>,
) -> Result<(), BidsError> {
    write_json(
        &out.join("dataset_description.json"),
        &json!({
            "Name": format!("scanscribe study {study_id}"),
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{
                "Name": "scanscribe",
                "Version": env!("CARGO_PKG_VERSION"),
                "Description": "Eye-tracking sessions of subjects viewing and describing images",
            }],
        }),
    )?;
    let readme = format!(
        "Eye-tracking recordings of the scanscribe study `{study_id}`, exported by scanscribe {}.\n\n\
         Each trial is one run: the subject viewed one image (see stimuli/) while gaze was\n\
         recorded, then described it. Gaze is in screen pixels, origin top-left; timestamps\n\
         are microseconds on the recording computer's monotonic clock. Dictation audio and\n\
         descriptions are under sourcedata/.\n",
        env!("CARGO_PKG_VERSION")
    );
    std::fs::write(out.join("README"), readme).map_err(io_error(&out.join("README")))?;
    let rows: Vec<Vec<String>> = subjects.map(|s| vec![format!("sub-{s}")]).collect();
    write_tsv(&out.join("participants.tsv"), &["participant_id"], &rows)?;
    write_json(
        &out.join("participants.json"),
        &json!({"participant_id": {"Description": "Pseudonymous subject code of the scanscribe session, letters and digits only"}}),
    )?;
    Ok(())
}

fn export_session(
    dir: &Path,
    meta: &SessionMeta,
    subject: &str,
    session_label: Option<&str>,
    out: &Path,
    summary: &mut BidsSummary,
) -> Result<(), BidsError> {
    let mut relative = PathBuf::from(format!("sub-{subject}"));
    let mut stem = format!("sub-{subject}");
    if let Some(ses) = session_label {
        relative.push(format!("ses-{ses}"));
        stem.push_str(&format!("_ses-{ses}"));
    }
    relative.push("beh");
    stem.push_str(&format!("_task-{}", label(&meta.study_id)));
    let beh = out.join(&relative);
    let source = out.join("sourcedata").join(&relative);
    std::fs::create_dir_all(&beh).map_err(io_error(&beh))?;

    let events_path = dir.join(EVENTS_FILE);
    let events = if events_path.exists() {
        read_events(&events_path)
            .map_err(|e| BidsError::Data {
                path: events_path.clone(),
                message: e.to_string(),
            })?
            .events
    } else {
        Vec::new()
    };

    let stimulus_folders = StimulusFolders::of_session(dir, meta);
    let mut run = 0;
    for trial in &meta.trials {
        if trial.state == TrialState::InProgress {
            summary.skipped.push(format!(
                "{}: trial {} is still in progress (the session is recording, or was \
                 interrupted and not yet resumed); `export --format csv` writes what was flushed",
                dir.display(),
                trial.id
            ));
            continue;
        }
        if !matches!(trial.state, TrialState::Complete | TrialState::Interrupted) {
            continue;
        }
        let trial_dir = dir.join("trials").join(&trial.id);
        let gaze_path = trial_dir.join(GAZE_FILE);
        let samples = match read_chunks(&gaze_path) {
            Ok(readout) if !readout.samples.is_empty() => {
                let name = dir.display().to_string();
                summary
                    .notes
                    .extend(super::trial_notes::trial_notes(&name, trial, &readout));
                readout.samples
            }
            Ok(_) => {
                summary.skipped.push(format!(
                    "{}: trial {} has no gaze samples",
                    dir.display(),
                    trial.id
                ));
                continue;
            }
            Err(e) => {
                summary
                    .skipped
                    .push(format!("{}: trial {}: {e}", dir.display(), trial.id));
                continue;
            }
        };
        run += 1;
        let run_stem = format!("{stem}_run-{run}");
        let image_name = Path::new(&trial.image)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}.png", trial.id));
        let stimulus = out.join("stimuli").join(&image_name);
        // session.ron may come from anyone: only an image inside the session or the
        // study's image folder is copied, never whatever file its path names.
        if !stimulus.exists() {
            match stimulus_folders.check(&trial.image) {
                Ok(source_image) => {
                    std::fs::copy(&source_image, &stimulus).map_err(io_error(&stimulus))?;
                }
                Err(why) => {
                    summary
                        .skipped
                        .push(format!("{}: trial {}: {why}", dir.display(), trial.id))
                }
            }
        }
        let trial_events: Vec<&Event> = events
            .iter()
            .filter(|e| e.trial.as_deref() == Some(trial.id.as_str()) || is_device_event(&e.kind))
            .filter(|e| {
                trial.started_us.is_none_or(|s| e.time_us >= s)
                    && trial.ended_us.is_none_or(|end| e.time_us <= end)
            })
            .collect();
        write_run(
            &beh,
            &run_stem,
            meta,
            &trial.id,
            &image_name,
            &samples,
            &trial_events,
        )?;
        copy_sourcedata(&trial_dir, &source, &run_stem)?;
        summary.runs += 1;
        summary.samples += samples.len();
    }
    Ok(())
}

fn is_device_event(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::GazeLost | EventKind::GazeRestored | EventKind::SamplesDropped { .. }
    )
}

fn write_run(
    beh: &Path,
    stem: &str,
    meta: &SessionMeta,
    trial_id: &str,
    image_name: &str,
    samples: &[GazeSample],
    events: &[&Event],
) -> Result<(), BidsError> {
    let t0 = samples[0].system_time_us;
    let (w_px, h_px) = meta.screen.resolution_px;

    super::bids_events::write_events(beh, stem, meta, trial_id, image_name, t0, events)?;

    let sampling_hz = if meta.gaze_frequency_hz > 0.0 {
        f64::from(meta.gaze_frequency_hz)
    } else {
        estimate_rate_hz(samples)
    };
    for (recording, eye_name, pick) in [
        (
            "eye1",
            "left",
            (|s: &GazeSample| s.left) as fn(&GazeSample) -> EyeSample,
        ),
        ("eye2", "right", |s: &GazeSample| s.right),
    ] {
        let rows: Vec<Vec<String>> = samples
            .iter()
            .map(|s| {
                let eye = pick(s);
                let (x, y) = match eye.point() {
                    Some([x, y]) => (
                        f64::from(x) * f64::from(w_px),
                        f64::from(y) * f64::from(h_px),
                    ),
                    None => (f64::NAN, f64::NAN),
                };
                let pupil = if eye.pupil_valid {
                    f64::from(eye.pupil_diameter_mm)
                } else {
                    f64::NAN
                };
                vec![
                    s.system_time_us.to_string(),
                    cell(x, 2),
                    cell(y, 2),
                    cell(pupil, 3),
                ]
            })
            .collect();
        let physio = format!("{stem}_recording-{recording}_physio");
        write_tsv_gz(&beh.join(format!("{physio}.tsv.gz")), &rows)?;
        let mut sidecar = json!({
            "PhysioType": "eyetrack",
            "SamplingFrequency": sampling_hz,
            "StartTime": 0.0,
            "Columns": ["timestamp", "x_coordinate", "y_coordinate", "pupil_size"],
            "RecordedEye": eye_name,
            "SampleCoordinateUnits": "pixel",
            "SampleCoordinateSystem": "gaze-on-screen",
            "EnvironmentCoordinates": "top-left",
            "Manufacturer": manufacturer(meta),
            "ManufacturersModelName": meta.gaze_source.model,
            "DeviceSerialNumber": meta.gaze_source.serial_number,
            "SoftwareVersions": format!("scanscribe {}; firmware {}", env!("CARGO_PKG_VERSION"), meta.gaze_source.firmware_version),
            "timestamp": {"Description": "Sample time on the recording computer's monotonic clock (the Tobii Pro SDK system time stamp)", "Units": "us"},
            "x_coordinate": {"Description": "Gaze position on the screen, from the left edge", "Units": "pixel"},
            "y_coordinate": {"Description": "Gaze position on the screen, from the top edge", "Units": "pixel"},
            "pupil_size": {"Description": "Pupil diameter", "Units": "mm"},
        });
        if let Some(calibration) = &meta.calibration {
            let mean = if eye_name == "left" {
                calibration.mean_left
            } else {
                calibration.mean_right
            };
            if let Some(accuracy) = mean.accuracy_deg {
                sidecar["AverageCalibrationError"] = json!(accuracy);
            }
            let max = calibration
                .points
                .iter()
                .filter_map(|p| {
                    if eye_name == "left" {
                        p.left.accuracy_deg
                    } else {
                        p.right.accuracy_deg
                    }
                })
                .fold(f64::NAN, f64::max);
            if max.is_finite() {
                sidecar["MaximalCalibrationError"] = json!(max);
            }
            sidecar["CalibrationCount"] = json!(meta.calibration_count);
        }
        write_json(&beh.join(format!("{physio}.json")), &sidecar)?;

        let messages: Vec<Vec<String>> = events
            .iter()
            .map(|e| {
                vec![
                    e.time_us.to_string(),
                    "n/a".into(),
                    "message".into(),
                    message_text(&e.kind),
                ]
            })
            .collect();
        let physioevents = format!("{stem}_recording-{recording}_physioevents");
        write_tsv_gz(&beh.join(format!("{physioevents}.tsv.gz")), &messages)?;
        write_json(
            &beh.join(format!("{physioevents}.json")),
            &json!({
                "Columns": ["onset", "duration", "trial_type", "message"],
                "Description": "Presentation and device messages logged by scanscribe during the run",
                "OnsetSource": "timestamp",
                "onset": {"Description": "Time of the message on the gaze clock (same units as the physio timestamp column)", "Units": "us"},
                "duration": {"Description": "Duration of the event", "Units": "s"},
                "trial_type": {"Description": "Kind of event"},
                "message": {"Description": "The message"},
            }),
        )?;
    }
    Ok(())
}

fn manufacturer(meta: &SessionMeta) -> String {
    let model = meta.gaze_source.model.to_lowercase();
    if model.contains("tobii")
        || meta.gaze_source.address.starts_with("tobii")
        || meta.gaze_source.address.starts_with("tet-tcp")
    {
        "Tobii".into()
    } else {
        format!("n/a ({})", meta.gaze_source.device_name)
    }
}

fn message_text(kind: &EventKind) -> String {
    let text = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str().map(str::to_owned)))
        .unwrap_or_else(|| "event".into());
    match kind {
        EventKind::StimulusOn { image } => format!(
            "{text} {}",
            Path::new(image)
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned())
        ),
        EventKind::SamplesDropped { count } => format!("{text} {count}"),
        EventKind::KeyPress { key } => format!("{text} {key}"),
        EventKind::Note { text: note } => format!("{text} {}", note.replace(['\t', '\n'], " ")),
        _ => text,
    }
}

fn estimate_rate_hz(samples: &[GazeSample]) -> f64 {
    let mut intervals: Vec<i64> = samples
        .windows(2)
        .map(|w| w[1].system_time_us.saturating_sub(w[0].system_time_us))
        .filter(|d| *d > 0)
        .collect();
    if intervals.is_empty() {
        return f64::NAN;
    }
    let middle = intervals.len() / 2;
    let (_, median, _) = intervals.select_nth_unstable(middle);
    1e6 / *median as f64
}

fn copy_sourcedata(trial_dir: &Path, source: &Path, stem: &str) -> Result<(), BidsError> {
    for (file, suffix) in [
        ("audio.wav", "dictation.wav"),
        ("description.json", "description.json"),
        ("transcript.txt", "transcript.txt"),
    ] {
        let from = trial_dir.join(file);
        if from.exists() {
            std::fs::create_dir_all(source).map_err(io_error(source))?;
            let to = source.join(format!("{stem}_{suffix}"));
            std::fs::copy(&from, &to).map_err(io_error(&to))?;
        }
    }
    Ok(())
}
