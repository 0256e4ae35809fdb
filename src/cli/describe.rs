//! `scanscribe describe`: a description of an image, personalized with a profile.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::model::deper::enroll::{TrainedModel, load_profile};
use crate::model::generate::DescriptionModel;
use crate::model::vlm::{VlmChoice, load_qwen};
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Describe an image with a trained model, generic or in an enrolled subject's style
///
/// In the style of an enrolled subject when a profile is given, else the generic
/// description. Deterministic (greedy or beam) unless --temperature is above 0.
/// With --vlm qwen2-vl the description model is a Hugging Face Qwen2-VL folder
/// (e.g. Qwen/Qwen2-VL-2B-Instruct as downloaded); without --model it writes the
/// generic description straight from it.
///
/// Examples:
///   scanscribe describe --model models/demo --image cohort/images/img003.png
///   scanscribe describe --model models/demo --image cohort/images/img003.png --profile profiles/s09.ron
///   scanscribe describe --vlm qwen2-vl --vlm-path ~/models/Qwen2-VL-2B-Instruct --image photo.jpg
///   scanscribe describe --model models/qwen --vlm qwen2-vl --vlm-path ~/models/Qwen2-VL-2B-Instruct --image photo.jpg --profile profiles/s09.ron
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DescribeArgs {
    /// A trained model folder (from `scanscribe train`); optional with --vlm qwen2-vl.
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long)]
    pub image: PathBuf,
    /// A profile from `scanscribe enroll` with the same model.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Description model: builtin (the trained folder's captioner) or qwen2-vl.
    #[arg(long, default_value = "builtin")]
    pub vlm: VlmChoice,
    /// The Hugging Face Qwen2-VL folder (config.json, safetensors, tokenizer.json,
    /// preprocessor_config.json); default: the one the model was trained with.
    #[arg(long)]
    pub vlm_path: Option<PathBuf>,
    /// Qwen2-VL: resize images to at most this many pixels (default 1003520, 1280
    /// image tokens; more detail costs memory and time quadratically).
    #[arg(long)]
    pub vlm_max_pixels: Option<usize>,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 3)]
    pub beam: usize,
    #[arg(long, default_value_t = 48)]
    pub max_tokens: usize,
    /// Sampling temperature (0 = deterministic greedy or beam search; above 0, one
    /// description is sampled with --top-p and --seed).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Nucleus sampling mass (with --temperature).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// No n-gram of this many tokens is said twice (0: repeats allowed).
    #[arg(long, default_value_t = 3)]
    pub no_repeat_ngram: usize,
    /// Print the load, image and generation times and the token count to stderr
    /// (generic Qwen2-VL descriptions).
    #[arg(long)]
    pub timing: bool,
}

pub fn run(args: &DescribeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.temperature.is_finite() && args.temperature >= 0.0,
        "--temperature: expected 0 (deterministic) or a positive number, found {}",
        args.temperature
    );
    anyhow::ensure!(
        args.top_p.is_finite() && args.top_p > 0.0 && args.top_p <= 1.0,
        "--top-p: expected a probability mass in (0, 1], found {}",
        args.top_p
    );
    let device = pick_device(args.device)?;
    let options = GenerateOptions {
        beam_width: args.beam,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        top_p: args.top_p,
        seed: args.seed,
        no_repeat_ngram: args.no_repeat_ngram,
        ..GenerateOptions::default()
    };
    let Some(model_dir) = &args.model else {
        if args.vlm != VlmChoice::Qwen2Vl {
            anyhow::bail!(
                "--model is needed (or --vlm qwen2-vl --vlm-path DIR for a generic description)"
            );
        }
        if args.profile.is_some() {
            anyhow::bail!(
                "--profile needs --model: the trained folder whose adapter feeds Qwen2-VL"
            );
        }
        let clock = std::time::Instant::now();
        let mut vlm = load_qwen(args.vlm_path.as_deref(), None, &device)?;
        device.synchronize()?;
        let load_secs = clock.elapsed().as_secs_f64();
        if let Some(max) = args.vlm_max_pixels {
            vlm.set_max_pixels(max);
        }
        let clock = std::time::Instant::now();
        let image = vlm.load_image(&args.image, &device)?.unsqueeze(0)?;
        let tokens = vlm.encode_image(&image)?;
        device.synchronize()?;
        let image_secs = clock.elapsed().as_secs_f64();
        let clock = std::time::Instant::now();
        let (text, generated) = vlm.describe(&tokens, None, &options)?;
        if args.timing {
            eprintln!(
                "timing: load {load_secs:.3} s, image {image_secs:.3} s, prefill and {generated} tokens {:.3} s",
                clock.elapsed().as_secs_f64()
            );
        }
        outln!("{text}");
        return Ok(());
    };
    let mut model = TrainedModel::load_with_vlm(model_dir, args.vlm_path.as_deref(), &device)?;
    if let (Some(vlm), Some(max)) = (model.vlm.as_mut(), args.vlm_max_pixels) {
        vlm.set_max_pixels(max);
    }
    let trained_with = if model.vlm.is_some() {
        VlmChoice::Qwen2Vl
    } else {
        VlmChoice::Builtin
    };
    if trained_with != args.vlm {
        anyhow::bail!(
            "{} was trained with --vlm {:?}, not {:?}: its adapter only fits that description model",
            model_dir.display(),
            trained_with,
            args.vlm
        );
    }
    let profile = args
        .profile
        .as_deref()
        .map(|p| load_profile(p, &model))
        .transpose()?;
    let (text, _) = model
        .describe(
            &args.image,
            profile.as_ref().map(|p| p.z_s.as_slice()),
            &options,
        )
        .with_context(|| format!("describing {}", args.image.display()))?;
    outln!("{text}");
    Ok(())
}
