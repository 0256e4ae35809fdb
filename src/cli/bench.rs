//! `scanscribe bench`: measurements that need a model folder rather than criterion's
//! fixtures: one stage-2 step through Qwen2-VL (time, loss, gradient, estimated and
//! measured peak memory), and a random Qwen2-VL folder at any widths to run it on.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::model::qwen2vl::memory::gib;
use crate::model::qwen2vl::random_model::{self, RandomModelSpec};
use crate::model::qwen2vl::stage2::{QwenTarget, Stage2Memory};
use crate::model::qwen2vl::{Qwen2VlDescriber, step_bench};
use crate::model::{DeviceChoice, pick_device};

/// Measure stage 2 through Qwen2-VL, or write a random Qwen2-VL folder to measure on
///
/// Examples:
///   scanscribe bench random-qwen2vl --template tests/fixtures/qwen2vl/model --out /tmp/q4 --size quarter-2b
///   scanscribe bench stage2 --vlm-path /tmp/q4 --image tests/fixtures/qwen2vl/image.png --batch 16 --micro-batch 8
///   scanscribe bench stage2 --vlm-path /tmp/q4 --image IMG --batch 16 --no-grad-checkpoint
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time stage-2 steps (loss and gradient at `<subj>`) and report peak memory.
    Stage2(Stage2Args),
    /// Write a Qwen2-VL folder with random weights (tokenizer and ids from --template).
    RandomQwen2vl(RandomArgs),
}

#[derive(Debug, Args)]
pub struct Stage2Args {
    /// The Qwen2-VL folder.
    #[arg(long)]
    pub vlm_path: PathBuf,
    /// The image every description is about.
    #[arg(long)]
    pub image: PathBuf,
    /// Descriptions per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Words per description (cut to 64 tokens).
    #[arg(long, default_value_t = 40)]
    pub words: usize,
    /// Steps to run (the first one warms up).
    #[arg(long, default_value_t = 3)]
    pub steps: usize,
    /// Descriptions per forward/backward pass.
    #[arg(long, default_value_t = 8)]
    pub micro_batch: usize,
    /// Keep every layer's graph (the unbounded reference).
    #[arg(long)]
    pub no_grad_checkpoint: bool,
    /// Cap on the image's pixels (default: the describer's).
    #[arg(long)]
    pub max_pixels: Option<usize>,
    /// Seed of the random subject embeddings (same seed, same device: same step).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

#[derive(Debug, Args)]
pub struct RandomArgs {
    /// A Qwen2-VL folder whose tokenizer, processor settings and token ids are copied.
    #[arg(long)]
    pub template: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// `2b` (Qwen2-VL-2B's shapes) or `quarter-2b` (a quarter of its widths).
    #[arg(long, default_value = "quarter-2b")]
    pub size: String,
    /// Decoder layers (default: the size's, 28).
    #[arg(long)]
    pub layers: Option<usize>,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.what {
        BenchCommand::Stage2(a) => stage2(a),
        BenchCommand::RandomQwen2vl(a) => random(a),
    }
}

fn random(args: &RandomArgs) -> anyhow::Result<()> {
    let mut spec = match args.size.as_str() {
        "2b" => RandomModelSpec::qwen2_vl_2b(),
        "quarter-2b" => RandomModelSpec::quarter_2b(),
        other => anyhow::bail!("--size: expected 2b or quarter-2b, found `{other}`"),
    };
    if let Some(layers) = args.layers {
        anyhow::ensure!(layers > 0, "--layers must be at least 1");
        spec.layers = layers;
    }
    random_model::write(&args.template, &args.out, &spec)
        .with_context(|| format!("writing a random Qwen2-VL to {}", args.out.display()))?;
    outln!("{}: random Qwen2-VL {spec:?}", args.out.display());
    Ok(())
}

fn stage2(args: &Stage2Args) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(args.micro_batch > 0, "--micro-batch must be at least 1");
    let device = pick_device(args.device)?;
    let mut describer = Qwen2VlDescriber::load(&args.vlm_path, &device)
        .with_context(|| format!("loading {}", args.vlm_path.display()))?;
    if let Some(max_pixels) = args.max_pixels {
        describer.set_max_pixels(max_pixels);
    }
    let mut target = QwenTarget::new(describer);
    target.memory = Stage2Memory {
        micro_batch: args.micro_batch,
        checkpoint_layers: !args.no_grad_checkpoint,
    };
    let report = step_bench::run(
        &mut target,
        &args.image,
        args.batch,
        args.words,
        args.steps,
        args.seed,
        &device,
    )?;
    let times: Vec<String> = report
        .step_seconds
        .iter()
        .map(|s| format!("{s:.3}"))
        .collect();
    let losses: Vec<String> = report.losses.iter().map(|l| format!("{l:.5}")).collect();
    outln!(
        "stage2 step: batch {} × {} tokens, micro-batch {}, layer recomputation {}, device {:?}",
        args.batch,
        report.sequence_tokens,
        args.micro_batch,
        if args.no_grad_checkpoint { "off" } else { "on" },
        device
    );
    outln!("step seconds: {}", times.join(" "));
    outln!("losses: {}", losses.join(" "));
    outln!("gradient norm at <subj>: {:.6e}", report.grad_norm);
    if let Some(p) = report.phases {
        let steps = args.steps.saturating_sub(1).max(1) as f64;
        outln!(
            "phases per step (synchronized, {} micro-batches): prepare {:.3} s, forward {:.3} s, head {:.3} s, backward {:.3} s",
            p.micro_batches as f64 / steps,
            p.prepare_s / steps,
            p.forward_s / steps,
            p.head_s / steps,
            p.backward_s / steps
        );
    }
    outln!("estimated peak: {}", report.estimate);
    match report.peak_bytes {
        Some(peak) => outln!(
            "measured peak: {} ({})",
            gib(peak),
            if device.is_cpu() {
                "process peak resident memory"
            } else {
                "GPU memory in use, polled every 10 ms"
            }
        ),
        None => outln!("measured peak: not available on this device"),
    }
    Ok(())
}
