//! A small reader of the WordNet 3.0 database files (Debian package `wordnet-base`,
//! `/usr/share/wordnet`): what noun extraction and synonym matching need, nothing else.
//!
//! Read at [`Lexicon::load`]:
//! - `index.{noun,verb,adj,adv}`: per lemma and part of speech, its number of senses
//!   and its synsets in WordNet's sense order (most frequent first);
//! - `cntlist.rev`: the semantic-concordance tag count of each sense; we keep the count
//!   of sense 1 (the most frequent sense) of every (lemma, part of speech);
//! - `data.noun`: the member words of the first-sense synset of every noun (a synset
//!   offset is the byte offset of its line, so only those lines are parsed);
//! - `{noun,verb,adj,adv}.exc`: irregular inflections (`men man`, `went go`).
//!
//! [`Lexicon::morphy`] finds base forms as WordNet's `morphy` does: the exception list,
//! the word itself, then the suffix rules of the part of speech; only forms present in
//! the index are kept. A lexicon can also be built in memory ([`Lexicon::empty`],
//! [`Lexicon::add_word`]) for tests. This module decides nothing about nouns in text;
//! that is [`super::nouns`].

use std::path::{Path, PathBuf};

use super::ngrams::FastMap;

/// Where Debian's `wordnet-base` puts the database.
pub const DEFAULT_WORDNET_DIR: &str = "/usr/share/wordnet";

/// A WordNet part of speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pos {
    Noun,
    Verb,
    Adjective,
    Adverb,
}

impl Pos {
    pub const ALL: [Pos; 4] = [Pos::Noun, Pos::Verb, Pos::Adjective, Pos::Adverb];

    fn index(self) -> usize {
        self as usize
    }

    /// The file-name part WordNet uses (`index.noun`, `adj.exc`, ...).
    fn file_name(self) -> &'static str {
        match self {
            Pos::Noun => "noun",
            Pos::Verb => "verb",
            Pos::Adjective => "adj",
            Pos::Adverb => "adv",
        }
    }

    /// `morphy`'s detachment rules: (suffix, replacement).
    fn suffix_rules(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Pos::Noun => &[
                ("s", ""),
                ("ses", "s"),
                ("xes", "x"),
                ("zes", "z"),
                ("ches", "ch"),
                ("shes", "sh"),
                ("men", "man"),
                ("ies", "y"),
            ],
            Pos::Verb => &[
                ("s", ""),
                ("ies", "y"),
                ("es", "e"),
                ("es", ""),
                ("ed", "e"),
                ("ed", ""),
                ("ing", "e"),
                ("ing", ""),
            ],
            Pos::Adjective => &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
            Pos::Adverb => &[],
        }
    }
}

/// What the lexicon knows about one lemma in one part of speech.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Number of senses (synsets) of the lemma in this part of speech.
    pub senses: u32,
    /// Tag count of its most frequent sense in the semantic concordances (0 if untagged).
    pub first_sense_count: u32,
    /// The synset of its most frequent sense (a `data.*` byte offset when loaded).
    pub first_synset: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error(
        "WordNet database not found: {path} is missing; install the Debian package \
         `wordnet-base` (`apt-get install wordnet-base`) or point to a folder holding \
         index.noun, data.noun, cntlist.rev and the *.exc files"
    )]
    Missing { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Lemmas, sense counts, first-sense noun synsets and inflection exceptions.
#[derive(Debug, Default)]
pub struct Lexicon {
    entries: [FastMap<String, Entry>; 4],
    exceptions: [FastMap<String, Vec<String>>; 4],
    /// Member lemmas (lower case) of each noun first-sense synset.
    synsets: FastMap<u32, Vec<String>>,
}

impl Lexicon {
    /// Loads the WordNet database from `dir` (usually [`DEFAULT_WORDNET_DIR`]).
    pub fn load(dir: &Path) -> Result<Self, LexiconError> {
        let mut lexicon = Self::default();
        for pos in Pos::ALL {
            let path = dir.join(format!("index.{}", pos.file_name()));
            lexicon.read_index(pos, &path, &read(&path)?)?;
            let path = dir.join(format!("{}.exc", pos.file_name()));
            lexicon.read_exceptions(pos, &read(&path)?);
        }
        let path = dir.join("cntlist.rev");
        lexicon.read_counts(&path, &read(&path)?)?;
        let path = dir.join("data.noun");
        lexicon.read_noun_synsets(&path, &read(&path)?)?;
        Ok(lexicon)
    }

    /// A lexicon with no words, to fill with [`Lexicon::add_word`] (tests, small demos).
    pub fn empty() -> Self {
        Self::default()
    }

    /// Adds a lemma with one sense. For a noun, `first_synset` lists the words of its
    /// most frequent sense (the lemma itself is added if missing).
    pub fn add_word(&mut self, pos: Pos, lemma: &str, first_sense_count: u32, synset: &[&str]) {
        let id = u32::MAX - self.synsets.len() as u32;
        let mut members: Vec<String> = synset.iter().map(|w| w.to_lowercase()).collect();
        if !members.iter().any(|m| m == lemma) {
            members.push(lemma.to_owned());
        }
        if pos == Pos::Noun {
            self.synsets.insert(id, members);
        }
        self.entries[pos.index()].insert(
            lemma.to_owned(),
            Entry {
                senses: 1,
                first_sense_count,
                first_synset: id,
            },
        );
    }

    /// Adds an irregular inflection (`mice` → `mouse`).
    pub fn add_exception(&mut self, pos: Pos, inflected: &str, base: &str) {
        self.exceptions[pos.index()]
            .entry(inflected.to_owned())
            .or_default()
            .push(base.to_owned());
    }

    /// The entry of a lemma (lower case, words joined by `_`).
    pub fn entry(&self, pos: Pos, lemma: &str) -> Option<&Entry> {
        self.entries[pos.index()].get(lemma)
    }

    /// Number of lemmas known in a part of speech.
    pub fn len(&self, pos: Pos) -> usize {
        self.entries[pos.index()].len()
    }

    /// Base forms of `word` in the index for `pos`, in `morphy`'s order: irregular
    /// forms from the exception list, the word itself, then the suffix rules.
    pub fn morphy(&self, pos: Pos, word: &str) -> Vec<String> {
        let mut forms: Vec<String> = Vec::new();
        let keep = |form: String, forms: &mut Vec<String>| {
            if self.entry(pos, &form).is_some() && !forms.contains(&form) {
                forms.push(form);
            }
        };
        if let Some(bases) = self.exceptions[pos.index()].get(word) {
            for base in bases {
                keep(base.clone(), &mut forms);
            }
        }
        keep(word.to_owned(), &mut forms);
        for (suffix, replacement) in pos.suffix_rules() {
            if let Some(stem) = word.strip_suffix(suffix)
                && !stem.is_empty()
            {
                keep(format!("{stem}{replacement}"), &mut forms);
            }
        }
        forms
    }

    /// The words of the first-sense synset of a noun lemma (empty if unknown).
    pub fn first_synset(&self, noun_lemma: &str) -> &[String] {
        self.entry(Pos::Noun, noun_lemma)
            .and_then(|e| self.synsets.get(&e.first_synset))
            .map_or(&[], Vec::as_slice)
    }

    /// Two noun lemmas are synonyms when one is a member of the other's first-sense
    /// synset (`car`/`automobile`; `bicycle`/`bike`, since `bike` is in the first sense
    /// of `bicycle` though `bike`'s own first sense is the motorcycle).
    pub fn are_synonyms(&self, a: &str, b: &str) -> bool {
        a != b
            && (self.first_synset(a).iter().any(|m| m == b)
                || self.first_synset(b).iter().any(|m| m == a))
    }

    fn read_index(&mut self, pos: Pos, path: &Path, text: &str) -> Result<(), LexiconError> {
        for (i, line) in text.lines().enumerate() {
            if line.starts_with(' ') || line.is_empty() {
                continue; // license header
            }
            let Some((lemma, senses, first_synset)) = parse_index_line(line) else {
                return Err(LexiconError::Malformed {
                    path: path.to_owned(),
                    line: i + 1,
                    message: "expected `lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt \
                              tagsense_cnt synset_offset...`"
                        .to_owned(),
                });
            };
            self.entries[pos.index()].insert(
                lemma.to_owned(),
                Entry {
                    senses,
                    first_sense_count: 0,
                    first_synset,
                },
            );
        }
        Ok(())
    }

    fn read_exceptions(&mut self, pos: Pos, text: &str) {
        for line in text.lines() {
            let mut words = line.split_ascii_whitespace();
            if let Some(inflected) = words.next() {
                for base in words {
                    self.add_exception(pos, inflected, base);
                }
            }
        }
    }

    /// `cntlist.rev` lines: `lemma%ss_type:lex_filenum:lex_id:head:head_id sense tag_count`.
    fn read_counts(&mut self, path: &Path, text: &str) -> Result<(), LexiconError> {
        for (i, line) in text.lines().enumerate() {
            let malformed = || LexiconError::Malformed {
                path: path.to_owned(),
                line: i + 1,
                message: "expected `sense_key sense_number tag_count`".to_owned(),
            };
            let mut fields = line.split_ascii_whitespace();
            let (Some(key), Some(sense), Some(count)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed());
            };
            if sense != "1" {
                continue;
            }
            let (lemma, rest) = key.split_once('%').ok_or_else(malformed)?;
            let pos = match rest.as_bytes().first() {
                Some(b'1') => Pos::Noun,
                Some(b'2') => Pos::Verb,
                Some(b'3' | b'5') => Pos::Adjective,
                Some(b'4') => Pos::Adverb,
                _ => return Err(malformed()),
            };
            let count: u32 = count.parse().map_err(|_| malformed())?;
            if let Some(entry) = self.entries[pos.index()].get_mut(lemma) {
                entry.first_sense_count = entry.first_sense_count.max(count);
            }
        }
        Ok(())
    }

    /// Parses the `data.noun` line of every noun's first synset:
    /// `offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id ...] ...`.
    fn read_noun_synsets(&mut self, path: &Path, text: &str) -> Result<(), LexiconError> {
        let mut offsets: Vec<u32> = self.entries[Pos::Noun.index()]
            .values()
            .map(|e| e.first_synset)
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        for offset in offsets {
            let malformed = |message: String| LexiconError::Malformed {
                path: path.to_owned(),
                line: 0,
                message: format!("synset at byte offset {offset}: {message}"),
            };
            let start = offset as usize;
            let line = text
                .get(start..)
                .and_then(|rest| rest.split('\n').next())
                .ok_or_else(|| malformed("past the end of the file".to_owned()))?;
            // offset lex_filenum ss_type w_cnt word lex_id [word lex_id ...] ...
            let mut fields = line.split_ascii_whitespace();
            if fields.next().and_then(|f| f.parse::<u32>().ok()) != Some(offset) {
                return Err(malformed(
                    "the line there does not start with that offset".into(),
                ));
            }
            let count = fields
                .nth(2)
                .and_then(|f| usize::from_str_radix(f, 16).ok())
                .ok_or_else(|| malformed("expected a hexadecimal word count".into()))?;
            let members: Vec<String> = fields
                .take(2 * count)
                .step_by(2)
                .map(str::to_lowercase)
                .collect();
            if members.len() != count {
                return Err(malformed(format!("expected {count} words")));
            }
            self.synsets.insert(offset, members);
        }
        Ok(())
    }
}

/// `(lemma, sense count, first synset offset)` of an `index.*` line.
fn parse_index_line(line: &str) -> Option<(&str, u32, u32)> {
    let mut fields = line.split_ascii_whitespace();
    let lemma = fields.next()?;
    let _pos = fields.next()?;
    let synset_count: usize = fields.next()?.parse().ok()?;
    let pointer_count: usize = fields.next()?.parse().ok()?;
    for _ in 0..pointer_count {
        fields.next()?;
    }
    let senses: u32 = fields.next()?.parse().ok()?;
    let _tagged = fields.next()?;
    let first_synset: u32 = fields.next()?.parse().ok()?;
    // The other offsets must be there too.
    (fields.count() + 1 >= synset_count).then_some((lemma, senses, first_synset))
}

fn read(path: &Path) -> Result<String, LexiconError> {
    std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            LexiconError::Missing {
                path: path.to_owned(),
            }
        } else {
            LexiconError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_names_the_path_and_the_debian_package() {
        let dir = Path::new("/nonexistent/wordnet");
        let message = Lexicon::load(dir).unwrap_err().to_string();
        assert!(
            message.contains("/nonexistent/wordnet/index.noun"),
            "{message}"
        );
        assert!(message.contains("wordnet-base"), "{message}");
    }

    #[test]
    fn morphy_uses_exceptions_the_word_and_suffix_rules() {
        let mut lexicon = Lexicon::empty();
        lexicon.add_word(Pos::Noun, "mouse", 5, &[]);
        lexicon.add_word(Pos::Noun, "box", 5, &[]);
        lexicon.add_word(Pos::Noun, "glass", 5, &[]);
        lexicon.add_word(Pos::Noun, "glasses", 5, &["spectacles"]);
        lexicon.add_exception(Pos::Noun, "mice", "mouse");
        assert_eq!(lexicon.morphy(Pos::Noun, "mice"), ["mouse"]);
        assert_eq!(lexicon.morphy(Pos::Noun, "boxes"), ["box"]);
        assert_eq!(lexicon.morphy(Pos::Noun, "glasses"), ["glasses", "glass"]);
        assert!(lexicon.morphy(Pos::Noun, "quickly").is_empty());
    }

    #[test]
    fn synonyms_share_the_first_sense_of_either_word() {
        let mut lexicon = Lexicon::empty();
        lexicon.add_word(Pos::Noun, "car", 71, &["car", "auto", "automobile"]);
        lexicon.add_word(Pos::Noun, "automobile", 5, &["car", "auto", "automobile"]);
        lexicon.add_word(Pos::Noun, "truck", 9, &["truck", "motortruck"]);
        assert!(lexicon.are_synonyms("car", "automobile"));
        assert!(lexicon.are_synonyms("auto", "car"));
        assert!(!lexicon.are_synonyms("car", "truck"));
        assert!(!lexicon.are_synonyms("car", "car"));
    }
}
