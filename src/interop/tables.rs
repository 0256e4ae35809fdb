//! CSV tables of recorded sessions for analysis tools (pymovements, R, pandas): per
//! trial the raw samples (the gaze CSV of [`crate::gaze::csv`]) and the fixations (the
//! columns of `scanscribe fixations`), named `<session>/<trial>_samples.csv` and
//! `<session>/<trial>_fixations.csv`; in a BubbleView session also the clicks,
//! `<session>/<trial>_clicks.csv`.

use std::path::{Path, PathBuf};

use crate::session::chunks::read_chunks;
use crate::session::folder::{GAZE_FILE, SessionError, SessionFolder};
use crate::session::meta::TrialState;

#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// What the export wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablesSummary {
    pub trials: usize,
    pub samples: usize,
    pub skipped: Vec<String>,
    /// Damage skipped in gaze files, trials still in progress.
    pub notes: Vec<String>,
}

/// Writes the tables of every trial that has begun (finished, interrupted, or still in
/// progress in a live or unrecovered session: what was flushed), with notes for
/// damage and unfinished trials.
pub fn export_tables(sessions: &[PathBuf], out: &Path) -> Result<TablesSummary, TablesError> {
    let file_error = |path: &Path, e: &dyn std::fmt::Display| TablesError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut summary = TablesSummary::default();
    for dir in sessions {
        let meta = SessionFolder::read(dir)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = out.join(&name);
        std::fs::create_dir_all(&target).map_err(|e| file_error(&target, &e))?;
        for trial in meta.trials.iter().filter(|t| {
            matches!(
                t.state,
                TrialState::Complete | TrialState::Interrupted | TrialState::InProgress
            )
        }) {
            let trial_dir = dir.join("trials").join(&trial.id);
            let readout = match read_chunks(&trial_dir.join(GAZE_FILE)) {
                Ok(readout) => readout,
                Err(e) => {
                    summary.skipped.push(format!("{name}/{}: {e}", trial.id));
                    continue;
                }
            };
            summary
                .notes
                .extend(super::trial_notes::trial_notes(&name, trial, &readout));
            let samples_path = target.join(format!("{}_samples.csv", trial.id));
            crate::gaze::csv::write_samples(&samples_path, &readout.samples)
                .map_err(|e| file_error(&samples_path, &e))?;
            let fixations = trial_dir.join("fixations.csv");
            if fixations.exists() {
                let to = target.join(format!("{}_fixations.csv", trial.id));
                std::fs::copy(&fixations, &to).map_err(|e| file_error(&to, &e))?;
            } else {
                summary.skipped.push(format!(
                    "{name}/{}: no fixations.csv (the trial was not analysed)",
                    trial.id
                ));
            }
            let clicks = trial_dir.join("clicks.csv");
            if clicks.exists() {
                let to = target.join(format!("{}_clicks.csv", trial.id));
                std::fs::copy(&clicks, &to).map_err(|e| file_error(&to, &e))?;
            }
            summary.trials += 1;
            summary.samples += readout.samples.len();
        }
    }
    Ok(summary)
}
