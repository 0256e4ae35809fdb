//! The blurred stimulus of a BubbleView study, made once per image on the session
//! thread: a Gaussian blur of standard deviation σ (image pixels), approximated by
//! three box blurs per axis (Kovesi 2010, `DynamicImage::fast_blur`, whose crate is
//! optimized even in the dev build). A wide blur keeps no fine detail, so the image is
//! first shrunk by up to σ / [`PIXELS_PER_SIGMA`] and blurred at that size; the GPU's
//! linear filtering enlarges it smoothly when it is drawn. A 1920 × 1080 photo at σ 25
//! px is blurred at 320 × 180.

use image::imageops::FilterType;
use image::{DynamicImage, RgbaImage};

use crate::session::analysis::placement_of;
use crate::study::{BubbleView, ScreenGeometry};

/// The blurred image keeps at least this many of its pixels per σ.
pub const PIXELS_PER_SIGMA: f64 = 4.0;

/// The study's blur σ (degrees) in the image's own pixels, as an image of
/// `image_size_px` is drawn on the study's screen.
pub fn blur_sigma_image_px(
    screen: &ScreenGeometry,
    settings: &BubbleView,
    image_size_px: (u32, u32),
) -> f64 {
    let [x0, _, x1, _] = placement_of(screen, image_size_px).rect_display;
    let drawn_width_px = f64::from(x1 - x0) * f64::from(screen.resolution_px.0);
    let image_px_per_screen_px = f64::from(image_size_px.0) / drawn_width_px.max(1.0);
    settings.blur_sigma_deg * screen.px_per_degree() * image_px_per_screen_px
}

/// The image blurred with σ = `sigma_px` of its own pixels, possibly smaller than the
/// input (same aspect ratio). A σ under half a pixel returns the image as is.
pub fn blurred_stimulus(image: &RgbaImage, sigma_px: f64) -> RgbaImage {
    let (width, height) = image.dimensions();
    if !(sigma_px.is_finite() && sigma_px >= 0.5) || width == 0 || height == 0 {
        return image.clone();
    }
    let shrink = (sigma_px / PIXELS_PER_SIGMA).floor().max(1.0);
    let small_size = |side: u32| ((f64::from(side) / shrink).round() as u32).max(1);
    let (small_w, small_h) = (small_size(width), small_size(height));
    // `DynamicImage`'s methods, not the generic functions: those would be compiled
    // (unoptimized, in the dev build) in this crate.
    let mut small = DynamicImage::ImageRgba8(image.clone());
    if shrink > 1.0 {
        small = small.resize_exact(small_w, small_h, FilterType::Triangle);
    }
    // σ in the small image's pixels (its pixels are `width / small_w` of the input's).
    let sigma_small = sigma_px * f64::from(small_w) / f64::from(width);
    small.fast_blur(sigma_small as f32).into_rgba8()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_image_stays_flat_and_a_tiny_sigma_changes_nothing() {
        let flat = RgbaImage::from_pixel(30, 20, image::Rgba([10, 120, 200, 255]));
        let blurred = blurred_stimulus(&flat, 4.0);
        assert!(blurred.pixels().all(|p| p.0 == [10, 120, 200, 255]));
        let noise = RgbaImage::from_fn(30, 20, |x, y| {
            image::Rgba([(x * 37 % 251) as u8, (y * 11) as u8, 0, 255])
        });
        assert_eq!(blurred_stimulus(&noise, 0.2), noise);
    }

    #[test]
    fn an_edge_spreads_with_the_requested_standard_deviation() {
        // A vertical black-to-white edge: the blurred profile is the normal CDF, so
        // the 16 %–84 % rise spans 2σ.
        for (width, sigma) in [(200_u32, 6.0), (1600, 40.0)] {
            let image = RgbaImage::from_fn(width, 40, |x, _| {
                let v = if x < width / 2 { 0 } else { 255 };
                image::Rgba([v, v, v, 255])
            });
            let blurred = blurred_stimulus(&image, sigma);
            let scale = f64::from(width) / f64::from(blurred.width());
            let row: Vec<f64> = (0..blurred.width())
                .map(|x| f64::from(blurred.get_pixel(x, blurred.height() / 2).0[0]) / 255.0)
                .collect();
            let crossing = |level: f64| {
                let i = row.iter().position(|&v| v >= level).unwrap();
                let (a, b) = (row[i - 1], row[i]);
                (i as f64 - 1.0 + (level - a) / (b - a) + 0.5) * scale
            };
            let spread = (crossing(0.8413) - crossing(0.1587)) / 2.0;
            assert!(
                (spread - sigma).abs() < 0.15 * sigma,
                "σ {sigma}: measured {spread:.2} at {}×{}",
                blurred.width(),
                blurred.height()
            );
            let middle = (crossing(0.5) - f64::from(width) / 2.0).abs();
            assert!(middle < 0.1 * sigma, "the edge stays in place: {middle}");
        }
    }

    #[test]
    fn the_sigma_follows_the_drawn_size() {
        let screen = ScreenGeometry::default();
        let settings = BubbleView::default();
        let small = blur_sigma_image_px(&screen, &settings, (448, 448));
        let large = blur_sigma_image_px(&screen, &settings, (896, 896));
        // Drawn the same size on the screen, twice the pixels: twice the σ.
        assert!((large / small - 2.0).abs() < 1e-9, "{small} {large}");
        assert!(small > 1.0);
    }

    #[test]
    fn a_wide_blur_is_made_small() {
        let photo = RgbaImage::new(1920, 1080);
        assert_eq!(blurred_stimulus(&photo, 25.0).dimensions(), (320, 180));
        assert_eq!(blurred_stimulus(&photo, 3.0).dimensions(), (1920, 1080));
    }
}
