//! A Qwen2-VL folder with random weights at any widths, written from a template folder
//! (its tokenizer, image processor settings and special token ids): what the memory
//! and speed measurements of stage 2 run on where real weights cannot be downloaded.
//! The weights come from the same constructor that loads real checkpoints, so every
//! key and shape is what the loader expects; norm scales are ones, the rest is
//! candle's default initialization.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde_json::{Value, json};

use super::config::Qwen2VlConfig;
use super::model::Qwen2Vl;
use crate::model::error::{ModelError, Result};

/// Widths and depths of a random model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomModelSpec {
    pub hidden: usize,
    pub intermediate: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub vocab: usize,
    pub vision_depth: usize,
    pub vision_embed: usize,
    pub vision_heads: usize,
}

impl RandomModelSpec {
    /// Qwen2-VL-2B-Instruct's shapes.
    pub fn qwen2_vl_2b() -> Self {
        Self {
            hidden: 1536,
            intermediate: 8960,
            layers: 28,
            heads: 12,
            kv_heads: 2,
            vocab: 151_936,
            vision_depth: 32,
            vision_embed: 1280,
            vision_heads: 16,
        }
    }

    /// The 2B model at a quarter of its widths (same depth, head size and vocabulary).
    pub fn quarter_2b() -> Self {
        Self {
            hidden: 384,
            intermediate: 2240,
            heads: 3,
            kv_heads: 1,
            vision_embed: 320,
            vision_heads: 4,
            ..Self::qwen2_vl_2b()
        }
    }
}

/// Writes a random model of `spec` to `out`, taking the tokenizer, processor settings
/// and token ids from the Qwen2-VL folder `template`.
pub fn write(template: &Path, out: &Path, spec: &RandomModelSpec) -> Result<()> {
    let config_path = template.join("config.json");
    let text = std::fs::read_to_string(&config_path).map_err(ModelError::io(&config_path))?;
    let mut config: Value = serde_json::from_str(&text).map_err(|e| ModelError::Config {
        path: config_path.clone(),
        message: e.to_string(),
    })?;
    // M-RoPE splits half the head size between time, height and width as 2B does
    // (16, 24, 24 of 64).
    let half = spec.hidden / spec.heads.max(1) / 2;
    let (t, h) = (half / 4, (half - half / 4) / 2);
    let text_config = json!({
        "hidden_size": spec.hidden,
        "intermediate_size": spec.intermediate,
        "num_hidden_layers": spec.layers,
        "num_attention_heads": spec.heads,
        "num_key_value_heads": spec.kv_heads,
        "vocab_size": spec.vocab,
        "max_position_embeddings": 32768,
        "layer_types": vec!["full_attention"; spec.layers],
        "rope_parameters": {
            "mrope_section": [t, h, half - t - h],
            "rope_theta": 1_000_000.0,
            "rope_type": "default"
        },
    });
    let vision_config = json!({
        "depth": spec.vision_depth,
        "embed_dim": spec.vision_embed,
        "num_heads": spec.vision_heads,
        "hidden_size": spec.hidden,
    });
    merge(&mut config["text_config"], &text_config);
    merge(&mut config["vision_config"], &vision_config);
    config["tie_word_embeddings"] = json!(false);
    config["dtype"] = json!("float32");
    let parsed =
        Qwen2VlConfig::from_json(&config.to_string()).map_err(|message| ModelError::Config {
            path: config_path.clone(),
            message: format!("the random model's config: {message}"),
        })?;

    std::fs::create_dir_all(out).map_err(ModelError::io(out))?;
    for file in [
        "tokenizer.json",
        "preprocessor_config.json",
        "generation_config.json",
    ] {
        let from = template.join(file);
        if from.is_file() {
            std::fs::copy(&from, out.join(file)).map_err(ModelError::io(&from))?;
        }
    }
    let config_out = out.join("config.json");
    let pretty =
        serde_json::to_string_pretty(&config).map_err(|e| ModelError::Data(e.to_string()))?;
    std::fs::write(&config_out, pretty).map_err(ModelError::io(&config_out))?;

    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    Qwen2Vl::new(&parsed, vb.pp("visual"), vb.pp("model"), vb.clone())?;
    {
        let vars = varmap
            .data()
            .lock()
            .map_err(|_| ModelError::Data("the variable map's lock is poisoned".into()))?;
        for (name, var) in vars.iter() {
            if name.contains("norm") && name.ends_with("weight") && var.rank() == 1 {
                var.set(&Tensor::ones(var.shape(), DType::F32, &Device::Cpu)?)?;
            }
        }
    }
    let weights = out.join("model.safetensors");
    varmap.save(&weights)?;
    Ok(())
}

/// Sets every key of `patch` in `target` (an object).
fn merge(target: &mut Value, patch: &Value) {
    if let (Some(target), Some(patch)) = (target.as_object_mut(), patch.as_object()) {
        for (key, value) in patch {
            target.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_random_model_loads_with_the_requested_shapes() {
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl/model");
        let dir = tempfile::tempdir().unwrap();
        let spec = RandomModelSpec {
            hidden: 96,
            intermediate: 160,
            layers: 3,
            heads: 3,
            kv_heads: 1,
            vocab: 400,
            vision_depth: 1,
            vision_embed: 32,
            vision_heads: 2,
        };
        write(&template, dir.path(), &spec).unwrap();
        let loaded = super::super::load(dir.path(), DType::F32, &Device::Cpu).unwrap();
        let text = &loaded.model.config.text;
        assert_eq!(
            (text.hidden_size, text.num_hidden_layers, text.vocab_size),
            (96, 3, 400)
        );
        assert_eq!(loaded.model.text().num_layers(), 3);
    }
}
