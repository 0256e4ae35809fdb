//! Whisper's text decoder with key/value caches, so each decoding step runs one new
//! token through the layers instead of the whole sequence. Cross-attention keys and
//! values are computed once per window from the encoder output; self-attention
//! keys and values grow by one row per step. Weights are the Hugging Face names
//! under `model.decoder` (the same tensors candle's Whisper reads). The MLP uses
//! GELU in its tanh form, like candle's Whisper encoder; with it the tokens equal
//! CTranslate2's on the parity recordings (the erf form changed one word there).
//!
//! Owns the decoder arithmetic; it must not choose tokens (see [`super::decode`]).

use candle_core::{D, DType, Device, Result, Tensor};
use candle_nn::{LayerNorm, Linear, Module, VarBuilder};
use candle_transformers::models::whisper;

#[derive(Debug, Clone)]
struct Attention {
    query: Linear,
    key: Linear,
    value: Linear,
    out: Linear,
}

impl Attention {
    fn load(d_model: usize, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            query: candle_nn::linear(d_model, d_model, vb.pp("q_proj"))?,
            key: candle_nn::linear_no_bias(d_model, d_model, vb.pp("k_proj"))?,
            value: candle_nn::linear(d_model, d_model, vb.pp("v_proj"))?,
            out: candle_nn::linear(d_model, d_model, vb.pp("out_proj"))?,
        })
    }
}

#[derive(Debug, Clone)]
struct Block {
    self_attention: Attention,
    self_attention_norm: LayerNorm,
    cross_attention: Attention,
    cross_attention_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    mlp_norm: LayerNorm,
}

/// The per-window caches: cross-attention keys/values per layer (fixed), and the
/// self-attention keys/values of the tokens seen so far.
#[derive(Debug, Clone)]
pub struct DecoderState {
    cross: Vec<(Tensor, Tensor)>,
    own: Vec<Option<(Tensor, Tensor)>>,
    position: usize,
}

impl DecoderState {
    /// Tokens already run through the decoder.
    pub fn position(&self) -> usize {
        self.position
    }
}

/// The cached Whisper text decoder.
#[derive(Debug, Clone)]
pub struct CachedTextDecoder {
    token_embedding: Tensor,
    positional_embedding: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    n_head: usize,
    max_positions: usize,
}

impl CachedTextDecoder {
    /// Loads from a builder rooted at `model.decoder`.
    pub fn load(vb: VarBuilder, config: &whisper::Config) -> Result<Self> {
        let d = config.d_model;
        let norm = |vb: VarBuilder| candle_nn::layer_norm(d, 1e-5, vb);
        let blocks = (0..config.decoder_layers)
            .map(|i| {
                let vb = vb.pp(format!("layers.{i}"));
                Ok(Block {
                    self_attention: Attention::load(d, vb.pp("self_attn"))?,
                    self_attention_norm: norm(vb.pp("self_attn_layer_norm"))?,
                    cross_attention: Attention::load(d, vb.pp("encoder_attn"))?,
                    cross_attention_norm: norm(vb.pp("encoder_attn_layer_norm"))?,
                    fc1: candle_nn::linear(d, 4 * d, vb.pp("fc1"))?,
                    fc2: candle_nn::linear(4 * d, d, vb.pp("fc2"))?,
                    mlp_norm: norm(vb.pp("final_layer_norm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            token_embedding: vb.get((config.vocab_size, d), "embed_tokens.weight")?,
            positional_embedding: vb
                .get((config.max_target_positions, d), "embed_positions.weight")?,
            blocks,
            norm: norm(vb.pp("layer_norm"))?,
            n_head: config.decoder_attention_heads,
            max_positions: config.max_target_positions,
        })
    }

    /// The token embedding, `vocab × d_model` (the output projection is tied to it).
    pub fn token_embedding(&self) -> &Tensor {
        &self.token_embedding
    }

    /// Prepares the caches for one window's encoder output (`1 × frames × d`).
    pub fn start(&self, audio_features: &Tensor) -> Result<DecoderState> {
        let cross = self
            .blocks
            .iter()
            .map(|block| {
                let attention = &block.cross_attention;
                let key = self.split_heads(&attention.key.forward(audio_features)?)?;
                let value = self.split_heads(&attention.value.forward(audio_features)?)?;
                Ok((key, value))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DecoderState {
            own: vec![None; self.blocks.len()],
            cross,
            position: 0,
        })
    }

    /// Runs `tokens` (the next ones after `state.position()`) through the decoder and
    /// returns their final hidden states, `1 × tokens × d`.
    pub fn forward(&self, tokens: &[u32], state: &mut DecoderState) -> Result<Tensor> {
        let count = tokens.len();
        if state.position + count > self.max_positions {
            candle_core::bail!(
                "decoder context of {} positions exceeded ({} + {count})",
                self.max_positions,
                state.position
            );
        }
        let device = self.token_embedding.device();
        let ids = Tensor::new(tokens, device)?;
        let embedded = self.token_embedding.index_select(&ids, 0)?;
        let positions = self.positional_embedding.narrow(0, state.position, count)?;
        let mut x = (embedded + positions)?.unsqueeze(0)?;
        let mask = causal_mask(count, state.position, device)?;
        for (i, block) in self.blocks.iter().enumerate() {
            // Self-attention over the cached tokens and the new ones.
            let attention = &block.self_attention;
            let h = block.self_attention_norm.forward(&x)?;
            let query = self.split_heads(&attention.query.forward(&h)?)?;
            let key = self.split_heads(&attention.key.forward(&h)?)?;
            let value = self.split_heads(&attention.value.forward(&h)?)?;
            let (key, value) = match &state.own[i] {
                Some((past_key, past_value)) => (
                    Tensor::cat(&[past_key, &key], 2)?,
                    Tensor::cat(&[past_value, &value], 2)?,
                ),
                None => (key, value),
            };
            let attended = self.attend(&query, &key, &value, mask.as_ref())?;
            state.own[i] = Some((key, value));
            x = (x + attention.out.forward(&attended)?)?;
            // Cross-attention over the window's audio.
            let attention = &block.cross_attention;
            let h = block.cross_attention_norm.forward(&x)?;
            let query = self.split_heads(&attention.query.forward(&h)?)?;
            let (key, value) = &state.cross[i];
            let attended = self.attend(&query, key, value, None)?;
            x = (x + attention.out.forward(&attended)?)?;
            // Feed-forward.
            let h = block.mlp_norm.forward(&x)?;
            x = (x + block.fc2.forward(&block.fc1.forward(&h)?.gelu()?)?)?;
        }
        state.position += count;
        self.norm.forward(&x)
    }

    /// `1 × n × d` → `1 × heads × n × d/heads`.
    fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
        let (batch, n, d) = x.dims3()?;
        x.reshape((batch, n, self.n_head, d / self.n_head))?
            .transpose(1, 2)?
            .contiguous()
    }

    /// Scaled dot-product attention; returns `1 × n × d`.
    fn attend(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<Tensor> {
        let head_dim = query.dim(D::Minus1)?;
        let scores = (query.matmul(&key.t()?)? / (head_dim as f64).sqrt())?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        weights.matmul(value)?.transpose(1, 2)?.flatten_from(2)
    }
}

/// `count × (past + count)` additive mask: new token `i` (at `past + i`) sees every
/// position up to its own. `None` when a single token is added.
fn causal_mask(count: usize, past: usize, device: &Device) -> Result<Option<Tensor>> {
    if count <= 1 {
        return Ok(None);
    }
    let total = past + count;
    let values: Vec<f32> = (0..count)
        .flat_map(|i| (0..total).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (count, total), device)?
        .to_dtype(DType::F32)
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::speech::tiny::{TinyWhisperSpec, random_tensors};
    use candle_core::IndexOp;
    use candle_transformers::models::whisper::model::Whisper;

    #[test]
    fn step_by_step_decoding_equals_recomputing_the_whole_sequence() {
        let spec = TinyWhisperSpec::default();
        let device = Device::Cpu;
        let vb = VarBuilder::from_tensors(random_tensors(&spec, 3).unwrap(), DType::F32, &device);
        let mut reference = Whisper::load(&vb, spec.config()).unwrap();
        let cached = CachedTextDecoder::load(vb.pp("model.decoder"), &spec.config()).unwrap();
        let values: Vec<f32> = (0..30 * spec.d_model)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let audio = Tensor::from_vec(values, (1, 30, spec.d_model), &device).unwrap();
        let tokens: [u32; 6] = [41, 45, 3, 17, 30, 8];

        let full = Tensor::new(&tokens[..], &device)
            .unwrap()
            .unsqueeze(0)
            .unwrap();
        let expected = reference.decoder.forward(&full, &audio, true).unwrap();
        let mut state = cached.start(&audio).unwrap();
        let mut rows = vec![cached.forward(&tokens[..2], &mut state).unwrap()];
        for &token in &tokens[2..] {
            rows.push(cached.forward(&[token], &mut state).unwrap());
        }
        assert_eq!(state.position(), tokens.len());
        let actual = Tensor::cat(&rows, 1).unwrap();
        let difference = (actual - &expected)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(difference < 1e-4, "largest difference {difference}");
        assert_eq!(expected.i(0).unwrap().dims(), &[6, spec.d_model]);
    }

    #[test]
    fn running_past_the_context_is_an_error_not_a_panic() {
        let spec = TinyWhisperSpec {
            max_target_positions: 4,
            ..TinyWhisperSpec::default()
        };
        let vb =
            VarBuilder::from_tensors(random_tensors(&spec, 3).unwrap(), DType::F32, &Device::Cpu);
        let decoder = CachedTextDecoder::load(vb.pp("model.decoder"), &spec.config()).unwrap();
        let audio = Tensor::zeros((1, 10, spec.d_model), DType::F32, &Device::Cpu).unwrap();
        let mut state = decoder.start(&audio).unwrap();
        decoder.forward(&[41, 45, 3], &mut state).unwrap();
        decoder.forward(&[4], &mut state).unwrap();
        let error = decoder.forward(&[5], &mut state).unwrap_err();
        assert!(error.to_string().contains("4 positions"), "{error}");
    }
}
