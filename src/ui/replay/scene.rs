//! Drawing the stimulus views: the image, the heat map (a paint callback running the
//! WGSL shader), saccade lines, numbered fixations sized by how long they have lasted,
//! and the gaze point, for each subject in its colour. Only what is visible at the
//! playhead is drawn, found by binary search in the prepared scanpaths. Numbers never
//! overprint each other ([`readable_labels`]: the newest win), and hovering a
//! fixation shows its number, start and duration.

use eframe::egui_wgpu;

use super::data::ReplayTrial;
use super::heatmap::gpu::HeatmapCallback;
use super::heatmap::{HeatmapInput, density_size_px, push_kernels, sigma_on_image};
use super::settled_mesh::{SettledKey, SettledLook};
use super::state::{Layout, OpenSubject, ReplayState, StimulusTexture};

/// Only the latest this many fixations of a view carry their number (the rest would be
/// unreadable anyway).
pub const MAX_NUMBERED_FIXATIONS: usize = 60;

/// A gaze point older than this is not shown (the eyes were not tracked).
pub const MAX_GAZE_GAP_MS: f32 = 50.0;

/// The radius of a fixation's disc, points, after `elapsed_ms`, in a view `scale`
/// times the reference size.
pub fn fixation_radius_pt(elapsed_ms: f32, scale: f32) -> f32 {
    (4.0 + 0.6 * elapsed_ms.max(0.0).sqrt()) * scale
}

/// Draws the views of the chosen trial into `rect`; returns the area they cover.
pub fn views_ui(ui: &mut egui::Ui, state: &ReplayState) -> egui::Rect {
    let trials = state.current_trials();
    let rect = ui.available_rect_before_wrap();
    let groups: Vec<Vec<(&OpenSubject, &ReplayTrial)>> = match state.layout {
        Layout::SideBySide => trials.iter().map(|entry| vec![*entry]).collect(),
        Layout::Overlay => vec![trials.clone()],
    };
    let n = groups.len().max(1) as f32;
    let gap = 8.0;
    let width = (rect.width() - gap * (n - 1.0)) / n;
    for (index, group) in groups.iter().enumerate() {
        let min = egui::pos2(rect.min.x + index as f32 * (width + gap), rect.min.y);
        let column = egui::Rect::from_min_size(min, egui::vec2(width, rect.height()));
        let mut column_ui = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(column)
                .layout(egui::Layout::top_down(egui::Align::Center)),
        );
        view_ui(&mut column_ui, state, group, index as u64);
    }
    ui.allocate_rect(rect, egui::Sense::hover());
    rect
}

/// One view: captions (one per subject), then the stimulus with its overlays.
fn view_ui(
    ui: &mut egui::Ui,
    state: &ReplayState,
    entries: &[(&OpenSubject, &ReplayTrial)],
    key: u64,
) {
    let t_ms = state.playback.time_ms;
    let trail_ms = state.view.trail_s.map(|s| s * 1000.0);
    for (subject, trial) in entries {
        let path = &trial.scanpath;
        let shown = path.started_count(t_ms)
            - path
                .first_in_trail(t_ms, trail_ms)
                .min(path.started_count(t_ms));
        ui.colored_label(
            subject.color,
            format!(
                "{}: {shown} of {} {}",
                subject.session.subject,
                path.fixations.len(),
                if subject.session.clicks {
                    "clicks"
                } else {
                    "fixations"
                }
            ),
        );
    }
    let Some((_, first)) = entries.first() else {
        return;
    };
    let area = ui.available_rect_before_wrap();
    let texture = state.textures.get(&first.image);
    let aspect = match texture {
        Some(StimulusTexture::Ready(t)) => t.aspect_ratio(),
        _ => placement_aspect(entries),
    };
    let image_rect = fit(area, aspect);
    let painter = ui.painter_at(area);
    match texture {
        Some(StimulusTexture::Ready(t)) => {
            painter.image(
                t.id(),
                image_rect,
                egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                egui::Color32::WHITE,
            );
        }
        Some(StimulusTexture::Failed(message)) => {
            painter.rect_filled(image_rect, 0.0, ui.visuals().extreme_bg_color);
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        Some(StimulusTexture::Pending) | None => {
            painter.rect_filled(image_rect, 0.0, ui.visuals().extreme_bg_color);
        }
    }
    if state.view.heatmap.enabled {
        heatmap_ui(ui, state, entries, image_rect, key);
    }
    let scale = (image_rect.width() / 600.0).clamp(0.8, 2.0);
    for (subject, trial) in entries {
        scanpath_shapes(
            &painter, state, key, subject, trial, image_rect, t_ms, scale,
        );
    }
    let response = ui.allocate_rect(area, egui::Sense::hover());
    // Hovering a fixation tells its number, start and duration.
    // The pointer itself, not the response's hover: the views' parent allocates the
    // same area after this one and would take the hover.
    let pointer = ui
        .input(|i| i.pointer.hover_pos())
        .filter(|p| image_rect.contains(*p));
    if state.view.fixations
        && let Some(pointer) = pointer
    {
        let hovered = entries.iter().rev().find_map(|(subject, trial)| {
            fixation_at(trial, image_rect, t_ms, trail_ms, scale, pointer)
                .map(|i| fixation_hover_text(subject, trial, i))
        });
        if let Some(text) = hovered {
            egui::Tooltip::always_open(
                ui.ctx().clone(),
                response.layer_id,
                response.id,
                egui::PopupAnchor::Pointer,
            )
            .gap(12.0)
            .show(|ui| ui.label(text));
        }
    }
}

fn heatmap_ui(
    ui: &mut egui::Ui,
    state: &ReplayState,
    entries: &[(&OpenSubject, &ReplayTrial)],
    image_rect: egui::Rect,
    key: u64,
) {
    let Some((subject, first)) = entries.first() else {
        return;
    };
    if !state.heatmap_gpu {
        ui.weak("The heat map needs the wgpu renderer.");
        return;
    }
    let t_ms = state.playback.time_ms;
    let trail_ms = state.view.trail_s.map(|s| s * 1000.0);
    let mut kernels = Vec::new();
    for (_, trial) in entries {
        let first_shown = trial.scanpath.first_in_trail(t_ms, trail_ms);
        push_kernels(&trial.scanpath, first_shown, t_ms, &mut kernels);
    }
    let settings = state.view.heatmap;
    let input = HeatmapInput {
        kernels,
        sigma_image: sigma_on_image(
            settings.sigma_deg,
            &subject.session.screen,
            &first.placement,
        ),
        opacity: settings.opacity,
        color_map: settings.color_map,
    };
    let size = image_rect.size() * ui.ctx().pixels_per_point();
    let callback = HeatmapCallback {
        key,
        input,
        density_size_px: density_size_px([size.x.round() as u32, size.y.round() as u32]),
    };
    ui.painter().add(egui_wgpu::Callback::new_paint_callback(
        image_rect, callback,
    ));
}

/// One subject's marks: the settled part from the mesh cache, then the fixation in
/// progress (growing), the numbers of the latest fixations and the gaze point.
#[allow(clippy::too_many_arguments)]
fn scanpath_shapes(
    painter: &egui::Painter,
    state: &ReplayState,
    key: u64,
    subject: &OpenSubject,
    trial: &ReplayTrial,
    image_rect: egui::Rect,
    t_ms: f32,
    scale: f32,
) {
    let view = &state.view;
    let path = &trial.scanpath;
    let started = path.started_count(t_ms);
    let first = path
        .first_in_trail(t_ms, view.trail_s.map(|s| s * 1000.0))
        .min(started);
    let settled = path.settled_count(t_ms).clamp(first, started);
    let look = SettledLook {
        image_rect,
        scale,
        color: subject.color,
        pixels_per_point: painter.ctx().pixels_per_point(),
        fixations: view.fixations,
        saccades: view.saccades,
        first,
    };
    let cache_key = SettledKey {
        view: key,
        session: subject.session.root.clone(),
        trial: trial.id.clone(),
    };
    let settled_meshes = state
        .settled_meshes
        .meshes(painter.ctx(), cache_key, look, path, settled);
    for shape in settled_meshes.shapes() {
        painter.add(shape);
    }
    // The fixation in progress (at most one: fixations do not overlap).
    let live = &path.fixations[settled..started];
    if view.saccades && settled > first && !live.is_empty() {
        let from = settled - 1;
        let centers = path.fixations[from..started].iter().map(|f| f.center_image);
        painter.add(look.saccades_through(centers));
    }
    if view.fixations {
        for fixation in live {
            let radius = fixation_radius_pt(fixation.elapsed_ms(t_ms), scale);
            painter.add(look.disc(fixation.center_image, radius));
        }
        let numbered_from = started.saturating_sub(MAX_NUMBERED_FIXATIONS).max(first);
        let numbered = &path.fixations[numbered_from..started];
        let discs: Vec<(egui::Pos2, f32)> = numbered
            .iter()
            .map(|f| {
                let radius = fixation_radius_pt(f.elapsed_ms(t_ms), scale);
                (look.to_screen(f.center_image), radius)
            })
            .collect();
        let font_size = 11.0 * scale.max(1.0);
        let shown = readable_labels(&discs, numbered_from, font_size);
        for (offset, &(center, _)) in discs.iter().enumerate() {
            if shown[offset] {
                painter.text(
                    center,
                    egui::Align2::CENTER_CENTER,
                    (numbered_from + offset + 1).to_string(),
                    egui::FontId::proportional(font_size),
                    egui::Color32::WHITE,
                );
            }
        }
    }
    if view.gaze_point
        && let Some(point) = path.gaze_at(t_ms, MAX_GAZE_GAP_MS)
    {
        let center = look.to_screen(point);
        painter.circle_stroke(center, 5.0, egui::Stroke::new(2.0, egui::Color32::WHITE));
        painter.circle_stroke(center, 3.5, egui::Stroke::new(1.5, subject.color));
    }
}

/// Which fixation numbers to draw so that none is hidden or overprinted: newest first,
/// a number is drawn unless a later disc covers its centre (as if drawn on top) or
/// its box would overlap a number already placed. `discs`: centre and radius, in
/// time order; the first is fixation `first_index + 1`.
pub fn readable_labels(
    discs: &[(egui::Pos2, f32)],
    first_index: usize,
    font_size: f32,
) -> Vec<bool> {
    let mut shown = vec![false; discs.len()];
    let mut placed: Vec<egui::Rect> = Vec::new();
    for offset in (0..discs.len()).rev() {
        let (center, _) = discs[offset];
        let covered = discs[offset + 1..]
            .iter()
            .any(|&(later, radius)| later.distance(center) < radius);
        let digits = (first_index + offset + 1).to_string().len() as f32;
        let size = egui::vec2(0.62 * font_size * digits + 2.0, font_size + 1.0);
        let label = egui::Rect::from_center_size(center, size);
        if !covered && !placed.iter().any(|p| p.intersects(label)) {
            placed.push(label);
            shown[offset] = true;
        }
    }
    shown
}

/// The fixation under `pointer` in one subject's view, if any: the latest shown one
/// whose disc holds the pointer. Returns its index.
pub fn fixation_at(
    trial: &ReplayTrial,
    image_rect: egui::Rect,
    t_ms: f32,
    trail_ms: Option<f32>,
    scale: f32,
    pointer: egui::Pos2,
) -> Option<usize> {
    let path = &trial.scanpath;
    let started = path.started_count(t_ms);
    let first = path.first_in_trail(t_ms, trail_ms).min(started);
    (first..started).rev().find(|&i| {
        let f = &path.fixations[i];
        let center = egui::pos2(
            image_rect.left() + f.center_image[0] * image_rect.width(),
            image_rect.top() + f.center_image[1] * image_rect.height(),
        );
        let radius = fixation_radius_pt(f.elapsed_ms(t_ms), scale).max(6.0);
        center.distance(pointer) <= radius
    })
}

/// The hover text of fixation `index` of `subject`'s trial.
pub fn fixation_hover_text(subject: &OpenSubject, trial: &ReplayTrial, index: usize) -> String {
    let f = &trial.scanpath.fixations[index];
    let what = if subject.session.clicks {
        "click"
    } else {
        "fixation"
    };
    let duration = if subject.session.clicks {
        String::new()
    } else {
        format!(", {:.0} ms", f.duration_ms())
    };
    format!(
        "{}: {what} {} of {}\nstarts {:.3} s after the stimulus{duration}",
        subject.session.subject,
        index + 1,
        trial.scanpath.fixations.len(),
        f.start_ms / 1000.0
    )
}

/// The image's width over height on the screen, from where it was shown.
fn placement_aspect(entries: &[(&OpenSubject, &ReplayTrial)]) -> f32 {
    let Some((subject, trial)) = entries.first() else {
        return 4.0 / 3.0;
    };
    let [x0, y0, x1, y1] = trial.placement.rect_display;
    let (w, h) = subject.session.screen.resolution_px;
    ((x1 - x0) * w as f32) / ((y1 - y0) * h as f32).max(1.0)
}

/// The largest rectangle of `aspect` centred in `area`.
pub fn fit(area: egui::Rect, aspect: f32) -> egui::Rect {
    let aspect = if aspect.is_finite() && aspect > 0.0 {
        aspect
    } else {
        1.0
    };
    let size = if area.width() / area.height().max(1.0) > aspect {
        egui::vec2(area.height() * aspect, area.height())
    } else {
        egui::vec2(area.width(), area.width() / aspect)
    };
    egui::Rect::from_center_size(area.center(), size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_never_pile_up_and_the_newest_win() {
        // Thirty fixations within a few points of each other: one number is readable.
        let piled: Vec<(egui::Pos2, f32)> = (0..30)
            .map(|i| {
                (
                    egui::pos2(100.0 + (i % 3) as f32, 100.0 + (i % 2) as f32),
                    2.0,
                )
            })
            .collect();
        let shown = readable_labels(&piled, 0, 11.0);
        assert_eq!(shown.iter().filter(|s| **s).count(), 1);
        assert!(shown[29], "the newest keeps its number");
        // Well apart, every number is drawn.
        let apart: Vec<(egui::Pos2, f32)> = (0..30)
            .map(|i| {
                (
                    egui::pos2(40.0 * (i % 10) as f32, 40.0 * (i / 10) as f32),
                    4.0,
                )
            })
            .collect();
        assert!(readable_labels(&apart, 0, 11.0).iter().all(|s| *s));
        // A later disc over a centre hides that number, as before.
        let covered = [
            (egui::pos2(0.0, 0.0), 4.0),
            (egui::pos2(60.0, 0.0), 4.0),
            (egui::pos2(1.0, 0.0), 20.0),
        ];
        assert_eq!(readable_labels(&covered, 0, 11.0), [false, true, true]);
    }
}
