//! `scanscribe simulate`: write a simulated cohort (scenes, gaze, fixations,
//! descriptions, dataset records) into a folder.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cohort::{self, Cohort, CohortConfig};

/// Simulate a cohort: subjects with their own viewing habits and way of speaking look
/// at generated scenes and describe them.
///
/// Writes images/, records.jsonl (dataset records with train/val/test splits),
/// gaze/<subject>/<image>.csv (raw binocular samples), fixations/<subject>/<image>.csv
/// (ground truth), scenes.json (objects and boxes), cohort.ron (every subject's habits)
/// and a README.md describing them. The same seed gives byte-identical output.
///
/// Example: scanscribe simulate --subjects 24 --images 60 --seed 7 --out out/cohort
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    scanscribe simulate --subjects 24 --images 60 --seed 7 --out out/cohort\n  \
    scanscribe simulate --subjects 8 --images 20 --rate-hz 1200 --held-out 2 --out out/pilot\n  \
    scanscribe simulate --subjects 24 --images 40 --held-out 6 --max-mentions 2 --out out/sparse")]
pub struct SimulateArgs {
    /// Number of simulated subjects.
    #[arg(long, default_value_t = 24)]
    pub subjects: usize,
    /// Number of generated scenes; every subject views every scene.
    #[arg(long, default_value_t = 60)]
    pub images: usize,
    /// Seed of everything random.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Output folder (created if missing; existing files are overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Gaze sampling rate in Hz, 60 to 1200.
    #[arg(long, default_value_t = 300.0)]
    pub rate_hz: f64,
    /// Subjects held out of training ("unseen"): all their records go to the test split.
    #[arg(long, default_value_t = 4)]
    pub held_out: usize,
    /// Subjects name at most this many objects per description (the ones they looked
    /// at longest, in viewing order) instead of their own habit (2–6). With 1 or 2 a
    /// subject's viewing habit shows fully in the gaze but only partly in the words:
    /// the cohort for testing whether the trajectory adds to the text.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=8))]
    pub max_mentions: Option<u64>,
}

pub fn run(args: &SimulateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let cohort = Cohort::new(CohortConfig {
        seed: args.seed,
        subjects: args.subjects,
        images: args.images,
        held_out: args.held_out,
        rate_hz: args.rate_hz,
        max_mentions: args.max_mentions.map(|n| n as usize),
        ..CohortConfig::default()
    })?;
    let bar = ProgressBar::new(cohort::writer::work_units(&cohort));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:40}] {pos}/{len} images+trials ({eta} left)",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    let summary = cohort::write_cohort(&cohort, &args.out, &|n| bar.inc(n))
        .with_context(|| format!("writing the cohort into {}", args.out.display()))?;
    bar.finish_and_clear();

    let elapsed_s = started.elapsed().as_secs_f64();
    let [train, val, test] = summary.records_per_split;
    outln!(
        "Simulated {} subjects ({} held out) × {} images = {} trials in {elapsed_s:.1} s → {}",
        summary.subjects,
        summary.held_out_subjects,
        summary.images,
        summary.trials,
        args.out.display()
    );
    outln!(
        "  gaze        {} samples at {} Hz, {:.1} % lost ({} blinks)",
        summary.samples,
        args.rate_hz,
        100.0 * summary.lost_samples as f64 / summary.samples.max(1) as f64,
        summary.blinks
    );
    outln!(
        "  fixations   {} ground truth, {:.1} trajectory steps per trial",
        summary.fixations,
        summary.mean_trajectory_steps
    );
    outln!(
        "  language    {:.1} words per description",
        summary.mean_description_words
    );
    outln!("  records     {train} train, {val} val, {test} test (records.jsonl)");
    let held_out: Vec<&str> = cohort
        .subjects
        .iter()
        .filter(|s| s.held_out)
        .map(|s| s.id.as_str())
        .collect();
    if !held_out.is_empty() {
        outln!("  held out    {}", held_out.join(", "));
    }
    outln!(
        "  see {} for the layout",
        args.out.join("README.md").display()
    );
    Ok(())
}
