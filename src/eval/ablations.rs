//! Training the ablation models of the result tables, cached beside the main model.
//!
//! An ablation model is `MODEL/ablations/NAME/`: a copy of the main model's captioner
//! (the frozen description model is the same for every row, so the base stage is not
//! repeated) and a DEPER trained by stages 1 and 2 with the main model's
//! `train_config.json`, only the ablation switches changed, on the same records. A
//! finished folder is reused; an interrupted one resumes from its checkpoints.

use std::path::Path;

use candle_core::Device;

use super::EvalError;
use super::methods::{ablation_dir, is_trained};
use crate::dataset::DatasetRecord;
use crate::model::checkpoint::read_config;
use crate::model::deper::train::{OutDir, Progress, Stage, TrainConfig, run_stage, split_trials};
use crate::model::deper::{Ablation, DeperConfig};

/// Trains (or finds cached) the ablation `name` of the model in `model_dir` on
/// `records` (image paths relative to `root`). Returns true when it trained.
pub fn train_ablation(
    model_dir: &Path,
    name: &str,
    root: &Path,
    records: &[DatasetRecord],
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool, EvalError> {
    let ablation = Ablation::named(name)
        .ok_or_else(|| EvalError::Usage(format!("unknown ablation `{name}`")))?;
    let out = ablation_dir(model_dir, name);
    train_variant(model_dir, &out, root, records, device, progress, |cfg| {
        cfg.deper.ablation = ablation;
    })
}

/// Trains (or finds cached) in `out` a variant of the model in `model_dir`: its
/// captioner copied, a DEPER trained by stages 1 and 2 with the main model's
/// `train_config.json` as `adjust` changes it, on `records`. Returns true when it
/// trained.
pub fn train_variant(
    model_dir: &Path,
    out: &Path,
    root: &Path,
    records: &[DatasetRecord],
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
    adjust: impl FnOnce(&mut TrainConfig),
) -> Result<bool, EvalError> {
    if is_trained(out) {
        return Ok(false);
    }
    let main: DeperConfig = read_config(&model_dir.join("deper").join("config.json"))?;
    let (train, val) = split_trials(root, records);
    let mut subjects: Vec<String> = train.records.iter().map(|r| r.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    if subjects != main.subjects {
        return Err(EvalError::Usage(format!(
            "{}: its training subjects ({}) are not the ones {} was trained on ({}); \
             ablations and seeds must be trained on the main model's records",
            root.display(),
            subjects.len(),
            model_dir.display(),
            main.subjects.len()
        )));
    }
    let config_path = model_dir.join("train_config.json");
    let mut cfg: TrainConfig = read_config(&config_path)?;
    adjust(&mut cfg);
    copy_dir(&model_dir.join("captioner"), &out.join("captioner"))?;
    let out = OutDir(out.to_path_buf());
    for stage in [Stage::One, Stage::Two] {
        run_stage(&out, stage, &train, &val, &cfg, device, progress)?;
    }
    Ok(true)
}

/// Copies the files of `from` (not recursive: model folders are flat) into `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<(), EvalError> {
    std::fs::create_dir_all(to).map_err(EvalError::io(to))?;
    let entries = std::fs::read_dir(from).map_err(EvalError::io(from))?;
    for entry in entries {
        let entry = entry.map_err(EvalError::io(from))?;
        let path = entry.path();
        if path.is_file() {
            let target = to.join(entry.file_name());
            std::fs::copy(&path, &target).map_err(EvalError::io(&target))?;
        }
    }
    Ok(())
}
