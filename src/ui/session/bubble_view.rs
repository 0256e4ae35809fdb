//! Drawing a BubbleView stimulus: the blurred image, and over it the sharp image
//! through a disc around each revealed click (the latest one, or all of them when
//! the study keeps bubbles open). A disc is a textured fan from the sharp image's
//! texture, clipped to the image, with a thin feathered rim so its edge is smooth.
//! Used by the subject's screen and, in miniature, by the experimenter's monitor.

use egui::epaint::{Mesh, Vertex};

use crate::study::{BubbleView, LoadedStudy};

/// Rim vertices of a disc.
const SEGMENTS: usize = 64;
/// The share of the radius over which the disc's edge fades into the blur.
const FEATHER: f32 = 0.12;

/// What a BubbleView stimulus needs besides its textures.
#[derive(Debug, Clone, Copy)]
pub struct Bubbles<'a> {
    /// The clicks so far, display-normalized, in order.
    pub clicks_display: &'a [[f32; 2]],
    /// The bubble's radius, display-normalized `[horizontal, vertical]`.
    pub radius_display: [f32; 2],
    pub keep_revealed: bool,
}

impl<'a> Bubbles<'a> {
    pub fn new(study: &LoadedStudy, settings: &BubbleView, clicks_display: &'a [[f32; 2]]) -> Self {
        Self {
            clicks_display,
            radius_display: crate::session::bubbles::bubble_radius_display(
                &study.study.screen,
                settings,
            ),
            keep_revealed: settings.keep_revealed,
        }
    }

    /// The clicks whose bubbles are open now.
    pub fn open(&self) -> &'a [[f32; 2]] {
        if self.keep_revealed {
            self.clicks_display
        } else {
            let start = self.clicks_display.len().saturating_sub(1);
            &self.clicks_display[start..]
        }
    }
}

/// Paints the blurred image into `image_rect` (the image's rectangle on screen,
/// which covers `image_rect_display` of the display) and the open bubbles.
pub fn paint(
    painter: &egui::Painter,
    sharp: egui::TextureId,
    blurred: egui::TextureId,
    image_rect: egui::Rect,
    image_rect_display: [f32; 4],
    bubbles: &Bubbles<'_>,
) {
    let full_uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    painter.image(blurred, image_rect, full_uv, egui::Color32::WHITE);
    let [x0, y0, x1, y1] = image_rect_display;
    let to_image = |p: [f32; 2]| [(p[0] - x0) / (x1 - x0), (p[1] - y0) / (y1 - y0)];
    let radius_image = [
        bubbles.radius_display[0] / (x1 - x0),
        bubbles.radius_display[1] / (y1 - y0),
    ];
    for &click in bubbles.open() {
        painter.add(disc_mesh(sharp, image_rect, to_image(click), radius_image));
    }
}

/// A disc of the texture around `centre` (image-normalized), radius in image units,
/// clipped to the image; the texture's coordinates are the image's.
pub fn disc_mesh(
    texture: egui::TextureId,
    image_rect: egui::Rect,
    centre: [f32; 2],
    radius: [f32; 2],
) -> Mesh {
    let mut mesh = Mesh::with_texture(texture);
    let vertex = |uv: [f32; 2], alpha: u8| {
        let uv = [uv[0].clamp(0.0, 1.0), uv[1].clamp(0.0, 1.0)];
        Vertex {
            pos: egui::pos2(
                image_rect.left() + uv[0] * image_rect.width(),
                image_rect.top() + uv[1] * image_rect.height(),
            ),
            uv: egui::pos2(uv[0], uv[1]),
            color: egui::Color32::from_white_alpha(alpha),
        }
    };
    mesh.vertices.push(vertex(centre, 255));
    let ring = |scale: f32, i: usize| {
        let angle = i as f32 / SEGMENTS as f32 * std::f32::consts::TAU;
        [
            centre[0] + radius[0] * scale * angle.cos(),
            centre[1] + radius[1] * scale * angle.sin(),
        ]
    };
    for i in 0..SEGMENTS {
        mesh.vertices.push(vertex(ring(1.0 - FEATHER, i), 255));
        mesh.vertices.push(vertex(ring(1.0, i), 0));
    }
    for i in 0..SEGMENTS {
        let (inner, outer) = (1 + 2 * i as u32, 2 + 2 * i as u32);
        let next = (i + 1) % SEGMENTS;
        let (next_inner, next_outer) = (1 + 2 * next as u32, 2 + 2 * next as u32);
        mesh.add_triangle(0, inner, next_inner);
        mesh.add_triangle(inner, outer, next_outer);
        mesh.add_triangle(inner, next_outer, next_inner);
    }
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disc_samples_the_image_where_it_is_drawn_and_stays_inside_it() {
        let image_rect =
            egui::Rect::from_min_size(egui::pos2(100.0, 50.0), egui::vec2(400.0, 200.0));
        let mesh = disc_mesh(
            egui::TextureId::default(),
            image_rect,
            [0.98, 0.5],
            [0.1, 0.2],
        );
        assert_eq!(mesh.vertices.len(), 1 + 2 * SEGMENTS);
        assert_eq!(mesh.indices.len(), 9 * SEGMENTS);
        for v in &mesh.vertices {
            assert!(
                image_rect.expand(1e-3).contains(v.pos),
                "{:?} outside",
                v.pos
            );
            let expected = image_rect.left() + v.uv.x * image_rect.width();
            assert!((v.pos.x - expected).abs() < 1e-3);
        }
        assert_eq!(mesh.vertices[0].uv, egui::pos2(0.98, 0.5));
        assert_eq!(mesh.vertices[2].color.a(), 0, "the rim fades out");
    }

    #[test]
    fn only_the_latest_bubble_is_open_unless_they_are_kept() {
        let clicks = [[0.1, 0.1], [0.5, 0.5]];
        let mut bubbles = Bubbles {
            clicks_display: &clicks,
            radius_display: [0.02, 0.03],
            keep_revealed: false,
        };
        assert_eq!(bubbles.open(), &clicks[1..]);
        bubbles.keep_revealed = true;
        assert_eq!(bubbles.open(), &clicks[..]);
        bubbles.clicks_display = &[];
        assert!(bubbles.open().is_empty());
    }
}
