//! BLEU-1..4 exactly as the COCO caption evaluation computes it (pycocoevalcap
//! `bleu/bleu_scorer.py`, called by `Bleu.compute_score` with `option='closest'`).
//!
//! Per segment: clipped n-gram matches (`correct`, the candidate count clipped by the
//! largest count in any one reference), candidate n-gram totals (`guess`), the
//! candidate length and the "closest" reference length (the reference length nearest
//! the candidate's, the shorter on a tie). BLEU-n is the geometric mean of the
//! precisions `(correct + 1e-15) / (guess + 1e-9)` for orders 1..=n, times the
//! brevity penalty `exp(1 - r/c)` when `c < r`, with `c + 1e-15` and `r + 1e-9` (the
//! toolkit's `tiny` and `small`, which keep an empty candidate at 0 instead of a
//! division by zero).
//!
//! The **corpus** score sums `correct`, `guess`, `c` and `r` over all segments before
//! taking the same formula: it is not the mean of the per-segment scores. Both are
//! returned. This module owns the formula only; counting lives in [`super::ngrams`].

use super::ngrams::{Corpus, MAX_N, Ngram, Sentence};

const TINY: f64 = 1e-15;
const SMALL: f64 = 1e-9;

/// BLEU-1..4, corpus-level and per segment (index 0 is BLEU-1).
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScores {
    pub corpus: [f64; MAX_N],
    pub per_segment: Vec<[f64; MAX_N]>,
    /// Total candidate length in words (`testlen`).
    pub candidate_words: usize,
    /// Total effective reference length in words (`reflen`, closest per segment).
    pub reference_words: usize,
}

/// The statistics of one segment (`cook_test` in the original).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Stats {
    candidate_words: usize,
    reference_words: usize,
    guess: [usize; MAX_N],
    correct: [usize; MAX_N],
}

/// Scores every segment of the corpus and the corpus as a whole.
pub fn bleu(corpus: &Corpus) -> BleuScores {
    let mut total = Stats::default();
    let mut per_segment = Vec::with_capacity(corpus.len());
    let mut merged = Vec::new();
    for (candidate, references) in corpus.candidates.iter().zip(&corpus.references) {
        let stats = segment_stats(candidate, references, &mut merged);
        per_segment.push(scores(&stats));
        total.candidate_words += stats.candidate_words;
        total.reference_words += stats.reference_words;
        for k in 0..MAX_N {
            total.guess[k] += stats.guess[k];
            total.correct[k] += stats.correct[k];
        }
    }
    BleuScores {
        corpus: scores(&total),
        per_segment,
        candidate_words: total.candidate_words,
        reference_words: total.reference_words,
    }
}

/// BLEU-4 of one tokenized sentence against its references (the per-segment score).
pub fn sentence_bleu(candidate: &Sentence, references: &[Sentence]) -> [f64; MAX_N] {
    scores(&segment_stats(candidate, references, &mut Vec::new()))
}

fn segment_stats(
    candidate: &Sentence,
    references: &[Sentence],
    merged: &mut Vec<(Ngram, u32)>,
) -> Stats {
    let c = candidate.word_count;
    // "closest": min over (|l - c|, l), so ties go to the shorter reference.
    let reference_words = references
        .iter()
        .map(|r| (r.word_count.abs_diff(c), r.word_count))
        .min()
        .map_or(0, |(_, l)| l);
    // Largest count of each n-gram in any one reference.
    merged.clear();
    for reference in references {
        merged.extend_from_slice(&reference.counts);
    }
    merged.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    merged.dedup_by_key(|(g, _)| *g);

    let mut correct = [0usize; MAX_N];
    let mut j = 0;
    for &(gram, count) in &candidate.counts {
        while j < merged.len() && merged[j].0 < gram {
            j += 1;
        }
        if j < merged.len() && merged[j].0 == gram {
            correct[gram.order() - 1] += count.min(merged[j].1) as usize;
        }
    }
    let mut guess = [0usize; MAX_N];
    for (k, g) in guess.iter_mut().enumerate() {
        *g = (c + 1).saturating_sub(k + 1);
    }
    Stats {
        candidate_words: c,
        reference_words,
        guess,
        correct,
    }
}

fn scores(stats: &Stats) -> [f64; MAX_N] {
    let mut out = [0.0; MAX_N];
    let mut product = 1.0f64;
    for (k, v) in out.iter_mut().enumerate() {
        product *= (stats.correct[k] as f64 + TINY) / (stats.guess[k] as f64 + SMALL);
        *v = product.powf(1.0 / (k as f64 + 1.0));
    }
    let ratio = (stats.candidate_words as f64 + TINY) / (stats.reference_words as f64 + SMALL);
    if ratio < 1.0 {
        let penalty = (1.0 - 1.0 / ratio).exp();
        for v in &mut out {
            *v *= penalty;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(segments: &[(&str, &[&str])]) -> Corpus {
        Corpus::from_tokenized(segments.iter().map(|(c, r)| (*c, r.iter().copied())))
    }

    #[test]
    fn a_candidate_equal_to_a_reference_scores_one() {
        let c = corpus(&[(
            "a dog runs on the grass",
            &["a dog runs on the grass", "x y"],
        )]);
        let b = bleu(&c);
        for v in b.corpus {
            assert!((v - 1.0).abs() < 1e-9, "{v}");
        }
    }

    #[test]
    fn clipping_and_brevity_follow_the_toolkit() {
        // "the the the" vs "the cat": 1 clipped unigram match of 3; c = 3 > r = 2.
        let c = corpus(&[("the the the", &["the cat"])]);
        let b = bleu(&c);
        let expected_b1 = (1.0 + TINY) / (3.0 + SMALL);
        assert!((b.corpus[0] - expected_b1).abs() < 1e-12);
        // A short candidate pays exp(1 - r/c): "the cat" vs a 4-word reference.
        let c = corpus(&[("the cat", &["the cat sat down"])]);
        let b = bleu(&c);
        let bp = (1.0f64 - 4.0 / 2.0).exp();
        assert!((b.corpus[0] - bp).abs() < 1e-9, "{}", b.corpus[0]);
    }

    #[test]
    fn an_empty_candidate_scores_zero() {
        let c = corpus(&[("", &["a dog"])]);
        assert_eq!(bleu(&c).per_segment[0], [0.0; 4]);
    }
}
