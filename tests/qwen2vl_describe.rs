//! `scanscribe describe --vlm qwen2-vl` on the tiny random Qwen2-VL of the fixture:
//! the text is nonsense, the mechanics are checked (determinism, stop tokens, the
//! effect of an injected `<subj>` embedding, seeded sampling, clear errors).

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{Device, Tensor};
use scanscribe::model::generate::{DescriptionModel, GenerateOptions};
use scanscribe::model::qwen2vl::Qwen2VlDescriber;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl")
}

fn describe(extra: &[&str]) -> std::process::Output {
    let model = fixture().join("model");
    let image = fixture().join("image.png");
    Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args([
            "describe",
            "--vlm",
            "qwen2-vl",
            "--device",
            "cpu",
            "--max-tokens",
            "8",
        ])
        .arg("--vlm-path")
        .arg(&model)
        .arg("--image")
        .arg(&image)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn describe_cli_runs_qwen2vl_deterministically_and_names_what_is_missing() {
    for beam in ["1", "3"] {
        let first = describe(&["--beam", beam]);
        assert!(
            first.status.success(),
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let text = String::from_utf8_lossy(&first.stdout).to_string();
        assert!(!text.trim().is_empty(), "beam {beam}: empty description");
        let second = describe(&["--beam", beam]);
        assert_eq!(text, String::from_utf8_lossy(&second.stdout), "beam {beam}");
    }
    let sampled = |seed: &str| {
        let out = describe(&["--temperature", "2.0", "--seed", seed]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(sampled("1"), sampled("1"));
    assert_ne!(sampled("1"), sampled("2"));

    let out = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(["describe", "--vlm", "qwen2-vl", "--image"])
        .arg(fixture().join("image.png"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--vlm-path"));

    let out = describe(&["--profile", "nowhere.ron"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model"));
}

fn setup() -> (Qwen2VlDescriber, Tensor) {
    let d = Qwen2VlDescriber::load(&fixture().join("model"), &Device::Cpu).unwrap();
    let image = d
        .load_image(&fixture().join("image.png"), &Device::Cpu)
        .unwrap();
    let tokens = d.encode_image(&image.unsqueeze(0).unwrap()).unwrap();
    (d, tokens)
}

#[test]
fn generation_stops_at_a_stop_token() {
    let (mut d, tokens) = setup();
    let options = GenerateOptions {
        beam_width: 1,
        max_tokens: 8,
        ..GenerateOptions::default()
    };
    assert!(!d.stop_ids().is_empty());
    let free = d.generate_ids(&tokens, None, &options).unwrap();
    assert_eq!(free.len(), 8, "{free:?}");
    let cut = free.iter().position(|t| *t == free[3]).unwrap();
    d.model.config.eos_token_ids.push(free[3]);
    assert!(d.stop_ids().contains(&free[3]));
    let stopped = d.generate_ids(&tokens, None, &options).unwrap();
    assert_eq!(stopped, free[..cut]);
}

#[test]
fn an_injected_subject_embedding_changes_the_description() {
    let (d, tokens) = setup();
    let options = GenerateOptions {
        beam_width: 1,
        max_tokens: 8,
        ..GenerateOptions::default()
    };
    let z = |seed: u64| {
        let v: Vec<f32> = (0..64)
            .map(|i| (((i as u64 * 2654435761 + seed * 97) % 1000) as f32 / 500.0 - 1.0) * 3.0)
            .collect();
        Tensor::from_vec(v, (1, 64), &Device::Cpu).unwrap()
    };
    let (a, b) = (z(1), z(2));
    let with_a = d.generate_ids(&tokens, Some(&a), &options).unwrap();
    assert_eq!(with_a, d.generate_ids(&tokens, Some(&a), &options).unwrap());
    let with_b = d.generate_ids(&tokens, Some(&b), &options).unwrap();
    assert_ne!(with_a, with_b, "two subjects, one description");
    // Same personal prompt, `<subj>`'s own (untrained) embedding: different again.
    let subj_id = Tensor::new(&[[d.tokenizer.subj_id]], &Device::Cpu).unwrap();
    let own = d.model.embed_ids(&subj_id).unwrap().squeeze(0).unwrap();
    let own = d.generate_ids(&tokens, Some(&own), &options).unwrap();
    assert_ne!(own, with_a);
}
