//! BubbleView clicks as attention samples (a study with `attention: BubbleView(..)`).
//!
//! During the stimulus the runner logs each click to `events.jsonl` as it arrives
//! (`{"kind": "bubble_click", "order": 1, "position_display": [x, y],
//! "position_image": [x, y], ...}`), so a crash loses at most the click being written.
//! The analysis turns the clicks into fixations: click `i` is a fixation at the click
//! from its time until the next click (the last one until the stimulus goes off),
//! whose box is the revealed bubble. From there they are fixations like any other:
//! `fixations.csv`, `trajectory.json`, replay and the dataset records use them
//! unchanged. `clicks.csv` keeps the clicks themselves.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::events::{Event, EventKind};
use crate::fixation::{Fixation, ImagePlacement};
use crate::study::{BubbleView, ScreenGeometry};

/// One click on the stimulus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BubbleClick {
    /// When the button went down, µs on the session clock.
    pub time_us: i64,
    /// Where, display-normalized (origin top-left).
    pub position_display: [f32; 2],
}

impl BubbleClick {
    /// A click the runner can record: finite and on the screen.
    pub fn is_valid(&self) -> bool {
        self.position_display
            .iter()
            .all(|v| v.is_finite() && (0.0..=1.0).contains(v))
    }
}

/// The bubble's radius in display-normalized units, `[horizontal, vertical]`.
pub fn bubble_radius_display(screen: &ScreenGeometry, settings: &BubbleView) -> [f32; 2] {
    let [w, h] = screen.normalized_from_degrees(settings.bubble_radius_deg);
    [w as f32, h as f32]
}

/// The clicks as fixations (see the module docs); `clicks` in time order.
pub fn fixations_from_clicks(
    clicks: &[BubbleClick],
    stimulus_off_us: i64,
    radius_display: [f32; 2],
) -> Vec<Fixation> {
    let [rx, ry] = radius_display;
    clicks
        .iter()
        .enumerate()
        .map(|(i, click)| {
            let end_us = clicks
                .get(i + 1)
                .map_or(stimulus_off_us, |next| next.time_us)
                .max(click.time_us);
            let [x, y] = click.position_display;
            Fixation {
                start_us: click.time_us,
                end_us,
                position_display: [x, y],
                bbox_display: [x - rx, y - ry, x + rx, y + ry],
                sample_count: 1,
            }
        })
        .collect()
}

/// The clicks of each trial from a session's events: those after the trial's last
/// `stimulus_on` (a trial run again after a resume keeps only its last showing).
pub fn clicks_by_trial(events: &[Event]) -> HashMap<String, Vec<BubbleClick>> {
    let mut clicks: HashMap<String, Vec<BubbleClick>> = HashMap::new();
    for event in events {
        let Some(trial) = &event.trial else { continue };
        match &event.kind {
            EventKind::StimulusOn { .. } => {
                clicks.insert(trial.clone(), Vec::new());
            }
            EventKind::BubbleClick {
                position_display, ..
            } => clicks.entry(trial.clone()).or_default().push(BubbleClick {
                time_us: event.time_us,
                position_display: *position_display,
            }),
            _ => {}
        }
    }
    clicks.retain(|_, list| !list.is_empty());
    clicks
}

/// The header of `clicks.csv`.
pub const CLICKS_CSV_HEADER: &str = "order,time_ms,x,y,x_image,y_image";

/// Writes `clicks.csv`: order (from 1), time from stimulus onset in ms, the position
/// display-normalized and image-normalized.
pub fn write_clicks_csv(
    path: &Path,
    clicks: &[BubbleClick],
    stimulus_on_us: i64,
    placement: &ImagePlacement,
) -> std::io::Result<()> {
    let mut text = Vec::new();
    writeln!(text, "{CLICKS_CSV_HEADER}")?;
    for (i, click) in clicks.iter().enumerate() {
        let [x, y] = click.position_display;
        let [xi, yi] = placement.image_from_display(click.position_display);
        writeln!(
            text,
            "{},{:.3},{x:.6},{y:.6},{xi:.6},{yi:.6}",
            i + 1,
            click.time_us.saturating_sub(stimulus_on_us) as f64 / 1000.0
        )?;
    }
    super::meta::write_atomically(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click(time_ms: i64, x: f32, y: f32) -> BubbleClick {
        BubbleClick {
            time_us: time_ms * 1000,
            position_display: [x, y],
        }
    }

    #[test]
    fn each_click_lasts_until_the_next_and_the_last_until_the_stimulus_ends() {
        let clicks = [
            click(100, 0.4, 0.5),
            click(900, 0.6, 0.5),
            click(1500, 0.5, 0.3),
        ];
        let fixations = fixations_from_clicks(&clicks, 3_000_000, [0.02, 0.03]);
        let durations: Vec<f64> = fixations.iter().map(Fixation::duration_ms).collect();
        assert_eq!(durations, [800.0, 600.0, 1500.0]);
        assert_eq!(fixations[1].position_display, [0.6, 0.5]);
        let expected = [0.58, 0.47, 0.62, 0.53];
        let bbox = fixations[1].bbox_display;
        assert!(
            bbox.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6),
            "{bbox:?}"
        );
        assert!(fixations_from_clicks(&[], 3_000_000, [0.02, 0.03]).is_empty());
    }

    #[test]
    fn clicks_are_grouped_by_trial_and_a_reshown_trial_keeps_its_last_showing() {
        let event = |time_us, trial: &str, kind| Event {
            time_us,
            trial: Some(trial.to_owned()),
            kind,
        };
        let on = || EventKind::StimulusOn {
            image: "a.png".into(),
        };
        let at = |order, x| EventKind::BubbleClick {
            order,
            position_display: [x, 0.5],
            position_image: [x, 0.5],
        };
        let events = [
            event(1, "a", on()),
            event(2, "a", at(1, 0.1)),
            // crash, resume: trial a is shown again
            event(10, "a", on()),
            event(11, "a", at(1, 0.2)),
            event(12, "a", at(2, 0.3)),
            event(20, "b", on()),
        ];
        let clicks = clicks_by_trial(&events);
        let a: Vec<f32> = clicks["a"].iter().map(|c| c.position_display[0]).collect();
        assert_eq!(a, [0.2, 0.3]);
        assert!(!clicks.contains_key("b"), "a trial without clicks has none");
    }

    #[test]
    fn off_screen_and_nan_clicks_are_invalid() {
        assert!(click(0, 0.0, 1.0).is_valid());
        assert!(!click(0, 1.2, 0.5).is_valid());
        assert!(!click(0, f32::NAN, 0.5).is_valid());
    }
}
