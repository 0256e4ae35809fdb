//! The trajectory decoder: a query `q_traj` cross-attends to `Z_dual` → `z_traj`;
//! `M` learnt box queries, each plus `z_traj`, go through blocks of self-attention,
//! cross-attention to `z_traj`, cross-attention to `[V; L0]`, FiLM modulation by
//! `z_s` (`x·(1+γ) + β`, γ and β from one linear layer on `z_s`; skipped in the
//! no-FiLM ablation) and a feed-forward. A linear head gives per slot four box
//! coordinates (sigmoid) and a validity logit.
//!
//! Keys: `query`, `latent_attn`, `box_queries`, `blocks.{i}.{self_attn,latent_cross,context_cross,film,ffn}`,
//! `head`.

use candle_core::{D, Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder, linear};

use super::config::DeperConfig;
use super::encoder::Encoded;
use crate::model::layers::{ResidualAttention, ResidualFeedForward, key_padding_mask};

#[derive(Debug, Clone)]
struct Block {
    self_attn: ResidualAttention,
    latent_cross: ResidualAttention,
    context_cross: ResidualAttention,
    film: Option<Linear>,
    ffn: ResidualFeedForward,
}

/// Predicted boxes `[b, m, 4]` in `[0, 1]` and validity logits `[b, m]`.
#[derive(Debug, Clone)]
pub struct TrajectoryPrediction {
    pub boxes: Tensor,
    pub valid_logits: Tensor,
}

#[derive(Debug, Clone)]
pub struct TrajectoryDecoder {
    query: Tensor,
    latent_attn: ResidualAttention,
    box_queries: Tensor,
    blocks: Vec<Block>,
    head: Linear,
}

impl TrajectoryDecoder {
    pub fn new(cfg: &DeperConfig, vb: VarBuilder) -> Result<Self> {
        let (h, heads) = (cfg.hidden, cfg.heads);
        let init = candle_nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let mut blocks = Vec::new();
        for i in 0..cfg.decoder_blocks {
            let bv = vb.pp(format!("blocks.{i}"));
            blocks.push(Block {
                self_attn: ResidualAttention::new(h, heads, bv.pp("self_attn"))?,
                latent_cross: ResidualAttention::new(h, heads, bv.pp("latent_cross"))?,
                context_cross: ResidualAttention::new(h, heads, bv.pp("context_cross"))?,
                film: if cfg.ablation.film {
                    Some(linear(h, 2 * h, bv.pp("film"))?)
                } else {
                    None
                },
                ffn: ResidualFeedForward::new(h, bv.pp("ffn"))?,
            });
        }
        Ok(Self {
            query: vb.get_with_hints((1, 1, h), "query", init)?,
            latent_attn: ResidualAttention::new(h, heads, vb.pp("latent_attn"))?,
            box_queries: vb.get_with_hints((cfg.trajectory_slots, h), "box_queries", init)?,
            blocks,
            head: linear(h, 5, vb.pp("head"))?,
        })
    }

    pub fn forward(&self, encoded: &Encoded, z_s: &Tensor) -> Result<TrajectoryPrediction> {
        let (b, _, h) = encoded.z_dual.dims3()?;
        let query = self.query.broadcast_as((b, 1, h))?.contiguous()?;
        let z_mask = key_padding_mask(&encoded.z_valid)?;
        let z_traj = self
            .latent_attn
            .forward(&query, Some(&encoded.z_dual), Some(&z_mask))?;
        let m = self.box_queries.dim(0)?;
        let mut x = self
            .box_queries
            .unsqueeze(0)?
            .broadcast_as((b, m, h))?
            .broadcast_add(&z_traj)?;
        let context_mask = key_padding_mask(&encoded.visual_text_valid)?;
        for block in &self.blocks {
            x = block.self_attn.forward(&x, None, None)?;
            x = block.latent_cross.forward(&x, Some(&z_traj), None)?;
            x = block
                .context_cross
                .forward(&x, Some(&encoded.visual_text), Some(&context_mask))?;
            if let Some(film) = &block.film {
                let gamma_beta = film.forward(z_s)?.unsqueeze(1)?;
                let gamma = gamma_beta.narrow(D::Minus1, 0, h)?;
                let beta = gamma_beta.narrow(D::Minus1, h, h)?;
                x = x.broadcast_mul(&(gamma + 1.0)?)?.broadcast_add(&beta)?;
            }
            x = block.ffn.forward(&x)?;
        }
        let out = self.head.forward(&x)?;
        Ok(TrajectoryPrediction {
            boxes: candle_nn::ops::sigmoid(&out.narrow(D::Minus1, 0, 4)?)?,
            valid_logits: out.narrow(D::Minus1, 4, 1)?.squeeze(D::Minus1)?,
        })
    }
}
