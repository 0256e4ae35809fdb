//! The `events.tsv` of a BIDS run and its sidecar: the fixation cross, the stimulus
//! and the dictation as intervals, and in a BubbleView session every click, as an
//! interval until the next click (the last until the stimulus went off), with its
//! order and position in screen pixels (origin top-left) in extra columns.

use std::path::Path;

use serde_json::json;

use super::bids_files::{FileError, cell, write_json, write_tsv};
use crate::session::events::{Event, EventKind};
use crate::session::meta::SessionMeta;

/// Writes `<stem>_events.tsv` and `.json` into `beh`; onsets are seconds from `t0_us`.
pub fn write_events(
    beh: &Path,
    stem: &str,
    meta: &SessionMeta,
    trial_id: &str,
    image_name: &str,
    t0_us: i64,
    events: &[&Event],
) -> Result<(), FileError> {
    // Saturating: times come from files (a damaged or hostile one may hold ±2^63).
    let seconds = |t: i64| t.saturating_sub(t0_us) as f64 / 1e6;
    let interval = |from: i64, to: i64| cell(to.saturating_sub(from) as f64 / 1e6, 6);
    let find =
        |kind: fn(&EventKind) -> bool| events.iter().find(|e| kind(&e.kind)).map(|e| e.time_us);
    let cross = find(|k| matches!(k, EventKind::FixationCrossOn));
    let on = find(|k| matches!(k, EventKind::StimulusOn { .. }));
    let off = find(|k| matches!(k, EventKind::StimulusOff));
    let dictation_start = find(|k| matches!(k, EventKind::DictationStart));
    let dictation_stop = find(|k| matches!(k, EventKind::DictationStop));
    let clicks = meta.attention.bubble_view().is_some();
    let row = |onset: i64, duration: String, kind: &str, stim: &str| {
        vec![
            cell(seconds(onset), 6),
            duration,
            kind.into(),
            stim.into(),
            trial_id.into(),
        ]
    };

    let mut rows = Vec::new();
    if let (Some(cross), Some(on)) = (cross, on) {
        rows.push(row(cross, interval(cross, on), "fixation_cross", "n/a"));
    }
    if let Some(on) = on {
        let duration = off.map_or("n/a".to_owned(), |off| interval(on, off));
        rows.push(row(on, duration, "stimulus", image_name));
    }
    if clicks {
        rows.extend(click_rows(events, off, &row, meta.screen.resolution_px));
    }
    if let (Some(start), Some(stop)) = (dictation_start, dictation_stop) {
        rows.push(row(start, interval(start, stop), "dictation", "n/a"));
    }
    if clicks {
        // The click columns are empty on the other rows.
        for other in rows.iter_mut().filter(|r| r.len() == 5) {
            other.extend(["n/a".to_owned(), "n/a".to_owned(), "n/a".to_owned()]);
        }
    }
    let mut header = vec!["onset", "duration", "trial_type", "stim_file", "trial_id"];
    if clicks {
        header.extend(["click_order", "x", "y"]);
    }
    write_tsv(&beh.join(format!("{stem}_events.tsv")), &header, &rows)?;
    write_json(&beh.join(format!("{stem}_events.json")), &sidecar(meta))
}

/// One row per BubbleView click (see the module docs).
fn click_rows(
    events: &[&Event],
    stimulus_off_us: Option<i64>,
    row: &dyn Fn(i64, String, &str, &str) -> Vec<String>,
    (w_px, h_px): (u32, u32),
) -> Vec<Vec<String>> {
    let clicks: Vec<(i64, u32, [f32; 2])> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::BubbleClick {
                order,
                position_display,
                ..
            } => Some((e.time_us, order, position_display)),
            _ => None,
        })
        .collect();
    clicks
        .iter()
        .enumerate()
        .map(|(i, &(time_us, order, [x, y]))| {
            let end = clicks.get(i + 1).map(|next| next.0).or(stimulus_off_us);
            let duration = end.map_or("n/a".to_owned(), |end| {
                cell(end.saturating_sub(time_us).max(0) as f64 / 1e6, 6)
            });
            let mut cells = row(time_us, duration, "bubble_click", "n/a");
            cells.extend([
                order.to_string(),
                cell(f64::from(x) * f64::from(w_px), 2),
                cell(f64::from(y) * f64::from(h_px), 2),
            ]);
            cells
        })
        .collect()
}

fn sidecar(meta: &SessionMeta) -> serde_json::Value {
    let screen = meta.screen;
    let (w_px, h_px) = screen.resolution_px;
    let mut levels = json!({
        "fixation_cross": "Central fixation cross before the image",
        "stimulus": "The image (see stim_file)",
        "dictation": "The subject described the image aloud",
    });
    let mut sidecar = json!({
        "TaskName": meta.study_id,
        "StimulusPresentation": {
            "ScreenDistance": screen.viewing_distance_mm / 1000.0,
            "ScreenResolution": [w_px, h_px],
            "ScreenSize": [screen.size_mm.0 / 1000.0, screen.size_mm.1 / 1000.0],
            "ScreenOrigin": ["top", "left"],
            "SoftwareName": "scanscribe",
            "SoftwareVersion": env!("CARGO_PKG_VERSION"),
        },
        "onset": {"Description": "Seconds from the first gaze sample of the run", "Units": "s"},
        "duration": {"Description": "Duration of the event", "Units": "s"},
        "trial_id": {"Description": "Trial id in the scanscribe study file"},
    });
    if let Some(settings) = meta.attention.bubble_view() {
        levels["bubble_click"] = json!(format!(
            "BubbleView: the subject clicked the blurred image, revealing a sharp disc of \
             radius {}° (blur sigma {}°); lasts until the next click or the image's end",
            settings.bubble_radius_deg, settings.blur_sigma_deg
        ));
        sidecar["click_order"] = json!({"Description": "Order of the click in the trial, from 1"});
        sidecar["x"] = json!({"Description": "Click position, horizontal, screen pixels from the left", "Units": "pixel"});
        sidecar["y"] = json!({"Description": "Click position, vertical, screen pixels from the top", "Units": "pixel"});
    }
    sidecar["trial_type"] = json!({"Description": "What was on the screen", "Levels": levels});
    sidecar
}
