//! `scanscribe record` on a disk that fills up mid-session (a 256 KiB tmpfs): the
//! recorder stops with a message that names the file and the cause, `session.ron`
//! records the stop (the session's space reserve is given up for it), and everything
//! written before stays readable. Needs root for the mount (CI runs as root); elsewhere
//! the test says it skipped.

#![allow(clippy::unwrap_used)] // test helpers may unwrap
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;

use scanscribe::session::chunks::read_chunks;
use scanscribe::session::{SessionFolder, SessionStatus, TrialState};

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn study(dir: &Path) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let trials: String = (1..=4)
        .map(|i| format!("(id: \"t{i}\", image: \"scene-0{i}.png\", viewing_time_ms: 2000, fixation_cross_ms: 0),\n"))
        .collect();
    let path = dir.join("full.ron");
    std::fs::write(
        &path,
        format!(
            r#"Study(id: "full", title: "Disk full", instructions: "Look.",
                screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
                image_root: "{}", trials: [{trials}])"#,
            demo.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_full_disk_stops_the_recording_cleanly_and_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&disk)
        .output()
        .is_ok_and(|o| o.status.success());
    if !mounted {
        eprintln!("SKIPPED the disk-full test: mounting a tmpfs needs root");
        return;
    }
    let _mount = Mount(disk.clone());
    let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(["record", "--study"])
        .arg(study(dir.path()))
        .args([
            "--subject",
            "s01",
            "--rate-hz",
            "1200",
            "--speed",
            "2",
            "--sessions",
        ])
        .arg(&disk)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the recording cannot have finished: {stderr}"
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains("gaze.chunks")
            || stderr.contains("session.ron")
            || stderr.contains(".json"),
        "names the file: {stderr}"
    );

    let root = std::fs::read_dir(disk.join("full"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    // The stop is recorded (the space reserve was given up for it), not left for
    // the next open to guess as an interruption.
    let meta = SessionFolder::read(&root).unwrap();
    match &meta.status {
        SessionStatus::Stopped { reason } => {
            assert!(reason.contains("No space left on device"), "{reason}")
        }
        other => panic!("status {other:?}"),
    }
    assert!(
        meta.trials
            .iter()
            .all(|t| t.state != TrialState::InProgress),
        "the trial cut short is marked interrupted: {:?}",
        meta.trials
    );
    let leftovers: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial") || n == ".space-reserve" || n == "session.lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        meta.trials[0].state,
        TrialState::Complete,
        "the first trial fitted on the disk"
    );
    let first = read_chunks(
        &root
            .join("trials")
            .join(&meta.trials[0].id)
            .join("gaze.chunks"),
    )
    .unwrap();
    assert!(
        first.samples.len() > 1000,
        "{} samples kept",
        first.samples.len()
    );
    assert!(first.damage.is_empty());
}
