//! `scanscribe transcribe`: transcribe WAV recordings with a local Whisper model.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use crate::model::speech::{DecodeOptions, WhisperModel, decode::read_wav_16k_mono};

/// Transcribe WAV recordings with a local Whisper model
///
/// Reads WAV files of any sample rate or channel count; the model is a folder in
/// the Hugging Face layout (config.json, model.safetensors, tokenizer.json).
///
/// Prints one line per file: the text, or with --verbose also the duration, the
/// time taken and the real-time factor. Recordings over 30 s are transcribed in
/// windows cut at quiet moments.
///
/// Examples:
///   scanscribe transcribe --model models/whisper-tiny.en dictation.wav
///   scanscribe transcribe --model models/whisper-small --language de a.wav b.wav
///   scanscribe models import-ct2 --whisper faster-whisper-tiny.en --out models/whisper-tiny.en
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct TranscribeArgs {
    /// The model folder (use `scanscribe models import-ct2` to convert a
    /// CTranslate2 / faster-whisper model).
    #[arg(long)]
    pub model: PathBuf,
    /// Spoken language for multilingual models (ignored by `.en` models).
    #[arg(long, default_value = "en")]
    pub language: String,
    /// Most tokens generated per 30 s window.
    #[arg(long, default_value_t = 224)]
    pub max_tokens: usize,
    /// Also print duration, time taken and real-time factor per file.
    #[arg(long, short)]
    pub verbose: bool,
    /// The recordings.
    #[arg(required = true)]
    pub audio: Vec<PathBuf>,
}

pub fn run(args: &TranscribeArgs) -> anyhow::Result<()> {
    let options = DecodeOptions {
        language: args.language.clone(),
        max_new_tokens: args.max_tokens,
        ..DecodeOptions::default()
    };
    let started = Instant::now();
    let mut model = WhisperModel::load(&args.model, options)
        .with_context(|| format!("loading the Whisper model in {}", args.model.display()))?;
    if args.verbose {
        eprintln!(
            "loaded {} in {:.2} s",
            args.model.display(),
            started.elapsed().as_secs_f64()
        );
    }
    for path in &args.audio {
        let samples = read_wav_16k_mono(path)?;
        let started = Instant::now();
        let transcript = model
            .transcribe(&samples)
            .with_context(|| format!("transcribing {}", path.display()))?;
        let elapsed_s = started.elapsed().as_secs_f64();
        if args.verbose {
            let duration_s = transcript.audio_duration_ms / 1000.0;
            outln!(
                "{}: {:.2} s of audio in {:.2} s (real-time factor {:.3})",
                path.display(),
                duration_s,
                elapsed_s,
                elapsed_s / duration_s.max(1e-9)
            );
        }
        outln!("{}", transcript.text);
    }
    Ok(())
}
