//! `scanscribe demo`: the whole loop on a synthetic study, headless.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::model::deper::data::Trials;
use crate::model::deper::enroll::{TrainedModel, enroll};
use crate::model::deper::synthetic::{SyntheticSpec, write_synthetic};
use crate::model::deper::train::{OutDir, Stage, run_stage, split_trials};
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Simulate a study, train (cached), enroll an unseen subject, show their descriptions
///
/// Simulates a small study, trains (cached: a rerun reuses the model), enrolls an
/// unseen subject from 5 trials and prints, for their other images, what they said
/// beside the generic and the personalized description.
///
/// `--source cohort` (default) simulates a cohort with the cohort module (12 subjects,
/// 4 of them held out, 20 scenes); `--source synthetic` uses the model module's
/// small synthetic study (coloured squares; subjects differ in phrasing, scan order
/// and tempo), which trains fastest. Held-out subjects are the enrollment candidates.
///
/// Examples:
///   scanscribe demo --out demo-run --preset small
///   scanscribe demo --out demo-squares --source synthetic --subject s09
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// `cohort` or `synthetic`.
    #[arg(long, default_value = "cohort")]
    pub source: String,
    #[arg(long, default_value = "demo-run")]
    pub out: PathBuf,
    /// Model sizes (see `scanscribe train --help`).
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// The unseen subject to enroll (default: the first subject of the test split).
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(long, default_value_t = 5)]
    pub shots: usize,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let device = pick_device(args.device)?;
    let data = args.out.join("data");
    let records_path = data.join("records.jsonl");
    if !records_path.is_file() {
        match args.source.as_str() {
            "synthetic" => {
                write_synthetic(&data, &SyntheticSpec::default())?;
            }
            "cohort" => {
                let cohort = crate::cohort::Cohort::new(crate::cohort::CohortConfig {
                    subjects: 12,
                    images: 20,
                    held_out: 4,
                    ..crate::cohort::CohortConfig::default()
                })?;
                crate::cohort::write_cohort(&cohort, &data, &|_| {})
                    .with_context(|| format!("simulating a cohort into {}", data.display()))?;
            }
            other => anyhow::bail!("--source: expected cohort or synthetic, found `{other}`"),
        }
    }
    let records = crate::dataset::read_records(&records_path)?;
    let subject = match &args.subject {
        Some(s) => s.clone(),
        None => records
            .iter()
            .find(|r| r.split == Some(crate::dataset::Split::Test))
            .map(|r| r.subject.clone())
            .context("the records have no test (held-out) subject to enroll")?,
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
    let profile = enroll(&model, &all, &subject, args.shots)?;
    println!(
        "enrolled {} (unseen in training) from {} trials; model {}\n",
        profile.subject,
        profile.trials.len(),
        profile.model_fingerprint
    );
    let options = GenerateOptions::default();
    for record in records
        .iter()
        .filter(|r| r.subject == subject)
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
