//! Session metadata (`session.ron`): who, which study, which source, the trial order
//! and each trial's state. Written to a temporary file and renamed, so a crash leaves
//! either the old or the new version, never a torn one.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gaze::DeviceInfo;
use crate::gaze::quality::ValidationReport;
use crate::study::{AttentionMode, ScreenGeometry};

/// The version of the session folder layout this code writes.
pub const FORMAT_VERSION: u32 = 1;

/// The state of a whole session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionStatus {
    /// A recorder has the session open (or had it, when it crashed: see recovery).
    Recording,
    /// Every trial ran.
    Complete,
    /// The recorder stopped without closing the session (crash, kill, power cut).
    Interrupted,
    /// Recording stopped on an error; what was written is kept.
    Stopped { reason: String },
}

/// The state of one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrialState {
    Pending,
    InProgress,
    Complete,
    /// Started but never finished; its flushed samples are kept.
    Interrupted,
}

/// One trial of the session, in presentation order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialEntry {
    pub id: String,
    pub image: String,
    pub state: TrialState,
    #[serde(default)]
    pub started_us: Option<i64>,
    #[serde(default)]
    pub ended_us: Option<i64>,
    /// An interrupted trial the experimenter chose not to show again at a resume.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

/// Everything `session.ron` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionMeta {
    pub format_version: u32,
    pub study_id: String,
    /// The study file as given when the session started.
    pub study_path: String,
    /// FNV-1a of the study file's bytes, hex, to notice a study edited between sessions.
    pub study_hash: String,
    /// Pseudonymous subject code (never a name).
    pub subject: String,
    /// Wall-clock start, seconds since the Unix epoch (for people; data use `*_us`).
    pub created_unix_s: i64,
    /// Monotonic clock at the start, µs (the clock every timestamp uses).
    pub started_us: i64,
    pub gaze_source: DeviceInfo,
    /// The sampling rate the source was set to, Hz.
    pub gaze_frequency_hz: f32,
    /// The stimulus screen, copied from the study so the session stands alone.
    pub screen: ScreenGeometry,
    /// How attention was recorded (copied from the study; gaze in older sessions).
    #[serde(default)]
    pub attention: AttentionMode,
    /// The last accepted validation after calibration, when one was run.
    #[serde(default)]
    pub calibration: Option<ValidationReport>,
    /// How many calibrations were run in this session.
    #[serde(default)]
    pub calibration_count: u32,
    pub status: SessionStatus,
    pub trials: Vec<TrialEntry>,
    /// Free-form remarks: recoveries, resumptions, device problems.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl SessionMeta {
    /// Index of the first trial still to run, if any.
    pub fn next_trial(&self) -> Option<usize> {
        self.trials
            .iter()
            .position(|t| t.state == TrialState::Pending)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not valid session metadata: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: session format {found} is newer than this scanscribe understands ({FORMAT_VERSION})"
    )]
    TooNew { path: PathBuf, found: u32 },
    #[error(
        "{path}: trial {index} has the id {id:?}, which is not a plain folder name; a trial's \
         files must stay inside the session folder (letters, digits, '-', '_', '.', no '..')"
    )]
    UnsafeTrialId {
        path: PathBuf,
        index: usize,
        id: String,
    },
}

/// Whether `id` names one folder inside `trials/`: not empty, not `.` or `..`, no path
/// separator or control character, at most 255 bytes. A session folder is data that
/// may come from anyone, and its trial ids become paths.
pub fn is_safe_trial_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id != "."
        && id != ".."
        && !id.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// Reads `session.ron`.
pub fn read_meta(path: &Path) -> Result<SessionMeta, MetaError> {
    let text = std::fs::read_to_string(path).map_err(|source| MetaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let meta: SessionMeta = ron::from_str(&text).map_err(|e| MetaError::Parse {
        path: path.to_path_buf(),
        line: e.span.start.line,
        column: e.span.start.col,
        message: e.code.to_string(),
    })?;
    if meta.format_version > FORMAT_VERSION {
        return Err(MetaError::TooNew {
            path: path.to_path_buf(),
            found: meta.format_version,
        });
    }
    if let Some((index, trial)) = meta
        .trials
        .iter()
        .enumerate()
        .find(|(_, t)| !is_safe_trial_id(&t.id))
    {
        return Err(MetaError::UnsafeTrialId {
            path: path.to_path_buf(),
            index: index + 1,
            id: trial.id.clone(),
        });
    }
    Ok(meta)
}

/// Writes `session.ron` atomically (temporary file, fsync, rename).
pub fn write_meta(path: &Path, meta: &SessionMeta) -> Result<(), MetaError> {
    let io = |source| MetaError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = ron::ser::to_string_pretty(meta, ron::ser::PrettyConfig::default())
        .map_err(|e| io(std::io::Error::other(e)))?;
    write_atomically(path, text.as_bytes()).map_err(io)
}

/// Writes a file through a temporary sibling and a rename, syncing the data first. The
/// temporary is unique to this process and call, so two writers (two `--resume` of one
/// session racing for its lock) never rename each other's file away; it is removed when
/// the write fails (a full disk leaves no empty temporary behind).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(
        ".{file_name}.{}-{}.partial",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    if let Some(folder) = path.parent()
        && let Ok(folder) = std::fs::File::open(folder)
    {
        // Makes the rename itself durable; not supported everywhere, so best effort.
        let _ = folder.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<std::ffi::OsString> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect()
    }

    #[test]
    fn concurrent_atomic_writes_of_one_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("session.ron");
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for k in 0..40 {
                        write_atomically(&path, format!("writer {w} write {k}").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let last = std::fs::read_to_string(&path).unwrap();
        assert!(last.starts_with("writer "), "{last}");
        // No temporary is left behind.
        let names = names_in(dir.path());
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails after the temporary was written.
        let path = dir.path().join("occupied");
        std::fs::create_dir_all(path.join("inner")).unwrap();
        assert!(write_atomically(&path, b"x").is_err());
        let names = names_in(dir.path());
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
