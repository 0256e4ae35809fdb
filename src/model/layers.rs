//! Transformer building blocks shared by the captioner and DEPER: multi-head
//! attention (self or cross, with an additive mask), a GELU feed-forward, masks and
//! sinusoidal encodings of real values (durations, order indices).
//!
//! Pre-norm residual convention: callers normalize the query input, add the result
//! back. Masks are additive, broadcastable to `[batch, heads, query, key]`.

use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::{Linear, VarBuilder, linear};

/// Added to attention scores of keys that must not be attended to.
pub const MASKED: f64 = -1e9;

/// Multi-head scaled dot-product attention with separate query and key/value inputs.
#[derive(Debug, Clone)]
pub struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    /// Keys: `q`, `k`, `v`, `o` (each a linear layer `dim → dim`).
    pub fn new(dim: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        if heads == 0 || !dim.is_multiple_of(heads) {
            return Err(candle_core::Error::Msg(format!(
                "attention at `{}`: width {dim} is not divisible by {heads} heads",
                vb.prefix()
            )));
        }
        Ok(Self {
            q: linear(dim, dim, vb.pp("q"))?,
            k: linear(dim, dim, vb.pp("k"))?,
            v: linear(dim, dim, vb.pp("v"))?,
            o: linear(dim, dim, vb.pp("o"))?,
            heads,
            head_dim: dim / heads,
        })
    }

    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        x.reshape((b, s, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// `query`: `[b, sq, dim]`, `context`: `[b, sk, dim]`, `mask`: additive,
    /// broadcastable to `[b, heads, sq, sk]`. Returns `[b, sq, dim]`.
    pub fn forward(
        &self,
        query: &Tensor,
        context: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.attend(query, &self.key_values(context)?, mask)
    }

    /// The keys and values of `context` `[b, sk, dim]`, split into heads.
    pub fn key_values(&self, context: &Tensor) -> Result<KeyValues> {
        Ok(KeyValues {
            keys: self.split_heads(&self.k.forward(context)?)?,
            values: self.split_heads(&self.v.forward(context)?)?,
        })
    }

    /// Attention of `query` over keys and values already computed; they may have batch
    /// 1 for any batch of queries.
    pub fn attend(&self, query: &Tensor, kv: &KeyValues, mask: Option<&Tensor>) -> Result<Tensor> {
        let (b, sq, dim) = query.dims3()?;
        let q = self.split_heads(&self.q.forward(query)?)?;
        let (k, v) = if kv.keys.dim(0)? == b {
            (kv.keys.clone(), kv.values.clone())
        } else {
            let (_, h, sk, hd) = kv.keys.dims4()?;
            (
                kv.keys.broadcast_as((b, h, sk, hd))?.contiguous()?,
                kv.values.broadcast_as((b, h, sk, hd))?.contiguous()?,
            )
        };
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k.transpose(2, 3)?.contiguous()?)? * scale)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let weights = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let out = weights.matmul(&v)?.transpose(1, 2)?.reshape((b, sq, dim))?;
        self.o.forward(&out)
    }

    /// Causal self-attention of new positions `x` `[b, t, dim]` over the cached past
    /// positions and themselves; their keys and values are appended to `cache`.
    pub fn attend_cached(&self, x: &Tensor, cache: &mut Option<KeyValues>) -> Result<Tensor> {
        let new = self.key_values(x)?;
        let past = cache.as_ref().map_or(Ok(0), |c| c.keys.dim(2))?;
        let all = match cache.take() {
            Some(old) => KeyValues {
                keys: Tensor::cat(&[&old.keys, &new.keys], 2)?,
                values: Tensor::cat(&[&old.values, &new.values], 2)?,
            },
            None => new,
        };
        let t = x.dim(1)?;
        let mask = (t > 1)
            .then(|| causal_mask_after(past, t, x.device()))
            .transpose()?;
        let out = self.attend(x, &all, mask.as_ref())?;
        *cache = Some(all);
        Ok(out)
    }
}

/// Keys and values an attention layer has computed, `[b, heads, s, head_dim]` each: the
/// past positions of a self-attention, or the whole context of a cross-attention.
#[derive(Debug, Clone)]
pub struct KeyValues {
    pub keys: Tensor,
    pub values: Tensor,
}

impl KeyValues {
    /// Keeps the batch rows `rows` (u32 indices), in that order.
    pub fn select_rows(&self, rows: &Tensor) -> Result<Self> {
        Ok(Self {
            keys: self.keys.index_select(rows, 0)?,
            values: self.values.index_select(rows, 0)?,
        })
    }
}

/// Two-layer GELU feed-forward, `dim → hidden → dim`. Keys: `fc1`, `fc2`.
#[derive(Debug, Clone)]
pub struct FeedForward {
    fc1: Linear,
    fc2: Linear,
}

impl FeedForward {
    pub fn new(dim: usize, hidden: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            fc1: linear(dim, hidden, vb.pp("fc1"))?,
            fc2: linear(hidden, dim, vb.pp("fc2"))?,
        })
    }
}

impl Module for FeedForward {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.gelu_erf()?)
    }
}

/// Layer norm over the last dimension, built from differentiable primitives (candle's
/// fused `LayerNorm` kernel has no backward pass, so gradients would stop there).
/// Keys: `weight`, `bias`.
#[derive(Debug, Clone)]
pub struct Norm {
    weight: Tensor,
    bias: Tensor,
}

impl Module for Norm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let centered = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let variance = centered.sqr()?.mean_keepdim(D::Minus1)?;
        centered
            .broadcast_div(&(variance + 1e-5)?.sqrt()?)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// A layer norm of width `dim`, initialized to the identity.
pub fn norm(dim: usize, vb: VarBuilder) -> Result<Norm> {
    Ok(Norm {
        weight: vb.get_with_hints(dim, "weight", candle_nn::Init::Const(1.0))?,
        bias: vb.get_with_hints(dim, "bias", candle_nn::Init::Const(0.0))?,
    })
}

/// Pre-norm residual attention: `x + attn(norm(x), context)`. Keys: `norm`, `attn`.
#[derive(Debug, Clone)]
pub struct ResidualAttention {
    norm: Norm,
    attn: Attention,
}

impl ResidualAttention {
    pub fn new(dim: usize, heads: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            norm: norm(dim, vb.pp("norm"))?,
            attn: Attention::new(dim, heads, vb.pp("attn"))?,
        })
    }

    /// Self-attention when `context` is `None` (the normalized `x` attends to itself).
    pub fn forward(
        &self,
        x: &Tensor,
        context: Option<&Tensor>,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let h = self.norm.forward(x)?;
        let out = match context {
            Some(context) => self.attn.forward(&h, context, mask)?,
            None => self.attn.forward(&h, &h, mask)?,
        };
        x + out
    }

    /// [`Self::forward`] as self-attention over cached past positions (see
    /// [`Attention::attend_cached`]).
    pub fn forward_self_cached(&self, x: &Tensor, cache: &mut Option<KeyValues>) -> Result<Tensor> {
        x + self.attn.attend_cached(&self.norm.forward(x)?, cache)?
    }

    /// [`Self::forward`] as cross-attention whose context keys and values are computed
    /// on the first call and reused after.
    pub fn forward_cross_cached(
        &self,
        x: &Tensor,
        context: &Tensor,
        cache: &mut Option<KeyValues>,
    ) -> Result<Tensor> {
        if cache.is_none() {
            *cache = Some(self.attn.key_values(context)?);
        }
        let Some(kv) = cache.as_ref() else {
            return Err(candle_core::Error::Msg(
                "cross-attention cache not filled".into(),
            ));
        };
        x + self.attn.attend(&self.norm.forward(x)?, kv, None)?
    }
}

/// Pre-norm residual feed-forward: `x + ffn(norm(x))`. Keys: `norm`, `ffn`.
#[derive(Debug, Clone)]
pub struct ResidualFeedForward {
    norm: Norm,
    ffn: FeedForward,
}

impl ResidualFeedForward {
    pub fn new(dim: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            norm: norm(dim, vb.pp("norm"))?,
            ffn: FeedForward::new(dim, 4 * dim, vb.pp("ffn"))?,
        })
    }
}

impl Module for ResidualFeedForward {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x + self.ffn.forward(&self.norm.forward(x)?)?
    }
}

/// Additive key mask `[b, 1, 1, sk]` from a validity tensor `[b, sk]` (1 = attend).
pub fn key_padding_mask(valid: &Tensor) -> Result<Tensor> {
    let (b, sk) = valid.dims2()?;
    ((valid.to_dtype(DType::F32)? - 1.0)? * -MASKED)?.reshape((b, 1, 1, sk))
}

/// Additive causal mask `[1, 1, s, s]`: position i sees positions ≤ i.
pub fn causal_mask(s: usize, device: &Device) -> Result<Tensor> {
    causal_mask_after(0, s, device)
}

/// Additive causal mask `[1, 1, t, past + t]` for `t` new positions after `past`
/// cached ones: new position i sees every past position and new positions ≤ i.
pub fn causal_mask_after(past: usize, t: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..t)
        .flat_map(|i| (0..past + t).map(move |j| if j <= past + i { 0.0 } else { MASKED as f32 }))
        .collect();
    Tensor::from_vec(values, (1, 1, t, past + t), device)
}

/// Sinusoidal encoding of real values: `[b, s]` → `[b, s, dim]`, with wavelengths
/// from 2π to `2π·max_period` (Vaswani et al.). `dim` must be even.
pub fn sinusoidal(values: &Tensor, dim: usize, max_period: f64) -> Result<Tensor> {
    let half = dim / 2;
    let freqs: Vec<f32> = (0..half)
        .map(|i| (-(max_period.ln()) * i as f64 / half as f64).exp() as f32)
        .collect();
    let freqs = Tensor::from_vec(freqs, (1, 1, half), values.device())?;
    let angles = values.unsqueeze(D::Minus1)?.broadcast_mul(&freqs)?;
    Tensor::cat(&[angles.sin()?, angles.cos()?], D::Minus1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn masked_keys_get_no_attention() -> Result<()> {
        let device = Device::Cpu;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let attn = Attention::new(8, 2, vb)?;
        let q = Tensor::randn(0f32, 1.0, (1, 2, 8), &device)?;
        let ctx = Tensor::randn(0f32, 1.0, (1, 3, 8), &device)?;
        let valid = Tensor::new(&[[1f32, 1.0, 0.0]], &device)?;
        let mask = key_padding_mask(&valid)?;
        let a = attn.forward(&q, &ctx, Some(&mask))?;
        // Changing the masked key must not change the output.
        let ctx2 = Tensor::cat(
            &[
                ctx.narrow(1, 0, 2)?,
                Tensor::ones((1, 1, 8), DType::F32, &device)?,
            ],
            1,
        )?;
        let b = attn.forward(&q, &ctx2, Some(&mask))?;
        let diff = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-6, "{diff}");
        Ok(())
    }

    #[test]
    fn sinusoidal_shape_and_distinct_values() -> Result<()> {
        let device = Device::Cpu;
        let v = Tensor::new(&[[0f32, 1.0, 2.0]], &device)?;
        let e = sinusoidal(&v, 6, 100.0)?;
        assert_eq!(e.dims(), &[1, 3, 6]);
        let rows = e.squeeze(0)?.to_vec2::<f32>()?;
        assert_ne!(rows[0], rows[1]);
        assert_eq!(rows[0][3], 1.0, "cos(0) = 1");
        Ok(())
    }
}
