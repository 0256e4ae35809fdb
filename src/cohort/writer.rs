//! Lays a simulated cohort out on disk, the same way for every seed:
//!
//! ```text
//! OUT/
//!   README.md                      what every file holds (the text of FOLDER_README)
//!   images/scene-001.png …         448×448 RGB scenes
//!   records.jsonl                  one dataset record per (subject, image)
//!   gaze/s01/scene-001.csv …       raw binocular samples (gaze::csv format)
//!   fixations/s01/scene-001.csv …  ground-truth fixations
//!   scenes.json                    objects of each scene: labels and boxes
//!   cohort.ron                     settings, each subject's habits and style, held-out list
//! ```
//!
//! Trials are computed on all cores; each one writes its own files and the shared
//! files are written afterwards in a fixed order, so the folder is byte-identical for
//! a given seed. Owns the output layout only; the content comes from the modules
//! beside it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::Serialize;

use super::render::render_scene;
use super::scene::{Background, IMAGE_SIZE_PX, SceneObject};
use super::subject::Subject;
use super::{Cohort, CohortError, Trial};
use crate::dataset::{Split, write_records};
use crate::fixation::ImagePlacement;
use crate::study::ScreenGeometry;

/// Header of the ground-truth fixation CSV.
pub const FIXATIONS_HEADER: &str =
    "start_us,end_us,duration_ms,x,y,bbox_x0,bbox_y0,bbox_x1,bbox_y1,sample_count,object";

/// The README written into every output folder.
pub const FOLDER_README: &str = include_str!("folder_readme.md");

/// What was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteSummary {
    pub images: usize,
    pub subjects: usize,
    pub held_out_subjects: usize,
    pub trials: usize,
    pub samples: usize,
    /// Samples with neither eye valid (blinks and sporadic losses).
    pub lost_samples: usize,
    pub blinks: usize,
    pub fixations: usize,
    /// Records in the train, val and test splits.
    pub records_per_split: [usize; 3],
    pub mean_trajectory_steps: f64,
    pub mean_description_words: f64,
}

/// The number of progress units [`write_cohort`] reports: one per image, one per trial.
pub fn work_units(cohort: &Cohort) -> u64 {
    (cohort.scenes.len() * (1 + cohort.subjects.len())) as u64
}

struct TrialStats {
    record: crate::dataset::DatasetRecord,
    samples: usize,
    lost_samples: usize,
    blinks: usize,
    fixations: usize,
    words: usize,
}

/// Writes the whole cohort into `out` (created if missing); `progress` is called
/// with 1 after each image and each trial, from worker threads.
pub fn write_cohort(
    cohort: &Cohort,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<WriteSummary, CohortError> {
    let create = |dir: PathBuf| {
        std::fs::create_dir_all(&dir).map_err(|source| CohortError::Io { path: dir, source })
    };
    create(out.join("images"))?;
    for subject in &cohort.subjects {
        create(out.join("gaze").join(&subject.id))?;
        create(out.join("fixations").join(&subject.id))?;
    }

    parallel_map(cohort.scenes.len(), |i| {
        let path = out.join(format!("images/{}.png", cohort.scene_stem(i)));
        render_scene(&cohort.scenes[i])
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|source| CohortError::Image { path, source })?;
        progress(1);
        Ok(())
    })?;

    let images = cohort.scenes.len();
    let stats = parallel_map(cohort.subjects.len() * images, |k| {
        let trial = cohort.trial(k / images, k % images);
        let stats = write_trial(cohort, &trial, out)?;
        progress(1);
        Ok(stats)
    })?;

    let records: Vec<_> = stats.iter().map(|s| s.record.clone()).collect();
    write_records(&out.join("records.jsonl"), &records)?;
    write_scenes(cohort, &out.join("scenes.json"))?;
    write_cohort_description(cohort, &out.join("cohort.ron"))?;
    write_text(&out.join("README.md"), FOLDER_README)?;

    let trials = stats.len().max(1) as f64;
    let split_count = |split: Split| records.iter().filter(|r| r.split == Some(split)).count();
    Ok(WriteSummary {
        images,
        subjects: cohort.subjects.len(),
        held_out_subjects: cohort.subjects.iter().filter(|s| s.held_out).count(),
        trials: stats.len(),
        samples: stats.iter().map(|s| s.samples).sum(),
        lost_samples: stats.iter().map(|s| s.lost_samples).sum(),
        blinks: stats.iter().map(|s| s.blinks).sum(),
        fixations: stats.iter().map(|s| s.fixations).sum(),
        records_per_split: [Split::Train, Split::Val, Split::Test].map(split_count),
        mean_trajectory_steps: records.iter().map(|r| r.trajectory.len()).sum::<usize>() as f64
            / trials,
        mean_description_words: stats.iter().map(|s| s.words).sum::<usize>() as f64 / trials,
    })
}

fn write_trial(cohort: &Cohort, trial: &Trial, out: &Path) -> Result<TrialStats, CohortError> {
    let subject = &cohort.subjects[trial.subject].id;
    let stem = cohort.scene_stem(trial.scene);
    crate::gaze::csv::write_samples(
        &out.join(format!("gaze/{subject}/{stem}.csv")),
        &trial.stream.samples,
    )?;
    write_fixations(&out.join(format!("fixations/{subject}/{stem}.csv")), trial)?;
    let samples = &trial.stream.samples;
    Ok(TrialStats {
        record: cohort.record(trial),
        samples: samples.len(),
        lost_samples: samples
            .iter()
            .filter(|s| s.average_point().is_none())
            .count(),
        blinks: trial.stream.blink_count,
        fixations: trial.stream.fixations.len(),
        words: trial.description.text.split_whitespace().count(),
    })
}

/// Writes the ground-truth fixations: times in µs (system clock), duration in ms,
/// mean position and sample box display-normalized, and the index of the object in
/// `scenes.json` the subject aimed at (empty for the background and the cross).
fn write_fixations(path: &Path, trial: &Trial) -> Result<(), CohortError> {
    let mut text = String::with_capacity(64 * (trial.stream.fixations.len() + 1));
    text.push_str(FIXATIONS_HEADER);
    text.push('\n');
    for (f, object) in trial
        .stream
        .fixations
        .iter()
        .zip(&trial.stream.fixation_objects)
    {
        let [x0, y0, x1, y1] = f.bbox_display;
        let object = object.map_or(String::new(), |o| o.to_string());
        let _ = writeln!(
            text,
            "{},{},{},{},{},{x0},{y0},{x1},{y1},{},{object}",
            f.start_us,
            f.end_us,
            f.duration_ms(),
            f.position_display[0],
            f.position_display[1],
            f.sample_count,
        );
    }
    write_text(path, &text)
}

fn write_text(path: &Path, text: &str) -> Result<(), CohortError> {
    let io = |source| CohortError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

#[derive(Serialize)]
struct ScenesFile<'a> {
    seed: u64,
    image_size_px: [u32; 2],
    scenes: Vec<SceneEntry<'a>>,
}

#[derive(Serialize)]
struct SceneEntry<'a> {
    image: String,
    /// Split of the image for subjects that are not held out.
    split: Split,
    background: &'a Background,
    objects: &'a [SceneObject],
}

fn write_scenes(cohort: &Cohort, path: &Path) -> Result<(), CohortError> {
    let file = ScenesFile {
        seed: cohort.config.seed,
        image_size_px: [IMAGE_SIZE_PX, IMAGE_SIZE_PX],
        scenes: cohort
            .scenes
            .iter()
            .enumerate()
            .map(|(i, scene)| SceneEntry {
                image: format!("images/{}.png", cohort.scene_stem(i)),
                split: cohort.image_splits[i],
                background: &scene.background,
                objects: &scene.objects,
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| CohortError::Serialize {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_text(path, &(text + "\n"))
}

#[derive(Serialize)]
struct CohortFile<'a> {
    seed: u64,
    rate_hz: f64,
    screen: ScreenGeometry,
    image_placement: ImagePlacement,
    images: usize,
    /// The cap on objects named per description (`simulate --max-mentions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    max_mentions: Option<usize>,
    held_out: Vec<&'a str>,
    subjects: &'a [Subject],
}

fn write_cohort_description(cohort: &Cohort, path: &Path) -> Result<(), CohortError> {
    let file = CohortFile {
        seed: cohort.config.seed,
        rate_hz: cohort.config.rate_hz,
        screen: cohort.config.screen,
        image_placement: cohort.placement,
        images: cohort.scenes.len(),
        max_mentions: cohort.config.max_mentions,
        held_out: cohort
            .subjects
            .iter()
            .filter(|s| s.held_out)
            .map(|s| s.id.as_str())
            .collect(),
        subjects: &cohort.subjects,
    };
    let header = "// The simulated cohort written by `scanscribe simulate`: its settings and each\n\
                  // subject's viewing habits and linguistic style (see src/cohort/subject.rs).\n";
    let text =
        ron::ser::to_string_pretty(&file, ron::ser::PrettyConfig::default()).map_err(|e| {
            CohortError::Serialize {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
    write_text(path, &format!("{header}{text}\n"))
}

/// Runs `f` on `0..count` on all cores, returning results in index order; stops at
/// the first error.
fn parallel_map<T: Send>(
    count: usize,
    f: impl Fn(usize) -> Result<T, CohortError> + Sync,
) -> Result<Vec<T>, CohortError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count.max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let per_worker: Vec<Result<Vec<(usize, T)>, CohortError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count || failed.load(Ordering::Relaxed) {
                            return Ok(done);
                        }
                        match f(i) {
                            Ok(value) => done.push((i, value)),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(count);
    for result in per_worker {
        all.extend(result?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, value)| value).collect())
}
