//! The demo model: a simulated cohort and the DEPER model trained on it, kept together
//! in one cache folder, trained once on first need, so that `scanscribe demo` and the
//! app's enrollment screen (not built yet) share one model.
//!
//! Layout of the folder (default [`default_demo_dir`]):
//! - `demo.json`: the [`DemoSpec`] it was built with and whether training finished;
//! - `data/`: the simulated cohort (`records.jsonl`, images, gaze, fixations);
//! - `model/`: the training output folder (`captioner/`, `deper/`, checkpoints, log).
//!
//! Every step resumes: an interrupted simulation is redone, an interrupted training
//! resumes from its last epoch checkpoint. This is the one place in the model module
//! that calls the cohort simulator; everything else reads dataset records.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::train::{OutDir, Progress, Stage, TrainConfig, run_stage, split_trials};
use crate::cohort::{Cohort, CohortConfig, write_cohort};
use crate::dataset::DatasetRecord;
use crate::model::error::{ModelError, Result};

/// What the demo cohort and model are made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSpec {
    /// Cohort seed.
    pub seed: u64,
    pub subjects: usize,
    /// Subjects kept out of training (all their trials are test trials): the
    /// candidates for few-shot enrollment.
    pub held_out: usize,
    /// Scenes each subject views.
    pub images: usize,
    /// Training preset (see [`TrainConfig::preset`]).
    pub preset: String,
    /// The training recipe's version ([`RECIPE`] for new demos; older files lack it
    /// and read as 0). A cache made by an older recipe is retrained.
    #[serde(default)]
    pub recipe: u32,
}

/// The version of the training recipe: 1 plain base stage, 2 style exemplars in the
/// `<subj>` slot and a longer stage 2, 3 the base stage's content-word loss.
pub const RECIPE: u32 = 3;

impl Default for DemoSpec {
    fn default() -> Self {
        Self {
            seed: 7,
            subjects: 24,
            held_out: 6,
            images: 20,
            preset: "small".into(),
            recipe: RECIPE,
        }
    }
}

/// `demo.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DemoState {
    spec: DemoSpec,
    trained: bool,
}

/// A ready demo: its cohort records and trained model folder.
#[derive(Debug, Clone)]
pub struct DemoModel {
    pub root: PathBuf,
    /// The cohort folder; record image paths are relative to it.
    pub data: PathBuf,
    /// The trained model folder (load with [`super::enroll::TrainedModel::load`]).
    pub model: PathBuf,
    pub records: Vec<DatasetRecord>,
    pub spec: DemoSpec,
}

impl DemoModel {
    /// Held-out subjects, in record order: trained without them, so they are the
    /// honest enrollment candidates.
    pub fn unseen_subjects(&self) -> Vec<String> {
        let mut seen_in_training = std::collections::BTreeSet::new();
        for r in &self.records {
            if r.split != Some(crate::dataset::Split::Test) {
                seen_in_training.insert(r.subject.as_str());
            }
        }
        let mut unseen: Vec<String> = Vec::new();
        for r in &self.records {
            if !seen_in_training.contains(r.subject.as_str()) && !unseen.contains(&r.subject) {
                unseen.push(r.subject.clone());
            }
        }
        unseen
    }
}

/// Where the demo is built: `$SCANSCRIBE_DEMO_DIR`, else
/// `$XDG_CACHE_HOME/scanscribe/demo`, else `$HOME/.cache/scanscribe/demo`, else
/// `scanscribe-demo` in the working directory.
pub fn default_demo_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("SCANSCRIBE_DEMO_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(cache) = var("XDG_CACHE_HOME") {
        return PathBuf::from(cache).join("scanscribe").join("demo");
    }
    if let Some(home) = var("HOME") {
        return PathBuf::from(home)
            .join(".cache")
            .join("scanscribe")
            .join("demo");
    }
    PathBuf::from("scanscribe-demo")
}

/// Where [`ensure_demo_model`] is.
#[derive(Debug, Clone)]
pub enum DemoProgress {
    /// Simulating the cohort (`done` of `total` subject-trials written).
    Simulating {
        done: u64,
        total: u64,
    },
    Training(Progress),
}

/// Returns the demo in `root`, simulating and training what is missing first. Cached,
/// it only reads `demo.json` and the records. A folder built with another spec is
/// refused rather than mixed; one built by an older [`RECIPE`] is retrained.
pub fn ensure_demo_model(
    root: &Path,
    spec: &DemoSpec,
    device: &Device,
    progress: &mut dyn FnMut(&DemoProgress),
) -> Result<DemoModel> {
    let cfg = TrainConfig::preset(&spec.preset).ok_or_else(|| ModelError::Config {
        path: root.join("demo.json"),
        message: format!(
            "unknown preset `{}` (expected paper, small or tiny)",
            spec.preset
        ),
    })?;
    std::fs::create_dir_all(root).map_err(ModelError::io(root))?;
    let state_path = root.join("demo.json");
    let mut state = read_state(&state_path)?.unwrap_or(DemoState {
        spec: spec.clone(),
        trained: false,
    });
    let stale = DemoSpec {
        recipe: spec.recipe,
        ..state.spec.clone()
    } == *spec
        && state.spec.recipe < spec.recipe;
    if stale {
        // Same cohort, older recipe: keep the data, train the model again.
        tracing::info!(
            "the demo model in {} was trained by an older recipe ({} < {}); retraining it",
            root.display(),
            state.spec.recipe,
            spec.recipe
        );
        let model = root.join("model");
        if model.exists() {
            std::fs::remove_dir_all(&model).map_err(ModelError::io(&model))?;
        }
        state = DemoState {
            spec: spec.clone(),
            trained: false,
        };
    }
    if state.spec != *spec {
        return Err(ModelError::Config {
            path: state_path,
            message: format!(
                "this demo folder was built with {:?}, not {spec:?}; use another folder",
                state.spec
            ),
        });
    }
    write_state(&state_path, &state)?;
    let data = root.join("data");
    let records_path = data.join("records.jsonl");
    if !records_path.is_file() {
        simulate(&data, spec, progress)?;
    }
    let records =
        crate::dataset::read_records(&records_path).map_err(|e| ModelError::Data(e.to_string()))?;
    let model = root.join("model");
    if !state.trained {
        let (train, val) = split_trials(&data, &records);
        let out = OutDir(model.clone());
        for stage in [Stage::Base, Stage::One, Stage::Two] {
            run_stage(&out, stage, &train, &val, &cfg, device, &mut |p| {
                progress(&DemoProgress::Training(p.clone()));
            })?;
        }
        state.trained = true;
        write_state(&state_path, &state)?;
    }
    Ok(DemoModel {
        root: root.to_path_buf(),
        data,
        model,
        records,
        spec: spec.clone(),
    })
}

fn simulate(data: &Path, spec: &DemoSpec, progress: &mut dyn FnMut(&DemoProgress)) -> Result<()> {
    let cohort = Cohort::new(CohortConfig {
        seed: spec.seed,
        subjects: spec.subjects,
        images: spec.images,
        held_out: spec.held_out,
        ..CohortConfig::default()
    })
    .map_err(|e| ModelError::Data(e.to_string()))?;
    let total = (spec.subjects * spec.images) as u64;
    progress(&DemoProgress::Simulating { done: 0, total });
    // The writer reports from its worker threads, which cannot call `progress`; the
    // simulation takes seconds, so start and end are reported.
    write_cohort(&cohort, data, &|_| {})
        .map_err(|e| ModelError::Data(format!("simulating the demo cohort: {e}")))?;
    progress(&DemoProgress::Simulating { done: total, total });
    Ok(())
}

fn read_state(path: &Path) -> Result<Option<DemoState>> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ModelError::Config {
                path: path.to_path_buf(),
                message: format!("not a demo state file: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn write_state(path: &Path, state: &DemoState) -> Result<()> {
    let text = serde_json::to_string_pretty(state).map_err(|e| ModelError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(ModelError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(ModelError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> DemoSpec {
        DemoSpec {
            seed: 3,
            subjects: 5,
            held_out: 2,
            images: 6,
            preset: "tiny".into(),
            recipe: RECIPE,
        }
    }

    #[test]
    fn builds_once_then_reuses_and_refuses_another_spec() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("demo");
        let mut trained_batches = 0;
        let demo = ensure_demo_model(&root, &tiny(), &Device::Cpu, &mut |p| {
            if matches!(p, DemoProgress::Training(_)) {
                trained_batches += 1;
            }
        })
        .unwrap();
        assert!(trained_batches > 0);
        assert!(demo.model.join("deper").join("model.safetensors").is_file());
        assert_eq!(demo.records.len(), 5 * 6);
        let unseen = demo.unseen_subjects();
        assert_eq!(unseen.len(), 2, "{unseen:?}");
        for subject in &unseen {
            assert!(
                demo.records
                    .iter()
                    .filter(|r| &r.subject == subject)
                    .all(|r| r.split == Some(crate::dataset::Split::Test))
            );
        }
        let log = std::fs::read_to_string(demo.model.join("train_log.csv")).unwrap();

        let mut again = 0;
        let cached = ensure_demo_model(&root, &tiny(), &Device::Cpu, &mut |_| again += 1).unwrap();
        assert_eq!(
            again, 0,
            "a finished demo is not simulated or trained again"
        );
        assert_eq!(cached.records, demo.records);
        assert_eq!(
            std::fs::read_to_string(cached.model.join("train_log.csv")).unwrap(),
            log
        );

        let other = DemoSpec {
            subjects: 6,
            ..tiny()
        };
        let err = ensure_demo_model(&root, &other, &Device::Cpu, &mut |_| {}).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("demo.json"), "{message}");
        assert!(message.contains("another folder"), "{message}");

        // A cache of an older recipe (its demo.json has no `recipe`) is retrained,
        // keeping the cohort.
        let state = std::fs::read_to_string(root.join("demo.json")).unwrap();
        let old = state.replace(&format!(",\n    \"recipe\": {RECIPE}"), "");
        assert_ne!(old, state);
        std::fs::write(root.join("demo.json"), old).unwrap();
        std::fs::write(demo.model.join("stale-marker"), "").unwrap();
        let mut trained = 0;
        let retrained = ensure_demo_model(&root, &tiny(), &Device::Cpu, &mut |p| {
            if matches!(p, DemoProgress::Training(_)) {
                trained += 1;
            }
        })
        .unwrap();
        assert!(trained > 0, "trained again");
        assert!(!retrained.model.join("stale-marker").exists());
        assert_eq!(retrained.records, demo.records);
        let state: DemoState =
            serde_json::from_str(&std::fs::read_to_string(root.join("demo.json")).unwrap())
                .unwrap();
        assert_eq!(state.spec, tiny());
        assert!(state.trained);
    }

    #[test]
    fn a_corrupt_state_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo.json"), "{ not json").unwrap();
        let err = ensure_demo_model(dir.path(), &tiny(), &Device::Cpu, &mut |_| {}).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("demo.json"), "{message}");
        assert!(message.contains("not a demo state file"), "{message}");
    }

    #[test]
    fn training_twice_gives_the_same_weights() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [&a, &b] {
            ensure_demo_model(dir.path(), &tiny(), &Device::Cpu, &mut |_| {}).unwrap();
        }
        for file in ["captioner/model.safetensors", "deper/model.safetensors"] {
            let read =
                |d: &tempfile::TempDir| std::fs::read(d.path().join("model").join(file)).unwrap();
            assert!(read(&a) == read(&b), "{file} differs between two runs");
        }
    }
}
