//! Dataset records (JSONL) from recorded sessions: one record per finished trial with
//! a description and a trajectory, the images copied beside the records file.

use std::path::{Path, PathBuf};

use super::stimulus::StimulusFolders;
use crate::dataset::{DatasetRecord, Split, TrajectoryStep, write_records};
use crate::session::folder::{SessionError, SessionFolder};
use crate::session::meta::TrialState;
use crate::session::runner::TrialDescription;

#[derive(Debug, thiserror::Error)]
pub enum RecordsExportError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error(transparent)]
    Records(#[from] crate::dataset::RecordsError),
}

/// What the export wrote, and what it left out and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordsSummary {
    pub records: usize,
    pub skipped: Vec<String>,
}

/// The records of one session folder, with `image` the path of the stimulus as the
/// session recorded it (absolute or relative to where it ran), and the trials left
/// out with why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionRecords {
    pub study_id: String,
    pub records: Vec<DatasetRecord>,
    pub skipped: Vec<String>,
}

/// Reads the finished trials of the session in `dir` that have a description and a
/// trajectory as dataset records (`session` and `trial` set, no split).
pub fn read_session_records(dir: &Path) -> Result<SessionRecords, RecordsExportError> {
    let file_error = |path: &Path, e: &dyn std::fmt::Display| RecordsExportError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let meta = SessionFolder::read(dir)?;
    let session_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = SessionRecords {
        study_id: meta.study_id.clone(),
        ..SessionRecords::default()
    };
    for trial in meta
        .trials
        .iter()
        .filter(|t| t.state == TrialState::InProgress)
    {
        out.skipped.push(format!(
            "{session_name}/{}: still in progress (the session is recording, or was interrupted \
             and not yet resumed): no description or trajectory yet",
            trial.id
        ));
    }
    for trial in meta
        .trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
    {
        let trial_dir = dir.join("trials").join(&trial.id);
        let skip = |why: &str| format!("{session_name}/{}: {why}", trial.id);
        let description_path = trial_dir.join("description.json");
        let Ok(text) = std::fs::read_to_string(&description_path) else {
            out.skipped.push(skip("no description"));
            continue;
        };
        let description: TrialDescription =
            serde_json::from_str(&text).map_err(|e| file_error(&description_path, &e))?;
        if description.text.trim().is_empty() {
            out.skipped.push(skip(
                "the description is empty (not transcribed or typed yet)",
            ));
            continue;
        }
        let trajectory_path = trial_dir.join("trajectory.json");
        let Ok(text) = std::fs::read_to_string(&trajectory_path) else {
            out.skipped.push(skip("no trajectory (run the analysis)"));
            continue;
        };
        let trajectory: Vec<TrajectoryStep> =
            serde_json::from_str(&text).map_err(|e| file_error(&trajectory_path, &e))?;
        out.records.push(DatasetRecord {
            image: trial.image.clone(),
            subject: meta.subject.clone(),
            description: description.text,
            trajectory,
            split: None,
            session: Some(session_name.clone()),
            trial: Some(trial.id.clone()),
            objects: None,
        });
    }
    Ok(out)
}

/// Writes `out/records.jsonl` and `out/images/` from the sessions; every record gets
/// `split` (when given), `session` (the folder name) and `trial`.
pub fn export_records(
    sessions: &[PathBuf],
    out: &Path,
    split: Option<Split>,
) -> Result<RecordsSummary, RecordsExportError> {
    let file_error = |path: &Path, e: &dyn std::fmt::Display| RecordsExportError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let images = out.join("images");
    std::fs::create_dir_all(&images).map_err(|e| file_error(&images, &e))?;
    let mut records = Vec::new();
    let mut summary = RecordsSummary::default();
    for dir in sessions {
        let session = read_session_records(dir)?;
        summary.skipped.extend(session.skipped);
        let stimulus_folders =
            StimulusFolders::of_session(dir, &crate::session::SessionFolder::read(dir)?);
        for mut record in session.records {
            // session.ron may come from anyone: a record whose image lies outside the
            // session and the study's image folder (or is no image) is left out.
            let source_image = match stimulus_folders.check(&record.image) {
                Ok(image) => image,
                Err(why) => {
                    summary.skipped.push(format!(
                        "{}: trial {}: {why}; the record is left out",
                        dir.display(),
                        record.trial.as_deref().unwrap_or("?")
                    ));
                    continue;
                }
            };
            let name = format!(
                "{}-{}",
                session.study_id,
                source_image
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| record.trial.clone().unwrap_or_default())
            );
            let target = images.join(&name);
            if !target.exists() {
                std::fs::copy(&source_image, &target).map_err(|e| file_error(&source_image, &e))?;
            }
            record.image = format!("images/{name}");
            record.split = split;
            records.push(record);
        }
    }
    write_records(&out.join("records.jsonl"), &records)?;
    summary.records = records.len();
    Ok(summary)
}
