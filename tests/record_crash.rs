//! `scanscribe record` killed with SIGKILL mid-trial: the next open finds the session
//! interrupted, keeps every flushed sample (no more than 100 ms before the kill is
//! lost), and `--resume` finishes the remaining trials.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scanscribe::gaze::clock::system_time_us;
use scanscribe::session::chunks::read_chunks;
use scanscribe::session::{SessionFolder, SessionStatus, TrialState};

/// A copy of the demo study with three short trials on the bundled demo images.
fn short_study(dir: &Path) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let trials: String = (1..=3)
        .map(|i| format!("(id: \"t{i}\", image: \"scene-0{i}.png\", viewing_time_ms: 1500, fixation_cross_ms: 200),\n"))
        .collect();
    let text = format!(
        r#"Study(id: "crash", title: "Crash test", instructions: "Look.",
            screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
            gaze_source: Simulated,
            image_root: "{}",
            trials: [{trials}])"#,
        demo.display()
    );
    let path = dir.join("crash.ron");
    std::fs::write(&path, text).unwrap();
    path
}

fn scanscribe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scanscribe"))
}

fn session_dir(sessions: &Path) -> Option<PathBuf> {
    std::fs::read_dir(sessions.join("crash"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .next()
}

#[test]
fn a_killed_recording_loses_at_most_100_ms_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let study = short_study(dir.path());
    let sessions = dir.path().join("sessions");
    let mut child = scanscribe()
        .args(["record", "--study"])
        .arg(&study)
        .args(["--subject", "s01", "--rate-hz", "600", "--sessions"])
        .arg(&sessions)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait until the second trial is recording, then kill in the middle of it.
    let started = Instant::now();
    let gaze = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the recording never reached trial 2"
        );
        let in_second_trial = session_dir(&sessions).and_then(|root| {
            // The folder exists a moment before its metadata does.
            let meta = SessionFolder::read(&root).ok()?;
            let trial = meta
                .trials
                .get(1)
                .filter(|t| t.state == TrialState::InProgress)?;
            let gaze = root.join("trials").join(&trial.id).join("gaze.chunks");
            read_chunks(&gaze)
                .is_ok_and(|r| r.samples.len() > 300)
                .then_some(gaze)
        });
        if let Some(gaze) = in_second_trial {
            break gaze;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    let killed_at_us = system_time_us();
    child.wait().unwrap();

    let root = session_dir(&sessions).unwrap();
    let kept = read_chunks(&gaze).unwrap();
    let last_kept_us = kept.samples.last().unwrap().system_time_us;
    let lost_ms = (killed_at_us - last_kept_us) as f64 / 1000.0;
    assert!(
        lost_ms <= 100.0,
        "{lost_ms} ms of samples before the kill were lost"
    );

    let (folder, report) = SessionFolder::open(&root).unwrap();
    assert!(report.was_interrupted);
    assert_eq!(report.interrupted_trials[0].1, kept.samples.len());
    assert_eq!(folder.meta().status, SessionStatus::Interrupted);
    drop(folder);

    let status = scanscribe()
        .args(["record", "--study"])
        .arg(&study)
        .arg("--resume")
        .arg(&root)
        .args(["--speed", "4", "--no-sync"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let meta = SessionFolder::read(&root).unwrap();
    assert_eq!(meta.status, SessionStatus::Complete);
    let states: Vec<TrialState> = meta.trials.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        [
            TrialState::Complete,
            TrialState::Interrupted,
            TrialState::Complete
        ]
    );
    let third = root.join("trials").join(&meta.trials[2].id);
    for file in [
        "gaze.chunks",
        "fixations.csv",
        "trajectory.json",
        "quality.json",
    ] {
        assert!(third.join(file).exists(), "{file} of the resumed trial");
    }
}
