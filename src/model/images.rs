//! Stimulus images as model input: decoded, resized to the encoder's square input
//! size and normalized to roughly zero mean, as `[3, size, size]` f32 tensors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::error::{ModelError, Result};

/// Reads `path` and returns `[3, size, size]`, values `(v / 255 − 0.5) / 0.25`.
pub fn load_image(path: &Path, size: usize, device: &Device) -> Result<Tensor> {
    let img = image::open(path).map_err(|e| ModelError::Image {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let side = u32::try_from(size)
        .map_err(|_| ModelError::Data(format!("image size {size} too large")))?;
    let rgb = img
        .resize_exact(side, side, image::imageops::FilterType::Triangle)
        .to_rgb8();
    let data: Vec<f32> = rgb
        .into_raw()
        .into_iter()
        .map(|v| (f32::from(v) / 255.0 - 0.5) / 0.25)
        .collect();
    let hwc = Tensor::from_vec(data, (size, size, 3), device)?;
    Ok(hwc.permute((2, 0, 1))?.contiguous()?)
}

/// Decoded images by path, so each file is read once per run.
#[derive(Debug, Default)]
pub struct ImageCache {
    size: usize,
    images: HashMap<PathBuf, Tensor>,
}

impl ImageCache {
    pub fn new(size: usize) -> Self {
        Self {
            size,
            images: HashMap::new(),
        }
    }

    pub fn get(&mut self, path: &Path, device: &Device) -> Result<Tensor> {
        if let Some(t) = self.images.get(path) {
            return Ok(t.clone());
        }
        let t = load_image(path, self.size, device)?;
        self.images.insert(path.to_path_buf(), t.clone());
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_resized_and_unreadable_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        image::RgbImage::from_pixel(40, 30, image::Rgb([255, 0, 0]))
            .save(&path)
            .unwrap();
        let t = load_image(&path, 16, &Device::Cpu).unwrap();
        assert_eq!(t.dims(), &[3, 16, 16]);
        let red = t
            .get(0)
            .unwrap()
            .mean_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((red - 2.0).abs() < 1e-4, "{red}");
        std::fs::write(dir.path().join("bad.png"), b"nope").unwrap();
        let err = load_image(&dir.path().join("bad.png"), 16, &Device::Cpu).unwrap_err();
        assert!(err.to_string().contains("bad.png"), "{err}");
    }
}
