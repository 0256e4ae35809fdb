//! N-gram counting shared by BLEU and CIDEr-D: word and n-gram interning (dense ids
//! per order, so the scorers index arrays instead of hashing), per-sentence sorted
//! count vectors, and the tokenized corpus both scorers read.
//!
//! Sentences are split on whitespace like pycocoevalcap's `s.split()` (Rust's Unicode
//! whitespace; Python's `str.split` also splits on the ASCII separators U+001C..U+001F,
//! which tokenized text never holds), so give this module already tokenized text (see
//! [`super::tokenize::coco_tokenize`]). It owns no scoring rule.

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

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// An interned n-gram of 1 to 4 words: its order in the top 2 bits, below it a dense
/// index among the n-grams of that order (for unigrams, the word id). Ids are only
/// comparable within the [`Vocabulary`] that made them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ngram(u32);

const INDEX_BITS: u32 = 30;

impl Ngram {
    fn new(order: usize, index: u32) -> Self {
        Self(((order as u32 - 1) << INDEX_BITS) | index)
    }

    /// Number of words, 1..=4.
    pub fn order(self) -> usize {
        (self.0 >> INDEX_BITS) as usize + 1
    }

    /// Dense index among the n-grams of its order, in order of first appearance.
    pub fn index(self) -> usize {
        (self.0 & ((1 << INDEX_BITS) - 1)) as usize
    }
}

/// One tokenized sentence as the scorers see it: its length in words and its n-gram
/// counts (n = 1..=4), sorted by n-gram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sentence {
    pub word_count: usize,
    pub counts: Vec<(Ngram, u32)>,
}

/// Word and n-gram interning: the same word (n-gram) gets the same id in every
/// sentence counted by one vocabulary. An n-gram of order n > 1 is keyed by its
/// (n−1)-gram prefix and its last word, so every lookup hashes one `u64`.
#[derive(Debug, Default)]
pub struct Vocabulary {
    words: FastMap<Box<str>, u32>,
    /// For orders 2, 3, 4: `prefix index << 32 | last word id` → index.
    longer: [FastMap<u64, u32>; MAX_N - 1],
    word_scratch: Vec<u32>,
    prefix_scratch: Vec<u32>,
    ngram_scratch: Vec<Ngram>,
}

impl Vocabulary {
    /// Counts the n-grams of a tokenized sentence (words split on whitespace).
    pub fn sentence(&mut self, tokenized: &str) -> Sentence {
        let mut ids = std::mem::take(&mut self.word_scratch);
        let mut prefixes = std::mem::take(&mut self.prefix_scratch);
        let mut keys = std::mem::take(&mut self.ngram_scratch);
        ids.clear();
        keys.clear();
        for word in tokenized.split_whitespace() {
            let next = self.words.len() as u32;
            let id = match self.words.get(word) {
                Some(&id) => id,
                None => {
                    self.words.insert(word.into(), next);
                    next
                }
            };
            ids.push(id);
            keys.push(Ngram::new(1, id));
        }
        // prefixes[i]: index of the (n−1)-gram starting at word i.
        prefixes.clear();
        prefixes.extend_from_slice(&ids);
        for n in 2..=MAX_N {
            let map = &mut self.longer[n - 2];
            let count = ids.len().saturating_sub(n - 1);
            for i in 0..count {
                let key = (u64::from(prefixes[i]) << 32) | u64::from(ids[i + n - 1]);
                let next = map.len() as u32;
                let index = *map.entry(key).or_insert(next);
                prefixes[i] = index;
                keys.push(Ngram::new(n, index));
            }
            prefixes.truncate(count);
        }
        keys.sort_unstable();
        let mut counts: Vec<(Ngram, u32)> = Vec::with_capacity(keys.len());
        for &key in &keys {
            match counts.last_mut() {
                Some((last, count)) if *last == key => *count += 1,
                _ => counts.push((key, 1)),
            }
        }
        let sentence = Sentence {
            word_count: ids.len(),
            counts,
        };
        self.word_scratch = ids;
        self.prefix_scratch = prefixes;
        self.ngram_scratch = keys;
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
