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

    hostile_session_paths_stay_inside(dir.path(), &session);
    unfinished_and_damaged_trials_are_said(dir.path(), &session);
}

/// A trial still in progress (a live or killed, not yet resumed session) is exported
/// with what was flushed and said to be unfinished; damage in a gaze file is counted.
fn unfinished_and_damaged_trials_are_said(dir: &Path, session: &Path) {
    let meta_path = session.join("session.ron");
    let original = std::fs::read_to_string(&meta_path).unwrap();
    let last_complete = original.rfind("state: Complete").unwrap();
    let mut unfinished = original.clone();
    unfinished.replace_range(
        last_complete..last_complete + "state: Complete".len(),
        "state: InProgress",
    );
    std::fs::write(&meta_path, unfinished).unwrap();
    let gaze = session.join("trials/a/gaze.chunks");
    let bytes = std::fs::read(&gaze).unwrap();
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    for b in &mut damaged[middle..middle + 20] {
        *b ^= 0xa5;
    }
    std::fs::write(&gaze, &damaged).unwrap();

    let out = dir.join("unfinished-tables");
    let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(["export", "--format", "csv", "--out"])
        .args([&out, session])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("2 trial(s)"), "{stdout}");
    assert!(stdout.contains("/b: still in progress"), "{stdout}");
    assert!(
        stdout.contains("/a:") && stdout.contains("skipped as damaged"),
        "{stdout}"
    );
    let folder = out.join(session.file_name().unwrap());
    assert!(folder.join("b_samples.csv").exists());

    std::fs::write(&meta_path, original).unwrap();
    std::fs::write(&gaze, bytes).unwrap();
}

/// A session folder may come from anyone: a trial id that climbs out of the folder is
/// refused naming `session.ron`, and a stimulus path naming some other file is not
/// copied into the BIDS export.
fn hostile_session_paths_stay_inside(dir: &Path, session: &Path) {
    let meta_path = session.join("session.ron");
    let original = std::fs::read_to_string(&meta_path).unwrap();
    assert!(original.contains("id: \"a\""), "{original}");
    std::fs::write(
        &meta_path,
        original.replacen("id: \"a\"", "id: \"../../escape_probe\"", 1),
    )
    .unwrap();
    let out = dir.join("hostile-tables");
    for format in ["csv", "records", "bids"] {
        let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
            .args(["export", "--format", format, "--out"])
            .args([&out, session])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{format}: {stderr}");
        assert!(
            stderr.contains("session.ron") && stderr.contains("../../escape_probe"),
            "{format}: {stderr}"
        );
    }
    let escaped: Vec<_> = walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("escape_probe"))
        .collect();
    assert!(escaped.is_empty(), "{escaped:?}");

    let image_line = original
        .lines()
        .find(|l| l.trim_start().starts_with("image: "))
        .unwrap()
        .trim()
        .trim_end_matches(',')
        .to_owned();
    let secret = dir.join("secret.txt");
    std::fs::write(&secret, "not for export").unwrap();
    std::fs::write(
        &meta_path,
        original.replace(
            &image_line,
            &format!("image: {:?}", secret.display().to_string()),
        ),
    )
    .unwrap();
    let bids = dir.join("hostile-bids");
    let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(["export", "--format", "bids", "--out"])
        .args([&bids, session])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let copied: Vec<_> = walk(&bids)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "secret.txt"))
        .collect();
    assert!(copied.is_empty(), "{copied:?}");

    // A real image, but outside the session and the study's image folder: neither the
    // BIDS stimuli nor the dataset records take it, and the export says why.
    let private = dir.join("private");
    std::fs::create_dir_all(&private).unwrap();
    let secret_png = private.join("secret.png");
    image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
        .save(&secret_png)
        .unwrap();
    std::fs::write(
        &meta_path,
        original.replace(
            &image_line,
            &format!("image: {:?}", secret_png.display().to_string()),
        ),
    )
    .unwrap();
    for format in ["bids", "records"] {
        let out = dir.join(format!("hostile-png-{format}"));
        let output = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
            .args(["export", "--format", format, "--out"])
            .args([&out, session])
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{format}: {said}");
        assert!(
            said.contains("outside the session folder and the study's image folder"),
            "{format}: {said}"
        );
        let copied: Vec<_> = walk(&out)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("secret"))
            .collect();
        assert!(copied.is_empty(), "{format}: {copied:?}");
    }
    std::fs::write(&meta_path, original).unwrap();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
