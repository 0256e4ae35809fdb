#![allow(clippy::unwrap_used)]
//! Object Sequence Score: hand-worked Needleman–Wunsch alignments, match kinds, and
//! noun extraction with the real WordNet database (Debian `wordnet-base`).

use std::path::Path;
use std::sync::OnceLock;

use scanscribe::metrics::nouns::{Noun, NounExtractor};
use scanscribe::metrics::oss::{
    MatchKind, OssWeights, match_kind, needleman_wunsch, normalize, object_sequence_score,
    score_matrix,
};
use scanscribe::metrics::wordnet::{DEFAULT_WORDNET_DIR, Lexicon, Pos};

const GAP: f64 = -0.2;

fn assert_matrix(actual: &[f64], expected: &[&[f64]]) {
    let flat: Vec<f64> = expected
        .iter()
        .flat_map(|row| row.iter().copied())
        .collect();
    assert_eq!(actual.len(), flat.len());
    for (k, (a, e)) in actual.iter().zip(&flat).enumerate() {
        assert!((a - e).abs() < 1e-9, "cell {k}: {a} != {e}\n{actual:?}");
    }
}

#[test]
fn exact_matches_with_a_deleted_object() {
    // a = [dog, man, ball], b = [dog, ball]; exact 1, mismatch 0, gap -0.2.
    //
    //            -      dog     ball
    //   -      0.0     -0.2     -0.4
    //   dog   -0.2      1.0      0.8    (1.0 = 0 + 1; 0.8 = 1.0 + gap)
    //   man   -0.4      0.8      1.0    (1.0 = F[dog][dog] + mismatch 0)
    //   ball  -0.6      0.6      1.8    (1.8 = F[man][dog] 0.8 + 1)
    //
    // Best: dog-dog, man-gap, ball-ball = 1.8; OSS = 1.8 / 3 = 0.6.
    let a = ["dog", "man", "ball"];
    let b = ["dog", "ball"];
    let sub = |i: usize, j: usize| if a[i] == b[j] { 1.0 } else { 0.0 };
    assert_matrix(
        &score_matrix(3, 2, sub, GAP),
        &[
            &[0.0, -0.2, -0.4],
            &[-0.2, 1.0, 0.8],
            &[-0.4, 0.8, 1.0],
            &[-0.6, 0.6, 1.8],
        ],
    );
    let alignment = needleman_wunsch(3, 2, sub, GAP);
    assert!((alignment.score - 1.8).abs() < 1e-9);
    assert_eq!(
        alignment.pairs,
        [(Some(0), Some(0)), (Some(1), None), (Some(2), Some(1))]
    );
    assert!((normalize(alignment.score, 3, 2) - 0.6).abs() < 1e-9);
}

#[test]
fn the_same_objects_in_another_order_score_less() {
    // a = [man, dog], b = [dog, man]:
    //
    //            -      dog     man
    //   -      0.0     -0.2     -0.4
    //   man   -0.2      0.0      0.8    (0.8 = F[-][dog] -0.2 + 1)
    //   dog   -0.4      0.8      0.6    (0.6 = 0.8 + gap, either way)
    //
    // OSS = 0.6 / 2 = 0.3, where the same order would give 1.
    let a = ["man", "dog"];
    let b = ["dog", "man"];
    let sub = |i: usize, j: usize| if a[i] == b[j] { 1.0 } else { 0.0 };
    assert_matrix(
        &score_matrix(2, 2, sub, GAP),
        &[&[0.0, -0.2, -0.4], &[-0.2, 0.0, 0.8], &[-0.4, 0.8, 0.6]],
    );
    let alignment = needleman_wunsch(2, 2, sub, GAP);
    assert!((normalize(alignment.score, 2, 2) - 0.3).abs() < 1e-9);
}

fn noun(word: &str, lemma: &str, stem: &str) -> Noun {
    Noun {
        word: word.into(),
        lemma: lemma.into(),
        stem: stem.into(),
    }
}

#[test]
fn synonym_and_stem_matches_weigh_less_than_exact_ones() {
    // candidate [car, puppy, dogs], reference [automobile, dog]:
    // car~automobile synonym 0.6, dogs~dog stem 0.8, puppy matches nothing.
    //
    //               -      automobile   dog
    //   -         0.0       -0.2       -0.4
    //   car      -0.2        0.6        0.4
    //   puppy    -0.4        0.4        0.6    (0.6 = F[car][automobile] + 0)
    //   dogs     -0.6        0.2        1.2    (1.2 = F[puppy][automobile] 0.4 + 0.8)
    //
    // OSS = 1.2 / 3 = 0.4.
    let mut lexicon = Lexicon::empty();
    lexicon.add_word(Pos::Noun, "car", 71, &["car", "auto", "automobile"]);
    lexicon.add_word(Pos::Noun, "automobile", 5, &["car", "auto", "automobile"]);
    let candidate = [
        noun("car", "car", "car"),
        noun("puppy", "puppy", "puppi"),
        noun("dogs", "dog", "dog"),
    ];
    let reference = [
        noun("automobile", "automobile", "automobil"),
        noun("dog", "dog", "dog"),
    ];
    assert_eq!(
        match_kind(&candidate[0], &reference[0], &lexicon),
        MatchKind::Synonym
    );
    assert_eq!(
        match_kind(&candidate[2], &reference[1], &lexicon),
        MatchKind::Stem
    );
    assert_eq!(
        match_kind(&candidate[1], &reference[1], &lexicon),
        MatchKind::Mismatch
    );
    assert_eq!(
        match_kind(&reference[1], &reference[1], &lexicon),
        MatchKind::Exact
    );

    let weights = OssWeights::default();
    let sub = |i: usize, j: usize| weights.of(match_kind(&candidate[i], &reference[j], &lexicon));
    assert_matrix(
        &score_matrix(3, 2, sub, GAP),
        &[
            &[0.0, -0.2, -0.4],
            &[-0.2, 0.6, 0.4],
            &[-0.4, 0.4, 0.6],
            &[-0.6, 0.2, 1.2],
        ],
    );
    let oss = object_sequence_score(&candidate, &reference, &lexicon, &weights);
    assert!((oss.score - 0.4).abs() < 1e-9, "{}", oss.score);
}

#[test]
fn normalization_is_clamped_and_defined_for_empty_sequences() {
    // One noun against none: a single gap, -0.2, clamps to 0.
    assert_eq!(normalize(-0.2, 1, 0), 0.0);
    assert_eq!(normalize(0.0, 0, 0), 1.0);
    assert_eq!(normalize(2.0, 2, 2), 1.0);
}

/// The WordNet database, loaded once for all tests of this file; `None` (with a
/// printed note) where `/usr/share/wordnet` is missing.
fn wordnet() -> Option<&'static Lexicon> {
    static LEXICON: OnceLock<Option<Lexicon>> = OnceLock::new();
    let lexicon = LEXICON.get_or_init(|| {
        let dir = Path::new(DEFAULT_WORDNET_DIR);
        dir.join("index.noun")
            .exists()
            .then(|| Lexicon::load(dir).unwrap())
    });
    if lexicon.is_none() {
        println!("note: {DEFAULT_WORDNET_DIR} is missing (Debian package wordnet-base); skipped");
    }
    lexicon.as_ref()
}

#[test]
fn wordnet_nouns_of_real_captions() {
    let Some(lexicon) = wordnet() else { return };
    let extractor = NounExtractor::new(lexicon);
    let words = |caption: &str| -> Vec<String> {
        extractor
            .nouns(caption)
            .into_iter()
            .map(|n| n.word)
            .collect()
    };
    assert_eq!(
        words("A man in a red shirt is walking his dog in the park."),
        ["man", "shirt", "dog", "park"]
    );
    assert_eq!(
        words("Two children are playing football on the grass near a tall building."),
        ["children", "football", "grass", "building"]
    );
    assert_eq!(
        words("Men and women wearing glasses and t-shirts look at the sky; a plane flies over."),
        ["men", "women", "glasses", "t-shirts", "sky", "plane"]
    );
    let men = &extractor.nouns("men")[0];
    assert_eq!((men.lemma.as_str(), men.stem.as_str()), ("man", "men"));
    assert_eq!(
        extractor.noun_lemma("buildings").as_deref(),
        Some("building")
    );
    assert_eq!(extractor.noun_lemma("sitting"), None);
    assert!(lexicon.are_synonyms("bicycle", "bike"));
    assert!(!lexicon.are_synonyms("dog", "cat"));
}

#[test]
fn wordnet_oss_of_a_paraphrase() {
    let Some(lexicon) = wordnet() else { return };
    let extractor = NounExtractor::new(lexicon);
    let weights = OssWeights::default();
    let oss = |a: &str, b: &str| {
        object_sequence_score(&extractor.nouns(a), &extractor.nouns(b), lexicon, &weights).score
    };
    // [man, bike, road] vs [men, bicycle, street]: stem 0.8 + synonym 0.6 + mismatch 0.
    let score = oss(
        "A man rides a bike on the road.",
        "Men riding a bicycle down the street.",
    );
    assert!((score - 1.4 / 3.0).abs() < 1e-9, "{score}");
    assert_eq!(oss("A dog on a sofa.", "A dog on a sofa."), 1.0);
    assert!(oss("A dog on a sofa.", "A sofa under a dog.") < 1.0);
}
