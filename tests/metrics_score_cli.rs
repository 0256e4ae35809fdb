#![allow(clippy::unwrap_used)]
//! `scanscribe score` end to end: JSON-lines files in, table and JSON out, and the
//! numbers are those of the library on the same pairs.

use std::path::Path;
use std::process::Command;

use scanscribe::metrics::bleu::bleu;
use scanscribe::metrics::cider::cider_d;
use scanscribe::metrics::ngrams::Corpus;
use scanscribe::metrics::tokenize::coco_tokenize;

const REFERENCES: &[(&str, &str, &str)] = &[
    (
        "a.png",
        "s1",
        "A man in a red shirt walks his dog in the park.",
    ),
    (
        "a.png",
        "s2",
        "Green grass, tall trees and a dog on a leash.",
    ),
    (
        "a.png",
        "s3",
        "Someone walking a small brown dog near some trees.",
    ),
    (
        "b.png",
        "s1",
        "A kitchen with a white fridge and a wooden table.",
    ),
    (
        "b.png",
        "s2",
        "Fruit in a bowl on the table, a fridge behind.",
    ),
];

const CANDIDATES: &[(&str, &str, &str)] = &[
    (
        "a.png",
        "s1",
        "A man in a red shirt walking a dog in a park.",
    ),
    (
        "a.png",
        "s2",
        "A dog on a leash on green grass under trees.",
    ),
    ("a.png", "s3", "A man walks his dog."),
    ("b.png", "s1", "A white fridge and a table in a kitchen."),
    ("b.png", "s2", "A bowl of fruit on a table."),
];

fn write_jsonl(path: &Path, rows: &[(&str, &str, &str)]) {
    let lines: Vec<String> = rows
        .iter()
        .map(|(image, subject, description)| {
            serde_json::json!({
                "image": image, "subject": subject, "description": description,
                "trajectory": [{"box": [0.1, 0.1, 0.2, 0.2], "duration_ms": 250.0}],
            })
            .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn scanscribe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scanscribe"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn scores_pairs_against_each_subjects_own_description() {
    let dir = tempfile::tempdir().unwrap();
    let (c, r, out) = (
        dir.path().join("c.jsonl"),
        dir.path().join("r.jsonl"),
        dir.path().join("scores.json"),
    );
    write_jsonl(&c, CANDIDATES);
    write_jsonl(&r, REFERENCES);
    let output = scanscribe(&[
        "score",
        "--candidates",
        c.to_str().unwrap(),
        "--references",
        r.to_str().unwrap(),
        "--metrics",
        "bleu,cider,cls,hc",
        "--json",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("BLEU-4") && stdout.contains("CIDEr-D"),
        "{stdout}"
    );
    // 3 describers of a.png, 2 of b.png: chance = (3·1/3 + 2·1/2) / 5.
    assert!(
        stdout.contains("chance 0.4000 (5 pairs evaluated, 0 skipped)"),
        "{stdout}"
    );
    assert!(!stdout.contains("OSS"), "OSS was not asked for:\n{stdout}");

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let corpus = Corpus::from_tokenized(
        CANDIDATES
            .iter()
            .zip(REFERENCES)
            .map(|(c, r)| (coco_tokenize(c.2), [coco_tokenize(r.2)])),
    );
    let expected_bleu = bleu(&corpus);
    let expected_cider = cider_d(&corpus);
    let close = |v: &serde_json::Value, x: f64| (v.as_f64().unwrap() - x).abs() < 1e-12;
    assert!(close(&json["bleu"][3], expected_bleu.corpus[3]), "{json}");
    assert!(close(&json["cider"], expected_cider.corpus), "{json}");
    assert!(close(
        &json["per_segment"][2]["cider"],
        expected_cider.per_segment[2]
    ));
    assert_eq!(json["per_segment"][2]["subject"], "s3");
    assert_eq!(json["cls"]["evaluated"], 5);
    assert_eq!(json["hc"]["descriptions"], 5);
}

#[test]
fn a_candidate_without_its_subjects_description_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (c, r) = (dir.path().join("c.jsonl"), dir.path().join("r.jsonl"));
    write_jsonl(&c, &[("a.png", "s9", "A dog.")]);
    write_jsonl(&r, REFERENCES);
    let output = scanscribe(&[
        "score",
        "--candidates",
        c.to_str().unwrap(),
        "--references",
        r.to_str().unwrap(),
        "--metrics",
        "bleu",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("\"s9\"") && stderr.contains("a.png"),
        "{stderr}"
    );
}

#[test]
fn oss_runs_with_wordnet_when_installed() {
    if !Path::new("/usr/share/wordnet/index.noun").exists() {
        println!("note: /usr/share/wordnet is missing (Debian package wordnet-base); skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (c, r) = (dir.path().join("c.jsonl"), dir.path().join("r.jsonl"));
    write_jsonl(&c, CANDIDATES);
    write_jsonl(&r, REFERENCES);
    let output = scanscribe(&[
        "score",
        "--candidates",
        c.to_str().unwrap(),
        "--references",
        r.to_str().unwrap(),
        "--metrics",
        "oss",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let oss: f64 = stdout
        .lines()
        .find(|l| l.starts_with("OSS"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    // s1 on a.png names man, shirt, dog, park in the same order as the reference.
    assert!(oss > 0.3 && oss < 1.0, "{stdout}");
}
