#![allow(clippy::unwrap_used)]
//! Parity with the COCO caption evaluation toolkit: BLEU-1..4 and CIDEr-D per image
//! and for the corpus, and the tokenizer, against `tests/fixtures/metrics/reference.json`
//! (written by `make_reference.py` with pycocoevalcap 1.2 and its Java tokenizer).

use scanscribe::metrics::bleu::bleu;
use scanscribe::metrics::cider::cider_d;
use scanscribe::metrics::ngrams::Corpus;
use scanscribe::metrics::tokenize::coco_tokenize;
use serde::Deserialize;

const TOLERANCE: f64 = 1e-6;

#[derive(Deserialize)]
struct Fixture {
    corpus: CorpusScores,
    images: Vec<Image>,
    tokenizer_cases: Vec<TokenizerCase>,
}

#[derive(Deserialize)]
struct CorpusScores {
    bleu: [f64; 4],
    cider: f64,
}

#[derive(Deserialize)]
struct Image {
    id: String,
    candidate_raw: String,
    references_raw: Vec<String>,
    candidate: String,
    references: Vec<String>,
    bleu: [f64; 4],
    cider: f64,
}

#[derive(Deserialize)]
struct TokenizerCase {
    raw: String,
    java: String,
}

fn fixture() -> Fixture {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Compares our scores on `corpus` with the toolkit's, naming the worst image.
fn assert_scores_match(fixture: &Fixture, corpus: &Corpus, what: &str) {
    let b = bleu(corpus);
    let c = cider_d(corpus);
    let mut worst = (0.0f64, String::new());
    for (i, image) in fixture.images.iter().enumerate() {
        for k in 0..4 {
            let d = (b.per_segment[i][k] - image.bleu[k]).abs();
            if d > worst.0 {
                worst = (d, format!("{} BLEU-{}", image.id, k + 1));
            }
        }
        let d = (c.per_segment[i] - image.cider).abs();
        if d > worst.0 {
            worst = (d, format!("{} CIDEr-D", image.id));
        }
    }
    for k in 0..4 {
        let d = (b.corpus[k] - fixture.corpus.bleu[k]).abs();
        assert!(d < TOLERANCE, "{what}: corpus BLEU-{} off by {d}", k + 1);
    }
    let d = (c.corpus - fixture.corpus.cider).abs();
    assert!(d < TOLERANCE, "{what}: corpus CIDEr-D off by {d}");
    assert!(
        worst.0 < TOLERANCE,
        "{what}: largest difference {} at {}",
        worst.0,
        worst.1
    );
    println!("{what}: largest per-image difference {:.3e}", worst.0);
}

#[test]
fn bleu_and_cider_match_pycocoevalcap_on_the_same_tokens() {
    let fixture = fixture();
    assert!(
        fixture.images.len() >= 200,
        "the fixture should be several hundred images"
    );
    let corpus = Corpus::from_tokenized(
        fixture
            .images
            .iter()
            .map(|im| (im.candidate.as_str(), im.references.iter())),
    );
    assert_scores_match(&fixture, &corpus, "tokenized by Java");
}

#[test]
fn our_tokenizer_reproduces_the_java_tokens_of_every_fixture_caption() {
    let fixture = fixture();
    let mut mismatches = Vec::new();
    for image in &fixture.images {
        let pairs = std::iter::once((&image.candidate_raw, &image.candidate))
            .chain(image.references_raw.iter().zip(&image.references));
        for (raw, java) in pairs {
            let ours = coco_tokenize(raw);
            if &ours != java {
                mismatches.push(format!("{raw:?}\n  java: {java:?}\n  ours: {ours:?}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn scores_from_raw_captions_match_the_toolkit_end_to_end() {
    let fixture = fixture();
    let corpus = Corpus::from_tokenized(fixture.images.iter().map(|im| {
        (
            coco_tokenize(&im.candidate_raw),
            im.references_raw.iter().map(|r| coco_tokenize(r)),
        )
    }));
    assert_scores_match(&fixture, &corpus, "tokenized by scanscribe");
}

/// Tricky sentences where our tokenizer is known to differ from Stanford's, and why.
/// Documented in `src/metrics/tokenize.rs`.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "2+2=4 and -3 degrees and <b>bold</b>",
        "SGML tags are split here",
    ),
    (
        "left/isn't and dogs/1.5kg",
        "slash compounds with a clitic or a decimal number",
    ),
];

#[test]
fn our_tokenizer_agrees_with_java_on_tricky_text_except_the_documented_cases() {
    let fixture = fixture();
    let mut mismatches = Vec::new();
    for case in &fixture.tokenizer_cases {
        let ours = coco_tokenize(&case.raw);
        let known = KNOWN_DIFFERENCES.iter().any(|(raw, _)| *raw == case.raw);
        if known {
            assert_ne!(
                ours, case.java,
                "{:?} now agrees: remove it from the list",
                case.raw
            );
        } else if ours != case.java {
            mismatches.push(format!(
                "{:?}\n  java: {:?}\n  ours: {ours:?}",
                case.raw, case.java
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
