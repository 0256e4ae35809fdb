#![allow(clippy::unwrap_used)]
//! Caption metrics speed: BLEU-1..4 + CIDEr-D of 5000 candidates against 5 references
//! each (already tokenized text, as pycocoevalcap's scorers take it), and the COCO
//! tokenizer on the same 30000 captions.
//!
//! Compare with the Python toolkit on the identical input:
//!   METRICS_BENCH_DUMP=/tmp/bench_captions.json cargo bench --bench metrics
//!   python3 benches/metrics_python_reference.py /tmp/bench_captions.json

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::Rng;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use scanscribe::metrics::bleu::bleu;
use scanscribe::metrics::cider::cider_d;
use scanscribe::metrics::ngrams::Corpus;
use scanscribe::metrics::tokenize::coco_tokenize;

const IMAGES: usize = 5000;
const REFERENCES: usize = 5;

const SUBJECTS: &[&str] = &[
    "man",
    "woman",
    "dog",
    "cat",
    "child",
    "boy",
    "girl",
    "horse",
    "bird",
    "player",
    "couple",
    "group of people",
    "skier",
    "surfer",
    "chef",
    "giraffe",
    "elephant",
    "zebra",
    "cow",
];
const OBJECTS: &[&str] = &[
    "umbrella",
    "frisbee",
    "surfboard",
    "skateboard",
    "kite",
    "bicycle",
    "laptop",
    "pizza",
    "cup of coffee",
    "tennis racket",
    "ball",
    "book",
    "phone",
    "bananas",
    "teddy bear",
    "sandwich",
    "bench",
    "train",
    "bus",
    "car",
    "boat",
    "clock",
    "vase",
    "table",
];
const VERBS: &[&str] = &[
    "holding",
    "riding",
    "carrying",
    "looking at",
    "playing with",
    "throwing",
    "eating",
    "walking with",
    "sitting next to",
    "standing near",
    "reaching for",
];
const PLACES: &[&str] = &[
    "on the beach",
    "in a park",
    "on a city street",
    "in the kitchen",
    "on a snowy hill",
    "in a living room",
    "near the water",
    "at the airport",
    "in front of a building",
    "under a tree",
    "on the grass",
    "by the road",
    "at a table",
];
const ADJECTIVES: &[&str] = &[
    "", "", "", "young", "old", "small", "large", "red", "white", "black", "brown", "happy",
];

/// A raw caption about a scene (the scene's words appear more often than others).
fn caption(rng: &mut ChaCha8Rng, scene: &[&str; 3]) -> String {
    let pick = |rng: &mut ChaCha8Rng, list: &[&'static str], favourite: &str| -> String {
        if rng.gen_bool(0.7) {
            favourite.to_owned()
        } else {
            list.choose(rng).unwrap().to_string()
        }
    };
    let adjective = ADJECTIVES.choose(rng).unwrap();
    let mut text = format!(
        "A {} {} {} a {} {}",
        adjective,
        pick(rng, SUBJECTS, scene[0]),
        VERBS.choose(rng).unwrap(),
        pick(rng, OBJECTS, scene[1]),
        pick(rng, PLACES, scene[2]),
    );
    if rng.gen_bool(0.4) {
        text += &format!(
            ", while a {} is {} a {}",
            scene[0],
            VERBS.choose(rng).unwrap(),
            scene[1]
        );
    }
    text + "."
}

/// `(candidate, references)` per image, raw text.
fn raw_captions() -> Vec<(String, Vec<String>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    (0..IMAGES)
        .map(|_| {
            let scene = [
                *SUBJECTS.choose(&mut rng).unwrap(),
                *OBJECTS.choose(&mut rng).unwrap(),
                *PLACES.choose(&mut rng).unwrap(),
            ];
            let candidate = caption(&mut rng, &scene);
            let references = (0..REFERENCES).map(|_| caption(&mut rng, &scene)).collect();
            (candidate, references)
        })
        .collect()
}

fn dump_for_python(tokenized: &[(String, Vec<String>)]) {
    let Ok(path) = std::env::var("METRICS_BENCH_DUMP") else {
        return;
    };
    let mut gts = serde_json::Map::new();
    let mut res = serde_json::Map::new();
    for (i, (candidate, references)) in tokenized.iter().enumerate() {
        gts.insert(i.to_string(), serde_json::json!(references));
        res.insert(i.to_string(), serde_json::json!([candidate]));
    }
    let json = serde_json::json!({ "gts": gts, "res": res });
    std::fs::write(&path, json.to_string()).unwrap();
    println!("wrote the tokenized input to {path}");
}

fn bench_metrics(c: &mut Criterion) {
    let raw = raw_captions();
    let tokenized: Vec<(String, Vec<String>)> = raw
        .iter()
        .map(|(candidate, references)| {
            (
                coco_tokenize(candidate),
                references.iter().map(|r| coco_tokenize(r)).collect(),
            )
        })
        .collect();
    dump_for_python(&tokenized);

    let mut group = c.benchmark_group("metrics");
    group.sample_size(20);
    let build = || Corpus::from_tokenized(tokenized.iter().map(|(c, r)| (c.as_str(), r.iter())));
    // The number to compare with pycocoevalcap: tokenized text in, both scores out.
    group.bench_function("bleu+cider 5000x5 from tokenized text", |b| {
        b.iter(|| {
            let corpus = build();
            black_box((bleu(&corpus).corpus[3], cider_d(&corpus).corpus))
        });
    });
    // Its parts.
    group.bench_function("corpus 5000x5 (interning, n-gram counts)", |b| {
        b.iter(|| black_box(build().len()));
    });
    let corpus = build();
    println!(
        "scanscribe on this input: BLEU-4 {:.6}, CIDEr-D {:.6} (compare with the Python script)",
        bleu(&corpus).corpus[3],
        cider_d(&corpus).corpus
    );
    group.bench_function("bleu 5000x5", |b| {
        b.iter(|| black_box(bleu(&corpus).corpus[3]))
    });
    group.bench_function("cider-d 5000x5", |b| {
        b.iter(|| black_box(cider_d(&corpus).corpus))
    });
    group.bench_function("coco_tokenize 30000 captions", |b| {
        b.iter(|| {
            let mut words = 0;
            for (candidate, references) in &raw {
                words += coco_tokenize(candidate).len();
                for r in references {
                    words += coco_tokenize(r).len();
                }
            }
            black_box(words)
        });
    });
    group.finish();
}

criterion_group!(benches, bench_metrics);
criterion_main!(benches);
