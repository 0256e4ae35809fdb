//! Loading a Whisper model from a Hugging Face–layout folder: `config.json`,
//! `model.safetensors` and `tokenizer.json`. Every tensor candle's Whisper reads is
//! checked by name and shape first, so a bad file gives an error that names the
//! tensor rather than a failure deep inside the model.
//!
//! Owns file checks, config parsing and weight validation; it must not decode.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::whisper::{self as whisper, model::Whisper};

use super::SpeechError;
use super::text_decoder::CachedTextDecoder;
use super::tokenizer::WhisperTokenizer;

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Optional; newer Hugging Face checkpoints keep the suppression lists here.
pub const GENERATION_CONFIG_FILE: &str = "generation_config.json";

/// Model settings from `config.json`: what candle's Whisper needs plus the token
/// rules decoding applies.
#[derive(Debug, Clone, PartialEq)]
pub struct WhisperConfig {
    pub model: whisper::Config,
    /// Tokens never generated (`suppress_tokens`).
    pub suppress_tokens: Vec<u32>,
    /// Tokens not allowed as the first generated token (`begin_suppress_tokens`).
    pub begin_suppress_tokens: Vec<u32>,
}

impl WhisperConfig {
    /// Multilingual checkpoints have 51865 or more tokens; English-only ones 51864.
    pub fn is_multilingual(&self) -> bool {
        self.model.vocab_size >= 51_865
    }
}

/// Reads and checks `config.json`.
pub fn read_config(path: &Path) -> Result<WhisperConfig, SpeechError> {
    let config_error = |message: String| SpeechError::Config {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| config_error(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| config_error(format!("not valid JSON: {e}")))?;
    let model: whisper::Config = serde_json::from_value(json.clone())
        .map_err(|e| config_error(format!("not a Whisper config: {e}")))?;
    let token_list = |field: &str| -> Result<Vec<u32>, SpeechError> {
        match json.get(field) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|e| config_error(format!("`{field}` must be a list of token ids: {e}"))),
        }
    };
    let suppress_tokens = token_list("suppress_tokens")?;
    let begin_suppress_tokens = token_list("begin_suppress_tokens")?;
    for (heads, field) in [
        (model.encoder_attention_heads, "encoder_attention_heads"),
        (model.decoder_attention_heads, "decoder_attention_heads"),
    ] {
        if heads == 0 || !model.d_model.is_multiple_of(heads) {
            return Err(config_error(format!(
                "`d_model` {} must be a multiple of `{field}` {heads}",
                model.d_model
            )));
        }
    }
    if model.d_model < 4 || !model.d_model.is_multiple_of(2) {
        return Err(config_error(format!(
            "`d_model` must be even and at least 4, found {}",
            model.d_model
        )));
    }
    Ok(WhisperConfig {
        model,
        suppress_tokens,
        begin_suppress_tokens,
    })
}

/// Fills `suppress_tokens` and `begin_suppress_tokens` from `generation_config.json`
/// (when the file exists) where `config.json` left them out.
pub fn read_generation_rules(path: &Path, config: &mut WhisperConfig) -> Result<(), SpeechError> {
    if !path.is_file() {
        return Ok(());
    }
    let config_error = |message: String| SpeechError::Config {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| config_error(e.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| config_error(format!("not valid JSON: {e}")))?;
    for (field, list) in [
        ("suppress_tokens", &mut config.suppress_tokens),
        ("begin_suppress_tokens", &mut config.begin_suppress_tokens),
    ] {
        if let Some(value) = json.get(field).filter(|v| !v.is_null())
            && list.is_empty()
        {
            *list = serde_json::from_value(value.clone())
                .map_err(|e| config_error(format!("`{field}` must be a list of token ids: {e}")))?;
        }
    }
    Ok(())
}

/// Every tensor candle's Whisper reads, with its shape, under the Hugging Face names.
pub fn expected_tensors(config: &whisper::Config) -> Vec<(String, Vec<usize>)> {
    let d = config.d_model;
    let mut tensors = vec![
        (
            "model.encoder.conv1.weight".into(),
            vec![d, config.num_mel_bins, 3],
        ),
        ("model.encoder.conv1.bias".into(), vec![d]),
        ("model.encoder.conv2.weight".into(), vec![d, d, 3]),
        ("model.encoder.conv2.bias".into(), vec![d]),
        ("model.encoder.layer_norm.weight".into(), vec![d]),
        ("model.encoder.layer_norm.bias".into(), vec![d]),
        (
            "model.decoder.embed_tokens.weight".into(),
            vec![config.vocab_size, d],
        ),
        (
            "model.decoder.embed_positions.weight".into(),
            vec![config.max_target_positions, d],
        ),
        ("model.decoder.layer_norm.weight".into(), vec![d]),
        ("model.decoder.layer_norm.bias".into(), vec![d]),
    ];
    let attention = |tensors: &mut Vec<(String, Vec<usize>)>, prefix: &str| {
        for (name, shape) in [
            ("q_proj.weight", vec![d, d]),
            ("q_proj.bias", vec![d]),
            ("k_proj.weight", vec![d, d]),
            ("v_proj.weight", vec![d, d]),
            ("v_proj.bias", vec![d]),
            ("out_proj.weight", vec![d, d]),
            ("out_proj.bias", vec![d]),
        ] {
            tensors.push((format!("{prefix}.{name}"), shape));
        }
    };
    let block = |tensors: &mut Vec<(String, Vec<usize>)>, prefix: &str, cross: bool| {
        attention(tensors, &format!("{prefix}.self_attn"));
        let mut norms = vec!["self_attn_layer_norm", "final_layer_norm"];
        if cross {
            attention(tensors, &format!("{prefix}.encoder_attn"));
            norms.push("encoder_attn_layer_norm");
        }
        for norm in norms {
            tensors.push((format!("{prefix}.{norm}.weight"), vec![d]));
            tensors.push((format!("{prefix}.{norm}.bias"), vec![d]));
        }
        tensors.push((format!("{prefix}.fc1.weight"), vec![4 * d, d]));
        tensors.push((format!("{prefix}.fc1.bias"), vec![4 * d]));
        tensors.push((format!("{prefix}.fc2.weight"), vec![d, 4 * d]));
        tensors.push((format!("{prefix}.fc2.bias"), vec![d]));
    };
    for i in 0..config.encoder_layers {
        block(&mut tensors, &format!("model.encoder.layers.{i}"), false);
    }
    for i in 0..config.decoder_layers {
        block(&mut tensors, &format!("model.decoder.layers.{i}"), true);
    }
    tensors
}

/// Checks that `tensors` holds every expected tensor with the right shape.
pub fn check_tensors(
    tensors: &HashMap<String, Tensor>,
    config: &whisper::Config,
    path: &Path,
) -> Result<(), SpeechError> {
    for (name, expected) in expected_tensors(config) {
        let Some(tensor) = tensors.get(&name) else {
            return Err(SpeechError::MissingTensor {
                path: path.to_path_buf(),
                name,
                expected,
            });
        };
        if tensor.dims() != expected.as_slice() {
            return Err(SpeechError::TensorShape {
                path: path.to_path_buf(),
                found: tensor.dims().to_vec(),
                name,
                expected,
            });
        }
    }
    Ok(())
}

/// The device models run on: the first CUDA GPU when built with `cuda` and one is
/// present, otherwise the CPU.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(device) = Device::new_cuda(0) {
        return device;
    }
    Device::Cpu
}

/// A loaded model folder.
pub struct LoadedWhisper {
    pub model: Whisper,
    pub config: WhisperConfig,
    pub tokenizer: WhisperTokenizer,
    pub tokenizer_path: PathBuf,
    /// The text decoder with key/value caches (the same weights as `model.decoder`).
    pub decoder: CachedTextDecoder,
    pub device: Device,
}

/// Checks the folder has the three files, with a hint for what produces each.
pub fn check_folder(dir: &Path) -> Result<(), SpeechError> {
    for (file, hint) in [
        (CONFIG_FILE, "expected a Hugging Face Whisper config.json"),
        (
            WEIGHTS_FILE,
            "expected the weights as safetensors; convert a CTranslate2 model with `scanscribe models import-ct2`",
        ),
        (TOKENIZER_FILE, "expected the Hugging Face tokenizer.json"),
    ] {
        if !dir.join(file).is_file() {
            return Err(SpeechError::MissingFile {
                dir: dir.to_path_buf(),
                file,
                hint,
            });
        }
    }
    Ok(())
}

/// Loads a Hugging Face–layout Whisper folder on `device`, with weights in f32.
pub fn load_folder(dir: &Path, device: &Device) -> Result<LoadedWhisper, SpeechError> {
    check_folder(dir)?;
    let mut config = read_config(&dir.join(CONFIG_FILE))?;
    read_generation_rules(&dir.join(GENERATION_CONFIG_FILE), &mut config)?;
    let weights_path = dir.join(WEIGHTS_FILE);
    let weights_error = |e: candle_core::Error| SpeechError::Weights {
        path: weights_path.clone(),
        message: e.to_string(),
    };
    // The checked reader refuses NaN or infinite weights, naming the tensor.
    let raw = crate::model::checkpoint::read_safetensors(&weights_path, device).map_err(|e| {
        SpeechError::Weights {
            path: weights_path.clone(),
            message: match e {
                crate::model::ModelError::NonFiniteWeight { name, index, .. } => format!(
                    "tensor `{name}` holds a NaN or an infinity at element {index}; the weights are damaged"
                ),
                other => other.to_string(),
            },
        }
    })?;
    let mut tensors = HashMap::with_capacity(raw.len());
    for (name, tensor) in raw {
        let tensor = tensor.to_dtype(DType::F32).map_err(weights_error)?;
        tensors.insert(name, tensor);
    }
    check_tensors(&tensors, &config.model, &weights_path)?;
    let tokenizer_path = dir.join(TOKENIZER_FILE);
    let tokenizer = WhisperTokenizer::from_file(&tokenizer_path)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    let model = Whisper::load(&vb, config.model.clone()).map_err(weights_error)?;
    let decoder =
        CachedTextDecoder::load(vb.pp("model.decoder"), &config.model).map_err(weights_error)?;
    Ok(LoadedWhisper {
        model,
        config,
        tokenizer,
        tokenizer_path,
        decoder,
        device: device.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_config_fills_the_lists_config_json_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(GENERATION_CONFIG_FILE);
        std::fs::write(
            &path,
            r#"{"suppress_tokens": [1, 2], "begin_suppress_tokens": [220]}"#,
        )
        .unwrap();
        let mut config = WhisperConfig {
            model: crate::model::speech::tiny::TinyWhisperSpec::default().config(),
            suppress_tokens: vec![9],
            begin_suppress_tokens: Vec::new(),
        };
        read_generation_rules(&path, &mut config).unwrap();
        assert_eq!(config.suppress_tokens, vec![9], "config.json wins");
        assert_eq!(config.begin_suppress_tokens, vec![220]);

        std::fs::write(&path, r#"{"suppress_tokens": "all"}"#).unwrap();
        config.suppress_tokens.clear();
        let error = read_generation_rules(&path, &mut config)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("generation_config.json") && error.contains("suppress_tokens"),
            "{error}"
        );
    }

    #[test]
    fn a_config_with_missing_sizes_names_the_file_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, r#"{"num_mel_bins": 80}"#).unwrap();
        let error = read_config(&path).unwrap_err().to_string();
        assert!(
            error.contains("config.json") && error.contains("missing field"),
            "{error}"
        );
    }
}
