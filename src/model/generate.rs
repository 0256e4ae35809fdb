//! Description generation, for any model behind [`DescriptionModel`]: greedy or beam
//! search, both deterministic (ties go to the lower token id), stopping at the
//! model's stop tokens. [`generate`] has no key/value cache (the built-in captioner is
//! small and descriptions short); Qwen2-VL brings its own cached decoder through
//! [`DescriptionModel::describe`].

use std::path::Path;

use candle_core::{D, Device, IndexOp, Tensor};

use super::captioner::Captioner;
use super::error::Result;
use super::images::load_image;
use super::tokenizer::TextTokenizer;

/// What a description model offers DEPER: image tokens, token logits for a prompt
/// whose `<subj>` embedding can be replaced, its tokenizer and prompt, and
/// description generation.
pub trait DescriptionModel {
    /// Width of the token embeddings (the adapter's output size).
    fn hidden_size(&self) -> usize;
    /// The image file at `path` prepared for [`Self::encode_image`], `[3, h, w]`
    /// (the built-in captioner: a fixed square; Qwen2-VL: sides multiples of 28, the
    /// aspect ratio kept).
    fn load_image(&self, path: &Path, device: &Device) -> Result<Tensor>;
    /// `[b, 3, h, w]` images → image tokens for [`Self::logits`]; dim 0 is the batch,
    /// the rest is the model's (`[b, n, d]` for the captioner, `[b, rows, cols, d]`
    /// for Qwen2-VL, whose positions follow the merged patch grid).
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor>;
    /// Token ids that precede a description of an image with these tokens
    /// (`[1, ...]`); `personalized`: whether a subject embedding will fill `<subj>`.
    fn start_ids(&self, image_tokens: &Tensor, personalized: bool) -> Result<Vec<u32>>;
    /// Tokens that end a description.
    fn stop_ids(&self) -> Vec<u32>;
    /// A description of one image (`image_tokens` `[1, ...]`), personalized when
    /// `subj` `[1, hidden]` is given. Returns the text and the number of tokens.
    fn describe(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)>;
    /// `[b, s]` token ids → `[b, s, vocab]` logits; `subj` `[b, hidden]` replaces `<subj>`.
    fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor>;
    fn tokenizer(&self) -> &TextTokenizer;
    fn prompt(&self) -> &str;
    fn max_positions(&self) -> usize;
}

/// A [`Captioner`] with its tokenizer.
#[derive(Debug, Clone)]
pub struct BuiltinDescriber {
    pub model: Captioner,
    pub tokenizer: TextTokenizer,
}

impl DescriptionModel for BuiltinDescriber {
    fn hidden_size(&self) -> usize {
        self.model.config.width
    }
    fn load_image(&self, path: &Path, device: &Device) -> Result<Tensor> {
        load_image(path, self.model.config.image.image_size, device)
    }
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        self.model.encode_image(images)
    }
    fn start_ids(&self, _image_tokens: &Tensor, _personalized: bool) -> Result<Vec<u32>> {
        // The generic description keeps `<subj>`'s own learnt embedding.
        let mut ids = self.tokenizer.encode(&self.model.config.prompt)?;
        ids.push(self.tokenizer.bos_id);
        Ok(ids)
    }
    fn stop_ids(&self) -> Vec<u32> {
        vec![self.tokenizer.eos_id]
    }
    fn describe(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)> {
        generate(self, image_tokens, subj, options)
    }
    fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        self.model
            .logits(image_tokens, input_ids, self.tokenizer.subj_id, subj)
    }
    fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }
    fn prompt(&self) -> &str {
        &self.model.config.prompt
    }
    fn max_positions(&self) -> usize {
        self.model.config.max_positions
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateOptions {
    /// 1 = greedy.
    pub beam_width: usize,
    pub max_tokens: usize,
    /// Beam scores are `log p / length^length_penalty`.
    pub length_penalty: f32,
    /// Sampling temperature; 0 = deterministic search (greedy or beam). Honoured by
    /// the Qwen2-VL decoder; the built-in captioner always searches.
    pub temperature: f32,
    /// Nucleus sampling: the smallest set of tokens with this much probability.
    pub top_p: f32,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            beam_width: 3,
            max_tokens: 48,
            length_penalty: 1.0,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
        }
    }
}

/// Describes one image. `image_tokens`: `[1, n, d]` from [`DescriptionModel::encode_image`];
/// `subj`: `[1, hidden]` or `None` for the generic description. Returns the text and the
/// number of tokens generated.
pub fn generate(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    options: &GenerateOptions,
) -> Result<(String, usize)> {
    let tok = model.tokenizer();
    let start = model.start_ids(image_tokens, subj.is_some())?;
    let stop = model.stop_ids();
    let budget = options
        .max_tokens
        .min(model.max_positions().saturating_sub(start.len()));
    let device = image_tokens.device().clone();
    let width = options.beam_width.max(1);
    // (tokens after the start, summed log-probability, finished)
    let mut beams: Vec<(Vec<u32>, f32, bool)> = vec![(Vec::new(), 0.0, false)];
    for _ in 0..budget {
        if beams.iter().all(|b| b.2) {
            break;
        }
        let open: Vec<usize> = (0..beams.len()).filter(|&i| !beams[i].2).collect();
        let log_probs = next_log_probs(
            model,
            image_tokens,
            subj,
            &start,
            &open.iter().map(|&i| beams[i].0.clone()).collect::<Vec<_>>(),
            &device,
        )?;
        let mut candidates: Vec<(Vec<u32>, f32, bool)> =
            beams.iter().filter(|b| b.2).cloned().collect();
        for (row, &i) in open.iter().enumerate() {
            let (tokens, score, _) = &beams[i];
            for (token, lp) in top_k(&log_probs[row], width) {
                let mut next = tokens.clone();
                next.push(token);
                candidates.push((next, score + lp, stop.contains(&token)));
            }
        }
        let key = |c: &(Vec<u32>, f32, bool)| c.1 / (c.0.len() as f32).powf(options.length_penalty);
        candidates.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.0.cmp(&b.0)));
        candidates.truncate(width);
        beams = candidates;
    }
    let best = beams.into_iter().next().map(|b| b.0).unwrap_or_default();
    let body: Vec<u32> = best.into_iter().take_while(|t| !stop.contains(t)).collect();
    Ok((tok.decode(&body)?, body.len()))
}

fn next_log_probs(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    start: &[u32],
    continuations: &[Vec<u32>],
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let n = continuations.len();
    let s = start.len() + continuations.first().map_or(0, Vec::len);
    let ids: Vec<u32> = continuations
        .iter()
        .flat_map(|c| start.iter().chain(c.iter()).copied())
        .collect();
    let ids = Tensor::from_vec(ids, (n, s), device)?;
    let mut dims = image_tokens.dims().to_vec();
    dims[0] = n;
    let images = image_tokens.broadcast_as(dims)?.contiguous()?;
    let subj = match subj {
        Some(z) => Some(z.broadcast_as((n, z.dim(D::Minus1)?))?.contiguous()?),
        None => None,
    };
    let logits = model.logits(&images, &ids, subj.as_ref())?;
    let last = logits.i((.., s - 1, ..))?;
    Ok(candle_nn::ops::log_softmax(&last, D::Minus1)?.to_vec2::<f32>()?)
}

/// The `k` best `(token, log p)`, ties to the lower id.
fn top_k(log_probs: &[f32], k: usize) -> Vec<(u32, f32)> {
    let mut order: Vec<(u32, f32)> = log_probs
        .iter()
        .enumerate()
        .map(|(i, &p)| (i as u32, p))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    order.truncate(k);
    order
}
