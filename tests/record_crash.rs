//! `scanscribe record` killed with SIGKILL mid-trial: the next open finds the session
//! interrupted, keeps every flushed sample (no more than 100 ms before the kill is
//! lost), and `--resume` shows the interrupted trial again (or skips it) and finishes
//! the remaining trials, its clock going on after the killed session's last time.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scanscribe::gaze::clock::system_time_us;
use scanscribe::session::chunks::read_chunks;
use scanscribe::session::events::{EventKind, read_events};
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

/// Starts `record` at `speed` and kills it (SIGKILL) in the middle of the second
/// trial; returns the session folder, the killed trial's gaze file and the system
/// time of the kill.
fn kill_in_second_trial(study: &Path, sessions: &Path, speed: &str) -> (PathBuf, PathBuf, i64) {
    let mut child = scanscribe()
        .args(["record", "--study"])
        .arg(study)
        .args([
            "--subject",
            "s01",
            "--rate-hz",
            "600",
            "--speed",
            speed,
            "--sessions",
        ])
        .arg(sessions)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let gaze = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the recording never reached trial 2"
        );
        let in_second_trial = session_dir(sessions).and_then(|root| {
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
        std::thread::sleep(Duration::from_millis(5));
    };
    child.kill().unwrap(); // SIGKILL
    let killed_at_us = system_time_us();
    child.wait().unwrap();
    (session_dir(sessions).unwrap(), gaze, killed_at_us)
}

fn resume(study: &Path, root: &Path, extra: &[&str]) -> String {
    let output = scanscribe()
        .args(["record", "--study"])
        .arg(study)
        .arg("--resume")
        .arg(root)
        .args(["--speed", "4", "--no-sync"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    stderr
}

#[test]
fn a_killed_recording_loses_at_most_100_ms_and_resumes_showing_the_trial_again() {
    let dir = tempfile::tempdir().unwrap();
    let study = short_study(dir.path());
    let sessions = dir.path().join("sessions");
    let (root, gaze, killed_at_us) = kill_in_second_trial(&study, &sessions, "1");
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

    let said = resume(&study, &root, &[]);
    let meta = SessionFolder::read(&root).unwrap();
    let second = &meta.trials[1].id;
    assert!(
        said.contains(&format!(
            "trial {second} was interrupted: it is shown again; the {} samples",
            kept.samples.len()
        )) && said.contains(&format!("trials/{second}/interrupted-1/")),
        "{said}"
    );
    assert_eq!(meta.status, SessionStatus::Complete);
    assert!(meta.trials.iter().all(|t| t.state == TrialState::Complete));
    // The interrupted showing is kept beside the new one.
    let aside = read_chunks(&gaze.parent().unwrap().join("interrupted-1/gaze.chunks")).unwrap();
    assert_eq!(aside.samples.len(), kept.samples.len());
    for trial in &meta.trials {
        let folder = root.join("trials").join(&trial.id);
        for file in [
            "gaze.chunks",
            "fixations.csv",
            "trajectory.json",
            "quality.json",
        ] {
            assert!(folder.join(file).exists(), "{file} of trial {}", trial.id);
        }
    }
}

#[test]
fn a_sped_up_session_resumed_after_a_kill_never_goes_back_in_time_and_can_skip_the_trial() {
    let dir = tempfile::tempdir().unwrap();
    let study = short_study(dir.path());
    let sessions = dir.path().join("sessions");
    let (root, gaze, _) = kill_in_second_trial(&study, &sessions, "4");
    let killed_last_us = read_chunks(&gaze)
        .unwrap()
        .samples
        .iter()
        .map(|s| s.system_time_us)
        .max()
        .unwrap();

    let said = resume(&study, &root, &["--interrupted", "skip"]);
    let meta = SessionFolder::read(&root).unwrap();
    assert!(said.contains("it is skipped as asked"), "{said}");
    let states: Vec<TrialState> = meta.trials.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        [
            TrialState::Complete,
            TrialState::Interrupted,
            TrialState::Complete
        ]
    );
    assert!(meta.trials[1].skipped);
    // Everything recorded after the resume is later than everything before it.
    let third = read_chunks(
        &root
            .join("trials")
            .join(&meta.trials[2].id)
            .join("gaze.chunks"),
    )
    .unwrap();
    let first_resumed_us = third.samples.first().unwrap().system_time_us;
    assert!(
        first_resumed_us > killed_last_us,
        "resumed samples start at {first_resumed_us}, before the killed trial's last {killed_last_us}"
    );
    let events = read_events(&root.join("events.jsonl")).unwrap().events;
    let times: Vec<i64> = events.iter().map(|e| e.time_us).collect();
    let resume_at = events
        .iter()
        .position(|e| matches!(e.kind, EventKind::SessionResume))
        .unwrap();
    let before = times[..resume_at].iter().max().unwrap();
    assert!(times[resume_at..].iter().all(|t| t > before), "{times:?}");
    // A later resume does not bring the skipped trial back.
    let said = resume(&study, &root, &[]);
    assert!(said.contains("resumed with no trial left"), "{said}");
    assert_eq!(
        SessionFolder::read(&root).unwrap().trials[1].state,
        TrialState::Interrupted
    );
}
