//! Study files: every class of problem gives a message naming the file, the line or
//! field, and what was expected; a good study loads with its images resolved.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::{Path, PathBuf};

use scanscribe::study::{StudyError, load_study};

const GOOD: &str = r#"// a comment mentioning image: "nothing.png"
Study(
    id: "pilot-1",
    title: "Pilot",
    instructions: "Look, then describe.",
    screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
    gaze_source: Simulated,
    calibration: (
        points: 9,
        validation_points: [(0.3, 0.3), (0.7, 0.7)],
        max_accuracy_deg: 1.0,
        max_precision_rms_deg: 0.5,
    ),
    image_root: "images",
    trials: [
        (id: "a", image: "a.png", viewing_time_ms: 5000, dictation: (max_length_ms: 20000)),
        (id: "b", image: "sub/b.png", viewing_time_ms: 5000, fixation_cross_ms: 0),
        (id: "c", image: "a.png", viewing_time_ms: 3000),
    ],
    randomization: (seed: 7),
    breaks: (every_n_trials: 2),
    questionnaire: Tipi,
)
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    folder: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("study");
        std::fs::create_dir_all(folder.join("images/sub")).unwrap();
        let image = image::RgbImage::from_pixel(64, 48, image::Rgb([200, 100, 50]));
        image.save(folder.join("images/a.png")).unwrap();
        image.save(folder.join("images/sub/b.png")).unwrap();
        image.save(dir.path().join("outside.png")).unwrap();
        Self { _dir: dir, folder }
    }

    fn write(&self, text: &str) -> PathBuf {
        let path = self.folder.join("study.ron");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Loads `GOOD` with one replacement and returns the error message.
    fn error_after(&self, from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "fixture text lacks {from:?}");
        let path = self.write(&GOOD.replacen(from, to, 1));
        let message = load_study(&path).unwrap_err().to_string();
        assert!(
            message.contains(&path.display().to_string()),
            "names the file: {message}"
        );
        message
    }
}

#[test]
fn a_good_study_loads_with_resolved_images() {
    let fixture = Fixture::new();
    let loaded = load_study(&fixture.write(GOOD)).unwrap();
    assert_eq!(loaded.study.trials.len(), 3);
    assert_eq!(loaded.image_sizes_px, vec![(64, 48); 3]);
    assert!(loaded.image_paths[1].ends_with("images/sub/b.png"));
    assert_eq!(
        loaded.study.trials[0].fixation_cross_ms, 1000,
        "default fixation cross"
    );
    assert_eq!(loaded.study.trials[1].fixation_cross_ms, 0);
    assert_eq!(loaded.study.trials[2].dictation, None);
}

#[test]
fn a_byte_order_mark_is_ignored_and_lines_stay_right() {
    let fixture = Fixture::new();
    let loaded = load_study(&fixture.write(&format!("\u{feff}{GOOD}"))).unwrap();
    assert_eq!(loaded.study.trials.len(), 3);
    // Errors after the mark still point at their own line.
    let bad = GOOD.replacen("viewing_time_ms: 3000", "viewing_time_ms: \"x\"", 1);
    let message = load_study(&fixture.write(&format!("\u{feff}{bad}")))
        .unwrap_err()
        .to_string();
    assert!(message.contains("study.ron:18:"), "{message}");
}

#[test]
fn trial_order_is_per_subject_and_stable() {
    let fixture = Fixture::new();
    let mut text = GOOD.to_owned();
    let extra: String = (0..20)
        .map(|i| format!("        (id: \"x{i}\", image: \"a.png\", viewing_time_ms: 1000),\n"))
        .collect();
    text = text.replace(
        "    ],\n    randomization",
        &format!("{extra}    ],\n    randomization"),
    );
    let loaded = load_study(&fixture.write(&text)).unwrap();
    let s01 = loaded.trial_order("s01");
    assert_eq!(s01, loaded.trial_order("s01"), "same subject, same order");
    assert_ne!(
        s01,
        loaded.trial_order("s02"),
        "another subject, another order"
    );
    let mut sorted = s01.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..23).collect::<Vec<_>>(),
        "a permutation of all trials"
    );
}

#[test]
fn syntax_errors_give_line_and_column() {
    let message = Fixture::new().error_after("title: \"Pilot\",", "title: \"Pilot\"");
    assert!(
        message.contains(":5:"),
        "line 5 is where the parser stops: {message}"
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_line() {
    let message =
        Fixture::new().error_after("viewing_time_ms: 3000", "viewing_time_ms: 3000, colour: 1");
    assert!(message.contains("line 18: "), "{message}");
    assert!(message.contains("colour"), "{message}");
}

#[test]
fn an_unknown_field_does_not_hide_the_other_problems() {
    let fixture = Fixture::new();
    // The screen written over several lines, as experimenters often do.
    let text = GOOD
        .replacen(
            "screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),",
            "screen: (\n        resolution_px: (1920, 1080),\n        size_mm: (531.0, 299.0),\n        viewing_distance_mm: -3.0,\n    ),",
            1,
        )
        .replacen(
            "viewing_time_ms: 3000",
            "viewing_time_ms: 3000, colour: (1, \"a, b\")",
            1,
        )
        .replacen("sub/b.png", "sub/missing.png", 1);
    let colour_line = text.lines().position(|l| l.contains("colour")).unwrap() + 1;
    let path = fixture.write(&text);
    let message = load_study(&path).unwrap_err().to_string();
    assert!(message.contains("3 problem(s)"), "{message}");
    assert!(
        message.contains(&format!("line {colour_line}: Trial.colour")),
        "{message}"
    );
    assert!(
        message.contains("trials[1].image: image not found"),
        "{message}"
    );
    let distance_line = text
        .lines()
        .position(|l| l.contains("viewing_distance_mm"))
        .unwrap()
        + 1;
    assert!(
        message.contains(&format!("line {distance_line}: screen.viewing_distance_mm")),
        "the value's own line, not `screen: (`: {message}"
    );
}

#[test]
fn missing_and_unreadable_images_are_named() {
    let fixture = Fixture::new();
    let message = fixture.error_after("sub/b.png", "sub/missing.png");
    assert!(
        message.contains("line 17: trials[1].image: image not found"),
        "{message}"
    );
    assert!(message.contains("missing.png"), "{message}");

    std::fs::write(fixture.folder.join("images/broken.png"), b"not a png").unwrap();
    let message = fixture.error_after("sub/b.png", "broken.png");
    assert!(message.contains("trials[1].image"), "{message}");
    assert!(message.contains("not a readable image"), "{message}");
}

#[test]
fn paths_that_escape_the_image_folder_are_rejected() {
    let fixture = Fixture::new();
    let message = fixture.error_after("sub/b.png", "../../outside.png");
    assert!(message.contains("leaves the image folder"), "{message}");
    let absolute = fixture.folder.join("images/a.png");
    let message = fixture.error_after("sub/b.png", &absolute.display().to_string());
    assert!(message.contains("is an absolute path"), "{message}");
    let message = fixture.error_after("image_root: \"images\"", "image_root: \"nowhere\"");
    assert!(message.contains("image_root: the folder"), "{message}");
}

#[test]
fn duplicate_trial_ids_point_at_the_second_one() {
    let message = Fixture::new().error_after("(id: \"c\"", "(id: \"a\"");
    assert!(
        message.contains("line 18: trials[2].id: duplicate trial id \"a\""),
        "{message}"
    );
}

#[test]
fn impossible_geometry_is_explained() {
    let fixture = Fixture::new();
    let message = fixture.error_after("size_mm: (531.0, 299.0)", "size_mm: (299.0, 531.0)");
    assert!(
        message.contains("screen.size_mm") && message.contains("does not fit"),
        "{message}"
    );
    let message = fixture.error_after("viewing_distance_mm: 650.0", "viewing_distance_mm: -3.0");
    assert!(message.contains("screen.viewing_distance_mm"), "{message}");
    let message = fixture.error_after("resolution_px: (1920, 1080)", "resolution_px: (0, 1080)");
    assert!(message.contains("screen.resolution_px"), "{message}");
}

#[test]
fn calibration_and_trial_values_are_checked_and_all_problems_listed() {
    let fixture = Fixture::new();
    let text = GOOD
        .replace("points: 9", "points: 7")
        .replace("(0.7, 0.7)", "(1.7, 0.7)")
        .replace("viewing_time_ms: 3000", "viewing_time_ms: 0")
        .replace("max_length_ms: 20000", "max_length_ms: 0");
    let path = fixture.write(&text);
    let StudyError::Invalid { problems, .. } = load_study(&path).unwrap_err() else {
        panic!("expected validation problems");
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "calibration.points",
            "calibration.validation_points[1]",
            "trials[0].dictation.max_length_ms",
            "trials[2].viewing_time_ms"
        ]
    );
    assert!(problems[0].message.contains("expected 5, 9 or 13"));
}

#[test]
fn the_bundled_demo_study_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/demo.ron");
    let loaded = load_study(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.study.trials.len() >= 8);
    assert!(
        loaded
            .image_sizes_px
            .iter()
            .all(|&(w, h)| w >= 256 && h >= 256)
    );
}

#[test]
fn bubble_view_is_opt_in_with_defaults_and_checked_values() {
    use scanscribe::study::{AttentionMode, BubbleView};
    let fixture = Fixture::new();
    let gaze = load_study(&fixture.write(GOOD)).unwrap();
    assert_eq!(gaze.study.attention, AttentionMode::Gaze, "gaze by default");

    let with = |attention: &str| {
        GOOD.replacen(
            "    image_root:",
            &format!("    {attention}\n    image_root:"),
            1,
        )
    };
    let defaults = load_study(&fixture.write(&with("attention: BubbleView(()),"))).unwrap();
    assert_eq!(
        defaults.study.attention,
        AttentionMode::BubbleView(BubbleView::default())
    );
    let set = load_study(&fixture.write(&with(
        "attention: BubbleView((bubble_radius_deg: 2.0, blur_sigma_deg: 1.0, keep_revealed: true)),",
    )))
    .unwrap();
    let bubbles = set.study.attention.bubble_view().copied().unwrap();
    assert_eq!(
        (
            bubbles.bubble_radius_deg,
            bubbles.blur_sigma_deg,
            bubbles.keep_revealed
        ),
        (2.0, 1.0, true)
    );

    let path = fixture.write(&with(
        "attention: BubbleView((bubble_radius_deg: 0.0, blur_sigma_deg: 40.0)),",
    ));
    let Err(StudyError::Invalid { problems, .. }) = load_study(&path) else {
        panic!("bad BubbleView sizes must be refused");
    };
    let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "attention.BubbleView.bubble_radius_deg",
            "attention.BubbleView.blur_sigma_deg"
        ]
    );
    assert!(problems.iter().all(|p| p.line == Some(14)), "{problems:?}");
    assert!(problems[0].message.contains("positive number of degrees"));
    assert!(
        problems[1].message.contains("quarter of the screen"),
        "{}",
        problems[1].message
    );

    let message = fixture.error_after(
        "    image_root:",
        "    attention: BubbleView((radius: 1.0)),\n    image_root:",
    );
    assert!(message.contains("radius"), "{message}");
}

#[test]
fn the_bundled_bubble_view_study_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("studies/demo-bubbleview.ron");
    let loaded = load_study(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(loaded.study.attention.bubble_view().is_some());
}
