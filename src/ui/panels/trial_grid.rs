//! The trial cards of the overview: thumbnail (as it arrives), id, image, size,
//! viewing time and dictation.

use crate::study::Trial;
use crate::ui::app_state::{OpenStudy, Thumbnail};

use super::overview::seconds;

const CARD_WIDTH: f32 = 200.0;
const PREVIEW_HEIGHT: f32 = 140.0;

pub fn trial_grid_ui(ui: &mut egui::Ui, open: &OpenStudy) {
    let loaded = &open.loaded;
    let line_spacing = ui.spacing().item_spacing;
    let gap = 12.0;
    // A card is its content plus the group frame's margins and stroke.
    let card_outer_width = CARD_WIDTH + 2.0 * (ui.style().spacing.window_margin.leftf() + 2.0);
    let columns = ((ui.available_width() + gap) / (card_outer_width + gap))
        .floor()
        .max(1.0) as usize;
    let trials: Vec<_> = loaded.study.trials.iter().enumerate().collect();
    for row in trials.chunks(columns) {
        ui.horizontal_top(|ui| {
            ui.spacing_mut().item_spacing = egui::vec2(gap, gap);
            for &(index, trial) in row {
                let size_px = loaded.image_sizes_px.get(index).copied();
                let thumbnail = open.thumbnails.get(index);
                ui.scope(|ui| {
                    ui.spacing_mut().item_spacing = line_spacing;
                    trial_card_ui(ui, trial, size_px, thumbnail);
                });
            }
        });
        ui.add_space(gap);
    }
}

fn trial_card_ui(
    ui: &mut egui::Ui,
    trial: &Trial,
    size_px: Option<(u32, u32)>,
    thumbnail: Option<&Thumbnail>,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(CARD_WIDTH);
        ui.vertical(|ui| {
            preview_ui(ui, trial, size_px, thumbnail);
            ui.add_space(4.0);
            ui.strong(&trial.id);
            ui.add(egui::Label::new(trial.image.display().to_string()).truncate());
            if let Some((w, h)) = size_px {
                ui.weak(format!("{w} × {h} px"));
            }
            ui.label(format!("viewed for {}", seconds(trial.viewing_time_ms)));
            if trial.fixation_cross_ms > 0 {
                ui.weak(format!(
                    "after a {} fixation cross",
                    seconds(trial.fixation_cross_ms)
                ));
            } else {
                ui.weak("no fixation cross");
            }
            match trial.dictation {
                Some(dictation) => ui.label(format!(
                    "dictation up to {}",
                    seconds(dictation.max_length_ms)
                )),
                None => ui.weak("no dictation"),
            };
        });
    });
}

/// The thumbnail, scaled into a fixed box, or a placeholder of the same size.
fn preview_ui(
    ui: &mut egui::Ui,
    trial: &Trial,
    size_px: Option<(u32, u32)>,
    thumbnail: Option<&Thumbnail>,
) {
    let box_size = egui::vec2(CARD_WIDTH, PREVIEW_HEIGHT);
    let (rect, _) = ui.allocate_exact_size(box_size, egui::Sense::hover());
    ui.painter()
        .rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    match thumbnail {
        Some(Thumbnail::Ready(texture)) => {
            let fitted = fit(texture.size_vec2(), box_size);
            let image_rect = egui::Rect::from_center_size(rect.center(), fitted);
            egui::Image::from_texture(egui::load::SizedTexture::from_handle(texture))
                .alt_text(format!("preview of {}", trial.image.display()))
                .paint_at(ui, image_rect);
        }
        Some(Thumbnail::Failed(message)) => {
            let response = ui.interact(rect, ui.scope_id().with(&trial.id), egui::Sense::hover());
            ui.painter().text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "preview failed",
                egui::FontId::proportional(13.0),
                ui.visuals().error_fg_color,
            );
            response.on_hover_text(message);
        }
        Some(Thumbnail::Pending) | None => {
            let aspect = size_px.map_or(box_size, |(w, h)| egui::vec2(w as f32, h as f32));
            let spinner_rect = egui::Rect::from_center_size(
                egui::Rect::from_center_size(rect.center(), fit(aspect, box_size)).center(),
                egui::vec2(20.0, 20.0),
            );
            egui::Spinner::new().paint_at(ui, spinner_rect);
        }
    }
}

/// The largest size with `content`'s aspect ratio that fits in `bounds`.
fn fit(content: egui::Vec2, bounds: egui::Vec2) -> egui::Vec2 {
    if content.x <= 0.0 || content.y <= 0.0 {
        return bounds;
    }
    let scale = (bounds.x / content.x).min(bounds.y / content.y);
    content * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_keep_their_aspect_ratio() {
        let bounds = egui::vec2(200.0, 140.0);
        assert_eq!(
            fit(egui::vec2(400.0, 200.0), bounds),
            egui::vec2(200.0, 100.0)
        );
        assert_eq!(
            fit(egui::vec2(300.0, 400.0), bounds),
            egui::vec2(105.0, 140.0)
        );
        assert_eq!(fit(egui::vec2(0.0, 10.0), bounds), bounds);
    }
}
