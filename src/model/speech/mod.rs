//! Local speech transcription for dictations: Whisper on candle.
//!
//! - [`mel`]: the log-mel front end, computed here.
//! - [`tiny`]: a tiny random Whisper for tests and demos.
//! - [`tokenizer`]: byte-level BPE decoding from `tokenizer.json`.
//! - [`load`]: a Hugging Face–layout model folder (`config.json`,
//!   `model.safetensors`, `tokenizer.json`) with checked tensor names and shapes.
//! - [`text_decoder`]: the text decoder with key/value caches.
//! - [`decode`]: greedy decoding over 30 s windows ([`WhisperModel`]).
//! - [`transcriber`]: a worker thread with a channel API, so the UI never waits.
//! - [`ct2`] and [`import`]: reading CTranslate2 `model.bin` folders and converting
//!   them to the Hugging Face layout.
//! - [`wer`]: word error rate, to score transcripts.
//!
//! This module owns speech-to-text only; it must not touch the UI, record audio or
//! write sessions.

pub mod ct2;
pub mod decode;
pub mod import;
#[cfg(test)]
mod import_tests;
pub mod load;
pub mod mel;
pub mod text_decoder;
pub mod tiny;
pub mod tokenizer;
pub mod transcriber;
pub mod wer;

use std::path::PathBuf;

pub use decode::{DecodeOptions, Transcript, WhisperModel};
pub use transcriber::{Transcriber, TranscriptionResult};

/// Everything that can go wrong loading a Whisper model or transcribing with it.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("model folder {dir} has no {file}: {hint}")]
    MissingFile {
        dir: PathBuf,
        file: &'static str,
        hint: &'static str,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: cannot read weights: {message}")]
    Weights { path: PathBuf, message: String },
    #[error("{path}: tensor `{name}` is missing (expected shape {expected:?})")]
    MissingTensor {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
    },
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    TensorShape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{path}: tokenizer has no `{token}` token, which Whisper decoding needs")]
    MissingToken { path: PathBuf, token: String },
    #[error(transparent)]
    Tokenizer(#[from] tokenizer::TokenizerError),
    #[error(transparent)]
    Wav(#[from] crate::audio::wav::WavError),
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("the transcription model is not available: {0}")]
    ModelUnavailable(String),
    #[error("the transcription worker stopped")]
    WorkerStopped,
}
