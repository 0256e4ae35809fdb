//! The built-in description model: the small [`ImageEncoder`] plus a transformer
//! decoder that reads the prompt and the description with causal self-attention and
//! looks at the image tokens through cross-attention. The input embedding of the
//! prompt's `<subj>` token can be replaced by any vector (the DEPER adapter's
//! output); without one the token's own learnt embedding is used (the generic,
//! unpersonalized description).
//!
//! Sequence layout: `prompt <bos> description <eos>`; the loss covers the description
//! and `<eos>` only. Trained in the "base" stage on all training descriptions with no
//! subject information, then frozen.
//!
//! Folder (Hugging Face layout): `config.json`, `model.safetensors`, `tokenizer.json`.
//! Keys: `image_encoder.*`, `image_proj`, `decoder.token_embedding`,
//! `decoder.position_embedding`, `decoder.layers.{i}.{self_attn,cross_attn,ffn}`,
//! `decoder.final_norm`, `decoder.lm_head`.

use std::path::Path;

use candle_core::{D, DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Embedding, Linear, VarBuilder, VarMap, embedding, linear};
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, PartlyFrozen};
use super::error::{ModelError, Result};
use super::image_encoder::{ImageEncoder, ImageEncoderConfig};
use super::layers::{KeyValues, Norm, ResidualAttention, ResidualFeedForward, causal_mask, norm};
use super::tokenizer::TextTokenizer;

/// The prompt of the paper; `<subj>` is where the subject embedding goes.
pub const PROMPT: &str = "Write a description of this photo in the style of <subj>";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaptionerConfig {
    pub vocab_size: usize,
    pub width: usize,
    pub layers: usize,
    pub heads: usize,
    /// Longest `prompt <bos> description <eos>` sequence, in tokens.
    pub max_positions: usize,
    pub image: ImageEncoderConfig,
    pub prompt: String,
}

impl Default for CaptionerConfig {
    fn default() -> Self {
        Self {
            vocab_size: 1000,
            width: 256,
            layers: 3,
            heads: 4,
            max_positions: 96,
            image: ImageEncoderConfig::default(),
            prompt: PROMPT.into(),
        }
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    self_attn: ResidualAttention,
    cross_attn: ResidualAttention,
    ffn: ResidualFeedForward,
}

#[derive(Debug, Clone)]
pub struct Captioner {
    pub config: CaptionerConfig,
    image_encoder: ImageEncoder,
    image_proj: Linear,
    token_embedding: Embedding,
    position_embedding: Tensor,
    layers: Vec<DecoderLayer>,
    final_norm: Norm,
    lm_head: Linear,
}

/// Token sequences for teacher forcing: inputs, next-token targets, and which
/// targets count (`1.0`) in the loss.
#[derive(Debug, Clone)]
pub struct SequenceBatch {
    pub input_ids: Tensor,
    pub target_ids: Tensor,
    pub loss_mask: Tensor,
}

impl Captioner {
    pub fn new(cfg: &CaptionerConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let dv = vb.pp("decoder");
        let mut layers = Vec::new();
        for i in 0..cfg.layers {
            let lv = dv.pp(format!("layers.{i}"));
            layers.push(DecoderLayer {
                self_attn: ResidualAttention::new(cfg.width, cfg.heads, lv.pp("self_attn"))?,
                cross_attn: ResidualAttention::new(cfg.width, cfg.heads, lv.pp("cross_attn"))?,
                ffn: ResidualFeedForward::new(cfg.width, lv.pp("ffn"))?,
            });
        }
        Ok(Self {
            config: cfg.clone(),
            image_encoder: ImageEncoder::new(&cfg.image, vb.pp("image_encoder"))?,
            image_proj: linear(cfg.image.width(), cfg.width, vb.pp("image_proj"))?,
            token_embedding: embedding(cfg.vocab_size, cfg.width, dv.pp("token_embedding"))?,
            position_embedding: dv.get_with_hints(
                (cfg.max_positions, cfg.width),
                "position_embedding",
                candle_nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            )?,
            layers,
            final_norm: norm(cfg.width, dv.pp("final_norm"))?,
            lm_head: linear(cfg.width, cfg.vocab_size, dv.pp("lm_head"))?,
        })
    }

    /// The raw image-encoder tokens `[b, n, image.width]` (DEPER's `V` before its
    /// own projection).
    pub fn image_features(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        self.image_encoder.forward(images)
    }

    /// Image tokens in the decoder's width, `[b, n, width]`.
    pub fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        self.project_image_features(&self.image_features(images)?)
    }

    /// [`Self::image_features`] output → decoder image tokens.
    pub fn project_image_features(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        self.image_proj.forward(features)
    }

    /// Token logits `[b, s, vocab]` for `input_ids` `[b, s]` (u32). `subj`, `[b, width]`,
    /// replaces the input embedding at every `<subj>` position.
    pub fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj_id: u32,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let (b, s) = input_ids.dims2()?;
        if s > self.config.max_positions {
            return Err(candle_core::Error::Msg(format!(
                "sequence of {s} tokens is longer than the captioner's max_positions {}",
                self.config.max_positions
            )));
        }
        let mut x = self.token_embedding.forward(input_ids)?;
        if let Some(subj) = subj {
            let width = self.config.width;
            let at_subj = input_ids
                .eq(subj_id)?
                .unsqueeze(2)?
                .broadcast_as((b, s, width))?;
            let subj = subj.unsqueeze(1)?.broadcast_as((b, s, width))?;
            x = at_subj.where_cond(&subj, &x)?;
        }
        x = x.broadcast_add(&self.position_embedding.i(0..s)?)?;
        let mask = causal_mask(s, x.device())?;
        for layer in &self.layers {
            x = layer.self_attn.forward(&x, None, Some(&mask))?;
            x = layer.cross_attn.forward(&x, Some(image_tokens), None)?;
            x = layer.ffn.forward(&x)?;
        }
        self.lm_head.forward(&self.final_norm.forward(&x)?)
    }

    /// [`Self::logits`] for the next `new_ids` `[b, t]` only, reusing what `cache`
    /// holds of the earlier positions (and of the image tokens); returns `[b, t, vocab]`
    /// and appends to the cache. `image_tokens` `[1 or b, n, width]`, `subj`
    /// `[1 or b, width]`.
    pub fn logits_cached(
        &self,
        image_tokens: &Tensor,
        new_ids: &Tensor,
        subj_id: u32,
        subj: Option<&Tensor>,
        cache: &mut DecodeCache,
    ) -> candle_core::Result<Tensor> {
        let (b, t) = new_ids.dims2()?;
        let start = cache.positions;
        if start + t > self.config.max_positions {
            return Err(candle_core::Error::Msg(format!(
                "sequence of {} tokens is longer than the captioner's max_positions {}",
                start + t,
                self.config.max_positions
            )));
        }
        let mut x = self.token_embedding.forward(new_ids)?;
        if let Some(subj) = subj {
            let width = self.config.width;
            let at_subj = new_ids
                .eq(subj_id)?
                .unsqueeze(2)?
                .broadcast_as((b, t, width))?;
            let subj = subj.unsqueeze(1)?.broadcast_as((b, t, width))?;
            x = at_subj.where_cond(&subj, &x)?;
        }
        x = x.broadcast_add(&self.position_embedding.i(start..start + t)?)?;
        cache
            .layers
            .resize_with(self.layers.len(), Default::default);
        for (layer, kv) in self.layers.iter().zip(&mut cache.layers) {
            x = layer.self_attn.forward_self_cached(&x, &mut kv.own)?;
            x = layer
                .cross_attn
                .forward_cross_cached(&x, image_tokens, &mut kv.image)?;
            x = layer.ffn.forward(&x)?;
        }
        cache.positions += t;
        self.lm_head.forward(&self.final_norm.forward(&x)?)
    }

    /// Mean token cross-entropy of the description tokens (`L_des`).
    pub fn description_loss(
        &self,
        image_tokens: &Tensor,
        batch: &SequenceBatch,
        subj_id: u32,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        let logits = self.logits(image_tokens, &batch.input_ids, subj_id, subj)?;
        masked_cross_entropy(&logits, &batch.target_ids, &batch.loss_mask)
    }

    /// Slot vectors for base-stage training, `[b, width]`: for rows where `fill` is
    /// true, the mean input embedding of the row's description tokens in `batch` (its
    /// words, in no order; the base stage passes style exemplars, other descriptions
    /// by the same subject); elsewhere the `<subj>` token's own embedding. Trained
    /// with these, the decoder learns to read the `<subj>` slot as "say it like this",
    /// which is what the DEPER adapter later writes into it.
    pub fn text_slot(
        &self,
        batch: &SequenceBatch,
        subj_id: u32,
        fill: &[bool],
    ) -> candle_core::Result<Tensor> {
        let (b, _) = batch.target_ids.dims2()?;
        let device = batch.target_ids.device();
        let embedded = self.token_embedding.forward(&batch.target_ids)?;
        let weights = batch.loss_mask.unsqueeze(2)?;
        let count = batch.loss_mask.sum_keepdim(1)?.maximum(1.0)?;
        let mean = embedded
            .broadcast_mul(&weights)?
            .sum(1)?
            .broadcast_div(&count)?;
        let own = self
            .token_embedding
            .forward(&Tensor::new(&[subj_id], device)?)?
            .broadcast_as((b, self.config.width))?;
        let fill: Vec<u8> = fill.iter().map(|&f| u8::from(f)).collect();
        let fill = Tensor::from_vec(fill, (b, 1), device)?.broadcast_as((b, self.config.width))?;
        fill.where_cond(&mean, &own)
    }

    /// Builds the model in a fresh store; `frozen` detaches every weight.
    pub fn build(cfg: &CaptionerConfig, frozen: bool, device: &Device) -> Result<(Self, VarMap)> {
        let varmap = VarMap::new();
        let store = PartlyFrozen::new(varmap.clone(), if frozen { &[""] } else { &[] });
        let model = Self::new(cfg, store.var_builder(device))?;
        Ok((model, varmap))
    }

    /// Loads a captioner folder. `frozen`: no gradient reaches its weights.
    pub fn load(
        dir: &Path,
        frozen: bool,
        device: &Device,
    ) -> Result<(Self, TextTokenizer, VarMap)> {
        let cfg: CaptionerConfig = checkpoint::read_config(&dir.join("config.json"))?;
        let tokenizer = TextTokenizer::load(&dir.join("tokenizer.json"))?;
        if tokenizer.vocab_size() > cfg.vocab_size {
            return Err(ModelError::Config {
                path: dir.join("config.json"),
                message: format!(
                    "vocab_size {} is smaller than the tokenizer's {} tokens",
                    cfg.vocab_size,
                    tokenizer.vocab_size()
                ),
            });
        }
        let (model, varmap) = Self::build(&cfg, frozen, device)?;
        checkpoint::load_into(&varmap, &dir.join("model.safetensors"))?;
        Ok((model, tokenizer, varmap))
    }

    /// Writes `config.json`, `model.safetensors` and `tokenizer.json` into `dir`.
    pub fn save(&self, varmap: &VarMap, tokenizer: &TextTokenizer, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
        checkpoint::write_config(&self.config, &dir.join("config.json"))?;
        tokenizer.save(&dir.join("tokenizer.json"))?;
        checkpoint::save_varmap(varmap, &dir.join("model.safetensors"))
    }
}

/// What [`Captioner::logits_cached`] keeps between calls: per layer the keys and
/// values of the positions decoded so far and of the image tokens.
#[derive(Debug, Clone, Default)]
pub struct DecodeCache {
    layers: Vec<LayerCache>,
    positions: usize,
}

#[derive(Debug, Clone, Default)]
struct LayerCache {
    own: Option<KeyValues>,
    image: Option<KeyValues>,
}

impl DecodeCache {
    /// Keeps the sequences `rows` (u32 indices) of the batch, in that order: beam
    /// search continues some beams twice and drops others.
    pub fn select_rows(&mut self, rows: &Tensor) -> candle_core::Result<()> {
        for layer in &mut self.layers {
            if let Some(own) = &layer.own {
                layer.own = Some(own.select_rows(rows)?);
            }
            // Image keys of batch 1 serve every row; per-row ones follow their rows.
            if let Some(image) = layer.image.as_ref().filter(|kv| kv.keys.dims()[0] > 1) {
                layer.image = Some(image.select_rows(rows)?);
            }
        }
        Ok(())
    }
}

/// `-Σ mask · log p(target) / Σ mask` over `[b, s, vocab]` logits.
pub fn masked_cross_entropy(
    logits: &Tensor,
    targets: &Tensor,
    mask: &Tensor,
) -> candle_core::Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_probs
        .gather(&targets.unsqueeze(D::Minus1)?, D::Minus1)?
        .squeeze(D::Minus1)?;
    let total = (picked * mask)?.sum_all()?;
    let count = mask.sum_all()?.maximum(1.0)?;
    total.neg()?.div(&count)
}

/// Teacher-forcing sequences `prompt <bos> description <eos>`, right-padded, with
/// descriptions cut to fit `max_positions`.
pub fn sequence_batch(
    tokenizer: &TextTokenizer,
    prompt: &str,
    descriptions: &[&str],
    max_positions: usize,
    device: &Device,
) -> Result<SequenceBatch> {
    let prompt_ids = tokenizer.encode(prompt)?;
    let mut rows = Vec::new();
    for text in descriptions {
        let mut ids = prompt_ids.clone();
        ids.push(tokenizer.bos_id);
        let body = tokenizer.encode(text)?;
        let room = (max_positions + 1).saturating_sub(ids.len() + 1);
        ids.extend(body.into_iter().take(room));
        ids.push(tokenizer.eos_id);
        rows.push(ids);
    }
    let s = rows.iter().map(Vec::len).max().unwrap_or(2) - 1;
    let first_target = prompt_ids.len(); // target at input position prompt_len is the first description token
    let (mut inputs, mut targets, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for ids in &rows {
        for pos in 0..s {
            inputs.push(ids.get(pos).copied().unwrap_or(tokenizer.pad_id));
            let target = ids.get(pos + 1).copied();
            targets.push(target.unwrap_or(tokenizer.pad_id));
            mask.push(if target.is_some() && pos >= first_target {
                1f32
            } else {
                0.0
            });
        }
    }
    let b = rows.len();
    Ok(SequenceBatch {
        input_ids: Tensor::from_vec(inputs, (b, s), device)?,
        target_ids: Tensor::from_vec(targets, (b, s), device)?,
        loss_mask: Tensor::from_vec(mask, (b, s), device)?.to_dtype(DType::F32)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checkpoint::trainable_vars;
    use crate::model::generate::{BuiltinDescriber, DescriptionModel, GenerateOptions, generate};
    use candle_nn::Optimizer;

    fn tiny() -> CaptionerConfig {
        CaptionerConfig {
            vocab_size: 64,
            width: 32,
            layers: 1,
            heads: 2,
            max_positions: 40,
            image: ImageEncoderConfig {
                image_size: 16,
                channels: vec![8, 16],
            },
            prompt: PROMPT.into(),
        }
    }

    #[test]
    fn tiny_captioner_overfits_two_images_and_round_trips_through_its_folder() {
        let device = Device::Cpu;
        let texts = ["red circle on the left", "blue square at the top"];
        let tokenizer =
            TextTokenizer::train(&texts.iter().chain([&PROMPT]).collect::<Vec<_>>(), 64).unwrap();
        let mut cfg = tiny();
        cfg.vocab_size = tokenizer.vocab_size();
        let (model, varmap) = Captioner::build(&cfg, false, &device).unwrap();
        let images = Tensor::cat(
            &[
                Tensor::ones((1, 3, 16, 16), DType::F32, &device).unwrap(),
                Tensor::ones((1, 3, 16, 16), DType::F32, &device)
                    .unwrap()
                    .neg()
                    .unwrap(),
            ],
            0,
        )
        .unwrap();
        let batch = sequence_batch(&tokenizer, PROMPT, &texts, cfg.max_positions, &device).unwrap();
        let tokens = model.encode_image(&images).unwrap();
        let logits = model
            .logits(&tokens, &batch.input_ids, tokenizer.subj_id, None)
            .unwrap();
        assert_eq!(logits.dims()[2], cfg.vocab_size);
        assert_eq!(tokens.dims(), &[2, 16, 32]);

        let vars = trainable_vars(&PartlyFrozen::new(varmap.clone(), &[]));
        {
            let l = model
                .description_loss(&tokens, &batch, tokenizer.subj_id, None)
                .unwrap();
            let g = l.backward().unwrap();
            for (name, var) in &vars {
                let grad = g.get(var.as_tensor()).map(|t| {
                    t.abs()
                        .unwrap()
                        .sum_all()
                        .unwrap()
                        .to_scalar::<f32>()
                        .unwrap()
                });
                assert!(grad.is_some_and(|g| g > 0.0), "no gradient reaches {name}");
            }
        }
        let mut opt =
            candle_nn::AdamW::new_lr(vars.into_iter().map(|(_, v)| v).collect(), 1e-2).unwrap();
        let mut loss = f32::MAX;
        for _ in 0..120 {
            let tokens = model.encode_image(&images).unwrap();
            let l = model
                .description_loss(&tokens, &batch, tokenizer.subj_id, None)
                .unwrap();
            loss = l.to_scalar::<f32>().unwrap();
            opt.backward_step(&l).unwrap();
        }
        assert!(loss < 0.05, "loss {loss}");

        let dir = tempfile::tempdir().unwrap();
        model.save(&varmap, &tokenizer, dir.path()).unwrap();
        let (loaded, loaded_tok, _) = Captioner::load(dir.path(), true, &device).unwrap();
        let describer = BuiltinDescriber {
            model: loaded,
            tokenizer: loaded_tok,
        };
        for (i, text) in texts.iter().enumerate() {
            let tokens = describer
                .encode_image(&images.narrow(0, i, 1).unwrap())
                .unwrap();
            for beam_width in [1, 3] {
                let options = GenerateOptions {
                    beam_width,
                    ..GenerateOptions::default()
                };
                let (generated, _) = generate(&describer, &tokens, None, &options).unwrap();
                assert_eq!(&generated, text, "beam {beam_width}");
            }
        }

        // A config that does not match the weights is named with the tensor.
        let mut wrong = cfg.clone();
        wrong.width = 48;
        checkpoint::write_config(&wrong, &dir.path().join("config.json")).unwrap();
        let Err(err) = Captioner::load(dir.path(), true, &device) else {
            panic!("a mismatched config must not load");
        };
        let err = err.to_string();
        assert!(
            err.contains("model.safetensors") && err.contains("has shape"),
            "{err}"
        );
    }
}
