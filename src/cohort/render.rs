//! Paints a [`Scene`] into a 448×448 RGB image.
//!
//! Backgrounds are evaluated per pixel (flat, linear gradient, anti-aliased stripes,
//! smooth value noise). Objects are painted in order from their signed distance
//! functions: coverage `clamp(0.5 − d, 0, 1)` with `d` in pixels gives one pixel of
//! anti-aliasing, and a thin darker outline keeps white or pale shapes readable on
//! light backgrounds. Pure function of the scene: the same scene gives the same
//! pixels. Writes no files.

use image::{Rgb, RgbImage};

use super::palette;
use super::scene::{Background, IMAGE_SIZE_PX, Scene, SceneObject};

/// Width of the darker outline around each object, pixels.
const OUTLINE_PX: f32 = 1.6;

/// Renders the scene at [`IMAGE_SIZE_PX`] square.
pub fn render_scene(scene: &Scene) -> RgbImage {
    let size = IMAGE_SIZE_PX;
    let mut pixels = vec![[0.0_f32; 3]; (size * size) as usize];
    for y in 0..size {
        for x in 0..size {
            pixels[(y * size + x) as usize] = background_at(&scene.background, x, y);
        }
    }
    for object in &scene.objects {
        paint_object(&mut pixels, object);
    }
    RgbImage::from_fn(size, size, |x, y| {
        let p = pixels[(y * size + x) as usize];
        Rgb([to_u8(p[0]), to_u8(p[1]), to_u8(p[2])])
    })
}

// Written out channel by channel: these run per pixel, and array `map` closures are
// slow in unoptimized (dev) builds.
fn to_f32(c: [u8; 3]) -> [f32; 3] {
    [f32::from(c[0]), f32::from(c[1]), f32::from(c[2])]
}

fn lerp(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

fn background_at(background: &Background, x: u32, y: u32) -> [f32; 3] {
    let size = IMAGE_SIZE_PX as f32;
    let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
    match background {
        Background::Flat { rgb } => to_f32(*rgb),
        Background::Gradient {
            from,
            to,
            angle_deg,
        } => {
            let (sin, cos) = angle_deg.to_radians().sin_cos();
            // Project onto the direction, scaled so the image's extent maps to [0, 1].
            let half_extent = 0.5 * size * (cos.abs() + sin.abs());
            let along = (px - size / 2.0) * cos + (py - size / 2.0) * sin;
            let t = (along / half_extent * 0.5 + 0.5).clamp(0.0, 1.0);
            lerp(to_f32(*from), to_f32(*to), t)
        }
        Background::Stripes {
            a,
            b,
            period_px,
            angle_deg,
        } => {
            let (sin, cos) = angle_deg.to_radians().sin_cos();
            let along = px * cos + py * sin;
            let phase = along.rem_euclid(*period_px);
            let half = period_px / 2.0;
            // Distance to the nearest stripe edge, signed: inside stripe `a` is negative.
            let d = if phase < half {
                -(phase.min(half - phase))
            } else {
                (phase - half).min(period_px - phase)
            };
            let t = (0.5 + d).clamp(0.0, 1.0);
            lerp(to_f32(*a), to_f32(*b), t)
        }
        Background::Noise {
            a,
            b,
            cell_px,
            seed,
        } => {
            let coarse = value_noise(px / cell_px, py / cell_px, *seed);
            let fine = value_noise(px / (cell_px / 3.0), py / (cell_px / 3.0), seed ^ 0x9e37);
            let t = (0.7 * coarse + 0.3 * fine).clamp(0.0, 1.0);
            lerp(to_f32(*a), to_f32(*b), t)
        }
    }
}

/// Smooth value noise in `[0, 1]`: random values on an integer lattice, interpolated
/// with a smoothstep.
fn value_noise(x: f32, y: f32, seed: u64) -> f32 {
    let (ix, iy) = (x.floor(), y.floor());
    let (fx, fy) = (x - ix, y - iy);
    let smooth = |t: f32| t * t * (3.0 - 2.0 * t);
    let (sx, sy) = (smooth(fx), smooth(fy));
    let corner = |dx: i64, dy: i64| lattice(ix as i64 + dx, iy as i64 + dy, seed);
    let top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * sx;
    let bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * sx;
    top + (bottom - top) * sy
}

fn lattice(x: i64, y: i64, seed: u64) -> f32 {
    let mut h = seed ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h = (h ^ (h >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    (h >> 40) as f32 / (1u64 << 24) as f32
}

fn paint_object(pixels: &mut [[f32; 3]], object: &SceneObject) {
    let size = IMAGE_SIZE_PX as f32;
    let fill = to_f32(object.rgb);
    let outline = to_f32(palette::darken(object.rgb, 0.55));
    // Everything the shape (plus anti-aliasing) can touch lies in its box plus 2 px.
    let [x0, y0, x1, y1] = object.bbox.map(|v| v * size);
    let lo_x = (x0 - 2.0).floor().max(0.0) as u32;
    let lo_y = (y0 - 2.0).floor().max(0.0) as u32;
    let hi_x = (x1 + 2.0).ceil().min(size) as u32;
    let hi_y = (y1 + 2.0).ceil().min(size) as u32;
    for y in lo_y..hi_y {
        for x in lo_x..hi_x {
            let p = [(x as f32 + 0.5) / size, (y as f32 + 0.5) / size];
            let d = object.signed_distance_px(p);
            let shape_coverage = (0.5 - d).clamp(0.0, 1.0);
            if shape_coverage <= 0.0 {
                continue;
            }
            let fill_coverage = (0.5 - (d + OUTLINE_PX)).clamp(0.0, 1.0);
            let pixel = &mut pixels[(y * IMAGE_SIZE_PX + x) as usize];
            *pixel = lerp(*pixel, outline, shape_coverage);
            *pixel = lerp(*pixel, fill, fill_coverage);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::scene::generate_scene;
    use rand::SeedableRng;

    #[test]
    fn objects_are_painted_in_their_colour_inside_their_box() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let scene = generate_scene(&mut rng);
        let image = render_scene(&scene);
        assert_eq!(image.dimensions(), (IMAGE_SIZE_PX, IMAGE_SIZE_PX));
        for object in &scene.objects {
            // A point well inside the shape: search the box for the deepest pixel.
            let size = IMAGE_SIZE_PX as f32;
            let [x0, y0, x1, y1] = object.bbox.map(|v| (v * size) as u32);
            let deepest = (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .min_by(|a, b| {
                    let d = |(x, y): (u32, u32)| {
                        object
                            .signed_distance_px([(x as f32 + 0.5) / size, (y as f32 + 0.5) / size])
                    };
                    d(*a).total_cmp(&d(*b))
                })
                .unwrap();
            let painted = image.get_pixel(deepest.0, deepest.1).0;
            // Later objects may cover earlier ones; objects rarely overlap, so the
            // colour must match for all but overlapping ones.
            let covered = scene.objects.iter().any(|o| {
                !std::ptr::eq(o, object)
                    && o.signed_distance_px([
                        (deepest.0 as f32 + 0.5) / size,
                        (deepest.1 as f32 + 0.5) / size,
                    ]) < 2.0
            });
            if !covered {
                assert_eq!(painted, object.rgb, "{:?}", object.shape);
            }
        }
    }

    #[test]
    fn edges_are_anti_aliased_and_outlined() {
        use crate::cohort::palette::ColourName;
        use crate::cohort::scene::SizeClass;
        use crate::cohort::shapes::Shape;
        let object = SceneObject {
            shape: Shape::Circle,
            colour: ColourName::Red,
            rgb: [200, 0, 0],
            size: SizeClass::Large,
            centre: [0.5, 0.5],
            radius: 0.2,
            rotation_deg: 0.0,
            bbox: [0.3, 0.3, 0.7, 0.7],
            position: "centre".into(),
        };
        let scene = Scene {
            background: Background::Flat {
                rgb: [255, 255, 255],
            },
            objects: vec![object.clone()],
        };
        let image = render_scene(&scene);
        let outline = palette::darken([200, 0, 0], 0.55);
        let size = IMAGE_SIZE_PX as f32;
        let mut blended = 0;
        for (x, y, pixel) in image.enumerate_pixels() {
            let d = object.signed_distance_px([(x as f32 + 0.5) / size, (y as f32 + 0.5) / size]);
            match pixel.0 {
                [255, 255, 255] => assert!(d > -0.5, "background inside at {x},{y}"),
                [200, 0, 0] => assert!(d < -OUTLINE_PX, "fill on the edge at {x},{y}"),
                p if p == outline => assert!((-OUTLINE_PX - 0.5..=0.5).contains(&d)),
                _ => {
                    assert!(
                        d.abs() < 0.5 || (d + OUTLINE_PX).abs() < 0.5,
                        "{d} at {x},{y}"
                    );
                    blended += 1;
                }
            }
        }
        // The circumference is about 2π·90 ≈ 560 px; most edge pixels are blended.
        assert!(blended > 400, "{blended}");
    }
}
