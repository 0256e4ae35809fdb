//! The retrieval encoders (candle): per modality a small MLP with two heads, a
//! **content** embedding (same image close) and a **style** embedding (same user
//! close), both L2-normalized. Trained with cross-modal batch-all triplet losses,
//! margin 0.2 on cosine similarity, in both directions (gaze→text and text→gaze).

use candle_core::{D, DType, Device, Module, Tensor, Var};
use candle_nn::Linear;
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::protocol::TrialKey;

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderConfig {
    pub hidden: usize,
    pub embedding: usize,
    pub margin: f64,
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        Self {
            hidden: 128,
            embedding: 64,
            margin: 0.2,
            steps: 300,
            batch: 64,
            lr: 2e-3,
        }
    }
}

/// One modality's encoder.
#[derive(Debug, Clone)]
pub struct ModalityEncoder {
    trunk: Linear,
    content: Linear,
    style: Linear,
}

/// Content and style embeddings `[n, embedding]`, unit length.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub content: Tensor,
    pub style: Tensor,
}

fn unit(x: &Tensor) -> candle_core::Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
    x.broadcast_div(&(norm + 1e-6)?)
}

/// A linear layer initialized from `rng` (uniform in ±1/√input, as PyTorch and
/// candle do), its variables appended to `vars`. candle's CPU random generator cannot
/// be seeded, so the initialization is drawn here to keep runs reproducible.
fn seeded_linear(
    input: usize,
    output: usize,
    rng: &mut ChaCha8Rng,
    vars: &mut Vec<Var>,
    device: &Device,
) -> candle_core::Result<Linear> {
    let bound = 1.0 / (input as f32).sqrt();
    let mut draw =
        |n: usize| -> Vec<f32> { (0..n).map(|_| rng.gen_range(-bound..bound)).collect() };
    let weight = Var::from_tensor(&Tensor::from_vec(
        draw(input * output),
        (output, input),
        device,
    )?)?;
    let bias = Var::from_tensor(&Tensor::from_vec(draw(output), output, device)?)?;
    let layer = Linear::new(weight.as_tensor().clone(), Some(bias.as_tensor().clone()));
    vars.push(weight);
    vars.push(bias);
    Ok(layer)
}

impl ModalityEncoder {
    pub fn new(
        input: usize,
        cfg: &EncoderConfig,
        rng: &mut ChaCha8Rng,
        vars: &mut Vec<Var>,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            trunk: seeded_linear(input, cfg.hidden, rng, vars, device)?,
            content: seeded_linear(cfg.hidden, cfg.embedding, rng, vars, device)?,
            style: seeded_linear(cfg.hidden, cfg.embedding, rng, vars, device)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Embeddings> {
        let h = self.trunk.forward(x)?.relu()?;
        Ok(Embeddings {
            content: unit(&self.content.forward(&h)?)?,
            style: unit(&self.style.forward(&h)?)?,
        })
    }
}

/// Batch-all triplet loss between anchors of one modality and items of the other:
/// `mean relu(margin − s(a, p) + s(a, n))` over all (a, p, n) with `p` sharing the
/// anchor's key and `n` not. `sims` is `[b, b]`.
pub fn triplet_loss(sims: &Tensor, keys: &[usize], margin: f64) -> candle_core::Result<Tensor> {
    let b = keys.len();
    let device = sims.device();
    let mut pos = vec![0f32; b * b];
    for a in 0..b {
        for p in 0..b {
            if keys[a] == keys[p] {
                pos[a * b + p] = 1.0;
            }
        }
    }
    let pos = Tensor::from_vec(pos, (b, b), device)?;
    let neg = (1.0 - &pos)?;
    // [a, p, n] = margin - s(a, p) + s(a, n)
    let sap = sims.unsqueeze(2)?;
    let san = sims.unsqueeze(1)?;
    let raw = (san.broadcast_sub(&sap)? + margin)?.relu()?;
    let mask = pos.unsqueeze(2)?.broadcast_mul(&neg.unsqueeze(1)?)?;
    let count = mask.sum_all()?.to_scalar::<f32>()?;
    if count == 0.0 {
        return Tensor::zeros((), DType::F32, device);
    }
    (raw * mask)?.sum_all()? / f64::from(count)
}

/// Both encoders of a trained retrieval model.
#[derive(Debug, Clone)]
pub struct RetrievalModel {
    pub gaze: ModalityEncoder,
    pub text: ModalityEncoder,
}

/// Trains the two encoders on `train` trials (indices into `keys`, `gaze`, `text`).
pub fn train(
    gaze: &Tensor,
    text: &Tensor,
    keys: &[TrialKey],
    train: &[usize],
    cfg: &EncoderConfig,
    seed: u64,
    device: &Device,
) -> candle_core::Result<RetrievalModel> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut vars = Vec::new();
    let model = RetrievalModel {
        gaze: ModalityEncoder::new(gaze.dim(1)?, cfg, &mut rng, &mut vars, device)?,
        text: ModalityEncoder::new(text.dim(1)?, cfg, &mut rng, &mut vars, device)?,
    };
    let mut opt = AdamW::new(
        vars,
        ParamsAdamW {
            lr: cfg.lr,
            weight_decay: 1e-4,
            ..ParamsAdamW::default()
        },
    )?;
    let mut order = train.to_vec();
    let mut cursor = order.len();
    for _ in 0..cfg.steps {
        if cursor + cfg.batch > order.len() {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let batch: Vec<u32> = order[cursor..(cursor + cfg.batch).min(order.len())]
            .iter()
            .map(|&i| i as u32)
            .collect();
        cursor += cfg.batch;
        let index = Tensor::new(batch.as_slice(), device)?;
        let g = model.gaze.forward(&gaze.index_select(&index, 0)?)?;
        let t = model.text.forward(&text.index_select(&index, 0)?)?;
        let images: Vec<usize> = batch.iter().map(|&i| keys[i as usize].image).collect();
        let users: Vec<usize> = batch.iter().map(|&i| keys[i as usize].user).collect();
        let content = g.content.matmul(&t.content.t()?)?;
        let style = g.style.matmul(&t.style.t()?)?;
        let loss = (triplet_loss(&content, &images, cfg.margin)?
            + triplet_loss(&content.t()?, &images, cfg.margin)?
            + triplet_loss(&style, &users, cfg.margin)?
            + triplet_loss(&style.t()?, &users, cfg.margin)?)?;
        opt.backward_step(&loss)?;
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triplet_loss_is_zero_when_positives_beat_negatives_by_the_margin() {
        let device = Device::Cpu;
        let good = Tensor::new(&[[1.0f32, 0.5], [0.5, 1.0]], &device).unwrap();
        let loss = triplet_loss(&good, &[0, 1], 0.2).unwrap();
        assert_eq!(loss.to_scalar::<f32>().unwrap(), 0.0);
        let bad = Tensor::new(&[[0.5f32, 1.0], [1.0, 0.5]], &device).unwrap();
        let loss = triplet_loss(&bad, &[0, 1], 0.2).unwrap();
        assert!((loss.to_scalar::<f32>().unwrap() - 0.7).abs() < 1e-6);
    }
}
