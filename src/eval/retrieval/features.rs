//! Input features of the two modalities, fixed (not learnt) and cheap.
//!
//! - **Gaze**: the first [`GAZE_STEPS`] fixations in viewing order, each as box centre,
//!   size, duration (s) and the mean colour of the image inside the box (a
//!   "gaze-masked image" in miniature: what was looked at, not only where), zero-padded,
//!   then summary statistics (fixation count, mean and total duration, spread).
//! - **Text**: a bag of words over the training users' vocabulary, counted separately
//!   in the first, middle and last third of the description (so "red … then blue"
//!   differs from "blue … then red"), L2-normalized, plus the length. A bag of words
//!   rather than the captioner's token embeddings: retrieval then needs no trained
//!   description model, its features do not depend on which model was trained, and on
//!   short descriptions the words themselves (object names, colours, openings,
//!   sentence frames) carry both the content and the style signal.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::dataset::DatasetRecord;
use crate::eval::EvalError;
use crate::metrics::tokenize::ptb_tokens;

pub const GAZE_STEPS: usize = 12;
const STEP_WIDTH: usize = 8;
pub const GAZE_WIDTH: usize = GAZE_STEPS * STEP_WIDTH + 5;
/// Side of the downsampled image used for fixation colours.
const COLOUR_GRID: u32 = 32;

/// A downsampled RGB image, values in `[0, 1]`.
#[derive(Debug, Clone)]
pub struct SmallImage {
    rgb: Vec<[f32; 3]>,
}

impl SmallImage {
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let img = image::open(path).map_err(|e| {
            EvalError::Data(format!("{}: cannot read the image: {e}", path.display()))
        })?;
        let small = img
            .resize_exact(
                COLOUR_GRID,
                COLOUR_GRID,
                image::imageops::FilterType::Triangle,
            )
            .to_rgb8();
        Ok(Self {
            rgb: small
                .pixels()
                .map(|p| p.0.map(|v| f32::from(v) / 255.0))
                .collect(),
        })
    }

    /// Mean colour inside a normalized box (at least the pixel at its centre).
    fn mean_in(&self, [x0, y0, x1, y1]: [f32; 4]) -> [f32; 3] {
        let g = COLOUR_GRID as f32;
        let cell = |v: f32| ((v * g) as usize).min(COLOUR_GRID as usize - 1);
        let (cx0, cx1) = (cell(x0), cell(x1).max(cell(x0)));
        let (cy0, cy1) = (cell(y0), cell(y1).max(cell(y0)));
        let mut sum = [0f32; 3];
        let mut n = 0f32;
        for y in cy0..=cy1 {
            for x in cx0..=cx1 {
                let p = self.rgb[y * COLOUR_GRID as usize + x];
                for c in 0..3 {
                    sum[c] += p[c];
                }
                n += 1.0;
            }
        }
        sum.map(|s| s / n.max(1.0))
    }
}

/// Gaze features of one record (see the module docs), `GAZE_WIDTH` values.
pub fn gaze_features(record: &DatasetRecord, image: &SmallImage) -> Vec<f32> {
    let mut out = vec![0f32; GAZE_WIDTH];
    for (k, step) in record.trajectory.iter().take(GAZE_STEPS).enumerate() {
        let [x0, y0, x1, y1] = step.bbox;
        let colour = image.mean_in(step.bbox);
        let values = [
            (x0 + x1) / 2.0,
            (y0 + y1) / 2.0,
            x1 - x0,
            y1 - y0,
            step.duration_ms / 1000.0,
            colour[0],
            colour[1],
            colour[2],
        ];
        out[k * STEP_WIDTH..(k + 1) * STEP_WIDTH].copy_from_slice(&values);
    }
    let n = record.trajectory.len() as f32;
    let total_s: f32 = record.trajectory.iter().map(|s| s.duration_ms).sum::<f32>() / 1000.0;
    let centres: Vec<(f32, f32)> = record
        .trajectory
        .iter()
        .map(|s| ((s.bbox[0] + s.bbox[2]) / 2.0, (s.bbox[1] + s.bbox[3]) / 2.0))
        .collect();
    let spread = |f: fn(&(f32, f32)) -> f32| {
        if centres.is_empty() {
            return 0.0;
        }
        let mean = centres.iter().map(f).sum::<f32>() / n;
        (centres.iter().map(|c| (f(c) - mean).powi(2)).sum::<f32>() / n).sqrt()
    };
    let tail = GAZE_STEPS * STEP_WIDTH;
    out[tail] = n / 20.0;
    out[tail + 1] = if n > 0.0 { total_s / n } else { 0.0 };
    out[tail + 2] = total_s / 10.0;
    out[tail + 3] = spread(|c| c.0);
    out[tail + 4] = spread(|c| c.1);
    out
}

/// The bag-of-words vocabulary (words seen at least twice in `texts`).
#[derive(Debug, Clone)]
pub struct Vocabulary {
    index: HashMap<String, usize>,
}

impl Vocabulary {
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for text in texts {
            for token in ptb_tokens(text) {
                *counts.entry(token).or_default() += 1;
            }
        }
        let index = counts
            .into_iter()
            .filter(|&(_, c)| c >= 2)
            .enumerate()
            .map(|(i, (w, _))| (w, i))
            .collect();
        Self { index }
    }

    /// Width of [`Self::features`].
    pub fn width(&self) -> usize {
        3 * self.index.len() + 1
    }

    /// Text features of one description (see the module docs).
    pub fn features(&self, text: &str) -> Vec<f32> {
        let tokens = ptb_tokens(text);
        let v = self.index.len();
        let mut out = vec![0f32; self.width()];
        let n = tokens.len().max(1);
        for (pos, token) in tokens.iter().enumerate() {
            if let Some(&w) = self.index.get(token) {
                let third = (3 * pos / n).min(2);
                out[third * v + w] += 1.0;
            }
        }
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|x| *x /= norm);
        }
        out[3 * v] = tokens.len() as f32 / 30.0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_order_changes_the_text_features_and_rare_words_are_dropped() {
        let vocab = Vocabulary::build([
            "a red circle then a blue square",
            "a blue square then a red circle",
            "unique",
        ]);
        assert_eq!(vocab.index.len(), 6, "a red circle then blue square");
        let a = vocab.features("a red circle then a blue square");
        let b = vocab.features("a blue square then a red circle");
        assert_eq!(a.len(), vocab.width());
        assert_ne!(a, b);
        assert_eq!(vocab.features("unique")[..18], vec![0.0; 18][..]);
    }

    #[test]
    fn gaze_features_carry_the_colour_under_each_fixation() {
        let mut rgb = vec![[0.0, 0.0, 1.0]; (COLOUR_GRID * COLOUR_GRID) as usize];
        for y in 0..COLOUR_GRID as usize {
            for x in 0..(COLOUR_GRID as usize / 2) {
                rgb[y * COLOUR_GRID as usize + x] = [1.0, 0.0, 0.0];
            }
        }
        let image = SmallImage { rgb };
        let step = |x: f32| crate::dataset::TrajectoryStep {
            bbox: [x, 0.4, x + 0.1, 0.5],
            duration_ms: 250.0,
        };
        let record = DatasetRecord {
            image: "x.png".into(),
            subject: "s".into(),
            description: "d".into(),
            trajectory: vec![step(0.1), step(0.8)],
            split: None,
            session: None,
            trial: None,
            objects: None,
        };
        let f = gaze_features(&record, &image);
        assert_eq!(f.len(), GAZE_WIDTH);
        assert_eq!(&f[5..8], &[1.0, 0.0, 0.0], "first fixation on red");
        assert_eq!(&f[13..16], &[0.0, 0.0, 1.0], "second on blue");
        assert!((f[4] - 0.25).abs() < 1e-6, "duration in seconds");
        assert!(
            f[16..GAZE_STEPS * STEP_WIDTH].iter().all(|&v| v == 0.0),
            "padding"
        );
    }
}
