//! Shared helpers of the UI tests: study fixtures in temporary folders, a harness
//! around the app, and bounded waiting for background work.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::{Harness, SnapshotOptions};
use scanscribe::ui::session::protocol::SubjectScreen;
use scanscribe::ui::session::state::Stage;
use scanscribe::ui::{App, Settings, Startup};

/// Steps the harness at most this many times while waiting for a worker.
pub const MAX_WAIT_STEPS: usize = 1000;

/// A valid study with three trials of three different image shapes.
pub const VALID_STUDY: &str = r#"Study(
    id: "ui-test",
    title: "Scenes for the UI test",
    instructions: "Look at each picture, then describe it.",
    screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
    gaze_source: Simulated,
    image_root: "images",
    trials: [
        (id: "kitchen", image: "kitchen.png", viewing_time_ms: 8000, dictation: (max_length_ms: 30000)),
        (id: "street", image: "street.png", viewing_time_ms: 5000),
        (id: "park", image: "park.png", viewing_time_ms: 6500, dictation: (max_length_ms: 20000), fixation_cross_ms: 0),
    ],
    randomization: (seed: 3),
    breaks: (every_n_trials: 2, min_duration_ms: 2000),
    questionnaire: Tipi,
)
"#;

/// Same study with three problems whose messages hold no file paths: a duplicate
/// trial id, a zero viewing time and too few calibration points.
pub fn invalid_study() -> String {
    VALID_STUDY
        .replace(r#"(id: "street""#, r#"(id: "kitchen""#)
        .replace("viewing_time_ms: 6500", "viewing_time_ms: 0")
        .replace(
            "gaze_source: Simulated,",
            "gaze_source: Simulated,\n    calibration: (points: 7, validation_points: [(0.5, 0.5)], max_accuracy_deg: 1.0, max_precision_rms_deg: 0.5),",
        )
}

/// A study folder with generated images.
pub struct StudyFixture {
    pub dir: tempfile::TempDir,
}

impl StudyFixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        save_scene(&images.join("kitchen.png"), 640, 480, [220, 120, 40]);
        save_scene(&images.join("street.png"), 480, 640, [60, 90, 200]);
        save_scene(&images.join("park.png"), 800, 450, [40, 170, 80]);
        Self { dir }
    }

    /// Writes `text` as the study file `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn folder_text(&self) -> String {
        self.dir.path().display().to_string()
    }
}

/// A vertical gradient of `color` with a white square: enough to tell images apart.
fn save_scene(path: &Path, width: u32, height: u32, color: [u8; 3]) {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let in_square =
            (width / 4..width / 2).contains(&x) && (height / 4..height / 2).contains(&y);
        if in_square {
            return image::Rgb([250, 250, 250]);
        }
        let shade = 0.4 + 0.6 * (y as f32 / height as f32);
        image::Rgb(color.map(|c| (f32::from(c) * shade) as u8))
    });
    image.save(path).unwrap();
}

/// A harness drawing the whole app at a desktop-like size.
pub fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 760.0))
        .with_options(snapshot_options())
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// An app opening `path` at start, with nothing remembered.
pub fn app_opening(path: &Path) -> App {
    App::new(Settings::default(), Startup::Open(path.to_path_buf()))
}

/// The one set of snapshot options of the UI tests.
pub fn snapshot_options() -> SnapshotOptions {
    SnapshotOptions::new().output_path("tests/snapshots")
}

/// Steps the app until `ready` holds (background work is done), then lets the UI
/// settle. Panics, naming `what`, after [`MAX_WAIT_STEPS`] steps.
pub fn step_until(harness: &mut Harness<'_, App>, what: &str, ready: impl Fn(&App) -> bool) {
    for _ in 0..MAX_WAIT_STEPS {
        harness.step();
        if ready(harness.state()) {
            harness.run();
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{what}: not ready after {MAX_WAIT_STEPS} steps");
}

/// Waits until the study is loaded and every thumbnail has arrived.
pub fn wait_for_overview(harness: &mut Harness<'_, App>) {
    step_until(harness, "study overview with thumbnails", |app| {
        app.state()
            .study
            .loaded()
            .is_some_and(|open| open.pending_thumbnails() == 0)
    });
}

/// Waits until the study failed to load.
pub fn wait_for_failure(harness: &mut Harness<'_, App>) {
    step_until(harness, "validation report", |app| {
        app.state().study.failure().is_some()
    });
}

/// Steps the app in real time until `ready` holds; panics naming `what` after `limit`.
pub fn wait(
    harness: &mut Harness<'_, App>,
    what: &str,
    limit: Duration,
    ready: impl Fn(&App) -> bool,
) {
    let start = Instant::now();
    while start.elapsed() < limit {
        harness.step();
        if ready(harness.state()) {
            harness.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let running = harness.state().state().session.running.as_ref();
    let seen = running.map(|r| {
        format!(
            "stage {:?}, screen {:?}, notices {:?}",
            r.stage, r.screen, r.notices
        )
    });
    if let Ok(image) = harness.render() {
        let _ = image.save(std::env::temp_dir().join("ui_session_failure.png"));
    }
    panic!("{what}: not reached in {limit:?}; {seen:?}");
}

pub fn screen_is(app: &App, wanted: fn(&SubjectScreen) -> bool) -> bool {
    app.state()
        .session
        .running
        .as_ref()
        .is_some_and(|r| wanted(&r.screen))
}

pub fn stage_is(app: &App, wanted: fn(&Stage) -> bool) -> bool {
    app.state()
        .session
        .running
        .as_ref()
        .is_some_and(|r| wanted(&r.stage))
}

/// Types `text` into the field labelled `label` (replacing what it holds).
pub fn fill(harness: &mut Harness<'_, App>, label: &str, text: &str, replace: bool) {
    harness.get_by_label(label).focus();
    harness.step();
    if replace {
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        harness.step();
    }
    harness.get_by_label(label).type_text(text);
    harness.step();
}
