//! `scanscribe train`: the captioner (base stage) and DEPER (stages 1 and 2) from a
//! records file, with progress bars; resumable.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::dataset::read_records;
use crate::model::deper::Ablation;
use crate::model::deper::train::{OutDir, Progress, Stage, TrainConfig, run_stage, split_trials};
use crate::model::qwen2vl::stage2::Stage2Memory;
use crate::model::vlm::VlmChoice;
use crate::model::{DeviceChoice, pick_device};

/// Train the built-in captioner and DEPER on dataset records
///
/// Reads `records.jsonl` (split `train` or none for training, `val` for validation;
/// `test` is left for enrollment), writes `OUT/captioner/`, `OUT/deper/` (each
/// `config.json`, `model.safetensors`, `tokenizer.json`), `OUT/train_log.csv` and
/// `OUT/checkpoints/`. Rerunning continues from the last finished epoch.
///
/// Examples:
///   scanscribe train --data cohort/ --out models/demo --preset small
///   scanscribe train --data cohort/records.jsonl --out models/paper --stages 1,2 --device cuda
///   scanscribe train --data cohort/ --out models/textonly --ablation text-only --epochs 10
///   scanscribe train --data cohort/ --out models/qwen --vlm qwen2-vl --vlm-path ~/models/Qwen2-VL-2B-Instruct --device cuda
///   scanscribe train --data cohort/ --out models/qwen --vlm qwen2-vl --vlm-path DIR --stages 2 --micro-batch 2
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// A records file, or a folder holding `records.jsonl`.
    #[arg(long)]
    pub data: PathBuf,
    /// Output model folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Stages to run, in order: `base` (captioner), `1`, `2`.
    #[arg(long, default_value = "base,1,2", value_delimiter = ',')]
    pub stages: Vec<String>,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Epochs of every stage (overrides the per-stage values; at least 1).
    #[arg(long, value_parser = epochs)]
    pub epochs: Option<usize>,
    #[arg(long, value_parser = epochs)]
    pub base_epochs: Option<usize>,
    #[arg(long, value_parser = epochs)]
    pub stage1_epochs: Option<usize>,
    #[arg(long, value_parser = epochs)]
    pub stage2_epochs: Option<usize>,
    /// AdamW learning rate of stages 1 and 2 (default: the paper's 1e-4, or 1e-3 with
    /// the `tiny`/`small` presets, whose few steps need it).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// full, text-only, no-dynamics, no-reconstruction, no-contrastive, no-film, saliency.
    #[arg(long, default_value = "full")]
    pub ablation: String,
    /// Description model stage 2 trains the adapter for: builtin (the captioner of
    /// the base stage) or qwen2-vl (a frozen Hugging Face Qwen2-VL folder, --vlm-path).
    #[arg(long, default_value = "builtin")]
    pub vlm: VlmChoice,
    /// The Qwen2-VL folder (config.json, safetensors, tokenizer.json, preprocessor_config.json).
    #[arg(long)]
    pub vlm_path: Option<PathBuf>,
    /// Stage 2 through Qwen2-VL: descriptions per forward/backward pass. Gradients are
    /// accumulated over the whole batch, so this changes memory and speed, not the
    /// result. Qwen2-VL-2B with 8 needs about 6.5 GiB of GPU memory (16: 7.6 GiB; 2: 5.3
    /// GiB; measured on an H200); 1 needs the least.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub micro_batch: u64,
    /// Stage 2 through Qwen2-VL: keep every layer's graph instead of recomputing each
    /// layer in the backward pass (the unbounded reference; needs far more memory).
    #[arg(long)]
    pub no_grad_checkpoint: bool,
    /// Model sizes: `paper` (DEPER 384 wide, 4 layers, 6 heads), `small` (CPU demo), `tiny` (tests).
    #[arg(long, default_value = "paper")]
    pub preset: String,
    /// Upper bound of the BPE vocabulary (overrides the preset's).
    #[arg(long)]
    pub vocab_size: Option<usize>,
    /// Longest prompt + description the captioner reads, in tokens (overrides the
    /// preset's; small vocabularies need more tokens per description).
    #[arg(long)]
    pub max_positions: Option<usize>,
    /// Base stage: weight of the content loss, which makes the image encoder predict
    /// the words people who see the same image share (objects, colours); 0 turns it
    /// off. See ARCHITECTURE.md, "Models".
    #[arg(long, default_value_t = 1.0)]
    pub content_weight: f64,
}

/// An epoch count: a stage of 0 epochs would leave no model for the next to start from.
fn epochs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("expected at least 1 epoch (a stage that does not train leaves no model for the next; leave the stage out of --stages instead)".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("expected a whole number of epochs: {e}")),
    }
}

pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    if let Some(lr) = args.lr {
        anyhow::ensure!(
            lr.is_finite() && lr > 0.0,
            "--lr: expected a positive learning rate (e.g. 1e-4), found {lr}"
        );
    }
    let records_path = if args.data.is_dir() {
        args.data.join("records.jsonl")
    } else {
        args.data.clone()
    };
    let records = read_records(&records_path)?;
    let root = records_path.parent().map(PathBuf::from).unwrap_or_default();
    let (train, val) = split_trials(&root, &records);
    let mut cfg = TrainConfig::preset(&args.preset).with_context(|| {
        format!(
            "--preset: expected paper, small or tiny, found `{}`",
            args.preset
        )
    })?;
    cfg.seed = args.seed;
    cfg.deper.ablation = Ablation::named(&args.ablation).with_context(|| {
        format!(
            "--ablation: expected full, text-only, no-dynamics, no-reconstruction, no-contrastive, no-film or saliency, found `{}`",
            args.ablation
        )
    })?;
    for (value, slot) in [
        (args.base_epochs.or(args.epochs), &mut cfg.base_epochs),
        (args.stage1_epochs.or(args.epochs), &mut cfg.stage1_epochs),
        (args.stage2_epochs.or(args.epochs), &mut cfg.stage2_epochs),
    ] {
        if let Some(v) = value {
            *slot = v;
        }
    }
    if let Some(lr) = args.lr {
        cfg.lr = lr;
    }
    anyhow::ensure!(
        args.content_weight.is_finite() && args.content_weight >= 0.0,
        "--content-weight: expected a weight of 0 or more, found {}",
        args.content_weight
    );
    cfg.base_content_weight = args.content_weight;
    if args.vlm == VlmChoice::Qwen2Vl && args.vlm_path.is_none() {
        anyhow::bail!("--vlm qwen2-vl needs --vlm-path DIR (a Hugging Face Qwen2-VL folder)");
    }
    cfg.vlm = args.vlm;
    cfg.vlm_path = args.vlm_path.clone();
    cfg.qwen_memory = Stage2Memory {
        micro_batch: usize::try_from(args.micro_batch).unwrap_or(usize::MAX),
        checkpoint_layers: !args.no_grad_checkpoint,
    };
    if let Some(v) = args.vocab_size {
        cfg.vocab_size = v;
    }
    if let Some(p) = args.max_positions {
        cfg.captioner.max_positions = p;
    }
    let stages = args
        .stages
        .iter()
        .map(|s| match s.trim() {
            "base" => Ok(Stage::Base),
            "1" => Ok(Stage::One),
            "2" => Ok(Stage::Two),
            other => anyhow::bail!("--stages: expected base, 1 or 2, found `{other}`"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let device = pick_device(args.device)?;
    outln!(
        "{}: {} training and {} validation records, device {:?}",
        records_path.display(),
        train.records.len(),
        val.records.len(),
        device
    );
    let out = OutDir(args.out.clone());
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{prefix:>14} {bar:30} {pos}/{len} {msg}",
    )?);
    let mut on_progress = |p: &Progress| {
        bar.set_prefix(format!("{} {}/{}", p.stage.name(), p.epoch + 1, p.epochs));
        bar.set_length(p.batches as u64);
        bar.set_position(p.batch as u64);
        bar.set_message(format!("loss {:.4}", p.loss));
    };
    for stage in stages {
        run_stage(&out, stage, &train, &val, &cfg, &device, &mut on_progress)
            .with_context(|| format!("training stage {}", stage.name()))?;
    }
    bar.finish_and_clear();
    outln!(
        "model written to {} (log: {})",
        out.0.display(),
        out.log().display()
    );
    Ok(())
}
