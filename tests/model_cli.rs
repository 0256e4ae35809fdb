#![allow(clippy::unwrap_used)]
//! `scanscribe train`, `enroll` and `describe` end to end on the synthetic study with
//! the tiny preset: the files a user gets, and the refusal of a profile made with
//! another model.

use std::process::Command;

use scanscribe::model::deper::synthetic::{SyntheticSpec, write_synthetic};

fn scanscribe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn train_enroll_describe_and_refuse_a_foreign_profile() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_synthetic(
        &data,
        &SyntheticSpec {
            image_size_px: 24,
            ..SyntheticSpec::default()
        },
    )
    .unwrap();
    let path = |p: &str| dir.path().join(p).display().to_string();
    let data_arg = data.display().to_string();
    for model in ["m1", "m2"] {
        let seed = if model == "m1" { "1" } else { "2" };
        let stdout = ok(&scanscribe(&[
            "train",
            "--data",
            &data_arg,
            "--out",
            &path(model),
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--seed",
            seed,
            "--device",
            "cpu",
        ]));
        assert!(stdout.contains("model written to"), "{stdout}");
        for file in [
            "captioner/config.json",
            "captioner/model.safetensors",
            "captioner/tokenizer.json",
            "deper/config.json",
            "deper/model.safetensors",
            "deper/tokenizer.json",
            "train_log.csv",
        ] {
            assert!(
                dir.path().join(model).join(file).is_file(),
                "{model}/{file}"
            );
        }
    }
    let records = data.join("records.jsonl").display().to_string();
    let stdout = ok(&scanscribe(&[
        "enroll",
        "--model",
        &path("m1"),
        "--records",
        &records,
        "--subject",
        "s09",
        "--shots",
        "5",
        "--out",
        &path("profiles/s09.ron"),
        "--device",
        "cpu",
    ]));
    assert!(stdout.contains("enrolled s09 from 5 trials"), "{stdout}");
    let profile = std::fs::read_to_string(dir.path().join("profiles/s09.ron")).unwrap();
    assert!(
        profile.contains("model_fingerprint") && profile.contains("img000.png"),
        "{profile}"
    );

    let image = data.join("images/img019.png").display().to_string();
    let text = ok(&scanscribe(&[
        "describe",
        "--model",
        &path("m1"),
        "--image",
        &image,
        "--profile",
        &path("profiles/s09.ron"),
        "--device",
        "cpu",
    ]));
    assert!(!text.trim().is_empty());
    let generic = ok(&scanscribe(&[
        "describe",
        "--model",
        &path("m1"),
        "--image",
        &image,
        "--device",
        "cpu",
    ]));
    assert!(!generic.trim().is_empty());

    // A damaged profile (a NaN in z_s) is refused naming the file and the value.
    let z_at = profile.find("z_s: [").unwrap() + "z_s: [".len();
    let end = z_at + profile[z_at..].find(',').unwrap();
    let mut damaged = profile.clone();
    damaged.replace_range(z_at..end, "NaN");
    std::fs::write(dir.path().join("profiles/damaged.ron"), damaged).unwrap();
    let describe_with = |model: &str, profile: &str| {
        scanscribe(&[
            "describe",
            "--model",
            &path(model),
            "--image",
            &image,
            "--profile",
            &path(profile),
            "--device",
            "cpu",
        ])
    };
    let refused = describe_with("m1", "profiles/damaged.ron");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("damaged.ron") && stderr.contains("z_s[0] is NaN"),
        "{stderr}"
    );

    let refused = describe_with("m2", "profiles/s09.ron");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("s09.ron") && stderr.contains("enroll the subject again"),
        "{stderr}"
    );

    let changed = scanscribe(&[
        "train",
        "--data",
        &data_arg,
        "--out",
        &path("m1"),
        "--preset",
        "tiny",
        "--epochs",
        "1",
        "--seed",
        "1",
        "--ablation",
        "text-only",
    ]);
    assert!(!changed.status.success());
    assert!(String::from_utf8_lossy(&changed.stderr).contains("another configuration"));

    let bad = scanscribe(&[
        "train",
        "--data",
        &data_arg,
        "--out",
        &path("m3"),
        "--ablation",
        "no-eyes",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("text-only"));
}

#[test]
fn nonsense_numeric_flags_name_the_flag_and_what_is_expected() {
    for (args, flag) in [
        (
            vec![
                "describe",
                "--model",
                "m",
                "--image",
                "i.png",
                "--temperature",
                "NaN",
            ],
            "--temperature",
        ),
        (
            vec![
                "describe", "--model", "m", "--image", "i.png", "--top-p", "0",
            ],
            "--top-p",
        ),
        (
            vec!["train", "--data", "d", "--out", "o", "--lr", "NaN"],
            "--lr",
        ),
        (
            vec!["train", "--data", "d", "--out", "o", "--lr=-1"],
            "--lr",
        ),
        (
            vec![
                "enroll",
                "--model",
                "m",
                "--records",
                "r",
                "--subject",
                "s",
                "--shots",
                "0",
                "--out",
                "p",
            ],
            "--shots",
        ),
        (
            vec!["train", "--data", "d", "--out", "o", "--micro-batch", "0"],
            "--micro-batch",
        ),
        (
            vec!["train", "--data", "d", "--out", "o", "--epochs", "0"],
            "--epochs",
        ),
        (
            vec!["train", "--data", "d", "--out", "o", "--stage2-epochs", "0"],
            "--stage2-epochs",
        ),
    ] {
        let output = scanscribe(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
