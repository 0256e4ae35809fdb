//! Scoring a row's descriptions and the result tables in Markdown and JSON.
//!
//! Columns: corpus BLEU-4 and CIDEr-D against the subject's own real description,
//! mean OSS, CLS with its chance level (see [`crate::metrics::personal`]), and HC: the
//! mean BLEU-4 of the row's description against the *other* subjects' real
//! descriptions of the same image. For the closing `human` row HC is the paper's human
//! consistency (real descriptions against each other); a personalized row should
//! score clearly higher against its own subject (B4) than against the others (HC).

use serde::Serialize;

use super::EvalError;
use super::grounding::row_scores;
use super::methods::Method;
use super::sets::Setting;
use crate::metrics::bleu::bleu;
use crate::metrics::captions::CaptionRecord;
use crate::metrics::grounding::{GroundingScorer, GroundingScores};
use crate::metrics::ngrams::{Corpus, FastMap};
use crate::metrics::personal::{Described, human_consistency};
use crate::metrics::repetition::share_repeating_trigram;
use crate::metrics::report::{Metric, score};
use crate::metrics::tokenize::coco_tokenize;
use crate::metrics::wordnet::Lexicon;

/// One row of a table; the scores are absent when the row's model is not trained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    /// `scored`, or why not (e.g. "not trained (run with --train-ablations)").
    pub status: String,
    pub bleu4: Option<f64>,
    pub cider: Option<f64>,
    pub oss: Option<f64>,
    pub cls: Option<f64>,
    pub cls_chance: Option<f64>,
    pub hc: Option<f64>,
    /// Share of the descriptions that repeat a three-word sequence.
    pub rep3: Option<f64>,
    /// Share of object mentions not in the image (CHAIR-i).
    pub hallucination: Option<f64>,
    /// Share of the objects the subject named that the description names too.
    pub object_recall: Option<f64>,
    /// Kendall τ of the order of mentions against the subject's.
    pub order_tau: Option<f64>,
}

pub const SCORED: &str = "scored";
pub const NOT_TRAINED: &str = "not trained (run with --train-ablations)";

impl Row {
    pub fn missing(method: Method, status: &str) -> Self {
        Self {
            key: method.key().into(),
            label: method.label().into(),
            status: status.into(),
            bleu4: None,
            cider: None,
            oss: None,
            cls: None,
            cls_chance: None,
            hc: None,
            rep3: None,
            hallucination: None,
            object_recall: None,
            order_tau: None,
        }
    }

    pub fn is_scored(&self) -> bool {
        self.status == SCORED
    }
}

/// The table of one evaluation setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetTable {
    pub setting: Setting,
    pub title: String,
    pub subjects: usize,
    pub queries: usize,
    pub rows: Vec<Row>,
    /// Human consistency of the real descriptions of the queries (m-BLEU-4).
    pub human_hc: f64,
    /// Share of the real descriptions that repeat a three-word sequence.
    pub human_rep3: f64,
    /// The real descriptions' hallucination, and another subject's recall and order
    /// against each subject's own (see [`super::grounding::human_scores`]).
    pub human_grounding: GroundingScores,
}

/// Everything `scanscribe eval` writes to `eval.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub model: String,
    pub data: String,
    pub shots: usize,
    pub beam_width: usize,
    pub sets: Vec<SetTable>,
}

/// The real descriptions of a set's queries, as references.
pub fn references(
    records: &[crate::dataset::DatasetRecord],
    queries: &[usize],
) -> Vec<CaptionRecord> {
    queries
        .iter()
        .map(|&q| CaptionRecord {
            image: records[q].image.clone(),
            subject: records[q].subject.clone(),
            description: records[q].description.clone(),
        })
        .collect()
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

/// Mean per-description BLEU-4 of `candidates` against the other subjects' real
/// descriptions of the same image (candidates with no other describer are skipped).
pub fn bleu4_against_others(candidates: &[CaptionRecord], references: &[CaptionRecord]) -> f64 {
    let mut by_image: FastMap<&str, Vec<usize>> = FastMap::default();
    for (k, r) in references.iter().enumerate() {
        by_image.entry(r.image.as_str()).or_default().push(k);
    }
    let tokenized: Vec<String> = references
        .iter()
        .map(|r| coco_tokenize(&r.description))
        .collect();
    let mut corpus = Corpus::default();
    for c in candidates {
        let others: Vec<&str> = by_image
            .get(c.image.as_str())
            .map(|group| {
                group
                    .iter()
                    .filter(|&&k| references[k].subject != c.subject)
                    .map(|&k| tokenized[k].as_str())
                    .collect()
            })
            .unwrap_or_default();
        if !others.is_empty() {
            corpus.push(&coco_tokenize(&c.description), others);
        }
    }
    if corpus.is_empty() {
        return 0.0;
    }
    let scores = bleu(&corpus);
    scores.per_segment.iter().map(|s| s[3]).sum::<f64>() / corpus.len() as f64
}

/// Scores one row.
pub fn score_row(
    method: Method,
    candidates: &[CaptionRecord],
    references: &[CaptionRecord],
    lexicon: &Lexicon,
    grounding: &GroundingScorer,
) -> Result<Row, EvalError> {
    let metrics = [Metric::Bleu, Metric::Cider, Metric::Oss, Metric::Cls];
    let report = score(candidates, references, &metrics, Some(lexicon))?;
    let grounded = row_scores(grounding, candidates, references);
    Ok(Row {
        key: method.key().into(),
        label: method.label().into(),
        status: SCORED.into(),
        bleu4: report.bleu.map(|b| b[3]),
        cider: report.cider,
        oss: report.oss,
        cls: report.cls.map(|c| c.accuracy),
        cls_chance: report.cls.map(|c| c.chance),
        hc: Some(bleu4_against_others(candidates, references)),
        rep3: Some(share_repeating_trigram(
            candidates.iter().map(|c| c.description.as_str()),
        )),
        hallucination: grounded.hallucination,
        object_recall: grounded.recall,
        order_tau: grounded.order_tau,
    })
}

/// Share of the real descriptions that repeat a three-word sequence.
pub fn human_rep3(references: &[CaptionRecord]) -> f64 {
    share_repeating_trigram(references.iter().map(|r| r.description.as_str()))
}

/// Human consistency of the references (the `human` row's HC).
pub fn human_hc(references: &[CaptionRecord]) -> f64 {
    human_consistency(&described(references)).mean_bleu4
}

fn cell(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.3}"))
}

/// The tables as Markdown.
pub fn markdown(report: &EvalReport) -> String {
    let mut out = String::from("# scanscribe eval\n\n");
    out += &format!(
        "Model `{}`, data `{}`; decoding with beam width {}.\n\n",
        report.model, report.data, report.beam_width
    );
    out += "B4 and CIDEr: corpus BLEU-4 and CIDEr-D against the subject's own description; \
            OSS: mean Object Sequence Score; CLS: share of descriptions whose best CIDEr-D \
            match among the image's real descriptions is the subject's own (chance in \
            brackets); HC: mean BLEU-4 against the *other* subjects' descriptions of the \
            image (for `human`, the real descriptions against each other); Rep3: share of \
            descriptions that repeat a three-word sequence. Where the images' objects are \
            known: Hal: share of named objects not in the image (CHAIR-i, colour included); \
            ObjR: share of the objects the subject named that the description names; τ: \
            Kendall τ of their order against the subject's. For `human`, ObjR and τ are \
            another subject's description against this subject's: what content alone \
            reaches.\n";
    for set in &report.sets {
        out += &format!(
            "\n## {}\n\n{} subjects, {} (image, subject) queries.\n\n",
            set.title, set.subjects, set.queries
        );
        out += "| method | B4 | CIDEr | OSS | CLS (chance) | HC | Rep3 | Hal | ObjR | τ |\n";
        out += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
        for row in &set.rows {
            if row.is_scored() {
                out += &format!(
                    "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} |\n",
                    row.label,
                    cell(row.bleu4),
                    cell(row.cider),
                    cell(row.oss),
                    cell(row.cls),
                    cell(row.cls_chance),
                    cell(row.hc),
                    cell(row.rep3),
                    cell(row.hallucination),
                    cell(row.object_recall),
                    cell(row.order_tau)
                );
            } else {
                out += &format!("| {} | {} | | | | | | | | |\n", row.label, row.status);
            }
        }
        out += &human_row(set.human_hc, set.human_rep3, set.human_grounding);
    }
    out
}

/// The `human` row of a table: the real descriptions' HC, Rep3 and grounding.
pub fn human_row(hc: f64, rep3: f64, grounding: GroundingScores) -> String {
    format!(
        "| human (real descriptions) | — | — | — | — | {} | {} | {} | {} | {} |\n",
        cell(Some(hc)),
        cell(Some(rep3)),
        cell(grounding.hallucination),
        cell(grounding.recall),
        cell(grounding.order_tau)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(image: &str, subject: &str, text: &str) -> CaptionRecord {
        CaptionRecord {
            image: image.into(),
            subject: subject.into(),
            description: text.into(),
        }
    }

    #[test]
    fn hc_against_others_ignores_the_subjects_own_description() {
        let refs = vec![
            c("i", "a", "a red circle and a blue square on the left"),
            c("i", "b", "there is a green star at the top right corner"),
        ];
        let copy_own = vec![c("i", "a", "a red circle and a blue square on the left")];
        let copy_other = vec![c("i", "a", "there is a green star at the top right corner")];
        assert!(bleu4_against_others(&copy_own, &refs) < 0.1);
        assert!(bleu4_against_others(&copy_other, &refs) > 0.99);
    }

    #[test]
    fn markdown_shows_untrained_rows_without_inventing_numbers() {
        let report = EvalReport {
            model: "m".into(),
            data: "d".into(),
            shots: 5,
            beam_width: 1,
            sets: vec![SetTable {
                setting: Setting::Seen,
                title: "Seen".into(),
                subjects: 2,
                queries: 4,
                rows: vec![
                    Row {
                        bleu4: Some(0.25),
                        cider: Some(1.5),
                        oss: Some(0.5),
                        cls: Some(0.75),
                        cls_chance: Some(0.5),
                        hc: Some(0.125),
                        rep3: Some(0.0),
                        hallucination: Some(0.25),
                        status: SCORED.into(),
                        ..Row::missing(Method::Generic, SCORED)
                    },
                    Row::missing(Method::Deper("no-film"), NOT_TRAINED),
                ],
                human_hc: 0.1,
                human_rep3: 0.05,
                human_grounding: GroundingScores {
                    hallucination: Some(0.0),
                    recall: Some(0.5),
                    order_tau: None,
                },
            }],
        };
        let md = markdown(&report);
        assert!(
            md.contains(
                "| generic (zero-shot) | 0.250 | 1.500 | 0.500 | 0.750 (0.500) | 0.125 | 0.000 | 0.250 | — | — |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| DEPER w/o FiLM | not trained (run with --train-ablations) |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| human (real descriptions) | — | — | — | — | 0.100 | 0.050 | 0.000 | 0.500 | — |"
            ),
            "{md}"
        );
    }
}
