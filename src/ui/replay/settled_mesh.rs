//! The settled part of a view's scanpath, tessellated once: the saccade lines and the
//! discs of fixations that have ended no longer change, so they are turned into a mesh
//! the first time they are drawn and only extended as playback moves on. A frame with
//! thousands of fixations on screen then costs one mesh copy instead of tessellating
//! every disc again. Anything else (another view size, a seek backwards, a new trail
//! start, other options) starts the mesh afresh.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use egui::epaint::{Mesh, TessellationOptions, Tessellator};

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
            fill: self.color.gamma_multiply(0.35),
            stroke: egui::Stroke::new(1.5, self.color),
        })
    }

    /// The saccade line through the centres of `fixations`' image points.
    pub fn saccades_through(&self, centers: impl Iterator<Item = [f32; 2]>) -> egui::Shape {
        let points: Vec<egui::Pos2> = centers.map(|c| self.to_screen(c)).collect();
        egui::Shape::line(points, self.saccade_stroke())
    }
}

/// The meshes of one scanpath's settled fixations `[look.first, settled)`.
struct Settled {
    look: SettledLook,
    settled: usize,
    /// Drawn first, so lines never cover discs.
    lines: Arc<Mesh>,
    discs: Arc<Mesh>,
}

/// The cache the replay views draw from (interior mutability: views are drawn from a
/// shared borrow of the screen's state).
#[derive(Default)]
pub struct SettledMeshes {
    entries: RefCell<HashMap<SettledKey, Settled>>,
}

/// Entries beyond this are dropped all together (views closed, trials switched).
const MAX_ENTRIES: usize = 64;

impl SettledMeshes {
    /// The meshes (saccade lines, fixation discs) of `path`'s fixations
    /// `[look.first, settled)`, all of which have ended; extended from the last call
    /// when only `settled` grew.
    pub fn meshes(
        &self,
        key: SettledKey,
        look: SettledLook,
        path: &Scanpath,
        settled: usize,
        options: TessellationOptions,
    ) -> (Arc<Mesh>, Arc<Mesh>) {
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        let entry = entries.entry(key).or_insert_with(|| Settled {
            look,
            settled: look.first,
            lines: Arc::default(),
            discs: Arc::default(),
        });
        if entry.look != look || entry.settled > settled || entry.settled < look.first {
            *entry = Settled {
                look,
                settled: look.first,
                lines: Arc::default(),
                discs: Arc::default(),
            };
        }
        if settled > entry.settled {
            extend(entry, path, settled, options);
        }
        (Arc::clone(&entry.lines), Arc::clone(&entry.discs))
    }
}

/// Appends fixations `[entry.settled, settled)` and the saccades leading to them.
fn extend(entry: &mut Settled, path: &Scanpath, settled: usize, options: TessellationOptions) {
    let look = entry.look;
    let mut tessellator = Tessellator::new(look.pixels_per_point, options, [1, 1], Vec::new());
    // The line continues from the last settled fixation (if any is shown).
    let from = entry.settled.saturating_sub(1).max(look.first);
    if look.saccades && settled - from >= 2 {
        let centers = path.fixations[from..settled].iter().map(|f| f.center_image);
        tessellator.tessellate_shape(
            look.saccades_through(centers),
            Arc::make_mut(&mut entry.lines),
        );
    }
    if look.fixations {
        let discs = Arc::make_mut(&mut entry.discs);
        for fixation in &path.fixations[entry.settled..settled] {
            let radius = fixation_radius_pt(fixation.duration_ms(), look.scale);
            tessellator.tessellate_shape(look.disc(fixation.center_image, radius), discs);
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

    /// The same fixations tessellated in one go.
    fn in_one_go(path: &Scanpath, look: SettledLook, settled: usize) -> (Mesh, Mesh) {
        let fresh = SettledMeshes::default();
        let (lines, discs) = fresh.meshes(key(), look, path, settled, Default::default());
        ((*lines).clone(), (*discs).clone())
    }

    #[test]
    fn extending_draws_every_disc_once_and_a_continuous_line() {
        let path = path(40);
        let cache = SettledMeshes::default();
        for settled in [0, 1, 2, 5, 17, 40] {
            let (_, discs) = cache.meshes(key(), look(0), &path, settled, Default::default());
            let (_, whole) = in_one_go(&path, look(0), settled);
            assert_eq!(
                discs.vertices.len(),
                whole.vertices.len(),
                "{settled} settled"
            );
            assert_eq!(discs.vertices, whole.vertices);
        }
        let (lines, _) = cache.meshes(key(), look(0), &path, 40, Default::default());
        assert!(!lines.vertices.is_empty());
        // Extended piecewise: one segment run per extension, each sharing its first
        // centre with the previous run's last, so no saccade is missing.
        let one_disc = in_one_go(&path, look(0), 1).1.vertices.len();
        assert_eq!(
            in_one_go(&path, look(0), 40).1.vertices.len(),
            40 * one_disc
        );
    }

    #[test]
    fn a_seek_back_or_another_look_starts_afresh() {
        let path = path(30);
        let cache = SettledMeshes::default();
        cache.meshes(key(), look(0), &path, 30, Default::default());
        let (_, back) = cache.meshes(key(), look(0), &path, 10, Default::default());
        assert_eq!(back.vertices, in_one_go(&path, look(0), 10).1.vertices);
        let (_, trail) = cache.meshes(key(), look(4), &path, 10, Default::default());
        assert_eq!(trail.vertices, in_one_go(&path, look(4), 10).1.vertices);
        let mut bigger = look(4);
        bigger.scale = 1.5;
        let (_, scaled) = cache.meshes(key(), bigger, &path, 10, Default::default());
        assert_eq!(scaled.vertices, in_one_go(&path, bigger, 10).1.vertices);
        assert_ne!(scaled.vertices, trail.vertices);
    }

    #[test]
    fn no_fixations_or_no_saccades_leave_their_mesh_empty() {
        let path = path(10);
        let mut only_lines = look(0);
        only_lines.fixations = false;
        let (lines, discs) = in_one_go(&path, only_lines, 10);
        assert!(discs.is_empty());
        assert!(!lines.is_empty());
        let mut only_discs = look(0);
        only_discs.saccades = false;
        let (lines, discs) = in_one_go(&path, only_discs, 10);
        assert!(lines.is_empty());
        assert!(!discs.is_empty());
    }
}
