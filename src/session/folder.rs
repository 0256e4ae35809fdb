//! The session folder: its layout, creation, the lock that tells a live recorder from
//! a crashed one, and recovery of an interrupted session.
//!
//! ```text
//! <sessions root>/<study id>/<subject>_<YYYYMMDD-HHMMSS>/
//!   session.ron            metadata (atomic rewrite, see `meta`)
//!   session.lock           present while a recorder has the session open (its pid)
//!   .space-reserve         zeros given up when the disk fills (see `space_reserve`)
//!   events.jsonl           presentation events on the gaze clock, one a line
//!   trials/<trial id>/
//!     gaze.chunks          raw samples, checksummed chunks (see `chunks`)
//!     fixations.csv, trajectory.json, quality.json,
//!     audio.wav, transcript.txt, description.json
//!     interrupted-<n>/     an interrupted showing's files, when it was shown again
//! ```

use std::path::{Path, PathBuf};

use super::chunks::{ChunkDamage, read_chunks};
use super::events::read_events;
use super::interrupted::{InterruptedTrials, set_aside};
use super::meta::{
    FORMAT_VERSION, MetaError, SessionMeta, SessionStatus, TrialEntry, TrialState, read_meta,
    write_meta,
};
use super::space_reserve;
use crate::gaze::DeviceInfo;
use crate::gaze::quality::ValidationReport;
use crate::study::LoadedStudy;

pub const META_FILE: &str = "session.ron";
pub const LOCK_FILE: &str = "session.lock";
pub const EVENTS_FILE: &str = "events.jsonl";
pub const GAZE_FILE: &str = "gaze.chunks";

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(
        "subject code {code:?} is not allowed: use a pseudonymous code of 1–16 letters, digits, '-' or '_' with at least one digit (e.g. s07), never a name"
    )]
    SubjectCode { code: String },
    #[error("{path}: the session is open in another running recorder (pid {pid})")]
    Locked { path: PathBuf, pid: u32 },
    #[error("{path}: not a session folder (no {META_FILE})")]
    NotASession { path: PathBuf },
}

/// Checks that a subject code is pseudonymous-looking: short, plain characters, with a
/// digit (so that a bare first name is refused).
pub fn check_subject_code(code: &str) -> Result<(), SessionError> {
    let plain = code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let has_digit = code.chars().any(|c| c.is_ascii_digit());
    if (1..=16).contains(&code.len()) && plain && has_digit {
        Ok(())
    } else {
        Err(SessionError::SubjectCode {
            code: code.to_owned(),
        })
    }
}

/// What opening an existing session found.
#[derive(Debug, Clone, Default)]
pub struct RecoveryReport {
    /// The session had been left `Recording` by a recorder that is gone.
    pub was_interrupted: bool,
    /// `(trial id, samples kept, damage found)` for each trial that was in progress.
    pub interrupted_trials: Vec<(String, usize, Vec<ChunkDamage>)>,
}

/// An open session folder.
#[derive(Debug)]
pub struct SessionFolder {
    root: PathBuf,
    meta: SessionMeta,
    holds_lock: bool,
}

impl SessionFolder {
    /// Creates a new session folder for `subject` under `sessions_root`, with the
    /// trials in the subject's order, and takes its lock.
    pub fn create(
        sessions_root: &Path,
        study: &LoadedStudy,
        subject: &str,
        gaze_source: DeviceInfo,
        gaze_frequency_hz: f32,
        now_us: i64,
    ) -> Result<Self, SessionError> {
        check_subject_code(subject)?;
        let created_unix_s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let base = sessions_root
            .join(&study.study.id)
            .join(format!("{subject}_{}", timestamp_label(created_unix_s)));
        let mut root = base.clone();
        let mut attempt = 1;
        while root.exists() {
            attempt += 1;
            root = PathBuf::from(format!("{}-{attempt}", base.display()));
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SessionError::Io { path, source }
        };
        std::fs::create_dir_all(root.join("trials")).map_err(io(&root))?;
        let study_bytes = std::fs::read(&study.path).map_err(io(&study.path))?;
        let trials = study
            .trial_order(subject)
            .into_iter()
            .map(|i| {
                let trial = &study.study.trials[i];
                TrialEntry {
                    id: trial.id.clone(),
                    image: study.image_paths[i].display().to_string(),
                    state: TrialState::Pending,
                    started_us: None,
                    ended_us: None,
                    skipped: false,
                }
            })
            .collect();
        let meta = SessionMeta {
            format_version: FORMAT_VERSION,
            study_id: study.study.id.clone(),
            study_path: study.path.display().to_string(),
            study_hash: format!("{:016x}", crate::study::fnv1a(&study_bytes)),
            subject: subject.to_owned(),
            created_unix_s,
            started_us: now_us,
            gaze_source,
            gaze_frequency_hz,
            screen: study.study.screen,
            attention: study.study.attention,
            calibration: None,
            calibration_count: 0,
            status: SessionStatus::Recording,
            trials,
            notes: Vec::new(),
        };
        let mut folder = Self {
            root,
            meta,
            holds_lock: false,
        };
        folder.take_lock()?;
        folder.save()?;
        space_reserve::hold(&folder.root, folder.meta_bytes());
        Ok(folder)
    }

    /// Opens an existing session. A session left `Recording` whose lock names no live
    /// process was interrupted: it is marked so, its in-progress trial too (keeping
    /// every flushed sample), and the report says what was kept.
    pub fn open(root: &Path) -> Result<(Self, RecoveryReport), SessionError> {
        let meta_path = root.join(META_FILE);
        if !meta_path.exists() {
            return Err(SessionError::NotASession {
                path: root.to_path_buf(),
            });
        }
        let mut folder = Self {
            root: root.to_path_buf(),
            meta: read_meta(&meta_path)?,
            holds_lock: false,
        };
        let mut report = RecoveryReport::default();
        if folder.meta.status == SessionStatus::Recording {
            if let Some(pid) = folder.live_lock_owner() {
                return Err(SessionError::Locked {
                    path: root.to_path_buf(),
                    pid,
                });
            }
            report.was_interrupted = true;
            folder.meta.status = SessionStatus::Interrupted;
            for index in 0..folder.meta.trials.len() {
                if folder.meta.trials[index].state != TrialState::InProgress {
                    continue;
                }
                let id = folder.meta.trials[index].id.clone();
                let gaze = folder.trial_dir(&id).join(GAZE_FILE);
                let (kept, damage) = match read_chunks(&gaze) {
                    Ok(readout) => (readout.samples.len(), readout.damage),
                    Err(_) => (0, Vec::new()),
                };
                folder.meta.trials[index].state = TrialState::Interrupted;
                folder.meta.trials[index].ended_us = None;
                folder.meta.notes.push(format!(
                    "trial {id} was interrupted; {kept} samples kept{}",
                    if damage.is_empty() {
                        String::new()
                    } else {
                        format!(", {} damaged part(s) skipped", damage.len())
                    }
                ));
                report.interrupted_trials.push((id, kept, damage));
            }
            let _ = std::fs::remove_file(root.join(LOCK_FILE));
            // The crashed recorder's reserve frees room for this rewrite on a full disk.
            space_reserve::release(root);
            folder.save()?;
        }
        Ok((folder, report))
    }

    /// Reads a session without touching it (for export and replay): no recovery, no
    /// lock. An interrupted session still reads `Recording` here.
    pub fn read(root: &Path) -> Result<SessionMeta, SessionError> {
        let meta_path = root.join(META_FILE);
        if !meta_path.exists() {
            return Err(SessionError::NotASession {
                path: root.to_path_buf(),
            });
        }
        Ok(read_meta(&meta_path)?)
    }

    /// Takes the session up again after an interruption or a stop: the lock is taken,
    /// interrupted trials are set to be shown again or skipped (`interrupted`), the
    /// status is `Recording`, and recording continues at the next pending trial. The
    /// lines returned say what was done with each interrupted trial and where the
    /// session goes on, for the experimenter (they are in the metadata's notes too).
    pub fn resume(
        &mut self,
        now_us: i64,
        interrupted: InterruptedTrials,
    ) -> Result<Vec<String>, SessionError> {
        self.take_lock()?;
        let mut said = Vec::new();
        for index in 0..self.meta.trials.len() {
            let trial = &self.meta.trials[index];
            if trial.state != TrialState::Interrupted || trial.skipped {
                continue;
            }
            let id = trial.id.clone();
            let dir = self.trial_dir(&id);
            let kept = read_chunks(&dir.join(GAZE_FILE)).map_or(0, |r| r.samples.len());
            let line = match interrupted {
                InterruptedTrials::ShowAgain => {
                    let aside = set_aside(&dir).map_err(|source| SessionError::Io {
                        path: dir.clone(),
                        source,
                    })?;
                    let trial = &mut self.meta.trials[index];
                    trial.state = TrialState::Pending;
                    trial.started_us = None;
                    trial.ended_us = None;
                    match aside {
                        Some(aside) => format!(
                            "trial {id} was interrupted: it is shown again; the {kept} samples \
                             of its interrupted showing are kept in trials/{id}/{aside}/"
                        ),
                        None => {
                            format!("trial {id} was interrupted before any data: it is shown again")
                        }
                    }
                }
                InterruptedTrials::Skip => {
                    self.meta.trials[index].skipped = true;
                    format!(
                        "trial {id} was interrupted: it is skipped as asked; its {kept} samples \
                         are kept and exported as an interrupted trial"
                    )
                }
            };
            self.meta.notes.push(line.clone());
            said.push(line);
        }
        self.meta.status = SessionStatus::Recording;
        let next = self.meta.next_trial();
        let line = match next {
            Some(i) => format!(
                "resumed at trial {} ({} of {}; clock {now_us} us)",
                self.meta.trials[i].id,
                i + 1,
                self.meta.trials.len()
            ),
            None => format!("resumed with no trial left (clock {now_us} us)"),
        };
        self.meta.notes.push(line.clone());
        said.push(line);
        self.save()?;
        space_reserve::hold(&self.root, self.meta_bytes());
        Ok(said)
    }

    /// The latest time on a session's clock, µs: its start, every trial's start and
    /// end, every event, and the samples of trials that never finished (a finished
    /// trial's samples end before its end time). A resume must not go back behind it.
    pub fn latest_time_us_in(root: &Path) -> Result<i64, SessionError> {
        let folder = Self {
            root: root.to_path_buf(),
            meta: Self::read(root)?,
            holds_lock: false,
        };
        Ok(folder.latest_time_us())
    }

    /// [`Self::latest_time_us_in`] of this open session.
    pub fn latest_time_us(&self) -> i64 {
        let mut latest = self.meta.started_us;
        for trial in &self.meta.trials {
            latest = latest.max(trial.started_us.unwrap_or(i64::MIN));
            latest = latest.max(trial.ended_us.unwrap_or(i64::MIN));
            if matches!(
                trial.state,
                TrialState::InProgress | TrialState::Interrupted
            ) && let Ok(readout) = read_chunks(&self.trial_dir(&trial.id).join(GAZE_FILE))
            {
                let last = readout.samples.iter().map(|s| s.system_time_us).max();
                latest = latest.max(last.unwrap_or(i64::MIN));
            }
        }
        if let Ok(readout) = read_events(&self.root.join(EVENTS_FILE)) {
            let last = readout.events.iter().map(|e| e.time_us).max();
            latest = latest.max(last.unwrap_or(i64::MIN));
        }
        latest
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// The folder of one trial's files (created on first use by the recorder).
    pub fn trial_dir(&self, trial_id: &str) -> PathBuf {
        self.root.join("trials").join(trial_id)
    }

    /// Marks a trial started and saves the metadata; creates its folder.
    pub fn start_trial(&mut self, index: usize, now_us: i64) -> Result<PathBuf, SessionError> {
        let dir = self.trial_dir(&self.meta.trials[index].id);
        std::fs::create_dir_all(&dir).map_err(|source| SessionError::Io {
            path: dir.clone(),
            source,
        })?;
        let trial = &mut self.meta.trials[index];
        trial.state = TrialState::InProgress;
        trial.started_us = Some(now_us);
        self.save()?;
        Ok(dir)
    }

    /// Marks a trial complete and saves the metadata.
    pub fn finish_trial(&mut self, index: usize, now_us: i64) -> Result<(), SessionError> {
        let trial = &mut self.meta.trials[index];
        trial.state = TrialState::Complete;
        trial.ended_us = Some(now_us);
        self.save()
    }

    /// Records an accepted validation (after a calibration) and saves the metadata.
    pub fn set_calibration(&mut self, report: ValidationReport) -> Result<(), SessionError> {
        self.meta.calibration = Some(report);
        self.meta.calibration_count += 1;
        self.save()
    }

    /// Adds a remark to the metadata and saves it.
    pub fn note(&mut self, text: String) -> Result<(), SessionError> {
        self.meta.notes.push(text);
        self.save()
    }

    /// Ends the session with `status` and releases the lock. A trial still in progress
    /// (a stop on an error) is marked interrupted, for the next resume to decide. When
    /// the disk is full, the space reserve is given up so that the status is written.
    pub fn close(mut self, status: SessionStatus) -> Result<SessionMeta, SessionError> {
        self.meta.status = status;
        for trial in &mut self.meta.trials {
            if trial.state == TrialState::InProgress {
                trial.state = TrialState::Interrupted;
                trial.ended_us = None;
            }
        }
        let saved = self.save().or_else(|_| {
            space_reserve::release(&self.root);
            self.save()
        });
        space_reserve::release(&self.root);
        saved?;
        self.release_lock();
        Ok(self.meta.clone())
    }

    /// Gives up the space reserve (see [`space_reserve`]) so the writes that record
    /// a failure can still be made on a full disk.
    pub fn release_space_reserve(&self) {
        space_reserve::release(&self.root);
    }

    fn save(&self) -> Result<(), SessionError> {
        Ok(write_meta(&self.root.join(META_FILE), &self.meta)?)
    }

    /// The size of the metadata as last written (for the space reserve).
    fn meta_bytes(&self) -> usize {
        std::fs::metadata(self.root.join(META_FILE)).map_or(0, |m| m.len() as usize)
    }

    fn take_lock(&mut self) -> Result<(), SessionError> {
        if let Some(pid) = self.live_lock_owner()
            && pid != std::process::id()
        {
            return Err(SessionError::Locked {
                path: self.root.clone(),
                pid,
            });
        }
        let path = self.root.join(LOCK_FILE);
        let pid = std::process::id();
        // The process's start time beside its pid: a pid reused by another process
        // after a crash does not keep the session locked.
        let owner = match process_start_ticks(pid) {
            Some(start) => format!("{pid} {start}"),
            None => pid.to_string(),
        };
        super::meta::write_atomically(&path, owner.as_bytes())
            .map_err(|source| SessionError::Io { path, source })?;
        self.holds_lock = true;
        Ok(())
    }

    fn release_lock(&mut self) {
        if self.holds_lock {
            let _ = std::fs::remove_file(self.root.join(LOCK_FILE));
            self.holds_lock = false;
        }
    }

    /// The pid in the lock file when that process is still running.
    fn live_lock_owner(&self) -> Option<u32> {
        live_owner(&std::fs::read_to_string(self.root.join(LOCK_FILE)).ok()?)
    }
}

/// The pid of a lock file's text (`pid` or `pid start_ticks`) when that process still
/// runs and, where the start time was recorded, is the same process.
fn live_owner(text: &str) -> Option<u32> {
    let mut parts = text.split_whitespace();
    let pid: u32 = parts.next()?.parse().ok()?;
    if !process_is_running(pid) {
        return None;
    }
    match parts.next().and_then(|t| t.parse::<u64>().ok()) {
        Some(start) if process_start_ticks(pid).is_some_and(|now| now != start) => None,
        _ => Some(pid),
    }
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks after boot.
#[cfg(target_os = "linux")]
fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn process_start_ticks(_pid: u32) -> Option<u64> {
    None
}

impl Drop for SessionFolder {
    fn drop(&mut self) {
        // A folder dropped without `close` (an error path) stays `Recording` on disk
        // and is recovered as interrupted next time; the lock goes with this process.
        self.release_lock();
    }
}

#[cfg(target_os = "linux")]
fn process_is_running(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Without /proc a lock cannot be checked; it is taken as stale (documented).
#[cfg(not(target_os = "linux"))]
fn process_is_running(_pid: u32) -> bool {
    false
}

/// `YYYYMMDD-HHMMSS` in UTC for a Unix time.
fn timestamp_label(unix_s: i64) -> String {
    let (year, month, day, hour, minute, second) = utc_civil(unix_s);
    format!("{year:04}{month:02}{day:02}-{hour:02}{minute:02}{second:02}")
}

/// `YYYY-MM-DD HH:MM UTC` for a Unix time, for people (e.g. when a session began).
pub fn utc_date_time(unix_s: i64) -> String {
    let (year, month, day, hour, minute, _) = utc_civil(unix_s);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

/// Year, month, day, hour, minute, second in UTC of a Unix time.
fn utc_civil(unix_s: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = unix_s.div_euclid(86_400);
    let seconds = unix_s.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_codes_must_be_pseudonymous() {
        assert!(check_subject_code("s07").is_ok());
        assert!(check_subject_code("P-012_b").is_ok());
        for bad in ["alice", "", "s 07", "../s07", "a-very-long-code-0123"] {
            let message = check_subject_code(bad).unwrap_err().to_string();
            assert!(message.contains("pseudonymous"), "{bad}: {message}");
        }
    }

    #[test]
    fn timestamp_labels_are_utc_calendar_dates() {
        assert_eq!(timestamp_label(0), "19700101-000000");
        assert_eq!(timestamp_label(1_795_310_096), "20261122-011456");
        assert_eq!(timestamp_label(951_825_600), "20000229-120000");
        assert_eq!(utc_date_time(1_795_310_096), "2026-11-22 01:14 UTC");
    }
}

#[cfg(all(test, target_os = "linux"))]
mod lock_tests {
    use super::*;

    #[test]
    fn a_lock_names_a_live_owner_only_when_pid_and_start_time_match() {
        let pid = std::process::id();
        let start = process_start_ticks(pid).expect("this process has a start time");
        assert_eq!(live_owner(&format!("{pid} {start}")), Some(pid));
        // The pid was reused by another process: the lock is stale.
        assert_eq!(live_owner(&format!("{pid} {}", start + 1)), None);
        // A lock written before start times were recorded.
        assert_eq!(live_owner(&pid.to_string()), Some(pid));
        assert_eq!(live_owner("not a pid"), None);
        assert_eq!(live_owner(""), None);
    }
}
