//! The Qwen2-VL image processor: resize so both sides are multiples of
//! `patch × merge` (28) within the pixel bounds (`smart_resize`), with Pillow's
//! bicubic filter reproduced exactly (8-bit fixed point, horizontal pass then
//! vertical), rescale to `[0, 1]`, CLIP mean/std normalization, and the patch layout
//! the vision tower reads: one row per 14×14 patch, `channels × temporal × 14 × 14`
//! values (a still image is repeated over the temporal patch), rows ordered by 2×2
//! merge block.
//!
//! Matches `transformers`' `Qwen2VLImageProcessorPil` value for value (see
//! `tests/qwen2vl_parity.rs`).

use candle_core::{Device, Tensor};
use image::RgbImage;

use super::config::PreprocessorConfig;

/// A processed image: flattened patches `[grid_h · grid_w, patch values]` and the
/// patch grid (temporal 1 for a still image).
#[derive(Debug, Clone)]
pub struct ProcessedImage {
    pub patches: Tensor,
    pub grid_thw: [usize; 3],
}

/// The target `(height, width)` of an image of `height × width` pixels: multiples of
/// `factor`, close to the original aspect ratio, within `[min_pixels, max_pixels]`.
pub fn smart_resize(
    height: usize,
    width: usize,
    factor: usize,
    min_pixels: usize,
    max_pixels: usize,
) -> Result<(usize, usize), String> {
    if height == 0 || width == 0 {
        return Err(format!("image of {width}×{height} pixels is empty"));
    }
    let (h, w, f) = (height as f64, width as f64, factor as f64);
    if h.max(w) / h.min(w) > 200.0 {
        return Err(format!(
            "aspect ratio of a {width}×{height} image is over 200"
        ));
    }
    let mut h_bar = (h / f).round_ties_even() * f;
    let mut w_bar = (w / f).round_ties_even() * f;
    if h_bar * w_bar > max_pixels as f64 {
        let beta = (h * w / max_pixels as f64).sqrt();
        h_bar = f.max((h / beta / f).floor() * f);
        w_bar = f.max((w / beta / f).floor() * f);
    } else if h_bar * w_bar < min_pixels as f64 {
        let beta = (min_pixels as f64 / (h * w)).sqrt();
        h_bar = (h * beta / f).ceil() * f;
        w_bar = (w * beta / f).ceil() * f;
    }
    Ok((h_bar as usize, w_bar as usize))
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

fn bicubic(x: f64) -> f64 {
    let a = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * a
    } else {
        0.0
    }
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc`: for each output pixel,
/// the first input pixel and its fixed-point weights.
fn coefficients(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i32>)> {
    let scale = in_size as f64 / out_size as f64;
    let filter_scale = scale.max(1.0);
    let support = 2.0 * filter_scale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let weights: Vec<f64> = (xmin..xmax)
                .map(|x| bicubic((x as f64 - center + 0.5) / filter_scale))
                .collect();
            let total: f64 = weights.iter().sum();
            let fixed = weights
                .iter()
                .map(|&w| {
                    let w = if total != 0.0 { w / total } else { w };
                    let v = w * f64::from(1u32 << PRECISION_BITS);
                    if v < 0.0 {
                        (v - 0.5) as i32
                    } else {
                        (v + 0.5) as i32
                    }
                })
                .collect();
            (xmin, fixed)
        })
        .collect()
}

fn clip8(acc: i64) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Pillow's `Image.resize((width, height), BICUBIC)` on an RGB image.
pub fn resize_bicubic(image: &RgbImage, width: usize, height: usize) -> RgbImage {
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let src = image.as_raw();
    let horizontal = if width != in_w {
        let coeffs = coefficients(in_w, width);
        let mut out = vec![0u8; width * in_h * 3];
        for y in 0..in_h {
            for (x, (xmin, k)) in coeffs.iter().enumerate() {
                for c in 0..3 {
                    let mut acc = 1i64 << (PRECISION_BITS - 1);
                    for (i, &w) in k.iter().enumerate() {
                        acc += i64::from(src[(y * in_w + xmin + i) * 3 + c]) * i64::from(w);
                    }
                    out[(y * width + x) * 3 + c] = clip8(acc);
                }
            }
        }
        out
    } else {
        src.clone()
    };
    let vertical = if height != in_h {
        let coeffs = coefficients(in_h, height);
        let mut out = vec![0u8; width * height * 3];
        for (y, (ymin, k)) in coeffs.iter().enumerate() {
            for x in 0..width {
                for c in 0..3 {
                    let mut acc = 1i64 << (PRECISION_BITS - 1);
                    for (i, &w) in k.iter().enumerate() {
                        acc +=
                            i64::from(horizontal[((ymin + i) * width + x) * 3 + c]) * i64::from(w);
                    }
                    out[(y * width + x) * 3 + c] = clip8(acc);
                }
            }
        }
        out
    } else {
        horizontal
    };
    RgbImage::from_raw(width as u32, height as u32, vertical)
        .unwrap_or_else(|| RgbImage::new(width as u32, height as u32))
}

/// The image processor of one model folder.
#[derive(Debug, Clone)]
pub struct ImageProcessor {
    pub config: PreprocessorConfig,
}

impl ImageProcessor {
    pub fn new(config: PreprocessorConfig) -> Self {
        Self { config }
    }

    /// The size an image of `width × height` pixels is resized to, `(height, width)`.
    pub fn target_size(&self, width: usize, height: usize) -> Result<(usize, usize), String> {
        let (min_pixels, max_pixels) = self.config.pixel_bounds();
        let factor = self.config.patch_size * self.config.merge_size;
        smart_resize(height, width, factor, min_pixels, max_pixels)
    }

    /// Resized, normalized, channel-first values `[3, h, w]` of `image`.
    pub fn normalize(&self, image: &RgbImage, device: &Device) -> Result<Tensor, String> {
        let (h, w) = self.target_size(image.width() as usize, image.height() as usize)?;
        let resized = if (w, h) == (image.width() as usize, image.height() as usize) {
            image.clone()
        } else {
            resize_bicubic(image, w, h)
        };
        let cfg = &self.config;
        let mut values = vec![0f32; 3 * h * w];
        for (i, px) in resized.pixels().enumerate() {
            for c in 0..3 {
                let x = (f64::from(px[c]) * cfg.rescale_factor) as f32;
                values[c * h * w + i] = (x - cfg.image_mean[c]) / cfg.image_std[c];
            }
        }
        Tensor::from_vec(values, (3, h, w), device).map_err(|e| e.to_string())
    }

    /// The full processor: patches and grid of `image`.
    pub fn process(&self, image: &RgbImage, device: &Device) -> Result<ProcessedImage, String> {
        let values = self.normalize(image, device)?;
        let (_, h, w) = values.dims3().map_err(|e| e.to_string())?;
        let p = self.config.patch_size;
        Ok(ProcessedImage {
            patches: patchify(&values, &self.config).map_err(|e| e.to_string())?,
            grid_thw: [1, h / p, w / p],
        })
    }
}

/// Normalized values `[3, h, w]` → patches `[(h/p)·(w/p), 3·t·p·p]`, rows in 2×2
/// merge-block order, each patch repeated over the temporal patch.
pub fn patchify(values: &Tensor, cfg: &PreprocessorConfig) -> candle_core::Result<Tensor> {
    let (c, h, w) = values.dims3()?;
    let (p, m, t) = (cfg.patch_size, cfg.merge_size, cfg.temporal_patch_size);
    if h % (p * m) != 0 || w % (p * m) != 0 {
        return Err(candle_core::Error::Msg(format!(
            "image of {w}×{h} pixels: sides must be multiples of {}",
            p * m
        )));
    }
    let (gh, gw) = (h / p, w / p);
    let x = values
        .reshape(vec![c, gh / m, m, p, gw / m, m, p])?
        .permute(vec![1, 4, 2, 5, 0, 3, 6])?
        .unsqueeze(5)?
        .broadcast_as(vec![gh / m, gw / m, m, m, c, t, p, p])?
        .contiguous()?;
    x.reshape((gh * gw, c * t * p * p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_resize_keeps_multiples_of_28_within_bounds() {
        // Exact multiples stay; ties round to even like Python's round.
        assert_eq!(smart_resize(56, 84, 28, 3136, 1_000_000), Ok((56, 84)));
        assert_eq!(smart_resize(70, 42, 28, 784, 1_000_000), Ok((56, 56)));
        // Too many pixels: scaled down, still multiples of 28.
        let (h, w) = smart_resize(1000, 2000, 28, 3136, 28 * 28 * 16).unwrap();
        assert!(
            h * w <= 28 * 28 * 16 && h % 28 == 0 && w % 28 == 0,
            "{h}×{w}"
        );
        // Too few: scaled up.
        let (h, w) = smart_resize(20, 30, 28, 56 * 56, 1_000_000).unwrap();
        assert!(h * w >= 56 * 56 && h % 28 == 0 && w % 28 == 0, "{h}×{w}");
        assert!(smart_resize(10, 3000, 28, 3136, 1_000_000).is_err());
    }

    #[test]
    fn bicubic_resize_keeps_a_flat_image_flat() {
        let image = RgbImage::from_pixel(37, 23, image::Rgb([200, 10, 99]));
        let out = resize_bicubic(&image, 56, 28);
        assert!(out.pixels().all(|p| p.0 == [200, 10, 99]));
    }
}
