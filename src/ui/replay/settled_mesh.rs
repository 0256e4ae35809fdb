//! The settled part of a view's scanpath, built once: the saccade lines and the discs
//! of fixations that have ended no longer change, so they are turned into meshes the
//! first time they are drawn and only extended as playback moves on. Discs are quads
//! textured from the [`DiscAtlas`] (four vertices each); the rare disc larger than the
//! atlas is tessellated. Anything else (another view size, a seek backwards, a new
//! trail start, other options) starts the meshes afresh.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use egui::epaint::{Mesh, TessellationOptions, Tessellator};

use super::disc_atlas::{DiscAtlas, FILL_SHARE};
use super::scanpath::Scanpath;
use super::scene::fixation_radius_pt;

/// Which scanpath a cached mesh draws: one subject's trial in one view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SettledKey {
    /// The view (its index on screen).
    pub view: u64,
    /// The session folder of the subject.
    pub session: PathBuf,
    pub trial: String,
}

/// Everything the settled mesh's look depends on, besides how many fixations ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SettledLook {
    pub image_rect: egui::Rect,
    /// Size of the marks relative to the reference view.
    pub scale: f32,
    pub color: egui::Color32,
    pub pixels_per_point: f32,
    pub fixations: bool,
    pub saccades: bool,
    /// The first fixation shown (where the trail starts).
    pub first: usize,
}

impl SettledLook {
    /// Screen position of an image-normalized point.
    pub fn to_screen(&self, point: [f32; 2]) -> egui::Pos2 {
        self.image_rect.min + egui::vec2(point[0], point[1]) * self.image_rect.size()
    }

    /// The saccade lines' stroke.
    pub fn saccade_stroke(&self) -> egui::Stroke {
        egui::Stroke::new(1.5 * self.scale, self.color.gamma_multiply(0.85))
    }

    /// A fixation disc of `radius_pt` at image point `center`.
    pub fn disc(&self, center: [f32; 2], radius_pt: f32) -> egui::Shape {
        egui::Shape::Circle(egui::epaint::CircleShape {
            center: self.to_screen(center),
            radius: radius_pt,
            fill: self.color.gamma_multiply(FILL_SHARE),
            stroke: egui::Stroke::new(RING_WIDTH_PT, self.color),
        })
    }

    /// The saccade line through the centres of `fixations`' image points.
    pub fn saccades_through(&self, centers: impl Iterator<Item = [f32; 2]>) -> egui::Shape {
        let points: Vec<egui::Pos2> = centers.map(|c| self.to_screen(c)).collect();
        egui::Shape::line(points, self.saccade_stroke())
    }
}

/// Width of a fixation disc's ring, points.
pub const RING_WIDTH_PT: f32 = 1.5;

/// The meshes of one scanpath's settled fixations `[look.first, settled)`, in the
/// order they are drawn: lines under discs.
#[derive(Clone, Default)]
pub struct SettledMeshesOf {
    pub lines: Arc<Mesh>,
    /// Quads textured from the disc atlas.
    pub discs: Arc<Mesh>,
    /// Discs too large for the atlas, tessellated.
    pub large_discs: Arc<Mesh>,
}

impl SettledMeshesOf {
    /// The shapes to paint, in order.
    pub fn shapes(&self) -> [egui::Shape; 3] {
        [
            egui::Shape::Mesh(Arc::clone(&self.lines)),
            egui::Shape::Mesh(Arc::clone(&self.discs)),
            egui::Shape::Mesh(Arc::clone(&self.large_discs)),
        ]
    }
}

struct Settled {
    look: SettledLook,
    settled: usize,
    meshes: SettledMeshesOf,
}

/// The disc atlas for one display scale, uploaded.
struct AtlasTexture {
    pixels_per_point: f32,
    atlas: DiscAtlas,
    texture: egui::TextureHandle,
}

/// The cache the replay views draw from (interior mutability: views are drawn from a
/// shared borrow of the screen's state).
#[derive(Default)]
pub struct SettledMeshes {
    entries: RefCell<HashMap<SettledKey, Settled>>,
    atlas: RefCell<Option<AtlasTexture>>,
}

/// Entries beyond this are dropped all together (views closed, trials switched).
const MAX_ENTRIES: usize = 64;

impl SettledMeshes {
    /// Drops every mesh (the atlas stays): the next frame builds them again.
    pub fn clear_meshes(&self) {
        self.entries.borrow_mut().clear();
    }

    /// The meshes of `path`'s fixations `[look.first, settled)`, all of which have
    /// ended; extended from the last call when only `settled` grew.
    pub fn meshes(
        &self,
        ctx: &egui::Context,
        key: SettledKey,
        look: SettledLook,
        path: &Scanpath,
        settled: usize,
    ) -> SettledMeshesOf {
        let options = ctx.tessellation_options(|o| *o);
        let mut atlas = self.atlas.borrow_mut();
        if atlas
            .as_ref()
            .is_none_or(|a| a.pixels_per_point != look.pixels_per_point)
        {
            let discs = DiscAtlas::new(RING_WIDTH_PT * look.pixels_per_point);
            let texture = ctx.load_texture(
                "replay-fixation-discs",
                discs.image.clone(),
                egui::TextureOptions::LINEAR,
            );
            *atlas = Some(AtlasTexture {
                pixels_per_point: look.pixels_per_point,
                atlas: discs,
                texture,
            });
            // Meshes made for another atlas are stale.
            self.entries.borrow_mut().clear();
        }
        let Some(atlas) = atlas.as_ref() else {
            return SettledMeshesOf::default();
        };
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        let fresh = || Settled {
            look,
            settled: look.first,
            meshes: SettledMeshesOf {
                discs: Arc::new(Mesh::with_texture(atlas.texture.id())),
                ..SettledMeshesOf::default()
            },
        };
        let entry = entries.entry(key).or_insert_with(fresh);
        if entry.look != look || entry.settled > settled || entry.settled < look.first {
            *entry = fresh();
        }
        if settled > entry.settled {
            extend(entry, path, settled, options, &atlas.atlas);
        }
        entry.meshes.clone()
    }
}

/// Appends fixations `[entry.settled, settled)` and the saccades leading to them.
fn extend(
    entry: &mut Settled,
    path: &Scanpath,
    settled: usize,
    options: TessellationOptions,
    atlas: &DiscAtlas,
) {
    let look = entry.look;
    let ppp = look.pixels_per_point;
    let mut tessellator = Tessellator::new(ppp, options, [1, 1], Vec::new());
    // The line continues from the last settled fixation (if any is shown).
    let from = entry.settled.saturating_sub(1).max(look.first);
    if look.saccades && settled - from >= 2 {
        let centers = path.fixations[from..settled].iter().map(|f| f.center_image);
        tessellator.tessellate_shape(
            look.saccades_through(centers),
            Arc::make_mut(&mut entry.meshes.lines),
        );
    }
    if look.fixations {
        let discs = Arc::make_mut(&mut entry.meshes.discs);
        for fixation in &path.fixations[entry.settled..settled] {
            let radius_pt = fixation_radius_pt(fixation.duration_ms(), look.scale);
            let radius_px = radius_pt * ppp;
            match atlas.cell_for(radius_px) {
                Some(cell) => {
                    let half_side_pt = cell.half_side_px * (radius_px / cell.radius_px) / ppp;
                    let rect = egui::Rect::from_center_size(
                        look.to_screen(fixation.center_image),
                        egui::Vec2::splat(2.0 * half_side_pt),
                    );
                    discs.add_rect_with_uv(rect, cell.uv, look.color);
                }
                None => tessellator.tessellate_shape(
                    look.disc(fixation.center_image, radius_pt),
                    Arc::make_mut(&mut entry.meshes.large_discs),
                ),
            }
        }
    }
    entry.settled = settled;
}

#[cfg(test)]
mod tests {
    use super::super::scanpath::ScanFixation;
    use super::*;

    fn path(n: usize) -> Scanpath {
        Scanpath {
            fixations: (0..n)
                .map(|i| ScanFixation {
                    start_ms: i as f32 * 300.0,
                    end_ms: i as f32 * 300.0 + 250.0,
                    center_image: [(i % 7) as f32 / 7.0, (i % 5) as f32 / 5.0],
                })
                .collect(),
            trace: Vec::new(),
        }
    }

    fn look(first: usize) -> SettledLook {
        SettledLook {
            image_rect: egui::Rect::from_min_size(egui::pos2(10.0, 20.0), egui::vec2(600.0, 400.0)),
            scale: 1.0,
            color: egui::Color32::from_rgb(255, 99, 71),
            pixels_per_point: 1.0,
            fixations: true,
            saccades: true,
            first,
        }
    }

    fn key() -> SettledKey {
        SettledKey {
            view: 0,
            session: PathBuf::from("/s/a"),
            trial: "t1".to_owned(),
        }
    }

    /// The same fixations built in one go.
    fn in_one_go(path: &Scanpath, look: SettledLook, settled: usize) -> SettledMeshesOf {
        SettledMeshes::default().meshes(&egui::Context::default(), key(), look, path, settled)
    }

    #[test]
    fn extending_gives_what_building_in_one_go_gives() {
        let ctx = egui::Context::default();
        let path = path(40);
        let cache = SettledMeshes::default();
        for settled in [0, 1, 2, 5, 17, 40] {
            let meshes = cache.meshes(&ctx, key(), look(0), &path, settled);
            let whole = in_one_go(&path, look(0), settled);
            assert_eq!(
                meshes.discs.vertices, whole.discs.vertices,
                "{settled} settled"
            );
            // One quad per settled fixation.
            assert_eq!(meshes.discs.vertices.len(), 4 * settled);
            assert!(meshes.large_discs.is_empty());
        }
        // Extended piecewise, the line has a run per extension, each starting at the
        // previous run's last centre: no saccade is missing.
        let lines = cache.meshes(&ctx, key(), look(0), &path, 40).lines;
        assert!(lines.vertices.len() >= in_one_go(&path, look(0), 40).lines.vertices.len());
    }

    #[test]
    fn a_seek_back_or_another_look_starts_afresh() {
        let ctx = egui::Context::default();
        let path = path(30);
        let cache = SettledMeshes::default();
        cache.meshes(&ctx, key(), look(0), &path, 30);
        let back = cache.meshes(&ctx, key(), look(0), &path, 10);
        assert_eq!(
            back.discs.vertices,
            in_one_go(&path, look(0), 10).discs.vertices
        );
        let trail = cache.meshes(&ctx, key(), look(4), &path, 10);
        assert_eq!(trail.discs.vertices.len(), 4 * 6);
        let mut bigger = look(4);
        bigger.scale = 1.5;
        let scaled = cache.meshes(&ctx, key(), bigger, &path, 10);
        assert_eq!(
            scaled.discs.vertices,
            in_one_go(&path, bigger, 10).discs.vertices
        );
        assert_ne!(scaled.discs.vertices, trail.discs.vertices);
    }

    #[test]
    fn discs_beyond_the_atlas_are_tessellated() {
        let path = path(3);
        let mut huge = look(0);
        huge.scale = 40.0;
        let meshes = in_one_go(&path, huge, 3);
        assert!(meshes.discs.is_empty());
        assert!(!meshes.large_discs.is_empty());
    }

    #[test]
    fn no_fixations_or_no_saccades_leave_their_mesh_empty() {
        let path = path(10);
        let mut only_lines = look(0);
        only_lines.fixations = false;
        let meshes = in_one_go(&path, only_lines, 10);
        assert!(meshes.discs.is_empty());
        assert!(!meshes.lines.is_empty());
        let mut only_discs = look(0);
        only_discs.saccades = false;
        let meshes = in_one_go(&path, only_discs, 10);
        assert!(meshes.lines.is_empty());
        assert!(!meshes.discs.is_empty());
    }
}
