//! Personalization metrics of the DEPER paper that compare people with each other:
//! subject distinguishability (CLS) and human consistency (HC). Definitions as in
//! `PAPER-NOTES.md`; both take raw descriptions and tokenize them with
//! [`coco_tokenize`].
//!
//! **CLS** (deterministic, no classifier): for each generated description of a
//! (subject, image) pair, compute its CIDEr-D against each real description of that
//! image, one at a time, with document frequencies over all the real descriptions
//! (each description one document). It counts as correct when the subject's own
//! description is the best match; a tie among `t` best descriptions that include the
//! subject's own counts `1/t` (the expectation of a random tie-break). CLS is the mean
//! over evaluated pairs. **Chance** is the mean of `1/describers` over the same pairs.
//! Pairs are skipped when the subject has no real description of the image, or when
//! the image has only one describer (nothing to tell apart).
//!
//! **HC** (the paper's m-BLEU-4): for each real description of an image that others
//! also described, its BLEU-4 (pycocoevalcap's per-segment score) against the other
//! people's descriptions of that image; HC is the mean. The corpus-level BLEU-4 of
//! the same segments is returned too, comparable with a model's corpus BLEU-4.

use super::bleu::bleu;
use super::cider::CiderD;
use super::ngrams::{Corpus, FastMap, Vocabulary};
use super::tokenize::coco_tokenize;

/// One description of an image by a subject (raw text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Described<'a> {
    pub image: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
}

/// CLS with its chance level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ClsScore {
    /// Fraction of evaluated pairs whose best match is the subject's own description.
    pub accuracy: f64,
    /// Mean of `1 / describers of the image` over the evaluated pairs.
    pub chance: f64,
    pub evaluated: usize,
    /// Pairs with no own description, or on an image with one describer.
    pub skipped: usize,
}

/// Subject distinguishability of generated descriptions (see the module docs).
pub fn cls(generated: &[Described<'_>], real: &[Described<'_>]) -> ClsScore {
    let mut vocabulary = Vocabulary::default();
    let documents: Vec<Vec<_>> = real
        .iter()
        .map(|d| vec![vocabulary.sentence(&coco_tokenize(d.text))])
        .collect();
    let model = CiderD::from_references(&documents);
    let vectors: Vec<_> = documents.iter().map(|d| model.vector(&d[0])).collect();
    let mut by_image: FastMap<&str, Vec<usize>> = FastMap::default();
    for (k, d) in real.iter().enumerate() {
        by_image.entry(d.image).or_default().push(k);
    }

    let (mut correct, mut chance, mut evaluated, mut skipped) = (0.0, 0.0, 0usize, 0usize);
    for g in generated {
        let Some(group) = by_image.get(g.image).filter(|group| group.len() > 1) else {
            skipped += 1;
            continue;
        };
        let Some(&own) = group.iter().find(|&&k| real[k].subject == g.subject) else {
            skipped += 1;
            continue;
        };
        let candidate = model.vector(&vocabulary.sentence(&coco_tokenize(g.text)));
        let scores: Vec<(usize, f64)> = group
            .iter()
            .map(|&k| {
                (
                    k,
                    model.score(&candidate, std::slice::from_ref(&vectors[k])),
                )
            })
            .collect();
        let best = scores
            .iter()
            .map(|&(_, s)| s)
            .fold(f64::NEG_INFINITY, f64::max);
        let own_score = scores
            .iter()
            .find(|&&(k, _)| k == own)
            .map_or(f64::NAN, |s| s.1);
        if own_score == best {
            let ties = scores.iter().filter(|&&(_, s)| s == best).count();
            correct += 1.0 / ties as f64;
        }
        chance += 1.0 / group.len() as f64;
        evaluated += 1;
    }
    let mean = |x: f64| {
        if evaluated == 0 {
            0.0
        } else {
            x / evaluated as f64
        }
    };
    ClsScore {
        accuracy: mean(correct),
        chance: mean(chance),
        evaluated,
        skipped,
    }
}

/// Human consistency of real descriptions (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HcScore {
    /// Mean per-description BLEU-4 against the other describers (m-BLEU-4).
    pub mean_bleu4: f64,
    /// Corpus BLEU-4 of the same segments.
    pub corpus_bleu4: f64,
    /// Descriptions that had at least one other describer of the same image.
    pub descriptions: usize,
}

pub fn human_consistency(real: &[Described<'_>]) -> HcScore {
    let tokenized: Vec<String> = real.iter().map(|d| coco_tokenize(d.text)).collect();
    let mut by_image: FastMap<&str, Vec<usize>> = FastMap::default();
    for (k, d) in real.iter().enumerate() {
        by_image.entry(d.image).or_default().push(k);
    }
    let mut corpus = Corpus::default();
    for (k, d) in real.iter().enumerate() {
        let others: Vec<&str> = by_image[d.image]
            .iter()
            .filter(|&&j| real[j].subject != d.subject)
            .map(|&j| tokenized[j].as_str())
            .collect();
        if !others.is_empty() {
            corpus.push(&tokenized[k], others);
        }
    }
    if corpus.is_empty() {
        return HcScore {
            mean_bleu4: 0.0,
            corpus_bleu4: 0.0,
            descriptions: 0,
        };
    }
    let scores = bleu(&corpus);
    let mean = scores.per_segment.iter().map(|s| s[3]).sum::<f64>() / corpus.len() as f64;
    HcScore {
        mean_bleu4: mean,
        corpus_bleu4: scores.corpus[3],
        descriptions: corpus.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d<'a>(image: &'a str, subject: &'a str, text: &'a str) -> Described<'a> {
        Described {
            image,
            subject,
            text,
        }
    }

    fn real() -> Vec<Described<'static>> {
        vec![
            d("i1", "ann", "a red kite over the green hill"),
            d("i1", "bob", "two dogs run after a ball"),
            d("i1", "cat", "clouds and a tiny plane in the sky"),
            d("i1", "dan", "an old wooden fence by the road"),
            d("i2", "ann", "a sailing boat on a calm lake"),
            d("i2", "bob", "children swim near the pier"),
            d("i3", "ann", "only ann saw this one"),
        ]
    }

    #[test]
    fn cls_counts_own_best_matches_and_reports_chance() {
        let real = real();
        let generated = [
            d("i1", "ann", "a red kite above a hill"), // own: correct
            d("i1", "bob", "a tiny plane in the cloudy sky"), // cat's: wrong
            d("i2", "bob", "children swim by the pier"), // own: correct
            d("i3", "ann", "only ann saw it"),         // one describer: skipped
            d("i2", "eve", "a boat"),                  // no own description: skipped
        ];
        let score = cls(&generated, &real);
        assert_eq!((score.evaluated, score.skipped), (3, 2));
        assert!((score.accuracy - 2.0 / 3.0).abs() < 1e-12, "{score:?}");
        // Chance: 1/4, 1/4 (image i1) and 1/2 (image i2), averaged.
        assert!((score.chance - (0.25 + 0.25 + 0.5) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn cls_splits_credit_on_ties() {
        // Identical real descriptions: the generated one ties between both subjects.
        let real = [
            d("i", "a", "a dog"),
            d("i", "b", "a dog"),
            d("j", "a", "a cat"),
        ];
        let score = cls(&[d("i", "a", "a dog runs")], &real);
        assert!((score.accuracy - 0.5).abs() < 1e-12, "{score:?}");
        assert!((score.chance - 0.5).abs() < 1e-12);
    }

    #[test]
    fn hc_is_high_for_people_who_say_the_same_thing() {
        let same = [
            d("i", "a", "a dog on a red sofa"),
            d("i", "b", "a dog on a red sofa"),
        ];
        let hc = human_consistency(&same);
        assert_eq!(hc.descriptions, 2);
        assert!((hc.mean_bleu4 - 1.0).abs() < 1e-6, "{hc:?}");
        let hc = human_consistency(&real());
        assert_eq!(hc.descriptions, 6);
        assert!(hc.mean_bleu4 < 0.1, "{hc:?}");
    }
}
