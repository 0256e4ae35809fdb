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

use std::path::Path;
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::data::{FeatureBank, Trials, deper_inputs, partners, pk_batches, saliency_maps};
use super::{Deper, DeperConfig, STAGE1_FROZEN, STAGE2_FROZEN};
use crate::model::captioner::{Captioner, CaptionerConfig, sequence_batch};
use crate::model::checkpoint::{self, PartlyFrozen, trainable_vars};
use crate::model::error::{ModelError, Result};
use crate::model::image_encoder::ImageEncoderConfig;
use crate::model::images::ImageCache;
use crate::model::tokenizer::TextTokenizer;

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
    /// Share of base-stage sequences whose `<subj>` slot holds their own description's
    /// mean word embedding (see [`Captioner::text_slot`]); the rest keep the token's
    /// embedding, the generic mode. 0 trains the slot as a plain token, as the paper
    /// can with a large instruction-tuned model.
    pub base_slot_conditioning: f64,
    /// P subjects × K trials per DEPER batch.
    pub subjects_per_batch: usize,
    pub trials_per_subject: usize,
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
            base_slot_conditioning: 0.5,
            subjects_per_batch: 4,
            trials_per_subject: 4,
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
                        image_size: 48,
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
                base_epochs: 10,
                stage1_epochs: 20,
                stage2_epochs: 8,
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

fn train_base(
    out: &OutDir,
    train: &Trials,
    val: &Trials,
    cfg: &TrainConfig,
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let stage = Stage::Base;
    let tokenizer_path = out.0.join("checkpoints").join("tokenizer.json");
    let tokenizer = if tokenizer_path.is_file() {
        TextTokenizer::load(&tokenizer_path)?
    } else {
        let mut texts: Vec<&str> = train
            .records
            .iter()
            .map(|r| r.description.as_str())
            .collect();
        texts.push(&cfg.captioner.prompt);
        let t = TextTokenizer::train(&texts, cfg.vocab_size)?;
        t.save(&tokenizer_path)?;
        t
    };
    let mut ccfg = cfg.captioner.clone();
    ccfg.vocab_size = tokenizer.vocab_size();
    let (model, varmap) = Captioner::build(&ccfg, false, device)?;
    let store = PartlyFrozen::new(varmap, &[]);
    let mut opt = AdamW::new(trainable_vars(&store), cfg.base_lr)?;
    let start = resume(out, stage, &store, &mut opt)?;
    let mut images = ImageCache::new(ccfg.image.image_size);
    // `fill`: draws which sequences get a text slot (training); `None` for validation,
    // which measures the generic mode.
    let step = |trials: &Trials,
                batch: &[usize],
                images: &mut ImageCache,
                fill: Option<&mut ChaCha8Rng>|
     -> Result<Tensor> {
        let pixels = batch
            .iter()
            .map(|&i| images.get(&trials.image_path(i), device))
            .collect::<Result<Vec<_>>>()?;
        let texts: Vec<&str> = batch
            .iter()
            .map(|&i| trials.records[i].description.as_str())
            .collect();
        let seq = sequence_batch(&tokenizer, &ccfg.prompt, &texts, ccfg.max_positions, device)?;
        let tokens = model.encode_image(&Tensor::stack(&pixels, 0)?)?;
        let slot = match fill {
            Some(rng) if cfg.base_slot_conditioning > 0.0 => {
                let fill: Vec<bool> = batch
                    .iter()
                    .map(|_| rng.gen_bool(cfg.base_slot_conditioning.min(1.0)))
                    .collect();
                Some(model.text_slot(&seq, tokenizer.subj_id, &fill)?)
            }
            _ => None,
        };
        Ok(model.description_loss(&tokens, &seq, tokenizer.subj_id, slot.as_ref())?)
    };
    for epoch in start..cfg.base_epochs {
        let clock = Instant::now();
        let mut order: Vec<usize> = (0..train.records.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed + epoch as u64));
        let batches: Vec<&[usize]> = order.chunks(cfg.base_batch.max(1)).collect();
        let mut totals = Totals::default();
        let mut fill_rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5107 ^ epoch as u64);
        for (b, batch) in batches.iter().enumerate() {
            let loss = step(train, batch, &mut images, Some(&mut fill_rng))?;
            let value = loss.to_scalar::<f32>()?;
            opt.backward_step(&loss)?;
            totals.loss += f64::from(value);
            totals.batches += 1;
            progress(&Progress {
                stage,
                epoch,
                epochs: cfg.base_epochs,
                batch: b + 1,
                batches: batches.len(),
                loss: value,
            });
        }
        let mut val_totals = Totals::default();
        let val_order: Vec<usize> = (0..val.records.len()).collect();
        for batch in val_order.chunks(cfg.base_batch.max(1)) {
            val_totals.loss += f64::from(step(val, batch, &mut images, None)?.to_scalar::<f32>()?);
            val_totals.batches += 1;
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
    model.save(&store.varmap, &tokenizer, &out.captioner())
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

/// Stage 1 or 2 on one batch: the loss and its parts.
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
        let image_tokens = captioner.project_image_features(&inputs.image_features)?;
        let texts: Vec<&str> = batch
            .iter()
            .map(|&i| trials.records[i].description.as_str())
            .collect();
        let ccfg = &captioner.config;
        let seq = sequence_batch(tokenizer, &ccfg.prompt, &texts, ccfg.max_positions, device)?;
        let des =
            captioner.description_loss(&image_tokens, &seq, tokenizer.subj_id, Some(&subj))?;
        totals.des += f64::from(des.to_scalar::<f32>()?);
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
        DeperConfig {
            vocab_size: captioner.config.vocab_size,
            image_width: captioner.config.image.width(),
            image_tokens: captioner.config.image.tokens(),
            describer_width: captioner.config.width,
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
    let (deper, store) = Deper::build(&dcfg, frozen, device)?;
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
            let loss = deper_step(
                stage,
                &deper,
                &captioner,
                &tokenizer,
                train,
                batch,
                &batch_labels,
                &bank,
                &train_saliency,
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
            deper_step(
                stage,
                &deper,
                &captioner,
                &tokenizer,
                val,
                &batch,
                &batch_labels,
                &bank,
                &val_saliency,
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
    tokenizer.save(&out.deper().join("tokenizer.json"))
}
