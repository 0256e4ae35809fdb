//! Fixation discs as textured quads: one texture holds an anti-aliased disc (a 35 %
//! fill inside a solid ring, both white, tinted by the vertex colour) for each of a
//! geometric series of radii in physical pixels. A settled fixation is then four
//! vertices instead of the few hundred a tessellated, feathered, stroked circle takes,
//! which is what keeps a replay of thousands of fixations within a frame budget.
//! Radii between two cells take the next larger cell, shrunk (the ring is then at most
//! [`RADIUS_STEP`] thinner); radii beyond the largest cell are not in the atlas.

/// Share of the colour the inside of a disc gets (the ring gets all of it).
pub const FILL_SHARE: f32 = 0.35;
/// Ratio between the radii of neighbouring cells.
pub const RADIUS_STEP: f32 = 1.12;
const SMALLEST_RADIUS_PX: f32 = 2.0;
/// The largest cell is the first of the series at least this large.
const LARGEST_RADIUS_PX: f32 = 128.0;
/// Empty pixels around each cell, so linear filtering never reads a neighbour.
const PADDING_PX: usize = 2;
const ATLAS_WIDTH_PX: usize = 2048;

/// One disc in the atlas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub radius_px: f32,
    /// Half the side of the square the disc's pixels cover (radius, ring, edge), px.
    pub half_side_px: f32,
    /// Where the square is in the texture (normalized).
    pub uv: egui::Rect,
}

/// The disc image and where each radius is in it.
pub struct DiscAtlas {
    pub image: egui::ColorImage,
    /// By increasing radius.
    pub cells: Vec<Cell>,
    pub ring_width_px: f32,
}

impl DiscAtlas {
    /// Discs whose ring is `ring_width_px` wide (outside the radius, as egui strokes
    /// circles).
    pub fn new(ring_width_px: f32) -> Self {
        let mut radii = Vec::new();
        let mut radius = SMALLEST_RADIUS_PX;
        loop {
            radii.push(radius);
            if radius >= LARGEST_RADIUS_PX {
                break;
            }
            radius *= RADIUS_STEP;
        }
        // Shelf packing, largest first, rows left to right.
        let sides: Vec<usize> = radii
            .iter()
            .map(|r| 2 * ((r + ring_width_px).ceil() as usize + 1) + 2 * PADDING_PX)
            .collect();
        let mut placed = vec![[0usize; 2]; radii.len()];
        let (mut x, mut y, mut row_height) = (0usize, 0usize, 0usize);
        for index in (0..radii.len()).rev() {
            let side = sides[index];
            if x + side > ATLAS_WIDTH_PX {
                x = 0;
                y += row_height;
                row_height = 0;
            }
            placed[index] = [x, y];
            x += side;
            row_height = row_height.max(side);
        }
        let height = y + row_height;
        let mut image =
            egui::ColorImage::filled([ATLAS_WIDTH_PX, height], egui::Color32::TRANSPARENT);
        let mut cells = Vec::with_capacity(radii.len());
        for (index, &radius_px) in radii.iter().enumerate() {
            let side = sides[index];
            let [x0, y0] = placed[index];
            let half = (side - 2 * PADDING_PX) as f32 / 2.0;
            let center = [x0 as f32 + side as f32 / 2.0, y0 as f32 + side as f32 / 2.0];
            // Sides are even, so the disc is symmetric about both axes of the cell:
            // one quadrant is computed and mirrored.
            for i in 0..side / 2 {
                for j in 0..side / 2 {
                    let dx = x0 as f32 + i as f32 + 0.5 - center[0];
                    let dy = y0 as f32 + j as f32 + 0.5 - center[1];
                    let alpha = disc_alpha((dx * dx + dy * dy).sqrt(), radius_px, ring_width_px);
                    let pixel = egui::Color32::from_white_alpha((alpha * 255.0).round() as u8);
                    let (left, right) = (x0 + i, x0 + side - 1 - i);
                    let (top, bottom) = (y0 + j, y0 + side - 1 - j);
                    for (x, y) in [(left, top), (right, top), (left, bottom), (right, bottom)] {
                        image[(x, y)] = pixel;
                    }
                }
            }
            let size = egui::vec2(ATLAS_WIDTH_PX as f32, height as f32);
            let min = egui::pos2(center[0] - half, center[1] - half);
            let max = egui::pos2(center[0] + half, center[1] + half);
            cells.push(Cell {
                radius_px,
                half_side_px: half,
                uv: egui::Rect::from_min_max(
                    (min.to_vec2() / size).to_pos2(),
                    (max.to_vec2() / size).to_pos2(),
                ),
            });
        }
        Self {
            image,
            cells,
            ring_width_px,
        }
    }

    /// The cell to draw a disc of `radius_px` with: the smallest at least that large.
    pub fn cell_for(&self, radius_px: f32) -> Option<&Cell> {
        let index = self.cells.partition_point(|c| c.radius_px < radius_px);
        self.cells.get(index)
    }
}

/// Coverage of the disc at `distance_px` from its centre: [`FILL_SHARE`] inside,
/// 1 on the ring, 0 outside, with a one-pixel anti-aliased edge at each boundary.
fn disc_alpha(distance_px: f32, radius_px: f32, ring_width_px: f32) -> f32 {
    let inside = (radius_px - distance_px + 0.5).clamp(0.0, 1.0);
    let within_ring = (radius_px + ring_width_px - distance_px + 0.5).clamp(0.0, 1.0);
    FILL_SHARE * inside + (within_ring - inside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discs_are_filled_ringed_and_clear_outside() {
        let atlas = DiscAtlas::new(1.5);
        let cell = *atlas.cell_for(20.0).unwrap();
        assert!(cell.radius_px >= 20.0 && cell.radius_px < 20.0 * RADIUS_STEP);
        let size = atlas.image.size;
        let to_px = |u: f32, v: f32| [(u * size[0] as f32) as usize, (v * size[1] as f32) as usize];
        let center = cell.uv.center();
        let alpha_at = |offset_px: f32| {
            let [x, y] = to_px(center.x + offset_px / size[0] as f32, center.y);
            atlas.image[(x, y)].a()
        };
        assert_eq!(alpha_at(0.0), (FILL_SHARE * 255.0).round() as u8);
        assert_eq!(alpha_at(cell.radius_px + 0.75), 255, "the ring");
        assert_eq!(alpha_at(cell.half_side_px - 0.5), 0, "outside");
        for offset in [3.0, 9.5, cell.radius_px, cell.radius_px + 1.0] {
            assert_eq!(alpha_at(offset), alpha_at(-offset), "mirrored at {offset}");
        }
    }

    #[test]
    fn every_radius_in_range_has_a_cell_and_cells_do_not_overlap() {
        let atlas = DiscAtlas::new(3.0);
        assert!(atlas.cell_for(0.5).is_some());
        assert!(atlas.cell_for(128.0).is_some());
        assert!(atlas.cell_for(200.0).is_none());
        for (i, a) in atlas.cells.iter().enumerate() {
            for b in &atlas.cells[i + 1..] {
                assert!(!a.uv.intersects(b.uv) || a.uv.intersect(b.uv).area() < 1e-9);
            }
        }
    }
}
