//! Content-grounded description metrics: which objects a description names, whether
//! they are in the picture, and whether it names what the subject named, in the
//! subject's order.
//!
//! - **Hallucination** (CHAIR-i, Rohrbach et al. 2018, "Object Hallucination in Image
//!   Captioning"): the share of object mentions whose object is not in the image. As in
//!   CHAIR, only words of a fixed object vocabulary count: here the labels of every
//!   image's objects (the cohort's `scenes.json`, or the records' `objects` field),
//!   each with its synonyms (the cohort vocabulary's for its shapes, WordNet's
//!   first-sense synset otherwise). A colour said right before the noun ("a crimson
//!   triangle") must match too: a red triangle makes "a blue triangle" a hallucination.
//! - **Object recall**: of the objects the subject's own description names (and that
//!   are in the picture), the share the candidate names as well.
//! - **Order agreement**: Kendall's τ-a between the order in which the subject first
//!   names those objects and the order in which the candidate does, over the objects
//!   both name (descriptions sharing fewer than two are skipped).
//!
//! Words are PTB tokens compared by their Snowball stems, so "circles" names a circle.
//! Phrases match longest first ("circle outline" is a ring, not a circle).

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

use super::tokenize::ptb_tokens;
use super::wordnet::{Lexicon, Pos};
use crate::cohort::palette::ColourName;
use crate::cohort::scene::SizeClass;
use crate::cohort::shapes::Shape;
use crate::cohort::vocabulary::{colour_synonyms, shape_synonyms, size_synonyms};

/// How far before a noun (in words) a colour may stand and still be its colour.
const COLOUR_REACH_WORDS: usize = 3;

/// Words that end a noun phrase when looking back from a noun for its colour.
const PHRASE_BREAKS: &[&str] = &[
    "and", "or", "but", "then", "of", "to", "with", "next", "beside", "near", "above", "below",
    "behind", "on", "in", "at", "by", "is", "are",
];

/// An object as the metrics compare them: its class (an index into the vocabulary's
/// nouns) and, when known, its colour (an index into [`ColourName::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    pub class: usize,
    pub colour: Option<usize>,
}

impl ObjectKey {
    /// Same class, and the same colour where both say one.
    pub fn matches(self, other: ObjectKey) -> bool {
        self.class == other.class
            && match (self.colour, other.colour) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// One object named in a description, at its noun's token index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mention {
    pub key: ObjectKey,
    pub token: usize,
}

/// The object words of a data set: noun phrases and colour phrases, as stem sequences.
pub struct ObjectVocabulary {
    stemmer: Stemmer,
    nouns: HashMap<Vec<String>, usize>,
    colours: HashMap<Vec<String>, usize>,
    longest_noun: usize,
    longest_colour: usize,
    class_names: Vec<String>,
}

impl ObjectVocabulary {
    /// An empty vocabulary that knows the colour words.
    pub fn new() -> Self {
        let mut vocabulary = Self {
            stemmer: Stemmer::create(Algorithm::English),
            nouns: HashMap::new(),
            colours: HashMap::new(),
            longest_noun: 0,
            longest_colour: 0,
            class_names: Vec::new(),
        };
        for (index, colour) in ColourName::ALL.into_iter().enumerate() {
            for phrase in colour_synonyms(colour) {
                let stems = vocabulary.stems(phrase);
                vocabulary.longest_colour = vocabulary.longest_colour.max(stems.len());
                vocabulary.colours.entry(stems).or_insert(index);
            }
        }
        vocabulary
    }

    /// The class names, in class order.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// Parses an object label ("red circle", "house", "traffic light") into its key,
    /// adding its noun (and synonyms) to the vocabulary when new. Size words are
    /// dropped; `None` when the label names no noun (only a colour, or nothing).
    pub fn add_label(&mut self, label: &str, lexicon: Option<&Lexicon>) -> Option<ObjectKey> {
        let tokens = words(label);
        let stems: Vec<String> = tokens.iter().map(|t| self.stem(t)).collect();
        let mut colour = None;
        let mut noun = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            if let Some((found, len)) = self.colour_at(&stems, i) {
                colour = Some(found);
                i += len;
            } else {
                if !is_size_word(&tokens[i]) {
                    noun.push(tokens[i].clone());
                }
                i += 1;
            }
        }
        if noun.is_empty() {
            return None;
        }
        let phrase = noun.join(" ");
        let key = self.stems(&phrase);
        let class = match self.nouns.get(&key) {
            Some(&class) => class,
            None => {
                let class = self.class_names.len();
                self.class_names.push(phrase.clone());
                for synonym in synonyms(&phrase, lexicon) {
                    let stems = self.stems(&synonym);
                    if !stems.is_empty() {
                        self.longest_noun = self.longest_noun.max(stems.len());
                        self.nouns.entry(stems).or_insert(class);
                    }
                }
                class
            }
        };
        Some(ObjectKey { class, colour })
    }

    /// The objects `text` names, in order, longest phrases first.
    pub fn mentions(&self, text: &str) -> Vec<Mention> {
        let tokens = ptb_tokens(text);
        let stems: Vec<String> = tokens.iter().map(|t| self.stem(t)).collect();
        let mut mentions = Vec::new();
        let mut previous_end = 0;
        let mut i = 0;
        while i < stems.len() {
            let longest = self.longest_noun.min(stems.len() - i);
            let found = (1..=longest)
                .rev()
                .find_map(|len| self.nouns.get(&stems[i..i + len]).map(|&c| (c, len)));
            match found {
                Some((class, len)) => {
                    let colour = self.colour_before(&tokens, &stems, i, previous_end);
                    mentions.push(Mention {
                        key: ObjectKey { class, colour },
                        token: i,
                    });
                    i += len;
                    previous_end = i;
                }
                None => i += 1,
            }
        }
        mentions
    }

    /// The colour phrase starting at token `i`, with its length in tokens.
    fn colour_at(&self, stems: &[String], i: usize) -> Option<(usize, usize)> {
        let longest = self.longest_colour.min(stems.len().saturating_sub(i));
        (1..=longest)
            .rev()
            .find_map(|len| self.colours.get(&stems[i..i + len]).map(|&c| (c, len)))
    }

    /// The colour said within a few words before the noun at `noun`, not reaching
    /// back past `floor` (the previous mention) or a phrase break.
    fn colour_before(
        &self,
        tokens: &[String],
        stems: &[String],
        noun: usize,
        floor: usize,
    ) -> Option<usize> {
        let lowest = noun.saturating_sub(COLOUR_REACH_WORDS).max(floor);
        for end in (lowest..noun).rev() {
            let token = tokens[end].as_str();
            if !token.chars().any(char::is_alphanumeric) || PHRASE_BREAKS.contains(&token) {
                return None;
            }
            for len in 1..=self.longest_colour.min(end + 1 - lowest) {
                if let Some(&colour) = self.colours.get(&stems[end + 1 - len..=end]) {
                    return Some(colour);
                }
            }
        }
        None
    }

    fn stem(&self, token: &str) -> String {
        self.stemmer.stem(token).into_owned()
    }

    fn stems(&self, phrase: &str) -> Vec<String> {
        words(phrase).iter().map(|t| self.stem(t)).collect()
    }
}

impl Default for ObjectVocabulary {
    fn default() -> Self {
        Self::new()
    }
}

/// The word tokens of `text` (PTB tokens with a letter or digit).
fn words(text: &str) -> Vec<String> {
    ptb_tokens(text)
        .into_iter()
        .filter(|t| t.chars().any(char::is_alphanumeric))
        .collect()
}

fn is_size_word(word: &str) -> bool {
    SizeClass::ALL
        .into_iter()
        .any(|size| size_synonyms(size).contains(&word))
}

/// The phrase itself and its synonyms: the cohort vocabulary's when the phrase names
/// one of its shapes, else the members of WordNet's first noun sense.
fn synonyms(phrase: &str, lexicon: Option<&Lexicon>) -> Vec<String> {
    let mut out = vec![phrase.to_owned()];
    if let Some(shape) = Shape::ALL
        .into_iter()
        .find(|&s| shape_synonyms(s).contains(&phrase))
    {
        out.extend(shape_synonyms(shape).iter().map(|s| (*s).to_owned()));
        return out;
    }
    if let Some(lexicon) = lexicon {
        let lemma = phrase.replace(' ', "_");
        for base in lexicon.morphy(Pos::Noun, &lemma) {
            out.extend(
                lexicon
                    .first_synset(&base)
                    .iter()
                    .map(|m| m.replace('_', " ")),
            );
        }
    }
    out
}

/// The objects of each image, as keys of one vocabulary.
pub struct GroundingScorer {
    pub vocabulary: ObjectVocabulary,
    objects: HashMap<String, Vec<ObjectKey>>,
}

/// Content-grounded scores of a set of descriptions; `None` where nothing could be
/// measured (no image with known objects, no mention, no shared pair).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct GroundingScores {
    /// Share of object mentions not in the image (CHAIR-i).
    pub hallucination: Option<f64>,
    /// Share of the reference's objects the candidate names too.
    pub recall: Option<f64>,
    /// Mean Kendall τ-a of the order of first mentions, over pairs sharing ≥ 2 objects.
    pub order_tau: Option<f64>,
}

impl GroundingScorer {
    /// `labels`: each image's object labels ("red circle", "house").
    pub fn new<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a [String])>,
        lexicon: Option<&Lexicon>,
    ) -> Self {
        let mut vocabulary = ObjectVocabulary::new();
        let mut objects: HashMap<String, Vec<ObjectKey>> = HashMap::new();
        for (image, image_labels) in labels {
            let keys: Vec<ObjectKey> = image_labels
                .iter()
                .filter_map(|label| vocabulary.add_label(label, lexicon))
                .collect();
            objects.entry(image.to_owned()).or_default().extend(keys);
        }
        Self {
            vocabulary,
            objects,
        }
    }

    /// Whether any image has known objects.
    pub fn is_empty(&self) -> bool {
        self.objects.values().all(Vec::is_empty)
    }

    /// Whether the objects of `image` are known.
    pub fn knows(&self, image: &str) -> bool {
        self.objects.get(image).is_some_and(|o| !o.is_empty())
    }

    /// Whether `image` holds an object `key` may name.
    pub fn is_present(&self, image: &str, key: ObjectKey) -> bool {
        self.objects
            .get(image)
            .is_some_and(|objects| objects.iter().any(|o| o.matches(key)))
    }

    /// Share of the mentions in `(image, text)` pairs that are not in their image;
    /// images of unknown content are skipped.
    pub fn hallucination<'a>(
        &self,
        described: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<f64> {
        let (mut absent, mut total) = (0usize, 0usize);
        for (image, text) in described {
            if !self.knows(image) {
                continue;
            }
            for mention in self.vocabulary.mentions(text) {
                total += 1;
                absent += usize::from(!self.is_present(image, mention.key));
            }
        }
        (total > 0).then(|| absent as f64 / total as f64)
    }

    /// Recall and order agreement of `(image, candidate, reference)` triples.
    pub fn agreement<'a>(
        &self,
        triples: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> (Option<f64>, Option<f64>) {
        let (mut named, mut recalled) = (0usize, 0usize);
        let (mut tau_sum, mut tau_count) = (0.0, 0usize);
        for (image, candidate, reference) in triples {
            if !self.knows(image) {
                continue;
            }
            let wanted = self.first_mentions(image, reference);
            let said = self.vocabulary.mentions(candidate);
            let matched: Vec<(usize, usize)> = wanted
                .iter()
                .enumerate()
                .filter_map(|(rank, key)| {
                    said.iter()
                        .position(|m| m.key.matches(*key))
                        .map(|at| (rank, at))
                })
                .collect();
            named += wanted.len();
            recalled += matched.len();
            if let Some(tau) = kendall_tau_a(&matched) {
                tau_sum += tau;
                tau_count += 1;
            }
        }
        (
            (named > 0).then(|| recalled as f64 / named as f64),
            (tau_count > 0).then(|| tau_sum / tau_count as f64),
        )
    }

    /// All three scores of `(image, candidate, reference)` triples.
    pub fn score<'a>(&self, triples: &[(&'a str, &'a str, &'a str)]) -> GroundingScores {
        let hallucination = self.hallucination(triples.iter().map(|&(i, c, _)| (i, c)));
        let (recall, order_tau) = self.agreement(triples.iter().copied());
        GroundingScores {
            hallucination,
            recall,
            order_tau,
        }
    }

    /// The distinct objects `text` names that are in `image`, in order of first
    /// mention ("a red circle … the circle" is one object).
    fn first_mentions(&self, image: &str, text: &str) -> Vec<ObjectKey> {
        let mut keys: Vec<ObjectKey> = Vec::new();
        for mention in self.vocabulary.mentions(text) {
            if self.is_present(image, mention.key) && !keys.iter().any(|k| k.matches(mention.key)) {
                keys.push(mention.key);
            }
        }
        keys
    }
}

/// Kendall's τ-a of paired ranks (ties count as neither), `None` under two pairs.
pub fn kendall_tau_a(pairs: &[(usize, usize)]) -> Option<f64> {
    let n = pairs.len();
    if n < 2 {
        return None;
    }
    let mut score = 0i64;
    for (i, a) in pairs.iter().enumerate() {
        for b in &pairs[i + 1..] {
            let x = a.0.cmp(&b.0) as i64;
            let y = a.1.cmp(&b.1) as i64;
            score += x * y;
        }
    }
    Some(score as f64 / (n * (n - 1) / 2) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer(images: &[(&str, &[&str])]) -> GroundingScorer {
        let owned: Vec<(String, Vec<String>)> = images
            .iter()
            .map(|(i, ls)| {
                (
                    (*i).to_owned(),
                    ls.iter().map(|l| (*l).to_owned()).collect(),
                )
            })
            .collect();
        GroundingScorer::new(owned.iter().map(|(i, l)| (i.as_str(), l.as_slice())), None)
    }

    #[test]
    fn labels_parse_into_noun_and_colour_and_synonyms_share_a_class() {
        let mut v = ObjectVocabulary::new();
        let red_circle = v.add_label("red circle", None).unwrap();
        let house = v.add_label("small house", None).unwrap();
        assert_eq!(red_circle.colour, Some(0));
        assert_eq!(house.colour, None);
        assert_eq!(v.class_names(), ["circle", "house"]);
        assert_eq!(v.add_label("Blue Circle", None).unwrap().class, 0);
        assert!(v.add_label("crimson", None).is_none());
        let said = v.mentions("A crimson disc, two houses and a ball. Also a circle outline.");
        let keys: Vec<ObjectKey> = said.iter().map(|m| m.key).collect();
        assert_eq!(
            keys,
            [
                ObjectKey {
                    class: 0,
                    colour: Some(0)
                },
                ObjectKey {
                    class: 1,
                    colour: None
                },
                ObjectKey {
                    class: 0,
                    colour: None
                },
                ObjectKey {
                    class: 0,
                    colour: None
                },
            ],
            "a ball is a circle; 'circle outline' is a ring, which this vocabulary lacks"
        );
    }

    #[test]
    fn a_colour_belongs_to_the_next_noun_only_within_its_phrase() {
        let mut v = ObjectVocabulary::new();
        v.add_label("star", None);
        v.add_label("square", None);
        let said = v.mentions("a big navy star and a square; red, then a square");
        let colours: Vec<Option<usize>> = said.iter().map(|m| m.key.colour).collect();
        assert_eq!(colours, [Some(4), None, None]);
    }

    #[test]
    fn hallucination_counts_absent_objects_and_wrong_colours() {
        let s = scorer(&[
            ("a.png", &["red circle", "blue square"]),
            ("b.png", &["green star"]),
        ]);
        // circle ok, square ok, "yellow square" wrong colour, star absent.
        let h = s
            .hallucination([
                ("a.png", "a red circle and a square"),
                ("a.png", "a yellow square and a star"),
            ])
            .unwrap();
        assert!((h - 0.5).abs() < 1e-12, "{h}");
        assert_eq!(s.hallucination([("a.png", "nothing named here")]), None);
        assert_eq!(s.hallucination([("unknown.png", "a red circle")]), None);
        assert_eq!(s.hallucination([("b.png", "a star")]), Some(0.0));
    }

    #[test]
    fn recall_and_order_follow_the_reference() {
        let s = scorer(&[("a.png", &["red circle", "blue square", "green star"])]);
        let reference = "a red circle, then a blue square and finally a green star";
        let (recall, tau) = s.agreement([("a.png", reference, reference)]);
        assert_eq!((recall, tau), (Some(1.0), Some(1.0)));
        let reversed = "a star, a square, a circle";
        let (recall, tau) = s.agreement([("a.png", reversed, reference)]);
        assert_eq!((recall, tau), (Some(1.0), Some(-1.0)));
        let partial = "a green star and a purple triangle";
        let (recall, tau) = s.agreement([("a.png", partial, reference)]);
        assert!((recall.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(tau, None, "one shared object has no order");
    }

    #[test]
    fn kendall_tau_of_hand_computed_rankings() {
        assert_eq!(kendall_tau_a(&[(0, 0)]), None);
        assert_eq!(kendall_tau_a(&[(0, 0), (1, 1), (2, 2)]), Some(1.0));
        // (0,1),(1,0),(2,2): pairs: disc, conc, conc → 1/3.
        let tau = kendall_tau_a(&[(0, 1), (1, 0), (2, 2)]).unwrap();
        assert!((tau - 1.0 / 3.0).abs() < 1e-12);
        // Ties count as neither.
        assert_eq!(kendall_tau_a(&[(0, 3), (1, 3)]), Some(0.0));
    }
}
