#![allow(clippy::unwrap_used)]
//! Qwen2-VL generation speed with the tiny random model of the parity fixture
//! (`tests/fixtures/qwen2vl/model`: 2 language layers 64 wide, a 97-token prompt with
//! 12 image tokens): tokens per second of greedy and beam-3 decoding with the
//! key/value cache against recomputing the whole sequence every step.
//!
//! Run: `cargo bench --bench qwen2vl` (release), or `cargo bench --profile dev --bench qwen2vl`
//! to skip the long release build (candle and gemm are optimized in dev too).

use std::path::Path;

use candle_core::Device;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scanscribe::model::GenerateOptions;
use scanscribe::model::generate::DescriptionModel;
use scanscribe::model::qwen2vl::Qwen2VlDescriber;

fn bench(c: &mut Criterion) {
    let device = Device::Cpu;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl");
    let mut describer = Qwen2VlDescriber::load(&dir.join("model"), &device).unwrap();
    let image = describer
        .load_image(&dir.join("image.png"), &device)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let tokens = describer.encode_image(&image).unwrap();
    for beam_width in [1, 3] {
        let options = GenerateOptions {
            beam_width,
            max_tokens: 32,
            ..GenerateOptions::default()
        };
        let mut group = c.benchmark_group(format!("qwen2vl_tiny_beam{beam_width}"));
        for use_cache in [true, false] {
            describer.use_cache = use_cache;
            // Random weights rarely stop early: count the tokens one run produces.
            let generated = describer
                .generate_ids(&tokens, None, &options)
                .unwrap()
                .len();
            group.throughput(Throughput::Elements(generated.max(1) as u64));
            let name = if use_cache { "kv_cache" } else { "no_cache" };
            group.bench_function(name, |b| {
                b.iter(|| describer.generate_ids(&tokens, None, &options).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
