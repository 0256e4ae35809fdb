//! Import of Localized Narratives (the public JSONL format) into dataset records: the
//! mouse traces go through the fixation pipeline and come out as trajectories that
//! follow where the annotator pointed.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::Path;

use scanscribe::dataset::{Split, read_records};
use scanscribe::interop::localized_narratives::{import_localized_narratives, read_objects};

const FIXTURE: &str = "tests/fixtures/localized_narratives/narratives.jsonl";

fn images(dir: &Path) {
    let image = image::RgbImage::from_pixel(640, 480, image::Rgb([120, 160, 90]));
    image.save(dir.join("000000137576.jpg")).unwrap(); // COCO: zero-padded name
    image.save(dir.join("1007129816.jpg")).unwrap(); // Flickr30k: the id itself
}

fn centre(bbox: [f32; 4]) -> [f32; 2] {
    [(bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0]
}

#[test]
fn narratives_become_valid_records_with_trajectories_where_the_mouse_dwelt() {
    let dir = tempfile::tempdir().unwrap();
    let image_dir = dir.path().join("images-in");
    std::fs::create_dir(&image_dir).unwrap();
    images(&image_dir);
    let out = dir.path().join("dataset");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let objects_path = dir.path().join("objects.json");
    std::fs::write(&objects_path, r#"{"137576": ["brown cow", "grass"]}"#).unwrap();
    let objects = read_objects(&objects_path).unwrap();
    let summary =
        import_localized_narratives(&fixture, &image_dir, &out, Some(Split::Train), &objects)
            .unwrap();
    assert_eq!(summary.records, 2);

    let records = read_records(&out.join("records.jsonl")).unwrap();
    assert_eq!(records[0].subject, "ln93");
    assert_eq!(records[0].image, "images/000000137576.jpg");
    assert!(
        records[0]
            .description
            .starts_with("In this image there are two cows")
    );
    assert_eq!(records[0].split, Some(Split::Train));
    assert_eq!(
        records[0].objects.as_deref(),
        Some(&["brown cow".to_owned(), "grass".to_owned()][..])
    );
    assert_eq!(records[1].subject, "ln12");
    if records[1].trial.as_deref() != Some("137576") {
        assert_eq!(records[1].objects, None, "an image the file does not list");
    }

    // The first annotator dwelt at (0.3, 0.6), (0.7, 0.6), (0.5, 0.15), in that order.
    let dwelt = [[0.3, 0.6], [0.7, 0.6], [0.5, 0.15]];
    let steps = &records[0].trajectory;
    assert_eq!(steps.len(), 3, "{steps:?}");
    for (step, expected) in steps.iter().zip(dwelt) {
        let [x, y] = centre(step.bbox);
        assert!(
            (x - expected[0]).abs() < 0.03 && (y - expected[1]).abs() < 0.03,
            "{step:?} vs {expected:?}"
        );
        assert!(step.duration_ms > 400.0, "{step:?}");
    }
    assert_eq!(
        records[1].trajectory.len(),
        2,
        "{:?}",
        records[1].trajectory
    );
}

#[test]
fn missing_images_and_broken_lines_are_reported_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let image_dir = dir.path().join("empty");
    std::fs::create_dir(&image_dir).unwrap();
    let input = dir.path().join("narratives.jsonl");
    let fixture =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    // Line 3: broken JSON; line 4: the first narrative with an empty caption.
    let first = fixture.lines().next().unwrap();
    let empty_caption = first.replacen(
        "\"caption\": \"In this image there are two cows",
        "\"caption\": \"  \", \"unused\": \"",
        1,
    );
    assert_ne!(empty_caption, first);
    std::fs::write(
        &input,
        format!("{fixture}{{\"image_id\": 3\n{empty_caption}\n"),
    )
    .unwrap();
    let message = import_localized_narratives(
        &input,
        &image_dir,
        &dir.path().join("out"),
        None,
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("line 1: image 137576 not found"),
        "{message}"
    );
    assert!(
        message.contains("000000137576.jpg") || message.contains("12-digit"),
        "{message}"
    );
    assert!(
        message.contains("line 3: not a Localized Narratives record"),
        "{message}"
    );
    assert!(message.contains("line 4: empty caption"), "{message}");
}

#[test]
fn a_malformed_objects_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("objects.json");
    std::fs::write(&path, "{\"1\": [\"red house\"],\n \"2\": \"tree\"}").unwrap();
    let message = read_objects(&path).unwrap_err().to_string();
    assert!(
        message.contains("objects.json") && message.contains("line 2"),
        "{message}"
    );
    assert!(message.contains("list of object labels"), "{message}");
}
