//! A tiny synthetic study for tests, benches and the demo until the cohort simulator
//! is wired in: images of three coloured squares on a 3×3 grid, and subjects whose
//! style is a combination of three habits that show in both streams DEPER reads:
//! the phrase they use (description), the order they scan and mention objects
//! (left-to-right or top-to-bottom; trajectory and description), and their tempo
//! (short fixations on tight boxes or long ones on loose boxes; trajectory only).
//! Subject `j` has style `(j % 3, (j / 3) % 2, (j / 6) % 2)`, so up to 12 subjects
//! differ. Everything is drawn from a seeded ChaCha8 generator.
//!
//! The last `unseen_subjects` subjects get split `test` (for enrollment); the others
//! see the last `val_images` images as `val` and the rest as `train`.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::dataset::{DatasetRecord, Split, TrajectoryStep, write_records};
use crate::model::error::{ModelError, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticSpec {
    pub subjects: usize,
    pub images: usize,
    pub image_size_px: u32,
    pub unseen_subjects: usize,
    pub val_images: usize,
    pub seed: u64,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        Self {
            subjects: 12,
            images: 20,
            image_size_px: 48,
            unseen_subjects: 4,
            val_images: 4,
            seed: 3,
        }
    }
}

const COLOURS: [(&str, [u8; 3]); 4] = [
    ("red", [220, 40, 40]),
    ("green", [40, 180, 60]),
    ("blue", [40, 80, 220]),
    ("yellow", [230, 210, 40]),
];
const SIZES: [&str; 2] = ["small", "big"];
const PHRASES: [&str; 3] = ["i see a {}", "there is a {}", "a {} is here"];
const JOINERS: [&str; 3] = [" and ", " then ", " , "];

/// One object: cell on the 3×3 grid, colour index, size index.
type Object = (usize, usize, usize);

/// Writes `images/*.png` and `records.jsonl` into `dir`; returns the records.
pub fn write_synthetic(dir: &Path, spec: &SyntheticSpec) -> Result<Vec<DatasetRecord>> {
    let images_dir = dir.join("images");
    std::fs::create_dir_all(&images_dir).map_err(ModelError::io(&images_dir))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let mut scenes: Vec<Vec<Object>> = Vec::new();
    for i in 0..spec.images {
        let mut cells: Vec<usize> = (0..9).collect();
        let mut objects = Vec::new();
        for _ in 0..3 {
            let cell = cells.remove(rng.gen_range(0..cells.len()));
            objects.push((
                cell,
                rng.gen_range(0..COLOURS.len()),
                rng.gen_range(0..SIZES.len()),
            ));
        }
        let path = images_dir.join(format!("img{i:03}.png"));
        draw(&objects, spec.image_size_px)
            .save(&path)
            .map_err(|e| ModelError::Image {
                path: path.clone(),
                message: e.to_string(),
            })?;
        scenes.push(objects);
    }
    let mut records = Vec::new();
    for subject in 0..spec.subjects {
        let (phrase, order, tempo) = (subject % 3, (subject / 3) % 2, (subject / 6) % 2);
        for (i, scene) in scenes.iter().enumerate() {
            let mut objects = scene.clone();
            // Left-to-right (column, then row) or top-to-bottom (row, then column).
            objects.sort_by_key(|&(cell, _, _)| {
                if order == 0 {
                    (cell % 3, cell / 3)
                } else {
                    (cell / 3, cell % 3)
                }
            });
            let mentioned = if rng.gen_bool(0.2) { 2 } else { 3 };
            let words: Vec<String> = objects[..mentioned]
                .iter()
                .map(|&(_, c, s)| {
                    PHRASES[phrase].replace("{}", &format!("{} {} square", SIZES[s], COLOURS[c].0))
                })
                .collect();
            let (half, mean_ms) = if tempo == 0 {
                (0.07, 180.0)
            } else {
                (0.16, 450.0)
            };
            let trajectory = objects
                .iter()
                .map(|&(cell, _, _)| {
                    let cx = ((cell % 3) as f32 + 0.5) / 3.0 + rng.gen_range(-0.03..0.03);
                    let cy = ((cell / 3) as f32 + 0.5) / 3.0 + rng.gen_range(-0.03..0.03);
                    TrajectoryStep {
                        bbox: [
                            (cx - half).max(0.0),
                            (cy - half).max(0.0),
                            (cx + half).min(1.0),
                            (cy + half).min(1.0),
                        ],
                        duration_ms: mean_ms * rng.gen_range(0.7f32..1.3),
                    }
                })
                .collect();
            let unseen = subject >= spec.subjects - spec.unseen_subjects.min(spec.subjects);
            let split = if unseen {
                Split::Test
            } else if i >= spec.images - spec.val_images.min(spec.images) {
                Split::Val
            } else {
                Split::Train
            };
            records.push(DatasetRecord {
                image: format!("images/img{i:03}.png"),
                subject: format!("s{subject:02}"),
                description: words.join(JOINERS[phrase]),
                trajectory,
                split: Some(split),
                session: None,
                trial: Some(format!("t{i:03}")),
                objects: None,
            });
        }
    }
    let path = dir.join("records.jsonl");
    write_records(&path, &records).map_err(|e| ModelError::Data(e.to_string()))?;
    Ok(records)
}

fn draw(objects: &[Object], size: u32) -> image::RgbImage {
    let mut img = image::RgbImage::from_pixel(size, size, image::Rgb([235, 235, 235]));
    let cell = size as f32 / 3.0;
    for &(c, colour, s) in objects {
        let half = cell * if s == 0 { 0.2 } else { 0.4 };
        let (cx, cy) = (((c % 3) as f32 + 0.5) * cell, ((c / 3) as f32 + 0.5) * cell);
        for y in 0..size {
            for x in 0..size {
                if (x as f32 + 0.5 - cx).abs() <= half && (y as f32 + 0.5 - cy).abs() <= half {
                    img.put_pixel(x, y, image::Rgb(COLOURS[colour].1));
                }
            }
        }
    }
    img
}
