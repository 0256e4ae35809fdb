//! `scanscribe describe`: a description of an image, personalized with a profile.

use std::path::PathBuf;

use clap::Args;

use crate::model::deper::enroll::{TrainedModel, load_profile};
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Describe an image with a trained model, generic or in an enrolled subject's style
///
/// In the style of an enrolled subject when a profile is given, else the generic
/// description. Deterministic (greedy or beam).
///
/// Examples:
///   scanscribe describe --model models/demo --image cohort/images/img003.png
///   scanscribe describe --model models/demo --image cohort/images/img003.png --profile profiles/s09.ron
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DescribeArgs {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub image: PathBuf,
    /// A profile from `scanscribe enroll` with the same model.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 3)]
    pub beam: usize,
    #[arg(long, default_value_t = 48)]
    pub max_tokens: usize,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &DescribeArgs) -> anyhow::Result<()> {
    let device = pick_device(args.device)?;
    let model = TrainedModel::load(&args.model, &device)?;
    let profile = args
        .profile
        .as_deref()
        .map(|p| load_profile(p, &model))
        .transpose()?;
    let options = GenerateOptions {
        beam_width: args.beam,
        max_tokens: args.max_tokens,
        ..GenerateOptions::default()
    };
    let (text, _) = model.describe(
        &args.image,
        profile.as_ref().map(|p| p.z_s.as_slice()),
        &options,
    )?;
    println!("{text}");
    Ok(())
}
