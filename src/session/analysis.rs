//! What a recorded trial turns into once its stimulus is off: the data-quality report,
//! the fixations (I-VT with the Tobii defaults) and the attention trajectory on the
//! image, written beside the raw samples:
//!
//! | file | content |
//! |---|---|
//! | `quality.json` | valid shares, sampling interval and jitter, dropped samples (stimulus window) |
//! | `fixations.csv` | the fixations during the stimulus (`scanscribe fixations` columns); in a BubbleView study, the clicks as fixations |
//! | `clicks.csv` | BubbleView studies only: the clicks (see [`super::bubbles`]) |
//! | `trajectory.json` | `[{"box": [x0, y0, x1, y1], "duration_ms": ...}]` on the image |
//! | `placement.json` | where the image was on the screen (display-normalized rectangle) |
//!
//! Failures here never stop a session: the raw samples are already safe on disk and the
//! analysis can be rerun from them.

use std::path::Path;

use super::bubbles::{bubble_radius_display, fixations_from_clicks, write_clicks_csv};
use super::runner::RecordedTrial;
use crate::fixation::online::{Method, detect_fixations};
use crate::fixation::space::Space;
use crate::fixation::{ImagePlacement, TrajectoryOptions, build_trajectory};
use crate::gaze::quality::recording_quality;
use crate::study::{LoadedStudy, ScreenGeometry};

/// The share of the screen height the stimulus image fills (centred, aspect kept);
/// the cohort simulates the same presentation.
pub const IMAGE_FRACTION_OF_SCREEN: f32 = crate::cohort::IMAGE_FRACTION_OF_SCREEN;

/// Where a study image is drawn on the screen.
pub fn placement_of(screen: &ScreenGeometry, image_size_px: (u32, u32)) -> ImagePlacement {
    ImagePlacement::centred(screen, image_size_px, IMAGE_FRACTION_OF_SCREEN)
}

/// Writes the derived files of one trial (see the module docs).
pub fn analyze_trial(
    trial: &RecordedTrial,
    study: &LoadedStudy,
    screen: &ScreenGeometry,
) -> Result<(), String> {
    let stimulus: Vec<_> = trial
        .samples
        .iter()
        .filter(|s| (trial.stimulus_on_us..=trial.stimulus_off_us).contains(&s.system_time_us))
        .copied()
        .collect();
    let write = |name: &str, value: &serde_json::Value| -> Result<(), String> {
        let path = trial.dir.join(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        super::meta::write_atomically(&path, text.as_bytes())
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let quality = recording_quality(&stimulus, None);
    write(
        "quality.json",
        &serde_json::to_value(&quality).map_err(|e| e.to_string())?,
    )?;

    let image_size = image_size_of(study, &trial.dir).unwrap_or((1, 1));
    let placement = placement_of(screen, image_size);
    let fixations = match study.study.attention.bubble_view() {
        Some(settings) => {
            let path = trial.dir.join("clicks.csv");
            write_clicks_csv(&path, &trial.clicks, trial.stimulus_on_us, &placement)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let radius = bubble_radius_display(screen, settings);
            fixations_from_clicks(&trial.clicks, trial.stimulus_off_us, radius)
        }
        None => {
            let space = Space::Visual(*screen);
            detect_fixations(&stimulus, &Method::ivt_for(&space), space)
                .map_err(|e| e.to_string())?
        }
    };
    crate::fixation::csv::write_fixations(
        &trial.dir.join("fixations.csv"),
        &fixations,
        screen.resolution_px,
    )
    .map_err(|e| e.to_string())?;

    let trajectory = build_trajectory(
        &fixations,
        &placement,
        screen,
        &TrajectoryOptions::default(),
    );
    write(
        "trajectory.json",
        &serde_json::to_value(&trajectory).map_err(|e| e.to_string())?,
    )?;
    write(
        "placement.json",
        &serde_json::to_value(placement).map_err(|e| e.to_string())?,
    )?;
    Ok(())
}

/// The pixel size of the trial's image, found by the trial folder's name (the trial id).
fn image_size_of(study: &LoadedStudy, trial_dir: &Path) -> Option<(u32, u32)> {
    let id = trial_dir.file_name()?.to_str()?;
    let index = study.study.trials.iter().position(|t| t.id == id)?;
    study.image_sizes_px.get(index).copied()
}
