//! The simulated cohort: procedural scenes and simulated subjects who look at them
//! and describe them. It is scanscribe's demo world, the material for pilots, and the
//! test bed for everything downstream (fixation filters, trajectories, DEPER).
//!
//! - [`scene`] generates labelled scenes, [`render`] paints them, [`shapes`] and
//!   [`palette`] define what can be drawn.
//! - [`subject`] draws each subject's stable viewing habits and linguistic style.
//! - [`viewing`] plans where a subject looks on a scene, [`stream`] turns the plan
//!   into raw binocular gaze samples plus ground-truth fixations, [`language`] writes
//!   what the subject says, with [`vocabulary`] for the words.
//! - [`writer`] lays a whole cohort out on disk (images, records, gaze, fixations).
//!
//! Everything is a pure function of the seed: every scene, subject and trial draws
//! from its own ChaCha8 stream derived from `(seed, stream, index)`, so results do not
//! depend on the order or the thread that computes them, and the output folder is
//! byte-identical for a given seed. Owns no UI; it uses `gaze`, `fixation`, `study`
//! and `dataset` types and changes none of them.

pub mod language;
pub mod palette;
pub mod render;
pub mod scene;
pub mod shapes;
pub mod stream;
pub mod subject;
pub mod viewing;
pub mod vocabulary;
pub mod writer;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{DatasetRecord, Split, TrajectoryStep};
use crate::fixation::{ImagePlacement, TrajectoryOptions, build_trajectory};
use crate::study::ScreenGeometry;

pub use language::{Description, Mention};
pub use scene::{IMAGE_SIZE_PX, Scene, SceneObject, generate_scene};
pub use stream::{StreamSettings, SynthesizedStream};
pub use subject::{LanguageStyle, Subject, ViewingHabits, generate_subjects};
pub use viewing::{OrderStrategy, ViewingPlan};
pub use writer::{WriteSummary, write_cohort};

/// The seed of the bundled demo images (`assets/demo/scene-01.png` … `scene-08.png`
/// are scenes 0–7 of a cohort with this seed).
pub const DEMO_SEED: u64 = 2026;
/// Number of bundled demo images.
pub const DEMO_SCENES: usize = 8;

/// Fraction of the screen height the image fills when presented.
pub const IMAGE_FRACTION_OF_SCREEN: f32 = 0.8;

pub(crate) const STREAM_SCENES: u64 = 1;
pub(crate) const STREAM_SUBJECTS: u64 = 2;
pub(crate) const STREAM_SPLITS: u64 = 3;
const STREAM_VIEWING: u64 = 4;
const STREAM_GAZE: u64 = 5;
const STREAM_LANGUAGE: u64 = 6;
const STREAM_SESSION: u64 = 7;

/// An independent seed for one random stream: SplitMix64 over the inputs.
pub(crate) fn derive_seed(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    let mut h = seed;
    for v in [stream, a, b] {
        h = h.wrapping_add(v.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

fn rng_for(seed: u64, stream: u64, a: usize, b: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(derive_seed(seed, stream, a as u64, b as u64))
}

/// Scene `index` of the cohort with `seed`.
pub fn scene_for(seed: u64, index: usize) -> Scene {
    generate_scene(&mut rng_for(seed, STREAM_SCENES, index, 0))
}

/// The scenes of the bundled demo images, in order.
pub fn demo_scenes() -> Vec<Scene> {
    (0..DEMO_SCENES).map(|i| scene_for(DEMO_SEED, i)).collect()
}

/// What to simulate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortConfig {
    pub seed: u64,
    pub subjects: usize,
    pub images: usize,
    /// Subjects kept out of training: all their records are in the test split.
    pub held_out: usize,
    /// Gaze sampling rate, Hz (60–1200).
    pub rate_hz: f64,
    pub screen: ScreenGeometry,
    /// At most this many objects named per description (`None`: each subject's own
    /// habit, 2–6). With 1 or 2, a subject's viewing habit shows fully in the gaze
    /// but only partly in the words: the trajectory carries what text cannot.
    pub max_mentions: Option<usize>,
}

impl Default for CohortConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            subjects: 24,
            images: 60,
            held_out: 4,
            rate_hz: 300.0,
            screen: ScreenGeometry::default(),
            max_mentions: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("cohort settings: {0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot write the image: {source}")]
    Image {
        path: std::path::PathBuf,
        source: image::ImageError,
    },
    #[error(transparent)]
    GazeCsv(#[from] crate::gaze::csv::GazeCsvError),
    #[error(transparent)]
    Records(#[from] crate::dataset::RecordsError),
    #[error("{path}: cannot serialize: {message}")]
    Serialize {
        path: std::path::PathBuf,
        message: String,
    },
}

/// A cohort: its scenes, subjects and image splits; trials are computed on demand.
#[derive(Debug, Clone)]
pub struct Cohort {
    pub config: CohortConfig,
    pub scenes: Vec<Scene>,
    pub subjects: Vec<Subject>,
    /// Split of each image (for subjects not held out).
    pub image_splits: Vec<Split>,
    /// Where images are shown on the screen.
    pub placement: ImagePlacement,
    /// For each subject, the position of each image in their presentation order.
    presentation_position: Vec<Vec<usize>>,
}

/// One simulated trial: a subject viewing and describing a scene.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub subject: usize,
    pub scene: usize,
    pub viewing_time_ms: f32,
    pub stream: SynthesizedStream,
    pub trajectory: Vec<TrajectoryStep>,
    pub description: Description,
}

impl Cohort {
    /// Draws the scenes, subjects and splits of a cohort.
    pub fn new(config: CohortConfig) -> Result<Self, CohortError> {
        let mut problems = Vec::new();
        if config.subjects == 0 || config.images == 0 {
            problems.push(format!(
                "expected at least one subject and one image, found {} subjects and {} images",
                config.subjects, config.images
            ));
        }
        if config.held_out >= config.subjects && config.subjects > 0 {
            problems.push(format!(
                "held_out: expected fewer held-out subjects than subjects ({}), found {}",
                config.subjects, config.held_out
            ));
        }
        if !(60.0..=1200.0).contains(&config.rate_hz) {
            problems.push(format!(
                "rate_hz: expected 60 to 1200 Hz, found {}",
                config.rate_hz
            ));
        }
        problems.extend(
            config
                .screen
                .problems()
                .into_iter()
                .map(|(f, m)| format!("{f}: {m}")),
        );
        if !problems.is_empty() {
            return Err(CohortError::Config(problems.join("; ")));
        }
        let scenes = (0..config.images)
            .map(|i| scene_for(config.seed, i))
            .collect();
        let mut subjects = generate_subjects(config.seed, config.subjects, config.held_out);
        if let Some(cap) = config.max_mentions {
            for subject in &mut subjects {
                subject.style.max_mentions = subject.style.max_mentions.min(cap.max(1));
            }
        }
        let mut order: Vec<usize> = (0..config.images).collect();
        order.shuffle(&mut rng_for(config.seed, STREAM_SPLITS, 0, 0));
        let n_train = (config.images as f64 * 0.7).round() as usize;
        let n_val = (config.images as f64 * 0.1).round() as usize;
        let mut image_splits = vec![Split::Test; config.images];
        for (rank, &image) in order.iter().enumerate() {
            if rank < n_train {
                image_splits[image] = Split::Train;
            } else if rank < n_train + n_val {
                image_splits[image] = Split::Val;
            }
        }
        let presentation_position = (0..config.subjects)
            .map(|s| {
                let mut sequence: Vec<usize> = (0..config.images).collect();
                sequence.shuffle(&mut rng_for(config.seed, STREAM_SESSION, s, 0));
                let mut position = vec![0; config.images];
                for (p, &image) in sequence.iter().enumerate() {
                    position[image] = p;
                }
                position
            })
            .collect();
        Ok(Self {
            placement: ImagePlacement::centred(
                &config.screen,
                (IMAGE_SIZE_PX, IMAGE_SIZE_PX),
                IMAGE_FRACTION_OF_SCREEN,
            ),
            config,
            scenes,
            subjects,
            image_splits,
            presentation_position,
        })
    }

    /// The file stem of an image: `scene-001`, ... (wider when there are over 999).
    pub fn scene_stem(&self, scene: usize) -> String {
        let width = self.config.images.to_string().len().max(3);
        format!("scene-{:0width$}", scene + 1)
    }

    /// The split of a subject's record of a scene.
    pub fn split_of(&self, subject: usize, scene: usize) -> Split {
        if self.subjects[subject].held_out {
            Split::Test
        } else {
            self.image_splits[scene]
        }
    }

    /// Simulates one trial. Trials are independent: any order gives the same results.
    pub fn trial(&self, subject: usize, scene: usize) -> Trial {
        let habits = &self.subjects[subject].habits;
        let scene_data = &self.scenes[scene];
        let seed = self.config.seed;
        let plan = viewing::plan_viewing(
            habits,
            scene_data,
            &mut rng_for(seed, STREAM_VIEWING, subject, scene),
        );
        // Sessions an hour apart; trials 30 s apart in the subject's presentation order.
        let position = self.presentation_position[subject][scene] as i64;
        let start_us = 1_000_000_000_000 + subject as i64 * 3_600_000_000 + position * 30_000_000;
        let settings = StreamSettings {
            rate_hz: self.config.rate_hz,
            screen: self.config.screen,
            placement: self.placement,
            start_us,
            // The tracker clock has its own epoch and runs 20 ppm fast.
            device_start_us: 86_400_000_000
                + ((start_us - 1_000_000_000_000) as f64 * 1.000_02).round() as i64,
        };
        let stream = stream::synthesize_stream(
            &plan,
            habits,
            &settings,
            &mut rng_for(seed, STREAM_GAZE, subject, scene),
        );
        let trajectory = build_trajectory(
            &stream.fixations,
            &self.placement,
            &self.config.screen,
            &TrajectoryOptions::default(),
        );
        let durations: Vec<f64> = stream.fixations.iter().map(|f| f.duration_ms()).collect();
        let description = language::describe(
            &self.subjects[subject].style,
            scene_data,
            &stream.fixation_objects,
            &durations,
            &mut rng_for(seed, STREAM_LANGUAGE, subject, scene),
        );
        Trial {
            subject,
            scene,
            viewing_time_ms: plan.viewing_time_ms,
            stream,
            trajectory,
            description,
        }
    }

    /// The dataset record of a trial; `image` is relative to the output folder.
    pub fn record(&self, trial: &Trial) -> DatasetRecord {
        let stem = self.scene_stem(trial.scene);
        DatasetRecord {
            image: format!("images/{stem}.png"),
            subject: self.subjects[trial.subject].id.clone(),
            description: trial.description.text.clone(),
            trajectory: trial.trajectory.clone(),
            split: Some(self.split_of(trial.subject, trial.scene)),
            session: Some(format!("sim-{}", self.subjects[trial.subject].id)),
            trial: Some(stem),
            objects: Some(
                self.scenes[trial.scene]
                    .objects
                    .iter()
                    .map(|o| format!("{} {}", o.colour.name(), o.shape.name()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_70_10_20_by_image_and_held_out_subjects_are_test_only() {
        let cohort = Cohort::new(CohortConfig {
            subjects: 6,
            images: 60,
            held_out: 2,
            ..CohortConfig::default()
        })
        .unwrap();
        let count = |s: Split| cohort.image_splits.iter().filter(|&&x| x == s).count();
        assert_eq!(
            (count(Split::Train), count(Split::Val), count(Split::Test)),
            (42, 6, 12)
        );
        for (k, subject) in cohort.subjects.iter().enumerate() {
            for image in 0..60 {
                let split = cohort.split_of(k, image);
                if subject.held_out {
                    assert_eq!(split, Split::Test);
                } else {
                    assert_eq!(split, cohort.image_splits[image]);
                }
            }
        }
        assert_eq!(cohort.scene_stem(0), "scene-001");
    }

    #[test]
    fn a_mention_cap_limits_what_every_subject_names_and_nothing_else() {
        let config = CohortConfig {
            subjects: 6,
            images: 4,
            held_out: 0,
            ..CohortConfig::default()
        };
        let free = Cohort::new(config).unwrap();
        let capped = Cohort::new(CohortConfig {
            max_mentions: Some(2),
            ..config
        })
        .unwrap();
        assert!(capped.subjects.iter().all(|s| s.style.max_mentions <= 2));
        assert!(free.subjects.iter().any(|s| s.style.max_mentions > 2));
        for (a, b) in free.subjects.iter().zip(&capped.subjects) {
            assert_eq!(a.habits, b.habits, "viewing habits stay the subject's own");
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_field_named() {
        let error = Cohort::new(CohortConfig {
            rate_hz: 20.0,
            held_out: 30,
            ..CohortConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("rate_hz: expected 60 to 1200 Hz, found 20"),
            "{error}"
        );
        assert!(error.contains("held_out"), "{error}");
    }
}
