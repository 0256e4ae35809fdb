//! Qwen2-VL behind [`DescriptionModel`]: the chat template of the Instruct models
//! with the image placeholders, the paper's prompt with `<subj>`, image loading
//! through the Qwen2-VL processor, and generation with the cached decoder.
//!
//! The generic (unpersonalized) description asks for a plain description without
//! `<subj>`: a pretrained Qwen2-VL has no trained embedding for that token (it is
//! added to the tokenizer on load and only ever filled by the DEPER adapter).

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::decode::QwenDecoder;
use super::loader::{self, LoadedQwen2Vl};
use super::model::Qwen2Vl;
use super::processor::{ImageProcessor, patchify};
use crate::model::error::{ModelError, Result};
use crate::model::generate::{self, DescriptionModel, GenerateOptions, IncrementalDecoder};
use crate::model::tokenizer::TextTokenizer;

/// The paper's prompt; `<subj>` is where the subject embedding goes.
pub const PERSONAL_PROMPT: &str = "Write a description of this photo in the style of <subj>.";
/// The prompt of the generic description.
pub const GENERIC_PROMPT: &str = "Write a description of this photo.";
const SYSTEM: &str = "You are a helpful assistant.";
/// Default cap on an image's pixels after resizing (1280 merged tokens, the bound the
/// Qwen2-VL model card suggests); the Hub's `preprocessor_config.json` allows 12.8 M
/// pixels, 16 384 tokens, far too many for the CPU. Override with `set_max_pixels`.
pub const DEFAULT_MAX_PIXELS: usize = 1280 * 28 * 28;

/// A loaded Qwen2-VL folder, ready to describe images.
#[derive(Debug, Clone)]
pub struct Qwen2VlDescriber {
    pub model: Qwen2Vl,
    pub tokenizer: TextTokenizer,
    pub processor: ImageProcessor,
    pub dir: std::path::PathBuf,
    /// Longest prompt + description, in tokens.
    pub max_positions: usize,
    /// Generation reads the prompt once into a key/value cache (default true).
    pub use_cache: bool,
}

impl Qwen2VlDescriber {
    /// Loads `dir`; f32 weights on the CPU, bf16 on a GPU.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let dtype = if device.is_cpu() {
            DType::F32
        } else {
            DType::BF16
        };
        Self::from_loaded(loader::load(dir, dtype, device)?, dir)
    }

    pub fn from_loaded(loaded: LoadedQwen2Vl, dir: &Path) -> Result<Self> {
        let mut describer = Self {
            max_positions: loaded.model.config.text.max_position_embeddings,
            model: loaded.model,
            tokenizer: loaded.tokenizer,
            processor: loaded.processor,
            dir: dir.to_path_buf(),
            use_cache: true,
        };
        let (_, max_pixels) = describer.processor.config.pixel_bounds();
        describer.set_max_pixels(max_pixels.min(DEFAULT_MAX_PIXELS));
        Ok(describer)
    }

    /// Images are resized to at most `max_pixels` pixels (at least the folder's minimum).
    pub fn set_max_pixels(&mut self, max_pixels: usize) {
        let (min_pixels, _) = self.processor.config.pixel_bounds();
        self.processor.config.min_pixels = Some(min_pixels);
        self.processor.config.max_pixels = Some(max_pixels.max(min_pixels));
    }

    /// The chat-template ids of a user turn holding an image of `image_tokens`
    /// (merged count) and `prompt`, ending where the assistant's answer starts.
    pub fn chat_ids(&self, image_tokens: usize, prompt: &str) -> Result<Vec<u32>> {
        let cfg = &self.model.config;
        let mut ids = self.tokenizer.encode(&format!(
            "<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
        ))?;
        ids.push(cfg.vision_start_token_id);
        ids.extend(std::iter::repeat_n(cfg.image_token_id, image_tokens));
        ids.push(cfg.vision_end_token_id);
        ids.extend(
            self.tokenizer
                .encode(&format!("{prompt}<|im_end|>\n<|im_start|>assistant\n"))?,
        );
        Ok(ids)
    }

    /// Generated ids of a description (for tests and benchmarks); through the cache
    /// unless `use_cache` is off.
    pub fn generate_ids(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<Vec<u32>> {
        generate::generate_ids(self, image_tokens, subj, options, self.use_cache)
    }
}

impl DescriptionModel for Qwen2VlDescriber {
    fn hidden_size(&self) -> usize {
        self.model.config.text.hidden_size
    }

    fn load_image(&self, path: &Path, device: &Device) -> Result<Tensor> {
        let image = image::open(path)
            .map_err(|e| ModelError::Image {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?
            .to_rgb8();
        self.processor
            .normalize(&image, device)
            .map_err(|message| ModelError::Image {
                path: path.to_path_buf(),
                message,
            })
    }

    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        let (b, _, h, w) = images.dims4()?;
        let p = self.processor.config.patch_size;
        let mut out = Vec::with_capacity(b);
        for i in 0..b {
            let patches = patchify(&images.get(i)?, &self.processor.config)?;
            out.push(self.model.encode_patches(&patches, h / p, w / p)?);
        }
        Tensor::stack(&out, 0)
    }

    fn start_ids(&self, image_tokens: &Tensor, personalized: bool) -> Result<Vec<u32>> {
        let n = image_tokens.dim(1)? * image_tokens.dim(2)?;
        let prompt = if personalized {
            PERSONAL_PROMPT
        } else {
            GENERIC_PROMPT
        };
        self.chat_ids(n, prompt)
    }

    fn stop_ids(&self) -> Vec<u32> {
        let mut stop = self.model.config.eos_token_ids.clone();
        for id in [self.tokenizer.eos_id, self.tokenizer.pad_id] {
            if !stop.contains(&id) {
                stop.push(id);
            }
        }
        stop
    }

    fn describe(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)> {
        let ids = self.generate_ids(image_tokens, subj, options)?;
        Ok((self.tokenizer.decode(&ids)?, ids.len()))
    }

    fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        self.model.logits(
            input_ids,
            Some(image_tokens),
            subj.map(|z| (z, self.tokenizer.subj_id)),
        )
    }

    fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    fn prompt(&self) -> &str {
        PERSONAL_PROMPT
    }

    fn max_positions(&self) -> usize {
        self.max_positions
    }

    fn incremental_decoder<'a>(
        &'a self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
    ) -> Option<Box<dyn IncrementalDecoder + 'a>> {
        let subj = subj.map(|z| (z, self.tokenizer.subj_id));
        self.use_cache
            .then(|| Box::new(QwenDecoder::new(&self.model, image_tokens, subj)) as Box<_>)
    }
}
