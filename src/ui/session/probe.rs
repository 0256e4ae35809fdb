//! Background checks for the session setup: which Tobii trackers the SDK finds,
//! which microphones the audio host offers, which sessions of the study can be
//! resumed, and a live level meter for the chosen microphone. Each runs on its own
//! thread; the setup screen shows what they report and never waits for them.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::audio::{Dictation, LevelMeter, input_device_names};
use crate::gaze::DeviceInfo;
use crate::session::{SessionFolder, SessionStatus, TrialState};

use super::state::MicChoice;

/// What a probe found.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    /// The trackers found, or why none could be looked for (no SDK installed).
    pub tobii: Result<Vec<DeviceInfo>, String>,
    pub microphones: Vec<String>,
    pub resumable: Vec<ResumableSession>,
}

/// A session of this study that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumableSession {
    pub folder: PathBuf,
    pub subject: String,
    /// When the session began (`YYYY-MM-DD HH:MM UTC`), to tell a subject's sessions apart.
    pub started: String,
    pub status: String,
    pub completed_trials: usize,
    pub total_trials: usize,
}

/// Starts a probe for the study `study_id` with sessions under `sessions_root`.
pub fn spawn_probe(
    ctx: &egui::Context,
    sessions_root: PathBuf,
    study_id: String,
) -> Result<Receiver<ProbeReport>, String> {
    let (sender, receiver) = channel();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("session-probe".to_owned())
        .spawn(move || {
            let report = ProbeReport {
                tobii: crate::gaze::tobii::discover().map_err(|e| e.to_string()),
                microphones: input_device_names(),
                resumable: resumable_sessions(&sessions_root.join(&study_id)),
            };
            let _ = sender.send(report);
            ctx.request_repaint();
        })
        .map_err(|e| format!("cannot start the device probe: {e}"))?;
    Ok(receiver)
}

/// The unfinished sessions in a study's session folder, newest first. Folders that are
/// not sessions, or cannot be read, are left out.
pub fn resumable_sessions(study_folder: &Path) -> Vec<ResumableSession> {
    let Ok(entries) = std::fs::read_dir(study_folder) else {
        return Vec::new();
    };
    let mut found: Vec<(i64, ResumableSession)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let folder = entry.path();
            let meta = SessionFolder::read(&folder).ok()?;
            let status = match &meta.status {
                SessionStatus::Complete => return None,
                SessionStatus::Recording => "interrupted (or recording elsewhere)".to_owned(),
                SessionStatus::Interrupted => "interrupted".to_owned(),
                SessionStatus::Stopped { reason } => format!("stopped: {reason}"),
            };
            meta.next_trial()?;
            let completed_trials = meta
                .trials
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .count();
            Some((
                meta.created_unix_s,
                ResumableSession {
                    folder,
                    subject: meta.subject.clone(),
                    started: crate::session::folder::utc_date_time(meta.created_unix_s),
                    status,
                    completed_trials,
                    total_trials: meta.trials.len(),
                },
            ))
        })
        .collect();
    found.sort_by_key(|(created_unix_s, _)| std::cmp::Reverse(*created_unix_s));
    found.into_iter().map(|(_, session)| session).collect()
}

/// A microphone opened to show its level; dropping it closes the microphone.
pub struct MicTest {
    stop: Sender<()>,
}

impl Drop for MicTest {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

/// Opens `choice` on a worker thread (recording into a scratch file that is removed
/// again) and reports its level meter, or why it cannot be opened.
pub fn spawn_mic_test(
    ctx: &egui::Context,
    choice: &MicChoice,
) -> Result<(MicTest, Receiver<Result<LevelMeter, String>>), String> {
    let device = match choice {
        MicChoice::None => return Err("no microphone chosen".to_owned()),
        MicChoice::Default => None,
        MicChoice::Named(name) => Some(name.clone()),
    };
    let (stop, stopped) = channel::<()>();
    let (sender, receiver) = channel();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("mic-test".to_owned())
        .spawn(move || {
            let scratch = std::env::temp_dir()
                .join(format!("scanscribe-mic-test-{}.wav", std::process::id()));
            match Dictation::from_microphone(device.as_deref(), &scratch) {
                Ok(dictation) => {
                    let _ = sender.send(Ok(dictation.level().clone()));
                    ctx.request_repaint();
                    // Runs until the test is dropped (or the app is gone).
                    let _ = stopped.recv();
                    let _ = dictation.stop();
                }
                Err(e) => {
                    let _ = sender.send(Err(e.to_string()));
                    ctx.request_repaint();
                }
            }
            let _ = std::fs::remove_file(&scratch);
        })
        .map_err(|e| format!("cannot start the microphone test: {e}"))?;
    Ok((MicTest { stop }, receiver))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::meta::write_meta;
    use crate::session::{SessionMeta, TrialEntry};
    use crate::study::ScreenGeometry;

    fn session(study_folder: &Path, name: &str, created_unix_s: i64, status: SessionStatus) {
        let folder = study_folder.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let trial = |id: &str, state| TrialEntry {
            id: id.into(),
            image: "a.png".into(),
            state,
            started_us: None,
            ended_us: None,
            skipped: false,
        };
        let meta = SessionMeta {
            format_version: 1,
            study_id: "demo".into(),
            study_path: "demo.ron".into(),
            study_hash: "0".into(),
            subject: "s01".into(),
            created_unix_s,
            started_us: 0,
            gaze_source: Default::default(),
            gaze_frequency_hz: 60.0,
            screen: ScreenGeometry {
                resolution_px: (1920, 1080),
                size_mm: (531.0, 299.0),
                viewing_distance_mm: 650.0,
            },
            attention: Default::default(),
            calibration: None,
            calibration_count: 0,
            status,
            trials: vec![
                trial("t1", TrialState::Complete),
                trial("t2", TrialState::Pending),
            ],
            notes: Vec::new(),
        };
        write_meta(&folder.join("session.ron"), &meta).unwrap();
    }

    #[test]
    fn two_unfinished_sessions_of_one_subject_are_told_apart_by_when_they_began() {
        let dir = tempfile::tempdir().unwrap();
        session(
            dir.path(),
            "s01_a",
            1_795_310_096,
            SessionStatus::Interrupted,
        );
        session(
            dir.path(),
            "s01_b",
            1_795_400_000,
            SessionStatus::Interrupted,
        );
        session(dir.path(), "s01_c", 1_795_500_000, SessionStatus::Complete);
        let found = resumable_sessions(dir.path());
        let started: Vec<&str> = found.iter().map(|s| s.started.as_str()).collect();
        assert_eq!(started, ["2026-11-23 02:13 UTC", "2026-11-22 01:14 UTC"]);
        assert_eq!(found[0].completed_trials, 1);
    }
}
