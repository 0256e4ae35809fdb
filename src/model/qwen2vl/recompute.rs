//! Gradient checkpointing for stage 2 through the frozen Qwen2-VL: the loss of a
//! micro-batch of teacher-forced sequences and its gradient with respect to the
//! injected `<subj>` embeddings, without an autograd graph.
//!
//! The forward pass keeps each layer's input (`[m, s, hidden]` in the model's dtype).
//! The head (final norm and vocabulary projection) is applied to the description's
//! positions only, never to the prompt's hundreds of image tokens. The backward pass
//! then walks the layers from the last: it recomputes one layer from its saved input
//! and pulls the gradient through it by the hand-written rules of `text::backward`,
//! which compute the gradient with respect to the layer's input only (the frozen
//! weights need none). The gradient at the input embeddings, summed over each row's
//! `<subj>` positions, is the gradient of the loss with respect to that row's subject
//! vector. At any moment the memory holds the weights, the saved inputs and one
//! layer's activations.
//!
//! Sequences of a micro-batch are right-padded: causal attention means no real token
//! ever sees a pad, and pads carry no loss, so padding changes nothing.

use candle_core::{DType, Tensor};

use super::model::Qwen2Vl;
use super::rope::ImageGrid;
use super::text::causal_mask;
use crate::model::error::{ModelError, Result};

/// One teacher-forced sequence: prompt (with the image run and `<subj>`), description
/// and end-of-turn token.
#[derive(Debug, Clone)]
pub struct TrainingSequence {
    pub ids: Vec<u32>,
    /// Tokens of the prompt: the loss covers the predictions of `ids[prompt_len..]`.
    pub prompt_len: usize,
    /// Merged image tokens `[1, rows, cols, hidden]`.
    pub image: Tensor,
}

impl TrainingSequence {
    fn grid(&self) -> Result<ImageGrid> {
        Ok(ImageGrid {
            rows: self.image.dim(1)?,
            cols: self.image.dim(2)?,
        })
    }

    /// Positions whose next token is scored.
    fn scored(&self) -> std::ops::Range<usize> {
        self.prompt_len.saturating_sub(1)..self.ids.len().saturating_sub(1)
    }
}

/// Where the time of checkpointed steps goes, summed over micro-batches (measured with
/// the device synchronized between phases, so asking for it slows a GPU step slightly).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    pub prepare_s: f64,
    pub forward_s: f64,
    pub head_s: f64,
    pub backward_s: f64,
    pub micro_batches: usize,
}

/// Adds the time since `*clock` to `slot` (device synchronized) and restarts the clock.
fn lap(
    times: Option<&std::sync::Mutex<PhaseTimes>>,
    device: &candle_core::Device,
    clock: &mut std::time::Instant,
    slot: fn(&mut PhaseTimes) -> &mut f64,
) -> Result<()> {
    if let Some(times) = times {
        device.synchronize()?;
        if let Ok(mut t) = times.lock() {
            *slot(&mut t) += clock.elapsed().as_secs_f64();
        }
        *clock = std::time::Instant::now();
    }
    Ok(())
}

/// A micro-batch's share of the loss and, when asked, the gradient `[m, hidden]` (f32)
/// of that share with respect to each row's subject vector.
#[derive(Debug)]
pub struct MicroBatchResult {
    pub loss: f64,
    pub subj_grad: Option<Tensor>,
}

/// Loss of `rows` (all of one image grid), each token's loss weighted by `1 / (tokens
/// of its row × batch_len)` so that micro-batches add up to the mean over the whole
/// batch of each row's mean. `subj` `[m, hidden]` is a constant here.
#[allow(clippy::too_many_arguments)]
pub fn micro_batch_loss(
    model: &Qwen2Vl,
    rows: &[&TrainingSequence],
    subj: &Tensor,
    subj_id: u32,
    pad_id: u32,
    batch_len: usize,
    want_grad: bool,
    times: Option<&std::sync::Mutex<PhaseTimes>>,
) -> Result<MicroBatchResult> {
    let device = subj.device();
    let mut clock = std::time::Instant::now();
    if let Some(Ok(mut t)) = times.map(|t| t.lock()) {
        t.micro_batches += 1;
    }
    let first = rows
        .first()
        .ok_or_else(|| ModelError::Data("an empty micro-batch".into()))?;
    let grid = first.grid()?;
    let s = rows
        .iter()
        .map(|r| r.ids.len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    if s == 0 {
        return Err(ModelError::Data(
            "a training sequence with no tokens".into(),
        ));
    }
    let m = rows.len();
    let mut inputs = Vec::with_capacity(m * s);
    let (mut selected, mut targets, mut weights) = (Vec::new(), Vec::new(), Vec::new());
    for (r, row) in rows.iter().enumerate() {
        if row.grid()? != grid {
            return Err(ModelError::Data(
                "a micro-batch mixes images of different sizes".into(),
            ));
        }
        let n = row.ids.len().saturating_sub(1);
        inputs.extend((0..s).map(|p| if p < n { row.ids[p] } else { pad_id }));
        let scored = row.scored();
        let weight = 1.0 / (scored.len().max(1) * batch_len.max(1)) as f32;
        for p in scored {
            selected.push(u32::try_from(r * s + p).map_err(|_| too_long())?);
            targets.push(row.ids[p + 1]);
            weights.push(weight);
        }
    }
    let ids = Tensor::from_vec(inputs, (m, s), device)?;
    let images: Vec<&Tensor> = rows.iter().map(|r| &r.image).collect();
    let images = Tensor::cat(&images, 0)?;
    let embeds = model.input_embeddings(&ids, Some(&images), Some((subj, subj_id)))?;
    let (positions, _) = model.positions(&ids, Some(grid))?;
    let (cos, sin) = model.rope_tables(&positions, device)?;
    let mask = causal_mask(s, 0, device)?;
    let text = model.text();

    lap(times, device, &mut clock, |t| &mut t.prepare_s)?;
    // Forward without a graph, keeping each layer's input.
    let mut x = embeds.to_dtype(text.dtype())?.detach();
    let mut saved = Vec::with_capacity(text.num_layers());
    for layer in 0..text.num_layers() {
        let next = text.layer_forward(layer, &x, &cos, &sin, Some(&mask))?;
        saved.push(std::mem::replace(&mut x, next));
    }

    lap(times, device, &mut clock, |t| &mut t.forward_s)?;
    let selected = Tensor::new(selected.as_slice(), device)?;
    let targets = Tensor::new(targets.as_slice(), device)?;
    let weights = Tensor::new(weights.as_slice(), device)?;
    let rows = x.flatten_to(1)?.index_select(&selected, 0)?;
    if !want_grad {
        let (loss, _) = text.head_loss(&rows, &targets, &weights)?;
        return Ok(MicroBatchResult {
            loss: f64::from(loss),
            subj_grad: None,
        });
    }

    // Backward, by hand: the head at the scored rows, then each layer from the last,
    // recomputed from its saved input.
    let (loss, row_grad) = text.head_loss_and_input_grad(&rows, &targets, &weights)?;
    drop(rows);
    let hidden = x.dim(2)?;
    let mut grad = Tensor::zeros((m * s, hidden), DType::F32, device)?
        .index_add(&selected, &row_grad, 0)?
        .reshape((m, s, hidden))?;
    drop((x, row_grad));
    lap(times, device, &mut clock, |t| &mut t.head_s)?;
    for layer in (0..text.num_layers()).rev() {
        let input = saved.pop().ok_or_else(|| {
            ModelError::Data("internal: a layer input was not kept for the backward pass".into())
        })?;
        grad = text.layer_input_grad(layer, &input, &cos, &sin, Some(&mask), &grad)?;
    }
    lap(times, device, &mut clock, |t| &mut t.backward_s)?;
    let at_subj = ids.eq(subj_id)?.to_dtype(DType::F32)?.unsqueeze(2)?;
    let subj_grad = grad.broadcast_mul(&at_subj)?.sum(1)?;
    Ok(MicroBatchResult {
        loss: f64::from(loss),
        subj_grad: Some(subj_grad),
    })
}

fn too_long() -> ModelError {
    ModelError::Data("a micro-batch has more than 2^32 token positions".into())
}
