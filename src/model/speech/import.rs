//! Converts a CTranslate2 Whisper folder (`model.bin`, `config.json`, and
//! `tokenizer.json` or `vocabulary.txt`) to the Hugging Face layout candle loads.
//!
//! CTranslate2 names and fuses the weights differently: self-attention stores
//! q, k and v stacked in one `linear_0` (with a zero bias for k, which Whisper's
//! k projection lacks), cross-attention stores q alone and k, v stacked, layer norms
//! are `gamma`/`beta`, and the output projection is an alias of the token
//! embedding. The model's sizes are derived from the tensors; the generation rules
//! (`suppress_ids`, `suppress_ids_begin`) come from CTranslate2's `config.json`.
//!
//! Owns the mapping and the written files; it must not run the model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::Tensor;

use super::ct2::{Ct2Error, Ct2Model};
use super::load::{CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};

/// Why a CTranslate2 folder could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Ct2(#[from] Ct2Error),
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// What was converted, for the command's report.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub d_model: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub vocab_size: usize,
    pub tensor_count: usize,
    pub files: Vec<PathBuf>,
}

/// Converts the CTranslate2 Whisper folder `source` into `out` (created if needed;
/// existing `config.json`, `model.safetensors` and `tokenizer.json` are replaced).
pub fn import_ct2_whisper(source: &Path, out: &Path) -> Result<ImportSummary, ImportError> {
    let model = Ct2Model::read(&source.join("model.bin"))?;
    let invalid = |message: String| ImportError::Invalid {
        path: model.path.clone(),
        message,
    };
    if model.spec_name != "WhisperSpec" {
        return Err(invalid(format!(
            "spec `{}` is not a Whisper model (expected WhisperSpec)",
            model.spec_name
        )));
    }
    if let Some(activation) = model.get("decoder/activation").and_then(|v| v.scalar_i64())
        && activation != 3
    {
        return Err(invalid(format!(
            "decoder activation id {activation} is not GELU (3), which Whisper uses"
        )));
    }
    let conv1 = model.require("encoder/conv1/weight")?;
    let [d_model, num_mel_bins, _] = conv1.shape[..] else {
        return Err(invalid(format!(
            "encoder/conv1/weight has shape {:?}, expected [d_model, mels, 3]",
            conv1.shape
        )));
    };
    let vocab_size = model.require("decoder/embeddings/weight")?.shape[0];
    let max_target_positions = model.require("decoder/position_encodings/encodings")?.shape[0];
    let max_source_positions = model
        .get("encoder/position_encodings/encodings")
        .map_or(1500, |v| v.shape[0]);
    let layer_count = |stack: &str| {
        (0..)
            .take_while(|i| {
                let prefix = format!("{stack}/layer_{i}/");
                model.variables.keys().any(|name| name.starts_with(&prefix))
            })
            .count()
    };
    let encoder_layers = layer_count("encoder");
    let decoder_layers = layer_count("decoder");
    if encoder_layers == 0 || decoder_layers == 0 {
        return Err(invalid(
            "no encoder/layer_0 or decoder/layer_0 variables".into(),
        ));
    }
    let heads = |stack: &str| {
        model
            .get(&format!("{stack}/num_heads"))
            .and_then(|v| v.scalar_i64())
            .map_or(d_model / 64, |h| h as usize)
    };
    let (encoder_heads, decoder_heads) = (heads("encoder"), heads("decoder"));

    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut put = |name: String, tensor: Tensor| {
        tensors.insert(name, tensor);
    };
    let split = |name: &str, parts: usize| -> Result<Vec<Tensor>, ImportError> {
        let tensor = model.tensor(name)?;
        tensor
            .chunk(parts, 0)
            .map_err(|e| invalid(format!("cannot split `{name}` in {parts}: {e}")))
    };
    for conv in ["conv1", "conv2"] {
        for part in ["weight", "bias"] {
            put(
                format!("model.encoder.{conv}.{part}"),
                model.tensor(&format!("encoder/{conv}/{part}"))?,
            );
        }
    }
    if model.get("encoder/position_encodings/encodings").is_some() {
        put(
            "model.encoder.embed_positions.weight".into(),
            model.tensor("encoder/position_encodings/encodings")?,
        );
    }
    put(
        "model.decoder.embed_tokens.weight".into(),
        model.tensor("decoder/embeddings/weight")?,
    );
    put(
        "model.decoder.embed_positions.weight".into(),
        model.tensor("decoder/position_encodings/encodings")?,
    );
    for stack in ["encoder", "decoder"] {
        let norm = (
            format!("{stack}/layer_norm"),
            format!("model.{stack}.layer_norm"),
        );
        layer_norm(&model, &norm.0, &norm.1, &mut put)?;
        let layers = if stack == "encoder" {
            encoder_layers
        } else {
            decoder_layers
        };
        for i in 0..layers {
            let ct2 = format!("{stack}/layer_{i}");
            let hf = format!("model.{stack}.layers.{i}");
            // Self-attention: q, k, v stacked in linear_0; output in linear_1.
            let qkv_weight = split(&format!("{ct2}/self_attention/linear_0/weight"), 3)?;
            let qkv_bias = split(&format!("{ct2}/self_attention/linear_0/bias"), 3)?;
            let attn = format!("{hf}.self_attn");
            put(format!("{attn}.q_proj.weight"), qkv_weight[0].clone());
            put(format!("{attn}.q_proj.bias"), qkv_bias[0].clone());
            put(format!("{attn}.k_proj.weight"), qkv_weight[1].clone());
            put(format!("{attn}.v_proj.weight"), qkv_weight[2].clone());
            put(format!("{attn}.v_proj.bias"), qkv_bias[2].clone());
            linear(
                &model,
                &format!("{ct2}/self_attention/linear_1"),
                &format!("{attn}.out_proj"),
                &mut put,
            )?;
            layer_norm(
                &model,
                &format!("{ct2}/self_attention/layer_norm"),
                &format!("{hf}.self_attn_layer_norm"),
                &mut put,
            )?;
            if stack == "decoder" {
                // Cross-attention: q in linear_0, k and v stacked in linear_1.
                let cross = format!("{hf}.encoder_attn");
                linear(
                    &model,
                    &format!("{ct2}/attention/linear_0"),
                    &format!("{cross}.q_proj"),
                    &mut put,
                )?;
                let kv_weight = split(&format!("{ct2}/attention/linear_1/weight"), 2)?;
                let kv_bias = split(&format!("{ct2}/attention/linear_1/bias"), 2)?;
                put(format!("{cross}.k_proj.weight"), kv_weight[0].clone());
                put(format!("{cross}.v_proj.weight"), kv_weight[1].clone());
                put(format!("{cross}.v_proj.bias"), kv_bias[1].clone());
                linear(
                    &model,
                    &format!("{ct2}/attention/linear_2"),
                    &format!("{cross}.out_proj"),
                    &mut put,
                )?;
                layer_norm(
                    &model,
                    &format!("{ct2}/attention/layer_norm"),
                    &format!("{hf}.encoder_attn_layer_norm"),
                    &mut put,
                )?;
            }
            linear(
                &model,
                &format!("{ct2}/ffn/linear_0"),
                &format!("{hf}.fc1"),
                &mut put,
            )?;
            linear(
                &model,
                &format!("{ct2}/ffn/linear_1"),
                &format!("{hf}.fc2"),
                &mut put,
            )?;
            layer_norm(
                &model,
                &format!("{ct2}/ffn/layer_norm"),
                &format!("{hf}.final_layer_norm"),
                &mut put,
            )?;
        }
    }

    let ct2_config = read_json_if_present(&source.join("config.json"))?;
    let token_list = |field: &str| {
        ct2_config
            .as_ref()
            .and_then(|c| c.get(field))
            .cloned()
            .unwrap_or(serde_json::Value::Array(Vec::new()))
    };
    let tokenizer = tokenizer_json(source)?;
    let special = |text: &str, fallback: u32| special_id(&tokenizer, text).unwrap_or(fallback);
    let multilingual = vocab_size >= 51_865;
    let eot = special("<|endoftext|>", if multilingual { 50_257 } else { 50_256 });
    let sot = special("<|startoftranscript|>", eot + 1);
    let dtype = tensors
        .get("model.decoder.embed_tokens.weight")
        .map_or("float32", |t| match t.dtype() {
            candle_core::DType::F16 => "float16",
            candle_core::DType::BF16 => "bfloat16",
            _ => "float32",
        });
    let config = serde_json::json!({
        "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper",
        "activation_function": "gelu",
        "num_mel_bins": num_mel_bins,
        "d_model": d_model,
        "encoder_layers": encoder_layers,
        "decoder_layers": decoder_layers,
        "encoder_attention_heads": encoder_heads,
        "decoder_attention_heads": decoder_heads,
        "encoder_ffn_dim": 4 * d_model,
        "decoder_ffn_dim": 4 * d_model,
        "vocab_size": vocab_size,
        "max_source_positions": max_source_positions,
        "max_target_positions": max_target_positions,
        "scale_embedding": false,
        "tie_word_embeddings": true,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "pad_token_id": eot,
        "decoder_start_token_id": sot,
        "suppress_tokens": token_list("suppress_ids"),
        "begin_suppress_tokens": token_list("suppress_ids_begin"),
        "torch_dtype": dtype,
    });

    std::fs::create_dir_all(out).map_err(|e| write_error(out, e))?;
    let weights_path = out.join(WEIGHTS_FILE);
    candle_core::safetensors::save(&tensors, &weights_path)
        .map_err(|e| write_error(&weights_path, e))?;
    let config_path = out.join(CONFIG_FILE);
    write_json(&config_path, &config)?;
    let tokenizer_path = out.join(TOKENIZER_FILE);
    write_json(&tokenizer_path, &tokenizer)?;
    Ok(ImportSummary {
        d_model,
        encoder_layers,
        decoder_layers,
        vocab_size,
        tensor_count: tensors.len(),
        files: vec![config_path, weights_path, tokenizer_path],
    })
}

fn linear(
    model: &Ct2Model,
    ct2: &str,
    hf: &str,
    put: &mut impl FnMut(String, Tensor),
) -> Result<(), ImportError> {
    put(
        format!("{hf}.weight"),
        model.tensor(&format!("{ct2}/weight"))?,
    );
    put(format!("{hf}.bias"), model.tensor(&format!("{ct2}/bias"))?);
    Ok(())
}

fn layer_norm(
    model: &Ct2Model,
    ct2: &str,
    hf: &str,
    put: &mut impl FnMut(String, Tensor),
) -> Result<(), ImportError> {
    put(
        format!("{hf}.weight"),
        model.tensor(&format!("{ct2}/gamma"))?,
    );
    put(format!("{hf}.bias"), model.tensor(&format!("{ct2}/beta"))?);
    Ok(())
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> ImportError {
    ImportError::Write {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

fn read_json_if_present(path: &Path) -> Result<Option<serde_json::Value>, ImportError> {
    if !path.is_file() {
        return Ok(None);
    }
    let invalid = |message: String| ImportError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| invalid(format!("not valid JSON: {e}")))
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), ImportError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| write_error(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| write_error(path, e))
}

fn special_id(tokenizer: &serde_json::Value, text: &str) -> Option<u32> {
    tokenizer
        .get("added_tokens")?
        .as_array()?
        .iter()
        .find(|t| t.get("content").and_then(|c| c.as_str()) == Some(text))?
        .get("id")?
        .as_u64()
        .and_then(|id| u32::try_from(id).ok())
}

/// The source's `tokenizer.json`, or one built from `vocabulary.txt` (one token a
/// line, the line number is the id; `<|…|>` tokens are special).
fn tokenizer_json(source: &Path) -> Result<serde_json::Value, ImportError> {
    if let Some(json) = read_json_if_present(&source.join(TOKENIZER_FILE))? {
        return Ok(json);
    }
    let vocabulary_path = source.join("vocabulary.txt");
    let text = std::fs::read_to_string(&vocabulary_path).map_err(|e| ImportError::Invalid {
        path: vocabulary_path.clone(),
        message: format!("no tokenizer.json and no readable vocabulary.txt: {e}"),
    })?;
    let mut vocab = serde_json::Map::new();
    let mut added = Vec::new();
    for (id, token) in text.lines().enumerate() {
        if token.starts_with("<|") && token.ends_with("|>") {
            added.push(serde_json::json!({
                "id": id, "content": token, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": true
            }));
        } else {
            vocab.insert(token.to_string(), serde_json::json!(id));
        }
    }
    Ok(serde_json::json!({
        "version": "1.0",
        "added_tokens": added,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "vocab": vocab, "merges": []}
    }))
}
