//! Procedural scenes: 3–8 labelled shapes on a varied background, generated from a
//! seed and an index, deterministically.
//!
//! A scene is pure data (what is where, with its ground-truth box normalized to the
//! image, origin top-left); [`super::render`] paints it. Objects are placed by
//! rejection sampling so they mostly do not overlap: a candidate is rejected when its
//! box comes closer than a margin to another's, and only when no free place is found
//! after many tries does the least overlapping candidate go in.

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::palette::{self, ColourName};
use super::shapes::Shape;

/// Side of every generated image, pixels.
pub const IMAGE_SIZE_PX: u32 = 448;

/// How big an object looks, by the word a speaker would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeClass {
    Small,
    Medium,
    Large,
}

impl SizeClass {
    pub const ALL: [Self; 3] = [Self::Small, Self::Medium, Self::Large];

    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }

    /// Radius range of the class, as a fraction of the image side.
    fn radius_range(self) -> std::ops::Range<f32> {
        match self {
            Self::Small => 0.045..0.065,
            Self::Medium => 0.075..0.100,
            Self::Large => 0.115..0.150,
        }
    }
}

/// Where in the image an object sits, in thirds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Region {
    /// 0 left, 1 centre, 2 right.
    pub column: u8,
    /// 0 top, 1 middle, 2 bottom.
    pub row: u8,
}

impl Region {
    pub fn of(point: [f32; 2]) -> Self {
        let third = |v: f32| ((v * 3.0).floor().clamp(0.0, 2.0)) as u8;
        Self {
            column: third(point[0]),
            row: third(point[1]),
        }
    }

    /// "top left", "middle", "bottom right", ...
    pub fn label(self) -> String {
        let row = ["top", "middle", "bottom"][usize::from(self.row)];
        let column = ["left", "centre", "right"][usize::from(self.column)];
        match (self.row, self.column) {
            (1, 1) => "centre".into(),
            (1, _) => column.into(),
            (_, 1) => row.into(),
            _ => format!("{row} {column}"),
        }
    }
}

/// One labelled object of a scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneObject {
    pub shape: Shape,
    pub colour: ColourName,
    /// The painted colour: a shade of `colour`.
    pub rgb: [u8; 3],
    pub size: SizeClass,
    /// Centre, normalized to the image, origin top-left.
    pub centre: [f32; 2],
    /// Radius of the shape's unit disc, as a fraction of the image side.
    pub radius: f32,
    pub rotation_deg: f32,
    /// Ground-truth box of the painted pixels, `[x0, y0, x1, y1]` normalized to the image.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// "top left", "centre", ... (see [`Region::label`]).
    pub position: String,
}

impl SceneObject {
    /// Area of the ground-truth box, as a fraction of the image.
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }

    /// Signed distance from an image-normalized point, in pixels (below 0 inside).
    pub fn signed_distance_px(&self, point: [f32; 2]) -> f32 {
        let size = IMAGE_SIZE_PX as f32;
        let r_px = self.radius * size;
        let (sin, cos) = (-self.rotation_deg).to_radians().sin_cos();
        let dx = (point[0] - self.centre[0]) * size / r_px;
        let dy = (point[1] - self.centre[1]) * size / r_px;
        let local = [dx * cos - dy * sin, dx * sin + dy * cos];
        self.shape.signed_distance(local) * r_px
    }

    pub fn region(&self) -> Region {
        Region::of(self.centre)
    }
}

/// What is behind the objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Background {
    Flat {
        rgb: [u8; 3],
    },
    /// Linear gradient from `from` to `to` along `angle_deg` (0 = left to right).
    Gradient {
        from: [u8; 3],
        to: [u8; 3],
        angle_deg: f32,
    },
    /// Stripes of `period_px` (both colours together) across `angle_deg`.
    Stripes {
        a: [u8; 3],
        b: [u8; 3],
        period_px: f32,
        angle_deg: f32,
    },
    /// Smooth value noise between two colours (a mottled texture).
    Noise {
        a: [u8; 3],
        b: [u8; 3],
        cell_px: f32,
        seed: u64,
    },
}

impl Background {
    /// "plain", "gradient", "striped", "mottled".
    pub fn kind_word(&self) -> &'static str {
        match self {
            Self::Flat { .. } => "plain",
            Self::Gradient { .. } => "gradient",
            Self::Stripes { .. } => "striped",
            Self::Noise { .. } => "mottled",
        }
    }

    /// The colour that dominates the background (for naming it and for contrast).
    pub fn main_rgb(&self) -> [u8; 3] {
        match self {
            Self::Flat { rgb } => *rgb,
            Self::Gradient { from, to, .. } => mix(*from, *to),
            Self::Stripes { a, b, .. } | Self::Noise { a, b, .. } => mix(*a, *b),
        }
    }

    fn colours(&self) -> Vec<[u8; 3]> {
        match self {
            Self::Flat { rgb } => vec![*rgb],
            Self::Gradient { from, to, .. } => vec![*from, *to],
            Self::Stripes { a, b, .. } | Self::Noise { a, b, .. } => vec![*a, *b],
        }
    }

    fn sample(rng: &mut impl Rng) -> Self {
        let a = palette::muted(rng);
        let b = palette::shade(a, 45, rng);
        match rng.gen_range(0..4) {
            0 => Self::Flat { rgb: a },
            1 => Self::Gradient {
                from: a,
                to: palette::muted(rng),
                angle_deg: rng.gen_range(0.0..360.0_f32).round(),
            },
            2 => Self::Stripes {
                a,
                b,
                period_px: rng.gen_range(14.0..48.0_f32).round(),
                angle_deg: [0.0, 45.0, 90.0, 135.0][rng.gen_range(0..4)],
            },
            _ => Self::Noise {
                a,
                b,
                cell_px: rng.gen_range(12.0..56.0_f32).round(),
                seed: rng.r#gen(),
            },
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3]) -> [u8; 3] {
    [0, 1, 2].map(|i| ((u16::from(a[i]) + u16::from(b[i])) / 2) as u8)
}

/// A generated scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub background: Background,
    /// In painting order (later objects are drawn over earlier ones).
    pub objects: Vec<SceneObject>,
}

/// Generates a scene; the same `rng` state always gives the same scene.
pub fn generate_scene(rng: &mut impl Rng) -> Scene {
    let background = Background::sample(rng);
    let count = rng.gen_range(3..=8);
    let mut sizes: Vec<SizeClass> = (0..count)
        .map(|i| match i {
            // At least one large object, so "biggest first" has a clear target.
            0 => SizeClass::Large,
            _ => *SizeClass::ALL.choose(rng).unwrap_or(&SizeClass::Medium),
        })
        .collect();
    // Crowded scenes get smaller objects so they still fit.
    if count >= 7 {
        for size in sizes.iter_mut().skip(2) {
            if *size == SizeClass::Large {
                *size = SizeClass::Medium;
            }
        }
    }
    let mut objects: Vec<SceneObject> = Vec::with_capacity(count);
    for size in sizes {
        let object = place_object(size, &objects, &background, rng);
        objects.push(object);
    }
    objects.shuffle(rng);
    Scene {
        background,
        objects,
    }
}

fn place_object(
    size: SizeClass,
    placed: &[SceneObject],
    background: &Background,
    rng: &mut impl Rng,
) -> SceneObject {
    let shape = Shape::ALL[rng.gen_range(0..Shape::ALL.len())];
    let colour = contrasting_colour(background, rng);
    let radius = rng.gen_range(size.radius_range());
    let max_rotation = shape.max_rotation_deg();
    let rotation_deg = if max_rotation > 0.0 {
        rng.gen_range(-max_rotation..=max_rotation).round()
    } else {
        0.0
    };
    let margin = 0.025;
    let mut best: Option<([f32; 2], f32)> = None;
    for _ in 0..300 {
        let lo = radius + 0.03;
        let centre = [rng.gen_range(lo..1.0 - lo), rng.gen_range(lo..1.0 - lo)];
        let overlap: f32 = placed
            .iter()
            .map(|o| {
                let gap_x = (centre[0] - o.centre[0]).abs() - radius - o.radius - margin;
                let gap_y = (centre[1] - o.centre[1]).abs() - radius - o.radius - margin;
                (-gap_x).max(0.0) * (-gap_y).max(0.0)
            })
            .sum();
        if best.is_none_or(|(_, b)| overlap < b) {
            best = Some((centre, overlap));
        }
        if overlap == 0.0 {
            break;
        }
    }
    let centre = best.map_or([0.5, 0.5], |(c, _)| c);
    let mut object = SceneObject {
        shape,
        colour,
        rgb: palette::shade(colour.rgb(), 14, rng),
        size,
        centre,
        radius,
        rotation_deg,
        bbox: [0.0; 4],
        position: Region::of(centre).label(),
    };
    object.bbox = measure_box(&object);
    object
}

/// A named colour that stands out from every colour of the background.
fn contrasting_colour(background: &Background, rng: &mut impl Rng) -> ColourName {
    let colours = background.colours();
    for _ in 0..50 {
        let candidate = ColourName::sample(rng);
        if colours
            .iter()
            .all(|&c| palette::distance(candidate.rgb(), c) > 110.0)
        {
            return candidate;
        }
    }
    ColourName::Black
}

/// The box of the pixels whose centres fall inside the shape.
fn measure_box(object: &SceneObject) -> [f32; 4] {
    let size = IMAGE_SIZE_PX as f32;
    let reach = object.radius * 1.5;
    let lo_x = ((object.centre[0] - reach) * size).floor().max(0.0) as u32;
    let hi_x = ((object.centre[0] + reach) * size).ceil().min(size - 1.0) as u32;
    let lo_y = ((object.centre[1] - reach) * size).floor().max(0.0) as u32;
    let hi_y = ((object.centre[1] + reach) * size).ceil().min(size - 1.0) as u32;
    let mut bbox = [u32::MAX, u32::MAX, 0, 0];
    for y in lo_y..=hi_y {
        for x in lo_x..=hi_x {
            let p = [(x as f32 + 0.5) / size, (y as f32 + 0.5) / size];
            if object.signed_distance_px(p) < 0.0 {
                bbox = [
                    bbox[0].min(x),
                    bbox[1].min(y),
                    bbox[2].max(x),
                    bbox[3].max(y),
                ];
            }
        }
    }
    if bbox[0] > bbox[2] {
        // Never happens for the radii used; fall back to the nominal square.
        let c = object.centre;
        let r = object.radius;
        return [c[0] - r, c[1] - r, c[0] + r, c[1] + r].map(|v| v.clamp(0.0, 1.0));
    }
    [
        bbox[0] as f32 / size,
        bbox[1] as f32 / size,
        (bbox[2] + 1) as f32 / size,
        (bbox[3] + 1) as f32 / size,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn scenes_have_three_to_eight_separate_objects_with_tight_boxes() {
        let mut overlapping_pairs = 0;
        let mut pairs = 0;
        for seed in 0..60 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let scene = generate_scene(&mut rng);
            assert!((3..=8).contains(&scene.objects.len()));
            for (i, a) in scene.objects.iter().enumerate() {
                let [x0, y0, x1, y1] = a.bbox;
                assert!(0.0 <= x0 && x0 < x1 && x1 <= 1.0 && 0.0 <= y0 && y0 < y1 && y1 <= 1.0);
                assert!(x1 - x0 <= 2.0 * a.radius + 0.01 && x1 - x0 >= a.radius);
                assert!(x0 < a.centre[0] && a.centre[0] < x1);
                for b in &scene.objects[i + 1..] {
                    pairs += 1;
                    let overlap = a.bbox[0] < b.bbox[2]
                        && b.bbox[0] < a.bbox[2]
                        && a.bbox[1] < b.bbox[3]
                        && b.bbox[1] < a.bbox[3];
                    overlapping_pairs += usize::from(overlap);
                }
            }
        }
        assert!(
            overlapping_pairs * 50 < pairs,
            "{overlapping_pairs} of {pairs} pairs overlap"
        );
    }

    #[test]
    fn region_labels_read_naturally() {
        assert_eq!(Region::of([0.1, 0.1]).label(), "top left");
        assert_eq!(Region::of([0.5, 0.5]).label(), "centre");
        assert_eq!(Region::of([0.9, 0.5]).label(), "right");
        assert_eq!(Region::of([0.5, 0.99]).label(), "bottom");
    }
}
