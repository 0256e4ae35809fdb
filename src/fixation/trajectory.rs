//! Fixations on the display → the attention trajectory on the stimulus image.
//!
//! Each fixation on the image becomes a box normalized to the image rectangle: the
//! bounding box of the fixation's samples, grown around its centre to at least a
//! foveal window (default 2° of visual angle, or a size in pixels for mouse traces
//! without viewing geometry), clipped to the image. Fixations whose centre is off the
//! image are dropped. The order is the viewing order.

use serde::{Deserialize, Serialize};

use super::Fixation;
use crate::dataset::TrajectoryStep;
use crate::study::ScreenGeometry;

/// Where the stimulus image was drawn, in display-normalized coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImagePlacement {
    /// `[x0, y0, x1, y1]` of the image on the display, normalized, origin top-left.
    pub rect_display: [f32; 4],
}

impl ImagePlacement {
    /// The image drawn as large as fits in `fraction` of the screen height, centred,
    /// keeping its aspect ratio (the presentation default).
    pub fn centred(screen: &ScreenGeometry, image_size_px: (u32, u32), fraction: f32) -> Self {
        let (screen_w, screen_h) = (screen.resolution_px.0 as f32, screen.resolution_px.1 as f32);
        let (image_w, image_h) = (image_size_px.0.max(1) as f32, image_size_px.1.max(1) as f32);
        let scale = (fraction * screen_h / image_h).min(fraction * screen_w / image_w);
        let (w, h) = (image_w * scale / screen_w, image_h * scale / screen_h);
        Self {
            rect_display: [0.5 - w / 2.0, 0.5 - h / 2.0, 0.5 + w / 2.0, 0.5 + h / 2.0],
        }
    }

    /// A display-normalized point in image-normalized coordinates (may fall outside `[0, 1]`).
    pub fn image_from_display(&self, point: [f32; 2]) -> [f32; 2] {
        let [x0, y0, x1, y1] = self.rect_display;
        [(point[0] - x0) / (x1 - x0), (point[1] - y0) / (y1 - y0)]
    }

    /// An image-normalized point in display-normalized coordinates.
    pub fn display_from_image(&self, point: [f32; 2]) -> [f32; 2] {
        let [x0, y0, x1, y1] = self.rect_display;
        [x0 + point[0] * (x1 - x0), y0 + point[1] * (y1 - y0)]
    }
}

/// Settings of the trajectory builder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryOptions {
    /// Boxes are grown to at least this visual angle on each side (foveal window).
    pub min_box_deg: f64,
    /// When set, boxes are grown to at least this many pixels on each side instead,
    /// using only the screen's `resolution_px` (pixel-space traces, e.g. mouse traces,
    /// whose size and viewing distance are unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_box_px: Option<f64>,
}

impl Default for TrajectoryOptions {
    fn default() -> Self {
        Self {
            min_box_deg: 2.0,
            min_box_px: None,
        }
    }
}

/// Builds the trajectory of the fixations that land on the image, in viewing order.
pub fn build_trajectory(
    fixations: &[Fixation],
    placement: &ImagePlacement,
    screen: &ScreenGeometry,
    options: &TrajectoryOptions,
) -> Vec<TrajectoryStep> {
    let [min_w_display, min_h_display] = match options.min_box_px {
        Some(px) => [
            px / f64::from(screen.resolution_px.0.max(1)),
            px / f64::from(screen.resolution_px.1.max(1)),
        ],
        None => screen.normalized_from_degrees(options.min_box_deg),
    };
    fixations
        .iter()
        .filter_map(|f| {
            let centre = placement.image_from_display(f.position_display);
            if !(0.0..=1.0).contains(&centre[0]) || !(0.0..=1.0).contains(&centre[1]) {
                return None;
            }
            let [bx0, by0, bx1, by1] = f.bbox_display;
            let grow = |lo: f32, hi: f32, centre: f32, min: f32| {
                if hi - lo >= min {
                    (lo, hi)
                } else {
                    (centre - min / 2.0, centre + min / 2.0)
                }
            };
            let [cx, cy] = f.position_display;
            let (x0, x1) = grow(bx0.min(cx), bx1.max(cx), cx, min_w_display as f32);
            let (y0, y1) = grow(by0.min(cy), by1.max(cy), cy, min_h_display as f32);
            let top_left = placement.image_from_display([x0, y0]);
            let bottom_right = placement.image_from_display([x1, y1]);
            let clip = |v: f32| v.clamp(0.0, 1.0);
            let bbox = [
                clip(top_left[0]),
                clip(top_left[1]),
                clip(bottom_right[0]),
                clip(bottom_right[1]),
            ];
            (bbox[0] < bbox[2] && bbox[1] < bbox[3]).then_some(TrajectoryStep {
                bbox,
                duration_ms: f.duration_ms() as f32,
            })
        })
        .filter(|step| step.duration_ms > 0.0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixation(x: f32, y: f32, ms: i64) -> Fixation {
        Fixation {
            start_us: 0,
            end_us: ms * 1000,
            position_display: [x, y],
            bbox_display: [x - 0.001, y - 0.001, x + 0.001, y + 0.001],
            sample_count: 10,
        }
    }

    #[test]
    fn boxes_are_grown_to_the_foveal_window_clipped_and_off_image_fixations_dropped() {
        let screen = ScreenGeometry::default();
        let placement = ImagePlacement::centred(&screen, (448, 448), 0.8);
        let centre = placement.display_from_image([0.5, 0.5]);
        let corner = placement.display_from_image([0.0, 0.0]);
        let fixations = [
            fixation(centre[0], centre[1], 300),
            fixation(0.01, 0.01, 200), // off the image
            fixation(corner[0] + 0.0001, corner[1] + 0.0001, 150),
        ];
        let steps = build_trajectory(
            &fixations,
            &placement,
            &screen,
            &TrajectoryOptions::default(),
        );
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].duration_ms, 300.0);
        let [x0, y0, x1, y1] = steps[0].bbox;
        // 2° at 65 cm on a 531 mm wide screen, in an image 0.8 of the screen height tall.
        let image_width_display = placement.rect_display[2] - placement.rect_display[0];
        let expected_w = screen.normalized_from_degrees(2.0)[0] as f32 / image_width_display;
        assert!(
            ((x1 - x0) - expected_w).abs() < 1e-4,
            "{} vs {expected_w}",
            x1 - x0
        );
        assert!((y1 - y0) > 0.0 && x0 < 0.5 && x1 > 0.5);
        assert_eq!(
            &steps[1].bbox[..2],
            &[0.0, 0.0],
            "clipped at the image corner"
        );
    }

    #[test]
    fn pixel_boxes_use_the_resolution_only() {
        let screen = ScreenGeometry {
            resolution_px: (1000, 500),
            ..ScreenGeometry::default()
        };
        let placement = ImagePlacement {
            rect_display: [0.0, 0.0, 1.0, 1.0],
        };
        let options = TrajectoryOptions {
            min_box_px: Some(100.0),
            ..TrajectoryOptions::default()
        };
        let steps = build_trajectory(&[fixation(0.5, 0.5, 200)], &placement, &screen, &options);
        let [x0, y0, x1, y1] = steps[0].bbox;
        assert!(((x1 - x0) - 0.1).abs() < 1e-6 && ((y1 - y0) - 0.2).abs() < 1e-6);
    }

    #[test]
    fn placement_round_trips() {
        let placement = ImagePlacement::centred(&ScreenGeometry::default(), (800, 600), 0.9);
        let p = placement.image_from_display(placement.display_from_image([0.25, 0.75]));
        assert!((p[0] - 0.25).abs() < 1e-6 && (p[1] - 0.75).abs() < 1e-6);
    }
}
