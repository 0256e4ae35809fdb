//! `scanscribe validate`: load a study file and print its validation report.

use std::path::PathBuf;

use clap::Args;

use crate::study;

/// Check a study file: syntax, unknown fields, images, geometry, trial ids.
///
/// Every problem is listed with its line or field and what was expected; the exit
/// status is non-zero when there is any.
///
/// Example: scanscribe validate studies/demo.ron
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The study file (RON).
    pub study: PathBuf,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<()> {
    let loaded = study::load_study(&args.study)?;
    let s = &loaded.study;
    outln!("{}: valid", args.study.display());
    outln!("  study      {} ({})", s.title, s.id);
    outln!(
        "  screen     {}×{} px, {}×{} mm at {} mm ({:.1} px/°)",
        s.screen.resolution_px.0,
        s.screen.resolution_px.1,
        s.screen.size_mm.0,
        s.screen.size_mm.1,
        s.screen.viewing_distance_mm,
        s.screen.px_per_degree()
    );
    outln!("  gaze       {}", s.gaze_source.label());
    outln!("  attention  {}", s.attention.label());
    outln!(
        "  calibration {} points, {} validation points, pass ≤ {}° accuracy, ≤ {}° RMS precision",
        s.calibration.points,
        s.calibration.validation_points.len(),
        s.calibration.max_accuracy_deg,
        s.calibration.max_precision_rms_deg
    );
    outln!("  trials     {}", s.trials.len());
    for (trial, size) in s.trials.iter().zip(&loaded.image_sizes_px) {
        let dictation = trial.dictation.map_or("no dictation".to_owned(), |d| {
            format!("dictation ≤ {} s", d.max_length_ms / 1000)
        });
        outln!(
            "    {:<10} {} ({}×{} px), {} s, {}",
            trial.id,
            trial.image.display(),
            size.0,
            size.1,
            f64::from(trial.viewing_time_ms) / 1000.0,
            dictation
        );
    }
    Ok(())
}
