//! The heat map computed on the CPU, pixel by pixel: the reference the WGSL shader is
//! tested against (same kernels, same truncation, same normalization, same colours).

use super::{EXTENT_SIGMAS, HeatmapInput, shade};

/// The summed kernel density at each pixel centre of a `size_px` grid over the image,
/// row-major (what the shader's accumulation pass writes).
pub fn density(input: &HeatmapInput, size_px: [u32; 2]) -> Vec<f32> {
    let [w, h] = size_px;
    let [sx, sy] = input.sigma_image;
    let mut out = vec![0.0_f32; (w as usize) * (h as usize)];
    for kernel in &input.kernels {
        let [cx, cy] = kernel.center_image;
        // Only the pixels inside the kernel's square (as the shader's quad).
        let x_range = pixel_range(cx, sx, w);
        let y_range = pixel_range(cy, sy, h);
        for y in y_range {
            let v = ((y as f32 + 0.5) / h as f32 - cy) / sy;
            for x in x_range.clone() {
                let u = ((x as f32 + 0.5) / w as f32 - cx) / sx;
                out[y * w as usize + x] += kernel.weight * (-0.5 * (u * u + v * v)).exp();
            }
        }
    }
    out
}

/// Pixels whose centres lie inside `center ± EXTENT_SIGMAS·sigma` (normalized).
fn pixel_range(center: f32, sigma: f32, size: u32) -> std::ops::Range<usize> {
    let n = size as f32;
    let lo = ((center - EXTENT_SIGMAS * sigma) * n - 0.5).ceil().max(0.0);
    let hi = ((center + EXTENT_SIGMAS * sigma) * n - 0.5)
        .floor()
        .min(n - 1.0);
    if hi < lo {
        return 0..0;
    }
    lo as usize..hi as usize + 1
}

/// The coloured heat map, premultiplied sRGB + alpha per pixel, normalized by the
/// density's peak (what the shader's colour pass writes).
pub fn render(input: &HeatmapInput, size_px: [u32; 2]) -> Vec<[f32; 4]> {
    let density = density(input, size_px);
    let peak = density.iter().copied().fold(0.0_f32, f32::max);
    let inverse_peak = if peak > 0.0 { 1.0 / peak } else { 0.0 };
    density
        .iter()
        .map(|d| shade(input.color_map, d * inverse_peak, input.opacity))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{ColorMap, Kernel};
    use super::*;

    fn input(kernels: Vec<Kernel>) -> HeatmapInput {
        HeatmapInput {
            kernels,
            sigma_image: [0.1, 0.1],
            opacity: 1.0,
            color_map: ColorMap::Viridis,
        }
    }

    #[test]
    fn the_density_peaks_at_the_longest_fixation() {
        let heat = input(vec![
            Kernel {
                center_image: [0.25, 0.5],
                weight: 0.2,
            },
            Kernel {
                center_image: [0.75, 0.5],
                weight: 0.6,
            },
        ]);
        let density = density(&heat, [40, 20]);
        let at = |x: usize, y: usize| density[y * 40 + x];
        assert!(at(30, 10) > 2.5 * at(10, 10));
        // Three sigmas out (rows above y = 0.2) nothing is added; just inside, something.
        assert_eq!(at(10, 0), 0.0, "beyond 3 sigma");
        assert!(at(10, 4) > 0.0, "within 3 sigma");
        let pixels = render(&heat, [40, 20]);
        let brightest = pixels
            .iter()
            .enumerate()
            .max_by(|a, b| a.1[3].total_cmp(&b.1[3]).then(a.1[1].total_cmp(&b.1[1])))
            .unwrap()
            .0;
        let x = brightest % 40;
        assert!(
            (28..=31).contains(&x),
            "peak at the heavier kernel (x = 30), found {x}"
        );
    }

    #[test]
    fn no_fixations_draw_nothing() {
        let pixels = render(&input(Vec::new()), [8, 8]);
        assert!(pixels.iter().all(|p| p[3] == 0.0));
    }
}
