//! `scanscribe export` on a freshly recorded session: CSV tables that read back as
//! gaze samples and fixations, and dataset records that pass the records reader.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::Path;
use std::process::Command;

fn run(args: &[&str], extra: &[&Path]) {
    let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(args)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_recorded_session_exports_to_csv_tables_and_dataset_records() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let study = dir.path().join("two.ron");
    std::fs::write(
        &study,
        format!(
            r#"Study(id: "two", title: "Two trials", instructions: "Look.",
                screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
                image_root: "{}",
                trials: [
                    (id: "a", image: "scene-01.png", viewing_time_ms: 3000, fixation_cross_ms: 0, dictation: (max_length_ms: 10000)),
                    (id: "b", image: "scene-02.png", viewing_time_ms: 3000, fixation_cross_ms: 0, dictation: (max_length_ms: 10000)),
                ])"#,
            demo.display()
        ),
    )
    .unwrap();
    let sessions = dir.path().join("sessions");
    run(
        &[
            "record",
            "--subject",
            "s05",
            "--speed",
            "6",
            "--no-sync",
            "--study",
        ],
        &[&study, Path::new("--sessions"), &sessions],
    );
    let session = std::fs::read_dir(sessions.join("two"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();

    let tables = dir.path().join("tables");
    run(
        &["export", "--format", "csv", "--out"],
        &[&tables, &session],
    );
    let folder = tables.join(session.file_name().unwrap());
    let samples = scanscribe::gaze::csv::read_samples(&folder.join("a_samples.csv")).unwrap();
    assert!(samples.len() > 500, "{} samples", samples.len());
    let fixations = std::fs::read_to_string(folder.join("a_fixations.csv")).unwrap();
    assert!(
        fixations.starts_with("index,start_us,end_us,duration_ms"),
        "{fixations}"
    );
    assert!(fixations.lines().count() > 3, "{fixations}");

    let dataset = dir.path().join("dataset");
    run(
        &["export", "--format", "records", "--split", "train", "--out"],
        &[&dataset, &session],
    );
    let records = scanscribe::dataset::read_records(&dataset.join("records.jsonl")).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].subject, "s05");
    assert!(!records[0].trajectory.is_empty());
    assert!(!records[0].description.is_empty());
}
