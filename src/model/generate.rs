//! Description generation, for any model behind [`DescriptionModel`]: greedy or beam
//! search, both deterministic (ties go to the lower token id), stopping at `<eos>`.
//! No key/value cache: the models here are small and descriptions short.

use candle_core::{D, Device, IndexOp, Tensor};

use super::captioner::Captioner;
use super::error::Result;
use super::tokenizer::TextTokenizer;

/// What a description model offers DEPER: image tokens, token logits for a prompt
/// whose `<subj>` embedding can be replaced, and its tokenizer and prompt.
pub trait DescriptionModel {
    /// Width of the token embeddings (the adapter's output size).
    fn hidden_size(&self) -> usize;
    /// `[b, 3, s, s]` images → image tokens for [`Self::logits`].
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor>;
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
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        self.model.encode_image(images)
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
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            beam_width: 3,
            max_tokens: 48,
            length_penalty: 1.0,
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
    let mut start = tok.encode(model.prompt())?;
    start.push(tok.bos_id);
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
                candidates.push((next, score + lp, token == tok.eos_id));
            }
        }
        let key = |c: &(Vec<u32>, f32, bool)| c.1 / (c.0.len() as f32).powf(options.length_penalty);
        candidates.sort_by(|a, b| key(b).total_cmp(&key(a)).then_with(|| a.0.cmp(&b.0)));
        candidates.truncate(width);
        beams = candidates;
    }
    let best = beams.into_iter().next().map(|b| b.0).unwrap_or_default();
    let body: Vec<u32> = best.into_iter().take_while(|&t| t != tok.eos_id).collect();
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
    let (_, t, d) = image_tokens.dims3()?;
    let images = image_tokens.broadcast_as((n, t, d))?.contiguous()?;
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
