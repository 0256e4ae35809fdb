//! Real recorded sessions for the replay tests: a two-trial study of the bundled demo
//! scenes, recorded headless by simulated cohort subjects (sped up), analysed as
//! `scanscribe record` does.

#![allow(dead_code)] // each test file uses a different part

use std::path::{Path, PathBuf};

use scanscribe::cohort::DEMO_SEED;
use scanscribe::gaze::clock::SessionClock;
use scanscribe::session::analysis::analyze_trial;
use scanscribe::session::runner::{Runner, RunnerOptions};
use scanscribe::session::simulated_subject::SimulatedParticipant;
use scanscribe::study::load_study;

/// A study folder with two demo scenes, and a sessions folder beside it.
pub struct Recorded {
    pub dir: tempfile::TempDir,
    pub study: PathBuf,
}

impl Recorded {
    /// Writes the study (id `study_id`) into a new temporary folder.
    pub fn new(study_id: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
        for scene in ["scene-01.png", "scene-02.png"] {
            std::fs::copy(demo.join(scene), images.join(scene)).unwrap();
        }
        let study = dir.path().join("study.ron");
        std::fs::write(
            &study,
            format!(
                r#"Study(id: "{study_id}", title: "Replay test", instructions: "Look.",
    screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
    gaze_source: Simulated,
    image_root: "images",
    trials: [
        (id: "scene-01", image: "scene-01.png", viewing_time_ms: 3000, fixation_cross_ms: 100, dictation: (max_length_ms: 5000)),
        (id: "scene-02", image: "scene-02.png", viewing_time_ms: 3000, fixation_cross_ms: 100, dictation: (max_length_ms: 5000)),
    ])"#
            ),
        )
        .unwrap();
        Self { dir, study }
    }

    pub fn sessions_root(&self) -> PathBuf {
        self.dir.path().join("sessions")
    }

    /// Records cohort subject `cohort_index` (0-based) as `code`; returns the session folder.
    pub fn record(&self, code: &str, cohort_index: usize) -> PathBuf {
        let study = load_study(&self.study).unwrap();
        let clock = SessionClock::sped_up(30.0);
        let participant =
            SimulatedParticipant::new(&study, DEMO_SEED, cohort_index, 300.0, clock).unwrap();
        let mut source = participant.gaze_source();
        let mut subject = participant.subject(&study, None);
        let options = RunnerOptions {
            sessions_root: self.sessions_root(),
            sync_to_disk: false,
            clock,
            ..RunnerOptions::default()
        };
        let runner = Runner::start(&study, code, &mut source, options).unwrap();
        let root = runner.folder().root().to_path_buf();
        let screen = study.study.screen;
        runner
            .run(
                &mut subject,
                &mut |trial| analyze_trial(trial, &study, &screen),
                &mut |_| {},
            )
            .unwrap();
        root
    }
}

/// A session written directly, sample by sample, with no timing jitter: `subject`
/// looks at `points` (image-normalized on `scene-01`, each for `dwell_ms`) at 300 Hz
/// with a small deterministic tremor. The same inputs give the same files, so image
/// snapshots of it are stable.
pub fn synthetic_session(
    recorded: &Recorded,
    subject: &str,
    points: &[([f32; 2], u32)],
    description: &str,
) -> PathBuf {
    use scanscribe::fixation::ImagePlacement;
    use scanscribe::gaze::{DeviceInfo, GazeSample};
    use scanscribe::session::SessionFolder;
    use scanscribe::session::SessionStatus;
    use scanscribe::session::analysis::placement_of;
    use scanscribe::session::chunks::ChunkWriter;
    use scanscribe::session::events::{Event, EventKind, EventLog};
    use scanscribe::session::folder::{EVENTS_FILE, GAZE_FILE};

    let study = load_study(&recorded.study).unwrap();
    let start_us = 1_000_000_000;
    let mut folder = SessionFolder::create(
        &recorded.sessions_root(),
        &study,
        subject,
        DeviceInfo::default(),
        300.0,
        start_us,
    )
    .unwrap();
    let index = folder
        .meta()
        .trials
        .iter()
        .position(|t| t.id == "scene-01")
        .unwrap();
    let dir = folder.start_trial(index, start_us).unwrap();
    let placement: ImagePlacement = placement_of(&study.study.screen, study.image_sizes_px[0]);
    let mut log = EventLog::open(&folder.root().join(EVENTS_FILE)).unwrap();
    let event = |time_us, kind| Event {
        time_us,
        trial: Some("scene-01".to_owned()),
        kind,
    };
    let on_us = start_us + 100_000;
    log.append(&event(
        on_us,
        EventKind::StimulusOn {
            image: "scene-01.png".into(),
        },
    ))
    .unwrap();
    let mut chunks = ChunkWriter::open(&dir.join(GAZE_FILE), false).unwrap();
    let period_us = 1_000_000 / 300;
    let mut t_us = on_us;
    for (n, (point, dwell_ms)) in points.iter().enumerate() {
        let end_us = t_us + i64::from(*dwell_ms) * 1000;
        let mut k = 0_i64;
        while t_us < end_us {
            let tremor = ((k * 7 + n as i64 * 3) % 5) as f32 * 0.0004 - 0.0008;
            let display = placement.display_from_image([point[0] + tremor, point[1] - tremor]);
            chunks.push(&GazeSample::binocular(t_us, display));
            t_us += period_us;
            k += 1;
        }
    }
    chunks.flush().unwrap();
    log.append(&event(t_us, EventKind::StimulusOff)).unwrap();
    std::fs::write(
        dir.join("description.json"),
        serde_json::json!({"text": description, "source": "typed"}).to_string(),
    )
    .unwrap();
    folder.finish_trial(index, t_us).unwrap();
    let root = folder.root().to_path_buf();
    folder.close(SessionStatus::Complete).unwrap();
    root
}
