#![allow(clippy::unwrap_used)]
//! DEPER speed on the `small` preset (the CPU demo sizes), random weights:
//! a stage-1 training step (P×K = 4×4 trials), enrollment (z_s of 5 trials, mean),
//! and description generation (greedy and beam 3, with and without the key/value
//! cache, tokens per second).
//!
//! Run: `cargo bench --bench deper` (release), or `cargo bench --profile dev --bench deper`
//! to skip the long release build (candle and gemm are optimized in dev too).

use candle_core::{DType, Device, Tensor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scanscribe::model::GenerateOptions;
use scanscribe::model::captioner::Captioner;
use scanscribe::model::checkpoint::trainable_vars;
use scanscribe::model::deper::data::{FeatureBank, Trials, deper_inputs, saliency_maps};
use scanscribe::model::deper::optim::AdamW;
use scanscribe::model::deper::synthetic::{SyntheticSpec, write_synthetic};
use scanscribe::model::deper::train::TrainConfig;
use scanscribe::model::deper::{Deper, STAGE1_FROZEN};
use scanscribe::model::generate::{
    BuiltinDescriber, DescriptionModel, generate, generate_uncached,
};
use scanscribe::model::tokenizer::TextTokenizer;

fn bench(c: &mut Criterion) {
    let device = Device::Cpu;
    let dir = tempfile::tempdir().unwrap();
    let records = write_synthetic(dir.path(), &SyntheticSpec::default()).unwrap();
    let trials = Trials {
        root: dir.path().to_path_buf(),
        records,
    };
    let cfg = TrainConfig::preset("small").unwrap();
    let mut texts: Vec<&str> = trials
        .records
        .iter()
        .map(|r| r.description.as_str())
        .collect();
    texts.push(&cfg.captioner.prompt);
    let tokenizer = TextTokenizer::train(&texts, cfg.vocab_size).unwrap();
    let mut ccfg = cfg.captioner.clone();
    ccfg.vocab_size = tokenizer.vocab_size();
    let (captioner, _) = Captioner::build(&ccfg, true, &device).unwrap();
    let mut dcfg = cfg.deper.clone();
    dcfg.vocab_size = ccfg.vocab_size;
    dcfg.image_width = ccfg.image.width();
    dcfg.image_tokens = ccfg.image.tokens();
    dcfg.describer_width = ccfg.width;
    dcfg.subjects = (0..8).map(|i| format!("s{i:02}")).collect();
    let (deper, store) = Deper::build(&dcfg, STAGE1_FROZEN, &device).unwrap();
    let mut bank = FeatureBank::default();
    bank.add(&trials, &captioner, &device).unwrap();
    let saliency = saliency_maps(&trials.records, dcfg.saliency_grid);
    // 4 subjects × 4 trials (subject j's trials are j*20 .. j*20+19).
    let batch: Vec<usize> = (0..16).map(|i| (i / 4) * 20 + i % 4).collect();
    let labels: Vec<u32> = batch.iter().map(|&i| (i / 20) as u32).collect();
    let mut opt = AdamW::new(trainable_vars(&store), 1e-4).unwrap();

    c.bench_function("stage1_step_small_16_trials", |b| {
        b.iter(|| {
            let inputs = deper_inputs(
                &trials,
                &batch,
                &bank,
                &tokenizer,
                Some(&saliency),
                &dcfg,
                &device,
            )
            .unwrap();
            let loss = deper.stage1_loss(&inputs, &labels).unwrap();
            opt.backward_step(&loss.total).unwrap();
        })
    });

    let support: Vec<usize> = (160..165).collect();
    c.bench_function("enroll_5_trials_small", |b| {
        b.iter(|| {
            // Includes encoding the 5 images with the frozen image encoder.
            let mut bank = FeatureBank::default();
            let chosen = Trials {
                root: trials.root.clone(),
                records: support.iter().map(|&i| trials.records[i].clone()).collect(),
            };
            bank.add(&chosen, &captioner, &device).unwrap();
            let inputs = deper_inputs(
                &trials,
                &support,
                &bank,
                &tokenizer,
                Some(&saliency),
                &dcfg,
                &device,
            )
            .unwrap();
            let (_, z) = deper.subject_embedding(&inputs).unwrap();
            z.mean(0).unwrap().to_vec1::<f32>().unwrap()
        })
    });

    let describer = BuiltinDescriber {
        model: captioner.clone(),
        tokenizer: tokenizer.clone(),
    };
    let image = Tensor::zeros(
        (1, 3, ccfg.image.image_size, ccfg.image.image_size),
        DType::F32,
        &device,
    )
    .unwrap();
    let tokens = describer.encode_image(&image).unwrap();
    let subj = Tensor::zeros((1, ccfg.width), DType::F32, &device).unwrap();
    // Random weights rarely emit <eos>: count the tokens one run produces.
    let options = GenerateOptions {
        beam_width: 1,
        max_tokens: 32,
        ..GenerateOptions::default()
    };
    let (_, generated) = generate(&describer, &tokens, Some(&subj), &options).unwrap();
    let mut group = c.benchmark_group("generation_small");
    group.throughput(Throughput::Elements(generated.max(1) as u64));
    group.bench_function("greedy_tokens", |b| {
        b.iter(|| generate(&describer, &tokens, Some(&subj), &options).unwrap())
    });
    group.bench_function("greedy_tokens_uncached", |b| {
        b.iter(|| generate_uncached(&describer, &tokens, Some(&subj), &options).unwrap())
    });
    let beam = GenerateOptions {
        beam_width: 3,
        ..options
    };
    group.bench_function("beam3_tokens", |b| {
        b.iter(|| generate(&describer, &tokens, Some(&subj), &beam).unwrap())
    });
    group.bench_function("beam3_tokens_uncached", |b| {
        b.iter(|| generate_uncached(&describer, &tokens, Some(&subj), &beam).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
