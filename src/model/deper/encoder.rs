//! The dual-context encoder: image tokens `V` (frozen image encoder, projected to
//! `hidden`), text tokens `L0` (description), trajectory tokens `T0` (linear on box +
//! duration, plus sinusoidal encodings of the duration and the order index). Each
//! layer updates both streams from the previous layer's values:
//! `T ← FFN(Cross(Self(T), [V; L]))`, `L ← FFN(Cross(Self(L), [V; T]))`, pre-norm
//! residual. Output `Z_dual = [L'; T']`.
//!
//! Ablations: text-only drops the trajectory stream (`L ← FFN(Cross(Self(L), V))`);
//! no-dynamics drops duration and order; saliency fuses a fixation-density grid
//! into `V` by cross-attention first.
//!
//! Keys: `visual_proj`, `text_embedding`, `text_position`, `trajectory_input`,
//! `saliency_input`, `saliency_fuse`, `layers.{i}.{t_self,t_cross,t_ffn,l_self,l_cross,l_ffn}`.

use candle_core::{D, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder, embedding, linear};

use super::config::DeperConfig;
use crate::model::layers::{ResidualAttention, ResidualFeedForward, key_padding_mask, sinusoidal};

/// One batch as DEPER reads it. Shapes: `b` trials, `n` image tokens, `s` text
/// tokens, `m` trajectory slots, `g²` saliency cells.
#[derive(Debug, Clone)]
pub struct DeperInputs {
    /// `[b, n, image_width]`, from the frozen image encoder.
    pub image_features: Tensor,
    /// `[b, s]` u32 and `[b, s]` f32 (1 = real token).
    pub text_ids: Tensor,
    pub text_valid: Tensor,
    /// `[b, m, 4]` boxes `[x0, y0, x1, y1]`, `[b, m]` durations in ms, `[b, m]` validity.
    pub boxes: Tensor,
    pub durations_ms: Tensor,
    pub trajectory_valid: Tensor,
    /// `[b, g²]` fixation density of the other subjects (sums to 1), if used.
    pub saliency: Option<Tensor>,
}

/// The trajectory stream of one layer (absent in the text-only ablation).
#[derive(Debug, Clone)]
struct TrajectoryStream {
    t_self: ResidualAttention,
    t_cross: ResidualAttention,
    t_ffn: ResidualFeedForward,
}

#[derive(Debug, Clone)]
struct DualLayer {
    trajectory: Option<TrajectoryStream>,
    l_self: ResidualAttention,
    l_cross: ResidualAttention,
    l_ffn: ResidualFeedForward,
}

/// The encoder's outputs, with validity masks for attention over them.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// `[b, s + m, hidden]` (`[b, s, hidden]` text-only) and its `[b, ·]` validity.
    pub z_dual: Tensor,
    pub z_valid: Tensor,
    /// `[V; L0]`, `[b, n + s, hidden]`, and its validity: the decoder's visual-text context.
    pub visual_text: Tensor,
    pub visual_text_valid: Tensor,
}

#[derive(Debug, Clone)]
pub struct DualContextEncoder {
    cfg: DeperConfig,
    visual_proj: Linear,
    text_embedding: Embedding,
    text_position: Tensor,
    trajectory_input: Option<Linear>,
    saliency_input: Option<Linear>,
    saliency_fuse: Option<ResidualAttention>,
    layers: Vec<DualLayer>,
}

impl DualContextEncoder {
    pub fn new(cfg: &DeperConfig, vb: VarBuilder) -> Result<Self> {
        let (h, heads) = (cfg.hidden, cfg.heads);
        let mut layers = Vec::new();
        for i in 0..cfg.layers {
            let lv = vb.pp(format!("layers.{i}"));
            let trajectory = if cfg.ablation.trajectory {
                Some(TrajectoryStream {
                    t_self: ResidualAttention::new(h, heads, lv.pp("t_self"))?,
                    t_cross: ResidualAttention::new(h, heads, lv.pp("t_cross"))?,
                    t_ffn: ResidualFeedForward::new(h, lv.pp("t_ffn"))?,
                })
            } else {
                None
            };
            layers.push(DualLayer {
                trajectory,
                l_self: ResidualAttention::new(h, heads, lv.pp("l_self"))?,
                l_cross: ResidualAttention::new(h, heads, lv.pp("l_cross"))?,
                l_ffn: ResidualFeedForward::new(h, lv.pp("l_ffn"))?,
            });
        }
        let saliency = cfg.ablation.saliency;
        Ok(Self {
            cfg: cfg.clone(),
            visual_proj: linear(cfg.image_width, h, vb.pp("visual_proj"))?,
            text_embedding: embedding(cfg.vocab_size, h, vb.pp("text_embedding"))?,
            text_position: vb.get_with_hints(
                (cfg.max_text_tokens, h),
                "text_position",
                candle_nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            )?,
            trajectory_input: if cfg.ablation.trajectory {
                Some(linear(5, h, vb.pp("trajectory_input"))?)
            } else {
                None
            },
            saliency_input: if saliency {
                Some(linear(3, h, vb.pp("saliency_input"))?)
            } else {
                None
            },
            saliency_fuse: if saliency {
                Some(ResidualAttention::new(h, heads, vb.pp("saliency_fuse"))?)
            } else {
                None
            },
            layers,
        })
    }

    /// `V`: projected image tokens, with the saliency grid fused in when enabled.
    fn visual(&self, inputs: &DeperInputs) -> Result<Tensor> {
        let v = self.visual_proj.forward(&inputs.image_features)?;
        let (Some(input), Some(fuse), Some(density)) =
            (&self.saliency_input, &self.saliency_fuse, &inputs.saliency)
        else {
            return Ok(v);
        };
        let (b, cells) = density.dims2()?;
        let g = self.cfg.saliency_grid;
        let centers: Vec<f32> = (0..cells)
            .flat_map(|c| {
                [
                    ((c % g) as f32 + 0.5) / g as f32,
                    ((c / g) as f32 + 0.5) / g as f32,
                ]
            })
            .collect();
        let centers =
            Tensor::from_vec(centers, (1, cells, 2), v.device())?.broadcast_as((b, cells, 2))?;
        // Density scaled so a uniform map reads 1.
        let density = (density.unsqueeze(2)? * cells as f64)?;
        let tokens = input.forward(&Tensor::cat(&[density, centers], 2)?)?;
        fuse.forward(&v, Some(&tokens), None)
    }

    /// `T0`: `linear([box, duration]) + sin(duration) + sin(order)`; boxes only without dynamics.
    fn trajectory_tokens(&self, input: &Linear, inputs: &DeperInputs) -> Result<Tensor> {
        let (b, m) = inputs.durations_ms.dims2()?;
        let h = self.cfg.hidden;
        let scaled = (&inputs.durations_ms / self.cfg.duration_scale_ms)?;
        if !self.cfg.ablation.dynamics {
            let features = Tensor::cat(&[&inputs.boxes, &scaled.zeros_like()?.unsqueeze(2)?], 2)?;
            return input.forward(&features);
        }
        let features = Tensor::cat(&[&inputs.boxes, &scaled.unsqueeze(2)?], 2)?;
        let duration_code = sinusoidal(&(&inputs.durations_ms / 10.0)?, h, 1000.0)?;
        let order: Vec<f32> = (0..m).map(|i| i as f32).collect();
        let order = Tensor::from_vec(order, (1, m), scaled.device())?
            .broadcast_as((b, m))?
            .contiguous()?;
        let order_code = sinusoidal(&order, h, 1000.0)?;
        input.forward(&features)? + duration_code + order_code
    }

    pub fn forward(&self, inputs: &DeperInputs) -> Result<Encoded> {
        let v = self.visual(inputs)?;
        let (b, n, _) = v.dims3()?;
        let s = inputs.text_ids.dim(1)?;
        let position = self.text_position.narrow(0, 0, s)?;
        let l0 = self
            .text_embedding
            .forward(&inputs.text_ids)?
            .broadcast_add(&position)?;
        let v_valid = Tensor::ones((b, n), candle_core::DType::F32, v.device())?;
        let text_mask = key_padding_mask(&inputs.text_valid)?;
        let visual_text = Tensor::cat(&[&v, &l0], 1)?;
        let visual_text_valid = Tensor::cat(&[&v_valid, &inputs.text_valid], 1)?;
        let Some(trajectory_input) = &self.trajectory_input else {
            let mut l = l0;
            for layer in &self.layers {
                let ls = layer.l_self.forward(&l, None, Some(&text_mask))?;
                l = layer
                    .l_ffn
                    .forward(&layer.l_cross.forward(&ls, Some(&v), None)?)?;
            }
            return Ok(Encoded {
                z_dual: l,
                z_valid: inputs.text_valid.clone(),
                visual_text,
                visual_text_valid,
            });
        };
        let traj_mask = key_padding_mask(&inputs.trajectory_valid)?;
        let vl_mask = key_padding_mask(&visual_text_valid)?;
        let vt_mask = key_padding_mask(&Tensor::cat(&[&v_valid, &inputs.trajectory_valid], 1)?)?;
        let mut t = self.trajectory_tokens(trajectory_input, inputs)?;
        let mut l = l0;
        for layer in &self.layers {
            let Some(stream) = &layer.trajectory else {
                return Err(candle_core::Error::Msg(
                    "dual-context layer without its trajectory stream".into(),
                ));
            };
            let ts = stream.t_self.forward(&t, None, Some(&traj_mask))?;
            let t_next = stream.t_ffn.forward(&stream.t_cross.forward(
                &ts,
                Some(&Tensor::cat(&[&v, &l], 1)?),
                Some(&vl_mask),
            )?)?;
            let ls = layer.l_self.forward(&l, None, Some(&text_mask))?;
            let l_next = layer.l_ffn.forward(&layer.l_cross.forward(
                &ls,
                Some(&Tensor::cat(&[&v, &t], 1)?),
                Some(&vt_mask),
            )?)?;
            t = t_next;
            l = l_next;
        }
        Ok(Encoded {
            z_dual: Tensor::cat(&[&l, &t], 1)?,
            z_valid: Tensor::cat(&[&inputs.text_valid, &inputs.trajectory_valid], D::Minus1)?,
            visual_text,
            visual_text_valid,
        })
    }
}
