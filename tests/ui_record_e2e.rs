//! End to end in a real window: the `scanscribe` binary under Xvfb with
//! `--record-subject` (mouse as gaze, typed descriptions, no calibration) runs the
//! demo study; xdotool moves the pointer over the subject's screen and types. Two
//! trials are described, the session is paused (Escape, Enter) and stopped at the
//! pause (S); the session folder is then read back with the session readers.
//!
//! Needs `Xvfb` and `xdotool` (installed by scripts/setup.sh, as in CI); without them
//! the test says so and passes without running.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use scanscribe::session::chunks::read_chunks;
use scanscribe::session::events::{Event, EventKind, read_events};
use scanscribe::session::runner::TrialDescription;
use scanscribe::session::{SessionFolder, SessionStatus, TrialState};

/// Kills the process when dropped (the app, the X server).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct Display {
    name: String,
}

impl Display {
    fn xdotool(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.name)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

/// Polls `check` every 100 ms until it returns `Some`; panics naming `what`.
fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn events(folder: &Path) -> Vec<Event> {
    read_events(&folder.join("events.jsonl"))
        .map(|r| r.events)
        .unwrap_or_default()
}

fn count(folder: &Path, wanted: fn(&EventKind) -> bool) -> usize {
    events(folder).iter().filter(|e| wanted(&e.kind)).count()
}

#[test]
fn the_app_records_two_demo_trials_with_the_mouse_under_xvfb() {
    if !(have("Xvfb") && have("xdotool")) {
        eprintln!("SKIPPED: Xvfb and xdotool are needed (scripts/setup.sh installs them)");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sessions = tempfile::tempdir().unwrap();
    let number = 120 + std::process::id() % 500;
    let display = Display {
        name: format!(":{number}"),
    };
    let _xvfb = Killed(
        Command::new("Xvfb")
            .args([
                &display.name,
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    wait_for("the X server", Duration::from_secs(20), || {
        socket.exists().then_some(())
    });
    let log = std::fs::File::create(sessions.path().join("app.log")).unwrap();
    let _app = Killed(
        Command::new(env!("CARGO_BIN_EXE_scanscribe"))
            .args(["--study", "studies/demo.ron", "--record-subject", "e2e01"])
            .arg("--sessions")
            .arg(sessions.path())
            .current_dir(&root)
            .env("DISPLAY", &display.name)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let log_path = sessions.path().join("app.log");
    let window = wait_for("the subject's screen", Duration::from_secs(90), || {
        let found = display.xdotool(&["search", "--name", "scanscribe: subject screen"]);
        let app_log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let failed = app_log.lines().any(|line| {
            (line.starts_with("error:") && !line.contains("XDG_RUNTIME_DIR"))
                || line.contains("panicked")
        });
        assert!(
            !failed,
            "the app failed (is the binary this checkout's?):\n{app_log}"
        );
        found.lines().next().map(str::to_owned)
    });
    let folder = wait_for("the session folder", Duration::from_secs(30), || {
        let study = sessions.path().join("demo");
        std::fs::read_dir(study)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .next()
    });
    display.xdotool(&["windowfocus", &window]);
    display.xdotool(&["mousemove", "--window", &window, "512", "320"]);
    std::thread::sleep(Duration::from_millis(500));
    display.xdotool(&["key", "space"]);

    let path = [
        ("420", "260"),
        ("600", "240"),
        ("560", "420"),
        ("450", "380"),
    ];
    for (trial, text) in [
        (1, "a scene with shapes"),
        (2, "more shapes on a plain ground"),
    ] {
        wait_for("the stimulus", Duration::from_secs(20), || {
            (count(&folder, |k| matches!(k, EventKind::StimulusOn { .. })) >= trial).then_some(())
        });
        // Look around: each position is held long enough to become a fixation.
        for (x, y) in path {
            display.xdotool(&["mousemove", "--window", &window, x, y]);
            std::thread::sleep(Duration::from_millis(900));
        }
        if trial == 2 {
            // Ask to pause during the stimulus: nothing covers the picture, the
            // question waits until it is gone.
            display.xdotool(&["key", "Escape"]);
            std::thread::sleep(Duration::from_millis(500));
        }
        wait_for("the stimulus going off", Duration::from_secs(20), || {
            (count(&folder, |k| matches!(k, EventKind::StimulusOff)) >= trial).then_some(())
        });
        // The description field takes the keyboard a frame or two after it appears.
        std::thread::sleep(Duration::from_millis(1500));
        if trial == 2 {
            // Now the pause question shows; Enter confirms (pause after this trial).
            display.xdotool(&["key", "Return"]);
            std::thread::sleep(Duration::from_millis(1000));
        }
        display.xdotool(&["type", "--delay", "40", text]);
        std::thread::sleep(Duration::from_millis(300));
        display.xdotool(&["key", "Return"]);
    }
    // The pause screen: stop the session there.
    wait_for("the pause", Duration::from_secs(20), || {
        let meta = SessionFolder::read(&folder).ok()?;
        (meta
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .count()
            == 2)
            .then_some(())
    });
    std::thread::sleep(Duration::from_millis(800));
    display.xdotool(&["key", "s"]);
    let meta = wait_for("the session to stop", Duration::from_secs(20), || {
        let meta = SessionFolder::read(&folder).ok()?;
        (meta.status != SessionStatus::Recording).then_some(meta)
    });

    assert!(
        matches!(&meta.status, SessionStatus::Stopped { reason } if reason == "stopped on the subject's screen during a pause"),
        "{:?}",
        meta.status
    );
    assert_eq!(meta.subject, "e2e01");
    assert_eq!(meta.gaze_source.address, "mouse");
    let complete: Vec<_> = meta
        .trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    assert_eq!(complete.len(), 2);
    assert!(
        meta.trials[2..]
            .iter()
            .all(|t| t.state == TrialState::Pending),
        "resumable"
    );
    let events = events(&folder);
    assert!(events.iter().any(|e| e.kind == EventKind::Pause));
    let mut texts = Vec::new();
    for trial in complete {
        let dir = folder.join("trials").join(&trial.id);
        let gaze = read_chunks(&dir.join("gaze.chunks")).unwrap();
        assert!(gaze.damage.is_empty());
        let on_screen = gaze
            .samples
            .iter()
            .filter(|s| s.average_point().is_some())
            .count();
        assert!(
            on_screen > 500,
            "{}: {on_screen} of {} samples had the pointer on the subject's screen",
            trial.id,
            gaze.samples.len()
        );
        assert!(events.iter().any(|e| e.trial.as_deref() == Some(&trial.id)
            && matches!(e.kind, EventKind::StimulusPresented { .. })));
        let fixations = std::fs::read_to_string(dir.join("fixations.csv")).unwrap();
        assert!(fixations.lines().count() > 2, "{}: {fixations}", trial.id);
        let text = std::fs::read_to_string(dir.join("description.json")).unwrap();
        texts.push(
            serde_json::from_str::<TrialDescription>(&text)
                .unwrap()
                .text,
        );
    }
    assert_eq!(
        texts,
        ["a scene with shapes", "more shapes on a plain ground"]
    );
}
