//! `scanscribe demo`: the whole loop on a synthetic study, headless.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::model::deper::data::Trials;
use crate::model::deper::enroll::{TrainedModel, enroll};
use crate::model::deper::synthetic::{SyntheticSpec, write_synthetic};
use crate::model::deper::train::{OutDir, Stage, run_stage, split_trials};
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Simulate a small study, train (cached: a rerun reuses the model), enroll an unseen
/// subject from 5 trials and print, for their other images, what they said beside
/// the generic and the personalized description.
///
/// The study is the model module's synthetic one (coloured squares; subjects differ
/// in phrasing, scan order and tempo) until the cohort simulator is wired in.
///
/// Example: scanscribe demo --out demo-run --preset small
#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "demo-run")]
    pub out: PathBuf,
    /// Model sizes (see `scanscribe train --help`).
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// The unseen subject to enroll (s08 to s11).
    #[arg(long, default_value = "s09")]
    pub subject: String,
    #[arg(long, default_value_t = 5)]
    pub shots: usize,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let device = pick_device(args.device)?;
    let data = args.out.join("data");
    let records_path = data.join("records.jsonl");
    let records = if records_path.is_file() {
        crate::dataset::read_records(&records_path)?
    } else {
        write_synthetic(&data, &SyntheticSpec::default())?
    };
    let (train, val) = split_trials(&data, &records);
    let cfg = crate::model::deper::train::TrainConfig::preset(&args.preset).with_context(|| {
        format!(
            "--preset: expected paper, small or tiny, found `{}`",
            args.preset
        )
    })?;
    let out = OutDir(args.out.join("model"));
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{prefix:>14} {bar:30} {pos}/{len} {msg}",
    )?);
    for stage in [Stage::Base, Stage::One, Stage::Two] {
        run_stage(&out, stage, &train, &val, &cfg, &device, &mut |p| {
            bar.set_prefix(format!("{} {}/{}", p.stage.name(), p.epoch + 1, p.epochs));
            bar.set_length(p.batches as u64);
            bar.set_position(p.batch as u64);
            bar.set_message(format!("loss {:.4}", p.loss));
        })
        .with_context(|| format!("training stage {}", stage.name()))?;
    }
    bar.finish_and_clear();
    let model = TrainedModel::load(&out.0, &device)?;
    let all = Trials {
        root: data.clone(),
        records: records.clone(),
    };
    let profile = enroll(&model, &all, &args.subject, args.shots)?;
    println!(
        "enrolled {} (unseen in training) from {} trials; model {}\n",
        profile.subject,
        profile.trials.len(),
        profile.model_fingerprint
    );
    let options = GenerateOptions::default();
    for record in records
        .iter()
        .filter(|r| r.subject == args.subject)
        .skip(args.shots)
        .take(4)
    {
        let image = data.join(&record.image);
        let (generic, _) = model.describe(&image, None, &options)?;
        let (personal, _) = model.describe(&image, Some(&profile.z_s), &options)?;
        println!("{}", record.image);
        println!("  said         {}", record.description);
        println!("  generic      {generic}");
        println!("  personalized {personal}\n");
    }
    Ok(())
}
