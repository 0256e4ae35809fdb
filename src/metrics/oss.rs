//! Object Sequence Score (OSS): how well a candidate caption mentions the same
//! objects in the same order as the reference.
//!
//! The ordered nouns of both captions ([`super::nouns`]) are aligned globally with
//! Needleman–Wunsch. A pair of nouns scores by kind, best first:
//! - **exact** 1.0: the same word;
//! - **stem** 0.8: the same Snowball stem or the same WordNet base form (`dog`/`dogs`,
//!   `man`/`men`);
//! - **synonym** 0.6: one's base form is in the other's first-sense WordNet synset
//!   (`car`/`automobile`), see [`Lexicon::are_synonyms`];
//! - **mismatch** 0.0; each **gap** (a noun aligned with nothing) −0.2.
//!
//! The paper gives no weights; these are ours ([`OssWeights::default`]).
//! **Normalization**: the best alignment score divided by the length of the longer
//! noun sequence, clamped to [0, 1]. Identical sequences score 1; a candidate that
//! names every reference object in order but adds as many others scores ≤ 0.5 less
//! gaps; two captions with no nouns at all score 1 (nothing to disagree on), and one
//! empty sequence against a non-empty one scores 0.

use super::nouns::Noun;
use super::wordnet::Lexicon;

/// Scores of the alignment, by match kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OssWeights {
    pub exact: f64,
    pub stem: f64,
    pub synonym: f64,
    pub mismatch: f64,
    pub gap: f64,
}

impl Default for OssWeights {
    fn default() -> Self {
        Self {
            exact: 1.0,
            stem: 0.8,
            synonym: 0.6,
            mismatch: 0.0,
            gap: -0.2,
        }
    }
}

/// How two nouns match, best kind first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Exact,
    Stem,
    Synonym,
    Mismatch,
}

impl OssWeights {
    pub fn of(&self, kind: MatchKind) -> f64 {
        match kind {
            MatchKind::Exact => self.exact,
            MatchKind::Stem => self.stem,
            MatchKind::Synonym => self.synonym,
            MatchKind::Mismatch => self.mismatch,
        }
    }
}

/// The best kind of match between two nouns.
pub fn match_kind(a: &Noun, b: &Noun, lexicon: &Lexicon) -> MatchKind {
    if a.word == b.word {
        MatchKind::Exact
    } else if a.stem == b.stem || a.lemma == b.lemma {
        MatchKind::Stem
    } else if lexicon.are_synonyms(&a.lemma, &b.lemma) {
        MatchKind::Synonym
    } else {
        MatchKind::Mismatch
    }
}

/// One column of an alignment: indices into the first and second sequence, `None`
/// for a gap.
pub type AlignedPair = (Option<usize>, Option<usize>);

/// A global alignment and its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    /// The best total score.
    pub score: f64,
    /// The aligned columns, in order (one optimal alignment; diagonal moves are
    /// preferred on ties, then gaps in the second sequence).
    pub pairs: Vec<AlignedPair>,
}

/// The Needleman–Wunsch score matrix, row-major with `n + 1` rows and `m + 1`
/// columns: `F[i][j]` is the best score of aligning the first `i` items of the first
/// sequence with the first `j` of the second. `F[i][0] = i·gap`, `F[0][j] = j·gap`,
/// `F[i][j] = max(F[i-1][j-1] + s(i-1, j-1), F[i-1][j] + gap, F[i][j-1] + gap)`.
pub fn score_matrix(
    n: usize,
    m: usize,
    substitution: impl Fn(usize, usize) -> f64,
    gap: f64,
) -> Vec<f64> {
    let width = m + 1;
    let mut f = vec![0.0; (n + 1) * width];
    for (j, cell) in f.iter_mut().take(width).enumerate() {
        *cell = j as f64 * gap;
    }
    for i in 1..=n {
        f[i * width] = i as f64 * gap;
        for j in 1..=m {
            let diagonal = f[(i - 1) * width + j - 1] + substitution(i - 1, j - 1);
            let up = f[(i - 1) * width + j] + gap;
            let left = f[i * width + j - 1] + gap;
            f[i * width + j] = diagonal.max(up).max(left);
        }
    }
    f
}

/// Global alignment of two sequences of lengths `n` and `m`.
pub fn needleman_wunsch(
    n: usize,
    m: usize,
    substitution: impl Fn(usize, usize) -> f64,
    gap: f64,
) -> Alignment {
    let f = score_matrix(n, m, &substitution, gap);
    let width = m + 1;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12;
    let (mut i, mut j) = (n, m);
    let mut pairs = Vec::with_capacity(n.max(m));
    while i > 0 || j > 0 {
        let here = f[i * width + j];
        if i > 0
            && j > 0
            && close(
                here,
                f[(i - 1) * width + j - 1] + substitution(i - 1, j - 1),
            )
        {
            pairs.push((Some(i - 1), Some(j - 1)));
            i -= 1;
            j -= 1;
        } else if i > 0 && close(here, f[(i - 1) * width + j] + gap) {
            pairs.push((Some(i - 1), None));
            i -= 1;
        } else {
            pairs.push((None, Some(j - 1)));
            j -= 1;
        }
    }
    pairs.reverse();
    Alignment {
        score: f[n * width + m],
        pairs,
    }
}

/// OSS normalization: `score / max(n, m)` clamped to [0, 1]; 1 when both are empty.
pub fn normalize(score: f64, n: usize, m: usize) -> f64 {
    let longer = n.max(m);
    if longer == 0 {
        return 1.0;
    }
    (score / longer as f64).clamp(0.0, 1.0)
}

/// OSS of a candidate's nouns against a reference's, with its alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Oss {
    /// Normalized score in [0, 1].
    pub score: f64,
    pub alignment: Alignment,
}

/// Aligns the two noun sequences and normalizes the score.
pub fn object_sequence_score(
    candidate: &[Noun],
    reference: &[Noun],
    lexicon: &Lexicon,
    weights: &OssWeights,
) -> Oss {
    let substitution =
        |i: usize, j: usize| weights.of(match_kind(&candidate[i], &reference[j], lexicon));
    let alignment = needleman_wunsch(candidate.len(), reference.len(), substitution, weights.gap);
    Oss {
        score: normalize(alignment.score, candidate.len(), reference.len()),
        alignment,
    }
}
