//! Word error rate: word-level Levenshtein distance (substitutions, insertions,
//! deletions) divided by the number of reference words, after lower-casing and
//! removing punctuation. Owns only the scoring; it must not transcribe.

/// Lower-cases, turns punctuation into spaces (apostrophes inside words are kept,
/// so "it's" stays one word) and splits into words.
pub fn normalize_words(text: &str) -> Vec<String> {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\'' {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect();
    cleaned
        .split_whitespace()
        .map(|word| word.trim_matches('\'').to_string())
        .filter(|word| !word.is_empty())
        .collect()
}

/// Word-level edit distance between two word lists.
pub fn word_edit_distance(reference: &[String], hypothesis: &[String]) -> usize {
    let mut previous: Vec<usize> = (0..=hypothesis.len()).collect();
    let mut current = vec![0; hypothesis.len() + 1];
    for (i, reference_word) in reference.iter().enumerate() {
        current[0] = i + 1;
        for (j, hypothesis_word) in hypothesis.iter().enumerate() {
            let substitution = previous[j] + usize::from(reference_word != hypothesis_word);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[hypothesis.len()]
}

/// Word error rate of `hypothesis` against `reference`. An empty reference scores
/// 0 for an empty hypothesis and 1 otherwise.
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let reference = normalize_words(reference);
    let hypothesis = normalize_words(hypothesis);
    if reference.is_empty() {
        return if hypothesis.is_empty() { 0.0 } else { 1.0 };
    }
    word_edit_distance(&reference, &hypothesis) as f64 / reference.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_case_do_not_count() {
        assert_eq!(
            word_error_rate(
                "A red circle is left of a blue square.",
                "a red circle, is left of a Blue square"
            ),
            0.0
        );
        assert_eq!(normalize_words("It's red-ish!"), vec!["it's", "red", "ish"]);
    }

    #[test]
    fn counts_substitutions_insertions_and_deletions() {
        // one substitution (red→bed), one deletion (is), one insertion (very)
        let wer = word_error_rate("a red circle is here", "a bed circle here very");
        assert!((wer - 3.0 / 5.0).abs() < 1e-12, "{wer}");
        assert_eq!(word_error_rate("one two", ""), 1.0);
        assert_eq!(word_error_rate("", ""), 0.0);
    }
}
