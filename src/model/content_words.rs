//! Content words: the words of the training descriptions that the picture predicts,
//! found without labels, as targets of the captioner's auxiliary content loss.
//!
//! A word is a *content word* when people who see the same image tend to use it
//! together: for ordered pairs of descriptions of one image by two describers, the
//! share of pairs where the second uses the word given that the first does, minus
//! the word's base rate over all descriptions. Object nouns and colours score high
//! ("triangle", "crimson" when that image has a red triangle); words of a person's
//! style ("finally", "also") and words everyone uses ("image") score near zero, since
//! the image does not predict them. Words are Snowball stems of the COCO tokens, so
//! "circles" and "circle" are one word; closed-class words are never chosen.
//!
//! The base stage trains a linear head ([`ContentHead`]) on the pooled image features
//! to predict each description's content words (binary cross-entropy): the encoder
//! must see what is in the picture, not only what captions usually say. Images described once give
//! no pairs; a set of such images gives no content words and the loss is off.

use std::collections::{HashMap, HashSet};

use candle_core::{D, Module, Tensor};
use candle_nn::{Linear, VarBuilder, linear};
use rust_stemmers::{Algorithm, Stemmer};

use crate::metrics::nouns::STOPWORDS;
use crate::metrics::tokenize::coco_tokenize;

/// Fewest descriptions a content word must occur in.
const MIN_DESCRIPTIONS: usize = 3;
/// Smallest lift (conditional minus base rate) of a content word.
const MIN_LIFT: f64 = 0.05;

/// The chosen content words, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentWords {
    words: Vec<String>,
    index: HashMap<String, usize>,
}

/// The distinct stems of a description's open-class words.
fn stems(stemmer: &Stemmer, stop: &HashSet<&str>, text: &str) -> HashSet<String> {
    coco_tokenize(text)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic) && !stop.contains(w))
        .map(|w| stemmer.stem(w).into_owned())
        .collect()
}

fn stopwords() -> HashSet<&'static str> {
    STOPWORDS
        .iter()
        .flat_map(|s| s.split_whitespace())
        .collect()
}

impl ContentWords {
    /// Chooses up to `max_words` content words from `(image, description)` pairs.
    pub fn select<'a>(
        described: impl IntoIterator<Item = (&'a str, &'a str)>,
        max_words: usize,
    ) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let stop = stopwords();
        let mut by_image: HashMap<&str, Vec<HashSet<String>>> = HashMap::new();
        let mut total = 0usize;
        let mut frequency: HashMap<String, usize> = HashMap::new();
        for (image, text) in described {
            let words = stems(&stemmer, &stop, text);
            for w in &words {
                *frequency.entry(w.clone()).or_default() += 1;
            }
            by_image.entry(image).or_default().push(words);
            total += 1;
        }
        // given[w]: pairs whose first description uses w; both[w]: and the second too.
        let mut given: HashMap<&str, usize> = HashMap::new();
        let mut both: HashMap<&str, usize> = HashMap::new();
        for descriptions in by_image.values() {
            for (a, first) in descriptions.iter().enumerate() {
                for (b, second) in descriptions.iter().enumerate() {
                    if a == b {
                        continue;
                    }
                    for w in first {
                        *given.entry(w.as_str()).or_default() += 1;
                        if second.contains(w) {
                            *both.entry(w.as_str()).or_default() += 1;
                        }
                    }
                }
            }
        }
        let mut scored: Vec<(f64, &str)> = given
            .iter()
            .filter(|(w, _)| frequency[**w] >= MIN_DESCRIPTIONS)
            .map(|(&w, &n)| {
                let conditional = both.get(w).copied().unwrap_or(0) as f64 / n as f64;
                let base = frequency[w] as f64 / total.max(1) as f64;
                (conditional - base, w)
            })
            .filter(|(lift, _)| *lift >= MIN_LIFT)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let words: Vec<String> = scored
            .into_iter()
            .take(max_words)
            .map(|(_, w)| w.to_owned())
            .collect();
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Self { words, index }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The chosen stems, best first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The multi-hot target of a description: 1 for each content word it uses.
    pub fn targets(&self, text: &str) -> Vec<f32> {
        let stemmer = Stemmer::create(Algorithm::English);
        let mut out = vec![0.0; self.words.len()];
        for w in stems(&stemmer, &stopwords(), text) {
            if let Some(&i) = self.index.get(&w) {
                out[i] = 1.0;
            }
        }
        out
    }
}

/// The auxiliary head: image features `[b, n, width]`, mean- and max-pooled over the
/// tokens, → one logit per content word. Its weights live under `content_head.` in
/// the captioner's store and are unused after the base stage.
#[derive(Debug, Clone)]
pub struct ContentHead {
    linear: Linear,
}

impl ContentHead {
    pub fn new(image_width: usize, words: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            linear: linear(2 * image_width, words, vb)?,
        })
    }

    /// Logits `[b, words]`.
    pub fn forward(&self, features: &Tensor) -> candle_core::Result<Tensor> {
        let pooled = Tensor::cat(&[features.mean(1)?, features.max(1)?], D::Minus1)?;
        self.linear.forward(&pooled)
    }

    /// Mean binary cross-entropy of `logits` against multi-hot `targets` (same shape),
    /// computed stably: `max(x, 0) − x·y + log(1 + e^−|x|)`.
    pub fn loss(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        let stable = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
        (logits.relu()? - (logits * targets)?)?
            .add(&stable)?
            .mean_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_the_image_predicts_are_chosen_and_style_words_are_not() {
        // Two images, three describers; each describer has a habit word.
        let data = [
            ("a", "i see a red triangle, finally"),
            ("a", "there is a crimson triangle also"),
            ("a", "a red triangle and so on"),
            ("b", "i see a blue circle, finally"),
            ("b", "there is a blue circle also"),
            ("b", "a blue disc and so on"),
        ];
        let words = ContentWords::select(data.iter().copied(), 10);
        let chosen: Vec<&str> = words.words().iter().map(String::as_str).collect();
        assert!(
            chosen.contains(&"triangl") && chosen.contains(&"blue"),
            "{chosen:?}"
        );
        assert!(
            !chosen.contains(&"final") && !chosen.contains(&"also"),
            "{chosen:?}"
        );
        assert!(
            !chosen.contains(&"a") && !chosen.contains(&"i"),
            "{chosen:?}"
        );
        let t = words.targets("Two blue triangles");
        assert_eq!(t.iter().sum::<f32>(), 2.0, "{chosen:?} {t:?}");
        assert_eq!(ContentWords::select(data.iter().copied(), 1).len(), 1);
    }

    #[test]
    fn the_loss_is_binary_cross_entropy() {
        let logits = Tensor::new(&[[0.0f32, 2.0], [-3.0, 1.0]], &candle_core::Device::Cpu).unwrap();
        let targets = Tensor::new(&[[1.0f32, 0.0], [0.0, 1.0]], &candle_core::Device::Cpu).unwrap();
        let got = ContentHead::loss(&logits, &targets)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
        let want = -(sigmoid(0.0).ln()
            + (1.0 - sigmoid(2.0)).ln()
            + (1.0 - sigmoid(-3.0)).ln()
            + sigmoid(1.0).ln())
            / 4.0;
        assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn images_described_once_give_no_content_words() {
        let data = [
            ("a", "a red triangle"),
            ("b", "a red triangle"),
            ("c", "a red cat"),
        ];
        assert!(ContentWords::select(data, 10).is_empty());
    }
}
