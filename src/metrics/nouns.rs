//! Ordered noun extraction from a caption, for the Object Sequence Score.
//!
//! A caption is split into PTB tokens ([`super::tokenize::ptb_tokens`], lower case).
//! A token is a **noun** when all of these hold:
//! 1. it contains a letter and is not a closed-class word (articles, pronouns,
//!    prepositions, conjunctions, auxiliaries and modals, number words: see
//!    [`STOPWORDS`]; WordNet lists some of them as nouns: `a`, `i`, `can`, `will`);
//! 2. WordNet has a noun base form for it ([`Lexicon::morphy`]: `dogs` → `dog`,
//!    `men` → `man`);
//! 3. its most frequent sense is a noun: for each part of speech with a base form, take
//!    the tag count of sense 1 (WordNet orders senses by these counts) and the number
//!    of senses; the noun's `(count, senses)` must be at least every other part of
//!    speech's, compared in that order. Ties go to the noun (`skateboard`, untagged as
//!    noun and verb). So `walking` (verb `walk`, 67 tags) and `red` (adjective) are not
//!    nouns; `man`, `building`, `shirt` are.
//!
//! 4. one exception looks at the context: an `-ing` word that WordNet also lists as a
//!    noun (`building`: verb `build` 123 tags, noun `building` 48) is a noun after a
//!    determiner or possessive, with only adjectives between, when no noun follows it
//!    (`a tall building`, `his painting`; not `a sitting woman`, `a man walking`).
//!
//! Otherwise the rule looks at the word alone: `the park` and `they park` give the
//! same answer (noun). Compound nouns come out as their parts (`tennis racket` →
//! `tennis`, `racket`), which aligns well when both captions use them.

use std::collections::HashSet;

use rust_stemmers::{Algorithm, Stemmer};

use super::tokenize::ptb_tokens;
use super::wordnet::{Lexicon, Pos};

/// One noun of a caption, as OSS compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noun {
    /// The word as written (lower case).
    pub word: String,
    /// Its WordNet base form.
    pub lemma: String,
    /// Its Snowball (Porter 2) English stem.
    pub stem: String,
}

/// Closed-class words that are never objects, though WordNet lists some as nouns
/// (`a`, `i`, `can`, `will`): one string of space-separated words per kind.
pub const STOPWORDS: &[&str] = &[
    // articles, determiners, quantifiers
    "a an the this that these those some any each every either neither no another such \
     what which whose all both few many much more most other others several own same less \
     least enough",
    // pronouns
    "i me my mine myself you your yours yourself yourselves he him his himself she her \
     hers herself it its itself we us our ours ourselves they them their theirs \
     themselves who whom whoever whatever something anything nothing everything someone \
     anyone everyone nobody somebody anybody everybody one ones",
    // prepositions
    "about above across after against along amid among around as at before behind below \
     beneath beside besides between beyond by despite down during except for from in \
     inside into like near of off on onto out outside over past per since than through \
     throughout till to toward towards under underneath unlike until up upon via with \
     within without",
    // conjunctions
    "and or but nor so yet because although though while whereas if unless whether then",
    // auxiliaries and modals
    "be am is are was were been being have has had having do does did doing can could may \
     might must shall should will would ca wo n't not",
    // adverbs and particles
    "there here now very too also just only even still again ever never always often \
     sometimes perhaps maybe quite rather almost how when where why",
    // number words
    "two three four five six seven eight nine ten eleven twelve twenty hundred thousand \
     million",
];

/// Noun extraction with a lexicon and an English stemmer.
pub struct NounExtractor<'a> {
    lexicon: &'a Lexicon,
    stemmer: Stemmer,
    stopwords: HashSet<&'static str>,
}

impl std::fmt::Debug for NounExtractor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NounExtractor").finish_non_exhaustive()
    }
}

impl<'a> NounExtractor<'a> {
    pub fn new(lexicon: &'a Lexicon) -> Self {
        Self {
            lexicon,
            stemmer: Stemmer::create(Algorithm::English),
            stopwords: STOPWORDS
                .iter()
                .flat_map(|kind| kind.split_ascii_whitespace())
                .collect(),
        }
    }

    pub fn lexicon(&self) -> &'a Lexicon {
        self.lexicon
    }

    /// The nouns of a raw caption, in order.
    pub fn nouns(&self, caption: &str) -> Vec<Noun> {
        let tokens = ptb_tokens(caption);
        let readings: Vec<Option<Pos>> = tokens.iter().map(|t| self.dominant_pos(t)).collect();
        let mut nouns = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let lemma = match readings[i] {
                Some(Pos::Noun) => self.lexicon.morphy(Pos::Noun, token).into_iter().next(),
                Some(Pos::Verb) if self.is_ing_noun_in_context(&tokens, &readings, i) => {
                    Some(token.clone())
                }
                _ => None,
            };
            if let Some(lemma) = lemma {
                nouns.push(Noun {
                    word: token.clone(),
                    lemma,
                    stem: self.stemmer.stem(token).into_owned(),
                });
            }
        }
        nouns
    }

    /// The noun base form of a lower-case token, or `None` when it is not a noun by
    /// the word-level rule (rules 1 to 3 of the module documentation).
    pub fn noun_lemma(&self, token: &str) -> Option<String> {
        (self.dominant_pos(token) == Some(Pos::Noun))
            .then(|| self.lexicon.morphy(Pos::Noun, token).into_iter().next())
            .flatten()
    }

    /// The part of speech of the token's most frequent sense (ties go to the noun,
    /// then verb, adjective, adverb), or `None` for stopwords and unknown words.
    pub fn dominant_pos(&self, token: &str) -> Option<Pos> {
        if !token.chars().any(char::is_alphabetic)
            || token.starts_with('\'')
            || self.stopwords.contains(token)
        {
            return None;
        }
        let mut best: Option<(Pos, (u32, u32))> = None;
        for pos in Pos::ALL {
            let forms = self.lexicon.morphy(pos, token);
            if let Some(rank) = self.rank(pos, &forms)
                && best.is_none_or(|(_, best_rank)| rank > best_rank)
            {
                best = Some((pos, rank));
            }
        }
        best.map(|(pos, _)| pos)
    }

    /// Rule 4: an `-ing` word that WordNet also lists as a noun (`building`,
    /// `painting`) is a noun after a determiner or possessive, with only adjectives
    /// between, when no noun follows it (`a tall building`, not `a sitting woman`).
    fn is_ing_noun_in_context(
        &self,
        tokens: &[String],
        readings: &[Option<Pos>],
        i: usize,
    ) -> bool {
        if !tokens[i].ends_with("ing") || self.lexicon.entry(Pos::Noun, &tokens[i]).is_none() {
            return false;
        }
        if readings.get(i + 1).copied().flatten() == Some(Pos::Noun) {
            return false;
        }
        let mut j = i;
        while j > 0 && readings[j - 1] == Some(Pos::Adjective) {
            j -= 1;
        }
        j > 0 && DETERMINERS.contains(&tokens[j - 1].as_str())
    }

    /// The best `(first-sense tag count, number of senses)` among base forms.
    fn rank(&self, pos: Pos, forms: &[String]) -> Option<(u32, u32)> {
        forms
            .iter()
            .filter_map(|f| self.lexicon.entry(pos, f))
            .map(|e| (e.first_sense_count, e.senses))
            .max()
    }
}

/// Words after which an `-ing` form reads as a noun (rule 4).
const DETERMINERS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "his", "her", "their", "its", "my", "your",
    "our", "each", "every", "some", "no", "another", "any",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn small_lexicon() -> Lexicon {
        let mut l = Lexicon::empty();
        l.add_word(Pos::Noun, "dog", 42, &["dog", "domestic_dog"]);
        l.add_word(Pos::Verb, "dog", 2, &[]);
        l.add_word(Pos::Noun, "walk", 4, &[]);
        l.add_word(Pos::Verb, "walk", 67, &[]);
        l.add_word(Pos::Noun, "walking", 0, &[]);
        l.add_word(Pos::Noun, "red", 9, &[]);
        l.add_word(Pos::Adjective, "red", 30, &[]);
        l.add_word(Pos::Noun, "man", 749, &["man", "adult_male"]);
        l.add_word(Pos::Noun, "a", 7, &[]);
        l.add_word(Pos::Noun, "park", 20, &[]);
        l.add_word(Pos::Verb, "park", 5, &[]);
        l.add_exception(Pos::Noun, "men", "man");
        l
    }

    #[test]
    fn keeps_nouns_in_order_with_lemmas_and_stems() {
        let lexicon = small_lexicon();
        let extractor = NounExtractor::new(&lexicon);
        let nouns = extractor.nouns("Two men walking their dogs in a red park.");
        let words: Vec<_> = nouns.iter().map(|n| n.word.as_str()).collect();
        assert_eq!(words, ["men", "dogs", "park"]);
        assert_eq!(nouns[0].lemma, "man");
        assert_eq!(nouns[1].lemma, "dog");
        assert_eq!(nouns[1].stem, "dog");
    }
}
