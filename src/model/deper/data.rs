//! From dataset records to DEPER batches: frozen image features computed once per
//! image, tokenized descriptions, padded trajectories, saliency maps (fixation
//! density of the other subjects on the same image), and the seeded P×K sampler
//! that puts K trials of each of P subjects in a batch so SupCon has positives.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::config::DeperConfig;
use super::encoder::DeperInputs;
use crate::dataset::DatasetRecord;
use crate::model::captioner::Captioner;
use crate::model::error::{ModelError, Result};
use crate::model::images::load_image;
use crate::model::tokenizer::TextTokenizer;

/// Records with their folder (image paths are relative to it).
#[derive(Debug, Clone)]
pub struct Trials {
    pub root: PathBuf,
    pub records: Vec<DatasetRecord>,
}

impl Trials {
    pub fn image_path(&self, i: usize) -> PathBuf {
        self.root.join(&self.records[i].image)
    }
}

/// Frozen image-encoder features `[n, width]` by image path.
#[derive(Debug, Default)]
pub struct FeatureBank {
    features: HashMap<PathBuf, Tensor>,
}

impl FeatureBank {
    /// Encodes every image of `trials` not yet in the bank, `chunk` at a time.
    pub fn add(&mut self, trials: &Trials, captioner: &Captioner, device: &Device) -> Result<()> {
        let mut missing: Vec<PathBuf> = (0..trials.records.len())
            .map(|i| trials.image_path(i))
            .filter(|p| !self.features.contains_key(p))
            .collect();
        missing.sort();
        missing.dedup();
        let size = captioner.config.image.image_size;
        for chunk in missing.chunks(16) {
            let images = chunk
                .iter()
                .map(|p| load_image(p, size, device))
                .collect::<Result<Vec<_>>>()?;
            let features = captioner
                .image_features(&Tensor::stack(&images, 0)?)?
                .detach();
            for (j, path) in chunk.iter().enumerate() {
                self.features.insert(path.clone(), features.get(j)?);
            }
        }
        Ok(())
    }

    pub fn get(&self, path: &Path) -> Result<&Tensor> {
        self.features
            .get(path)
            .ok_or_else(|| ModelError::Data(format!("no image features for {}", path.display())))
    }
}

/// Per record, the duration-weighted fixation density of the *other* subjects on the
/// same image, on a `grid × grid` raster (row-major, sums to 1; uniform if nobody else
/// looked at it).
pub fn saliency_maps(records: &[DatasetRecord], grid: usize) -> Vec<Vec<f32>> {
    let cells = grid * grid;
    let density = |r: &DatasetRecord| -> Vec<f32> {
        let mut map = vec![0f32; cells];
        for step in &r.trajectory {
            let [x0, y0, x1, y1] = step.bbox;
            let cx = (((x0 + x1) / 2.0) * grid as f32).clamp(0.0, grid as f32 - 1.0) as usize;
            let cy = (((y0 + y1) / 2.0) * grid as f32).clamp(0.0, grid as f32 - 1.0) as usize;
            map[cy * grid + cx] += step.duration_ms;
        }
        map
    };
    let own: Vec<Vec<f32>> = records.iter().map(density).collect();
    let mut totals: HashMap<&str, Vec<f32>> = HashMap::new();
    for (r, map) in records.iter().zip(&own) {
        let total = totals
            .entry(r.image.as_str())
            .or_insert_with(|| vec![0.0; cells]);
        for (t, v) in total.iter_mut().zip(map) {
            *t += v;
        }
    }
    records
        .iter()
        .zip(&own)
        .map(|(r, mine)| {
            let mut other: Vec<f32> = totals[r.image.as_str()]
                .iter()
                .zip(mine)
                .map(|(t, m)| (t - m).max(0.0))
                .collect();
            let sum: f32 = other.iter().sum();
            if sum > 0.0 {
                other.iter_mut().for_each(|v| *v /= sum);
            } else {
                other.iter_mut().for_each(|v| *v = 1.0 / cells as f32);
            }
            other
        })
        .collect()
}

/// Builds the inputs for the records `indices` of `trials`.
pub fn deper_inputs(
    trials: &Trials,
    indices: &[usize],
    bank: &FeatureBank,
    tokenizer: &TextTokenizer,
    saliency: Option<&[Vec<f32>]>,
    cfg: &DeperConfig,
    device: &Device,
) -> Result<DeperInputs> {
    let b = indices.len();
    let features = indices
        .iter()
        .map(|&i| bank.get(&trials.image_path(i)).cloned())
        .collect::<Result<Vec<_>>>()?;
    let mut tokens = Vec::new();
    for &i in indices {
        let mut ids = tokenizer.encode(&trials.records[i].description)?;
        ids.truncate(cfg.max_text_tokens);
        tokens.push(ids);
    }
    let s = tokens.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut text_ids = Vec::with_capacity(b * s);
    let mut text_valid = Vec::with_capacity(b * s);
    for ids in &tokens {
        for pos in 0..s {
            text_ids.push(ids.get(pos).copied().unwrap_or(tokenizer.pad_id));
            text_valid.push(if pos < ids.len() { 1f32 } else { 0.0 });
        }
    }
    let m = cfg.trajectory_slots;
    let mut boxes = vec![0f32; b * m * 4];
    let mut durations = vec![0f32; b * m];
    let mut valid = vec![0f32; b * m];
    for (row, &i) in indices.iter().enumerate() {
        for (slot, step) in trials.records[i].trajectory.iter().take(m).enumerate() {
            boxes[(row * m + slot) * 4..(row * m + slot + 1) * 4].copy_from_slice(&step.bbox);
            durations[row * m + slot] = step.duration_ms;
            valid[row * m + slot] = 1.0;
        }
    }
    let saliency = match saliency {
        Some(maps) if cfg.ablation.saliency => {
            let g2 = cfg.saliency_grid * cfg.saliency_grid;
            let flat: Vec<f32> = indices
                .iter()
                .flat_map(|&i| maps[i].iter().copied())
                .collect();
            Some(Tensor::from_vec(flat, (b, g2), device)?)
        }
        _ => None,
    };
    Ok(DeperInputs {
        image_features: Tensor::stack(&features, 0)?,
        text_ids: Tensor::from_vec(text_ids, (b, s), device)?,
        text_valid: Tensor::from_vec(text_valid, (b, s), device)?,
        boxes: Tensor::from_vec(boxes, (b, m, 4), device)?,
        durations_ms: Tensor::from_vec(durations, (b, m), device)?.to_dtype(DType::F32)?,
        trajectory_valid: Tensor::from_vec(valid, (b, m), device)?,
        saliency,
    })
}

/// One epoch of P×K batches over `labels` (a class per record): subjects shuffled into
/// groups of `p`, each contributing `k` of its trials (drawn without replacement while
/// it has them, then cycling). Subjects with fewer than 2 trials are left out (no
/// positive pair). Every trial of a subject is used once per epoch as far as possible.
pub fn pk_batches(labels: &[u32], p: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut by_subject: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &l) in labels.iter().enumerate() {
        by_subject.entry(l).or_default().push(i);
    }
    let mut pools: Vec<Vec<usize>> = by_subject.into_values().filter(|v| v.len() >= 2).collect();
    for pool in &mut pools {
        pool.shuffle(rng);
    }
    let k = k.max(2);
    let rounds = pools.iter().map(|v| v.len().div_ceil(k)).max().unwrap_or(0);
    let mut batches = Vec::new();
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..pools.len())
            .filter(|&s| round * k < pools[s].len())
            .collect();
        order.shuffle(rng);
        for group in order.chunks(p.max(2)) {
            if group.len() < 2 && order.len() >= 2 {
                continue;
            }
            let mut batch = Vec::new();
            for &s in group {
                let pool = &pools[s];
                batch.extend((0..k).map(|j| pool[(round * k + j) % pool.len()]));
            }
            batches.push(batch);
        }
    }
    batches
}

/// For each batch position, another position of the same subject (the next one in
/// the batch, cyclically): whose `z_s` conditions this trial's description in stage 2.
pub fn partners(labels: &[u32]) -> Vec<usize> {
    (0..labels.len())
        .map(|i| {
            (1..labels.len())
                .map(|d| (i + d) % labels.len())
                .find(|&j| labels[j] == labels[i])
                .unwrap_or(i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pk_batches_hold_k_trials_of_p_subjects() {
        let labels: Vec<u32> = (0..60).map(|i| (i % 6) as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let batches = pk_batches(&labels, 3, 4, &mut rng);
        assert!(!batches.is_empty());
        for batch in &batches {
            let mut subjects: Vec<u32> = batch.iter().map(|&i| labels[i]).collect();
            assert_eq!(batch.len(), 12);
            subjects.sort();
            subjects.dedup();
            assert_eq!(subjects.len(), 3);
        }
        let again = pk_batches(&labels, 3, 4, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(batches, again, "seeded");
        let p = partners(&[0, 0, 1, 1, 0]);
        assert_eq!(p, vec![1, 4, 3, 2, 0]);
    }

    #[test]
    fn saliency_excludes_the_subjects_own_fixations() {
        use crate::dataset::TrajectoryStep;
        let record = |subject: &str, x: f32| DatasetRecord {
            image: "a.png".into(),
            subject: subject.into(),
            description: "x".into(),
            trajectory: vec![TrajectoryStep {
                bbox: [x, 0.1, x + 0.1, 0.2],
                duration_ms: 100.0,
            }],
            split: None,
            session: None,
            trial: None,
            objects: None,
        };
        let maps = saliency_maps(&[record("a", 0.0), record("b", 0.8)], 2);
        assert_eq!(maps[0], vec![0.0, 1.0, 0.0, 0.0], "a sees where b looked");
        assert_eq!(maps[1], vec![1.0, 0.0, 0.0, 0.0]);
    }
}
