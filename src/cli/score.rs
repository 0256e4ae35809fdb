//! `scanscribe score`: score generated descriptions against real ones (BLEU-1..4,
//! CIDEr-D, OSS, CLS, HC) and print a table, optionally writing the scores as JSON.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::metrics::captions::read_captions;
use crate::metrics::report::{Metric, ScoreReport, score};
use crate::metrics::wordnet::{DEFAULT_WORDNET_DIR, Lexicon};

/// Score generated descriptions against what the subjects really said
///
/// Both files are JSON lines of {"image": ..., "subject": ..., "description": ...}
/// (the dataset record format; other fields are ignored). The candidates file has one
/// line per (image, subject): the description generated for that subject. Each
/// candidate is scored against that subject's own real description of that image.
///
/// Example:
///   scanscribe score --candidates out/generated.jsonl --references data/test.jsonl \
///       --metrics bleu,cider,oss,cls,hc --json out/scores.json
///
/// Metrics (tokenization as the COCO caption evaluation: PTB tokens, lower case,
/// punctuation removed):
///   bleu   BLEU-1..4, corpus-level, exactly as pycocoevalcap (closest reference
///          length, its brevity penalty and smoothing constants).
///   cider  CIDEr-D exactly as pycocoevalcap: n-grams 1-4, tf-idf with document
///          frequencies from the references, Gaussian length penalty (sigma 6),
///          clipping, x10.
///   oss    Object Sequence Score: WordNet nouns of both descriptions in order, aligned
///          with Needleman-Wunsch (exact 1.0, same stem 0.8, synonym 0.6, mismatch 0,
///          gap -0.2), divided by the longer noun count, clamped to [0, 1]; mean over
///          pairs. Needs WordNet (Debian package wordnet-base).
///   cls    Can the subject be told apart: the share of candidates whose CIDEr-D best
///          match among the image's real descriptions is the subject's own (ties split
///          the credit). Printed with its chance level, 1 / describers per image.
///   hc     Human consistency: mean BLEU-4 of each real description against the other
///          subjects' descriptions of the same image (references only).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ScoreArgs {
    /// Generated descriptions, JSON lines, one per (image, subject).
    #[arg(long)]
    pub candidates: PathBuf,
    /// Real descriptions, JSON lines (a dataset records file works).
    #[arg(long)]
    pub references: PathBuf,
    /// Comma-separated metrics among bleu, cider, oss, cls, hc.
    #[arg(long, value_delimiter = ',', default_value = "bleu,cider,oss,cls,hc")]
    pub metrics: Vec<String>,
    /// Also write all scores, per pair included, as JSON to this file.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// The WordNet database folder (for OSS).
    #[arg(long, default_value = DEFAULT_WORDNET_DIR)]
    pub wordnet: PathBuf,
}

pub fn run(args: &ScoreArgs) -> anyhow::Result<()> {
    let mut metrics = Vec::new();
    for name in &args.metrics {
        let metric = Metric::parse(name).with_context(|| {
            format!("--metrics: unknown metric {name:?}; expected bleu, cider, oss, cls or hc")
        })?;
        if !metrics.contains(&metric) {
            metrics.push(metric);
        }
    }
    let candidates = read_captions(&args.candidates)?;
    let references = read_captions(&args.references)?;
    let lexicon = if metrics.contains(&Metric::Oss) {
        Some(Lexicon::load(&args.wordnet).context("OSS needs the WordNet database")?)
    } else {
        None
    };
    let report =
        score(&candidates, &references, &metrics, lexicon.as_ref()).with_context(|| {
            format!(
                "scoring {} against {}",
                args.candidates.display(),
                args.references.display()
            )
        })?;
    out!("{}", table(&report));
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
        outln!("wrote {}", path.display());
    }
    Ok(())
}

/// The printed summary.
pub fn table(report: &ScoreReport) -> String {
    let mut out = format!("{} (image, subject) pairs\n", report.segments);
    out += &format!("{:<9} {:>7}  note\n", "metric", "score");
    let mut row = |name: &str, value: f64, note: &str| {
        out += &format!("{name:<9} {value:>7.4}  {note}\n");
    };
    if let Some(b) = report.bleu {
        for (k, v) in b.iter().enumerate() {
            row(&format!("BLEU-{}", k + 1), *v, "corpus");
        }
    }
    if let Some(c) = report.cider {
        row("CIDEr-D", c, "corpus mean");
    }
    if let Some(o) = report.oss {
        row("OSS", o, "mean over pairs");
    }
    if let Some(c) = &report.cls {
        let note = format!(
            "chance {:.4} ({} pairs evaluated, {} skipped)",
            c.chance, c.evaluated, c.skipped
        );
        row("CLS", c.accuracy, &note);
    }
    if let Some(h) = &report.hc {
        let note = format!(
            "m-BLEU-4 of the references (corpus BLEU-4 {:.4}, {} descriptions)",
            h.corpus_bleu4, h.descriptions
        );
        row("HC", h.mean_bleu4, &note);
    }
    out
}
