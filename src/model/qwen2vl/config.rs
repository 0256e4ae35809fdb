//! The configuration files of a Hugging Face Qwen2-VL folder: `config.json` (the
//! language model, at the top level as on the Hub or under `text_config` as newer
//! `transformers` writes it, plus `vision_config`) and `preprocessor_config.json`.
//! Field names follow the Hub files; aliases accept the spellings of both
//! `transformers` generations.

use serde::Deserialize;

/// The Qwen2 language model.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    #[serde(default = "default_rms_eps")]
    pub rms_norm_eps: f64,
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default)]
    pub rope_scaling: Option<RopeParameters>,
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    #[serde(default = "default_max_positions")]
    pub max_position_embeddings: usize,
}

/// `rope_scaling` (Hub) or `rope_parameters` (newer `transformers`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RopeParameters {
    #[serde(default)]
    pub mrope_section: Option<Vec<usize>>,
    #[serde(default)]
    pub rope_theta: Option<f64>,
}

/// The vision tower (`vision_config`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct VisionConfig {
    pub depth: usize,
    pub embed_dim: usize,
    /// Output width of the patch merger (= the language model's width).
    pub hidden_size: usize,
    #[serde(alias = "num_attention_heads")]
    pub num_heads: usize,
    #[serde(default = "default_mlp_ratio")]
    pub mlp_ratio: f64,
    #[serde(default = "default_channels", alias = "in_chans")]
    pub in_channels: usize,
    #[serde(default = "default_patch")]
    pub patch_size: usize,
    #[serde(default = "default_merge")]
    pub spatial_merge_size: usize,
    #[serde(default = "default_temporal")]
    pub temporal_patch_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

/// A head count must be at least 1 and divide the width it splits.
fn check_heads(
    field: &str,
    heads: usize,
    width_field: &str,
    width: usize,
) -> std::result::Result<(), String> {
    if heads == 0 || !width.is_multiple_of(heads) {
        return Err(format!(
            "{field}: {heads} heads; expected at least 1, dividing {width_field} ({width})"
        ));
    }
    Ok(())
}

impl VisionConfig {
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }
    pub fn mlp_hidden(&self) -> usize {
        (self.embed_dim as f64 * self.mlp_ratio) as usize
    }
    /// Values in one flattened patch: channels × temporal × patch².
    pub fn patch_values(&self) -> usize {
        self.in_channels * self.temporal_patch_size * self.patch_size * self.patch_size
    }
}

/// The whole `config.json`, as read.
#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    text_config: Option<serde_json::Value>,
    vision_config: Option<VisionConfig>,
    image_token_id: Option<u32>,
    vision_start_token_id: Option<u32>,
    vision_end_token_id: Option<u32>,
    #[serde(default)]
    tie_word_embeddings: Option<bool>,
    #[serde(default)]
    eos_token_id: Option<serde_json::Value>,
    #[serde(flatten)]
    rest: serde_json::Value,
}

/// What the model needs from `config.json`, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Qwen2VlConfig {
    pub text: TextConfig,
    pub vision: VisionConfig,
    pub image_token_id: u32,
    pub vision_start_token_id: u32,
    pub vision_end_token_id: u32,
    pub rope_theta: f64,
    /// Frequencies (of `head_dim / 2`) given to the temporal, height and width positions.
    pub mrope_section: Vec<usize>,
    pub tie_word_embeddings: bool,
    pub eos_token_ids: Vec<u32>,
}

impl Qwen2VlConfig {
    pub fn head_dim(&self) -> usize {
        self.text.hidden_size / self.text.num_attention_heads
    }

    /// Parses `config.json` text; the error says which field is wrong or missing.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let config = Self::parse_json(text)?;
        let vocab = config.text.vocab_size;
        for (field, id) in [
            ("image_token_id", config.image_token_id),
            ("vision_start_token_id", config.vision_start_token_id),
            ("vision_end_token_id", config.vision_end_token_id),
        ] {
            if id as usize >= vocab {
                return Err(format!(
                    "{field}: {id} is not a token of the {vocab}-word vocabulary (vocab_size)"
                ));
            }
        }
        Ok(config)
    }

    fn parse_json(text: &str) -> std::result::Result<Self, String> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let model_type = raw.model_type.clone().unwrap_or_default();
        let arch = raw.architectures.clone().unwrap_or_default();
        if model_type != "qwen2_vl" && !arch.iter().any(|a| a.starts_with("Qwen2VL")) {
            return Err(format!(
                "not a Qwen2-VL model: model_type `{model_type}`, architectures {arch:?} (expected `qwen2_vl` / Qwen2VLForConditionalGeneration)"
            ));
        }
        let text_value = raw.text_config.clone().unwrap_or(raw.rest.clone());
        let text: TextConfig = serde_json::from_value(text_value)
            .map_err(|e| format!("language model fields: {e}"))?;
        let vision = raw
            .vision_config
            .clone()
            .ok_or("`vision_config` is missing")?;
        let need = |v: Option<u32>, name: &str| v.ok_or(format!("`{name}` is missing"));
        let rope = text.rope_parameters.clone().or(text.rope_scaling.clone());
        let rope_theta = text
            .rope_theta
            .or(rope.as_ref().and_then(|r| r.rope_theta))
            .unwrap_or(1_000_000.0);
        let mrope_section = rope
            .and_then(|r| r.mrope_section)
            .ok_or("`rope_scaling.mrope_section` is missing")?;
        check_heads(
            "num_attention_heads",
            text.num_attention_heads,
            "hidden_size",
            text.hidden_size,
        )?;
        if text.num_key_value_heads == 0
            || !text
                .num_attention_heads
                .is_multiple_of(text.num_key_value_heads)
        {
            return Err(format!(
                "num_key_value_heads: {} must be at least 1 and divide num_attention_heads ({})",
                text.num_key_value_heads, text.num_attention_heads
            ));
        }
        check_heads(
            "vision_config.num_heads",
            vision.num_heads,
            "vision_config.embed_dim",
            vision.embed_dim,
        )?;
        let head_dim = text.hidden_size / text.num_attention_heads;
        if mrope_section.iter().sum::<usize>() * 2 != head_dim || mrope_section.len() != 3 {
            return Err(format!(
                "mrope_section {mrope_section:?} must have 3 parts summing to head_dim / 2 = {}",
                head_dim / 2
            ));
        }
        if vision.hidden_size != text.hidden_size {
            return Err(format!(
                "vision_config.hidden_size {} differs from the language model's hidden_size {}",
                vision.hidden_size, text.hidden_size
            ));
        }
        let eos_token_ids = match raw.eos_token_id.clone() {
            Some(serde_json::Value::Number(n)) => {
                n.as_u64().map(|v| vec![v as u32]).unwrap_or_default()
            }
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as u32)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            tie_word_embeddings: text
                .tie_word_embeddings
                .or(raw.tie_word_embeddings)
                .unwrap_or(false),
            image_token_id: need(raw.image_token_id, "image_token_id")?,
            vision_start_token_id: need(raw.vision_start_token_id, "vision_start_token_id")?,
            vision_end_token_id: need(raw.vision_end_token_id, "vision_end_token_id")?,
            rope_theta,
            mrope_section,
            eos_token_ids,
            text,
            vision,
        })
    }
}

/// `preprocessor_config.json`: the image processor's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PreprocessorConfig {
    #[serde(default)]
    pub min_pixels: Option<usize>,
    #[serde(default)]
    pub max_pixels: Option<usize>,
    #[serde(default)]
    pub size: Option<SizeBounds>,
    #[serde(default = "default_patch")]
    pub patch_size: usize,
    #[serde(default = "default_merge")]
    pub merge_size: usize,
    #[serde(default = "default_temporal")]
    pub temporal_patch_size: usize,
    #[serde(default = "clip_mean")]
    pub image_mean: [f32; 3],
    #[serde(default = "clip_std")]
    pub image_std: [f32; 3],
    #[serde(default = "default_rescale")]
    pub rescale_factor: f64,
}

/// `size` in the newer spelling (`shortest_edge` = min pixels, `longest_edge` = max pixels).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SizeBounds {
    #[serde(default, alias = "min_pixels")]
    pub shortest_edge: Option<usize>,
    #[serde(default, alias = "max_pixels")]
    pub longest_edge: Option<usize>,
}

impl PreprocessorConfig {
    /// Pixel-count bounds `(min, max)` of a resized image.
    pub fn pixel_bounds(&self) -> (usize, usize) {
        let size = self.size.clone().unwrap_or(SizeBounds {
            shortest_edge: None,
            longest_edge: None,
        });
        (
            self.min_pixels.or(size.shortest_edge).unwrap_or(56 * 56),
            self.max_pixels
                .or(size.longest_edge)
                .unwrap_or(28 * 28 * 1280),
        )
    }
}

fn default_rms_eps() -> f64 {
    1e-6
}
fn default_max_positions() -> usize {
    32768
}
fn default_mlp_ratio() -> f64 {
    4.0
}
fn default_channels() -> usize {
    3
}
fn default_patch() -> usize {
    14
}
fn default_merge() -> usize {
    2
}
fn default_temporal() -> usize {
    2
}
fn default_act() -> String {
    "quick_gelu".into()
}
fn default_rescale() -> f64 {
    1.0 / 255.0
}
fn clip_mean() -> [f32; 3] {
    [0.481_454_66, 0.457_827_5, 0.408_210_73]
}
fn clip_std() -> [f32; 3] {
    [0.268_629_54, 0.261_302_6, 0.275_777_1]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `config.json` of `Qwen/Qwen2-VL-2B-Instruct` as published on the Hub.
    const HUB_2B: &str = r#"{
      "architectures": ["Qwen2VLForConditionalGeneration"], "attention_dropout": 0.0,
      "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652,
      "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655,
      "video_token_id": 151656, "hidden_act": "silu", "hidden_size": 1536,
      "initializer_range": 0.02, "intermediate_size": 8960, "max_position_embeddings": 32768,
      "max_window_layers": 28, "model_type": "qwen2_vl", "num_attention_heads": 12,
      "num_hidden_layers": 28, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
      "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": true,
      "torch_dtype": "bfloat16", "transformers_version": "4.41.2", "use_cache": true,
      "use_sliding_window": false,
      "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16,
        "in_chans": 3, "hidden_size": 1536, "patch_size": 14, "spatial_merge_size": 2,
        "spatial_patch_size": 14, "temporal_patch_size": 2},
      "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
      "vocab_size": 151936
    }"#;

    #[test]
    fn token_ids_outside_the_vocabulary_name_their_field() {
        let bad = HUB_2B.replace(
            "\"image_token_id\": 151655",
            "\"image_token_id\": 4000000000",
        );
        assert_ne!(bad, HUB_2B);
        let error = Qwen2VlConfig::from_json(&bad).unwrap_err();
        assert!(
            error.contains("image_token_id: 4000000000") && error.contains("151936"),
            "{error}"
        );
    }

    #[test]
    fn zero_or_uneven_head_counts_name_their_field() {
        for (from, to, field) in [
            (
                "\"num_heads\": 16",
                "\"num_heads\": 0",
                "vision_config.num_heads: 0 heads",
            ),
            (
                "\"num_attention_heads\": 12",
                "\"num_attention_heads\": 0",
                "num_attention_heads: 0 heads",
            ),
            (
                "\"num_attention_heads\": 12",
                "\"num_attention_heads\": 7",
                "num_attention_heads: 7 heads",
            ),
            (
                "\"num_key_value_heads\": 2",
                "\"num_key_value_heads\": 0",
                "num_key_value_heads: 0",
            ),
        ] {
            assert!(HUB_2B.contains(from), "{from}");
            let error = Qwen2VlConfig::from_json(&HUB_2B.replace(from, to)).unwrap_err();
            assert!(error.contains(field), "{to}: {error}");
        }
    }

    #[test]
    fn the_hub_config_of_qwen2_vl_2b_parses() {
        let cfg = Qwen2VlConfig::from_json(HUB_2B).unwrap();
        assert_eq!(cfg.text.hidden_size, 1536);
        assert_eq!(cfg.head_dim(), 128);
        assert_eq!(cfg.mrope_section, vec![16, 24, 24]);
        assert!(cfg.tie_word_embeddings);
        assert_eq!(cfg.rope_theta, 1e6);
        assert_eq!(cfg.eos_token_ids, vec![151645]);
        assert_eq!(cfg.vision.patch_values(), 1176);
        assert_eq!(cfg.vision.mlp_hidden(), 5120);
        assert_eq!(cfg.image_token_id, 151655);

        let pre: PreprocessorConfig = serde_json::from_str(
            r#"{"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14,
                "temporal_patch_size": 2, "merge_size": 2,
                "image_mean": [0.48145466, 0.4578275, 0.40821073],
                "image_std": [0.26862954, 0.26130258, 0.27577711],
                "image_processor_type": "Qwen2VLImageProcessor", "processor_class": "Qwen2VLProcessor"}"#,
        )
        .unwrap();
        assert_eq!(pre.pixel_bounds(), (3136, 12_845_056));

        let llama = HUB_2B
            .replace("qwen2_vl", "llama")
            .replace("Qwen2VLFor", "LlamaFor");
        assert!(
            Qwen2VlConfig::from_json(&llama)
                .unwrap_err()
                .contains("not a Qwen2-VL")
        );
        let no_vision = HUB_2B.replace("vision_config", "vision_cfg");
        assert!(
            Qwen2VlConfig::from_json(&no_vision)
                .unwrap_err()
                .contains("vision_config")
        );
    }
}
