//! The subject embedding extractor: a learnable query `q_s` cross-attends to `Z_dual`
//! and becomes `z_s` (width `hidden`), followed by a feed-forward and a norm; a linear
//! classifier head predicts the training subject from `z_s` (for `L_cls`).
//!
//! Keys: `query`, `attn`, `ffn`, `norm`, `classifier`.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder, linear};

use super::config::DeperConfig;
use crate::model::layers::{Norm, ResidualAttention, ResidualFeedForward, key_padding_mask, norm};

#[derive(Debug, Clone)]
pub struct SubjectExtractor {
    query: Tensor,
    attn: ResidualAttention,
    ffn: ResidualFeedForward,
    norm: Norm,
    classifier: Linear,
}

impl SubjectExtractor {
    pub fn new(cfg: &DeperConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            query: vb.get_with_hints(
                (1, 1, cfg.hidden),
                "query",
                candle_nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            )?,
            attn: ResidualAttention::new(cfg.hidden, cfg.heads, vb.pp("attn"))?,
            ffn: ResidualFeedForward::new(cfg.hidden, vb.pp("ffn"))?,
            norm: norm(cfg.hidden, vb.pp("norm"))?,
            classifier: linear(cfg.hidden, cfg.subjects.len().max(1), vb.pp("classifier"))?,
        })
    }

    /// `z_s`, `[b, hidden]`, from `Z_dual` `[b, k, hidden]` and its validity `[b, k]`.
    pub fn forward(&self, z_dual: &Tensor, z_valid: &Tensor) -> Result<Tensor> {
        let (b, _, h) = z_dual.dims3()?;
        let query = self.query.broadcast_as((b, 1, h))?.contiguous()?;
        let mask = key_padding_mask(z_valid)?;
        let z = self.attn.forward(&query, Some(z_dual), Some(&mask))?;
        self.norm.forward(&self.ffn.forward(&z)?)?.squeeze(1)
    }

    /// Subject logits `[b, subjects]`.
    pub fn classify(&self, z_s: &Tensor) -> Result<Tensor> {
        self.classifier.forward(z_s)
    }
}
