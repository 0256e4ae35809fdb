#![allow(clippy::unwrap_used)]
//! `scanscribe eval` and `scanscribe retrieve` end to end on a small simulated cohort
//! with the tiny preset: the files a user gets, every row and column of the tables,
//! and clear errors for bad paths.

use std::path::Path;
use std::process::Command;

use scanscribe::cohort::{Cohort, CohortConfig, write_cohort};

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

fn failure(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// 8 subjects (2 held out) on 10 scenes.
fn cohort(dir: &Path) {
    let cohort = Cohort::new(CohortConfig {
        subjects: 8,
        images: 10,
        held_out: 2,
        rate_hz: 60.0,
        ..CohortConfig::default()
    })
    .unwrap();
    write_cohort(&cohort, dir, &|_| {}).unwrap();
}

const ROWS: [&str; 9] = [
    "generic (zero-shot)",
    "trivial baseline",
    "DEPER text-only",
    "DEPER w/o dynamics",
    "DEPER w/o reconstruction",
    "DEPER w/o contrastive",
    "DEPER w/o FiLM",
    "DEPER + saliency",
    "DEPER full",
];

#[test]
fn eval_writes_both_tables_as_markdown_json_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cohort");
    cohort(&data);
    let model = dir.path().join("model");
    let (data_arg, model_arg) = (data.display().to_string(), model.display().to_string());
    ok(&scanscribe(&[
        "train", "--data", &data_arg, "--out", &model_arg, "--preset", "tiny", "--epochs", "1",
        "--device", "cpu",
    ]));
    let stdout = ok(&scanscribe(&[
        "eval",
        "--model",
        &model_arg,
        "--data",
        &data_arg,
        "--train-ablations",
        "--only",
        "text-only",
        "--device",
        "cpu",
    ]));
    assert!(
        model
            .join("ablations/text-only/deper/model.safetensors")
            .is_file(),
        "the ablation is trained and cached"
    );
    let out = model.join("eval");
    let md = std::fs::read_to_string(out.join("eval.md")).unwrap();
    assert_eq!(
        md,
        stdout.split("\nwrote ").next().unwrap(),
        "printed as written"
    );
    let sections: Vec<&str> = md.split("\n## ").skip(1).collect();
    assert_eq!(sections.len(), 2, "{md}");
    assert!(sections[0].starts_with("Seen subjects, held-out images (test split)"));
    assert!(sections[1].starts_with("Unseen subjects, enrolled 5-shot"));
    for section in &sections {
        assert!(section.contains("| method | B4 | CIDEr | OSS | CLS (chance) | HC | Rep3 |"));
        for row in ROWS {
            assert!(
                section.contains(&format!("| {row} |")),
                "{row} in {section}"
            );
        }
        assert!(section.contains("| human (real descriptions) |"));
        assert!(section.contains("| DEPER w/o FiLM | not trained (run with --train-ablations) |"));
        assert!(!section.contains("| DEPER text-only | not trained"));
    }

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval.json")).unwrap()).unwrap();
    let sets = json["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[0]["setting"], "seen");
    assert_eq!(sets[1]["setting"], "unseen");
    for set in sets {
        let rows = set["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 9);
        for row in rows {
            let scored =
                ["generic", "trivial", "text-only", "full"].contains(&row["key"].as_str().unwrap());
            assert_eq!(row["status"] == "scored", scored, "{row}");
            for column in ["bleu4", "cider", "oss", "cls", "cls_chance", "hc"] {
                if scored {
                    let v = row[column].as_f64().unwrap();
                    assert!(v.is_finite() && v >= 0.0, "{column} of {row}");
                } else {
                    assert!(row[column].is_null(), "no invented {column} in {row}");
                }
            }
        }
        // The trivial baseline copies the subject's own words: it must beat chance CLS.
        let trivial = &rows[1];
        assert!(trivial["cls"].as_f64().unwrap() > trivial["cls_chance"].as_f64().unwrap());
    }
    let unseen = &sets[1];
    assert_eq!(unseen["subjects"], 2);
    assert_eq!(unseen["queries"], 10, "10 images, 5 support trials each");

    let png = image::open(out.join("eval.png")).unwrap().to_rgb8();
    assert_eq!(png.dimensions(), (1600, 800), "4 metrics x 2 settings");
    let lines = std::fs::read_to_string(out.join("descriptions.jsonl")).unwrap();
    assert!(lines.lines().count() >= 4 * (10 + 12));
}

#[test]
fn bad_model_or_data_paths_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-model");
    let stderr = failure(&scanscribe(&[
        "eval",
        "--model",
        &missing.display().to_string(),
        "--data",
        &dir.path().display().to_string(),
    ]));
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
    assert!(stderr.contains("not a trained model folder"), "{stderr}");

    let fake = dir.path().join("fake-model");
    for part in ["captioner", "deper"] {
        std::fs::create_dir_all(fake.join(part)).unwrap();
        std::fs::write(fake.join(part).join("model.safetensors"), b"").unwrap();
    }
    let no_data = dir.path().join("no-data");
    let stderr = failure(&scanscribe(&[
        "eval",
        "--model",
        &fake.display().to_string(),
        "--data",
        &no_data.display().to_string(),
    ]));
    assert!(stderr.contains(&no_data.display().to_string()), "{stderr}");
    assert!(stderr.contains("no records file"), "{stderr}");

    let stderr = failure(&scanscribe(&[
        "retrieve",
        "--data",
        &no_data.display().to_string(),
    ]));
    assert!(stderr.contains(&no_data.display().to_string()), "{stderr}");
}

#[test]
fn retrieve_writes_every_task_and_method_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cohort");
    cohort(&data);
    let run = |out: &str| {
        let out = dir.path().join(out);
        ok(&scanscribe(&[
            "retrieve",
            "--data",
            &data.display().to_string(),
            "--splits",
            "2",
            "--steps",
            "15",
            "--seed",
            "3",
            "--device",
            "cpu",
            "--out",
            &out.display().to_string(),
        ]));
        std::fs::read_to_string(out.join("retrieval.json")).unwrap()
    };
    let first = run("a");
    assert_eq!(first, run("b"), "same seed, same numbers");
    let json: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(json["candidates"], 15);
    assert_eq!(json["users"], 8);
    let tasks = json["tasks"].as_array().unwrap();
    let names: Vec<&str> = tasks.iter().map(|t| t["task"].as_str().unwrap()).collect();
    assert_eq!(names, ["g2t", "t2g"]);
    for task in tasks {
        let methods: Vec<&str> = task["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["method"].as_str().unwrap())
            .collect();
        assert_eq!(methods, ["content", "style", "combined"]);
        for m in task["methods"].as_array().unwrap() {
            // 8 users: 3 test users x 10 images per split, 2 splits.
            assert_eq!(m["queries"], 60);
            let rank = m["mean_rank"].as_f64().unwrap();
            assert!((1.0..=15.0).contains(&rank));
        }
        assert_eq!(task["weights"].as_array().unwrap().len(), 2);
    }
    let md = std::fs::read_to_string(dir.path().join("a/retrieval.md")).unwrap();
    assert!(md.contains("| g2t | combined |"), "{md}");
}
