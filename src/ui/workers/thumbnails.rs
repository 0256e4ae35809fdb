//! Decoding a trial image into a small RGBA thumbnail (worker thread). The UI thread
//! turns the pixels into an egui texture.

use std::path::Path;

/// Thumbnails fit in a square of this many pixels (enough for a 2× display).
pub const THUMBNAIL_MAX_SIDE_PX: u32 = 400;

/// Decoded, downscaled pixels: unmultiplied RGBA, row-major.
pub struct ThumbnailPixels {
    pub size_px: [usize; 2],
    pub rgba: Vec<u8>,
}

/// Decodes `path` and downscales it to fit [`THUMBNAIL_MAX_SIDE_PX`], keeping its
/// aspect ratio. The error names the file.
pub fn decode(path: &Path) -> Result<ThumbnailPixels, String> {
    let image = image::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let small = if image.width().max(image.height()) > THUMBNAIL_MAX_SIDE_PX {
        image.thumbnail(THUMBNAIL_MAX_SIDE_PX, THUMBNAIL_MAX_SIDE_PX)
    } else {
        image
    };
    let rgba = small.to_rgba8();
    Ok(ThumbnailPixels {
        size_px: [rgba.width() as usize, rgba.height() as usize],
        rgba: rgba.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_images_shrink_to_fit_keeping_their_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        image::RgbImage::from_pixel(1600, 800, image::Rgb([10, 20, 30]))
            .save(&path)
            .unwrap();
        let thumb = decode(&path).unwrap();
        assert_eq!(thumb.size_px, [400, 200]);
        assert_eq!(thumb.rgba.len(), 400 * 200 * 4);
        assert_eq!(&thumb.rgba[..4], &[10, 20, 30, 255]);
    }

    #[test]
    fn a_broken_file_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.png");
        std::fs::write(&path, b"not a png").unwrap();
        let message = decode(&path).err().unwrap();
        assert!(message.contains("broken.png"), "{message}");
    }
}
