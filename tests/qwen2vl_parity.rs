//! Qwen2-VL against `transformers`: the committed fixture (`tests/fixtures/qwen2vl/`,
//! made by `scripts/make_qwen2vl_fixture.py`) holds a tiny random model and the
//! reference outputs; these tests only read it (no Python needed).

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use scanscribe::model::generate::{DescriptionModel, GenerateOptions};
use scanscribe::model::qwen2vl::describer::PERSONAL_PROMPT;
use scanscribe::model::qwen2vl::{Qwen2VlDescriber, load};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl")
}

fn reference() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture().join("reference.safetensors"), &Device::Cpu).unwrap()
}

fn ids(t: &Tensor) -> Vec<u32> {
    t.flatten_all()
        .unwrap()
        .to_vec1::<i64>()
        .unwrap()
        .into_iter()
        .map(|v| v as u32)
        .collect()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn describer() -> Qwen2VlDescriber {
    Qwen2VlDescriber::load(&fixture().join("model"), &Device::Cpu).unwrap()
}

/// The reference image tokens `[1, rows, cols, hidden]` from the reference pixels.
fn image_tokens(d: &Qwen2VlDescriber, r: &HashMap<String, Tensor>) -> Tensor {
    let grid = ids(&r["image_grid_thw"]);
    d.model
        .encode_patches(&r["pixel_values"], grid[1] as usize, grid[2] as usize)
        .unwrap()
        .unsqueeze(0)
        .unwrap()
}

#[test]
fn logits_match_transformers_with_and_without_a_subject_embedding() {
    let r = reference();
    let d = describer();
    let input_ids = ids(&r["input_ids"]);
    let prompt_len = ids(&r["prompt_len"])[0] as usize;
    let tokens = image_tokens(&d, &r);
    assert_eq!(tokens.dims(), &[1, 3, 4, 64]);
    // Our chat template gives the reference's prompt.
    assert_eq!(
        d.chat_ids(12, PERSONAL_PROMPT).unwrap(),
        input_ids[..prompt_len]
    );
    assert_eq!(d.start_ids(&tokens, true).unwrap(), input_ids[..prompt_len]);

    let ids_t = Tensor::new(input_ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let logits = d.logits(&tokens, &ids_t, None).unwrap();
    let diff = max_abs_diff(&logits, &r["logits"]);
    eprintln!("logits: max abs diff {diff:e}");
    assert!(diff <= 1e-4, "logits differ by {diff}");

    let subj = r["subj"].unsqueeze(0).unwrap();
    let with_subj = d.logits(&tokens, &ids_t, Some(&subj)).unwrap();
    let diff = max_abs_diff(&with_subj, &r["logits_subj"]);
    eprintln!("logits with <subj>: max abs diff {diff:e}");
    assert!(diff <= 1e-4, "logits with <subj> differ by {diff}");
    // The injection matters: the two references are far apart.
    assert!(max_abs_diff(&with_subj, &logits) > 1e-2);
}

#[test]
fn image_processor_matches_transformers_on_several_sizes() {
    let r = reference();
    let d = describer();
    for name in ["exact", "down", "up", "max", "min", "wide"] {
        let image = image::open(fixture().join(format!("proc_{name}.png")))
            .unwrap()
            .to_rgb8();
        let out = d.processor.process(&image, &Device::Cpu).unwrap();
        let grid = ids(&r[&format!("proc.{name}.grid")]);
        assert_eq!(
            out.grid_thw.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            grid,
            "{name}: grid"
        );
        let diff = max_abs_diff(&out.patches, &r[&format!("proc.{name}.pixels")]);
        eprintln!("processor {name} {:?}: max abs diff {diff:e}", out.grid_thw);
        assert!(diff <= 1e-5, "{name}: pixel values differ by {diff}");
    }
    // The image the logits were computed on, through the describer's own path.
    let values = d
        .load_image(&fixture().join("image.png"), &Device::Cpu)
        .unwrap();
    let tokens = d.encode_image(&values.unsqueeze(0).unwrap()).unwrap();
    let diff = max_abs_diff(&tokens, &image_tokens(&d, &r));
    assert!(diff <= 1e-5, "image tokens differ by {diff}");
}

#[test]
fn greedy_generation_matches_transformers_with_and_without_the_cache() {
    let r = reference();
    let mut d = describer();
    let tokens = image_tokens(&d, &r);
    let stop = d.stop_ids();
    let expected: Vec<u32> = ids(&r["greedy"])
        .into_iter()
        .take_while(|t| !stop.contains(t))
        .collect();
    // transformers' generate blocks no repeats by default.
    let greedy = GenerateOptions {
        beam_width: 1,
        max_tokens: 12,
        no_repeat_ngram: 0,
        ..GenerateOptions::default()
    };
    let subj = r["subj"].unsqueeze(0).unwrap();
    // The reference prompt is the personal one with `<subj>`'s own embedding.
    let prompt_len = ids(&r["prompt_len"])[0] as usize;
    let prompt_ids = ids(&r["input_ids"])[..prompt_len].to_vec();
    assert_eq!(
        d.start_ids(&tokens, true).unwrap(),
        prompt_ids,
        "the personal prompt"
    );
    // `<subj>`'s own embedding in the slot, as the reference has it.
    let subj_id = d.tokenizer.subj_id;
    let own = d
        .model
        .embed_ids(&Tensor::new(&[[subj_id]], &Device::Cpu).unwrap())
        .unwrap()
        .squeeze(0)
        .unwrap();
    for use_cache in [true, false] {
        d.use_cache = use_cache;
        let got = d.generate_ids(&tokens, Some(&own), &greedy).unwrap();
        assert_eq!(got, expected, "cache {use_cache}");
    }
    d.use_cache = true;
    let beam = GenerateOptions {
        beam_width: 3,
        ..greedy
    };
    let cached = (
        d.generate_ids(&tokens, Some(&subj), &greedy).unwrap(),
        d.generate_ids(&tokens, None, &beam).unwrap(),
        d.generate_ids(&tokens, Some(&subj), &beam).unwrap(),
    );
    d.use_cache = false;
    let uncached = (
        d.generate_ids(&tokens, Some(&subj), &greedy).unwrap(),
        d.generate_ids(&tokens, None, &beam).unwrap(),
        d.generate_ids(&tokens, Some(&subj), &beam).unwrap(),
    );
    assert_eq!(cached, uncached);
}

/// The fixture rewritten as the Hub stores Qwen2-VL: language-model fields at the
/// top of `config.json` with `rope_scaling`, keys `visual.*` / `model.*`, two shards
/// and an index.
fn hub_layout(dir: &Path) {
    let src = fixture().join("model");
    for f in ["tokenizer.json", "preprocessor_config.json"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    let text = config["text_config"].as_object().unwrap().clone();
    let obj = config.as_object_mut().unwrap();
    obj.remove("text_config");
    for (k, v) in text {
        if k != "rope_parameters" && k != "eos_token_id" && k != "bos_token_id" {
            obj.insert(k, v);
        }
    }
    obj.insert("rope_theta".into(), 10000.0.into());
    obj.insert(
        "rope_scaling".into(),
        serde_json::json!({"type": "mrope", "mrope_section": [2, 3, 3]}),
    );
    obj.insert("vocab_size".into(), 320.into());
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let tensors =
        candle_core::safetensors::load(src.join("model.safetensors"), &Device::Cpu).unwrap();
    let mut shards: [HashMap<String, Tensor>; 2] = [HashMap::new(), HashMap::new()];
    let mut weight_map = serde_json::Map::new();
    for (name, t) in tensors {
        let hub = name
            .replace("model.language_model.", "model.")
            .replace("model.visual.", "visual.");
        let shard = usize::from(hub.starts_with("model."));
        let file = format!("model-0000{}-of-00002.safetensors", shard + 1);
        weight_map.insert(hub.clone(), file.into());
        shards[shard].insert(hub, t);
    }
    for (i, shard) in shards.iter().enumerate() {
        candle_core::safetensors::save(
            shard,
            dir.join(format!("model-0000{}-of-00002.safetensors", i + 1)),
        )
        .unwrap();
    }
    let index = serde_json::json!({"metadata": {}, "weight_map": weight_map});
    std::fs::write(dir.join("model.safetensors.index.json"), index.to_string()).unwrap();
}

#[test]
fn a_hub_layout_sharded_folder_loads_to_the_same_model() {
    let r = reference();
    let dir = tempfile::tempdir().unwrap();
    hub_layout(dir.path());
    let d = Qwen2VlDescriber::load(dir.path(), &Device::Cpu).unwrap();
    let tokens = image_tokens(&d, &r);
    let ids_t = r["input_ids"].to_dtype(DType::U32).unwrap();
    let logits = d.logits(&tokens, &ids_t, None).unwrap();
    let diff = max_abs_diff(&logits, &r["logits"]);
    assert!(diff <= 1e-4, "logits differ by {diff}");
}

fn load_error(dir: &Path) -> String {
    load(dir, DType::F32, &Device::Cpu).unwrap_err().to_string()
}

#[test]
fn broken_folders_are_refused_with_messages_naming_the_problem() {
    let err = load_error(Path::new("/nonexistent/qwen"));
    assert!(
        err.contains("/nonexistent/qwen") && err.contains("missing"),
        "{err}"
    );

    let fresh = || {
        let dir = tempfile::tempdir().unwrap();
        hub_layout(dir.path());
        dir
    };
    let dir = fresh();
    std::fs::remove_file(dir.path().join("config.json")).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("config.json") && err.contains("missing"),
        "{err}"
    );

    let dir = fresh();
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("tokenizer.json") && err.contains("missing"),
        "{err}"
    );

    let dir = fresh();
    std::fs::remove_file(dir.path().join("preprocessor_config.json")).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("preprocessor_config.json"), "{err}");

    let dir = fresh();
    std::fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("model-00002-of-00002.safetensors") && err.contains("shard"),
        "{err}"
    );

    let dir = fresh();
    std::fs::remove_file(dir.path().join("model.safetensors.index.json")).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("model.safetensors"), "{err}");

    // A shard without one tensor: the tensor is named.
    let dir = fresh();
    let shard = dir.path().join("model-00001-of-00002.safetensors");
    let mut tensors = candle_core::safetensors::load(&shard, &Device::Cpu).unwrap();
    tensors.remove("visual.merger.ln_q.weight");
    candle_core::safetensors::save(&tensors, &shard).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("visual.merger.ln_q.weight"), "{err}");

    // A NaN in one weight: refused at load, with the shard, the tensor and the element.
    let dir = fresh();
    let shard = dir.path().join("model-00001-of-00002.safetensors");
    let mut tensors = candle_core::safetensors::load(&shard, &Device::Cpu).unwrap();
    let weight = &tensors["visual.merger.ln_q.weight"];
    let mut values: Vec<f32> = weight.to_dtype(DType::F32).unwrap().to_vec1().unwrap();
    values[3] = f32::NAN;
    let poisoned = Tensor::new(values, &Device::Cpu)
        .unwrap()
        .to_dtype(weight.dtype())
        .unwrap();
    tensors.insert("visual.merger.ln_q.weight".into(), poisoned);
    candle_core::safetensors::save(&tensors, &shard).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("model-00001-of-00002.safetensors")
            && err.contains("visual.merger.ln_q.weight")
            && err.contains("NaN or an infinity at element 3"),
        "{err}"
    );

    // Another architecture.
    let dir = fresh();
    let path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("qwen2_vl", "llama")
        .replace("Qwen2VLForConditionalGeneration", "LlamaForCausalLM");
    std::fs::write(&path, text).unwrap();
    let err = load_error(dir.path());
    assert!(
        err.contains("config.json") && err.contains("not a Qwen2-VL"),
        "{err}"
    );

    // A config that does not match the weights names the tensor and both shapes.
    let dir = fresh();
    let path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"intermediate_size\":128", "\"intermediate_size\":96");
    std::fs::write(&path, text).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("mlp") && err.contains("has shape"), "{err}");
}
