//! CIDEr-D exactly as the COCO caption evaluation computes it (pycocoevalcap
//! `cider/cider_scorer.py`, `n = 4`, `sigma = 6`).
//!
//! - **Document frequency** `df(g)`: the number of segments whose references (any of
//!   them) contain the n-gram `g`. Only references count.
//! - **Weights**: a sentence becomes, per order n = 1..=4, the vector of
//!   `tf(g) · (ln N − ln max(1, df(g)))` where `N` is the number of segments (the
//!   toolkit's "log of reference length") and `tf` the raw count in the sentence.
//! - **Similarity** with one reference, per order: the clipped dot product
//!   `Σ_g min(v_cand(g), v_ref(g)) · v_ref(g)` divided by both norms (when neither is
//!   zero), times the Gaussian length penalty `exp(−δ² / (2σ²))`, σ = 6.
//! - **Segment score**: the mean over the 4 orders of the similarities summed over the
//!   references, divided by the number of references, times 10. **Corpus score**: the
//!   mean of the segment scores.
//!
//! One quirk is kept on purpose for parity: the toolkit's "length" `δ` compares the
//! number of **bigrams** (its `length` is incremented when the 0-based order index is
//! 1), that is `max(0, words − 1)`, not the number of words.

use super::ngrams::{Corpus, MAX_N, Ngram, Sentence};

/// The toolkit's σ of the Gaussian length penalty.
pub const SIGMA: f64 = 6.0;

/// CIDEr-D, corpus mean and per segment.
#[derive(Debug, Clone, PartialEq)]
pub struct CiderScores {
    pub corpus: f64,
    pub per_segment: Vec<f64>,
}

/// Document frequencies of a reference set and the scoring rule that uses them.
#[derive(Debug, Clone)]
pub struct CiderD {
    /// Per order, `ln N − ln max(1, df(g))` by [`Ngram::index`], for the n-grams
    /// counted when the model was made; later n-grams (in no reference) get `ln N`.
    idf: [Vec<f64>; MAX_N],
    /// `ln N`, the idf of an n-gram no reference has.
    log_documents: f64,
}

/// A sentence as tf-idf vectors: weights sorted by n-gram, a norm per order, and the
/// toolkit's length (the bigram count).
#[derive(Debug, Clone, Default)]
pub struct TfIdf {
    weights: Vec<(Ngram, f64)>,
    norms: [f64; MAX_N],
    length: usize,
}

impl CiderD {
    /// Document frequencies from the references: one document per segment (the union
    /// of that segment's references), `N` = the number of segments.
    pub fn from_references(segments: &[Vec<Sentence>]) -> Self {
        let mut sizes = [0usize; MAX_N];
        for &(g, _) in segments.iter().flatten().flat_map(|r| &r.counts) {
            let size = &mut sizes[g.order() - 1];
            *size = (*size).max(g.index() + 1);
        }
        // df by order and index; `last_segment` counts an n-gram once per segment.
        let mut document_frequency = sizes.map(|size| vec![0u32; size]);
        let mut last_segment = sizes.map(|size| vec![usize::MAX; size]);
        for (k, references) in segments.iter().enumerate() {
            for &(g, _) in references.iter().flat_map(|r| &r.counts) {
                let (n, i) = (g.order() - 1, g.index());
                if last_segment[n][i] != k {
                    last_segment[n][i] = k;
                    document_frequency[n][i] += 1;
                }
            }
        }
        let log_documents = (segments.len() as f64).ln();
        let idf = document_frequency.map(|dfs| {
            dfs.into_iter()
                .map(|df| log_documents - f64::from(df.max(1)).ln())
                .collect()
        });
        Self { idf, log_documents }
    }

    /// The tf-idf vectors of a sentence (`counts2vec`).
    pub fn vector(&self, sentence: &Sentence) -> TfIdf {
        let mut norms = [0.0; MAX_N];
        let mut length = 0;
        let weights = sentence
            .counts
            .iter()
            .map(|&(g, tf)| {
                let idf = self.idf[g.order() - 1]
                    .get(g.index())
                    .copied()
                    .unwrap_or(self.log_documents);
                let w = f64::from(tf) * idf;
                let n = g.order() - 1;
                norms[n] += w * w;
                if n == 1 {
                    length += tf as usize;
                }
                (g, w)
            })
            .collect();
        for norm in &mut norms {
            *norm = norm.sqrt();
        }
        TfIdf {
            weights,
            norms,
            length,
        }
    }

    /// CIDEr-D of one candidate against its references (already vectorized).
    pub fn score(&self, candidate: &TfIdf, references: &[TfIdf]) -> f64 {
        let mut sum = [0.0; MAX_N];
        for reference in references {
            let sim = similarity(candidate, reference);
            for n in 0..MAX_N {
                sum[n] += sim[n];
            }
        }
        let mean = sum.iter().sum::<f64>() / MAX_N as f64;
        mean / references.len() as f64 * 10.0
    }
}

/// Per-order clipped cosine similarity with the length penalty (`sim`).
fn similarity(candidate: &TfIdf, reference: &TfIdf) -> [f64; MAX_N] {
    let mut val = [0.0; MAX_N];
    let mut j = 0;
    let r = &reference.weights;
    for &(g, w) in &candidate.weights {
        while j < r.len() && r[j].0 < g {
            j += 1;
        }
        if j < r.len() && r[j].0 == g {
            let w_ref = r[j].1;
            val[g.order() - 1] += w.min(w_ref) * w_ref;
        }
    }
    let delta = candidate.length as f64 - reference.length as f64;
    let penalty = (-(delta * delta) / (2.0 * SIGMA * SIGMA)).exp();
    for (n, v) in val.iter_mut().enumerate() {
        if candidate.norms[n] != 0.0 && reference.norms[n] != 0.0 {
            *v /= candidate.norms[n] * reference.norms[n];
        }
        *v *= penalty;
    }
    val
}

/// Scores every segment of the corpus against its own references, with document
/// frequencies from all the corpus references.
pub fn cider_d(corpus: &Corpus) -> CiderScores {
    let model = CiderD::from_references(&corpus.references);
    let mut reference_vectors = Vec::new();
    let per_segment: Vec<f64> = corpus
        .candidates
        .iter()
        .zip(&corpus.references)
        .map(|(candidate, references)| {
            reference_vectors.clear();
            reference_vectors.extend(references.iter().map(|r| model.vector(r)));
            model.score(&model.vector(candidate), &reference_vectors)
        })
        .collect();
    let corpus_score = if per_segment.is_empty() {
        0.0
    } else {
        per_segment.iter().sum::<f64>() / per_segment.len() as f64
    };
    CiderScores {
        corpus: corpus_score,
        per_segment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(segments: &[(&str, &[&str])]) -> Corpus {
        Corpus::from_tokenized(segments.iter().map(|(c, r)| (*c, r.iter().copied())))
    }

    #[test]
    fn a_single_segment_has_no_information_and_scores_zero() {
        // ln N = ln 1 = 0: every weight is zero, as in the toolkit.
        let c = corpus(&[("a dog", &["a dog"])]);
        assert_eq!(cider_d(&c).corpus, 0.0);
    }

    #[test]
    fn rare_shared_ngrams_score_and_wrong_ones_do_not() {
        let c = corpus(&[
            (
                "a zebra eats grass",
                &["a zebra eats grass", "a zebra grazing"],
            ),
            ("a car on a road", &["a red bus", "a bus on a street"]),
            ("a cat sleeps", &["a cat asleep on a sofa"]),
        ]);
        let s = cider_d(&c);
        assert!(s.per_segment[0] > 3.0, "{:?}", s.per_segment);
        assert!(s.per_segment[0] > s.per_segment[1]);
        assert!(s.per_segment[2] > 0.0);
    }
}
