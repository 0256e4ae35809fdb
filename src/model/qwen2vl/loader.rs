//! Loading a Hugging Face Qwen2-VL folder (`Qwen/Qwen2-VL-2B-Instruct` as
//! downloaded): `config.json`, `preprocessor_config.json`, `tokenizer.json` and the
//! weights, one `model.safetensors` or shards listed in `model.safetensors.index.json`.
//! Both key layouts are read: the Hub's (`visual.*`, `model.*`, `lm_head.*`) and the
//! one newer `transformers` writes (`model.visual.*`, `model.language_model.*`).
//!
//! An incomplete folder or another architecture is refused with an error naming the
//! file, the tensor or the field. The weights are loaded as constants (no gradient).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::config::{PreprocessorConfig, Qwen2VlConfig};
use super::model::Qwen2Vl;
use super::processor::ImageProcessor;
use crate::model::checkpoint::{self, read_safetensors};
use crate::model::error::{ModelError, Result};
use crate::model::tokenizer::{SpecialTokens, TextTokenizer};

/// The special tokens of Qwen2-VL's tokenizer, plus the subject slot this crate adds.
pub const QWEN_SPECIALS: SpecialTokens<'static> = SpecialTokens {
    pad: "<|endoftext|>",
    bos: "<|im_start|>",
    eos: "<|im_end|>",
    subj: "<subj>",
};

/// Everything of a loaded folder.
#[derive(Debug, Clone)]
pub struct LoadedQwen2Vl {
    pub model: Qwen2Vl,
    pub tokenizer: TextTokenizer,
    pub processor: ImageProcessor,
    pub weight_files: Vec<PathBuf>,
}

/// The weight files of `dir`: the shards of the index, or `model.safetensors`.
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    if index.is_file() {
        let text = std::fs::read_to_string(&index).map_err(ModelError::io(&index))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ModelError::Config {
                path: index.clone(),
                message: e.to_string(),
            })?;
        let map = value
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| ModelError::Config {
                path: index.clone(),
                message: "no `weight_map` object".into(),
            })?;
        let shards: BTreeSet<&str> = map.values().filter_map(|v| v.as_str()).collect();
        let files: Vec<PathBuf> = shards.iter().map(|s| dir.join(s)).collect();
        for f in &files {
            if !f.is_file() {
                return Err(ModelError::MissingFile {
                    path: f.clone(),
                    what: format!("weight shard listed in {}", index.display()),
                });
            }
        }
        return Ok(files);
    }
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    Err(ModelError::MissingFile {
        path: index,
        what: "weights: neither model.safetensors.index.json nor model.safetensors".into(),
    })
}

/// Reads and checks `config.json`.
pub fn read_model_config(dir: &Path) -> Result<Qwen2VlConfig> {
    let path = dir.join("config.json");
    if !path.is_file() {
        return Err(ModelError::MissingFile {
            path,
            what: "config.json of the Qwen2-VL folder".into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(ModelError::io(&path))?;
    Qwen2VlConfig::from_json(&text).map_err(|message| ModelError::Config { path, message })
}

/// Loads the folder `dir` with weights in `dtype` (f32 on CPU; bf16 on a GPU).
pub fn load(dir: &Path, dtype: DType, device: &Device) -> Result<LoadedQwen2Vl> {
    if !dir.is_dir() {
        return Err(ModelError::MissingFile {
            path: dir.to_path_buf(),
            what: "Qwen2-VL model folder".into(),
        });
    }
    let config = read_model_config(dir)?;
    let pre: PreprocessorConfig = checkpoint::read_config(&dir.join("preprocessor_config.json"))
        .map_err(|e| match e {
            ModelError::MissingFile { path, .. } => ModelError::MissingFile {
                path,
                what: "preprocessor_config.json (the image processor's settings)".into(),
            },
            other => other,
        })?;
    if pre.patch_size != config.vision.patch_size
        || pre.merge_size != config.vision.spatial_merge_size
    {
        return Err(ModelError::Config {
            path: dir.join("preprocessor_config.json"),
            message: format!(
                "patch_size {} / merge_size {} differ from config.json's vision_config ({} / {})",
                pre.patch_size,
                pre.merge_size,
                config.vision.patch_size,
                config.vision.spatial_merge_size
            ),
        });
    }
    let tokenizer = TextTokenizer::load_with(&dir.join("tokenizer.json"), &QWEN_SPECIALS, true)?;
    if tokenizer.subj_id as usize >= config.text.vocab_size {
        return Err(ModelError::Config {
            path: dir.join("tokenizer.json"),
            message: format!(
                "no free embedding row for `<subj>`: the tokenizer has {} tokens, the model {}",
                tokenizer.vocab_size(),
                config.text.vocab_size
            ),
        });
    }
    let files = weight_files(dir)?;
    let clock = std::time::Instant::now();
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut origin: HashMap<String, PathBuf> = HashMap::new();
    for f in &files {
        for (name, t) in read_safetensors(f, device)? {
            origin.insert(name.clone(), f.clone());
            tensors.insert(name, t);
        }
    }
    let new_layout = tensors
        .keys()
        .any(|k| k.starts_with("model.language_model."));
    let (vision_prefix, text_prefix) = if new_layout {
        ("model.visual", "model.language_model")
    } else {
        ("visual", "model")
    };
    let index = dir.join("model.safetensors.index.json");
    let first_file = if index.is_file() {
        index
    } else {
        files.first().cloned().unwrap_or_else(|| dir.to_path_buf())
    };
    device.synchronize()?;
    tracing::debug!(
        "{}: weights read and placed on {device:?} in {:.3} s",
        dir.display(),
        clock.elapsed().as_secs_f64()
    );
    let vb = VarBuilder::from_tensors(tensors, dtype, device);
    let model = Qwen2Vl::new(
        &config,
        vb.pp(vision_prefix),
        vb.pp(text_prefix),
        vb.clone(),
    )
    .map_err(|e| name_tensor_error(e, &origin, &first_file))?;
    Ok(LoadedQwen2Vl {
        model,
        tokenizer,
        processor: ImageProcessor::new(pre),
        weight_files: files,
    })
}

/// A candle error about a tensor → an error naming the file and the tensor.
fn name_tensor_error(
    e: candle_core::Error,
    origin: &HashMap<String, PathBuf>,
    fallback: &Path,
) -> ModelError {
    match e {
        candle_core::Error::WithBacktrace { inner, .. } => {
            name_tensor_error(*inner, origin, fallback)
        }
        candle_core::Error::CannotFindTensor { path } => ModelError::MissingTensor {
            path: fallback.to_path_buf(),
            name: path,
        },
        candle_core::Error::UnexpectedShape { msg, expected, got } => {
            let name = msg.trim_start_matches("shape mismatch for ").to_owned();
            ModelError::WrongShape {
                path: origin
                    .get(&name)
                    .cloned()
                    .unwrap_or_else(|| fallback.to_path_buf()),
                name,
                expected: expected.dims().to_vec(),
                found: got.dims().to_vec(),
            }
        }
        other => ModelError::Candle(other),
    }
}
