//! Tests of the CTranslate2 import: a tiny random Whisper is laid out the way
//! CTranslate2's converter fuses it, written as `model.bin`, converted back and
//! compared tensor by tensor.

use std::collections::HashMap;

use candle_core::Tensor;

use super::import::import_ct2_whisper;
use crate::model::speech::ct2::tests::serialize;
use crate::model::speech::load::expected_tensors;
use crate::model::speech::tiny::{TinyWhisperSpec, random_tensors, tokenizer_json};

type Variable = (String, Vec<u32>, u8, Vec<u8>);

fn variable(name: &str, tensor: &Tensor) -> Variable {
    let shape = tensor.dims().iter().map(|&d| d as u32).collect();
    let values: Vec<f32> = tensor.flatten_all().unwrap().to_vec1().unwrap();
    (
        name.to_string(),
        shape,
        0,
        values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
}

/// Lays out Hugging Face tensors the way CTranslate2's Whisper converter does.
fn ct2_variables(hf: &HashMap<String, Tensor>, spec: &TinyWhisperSpec) -> Vec<Variable> {
    let t = |name: &str| hf[name].clone();
    let cat =
        |names: &[&str]| Tensor::cat(&names.iter().map(|n| t(n)).collect::<Vec<_>>(), 0).unwrap();
    let mut vars = vec![];
    for (ct2, name) in [
        ("encoder/conv1/weight", "model.encoder.conv1.weight"),
        ("encoder/conv1/bias", "model.encoder.conv1.bias"),
        ("encoder/conv2/weight", "model.encoder.conv2.weight"),
        ("encoder/conv2/bias", "model.encoder.conv2.bias"),
        (
            "encoder/layer_norm/gamma",
            "model.encoder.layer_norm.weight",
        ),
        ("encoder/layer_norm/beta", "model.encoder.layer_norm.bias"),
        (
            "decoder/layer_norm/gamma",
            "model.decoder.layer_norm.weight",
        ),
        ("decoder/layer_norm/beta", "model.decoder.layer_norm.bias"),
        (
            "decoder/embeddings/weight",
            "model.decoder.embed_tokens.weight",
        ),
        (
            "decoder/position_encodings/encodings",
            "model.decoder.embed_positions.weight",
        ),
    ] {
        vars.push(variable(ct2, &t(name)));
    }
    let zeros = Tensor::zeros(
        spec.d_model,
        candle_core::DType::F32,
        &candle_core::Device::Cpu,
    )
    .unwrap();
    for stack in ["encoder", "decoder"] {
        let heads = (spec.heads as i16).to_le_bytes().to_vec();
        vars.push((format!("{stack}/num_heads"), vec![], 2, heads));
        for i in 0..spec.layers {
            let (c, h) = (
                format!("{stack}/layer_{i}"),
                format!("model.{stack}.layers.{i}"),
            );
            let a = format!("{h}.self_attn");
            let qkv = cat(&[
                &format!("{a}.q_proj.weight"),
                &format!("{a}.k_proj.weight"),
                &format!("{a}.v_proj.weight"),
            ]);
            vars.push(variable(
                &format!("{c}/self_attention/linear_0/weight"),
                &qkv,
            ));
            let bias = Tensor::cat(
                &[
                    t(&format!("{a}.q_proj.bias")),
                    zeros.clone(),
                    t(&format!("{a}.v_proj.bias")),
                ],
                0,
            )
            .unwrap();
            vars.push(variable(
                &format!("{c}/self_attention/linear_0/bias"),
                &bias,
            ));
            let mut plain = vec![
                (
                    "self_attention/linear_1/weight",
                    format!("{a}.out_proj.weight"),
                ),
                ("self_attention/linear_1/bias", format!("{a}.out_proj.bias")),
                (
                    "self_attention/layer_norm/gamma",
                    format!("{h}.self_attn_layer_norm.weight"),
                ),
                (
                    "self_attention/layer_norm/beta",
                    format!("{h}.self_attn_layer_norm.bias"),
                ),
                ("ffn/linear_0/weight", format!("{h}.fc1.weight")),
                ("ffn/linear_0/bias", format!("{h}.fc1.bias")),
                ("ffn/linear_1/weight", format!("{h}.fc2.weight")),
                ("ffn/linear_1/bias", format!("{h}.fc2.bias")),
                (
                    "ffn/layer_norm/gamma",
                    format!("{h}.final_layer_norm.weight"),
                ),
                ("ffn/layer_norm/beta", format!("{h}.final_layer_norm.bias")),
            ];
            if stack == "decoder" {
                let x = format!("{h}.encoder_attn");
                let kv = cat(&[&format!("{x}.k_proj.weight"), &format!("{x}.v_proj.weight")]);
                vars.push(variable(&format!("{c}/attention/linear_1/weight"), &kv));
                let kv_bias =
                    Tensor::cat(&[zeros.clone(), t(&format!("{x}.v_proj.bias"))], 0).unwrap();
                vars.push(variable(&format!("{c}/attention/linear_1/bias"), &kv_bias));
                plain.extend([
                    ("attention/linear_0/weight", format!("{x}.q_proj.weight")),
                    ("attention/linear_0/bias", format!("{x}.q_proj.bias")),
                    ("attention/linear_2/weight", format!("{x}.out_proj.weight")),
                    ("attention/linear_2/bias", format!("{x}.out_proj.bias")),
                    (
                        "attention/layer_norm/gamma",
                        format!("{h}.encoder_attn_layer_norm.weight"),
                    ),
                    (
                        "attention/layer_norm/beta",
                        format!("{h}.encoder_attn_layer_norm.bias"),
                    ),
                ]);
            }
            for (ct2, name) in plain {
                vars.push(variable(&format!("{c}/{ct2}"), &t(&name)));
            }
        }
    }
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

#[test]
fn a_converted_ct2_model_has_the_original_tensors_and_sizes() {
    let spec = TinyWhisperSpec::default();
    let hf = random_tensors(&spec, 7).unwrap();
    let source = tempfile::tempdir().unwrap();
    let bytes = serialize(
        &ct2_variables(&hf, &spec),
        &[("decoder/projection/weight", "decoder/embeddings/weight")],
    );
    std::fs::write(source.path().join("model.bin"), bytes).unwrap();
    std::fs::write(
        source.path().join("config.json"),
        r#"{"suppress_ids": [3, 5], "suppress_ids_begin": [40]}"#,
    )
    .unwrap();
    std::fs::write(
        source.path().join("tokenizer.json"),
        tokenizer_json().to_string(),
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let summary = import_ct2_whisper(source.path(), out.path()).unwrap();
    assert_eq!(
        (
            summary.d_model,
            summary.encoder_layers,
            summary.decoder_layers
        ),
        (64, 2, 2)
    );

    let config = crate::model::speech::load::read_config(&out.path().join("config.json")).unwrap();
    let mut expected = spec.config();
    expected.suppress_tokens = vec![3, 5];
    assert_eq!(config.model, expected);
    assert_eq!(
        (config.suppress_tokens, config.begin_suppress_tokens),
        (vec![3, 5], vec![40])
    );
    let converted = candle_core::safetensors::load(
        out.path().join("model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    for (name, _) in expected_tensors(&spec.config()) {
        let a: Vec<f32> = hf[&name].flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = converted[&name].flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b, "tensor {name}");
    }
}

#[test]
fn a_folder_without_model_bin_is_named_in_the_error() {
    let source = tempfile::tempdir().unwrap();
    let error = import_ct2_whisper(source.path(), &source.path().join("out")).unwrap_err();
    assert!(error.to_string().contains("model.bin"), "{error}");
}

#[test]
fn without_tokenizer_json_the_vocabulary_file_becomes_the_tokenizer() {
    let spec = TinyWhisperSpec::default();
    let hf = random_tensors(&spec, 5).unwrap();
    let source = tempfile::tempdir().unwrap();
    let bytes = serialize(&ct2_variables(&hf, &spec), &[]);
    std::fs::write(source.path().join("model.bin"), bytes).unwrap();
    // One token a line, the line number is the id (CTranslate2's vocabulary.txt).
    let mut lines: Vec<String> = ('a'..='z').map(String::from).collect();
    lines.extend(('a'..='n').map(|c| format!("Ġ{c}")));
    lines.extend(
        crate::model::speech::tiny::SPECIAL_TOKENS
            .iter()
            .map(|t| t.to_string()),
    );
    std::fs::write(source.path().join("vocabulary.txt"), lines.join("\n")).unwrap();
    let out = tempfile::tempdir().unwrap();
    import_ct2_whisper(source.path(), out.path()).unwrap();
    let tokenizer = crate::model::speech::tokenizer::WhisperTokenizer::from_file(
        &out.path().join("tokenizer.json"),
    )
    .unwrap();
    assert_eq!(tokenizer.token_id("<|endoftext|>"), Some(40));
    assert!(tokenizer.is_special(45) && !tokenizer.is_special(39));
    assert_eq!(tokenizer.decode(&[26, 0, 41]), " aa");
}
