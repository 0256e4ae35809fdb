//! Scoring generated descriptions against real ones, every metric at once, as
//! `scanscribe score` reports them.
//!
//! The unit is the (image, subject) **segment**: the candidate is the generated
//! description for that subject on that image, and its one reference is that
//! subject's own real description of the image (personalized scoring, as in the
//! DEPER paper). BLEU and CIDEr-D are corpus scores over the segments (CIDEr-D's
//! document frequencies come from all the real descriptions of the scored segments);
//! OSS is the mean over segments; CLS compares each candidate with every real
//! description of its image ([`super::personal::cls`]); HC uses the real descriptions
//! only ([`super::personal::human_consistency`]).

use serde::Serialize;

use super::bleu::bleu;
use super::captions::CaptionRecord;
use super::cider::cider_d;
use super::ngrams::{Corpus, FastMap};
use super::nouns::NounExtractor;
use super::oss::{OssWeights, object_sequence_score};
use super::personal::{ClsScore, Described, HcScore, cls, human_consistency};
use super::tokenize::coco_tokenize;
use super::wordnet::Lexicon;

/// A metric `scanscribe score` can compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Bleu,
    Cider,
    Oss,
    Cls,
    Hc,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::Bleu,
        Metric::Cider,
        Metric::Oss,
        Metric::Cls,
        Metric::Hc,
    ];

    /// Parses `bleu`, `cider`, `oss`, `cls`, `hc` (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "bleu" => Some(Metric::Bleu),
            "cider" | "cider-d" => Some(Metric::Cider),
            "oss" => Some(Metric::Oss),
            "cls" => Some(Metric::Cls),
            "hc" => Some(Metric::Hc),
            _ => None,
        }
    }
}

/// Scores of one segment (metrics not asked for are absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentScores {
    pub image: String,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bleu: Option<[f64; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cider: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss: Option<f64>,
}

/// Everything `scanscribe score` prints and writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreReport {
    pub segments: usize,
    /// Corpus BLEU-1..4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bleu: Option<[f64; 4]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cider: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oss: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cls: Option<ClsScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hc: Option<HcScore>,
    pub per_segment: Vec<SegmentScores>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    #[error(
        "{count} candidate(s) have no real description by the same subject of the same \
         image, e.g. image {image:?}, subject {subject:?}; expected a reference line for \
         every (image, subject) of the candidates"
    )]
    MissingReference {
        count: usize,
        image: String,
        subject: String,
    },
    #[error("no candidates to score")]
    Empty,
    #[error("OSS needs the WordNet lexicon; none was given")]
    NoLexicon,
}

fn described(records: &[CaptionRecord]) -> Vec<Described<'_>> {
    records
        .iter()
        .map(|r| Described {
            image: &r.image,
            subject: &r.subject,
            text: &r.description,
        })
        .collect()
}

/// Scores `candidates` against `references` with the chosen metrics. `lexicon` is
/// needed for OSS only.
pub fn score(
    candidates: &[CaptionRecord],
    references: &[CaptionRecord],
    metrics: &[Metric],
    lexicon: Option<&Lexicon>,
) -> Result<ScoreReport, ScoreError> {
    if candidates.is_empty() {
        return Err(ScoreError::Empty);
    }
    let wants = |m: Metric| metrics.contains(&m);
    let own: FastMap<(&str, &str), &CaptionRecord> = references
        .iter()
        .map(|r| ((r.image.as_str(), r.subject.as_str()), r))
        .collect();
    let missing: Vec<&CaptionRecord> = candidates
        .iter()
        .filter(|c| !own.contains_key(&(c.image.as_str(), c.subject.as_str())))
        .collect();
    if let Some(first) = missing.first() {
        return Err(ScoreError::MissingReference {
            count: missing.len(),
            image: first.image.clone(),
            subject: first.subject.clone(),
        });
    }
    let pairs: Vec<(&CaptionRecord, &CaptionRecord)> = candidates
        .iter()
        .map(|c| (c, own[&(c.image.as_str(), c.subject.as_str())]))
        .collect();

    let mut per_segment: Vec<SegmentScores> = pairs
        .iter()
        .map(|(c, _)| SegmentScores {
            image: c.image.clone(),
            subject: c.subject.clone(),
            bleu: None,
            cider: None,
            oss: None,
        })
        .collect();
    let mut report = ScoreReport {
        segments: pairs.len(),
        bleu: None,
        cider: None,
        oss: None,
        cls: None,
        hc: None,
        per_segment: Vec::new(),
    };

    if wants(Metric::Bleu) || wants(Metric::Cider) {
        let corpus = Corpus::from_tokenized(pairs.iter().map(|(c, r)| {
            (
                coco_tokenize(&c.description),
                [coco_tokenize(&r.description)],
            )
        }));
        if wants(Metric::Bleu) {
            let b = bleu(&corpus);
            for (segment, s) in per_segment.iter_mut().zip(b.per_segment) {
                segment.bleu = Some(s);
            }
            report.bleu = Some(b.corpus);
        }
        if wants(Metric::Cider) {
            let c = cider_d(&corpus);
            for (segment, s) in per_segment.iter_mut().zip(c.per_segment) {
                segment.cider = Some(s);
            }
            report.cider = Some(c.corpus);
        }
    }
    if wants(Metric::Oss) {
        let lexicon = lexicon.ok_or(ScoreError::NoLexicon)?;
        let extractor = NounExtractor::new(lexicon);
        let weights = OssWeights::default();
        let mut total = 0.0;
        for (segment, (c, r)) in per_segment.iter_mut().zip(&pairs) {
            let oss = object_sequence_score(
                &extractor.nouns(&c.description),
                &extractor.nouns(&r.description),
                lexicon,
                &weights,
            );
            total += oss.score;
            segment.oss = Some(oss.score);
        }
        report.oss = Some(total / pairs.len() as f64);
    }
    if wants(Metric::Cls) {
        report.cls = Some(cls(&described(candidates), &described(references)));
    }
    if wants(Metric::Hc) {
        report.hc = Some(human_consistency(&described(references)));
    }
    report.per_segment = per_segment;
    Ok(report)
}
