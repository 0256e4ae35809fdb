//! `scanscribe enroll`: a profile of a subject from a few of their trials.

use std::path::PathBuf;

use clap::Args;

use crate::dataset::read_records;
use crate::model::deper::data::Trials;
use crate::model::deper::enroll::{TrainedModel, enroll, save_profile};
use crate::model::{DeviceChoice, pick_device};

/// Enroll a subject from a few of their trials (no fine-tuning)
///
/// The profile is the mean subject embedding over their first SHOTS trials in the
/// records file. The profile (RON) records the model's fingerprint and the trials
/// used; `describe` refuses it with any other model.
///
/// Example: scanscribe enroll --model models/demo --records cohort/records.jsonl --subject s09 --shots 5 --out profiles/s09.ron
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// A trained model folder (from `scanscribe train`).
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub records: PathBuf,
    #[arg(long)]
    pub subject: String,
    /// Trials to enroll from (at least 1).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub shots: u64,
    #[arg(long)]
    pub out: PathBuf,
    /// The Qwen2-VL folder, for a model trained with --vlm qwen2-vl (default: the one
    /// it was trained with, from its vlm.json).
    #[arg(long)]
    pub vlm_path: Option<PathBuf>,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &EnrollArgs) -> anyhow::Result<()> {
    let shots = usize::try_from(args.shots).unwrap_or(usize::MAX);
    let device = pick_device(args.device)?;
    let model = TrainedModel::load_with_vlm(&args.model, args.vlm_path.as_deref(), &device)?;
    let records = read_records(&args.records)?;
    let trials = Trials {
        root: args.records.parent().map(PathBuf::from).unwrap_or_default(),
        records,
    };
    let profile = enroll(&model, &trials, &args.subject, shots)?;
    if profile.trials.len() < shots {
        eprintln!(
            "warning: only {} trials of {} in {} (asked for {})",
            profile.trials.len(),
            args.subject,
            args.records.display(),
            shots
        );
    }
    save_profile(&profile, &args.out)?;
    outln!(
        "enrolled {} from {} trials with model {} → {}",
        profile.subject,
        profile.trials.len(),
        profile.model_fingerprint,
        args.out.display()
    );
    Ok(())
}
