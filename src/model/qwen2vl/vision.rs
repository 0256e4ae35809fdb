//! The Qwen2-VL vision tower: 14×14×2 patch embedding (the checkpoint's Conv3d,
//! applied as one matrix product since patches do not overlap), ViT blocks with 2-D
//! rotary position embeddings (height and width each rotate a quarter of the head),
//! and the patch merger that turns each 2×2 block into one language-model token.
//!
//! Keys (under `visual.`): `patch_embed.proj`, `blocks.{i}.{norm1,norm2}`,
//! `blocks.{i}.attn.{qkv,proj}`, `blocks.{i}.mlp.{fc1,fc2}`, `merger.ln_q`,
//! `merger.mlp.{0,2}`. Frozen: used for inference and as a fixed feature extractor.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder, layer_norm, linear};

use super::config::VisionConfig;
use super::rope::rotate;

#[derive(Debug, Clone)]
struct VisionBlock {
    norm1: LayerNorm,
    norm2: LayerNorm,
    qkv: Linear,
    proj: Linear,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
    quick_gelu: bool,
}

impl VisionBlock {
    fn new(cfg: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        let d = cfg.embed_dim;
        let ln = candle_nn::LayerNormConfig {
            eps: 1e-6,
            ..Default::default()
        };
        Ok(Self {
            norm1: layer_norm(d, ln, vb.pp("norm1"))?,
            norm2: layer_norm(d, ln, vb.pp("norm2"))?,
            qkv: linear(d, 3 * d, vb.pp("attn.qkv"))?,
            proj: linear(d, d, vb.pp("attn.proj"))?,
            fc1: linear(d, cfg.mlp_hidden(), vb.pp("mlp.fc1"))?,
            fc2: linear(cfg.mlp_hidden(), d, vb.pp("mlp.fc2"))?,
            heads: cfg.num_heads,
            quick_gelu: cfg.hidden_act == "quick_gelu",
        })
    }

    /// `x`: `[n, d]` patches of one image; `cos`/`sin`: `[n, head_dim]`.
    fn forward(&self, x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let (n, d) = x.dims2()?;
        let hd = d / self.heads;
        let qkv = self
            .qkv
            .forward(&self.norm1.forward(x)?)?
            .reshape((n, 3, self.heads, hd))?;
        // [heads, n, hd]
        let part =
            |i: usize| -> Result<Tensor> { qkv.narrow(1, i, 1)?.squeeze(1)?.transpose(0, 1) };
        let dtype = x.dtype();
        let rope = |t: Tensor| -> Result<Tensor> {
            rotate(&t.to_dtype(DType::F32)?, cos, sin)?
                .to_dtype(dtype)?
                .contiguous()
        };
        let q = rope(part(0)?)?;
        let k = rope(part(1)?)?;
        let v = part(2)?.contiguous()?;
        let scale = 1.0 / (hd as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.to_dtype(DType::F32)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(dtype)?;
        let attn = weights.matmul(&v)?.transpose(0, 1)?.reshape((n, d))?;
        let x = (x + self.proj.forward(&attn)?)?;
        let h = self.fc1.forward(&self.norm2.forward(&x)?)?;
        let h = if self.quick_gelu {
            (&h * candle_nn::ops::sigmoid(&(&h * 1.702)?)?)?
        } else {
            h.gelu_erf()?
        };
        x + self.fc2.forward(&h)?
    }
}

/// The vision tower with its merger.
#[derive(Debug, Clone)]
pub struct VisionTower {
    cfg: VisionConfig,
    patch_embed: Tensor,
    blocks: Vec<VisionBlock>,
    ln_q: LayerNorm,
    mlp0: Linear,
    mlp2: Linear,
    inv_freq: Vec<f32>,
}

impl VisionTower {
    pub fn new(cfg: &VisionConfig, vb: VarBuilder) -> Result<Self> {
        let weight = vb.get(
            (
                cfg.embed_dim,
                cfg.in_channels,
                cfg.temporal_patch_size,
                cfg.patch_size,
                cfg.patch_size,
            ),
            "patch_embed.proj.weight",
        )?;
        let patch_embed = weight
            .reshape((cfg.embed_dim, cfg.patch_values()))?
            .t()?
            .contiguous()?;
        let blocks = (0..cfg.depth)
            .map(|i| VisionBlock::new(cfg, vb.pp(format!("blocks.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let merged = cfg.embed_dim * cfg.spatial_merge_size * cfg.spatial_merge_size;
        let spatial = cfg.head_dim() / 2;
        let inv_freq = (0..spatial)
            .step_by(2)
            .map(|i| 1.0 / 10000f32.powf(i as f32 / spatial as f32))
            .collect();
        Ok(Self {
            cfg: cfg.clone(),
            patch_embed,
            blocks,
            ln_q: layer_norm(
                cfg.embed_dim,
                candle_nn::LayerNormConfig {
                    eps: 1e-6,
                    ..Default::default()
                },
                vb.pp("merger.ln_q"),
            )?,
            mlp0: linear(merged, merged, vb.pp("merger.mlp.0"))?,
            mlp2: linear(merged, cfg.hidden_size, vb.pp("merger.mlp.2"))?,
            inv_freq,
        })
    }

    /// cos/sin `[n, head_dim]` of the patches of a `grid_h × grid_w` image, in merge-block order.
    fn rotary(
        &self,
        grid_h: usize,
        grid_w: usize,
        device: &candle_core::Device,
    ) -> Result<(Tensor, Tensor)> {
        let m = self.cfg.spatial_merge_size;
        let half = self.inv_freq.len();
        let mut angles = Vec::with_capacity(grid_h * grid_w * 4 * half);
        for bh in 0..grid_h / m {
            for bw in 0..grid_w / m {
                for mh in 0..m {
                    for mw in 0..m {
                        let (y, x) = ((bh * m + mh) as f32, (bw * m + mw) as f32);
                        let row: Vec<f32> = self
                            .inv_freq
                            .iter()
                            .map(|f| y * f)
                            .chain(self.inv_freq.iter().map(|f| x * f))
                            .collect();
                        angles.extend_from_slice(&row);
                        angles.extend_from_slice(&row);
                    }
                }
            }
        }
        let angles = Tensor::from_vec(angles, (grid_h * grid_w, 4 * half), device)?;
        Ok((angles.cos()?, angles.sin()?))
    }

    /// `patches` `[grid_h · grid_w, patch values]` of one image → merged tokens
    /// `[grid_h/2 · grid_w/2, hidden]` in row-major order of the merged grid.
    pub fn forward(&self, patches: &Tensor, grid_h: usize, grid_w: usize) -> Result<Tensor> {
        let dtype = self.patch_embed.dtype();
        let mut x = patches.to_dtype(dtype)?.matmul(&self.patch_embed)?;
        let (cos, sin) = self.rotary(grid_h, grid_w, patches.device())?;
        for block in &self.blocks {
            x = block.forward(&x, &cos, &sin)?;
        }
        let merged = self.cfg.embed_dim * self.cfg.spatial_merge_size * self.cfg.spatial_merge_size;
        let x = self
            .ln_q
            .forward(&x)?
            .reshape((x.dim(0)? * self.cfg.embed_dim / merged, merged))?;
        let x = self.mlp0.forward(&x)?.gelu_erf()?;
        self.mlp2.forward(&x)
    }
}
