#![allow(clippy::unwrap_used)]
//! Transcription speed: the log-mel front end of one 30 s window, and a whole 10 s
//! clip (mel, encoder, greedy decoding) with the real Whisper tiny.en. The real-time
//! factor is the clip time divided by 10 s.
//!
//! Needs the model cache from `scripts/fetch-test-models.sh`; without it only the
//! mel bench runs. Run: `cargo bench --bench transcription` (release), or
//! `cargo bench --profile dev --bench transcription` to reuse the dev build, where
//! candle and gemm are optimised too (BUILD-NOTES.md) and the numbers are close.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use scanscribe::model::speech::decode::read_wav_16k_mono;
use scanscribe::model::speech::import::import_ct2_whisper;
use scanscribe::model::speech::mel::MelFrontEnd;
use scanscribe::model::speech::{DecodeOptions, WhisperModel};

/// 10 s of speech: the committed fixture sentences, alternating, 0.5 s apart.
fn ten_second_clip() -> Vec<f32> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/speech");
    let sentences = [
        read_wav_16k_mono(&fixtures.join("walking_on_the_beach_16k.wav")).unwrap(),
        read_wav_16k_mono(&fixtures.join("red_circle_16k.wav")).unwrap(),
    ];
    let mut clip = Vec::new();
    for sentence in sentences.iter().cycle() {
        if clip.len() >= 160_000 {
            break;
        }
        clip.extend_from_slice(sentence);
        clip.extend(std::iter::repeat_n(0.0, 8_000));
    }
    clip.truncate(160_000);
    clip
}

fn bench_transcription(c: &mut Criterion) {
    let clip = ten_second_clip();
    let front_end = MelFrontEnd::new(80, &candle_core::Device::Cpu).unwrap();
    c.bench_function("log-mel of a 30 s window", |b| {
        b.iter(|| front_end.window_features(&clip).unwrap())
    });

    let cache = std::env::var_os("SCANSCRIBE_TEST_MODELS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-models"))
        .join("whisper-tiny.en-ct2");
    if !cache.join("model.bin").is_file() {
        eprintln!(
            "skipping the Whisper bench: no model at {}; run scripts/fetch-test-models.sh",
            cache.display()
        );
        return;
    }
    let converted = tempfile::tempdir().unwrap();
    import_ct2_whisper(&cache, converted.path()).unwrap();
    let mut model = WhisperModel::load(converted.path(), DecodeOptions::default()).unwrap();
    let transcript = model.transcribe(&clip).unwrap();
    eprintln!("10 s clip: {:?}", transcript.text);
    let mut group = c.benchmark_group("whisper tiny.en");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("transcribe a 10 s clip", |b| {
        b.iter(|| model.transcribe(&clip).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_transcription);
criterion_main!(benches);
