//! `scanscribe models`: manage model folders (conversion to the layout candle loads).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::model::speech::import::import_ct2_whisper;

/// Manage model folders (conversion to the layout scanscribe loads)
///
/// Examples:
///   scanscribe models import-ct2 --whisper ~/faster-whisper-tiny.en --out models/whisper-tiny.en
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    ImportCt2(ImportCt2Args),
}

/// Convert a CTranslate2 (faster-whisper) Whisper folder to the Hugging Face layout
///
/// Reads model.bin, config.json and tokenizer.json (or vocabulary.txt) from the
/// source folder and writes config.json, model.safetensors and tokenizer.json to
/// --out, ready for `scanscribe transcribe --model`. Weights keep their precision
/// (float16 stays float16); int8 weights are dequantized to float32.
///
/// Examples:
///   scanscribe models import-ct2 --whisper faster-whisper-tiny.en --out models/whisper-tiny.en
///   scanscribe transcribe --model models/whisper-tiny.en dictation.wav
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportCt2Args {
    /// The CTranslate2 Whisper folder (with model.bin).
    #[arg(long)]
    pub whisper: PathBuf,
    /// Where to write the converted model (created if needed).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: &ModelsArgs) -> anyhow::Result<()> {
    match &args.command {
        ModelsCommand::ImportCt2(args) => {
            let summary = import_ct2_whisper(&args.whisper, &args.out).with_context(|| {
                format!(
                    "converting the CTranslate2 model in {}",
                    args.whisper.display()
                )
            })?;
            outln!(
                "converted Whisper (d_model {}, {} encoder + {} decoder layers, {} tokens, {} tensors) to {}",
                summary.d_model,
                summary.encoder_layers,
                summary.decoder_layers,
                summary.vocab_size,
                summary.tensor_count,
                args.out.display()
            );
            Ok(())
        }
    }
}
