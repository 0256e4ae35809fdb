//! BIDS export of recorded sessions, checked file by file and by the official BIDS
//! validator (`bids-validator-deno` from PyPI, which `scripts/test.sh` installs).

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    ClickingSubject, ScriptedSource, ScriptedSubject, bubble_study_folder, speech_wav, study_folder,
};
use scanscribe::interop::bids::export_bids;
use scanscribe::session::runner::{Runner, RunnerOptions, Subject};
use scanscribe::study::load_study;

fn record(dir: &Path, subject: &str, trials: usize) -> PathBuf {
    let script = ScriptedSubject {
        speech: speech_wav(dir),
        waits: Vec::new(),
    };
    record_with(
        dir,
        subject,
        trials,
        &mut ClickingSubject::new(script, Vec::new()),
    )
}

fn record_with(dir: &Path, subject: &str, trials: usize, script: &mut dyn Subject) -> PathBuf {
    let study = load_study(&dir.join("study.ron")).unwrap();
    let mut source = ScriptedSource::new(250.0);
    let options = RunnerOptions {
        sessions_root: dir.join("sessions"),
        sync_to_disk: false,
        ..RunnerOptions::default()
    };
    assert!(study.study.trials.len() >= trials);
    let runner = Runner::start(&study, subject, &mut source, options).unwrap();
    let root = runner.folder().root().to_path_buf();
    runner.run(script, &mut |_| Ok(()), &mut |_| {}).unwrap();
    root
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// The validator from `scripts/test.sh`'s tool folder, the environment, or the PATH.
fn validator() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("SCANSCRIBE_BIDS_VALIDATOR").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pytools/bin/bids-validator-deno")),
        Some(PathBuf::from("bids-validator-deno")),
    ];
    candidates.into_iter().flatten().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn sessions_export_to_a_valid_bids_dataset() {
    let dir = tempfile::tempdir().unwrap();
    study_folder(dir.path(), 2);
    let first = record(dir.path(), "s-01", 2);
    let second = record(dir.path(), "s02", 2);
    let out = dir.path().join("bids");
    let summary = export_bids(&[first, second], &out).unwrap();
    assert_eq!((summary.subjects, summary.runs), (2, 4));
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);

    let beh = out.join("sub-s01/beh");
    let physio = beh.join("sub-s01_task-runner_run-1_recording-eye1_physio.tsv.gz");
    let rows = gunzip(&physio);
    let first_row: Vec<&str> = rows.lines().next().unwrap().split('\t').collect();
    assert_eq!(
        first_row.len(),
        4,
        "timestamp, x, y, pupil; no header: {first_row:?}"
    );
    assert_eq!(first_row[1], "960.00", "x in pixels on a 1920 px screen");
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(physio.with_extension("").with_extension("json")).unwrap(),
    )
    .unwrap();
    assert_eq!(sidecar["PhysioType"], "eyetrack");
    assert_eq!(sidecar["RecordedEye"], "left");
    assert_eq!(sidecar["SamplingFrequency"], 250.0);
    let events = std::fs::read_to_string(beh.join("sub-s01_task-runner_run-1_events.tsv")).unwrap();
    assert!(
        events.starts_with("onset\tduration\ttrial_type\tstim_file\ttrial_id\n"),
        "{events}"
    );
    assert!(events.contains("\tstimulus\ta.png\t"), "{events}");
    assert!(out.join("stimuli/a.png").exists());
    assert!(
        out.join("sourcedata/sub-s01/beh/sub-s01_task-runner_run-2_dictation.wav")
            .exists()
    );

    assert_valid(&out);
}

/// Runs the official validator on `out` (skipped, saying so, where it is missing).
fn assert_valid(out: &Path) {
    let Some(validator) = validator() else {
        eprintln!(
            "SKIPPED the BIDS validator check: bids-validator-deno not found (scripts/test.sh installs it)"
        );
        return;
    };
    let output = Command::new(validator)
        .arg(out)
        .arg("--json")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "validator output is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let errors: Vec<&serde_json::Value> = report["issues"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|issue| issue["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "BIDS validator errors: {errors:#?}");
}

#[test]
fn bubble_view_clicks_are_events_with_order_and_position() {
    let dir = tempfile::tempdir().unwrap();
    bubble_study_folder(dir.path(), 1);
    let script = ScriptedSubject {
        speech: speech_wav(dir.path()),
        waits: Vec::new(),
    };
    let mut clicker = ClickingSubject::new(script, vec![(50, [0.25, 0.5]), (150, [0.75, 0.25])]);
    let session = record_with(dir.path(), "b01", 1, &mut clicker);
    let out = dir.path().join("bids");
    export_bids(&[session], &out).unwrap();

    let beh = out.join("sub-b01/beh");
    let events = std::fs::read_to_string(beh.join("sub-b01_task-runner_run-1_events.tsv")).unwrap();
    let lines: Vec<Vec<&str>> = events.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        lines[0],
        [
            "onset",
            "duration",
            "trial_type",
            "stim_file",
            "trial_id",
            "click_order",
            "x",
            "y"
        ]
    );
    let clicks: Vec<&Vec<&str>> = lines.iter().filter(|l| l[2] == "bubble_click").collect();
    assert_eq!(clicks.len(), 2, "{events}");
    assert_eq!(&clicks[0][5..], ["1", "480.00", "540.00"]);
    assert_eq!(&clicks[1][5..], ["2", "1440.00", "270.00"]);
    let first_duration: f64 = clicks[0][1].parse().unwrap();
    assert!(
        (first_duration - 0.1).abs() < 0.03,
        "until the next click: {first_duration}"
    );
    let stimulus = lines.iter().find(|l| l[2] == "stimulus").unwrap();
    assert_eq!(&stimulus[5..], ["n/a", "n/a", "n/a"]);
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(beh.join("sub-b01_task-runner_run-1_events.json")).unwrap(),
    )
    .unwrap();
    assert!(sidecar["trial_type"]["Levels"]["bubble_click"].is_string());
    assert_eq!(sidecar["x"]["Units"], "pixel");
    assert_valid(&out);
}
