//! The Qwen2 language model of Qwen2-VL: token embeddings, decoder layers (RMSNorm,
//! grouped-query attention with biased q/k/v and M-RoPE, SwiGLU MLP), final norm and
//! the LM head (tied to the embeddings when the config says so), with a key/value
//! cache for generation.
//!
//! It takes input *embeddings*, not ids: the caller places image tokens and the
//! `<subj>` embedding first. Every operation is differentiable (own RMSNorm, plain
//! softmax), so a loss reaches an injected embedding while the weights, loaded as
//! constants, get no gradient.
//!
//! Keys (under `model.` or `model.language_model.`): `embed_tokens`,
//! `layers.{i}.{input_layernorm,post_attention_layernorm}`,
//! `layers.{i}.self_attn.{q,k,v,o}_proj`, `layers.{i}.mlp.{gate,up,down}_proj`,
//! `norm`; `lm_head` at the top.

use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder, embedding, linear, linear_no_bias};

use super::config::Qwen2VlConfig;
use super::rope::rotate;

mod backward;

/// RMSNorm computed in f32: from primitive (differentiable) operations when a gradient
/// is tracked, else candle's fused kernel.
#[derive(Debug, Clone)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(size: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !x.track_op() {
            // No gradient wanted: candle's fused kernel (f32 inside, one pass).
            return candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps as f32);
        }
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let var = x.sqr()?.mean_keepdim(D::Minus1)?;
        let x = x.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        x.to_dtype(dtype)?.broadcast_mul(&self.weight)
    }
}

/// Keys and values seen so far, per layer: `[b, kv_heads, t, head_dim]`.
#[derive(Debug, Clone, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    /// Tokens already in the cache.
    pub fn len(&self) -> usize {
        self.layers
            .first()
            .and_then(|l| l.as_ref())
            .and_then(|(k, _)| k.dim(2).ok())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the batch rows `rows` (beam search reordering), in that order.
    pub fn select(&mut self, rows: &Tensor) -> Result<()> {
        for (k, v) in self.layers.iter_mut().flatten() {
            *k = k.index_select(rows, 0)?;
            *v = v.index_select(rows, 0)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    input_norm: RmsNorm,
    post_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    gate: Linear,
    up: Linear,
    down: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl DecoderLayer {
    fn new(cfg: &Qwen2VlConfig, vb: VarBuilder) -> Result<Self> {
        let t = &cfg.text;
        let hd = cfg.head_dim();
        let (h, kvh) = (t.num_attention_heads, t.num_key_value_heads);
        let a = vb.pp("self_attn");
        let m = vb.pp("mlp");
        Ok(Self {
            input_norm: RmsNorm::new(t.hidden_size, t.rms_norm_eps, vb.pp("input_layernorm"))?,
            post_norm: RmsNorm::new(
                t.hidden_size,
                t.rms_norm_eps,
                vb.pp("post_attention_layernorm"),
            )?,
            q: linear(t.hidden_size, h * hd, a.pp("q_proj"))?,
            k: linear(t.hidden_size, kvh * hd, a.pp("k_proj"))?,
            v: linear(t.hidden_size, kvh * hd, a.pp("v_proj"))?,
            o: linear_no_bias(h * hd, t.hidden_size, a.pp("o_proj"))?,
            gate: linear_no_bias(t.hidden_size, t.intermediate_size, m.pp("gate_proj"))?,
            up: linear_no_bias(t.hidden_size, t.intermediate_size, m.pp("up_proj"))?,
            down: linear_no_bias(t.intermediate_size, t.hidden_size, m.pp("down_proj"))?,
            heads: h,
            kv_heads: kvh,
            head_dim: hd,
        })
    }

    fn attention(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cache: Option<&mut Option<(Tensor, Tensor)>>,
    ) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        let split = |t: Tensor, heads: usize| -> Result<Tensor> {
            t.reshape((b, s, heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let dtype = x.dtype();
        let rope = |t: Tensor| -> Result<Tensor> {
            rotate(&t.to_dtype(DType::F32)?, cos, sin)?.to_dtype(dtype)
        };
        let q = rope(split(self.q.forward(x)?, self.heads)?)?;
        let mut k = rope(split(self.k.forward(x)?, self.kv_heads)?)?;
        let mut v = split(self.v.forward(x)?, self.kv_heads)?;
        if let Some(slot) = cache {
            if let Some((pk, pv)) = slot.as_ref() {
                k = Tensor::cat(&[pk, &k], 2)?;
                v = Tensor::cat(&[pv, &v], 2)?;
            }
            *slot = Some((k.clone(), v.clone()));
        }
        let rep = self.heads / self.kv_heads;
        let expand = |t: &Tensor| -> Result<Tensor> {
            if rep == 1 {
                return Ok(t.clone());
            }
            let (b, kvh, t_len, hd) = t.dims4()?;
            t.unsqueeze(2)?
                .broadcast_as((b, kvh, rep, t_len, hd))?
                .reshape((b, kvh * rep, t_len, hd))
        };
        let (k, v) = (expand(&k)?, expand(&v)?);
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k.t()?.contiguous()?)? * scale)?.to_dtype(DType::F32)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let weights = softmax_last(&scores)?.to_dtype(dtype)?;
        let out = weights
            .matmul(&v.contiguous()?)?
            .transpose(1, 2)?
            .reshape((b, s, self.heads * self.head_dim))?;
        self.o.forward(&out)
    }

    fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cache: Option<&mut Option<(Tensor, Tensor)>>,
    ) -> Result<Tensor> {
        let h = (x + self.attention(&self.input_norm.forward(x)?, cos, sin, mask, cache)?)?;
        let n = self.post_norm.forward(&h)?;
        let mlp = self
            .down
            .forward(&(self.gate.forward(&n)?.silu()? * self.up.forward(&n)?)?)?;
        h + mlp
    }
}

/// The language model.
#[derive(Debug, Clone)]
pub struct TextModel {
    embed: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Linear,
    /// `lm_head` is the embedding matrix (`tie_word_embeddings`).
    tied_head: bool,
}

impl TextModel {
    /// `vb`: the language model's prefix (`model` or `model.language_model`);
    /// `head_vb`: where `lm_head` lives (ignored when tied).
    pub fn new(cfg: &Qwen2VlConfig, vb: VarBuilder, head_vb: VarBuilder) -> Result<Self> {
        let t = &cfg.text;
        let embed = embedding(t.vocab_size, t.hidden_size, vb.pp("embed_tokens"))?;
        let lm_head = if cfg.tie_word_embeddings {
            Linear::new(embed.embeddings().clone(), None)
        } else {
            linear_no_bias(t.hidden_size, t.vocab_size, head_vb.pp("lm_head"))?
        };
        Ok(Self {
            layers: (0..t.num_hidden_layers)
                .map(|i| DecoderLayer::new(cfg, vb.pp(format!("layers.{i}"))))
                .collect::<Result<Vec<_>>>()?,
            norm: RmsNorm::new(t.hidden_size, t.rms_norm_eps, vb.pp("norm"))?,
            embed,
            lm_head,
            tied_head: cfg.tie_word_embeddings,
        })
    }

    /// Input embeddings `[b, s, hidden]` of `ids` `[b, s]`.
    pub fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        self.embed.forward(ids)
    }

    pub fn dtype(&self) -> DType {
        self.embed.embeddings().dtype()
    }

    /// Logits `[b, s, vocab]` (f32) of `embeds` `[b, s, hidden]` at the rotary tables
    /// `cos`/`sin` `[b, 1, s, head_dim]`. With a cache, the new tokens follow the
    /// cached ones and are added to it. `last_only`: logits of the last position only.
    pub fn forward(
        &self,
        embeds: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        cache: Option<&mut KvCache>,
        last_only: bool,
    ) -> Result<Tensor> {
        let (_, s, _) = embeds.dims3()?;
        let past = cache.as_ref().map_or(0, |c| c.len());
        let mask = if s > 1 {
            Some(causal_mask(s, past, embeds.device())?)
        } else {
            None
        };
        let mut x = embeds.to_dtype(self.dtype())?;
        match cache {
            Some(cache) => {
                cache.layers.resize(self.layers.len(), None);
                for (layer, slot) in self.layers.iter().zip(cache.layers.iter_mut()) {
                    x = layer.forward(&x, cos, sin, mask.as_ref(), Some(slot))?;
                }
            }
            None => {
                for layer in &self.layers {
                    x = layer.forward(&x, cos, sin, mask.as_ref(), None)?;
                }
            }
        }
        if last_only {
            x = x.narrow(1, s - 1, 1)?;
        }
        self.lm_head
            .forward(&self.norm.forward(&x)?)?
            .to_dtype(DType::F32)
    }
}

/// The pieces of the language model that checkpointed training (`stage2`) runs one at
/// a time: each decoder layer by itself and the head on chosen rows only.
impl TextModel {
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    fn layer(&self, index: usize) -> Result<&DecoderLayer> {
        self.layers.get(index).ok_or_else(|| {
            candle_core::Error::Msg(format!(
                "decoder layer {index} of {} does not exist",
                self.layers.len()
            ))
        })
    }

    /// Decoder layer `index` on `x` `[b, s, hidden]` (model dtype), no cache.
    pub fn layer_forward(
        &self,
        index: usize,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        self.layer(index)?.forward(x, cos, sin, mask, None)
    }

    /// `dL/dx` (f32) of decoder layer `index` at `x` given `dL/dy` `dy`, by the
    /// hand-written backward pass (no autograd graph, no weight gradients).
    pub fn layer_input_grad(
        &self,
        index: usize,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        dy: &Tensor,
    ) -> Result<Tensor> {
        self.layer(index)?.input_grad(x, cos, sin, mask, dy)
    }

    /// Final norm and LM head of hidden rows `[n, hidden]`: logits `[n, vocab]` (f32).
    pub fn head(&self, x: &Tensor) -> Result<Tensor> {
        self.lm_head
            .forward(&self.norm.forward(x)?)?
            .to_dtype(DType::F32)
    }

    /// Parameters of one decoder layer and of the rest (embeddings, norm, head).
    pub fn parameter_counts(&self) -> (usize, usize) {
        let per_layer = self.layers.first().map_or(0, DecoderLayer::parameter_count);
        let embed = self.embed.embeddings().elem_count();
        let head = self.lm_head.weight().elem_count();
        (per_layer, embed + if self.tied_head { 0 } else { head })
    }
}

impl DecoderLayer {
    fn parameter_count(&self) -> usize {
        let linear = |l: &Linear| l.weight().elem_count() + l.bias().map_or(0, |b| b.elem_count());
        [
            &self.q, &self.k, &self.v, &self.o, &self.gate, &self.up, &self.down,
        ]
        .into_iter()
        .map(linear)
        .sum::<usize>()
            + self.input_norm.weight.elem_count()
            + self.post_norm.weight.elem_count()
    }
}

/// Softmax over the last dimension: candle's fused kernel where no gradient is wanted,
/// the differentiable composition otherwise.
pub(crate) fn softmax_last(x: &Tensor) -> Result<Tensor> {
    if x.track_op() {
        candle_nn::ops::softmax(x, D::Minus1)
    } else {
        candle_nn::ops::softmax_last_dim(&x.contiguous()?)
    }
}

/// Additive mask `[s, past + s]`: query `i` sees keys up to `past + i`.
pub fn causal_mask(s: usize, past: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..s)
        .flat_map(|i| {
            (0..past + s).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Tensor::from_vec(values, (s, past + s), device)
}
