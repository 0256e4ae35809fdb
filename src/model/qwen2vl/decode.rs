//! Qwen2-VL's [`IncrementalDecoder`]: the prompt (with its image and `<subj>`) is read
//! once into a key/value cache with its M-RoPE positions, then each step feeds one
//! token per beam at the next text position (all three M-RoPE axes advance together
//! after the prompt); beams are reordered by parent in the cache. The search itself
//! (greedy, beam, sampling) is [`crate::model::generate`]'s, shared with every model.

use candle_core::Tensor;

use super::model::Qwen2Vl;
use super::rope::ImageGrid;
use super::text::KvCache;
use crate::model::generate::IncrementalDecoder;

/// Cached decoding of one prompt and its beams.
pub struct QwenDecoder<'a> {
    model: &'a Qwen2Vl,
    /// `[1, rows, cols, hidden]`.
    image_tokens: Tensor,
    /// The subject embedding `[1, hidden]` and the `<subj>` token id.
    subj: Option<(Tensor, u32)>,
    cache: KvCache,
    /// The position of the next token; `None` until the prompt is fed.
    next_position: Option<u32>,
}

impl<'a> QwenDecoder<'a> {
    pub fn new(model: &'a Qwen2Vl, image_tokens: &Tensor, subj: Option<(&Tensor, u32)>) -> Self {
        Self {
            model,
            image_tokens: image_tokens.clone(),
            subj: subj.map(|(z, id)| (z.clone(), id)),
            cache: KvCache::default(),
            next_position: None,
        }
    }
}

impl IncrementalDecoder for QwenDecoder<'_> {
    fn feed(&mut self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let logits = match self.next_position {
            None => {
                let grid = ImageGrid {
                    rows: self.image_tokens.dim(1)?,
                    cols: self.image_tokens.dim(2)?,
                };
                let subj = self.subj.as_ref().map(|(z, id)| (z, *id));
                let embeds = self
                    .model
                    .input_embeddings(ids, Some(&self.image_tokens), subj)
                    .map_err(candle_core::Error::wrap)?;
                let (positions, next) = self
                    .model
                    .positions(ids, Some(grid))
                    .map_err(candle_core::Error::wrap)?;
                self.next_position = Some(next.first().copied().unwrap_or(0));
                self.model
                    .forward_embeddings(&embeds, &positions, Some(&mut self.cache), true)
                    .map_err(candle_core::Error::wrap)?
            }
            Some(position) => {
                let (rows, steps) = ids.dims2()?;
                let axis: Vec<u32> = (position..position + steps as u32).collect();
                let positions = vec![[axis.clone(), axis.clone(), axis]; rows];
                self.next_position = Some(position + steps as u32);
                let embeds = self
                    .model
                    .embed_ids(ids)
                    .map_err(candle_core::Error::wrap)?;
                self.model
                    .forward_embeddings(&embeds, &positions, Some(&mut self.cache), true)
                    .map_err(candle_core::Error::wrap)?
            }
        };
        // `[b, 1, vocab]` (last position only) → `[b, vocab]`.
        logits.squeeze(1)
    }

    fn select_rows(&mut self, rows: &Tensor) -> candle_core::Result<()> {
        self.cache.select(rows).map_err(candle_core::Error::wrap)
    }
}
