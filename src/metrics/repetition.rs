//! Repetition: whether a description says the same three words twice in a row of
//! words (a looping decoder's signature: "a crimson triangle, and finally a crimson
//! triangle"), and the share of descriptions that do. Words are the COCO caption
//! tokenizer's, so punctuation does not hide a repeat. `eval` reports the share for
//! every method beside the human descriptions' own.

use std::collections::HashSet;

use super::tokenize::coco_tokenize;

/// Whether any three consecutive words of `text` occur twice.
pub fn repeats_trigram(text: &str) -> bool {
    let tokens = coco_tokenize(text);
    let words: Vec<&str> = tokens.split_whitespace().collect();
    let mut seen = HashSet::new();
    words.windows(3).any(|w| !seen.insert(w))
}

/// Share of `texts` that repeat a three-word sequence (0 for none).
pub fn share_repeating_trigram<'a>(texts: impl IntoIterator<Item = &'a str>) -> f64 {
    let (mut repeating, mut total) = (0usize, 0usize);
    for text in texts {
        total += 1;
        repeating += usize::from(repeats_trigram(text));
    }
    if total == 0 {
        0.0
    } else {
        repeating as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_looping_description_repeats_and_a_varied_one_does_not() {
        assert!(repeats_trigram(
            "then a crimson triangle, and finally a crimson triangle, and finally a crimson triangle"
        ));
        assert!(repeats_trigram("A small house. Also a small house"));
        assert!(!repeats_trigram("a red circle left of a red square"));
        assert!(!repeats_trigram(""));
        assert!(!repeats_trigram("two words"));
        let texts = ["a b c a b c", "a red circle", "x y z", "x y z x y z"];
        assert!((share_repeating_trigram(texts) - 0.5).abs() < 1e-12);
        assert_eq!(share_repeating_trigram([]), 0.0);
    }
}
