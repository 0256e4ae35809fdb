//! The fixation heat map: duration-weighted Gaussian kernels (sigma in degrees of
//! visual angle) summed into a density, normalized by its peak, coloured with a
//! perceptual colour map and blended over the stimulus with an adjustable opacity.
//!
//! The drawing is a WGSL shader (`shaders/heatmap.wgsl`, see [`gpu`]) run through an
//! egui_wgpu paint callback; [`cpu`] is the reference implementation of the same
//! maths, which the tests compare the shader's output against. The inputs built here
//! (the kernels and the sigma on the image) are shared by both.

pub mod cpu;
pub mod gpu;

use crate::fixation::ImagePlacement;
use crate::study::ScreenGeometry;

use super::scanpath::Scanpath;

/// Kernels reach this many sigmas out; beyond, the density counts as zero.
pub const EXTENT_SIGMAS: f32 = 3.0;

/// Normalized densities below this ramp fade in linearly from transparent, so areas
/// nobody looked at keep the stimulus visible.
pub const ALPHA_RAMP: f32 = 0.15;

/// The accumulation texture's longest side is at most this many pixels.
pub const MAX_DENSITY_SIDE_PX: u32 = 1024;

/// The perceptual colour maps offered (polynomial fits of matplotlib's maps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMap {
    #[default]
    Viridis,
    Inferno,
}

impl ColorMap {
    pub const ALL: [Self; 2] = [Self::Viridis, Self::Inferno];

    pub fn label(self) -> &'static str {
        match self {
            Self::Viridis => "viridis",
            Self::Inferno => "inferno",
        }
    }

    /// The index the shader uses.
    pub fn shader_index(self) -> u32 {
        match self {
            Self::Viridis => 0,
            Self::Inferno => 1,
        }
    }
}

/// What the user sets for the heat map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatmapSettings {
    pub enabled: bool,
    /// Kernel standard deviation, degrees of visual angle.
    pub sigma_deg: f32,
    /// Opacity over the stimulus, `0..=1`.
    pub opacity: f32,
    pub color_map: ColorMap,
}

impl Default for HeatmapSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            sigma_deg: 1.0,
            opacity: 0.7,
            color_map: ColorMap::Viridis,
        }
    }
}

/// One Gaussian kernel: a fixation's centre on the image and its weight (duration
/// looked so far, seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kernel {
    pub center_image: [f32; 2],
    pub weight: f32,
}

/// Everything needed to draw one heat map.
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapInput {
    pub kernels: Vec<Kernel>,
    /// Kernel sigma in image-normalized units, `[x, y]` (the image is rarely square).
    pub sigma_image: [f32; 2],
    pub opacity: f32,
    pub color_map: ColorMap,
}

/// Sigma on the image for `sigma_deg` of visual angle: degrees → screen pixels with
/// the screen's pixels per degree, then → the image's share of the screen.
pub fn sigma_on_image(
    sigma_deg: f32,
    screen: &ScreenGeometry,
    placement: &ImagePlacement,
) -> [f32; 2] {
    let sigma_px = f64::from(sigma_deg) * screen.px_per_degree();
    let [x0, y0, x1, y1] = placement.rect_display;
    let image_w_px = f64::from(x1 - x0) * f64::from(screen.resolution_px.0);
    let image_h_px = f64::from(y1 - y0) * f64::from(screen.resolution_px.1);
    [
        (sigma_px / image_w_px.max(1.0)) as f32,
        (sigma_px / image_h_px.max(1.0)) as f32,
    ]
}

/// Appends the kernels of the fixations seen by `t_ms`, from `first` on, each weighted
/// by how long it has lasted so far (seconds).
pub fn push_kernels(path: &Scanpath, first: usize, t_ms: f32, out: &mut Vec<Kernel>) {
    let started = path.started_count(t_ms);
    out.extend(
        path.fixations[first.min(started)..started]
            .iter()
            .map(|f| Kernel {
                center_image: f.center_image,
                weight: f.elapsed_ms(t_ms) / 1000.0,
            })
            .filter(|k| k.weight > 0.0),
    );
}

/// The size of the density texture for a view of `view_px` pixels: the view's own
/// size, shrunk to fit [`MAX_DENSITY_SIDE_PX`] (the density is smooth).
pub fn density_size_px(view_px: [u32; 2]) -> [u32; 2] {
    let [w, h] = [view_px[0].max(1), view_px[1].max(1)];
    let longest = w.max(h);
    if longest <= MAX_DENSITY_SIDE_PX {
        return [w, h];
    }
    let scale = f64::from(MAX_DENSITY_SIDE_PX) / f64::from(longest);
    [
        ((f64::from(w) * scale).round() as u32).max(1),
        ((f64::from(h) * scale).round() as u32).max(1),
    ]
}

/// The colour map at `v` in `0..=1`, sRGB-encoded components `0..=1` (the shader has
/// the same polynomials).
pub fn color_map_rgb(map: ColorMap, v: f32) -> [f32; 3] {
    const VIRIDIS: [[f32; 3]; 7] = [
        [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
        [0.105_093_04, 1.404_613_5, 1.384_590_2],
        [-0.330_861_83, 0.214_847_56, 0.095_095_16],
        [-4.634_230_6, -5.799_101, -19.332_441],
        [6.228_27, 14.179_933, 56.690_55],
        [4.776_385, -13.745_145, -65.353_035],
        [-5.435_456, 4.645_852_6, 26.312_435],
    ];
    const INFERNO: [[f32; 3]; 7] = [
        [0.000_218_940_37, 0.001_651_004_6, -0.019_480_898],
        [0.106_513_42, 0.563_956_4, 3.932_712_4],
        [11.602_493, -3.972_854, -15.942_394],
        [-41.703_995, 17.436_4, 44.354_145],
        [77.162_94, -33.402_36, -81.807_31],
        [-71.319_43, 32.626_064, 73.209_52],
        [25.131_126, -12.242_669, -23.070_325],
    ];
    let c = match map {
        ColorMap::Viridis => &VIRIDIS,
        ColorMap::Inferno => &INFERNO,
    };
    let t = v.clamp(0.0, 1.0);
    std::array::from_fn(|i| {
        let mut acc = c[6][i];
        for k in (0..6).rev() {
            acc = c[k][i] + t * acc;
        }
        acc.clamp(0.0, 1.0)
    })
}

/// Premultiplied sRGB colour and alpha of a normalized density `v` in `0..=1`.
pub fn shade(map: ColorMap, v: f32, opacity: f32) -> [f32; 4] {
    let v = v.clamp(0.0, 1.0);
    let alpha = opacity.clamp(0.0, 1.0) * (v / ALPHA_RAMP).min(1.0);
    let [r, g, b] = color_map_rgb(map, v);
    [r * alpha, g * alpha, b * alpha, alpha]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_follows_the_viewing_geometry() {
        let screen = ScreenGeometry::default();
        // The image fills the whole screen: sigma is px_per_degree over the resolution.
        let full = ImagePlacement {
            rect_display: [0.0, 0.0, 1.0, 1.0],
        };
        let [sx, sy] = sigma_on_image(2.0, &screen, &full);
        let ppd = screen.px_per_degree() as f32;
        assert!((sx - 2.0 * ppd / 1920.0).abs() < 1e-6);
        assert!((sy - 2.0 * ppd / 1080.0).abs() < 1e-6);
        // Half as wide an image: twice the share.
        let half = ImagePlacement {
            rect_display: [0.25, 0.0, 0.75, 1.0],
        };
        assert!((sigma_on_image(2.0, &screen, &half)[0] - 2.0 * sx).abs() < 1e-6);
    }

    #[test]
    fn colour_maps_run_dark_to_bright_and_alpha_ramps_in() {
        for map in ColorMap::ALL {
            let low = color_map_rgb(map, 0.0).iter().sum::<f32>();
            let high = color_map_rgb(map, 1.0).iter().sum::<f32>();
            assert!(low < 0.8 && high > 1.5, "{map:?}: {low} → {high}");
        }
        // Viridis ends yellow.
        let [r, g, b] = color_map_rgb(ColorMap::Viridis, 1.0);
        assert!(r > 0.9 && g > 0.85 && b < 0.2, "{r} {g} {b}");
        assert_eq!(shade(ColorMap::Viridis, 0.0, 0.7)[3], 0.0);
        assert!((shade(ColorMap::Viridis, 1.0, 0.7)[3] - 0.7).abs() < 1e-6);
        assert!((shade(ColorMap::Viridis, ALPHA_RAMP / 2.0, 1.0)[3] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn density_textures_stay_bounded() {
        assert_eq!(density_size_px([800, 600]), [800, 600]);
        assert_eq!(density_size_px([2048, 1024]), [1024, 512]);
        assert_eq!(density_size_px([0, 0]), [1, 1]);
    }
}
