//! Training, in three stages that each write a model folder under `out/`:
//! - **base**: tokenizer + built-in captioner on all training descriptions, no subject
//!   information (`<subj>` keeps its own embedding) → `out/captioner/`;
//! - **stage 1**: DEPER with `L = λ·L_con + L_traj + L_cls`, captioner frozen (its
//!   image encoder gives `V`) → `out/deper/`;
//! - **stage 2**: dual-context encoder frozen, extractor + adapter trained with
//!   `L = L_des + λ·L_con + L_cls`, `L_des` the frozen captioner's cross-entropy on the
//!   target description conditioned on `z_s` of a *different* trial of the same subject.
//!
//! Each epoch ends with a checkpoint (weights, AdamW state, epochs done) in
//! `out/checkpoints/` and a row in `out/train_log.csv`; a rerun resumes where it
//! stopped and skips finished stages. Batches are seeded (ChaCha8, seed + epoch).

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{FeatureBank, Trials, deper_inputs, partners, pk_batches, saliency_maps};
use super::{Deper, DeperConfig, STAGE1_FROZEN, STAGE2_FROZEN};
use crate::model::captioner::{Captioner, CaptionerConfig, sequence_batch};
use crate::model::checkpoint::{self, trainable_vars};
use crate::model::error::{ModelError, Result};
use crate::model::image_encoder::ImageEncoderConfig;
use crate::model::qwen2vl::loader::read_model_config;
use crate::model::qwen2vl::memory::check_fits;
use crate::model::qwen2vl::stage2::{QwenTarget, Stage2Memory};
use crate::model::tokenizer::TextTokenizer;
use crate::model::vlm::{VlmChoice, VlmRecord, load_qwen};

use super::base_stage::train_base;
use super::optim::AdamW;
pub use super::run_state::{OutDir, Stage, Totals};
use super::run_state::{log_epoch, resume, save_checkpoint};

/// Everything a training run depends on; written to `out/train_config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub seed: u64,
    /// Upper bound of the BPE vocabulary.
    pub vocab_size: usize,
    pub captioner: CaptionerConfig,
    /// Sizes and ablation switches; vocabulary, image and subject fields are filled in.
    pub deper: DeperConfig,
    pub base_epochs: usize,
    pub stage1_epochs: usize,
    pub stage2_epochs: usize,
    pub base_lr: f64,
    /// AdamW learning rate of stages 1 and 2 (paper: 1e-4).
    pub lr: f64,
    pub base_batch: usize,
    /// Share of base-stage sequences whose `<subj>` slot holds a style exemplar: the
    /// mean word embedding of [`STYLE_EXEMPLARS`] other descriptions by the same
    /// subject, of other images (see [`Captioner::text_slot`]); the rest keep the
    /// token's own embedding, the generic mode. This teaches the compact captioner to
    /// read its slot as "say it like this", which the paper's instruction-tuned VLM
    /// brings along; 0 trains the slot as a plain token (ARCHITECTURE.md, DEPER).
    pub base_style_exemplars: f64,
    /// Most content words the base stage's auxiliary loss predicts from the image
    /// (see [`crate::model::content_words`]).
    pub base_content_words: usize,
    /// Weight of that loss beside the description loss; 0 turns it off.
    pub base_content_weight: f64,
    /// Stage 2 with the built-in captioner: weight of the slot-alignment term, the
    /// mean squared distance between the adapter's output and the style exemplar of
    /// the trial `z_s` came from (its description's mean word embedding, the space
    /// the base stage taught the captioner to read). `L_des` alone drives the adapter
    /// to large vectors the frozen captioner barely follows; 0 turns the term off.
    pub slot_alignment: f64,
    /// P subjects × K trials per DEPER batch.
    pub subjects_per_batch: usize,
    pub trials_per_subject: usize,
    /// The description model stage 2 trains the adapter for (base and stage 1 are
    /// the same either way: DEPER reads the built-in captioner's image features).
    pub vlm: VlmChoice,
    /// The Hugging Face Qwen2-VL folder with `vlm: Qwen2Vl`.
    pub vlm_path: Option<PathBuf>,
    /// Micro-batches and layer recomputation of stage 2 through Qwen2-VL: how the
    /// step is computed, not what it computes, so not part of a saved recipe.
    #[serde(skip)]
    pub qwen_memory: Stage2Memory,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 7,
            vocab_size: 1000,
            captioner: CaptionerConfig::default(),
            deper: DeperConfig::default(),
            base_epochs: 20,
            stage1_epochs: 30,
            stage2_epochs: 10,
            base_lr: 1e-3,
            lr: 1e-4,
            base_batch: 16,
            base_style_exemplars: 0.5,
            base_content_words: 96,
            base_content_weight: 1.0,
            slot_alignment: 1.0,
            subjects_per_batch: 4,
            trials_per_subject: 4,
            vlm: VlmChoice::Builtin,
            vlm_path: None,
            qwen_memory: Stage2Memory::default(),
        }
    }
}

impl TrainConfig {
    /// Model sizes and schedules by name: `paper` (DEPER 384 wide, 4 layers, 6 heads,
    /// lr 1e-4), `small` (a CPU demo: minutes on 2 cores), `tiny` (tests, seconds). The
    /// small presets use lr 1e-3 or more: with a few hundred steps, 1e-4 barely moves.
    pub fn preset(name: &str) -> Option<Self> {
        let base = Self::default();
        Some(match name {
            "paper" => base,
            "small" => Self {
                vocab_size: 400,
                captioner: CaptionerConfig {
                    width: 128,
                    layers: 2,
                    heads: 4,
                    max_positions: 64,
                    image: ImageEncoderConfig {
                        image_size: 64,
                        channels: vec![16, 32, 64],
                    },
                    ..CaptionerConfig::default()
                },
                deper: DeperConfig {
                    hidden: 96,
                    layers: 2,
                    heads: 4,
                    decoder_blocks: 1,
                    trajectory_slots: 16,
                    max_text_tokens: 48,
                    ..DeperConfig::default()
                },
                base_epochs: 15,
                stage1_epochs: 30,
                stage2_epochs: 15,
                base_lr: 2e-3,
                lr: 1e-3,
                ..base
            },
            "tiny" => Self {
                vocab_size: 120,
                captioner: CaptionerConfig {
                    width: 32,
                    layers: 1,
                    heads: 2,
                    max_positions: 48,
                    image: ImageEncoderConfig {
                        image_size: 24,
                        channels: vec![8, 16],
                    },
                    ..CaptionerConfig::default()
                },
                deper: DeperConfig {
                    hidden: 32,
                    layers: 1,
                    heads: 2,
                    decoder_blocks: 1,
                    trajectory_slots: 8,
                    max_text_tokens: 32,
                    ..DeperConfig::default()
                },
                base_epochs: 3,
                stage1_epochs: 10,
                stage2_epochs: 1,
                base_lr: 3e-3,
                lr: 3e-3,
                ..base
            },
            _ => return None,
        })
    }
}

/// Where a running stage is, for progress bars.
#[derive(Debug, Clone)]
pub struct Progress {
    pub stage: Stage,
    pub epoch: usize,
    pub epochs: usize,
    pub batch: usize,
    pub batches: usize,
    pub loss: f32,
}

/// The training records (split `train` or none) and validation records (`val`).
pub fn split_trials(root: &Path, records: &[crate::dataset::DatasetRecord]) -> (Trials, Trials) {
    use crate::dataset::Split;
    let pick = |want: &dyn Fn(Option<Split>) -> bool| Trials {
        root: root.to_path_buf(),
        records: records.iter().filter(|r| want(r.split)).cloned().collect(),
    };
    (
        pick(&|s| matches!(s, None | Some(Split::Train))),
        pick(&|s| s == Some(Split::Val)),
    )
}

/// Runs one stage (resuming or skipping it if a checkpoint says so).
pub fn run_stage(
    out: &OutDir,
    stage: Stage,
    train: &Trials,
    val: &Trials,
    cfg: &TrainConfig,
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    std::fs::create_dir_all(out.0.join("checkpoints")).map_err(ModelError::io(&out.0))?;
    let config_path = out.0.join("train_config.json");
    if config_path.is_file() {
        let before: TrainConfig = checkpoint::read_config(&config_path)?;
        let schedule_free = |c: &TrainConfig| TrainConfig {
            base_epochs: 0,
            stage1_epochs: 0,
            stage2_epochs: 0,
            ..c.clone()
        };
        if schedule_free(&before) != schedule_free(cfg) {
            return Err(ModelError::Config {
                path: config_path,
                message: "this folder was trained with another configuration (sizes, ablation, seed or \
                          learning rates); only the epoch counts may change when resuming: use a new output folder"
                    .into(),
            });
        }
    }
    checkpoint::write_config(cfg, &config_path)?;
    if train.records.is_empty() {
        return Err(ModelError::Data(
            "no training records (split `train` or none)".into(),
        ));
    }
    match stage {
        Stage::Base => train_base(out, train, val, cfg, device, progress),
        Stage::One | Stage::Two => train_deper(out, stage, train, val, cfg, device, progress),
    }
}

/// Class index of each record's subject among `subjects` (`None` for unknown subjects).
fn labels(trials: &Trials, subjects: &[String]) -> Vec<Option<u32>> {
    trials
        .records
        .iter()
        .map(|r| {
            subjects
                .iter()
                .position(|s| *s == r.subject)
                .map(|p| p as u32)
        })
        .collect()
}

/// Stage 1 or 2 on one batch: the loss and its parts (the built-in captioner's `L_des`).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn deper_step(
    stage: Stage,
    deper: &Deper,
    captioner: &Captioner,
    tokenizer: &TextTokenizer,
    trials: &Trials,
    batch: &[usize],
    batch_labels: &[u32],
    bank: &FeatureBank,
    saliency: &[Vec<f32>],
    device: &Device,
    totals: &mut Totals,
) -> Result<Tensor> {
    deper_step_with(
        stage,
        deper,
        captioner,
        None,
        tokenizer,
        trials,
        batch,
        batch_labels,
        bank,
        saliency,
        0.0,
        device,
        totals,
    )
}

/// [`deper_step`] with `L_des` through Qwen2-VL when `qwen` is given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn deper_step_with(
    stage: Stage,
    deper: &Deper,
    captioner: &Captioner,
    qwen: Option<&QwenTarget>,
    tokenizer: &TextTokenizer,
    trials: &Trials,
    batch: &[usize],
    batch_labels: &[u32],
    bank: &FeatureBank,
    saliency: &[Vec<f32>],
    slot_alignment: f64,
    device: &Device,
    totals: &mut Totals,
) -> Result<Tensor> {
    let inputs = deper_inputs(
        trials,
        batch,
        bank,
        tokenizer,
        Some(saliency),
        &deper.config,
        device,
    )?;
    let loss = if stage == Stage::One {
        let l = deper.stage1_loss(&inputs, batch_labels)?;
        totals.con += f64::from(l.con);
        totals.traj += f64::from(l.traj);
        totals.cls += f64::from(l.cls);
        totals.correct += l.correct;
        l.total
    } else {
        let (_, z_s) = deper.subject_embedding(&inputs)?;
        let (disc, con, cls, correct) = deper.discriminative_loss(&z_s, batch_labels)?;
        let partner_index: Vec<u32> = partners(batch_labels)
            .into_iter()
            .map(|j| j as u32)
            .collect();
        let partner_index = Tensor::new(partner_index.as_slice(), device)?;
        let subj = deper.adapt(&z_s.index_select(&partner_index, 0)?)?;
        let texts: Vec<&str> = batch
            .iter()
            .map(|&i| trials.records[i].description.as_str())
            .collect();
        let des = if let Some(qwen) = qwen {
            let paths: Vec<PathBuf> = batch.iter().map(|&i| trials.image_path(i)).collect();
            qwen.description_loss(&paths, &texts, &subj)?
        } else {
            let image_tokens = captioner.project_image_features(&inputs.image_features)?;
            let ccfg = &captioner.config;
            let seq = sequence_batch(tokenizer, &ccfg.prompt, &texts, ccfg.max_positions, device)?;
            let des =
                captioner.description_loss(&image_tokens, &seq, tokenizer.subj_id, Some(&subj))?;
            if slot_alignment > 0.0 {
                let partner_texts: Vec<&str> = partners(batch_labels)
                    .into_iter()
                    .map(|j| texts[j])
                    .collect();
                let partner_seq = sequence_batch(
                    tokenizer,
                    &ccfg.prompt,
                    &partner_texts,
                    ccfg.max_positions,
                    device,
                )?;
                let all = vec![true; partner_texts.len()];
                let exemplar = captioner
                    .text_slot(&partner_seq, tokenizer.subj_id, &all)?
                    .detach();
                let align = (&subj - &exemplar)?.sqr()?.mean_all()?;
                totals.des += f64::from(des.to_scalar::<f32>()?);
                (des + (align * slot_alignment)?)?
            } else {
                totals.des += f64::from(des.to_scalar::<f32>()?);
                des
            }
        };
        if qwen.is_some() {
            totals.des += f64::from(des.to_scalar::<f32>()?);
        }
        totals.con += f64::from(con);
        totals.cls += f64::from(cls);
        totals.correct += correct;
        (des + disc)?
    };
    totals.loss += f64::from(loss.to_scalar::<f32>()?);
    totals.trials += batch.len();
    totals.batches += 1;
    Ok(loss)
}

fn train_deper(
    out: &OutDir,
    stage: Stage,
    train: &Trials,
    val: &Trials,
    cfg: &TrainConfig,
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let (captioner, tokenizer, _) = Captioner::load(&out.captioner(), true, device)?;
    let dcfg = if stage == Stage::One {
        let mut subjects: Vec<String> = train.records.iter().map(|r| r.subject.clone()).collect();
        subjects.sort();
        subjects.dedup();
        let describer_width = match cfg.vlm {
            VlmChoice::Builtin => captioner.config.width,
            VlmChoice::Qwen2Vl => {
                let dir = cfg.vlm_path.as_deref().ok_or_else(|| {
                    ModelError::Data("--vlm qwen2-vl needs --vlm-path DIR".into())
                })?;
                read_model_config(dir)?.text.hidden_size
            }
        };
        DeperConfig {
            vocab_size: captioner.config.vocab_size,
            image_width: captioner.config.image.width(),
            image_tokens: captioner.config.image.tokens(),
            describer_width,
            subjects,
            ..cfg.deper.clone()
        }
    } else {
        checkpoint::read_config(&out.deper().join("config.json"))?
    };
    let frozen = if stage == Stage::One {
        STAGE1_FROZEN
    } else {
        STAGE2_FROZEN
    };
    // The default seed keeps the starting weights every earlier model had; another
    // seed also starts from other weights, not only other batches.
    let init_seed = cfg.seed.wrapping_sub(TrainConfig::default().seed);
    let (deper, store) = Deper::build_seeded(&dcfg, frozen, init_seed, device)?;
    if stage == Stage::Two {
        checkpoint::load_into(
            &store.varmap,
            &out.checkpoint(Stage::One, "weights.safetensors"),
        )?;
    }
    let mut opt = AdamW::new(trainable_vars(&store), cfg.lr)?;
    let start = resume(out, stage, &store, &mut opt)?;
    let epochs = if stage == Stage::One {
        cfg.stage1_epochs
    } else {
        cfg.stage2_epochs
    };

    let mut bank = FeatureBank::default();
    bank.add(train, &captioner, device)?;
    bank.add(val, &captioner, device)?;
    let qwen = match (stage, cfg.vlm) {
        (Stage::Two, VlmChoice::Qwen2Vl) => {
            let mut target = QwenTarget::new(load_qwen(cfg.vlm_path.as_deref(), None, device)?);
            for trials in [train, val] {
                let paths: Vec<PathBuf> = (0..trials.records.len())
                    .map(|i| trials.image_path(i))
                    .collect();
                target.add_images(&paths, device)?;
            }
            target.memory = cfg.qwen_memory;
            let estimate = check_fits(
                &target,
                cfg.subjects_per_batch * cfg.trials_per_subject,
                device,
            )?;
            tracing::info!(
                "stage 2 through Qwen2-VL: estimated peak memory {estimate}; micro-batch {}, layer recomputation {}",
                target.memory.micro_batch,
                if target.memory.checkpoint_layers {
                    "on"
                } else {
                    "off"
                }
            );
            Some(target)
        }
        _ => None,
    };
    let grid = dcfg.saliency_grid;
    let (train_saliency, val_saliency) = (
        saliency_maps(&train.records, grid),
        saliency_maps(&val.records, grid),
    );
    let train_labels = labels(train, &dcfg.subjects);
    let val_labels = labels(val, &dcfg.subjects);
    // Unknown subjects (absent from training) get labels past the classes: excluded below.
    let known =
        |l: &[Option<u32>]| -> Vec<u32> { l.iter().map(|x| x.unwrap_or(u32::MAX)).collect() };
    let (train_known, val_known) = (known(&train_labels), known(&val_labels));
    let (p, k) = (cfg.subjects_per_batch, cfg.trials_per_subject);
    for epoch in start..epochs {
        let clock = Instant::now();
        let mut rng =
            ChaCha8Rng::seed_from_u64(cfg.seed + 1000 * (stage as u64 + 1) + epoch as u64);
        let batches: Vec<Vec<usize>> = pk_batches(&train_known, p, k, &mut rng)
            .into_iter()
            .map(|b| {
                b.into_iter()
                    .filter(|&i| train_known[i] != u32::MAX)
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut totals = Totals::default();
        for (b, batch) in batches.iter().enumerate() {
            let batch_labels: Vec<u32> = batch.iter().map(|&i| train_known[i]).collect();
            let loss = deper_step_with(
                stage,
                &deper,
                &captioner,
                qwen.as_ref(),
                &tokenizer,
                train,
                batch,
                &batch_labels,
                &bank,
                &train_saliency,
                cfg.slot_alignment,
                device,
                &mut totals,
            )?;
            opt.backward_step(&loss)?;
            progress(&Progress {
                stage,
                epoch,
                epochs,
                batch: b + 1,
                batches: batches.len(),
                loss: (totals.loss / totals.batches as f64) as f32,
            });
        }
        let mut val_totals = Totals::default();
        let mut val_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        for batch in pk_batches(&val_known, p, k, &mut val_rng) {
            let batch: Vec<usize> = batch
                .into_iter()
                .filter(|&i| val_known[i] != u32::MAX)
                .collect();
            let batch_labels: Vec<u32> = batch.iter().map(|&i| val_known[i]).collect();
            if batch.is_empty() {
                continue;
            }
            deper_step_with(
                stage,
                &deper,
                &captioner,
                qwen.as_ref(),
                &tokenizer,
                val,
                &batch,
                &batch_labels,
                &bank,
                &val_saliency,
                cfg.slot_alignment,
                device,
                &mut val_totals,
            )?;
        }
        save_checkpoint(out, stage, &store, &opt, epoch + 1)?;
        log_epoch(
            out,
            stage,
            epoch,
            &totals,
            &val_totals,
            clock.elapsed().as_secs_f64(),
        )?;
    }
    deper.save(&store.varmap, &out.deper())?;
    VlmRecord {
        vlm: cfg.vlm,
        path: cfg.vlm_path.clone(),
    }
    .write(&out.0)?;
    tokenizer.save(&out.deper().join("tokenizer.json"))
}
