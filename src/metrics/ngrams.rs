//! N-gram counting shared by BLEU and CIDEr-D: word interning, packed n-gram keys,
//! per-sentence sorted count vectors, and the tokenized corpus both scorers read.
//!
//! Sentences are split on whitespace, exactly like pycocoevalcap's `s.split()`, so
//! give this module already tokenized text (see [`super::tokenize::coco_tokenize`]).
//! It owns no scoring rule.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The longest n-gram both metrics use.
pub const MAX_N: usize = 4;

/// A hash map with a fast non-cryptographic hasher (the rustc "Fx" hash); keys here are
/// words and packed n-grams, never attacker-chosen in a way that matters.
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The Fx hasher: one multiply-rotate per word of input.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_u128(&mut self, i: u128) {
        // Truncations on purpose: the two halves of the key.
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// An n-gram of 1 to 4 words: word ids + 1 packed into 32-bit limbs, first word lowest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ngram(u128);

impl Ngram {
    fn from_ids(ids: &[u32]) -> Self {
        let mut key = 0u128;
        for (j, &id) in ids.iter().enumerate() {
            key |= (u128::from(id) + 1) << (32 * j);
        }
        Self(key)
    }

    /// Number of words, 1..=4.
    pub fn order(self) -> usize {
        (128 - self.0.leading_zeros() as usize).div_ceil(32)
    }
}

/// One tokenized sentence as the scorers see it: its length in words and its n-gram
/// counts (n = 1..=4), sorted by n-gram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sentence {
    pub word_count: usize,
    pub counts: Vec<(Ngram, u32)>,
}

impl Sentence {
    fn from_ids(ids: &[u32]) -> Self {
        let mut keys = Vec::with_capacity(ids.len() * MAX_N);
        for n in 1..=MAX_N {
            keys.extend(ids.windows(n).map(Ngram::from_ids));
        }
        keys.sort_unstable();
        let mut counts: Vec<(Ngram, u32)> = Vec::with_capacity(keys.len());
        for key in keys {
            match counts.last_mut() {
                Some((last, count)) if *last == key => *count += 1,
                _ => counts.push((key, 1)),
            }
        }
        Self {
            word_count: ids.len(),
            counts,
        }
    }
}

/// Word interning: the same word gets the same id in every sentence of a corpus.
#[derive(Debug, Default)]
pub struct Vocabulary {
    ids: FastMap<Box<str>, u32>,
    scratch: Vec<u32>,
}

impl Vocabulary {
    /// Counts the n-grams of a tokenized sentence (words split on whitespace).
    pub fn sentence(&mut self, tokenized: &str) -> Sentence {
        let mut ids = std::mem::take(&mut self.scratch);
        ids.clear();
        for word in tokenized.split_whitespace() {
            let next = self.ids.len() as u32;
            let id = match self.ids.get(word) {
                Some(&id) => id,
                None => {
                    self.ids.insert(word.into(), next);
                    next
                }
            };
            ids.push(id);
        }
        let sentence = Sentence::from_ids(&ids);
        self.scratch = ids;
        sentence
    }
}

/// Tokenized segments to score: one candidate and its references per segment (an
/// image in COCO terms; a (image, subject) pair in scanscribe's personalized setting).
#[derive(Debug, Default)]
pub struct Corpus {
    pub vocabulary: Vocabulary,
    pub candidates: Vec<Sentence>,
    pub references: Vec<Vec<Sentence>>,
}

impl Corpus {
    /// Builds a corpus from already tokenized text: `(candidate, references)` per
    /// segment. Give each segment at least one reference, as pycocoevalcap requires.
    pub fn from_tokenized<C, R, S>(segments: impl IntoIterator<Item = (C, R)>) -> Self
    where
        C: AsRef<str>,
        R: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut corpus = Self::default();
        for (candidate, references) in segments {
            corpus.push(candidate.as_ref(), references);
        }
        corpus
    }

    /// Adds one segment of already tokenized text.
    pub fn push<S: AsRef<str>>(
        &mut self,
        candidate: &str,
        references: impl IntoIterator<Item = S>,
    ) {
        let candidate = self.vocabulary.sentence(candidate);
        let references = references
            .into_iter()
            .map(|r| self.vocabulary.sentence(r.as_ref()))
            .collect();
        self.candidates.push(candidate);
        self.references.push(references);
    }

    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_ngram_up_to_four_words() {
        let mut vocabulary = Vocabulary::default();
        let s = vocabulary.sentence("a a a b");
        assert_eq!(s.word_count, 4);
        let by_order = |n| -> u32 {
            s.counts
                .iter()
                .filter(|(g, _)| g.order() == n)
                .map(|(_, c)| c)
                .sum()
        };
        assert_eq!(
            [by_order(1), by_order(2), by_order(3), by_order(4)],
            [4, 3, 2, 1]
        );
        // "a" three times, "a a" twice.
        let max = s.counts.iter().map(|&(_, c)| c).max();
        assert_eq!(max, Some(3));
        assert_eq!(s.counts.iter().filter(|&&(_, c)| c == 2).count(), 1);
    }
}
