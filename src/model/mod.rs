//! The learning side of scanscribe, in candle: the built-in captioner (a small image
//! encoder and a transformer decoder that can take a `<subj>` embedding in its
//! prompt), the DEPER persona encoder (dual-context encoder, subject extractor,
//! trajectory decoder, adapter), their training stages, enrollment of new subjects
//! and generation; and speech transcription (Whisper) for dictation.
//!
//! Owns: model definitions, checkpoints (Hugging Face folder layout: `config.json`,
//! `model.safetensors`, `tokenizer.json`), tokenizers, device choice. Must not touch
//! the UI or the recording side; it reads [`crate::dataset`] records only.

pub mod captioner;
pub mod checkpoint;
pub mod content_words;
pub mod deper;
pub mod device;
pub mod error;
pub mod finite_weights;
pub mod generate;
pub mod image_encoder;
pub mod images;
pub mod layers;
pub mod qwen2vl;
pub mod sampling;
pub mod speech;
pub mod tokenizer;
pub mod vlm;

pub use captioner::{Captioner, CaptionerConfig};
pub use device::{DeviceChoice, pick_device};
pub use error::ModelError;
pub use generate::{DescriptionModel, GenerateOptions, generate};
pub use tokenizer::TextTokenizer;
