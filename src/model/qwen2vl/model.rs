//! Qwen2-VL put together: the vision tower's merged image tokens are placed at the
//! `<|image_pad|>` run of the prompt, an optional vector replaces the input embedding
//! of every `<subj>` token, M-RoPE positions are computed from the ids and the image
//! grid, and the language model gives logits. This is the one place where the
//! subject embedding enters the backbone.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::config::Qwen2VlConfig;
use super::rope::{ImageGrid, MropeTables, mrope_positions};
use super::text::{KvCache, TextModel};
use super::vision::VisionTower;

/// Positions of a batch, `[b][3][s]`, and the next free position of each row.
pub type Positions = (Vec<[Vec<u32>; 3]>, Vec<u32>);

#[derive(Debug, Clone)]
pub struct Qwen2Vl {
    pub config: Qwen2VlConfig,
    vision: VisionTower,
    text: TextModel,
    rope: MropeTables,
}

impl Qwen2Vl {
    /// `vision_vb`, `text_vb`, `head_vb`: the prefixes of the vision tower, the language
    /// model and `lm_head` in the checkpoint.
    pub fn new(
        config: &Qwen2VlConfig,
        vision_vb: VarBuilder,
        text_vb: VarBuilder,
        head_vb: VarBuilder,
    ) -> Result<Self> {
        Ok(Self {
            vision: VisionTower::new(&config.vision, vision_vb)?,
            text: TextModel::new(config, text_vb, head_vb)?,
            rope: MropeTables::new(config.head_dim(), config.rope_theta, &config.mrope_section),
            config: config.clone(),
        })
    }

    /// Merged image tokens `[rows, cols, hidden]` of one processed image (`patches`
    /// `[grid_h · grid_w, values]`).
    pub fn encode_patches(&self, patches: &Tensor, grid_h: usize, grid_w: usize) -> Result<Tensor> {
        let m = self.config.vision.spatial_merge_size;
        let tokens = self.vision.forward(patches, grid_h, grid_w)?;
        tokens.reshape((grid_h / m, grid_w / m, self.config.text.hidden_size))
    }

    /// Input embeddings `[b, s, hidden]` of `ids` `[b, s]`: `image_tokens` `[b, rows,
    /// cols, hidden]` fill each row's `<|image_pad|>` run; `subj` `[b, hidden]` replaces
    /// every `subj_id` token.
    pub fn input_embeddings(
        &self,
        ids: &Tensor,
        image_tokens: Option<&Tensor>,
        subj: Option<(&Tensor, u32)>,
    ) -> Result<Tensor> {
        let (b, s) = ids.dims2()?;
        let hidden = self.config.text.hidden_size;
        let mut x = self.text.embed(ids)?;
        let dtype = x.dtype();
        if let Some(images) = image_tokens {
            let rows = ids.to_vec2::<u32>()?;
            let mut canvas = Vec::with_capacity(b);
            for (r, row) in rows.iter().enumerate() {
                let image = images.get(r)?.flatten(0, 1)?.to_dtype(dtype)?;
                let n = image.dim(0)?;
                let start = row
                    .iter()
                    .position(|&t| t == self.config.image_token_id)
                    .ok_or_else(|| {
                        candle_core::Error::Msg(
                            "a sequence with an image has no image placeholder".into(),
                        )
                    })?;
                if start + n > s {
                    return Err(candle_core::Error::Msg(format!(
                        "{n} image tokens do not fit after position {start} of a {s}-token sequence"
                    )));
                }
                let mut parts = Vec::new();
                if start > 0 {
                    parts.push(Tensor::zeros((start, hidden), dtype, ids.device())?);
                }
                parts.push(image);
                if start + n < s {
                    parts.push(Tensor::zeros((s - start - n, hidden), dtype, ids.device())?);
                }
                canvas.push(Tensor::cat(&parts, 0)?);
            }
            let canvas = Tensor::stack(&canvas, 0)?;
            let at_image = ids
                .eq(self.config.image_token_id)?
                .unsqueeze(2)?
                .broadcast_as((b, s, hidden))?;
            x = at_image.where_cond(&canvas, &x)?;
        }
        if let Some((subj, subj_id)) = subj {
            let at_subj = ids
                .eq(subj_id)?
                .unsqueeze(2)?
                .broadcast_as((b, s, hidden))?;
            let subj = subj
                .to_dtype(dtype)?
                .unsqueeze(1)?
                .broadcast_as((b, s, hidden))?;
            x = at_subj.where_cond(&subj, &x)?;
        }
        Ok(x)
    }

    /// M-RoPE positions of `ids` `[b, s]` with one image grid per row (or none).
    pub fn positions(&self, ids: &Tensor, grid: Option<ImageGrid>) -> Result<Positions> {
        let grids: Vec<ImageGrid> = grid.into_iter().collect();
        let mut all = Vec::new();
        let mut next = Vec::new();
        for row in ids.to_vec2::<u32>()? {
            let (p, n) = mrope_positions(&row, self.config.image_token_id, &grids)?;
            all.push(p);
            next.push(n);
        }
        Ok((all, next))
    }

    /// Logits `[b, s, vocab]` (or `[b, 1, vocab]` when `last_only`) of input
    /// embeddings at the given positions, extending `cache` when given.
    pub fn forward_embeddings(
        &self,
        embeds: &Tensor,
        positions: &[[Vec<u32>; 3]],
        cache: Option<&mut KvCache>,
        last_only: bool,
    ) -> Result<Tensor> {
        let (cos, sin) = self.rope.cos_sin(positions, embeds.device())?;
        self.text.forward(embeds, &cos, &sin, cache, last_only)
    }

    /// Logits `[b, s, vocab]` of a whole sequence: ids with their image and subject.
    pub fn logits(
        &self,
        ids: &Tensor,
        image_tokens: Option<&Tensor>,
        subj: Option<(&Tensor, u32)>,
    ) -> Result<Tensor> {
        let grid = match image_tokens {
            Some(t) => Some(ImageGrid {
                rows: t.dim(1)?,
                cols: t.dim(2)?,
            }),
            None => None,
        };
        let embeds = self.input_embeddings(ids, image_tokens, subj)?;
        let (positions, _) = self.positions(ids, grid)?;
        self.forward_embeddings(&embeds, &positions, None, false)
    }

    /// The language model, whose layers checkpointed training runs one at a time.
    pub fn text(&self) -> &TextModel {
        &self.text
    }

    /// Rotary tables `(cos, sin)` `[b, 1, s, head_dim]` of `positions`.
    pub fn rope_tables(
        &self,
        positions: &[[Vec<u32>; 3]],
        device: &candle_core::Device,
    ) -> Result<(Tensor, Tensor)> {
        self.rope.cos_sin(positions, device)
    }

    /// Input embeddings of plain text tokens `[b, s]`.
    pub fn embed_ids(&self, ids: &Tensor) -> Result<Tensor> {
        self.text.embed(ids)
    }
}
