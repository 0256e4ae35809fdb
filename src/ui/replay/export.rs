//! Exports from the replay screen: each subject's fixations of the shown trial as CSV
//! (the `scanscribe fixations` columns), and the current view as a PNG cropped from a
//! screenshot of the window (so it is exactly what is on screen, heat map included).
//! Files are written on worker threads; names say subject, trial and time.

use std::path::{Path, PathBuf};

use crate::fixation::Fixation;
use crate::fixation::csv::write_fixations;

/// One subject's fixations of one trial, ready to write.
#[derive(Debug, Clone)]
pub struct FixationTable {
    pub subject: String,
    pub trial: String,
    pub fixations: Vec<Fixation>,
    pub resolution_px: (u32, u32),
}

/// Keeps letters, digits, '-', '_' and '.'; anything else becomes '_'.
pub fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `<subject>_<trial>_fixations.csv`.
pub fn fixations_file_name(subject: &str, trial: &str) -> String {
    format!("{}_{}_fixations.csv", file_safe(subject), file_safe(trial))
}

/// `<trial>_<time ms>ms.png`.
pub fn view_file_name(trial: &str, time_ms: f32) -> String {
    format!(
        "{}_{:06}ms.png",
        file_safe(trial),
        time_ms.max(0.0).round() as u64
    )
}

/// Writes every table into `dir` (created if needed); returns the files written.
pub fn write_fixation_tables(dir: &Path, tables: &[FixationTable]) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the folder: {e}", dir.display()))?;
    tables
        .iter()
        .map(|table| {
            let path = dir.join(fixations_file_name(&table.subject, &table.trial));
            write_fixations(&path, &table.fixations, table.resolution_px)
                .map_err(|e| e.to_string())?;
            Ok(path)
        })
        .collect()
}

/// Crops `rect_points` out of a window screenshot and saves it as PNG at `path`.
pub fn save_view_png(
    screenshot: &egui::ColorImage,
    rect_points: egui::Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<PathBuf, String> {
    let region = screenshot.region(&rect_points, Some(pixels_per_point));
    let [w, h] = region.size;
    if w == 0 || h == 0 {
        return Err(format!(
            "{}: the view is empty, nothing to export",
            path.display()
        ));
    }
    let rgba: Vec<u8> = region
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    let image = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .ok_or_else(|| format!("{}: the screenshot has the wrong size", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create the folder: {e}", dir.display()))?;
    }
    image
        .save(path)
        .map_err(|e| format!("{}: cannot write the PNG: {e}", path.display()))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_say_what_they_hold() {
        assert_eq!(
            fixations_file_name("s01", "scene 1/a"),
            "s01_scene_1_a_fixations.csv"
        );
        assert_eq!(view_file_name("scene-01", 1234.4), "scene-01_001234ms.png");
    }

    #[test]
    fn the_view_is_cropped_from_the_screenshot() {
        let dir = tempfile::tempdir().unwrap();
        let mut shot = egui::ColorImage::filled([40, 20], egui::Color32::BLACK);
        for y in 5..10 {
            for x in 10..30 {
                shot.pixels[y * 40 + x] = egui::Color32::from_rgb(200, 10, 10);
            }
        }
        let rect = egui::Rect::from_min_max(egui::pos2(5.0, 2.5), egui::pos2(15.0, 5.0));
        let path = save_view_png(&shot, rect, 2.0, &dir.path().join("v.png")).unwrap();
        let image = image::open(path).unwrap().to_rgba8();
        assert_eq!(image.dimensions(), (20, 5));
        assert_eq!(image.get_pixel(0, 0).0, [200, 10, 10, 255]);
    }
}
