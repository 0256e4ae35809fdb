//! The blurred stimulus of a BubbleView study: a Gaussian blur of an RGBA image,
//! approximated by three box blurs in each direction (the sizes chosen so the
//! variance matches, as in Kovesi's "fast almost-Gaussian filtering"). The cost does
//! not depend on σ; edges repeat the border pixel. Below about a pixel the boxes are
//! coarse; a BubbleView blur is tens of pixels. Runs on the session thread.

/// Blurs `rgba` (`width × height`, 4 bytes a pixel) with a Gaussian of standard
/// deviation `sigma_px` pixels. A σ below a third of a pixel returns the image as is.
pub fn gaussian_blur_rgba(rgba: &[u8], width: usize, height: usize, sigma_px: f64) -> Vec<u8> {
    assert_eq!(
        rgba.len(),
        width * height * 4,
        "an RGBA image of {width}×{height}"
    );
    if !(sigma_px.is_finite() && sigma_px >= 1.0 / 3.0) || width == 0 || height == 0 {
        return rgba.to_vec();
    }
    let mut values: Vec<u32> = rgba.iter().map(|&v| u32::from(v)).collect();
    let mut scratch = vec![0_u32; values.len()];
    for radius in box_radii(sigma_px, 3) {
        // Rows: pixels `4` apart; columns: `4 × width` apart.
        box_pass(&values, &mut scratch, width, height, 4, width * 4, radius);
        box_pass(&scratch, &mut values, height, width, width * 4, 4, radius);
    }
    values.iter().map(|&v| v.min(255) as u8).collect()
}

/// Radii of `passes` box filters whose combined variance is σ².
fn box_radii(sigma: f64, passes: usize) -> Vec<usize> {
    let n = passes as f64;
    // A box of width w has variance (w² − 1) / 12; n boxes of widths wl or wl + 2.
    let ideal_width = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut lower = ideal_width.floor() as usize;
    if lower.is_multiple_of(2) {
        lower = lower.saturating_sub(1);
    }
    let lower = lower.max(1);
    let wl = lower as f64;
    let upper_count = ((12.0 * sigma * sigma - n * wl * wl - 4.0 * n * wl - 3.0 * n)
        / (-4.0 * wl - 4.0))
        .round()
        .clamp(0.0, n) as usize;
    (0..passes)
        .map(|i| {
            if i < upper_count {
                lower / 2
            } else {
                lower / 2 + 1
            }
        })
        .collect()
}

/// One box filter of `radius` along lines: `lines` lines of `length` pixels, pixel
/// `i` of line `l` at `l × line_step + i × pixel_step` (in values, 4 channels each).
fn box_pass(
    from: &[u32],
    to: &mut [u32],
    length: usize,
    lines: usize,
    pixel_step: usize,
    line_step: usize,
    radius: usize,
) {
    if radius == 0 {
        to.copy_from_slice(from);
        return;
    }
    let width = (2 * radius + 1) as u32;
    let last = length - 1;
    for line in 0..lines {
        let base = line * line_step;
        let at = |i: usize, channel: usize| from[base + i.min(last) * pixel_step + channel];
        for channel in 0..4 {
            // The window over pixels −radius ..= radius, the border repeated.
            let mut sum: u32 = at(0, channel) * (radius as u32 + 1);
            for i in 1..=radius {
                sum += at(i, channel);
            }
            for i in 0..length {
                to[base + i * pixel_step + channel] = (sum + width / 2) / width;
                let leaving = at(i.saturating_sub(radius), channel);
                sum = sum + at(i + radius + 1, channel) - leaving;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_image_stays_flat_and_a_tiny_sigma_changes_nothing() {
        let flat = [10_u8, 120, 200, 255].repeat(30 * 20);
        assert_eq!(gaussian_blur_rgba(&flat, 30, 20, 4.0), flat);
        let noise: Vec<u8> = (0..30 * 20 * 4).map(|i| (i * 37 % 251) as u8).collect();
        assert_eq!(gaussian_blur_rgba(&noise, 30, 20, 0.2), noise);
    }

    #[test]
    fn a_point_spreads_with_the_requested_standard_deviation() {
        let (w, h) = (121, 61);
        let mut image = vec![0_u8; w * h * 4];
        let centre = (30 * w + 60) * 4;
        image[centre] = 255;
        // Scaled up so rounding to bytes does not swallow the tails.
        let blurred: Vec<f64> = {
            let mut bright = vec![0_u32; w * h * 4];
            bright[centre] = 255 * 4000;
            let mut scratch = vec![0_u32; bright.len()];
            for radius in box_radii(6.0, 3) {
                box_pass(&bright, &mut scratch, w, h, 4, w * 4, radius);
                box_pass(&scratch, &mut bright, h, w, w * 4, 4, radius);
            }
            bright.iter().map(|&v| f64::from(v)).collect()
        };
        let row: Vec<f64> = (0..w).map(|x| blurred[(30 * w + x) * 4]).collect();
        let total: f64 = row.iter().sum();
        let variance: f64 = row
            .iter()
            .enumerate()
            .map(|(x, v)| v * (x as f64 - 60.0).powi(2))
            .sum::<f64>()
            / total;
        assert!(
            (variance.sqrt() - 6.0).abs() < 0.35,
            "σ = {}",
            variance.sqrt()
        );
        let symmetric = (1..30).all(|d| (row[60 - d] - row[60 + d]).abs() <= 1.0);
        assert!(symmetric, "{row:?}");
        // On bytes: a bright block keeps its place and (nearly) its total light.
        let mut block = vec![0_u8; w * h * 4];
        for y in 26..=34 {
            for x in 56..=64 {
                block[(y * w + x) * 4] = 255;
            }
        }
        let bytes = gaussian_blur_rgba(&block, w, h, 3.0);
        let red = |image: &[u8], i: usize| u32::from(image[i * 4]);
        let peak = (0..w * h).map(|i| red(&bytes, i)).max().unwrap();
        assert_eq!(red(&bytes, 30 * w + 60), peak, "brightest in the middle");
        let light = |image: &[u8]| (0..w * h).map(|i| red(image, i)).sum::<u32>() as f64;
        assert!((light(&bytes) / light(&block) - 1.0).abs() < 0.02);
    }

    #[test]
    fn box_radii_match_the_variance() {
        // Under a pixel the boxes are coarse (widths 1 or 3); above, close.
        for sigma in [1.0, 3.0, 12.7, 40.0] {
            let variance: f64 = box_radii(sigma, 3)
                .iter()
                .map(|&r| ((2 * r + 1).pow(2) - 1) as f64 / 12.0)
                .sum();
            assert!(
                (variance.sqrt() - sigma).abs() < 0.2 * sigma.max(1.0),
                "σ {sigma}: {}",
                variance.sqrt()
            );
        }
    }
}
