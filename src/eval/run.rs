//! `scanscribe eval` as a library call: checks the inputs, trains missing ablation
//! models when asked, generates every row's descriptions for both settings and
//! scores them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::Serialize;

use super::EvalError;
use super::ablations::{train_ablation, train_variant};
use super::candidates::{ImageVectors, generic, personalized, trivial};
use super::grounding::{self, object_labels};
use super::methods::{DEPER_ROWS, Method, all_methods, is_trained, model_for, trained_ablation};
use super::seeds::{SeedReport, aggregate, seed_dir};
use super::sets::{EvalSet, eval_sets};
use super::table::{
    EvalReport, NOT_TRAINED, Row, SetTable, human_hc, human_rep3, references, score_row,
};
use crate::dataset::read_records;
use crate::metrics::captions::CaptionRecord;
use crate::metrics::wordnet::Lexicon;
use crate::model::GenerateOptions;
use crate::model::checkpoint::read_config;
use crate::model::deper::data::Trials;
use crate::model::deper::enroll::TrainedModel;
use crate::model::deper::train::TrainConfig;

#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Support trials of each unseen subject.
    pub shots: usize,
    pub generate: GenerateOptions,
    /// WordNet folder (OSS).
    pub wordnet: PathBuf,
    /// Train the ablation models that are missing.
    pub train_ablations: bool,
    /// Which ablations to train (`None`: every DEPER row).
    pub only: Option<Vec<String>>,
}

/// What a long evaluation is doing, for progress bars.
#[derive(Debug, Clone)]
pub struct EvalProgress {
    pub phase: String,
    pub done: u64,
    pub total: u64,
}

/// One generated (or copied) description, for `descriptions.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct RowDescription {
    pub setting: super::sets::Setting,
    pub method: String,
    pub image: String,
    pub subject: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct EvalOutput {
    pub report: EvalReport,
    pub descriptions: Vec<RowDescription>,
}

/// The records file of `data`: the file itself, or `records.jsonl` in a folder.
pub fn records_path(data: &Path) -> Result<PathBuf, EvalError> {
    let path = if data.is_dir() {
        data.join("records.jsonl")
    } else {
        data.to_path_buf()
    };
    if !path.is_file() {
        return Err(EvalError::Usage(format!(
            "--data {}: no records file there (expected a records.jsonl file or a folder holding one)",
            path.display()
        )));
    }
    Ok(path)
}

/// Checks that `model` is a trained model folder.
pub fn check_model(model: &Path) -> Result<(), EvalError> {
    if !is_trained(model) {
        return Err(EvalError::Usage(format!(
            "--model {}: not a trained model folder (expected captioner/model.safetensors and \
             deper/model.safetensors, as `scanscribe train` writes)",
            model.display()
        )));
    }
    Ok(())
}

/// Runs the evaluation (see the module docs).
pub fn evaluate(
    model_dir: &Path,
    data: &Path,
    options: &EvalOptions,
    device: &Device,
    progress: &mut dyn FnMut(&EvalProgress),
) -> Result<EvalOutput, EvalError> {
    check_model(model_dir)?;
    let path = records_path(data)?;
    let records = read_records(&path)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let lexicon = Lexicon::load(&options.wordnet)?;
    let grounding = grounding::scorer(&object_labels(&records, &root)?, &lexicon);
    let sets = eval_sets(&records, options.shots);
    if sets.iter().all(|s| s.subjects.is_empty()) {
        return Err(EvalError::Data(format!(
            "{}: no test records of seen subjects and no unseen subject with more than {} records",
            path.display(),
            options.shots
        )));
    }
    let main_ablation = trained_ablation(model_dir)?;
    if options.train_ablations {
        let wanted: Vec<&str> = DEPER_ROWS
            .iter()
            .copied()
            .filter(|n| {
                options
                    .only
                    .as_ref()
                    .is_none_or(|o| o.iter().any(|x| x == n))
            })
            .collect();
        for name in wanted {
            if model_for(model_dir, main_ablation, name).is_some() {
                continue;
            }
            train_ablation(model_dir, name, &root, &records, device, &mut |p| {
                progress(&EvalProgress {
                    phase: format!(
                        "train {name} {} {}/{}",
                        p.stage.name(),
                        p.epoch + 1,
                        p.epochs
                    ),
                    done: p.batch as u64,
                    total: p.batches as u64,
                });
            })?;
        }
    }

    let trials = Trials {
        root,
        records: records.clone(),
    };
    let main = TrainedModel::load(model_dir, device)?;
    let vectors = ImageVectors::compute(&main.describer.model, &trials, device)?;
    let methods = all_methods();
    let model_dirs: HashMap<&str, Option<PathBuf>> = DEPER_ROWS
        .iter()
        .map(|&n| (n, model_for(model_dir, main_ablation, n)))
        .collect();
    let generated_rows = 1 + model_dirs.values().filter(|d| d.is_some()).count();
    let total: u64 = sets
        .iter()
        .map(|s| (s.query_count() * generated_rows) as u64)
        .sum();
    let mut done = 0u64;
    let refs: Vec<Vec<CaptionRecord>> = sets
        .iter()
        .map(|s| {
            let queries: Vec<usize> = s.subjects.iter().flat_map(|q| q.queries.clone()).collect();
            references(&records, &queries)
        })
        .collect();
    let mut rows: Vec<Vec<Row>> = vec![Vec::new(); sets.len()];
    let mut descriptions = Vec::new();
    let mut generic_cache = HashMap::new();
    for method in methods {
        let loaded;
        let model = match method {
            Method::Deper(name) => match &model_dirs[name] {
                Some(dir) if dir == model_dir => Some(&main),
                Some(dir) => {
                    loaded = TrainedModel::load(dir, device)?;
                    Some(&loaded)
                }
                None => None,
            },
            _ => Some(&main),
        };
        for (k, set) in sets.iter().enumerate() {
            if set.subjects.is_empty() {
                continue;
            }
            let Some(model) = model else {
                rows[k].push(Row::missing(method, NOT_TRAINED));
                continue;
            };
            let phase = format!("{} ({})", method.label(), setting_name(set));
            let mut tick = || {
                done += 1;
                progress(&EvalProgress {
                    phase: phase.clone(),
                    done,
                    total,
                });
            };
            let candidates = match method {
                Method::Generic => generic(
                    model,
                    &trials,
                    set,
                    &options.generate,
                    &mut generic_cache,
                    &mut tick,
                )?,
                Method::Trivial => trivial(&vectors, &trials, set),
                Method::Deper(_) => {
                    personalized(model, &trials, set, &options.generate, &mut tick)?
                }
            };
            rows[k].push(score_row(
                method,
                &candidates,
                &refs[k],
                &lexicon,
                &grounding,
            )?);
            descriptions.extend(candidates.into_iter().map(|c| RowDescription {
                setting: set.setting,
                method: method.key().into(),
                image: c.image,
                subject: c.subject,
                description: c.description,
            }));
        }
    }
    let tables = sets
        .iter()
        .zip(rows)
        .zip(&refs)
        .filter(|((set, _), _)| !set.subjects.is_empty())
        .map(|((set, rows), refs)| SetTable {
            setting: set.setting,
            title: set.setting.title(options.shots),
            subjects: set.subjects.len(),
            queries: set.query_count(),
            rows,
            human_hc: human_hc(refs),
            human_rep3: human_rep3(refs),
            human_grounding: grounding::human_scores(&grounding, refs),
        })
        .collect();
    Ok(EvalOutput {
        report: EvalReport {
            model: model_dir.display().to_string(),
            data: path.display().to_string(),
            shots: options.shots,
            beam_width: options.generate.beam_width,
            sets: tables,
        },
        descriptions,
    })
}

/// Evaluates the main model and `seeds − 1` more DEPER training seeds (trained and
/// cached under `MODEL/seeds/` when missing; see [`super::seeds`]), and aggregates
/// the tables into mean ± sd. Descriptions come back with their seed.
pub fn evaluate_seeds(
    model_dir: &Path,
    data: &Path,
    options: &EvalOptions,
    seeds: usize,
    device: &Device,
    progress: &mut dyn FnMut(&EvalProgress),
) -> Result<(SeedReport, Vec<(u64, RowDescription)>), EvalError> {
    check_model(model_dir)?;
    let path = records_path(data)?;
    let records = read_records(&path)?;
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let config: TrainConfig = read_config(&model_dir.join("train_config.json"))?;
    let seed_list: Vec<u64> = (0..seeds.max(1) as u64)
        .map(|k| config.seed.wrapping_add(k))
        .collect();
    let mut dirs = vec![model_dir.to_path_buf()];
    for &seed in &seed_list[1..] {
        let dir = seed_dir(model_dir, seed);
        train_variant(
            model_dir,
            &dir,
            &root,
            &records,
            device,
            &mut |p| {
                progress(&EvalProgress {
                    phase: format!(
                        "train seed {seed} {} {}/{}",
                        p.stage.name(),
                        p.epoch + 1,
                        p.epochs
                    ),
                    done: p.batch as u64,
                    total: p.batches as u64,
                });
            },
            |cfg| cfg.seed = seed,
        )?;
        dirs.push(dir);
    }
    let mut reports = Vec::new();
    let mut descriptions = Vec::new();
    for (dir, &seed) in dirs.iter().zip(&seed_list) {
        let output = evaluate(dir, data, options, device, &mut |p| {
            progress(&EvalProgress {
                phase: format!("seed {seed}: {}", p.phase),
                ..p.clone()
            });
        })?;
        reports.push(output.report);
        descriptions.extend(output.descriptions.into_iter().map(|d| (seed, d)));
    }
    Ok((aggregate(seed_list, reports), descriptions))
}

fn setting_name(set: &EvalSet) -> &'static str {
    match set.setting {
        super::sets::Setting::Seen => "seen",
        super::sets::Setting::Unseen => "unseen",
    }
}
