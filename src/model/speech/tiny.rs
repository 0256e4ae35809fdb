//! A tiny Whisper with seeded random weights and a 40-letter vocabulary, written as
//! a Hugging Face–layout folder. It exercises loading and the decoding loop without
//! downloading a real model (tests, demos). The end-of-text embedding is zero, so
//! the random model never prefers to stop and runs to the length limit.
//!
//! Owns only the fake model; it must not be used where real transcripts matter.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use candle_transformers::models::whisper;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::SpeechError;
use super::load::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE, expected_tensors};

/// Regular tokens: "a"…"z", then "Ġa"…"Ġn" (a space and a letter).
pub const TEXT_TOKENS: u32 = 40;
/// Special tokens after the text tokens, in id order.
pub const SPECIAL_TOKENS: [&str; 6] = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|nospeech|>",
    "<|notimestamps|>",
];

/// Sizes of the tiny model.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyWhisperSpec {
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub num_mel_bins: usize,
    pub max_target_positions: usize,
}

impl Default for TinyWhisperSpec {
    fn default() -> Self {
        Self {
            d_model: 64,
            layers: 2,
            heads: 2,
            num_mel_bins: 80,
            max_target_positions: 64,
        }
    }
}

impl TinyWhisperSpec {
    /// Text tokens, the special tokens, and two unnamed ids (like timestamps).
    pub fn vocab_size(&self) -> usize {
        TEXT_TOKENS as usize + SPECIAL_TOKENS.len() + 2
    }

    pub fn config(&self) -> whisper::Config {
        whisper::Config {
            num_mel_bins: self.num_mel_bins,
            max_source_positions: 1500,
            d_model: self.d_model,
            encoder_attention_heads: self.heads,
            encoder_layers: self.layers,
            vocab_size: self.vocab_size(),
            max_target_positions: self.max_target_positions,
            decoder_attention_heads: self.heads,
            decoder_layers: self.layers,
            suppress_tokens: Vec::new(),
        }
    }
}

/// The seeded random tensors of a tiny model, under Hugging Face names.
pub fn random_tensors(
    spec: &TinyWhisperSpec,
    seed: u64,
) -> Result<HashMap<String, Tensor>, SpeechError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = |std: f32| {
        let z: f32 = StandardNormal.sample(&mut rng);
        z * std
    };
    let eot = TEXT_TOKENS as usize;
    let mut tensors = HashMap::new();
    for (name, shape) in expected_tensors(&spec.config()) {
        let count: usize = shape.iter().product();
        let values: Vec<f32> = if name.ends_with("layer_norm.weight") {
            vec![1.0; count]
        } else if name.ends_with("layer_norm.bias") {
            vec![0.0; count]
        } else if name == "model.decoder.embed_tokens.weight" {
            (0..count)
                .map(|i| {
                    if i / spec.d_model == eot {
                        0.0
                    } else {
                        normal(1.0)
                    }
                })
                .collect()
        } else {
            (0..count).map(|_| normal(0.05)).collect()
        };
        tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu)?);
    }
    Ok(tensors)
}

/// The tiny model's `tokenizer.json`.
pub fn tokenizer_json() -> serde_json::Value {
    let mut vocab = serde_json::Map::new();
    for (i, letter) in ('a'..='z').enumerate() {
        vocab.insert(letter.to_string(), serde_json::json!(i));
    }
    for (i, letter) in ('a'..='n').enumerate() {
        vocab.insert(format!("Ġ{letter}"), serde_json::json!(26 + i));
    }
    let added: Vec<_> = SPECIAL_TOKENS
        .iter()
        .enumerate()
        .map(|(i, token)| {
            serde_json::json!({"id": TEXT_TOKENS as usize + i, "content": token, "special": true})
        })
        .collect();
    serde_json::json!({"added_tokens": added, "model": {"type": "BPE", "vocab": vocab, "merges": []}})
}

/// Writes a tiny random model into `dir` (config, safetensors, tokenizer).
pub fn write_tiny_model(dir: &Path, spec: &TinyWhisperSpec, seed: u64) -> Result<(), SpeechError> {
    let io_error = |path: &Path, e: &dyn std::fmt::Display| SpeechError::Config {
        path: path.to_path_buf(),
        message: format!("cannot write: {e}"),
    };
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let config = spec.config();
    let json = serde_json::json!({
        "model_type": "whisper",
        "num_mel_bins": config.num_mel_bins,
        "max_source_positions": config.max_source_positions,
        "d_model": config.d_model,
        "encoder_attention_heads": config.encoder_attention_heads,
        "encoder_layers": config.encoder_layers,
        "vocab_size": config.vocab_size,
        "max_target_positions": config.max_target_positions,
        "decoder_attention_heads": config.decoder_attention_heads,
        "decoder_layers": config.decoder_layers,
        "suppress_tokens": [],
        "begin_suppress_tokens": [TEXT_TOKENS],
    });
    for (file, value) in [(CONFIG_FILE, json), (TOKENIZER_FILE, tokenizer_json())] {
        let path = dir.join(file);
        let text = serde_json::to_string_pretty(&value).map_err(|e| io_error(&path, &e))?;
        std::fs::write(&path, text).map_err(|e| io_error(&path, &e))?;
    }
    let path = dir.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&random_tensors(spec, seed)?, &path)
        .map_err(|e| io_error(&path, &e))?;
    Ok(())
}
