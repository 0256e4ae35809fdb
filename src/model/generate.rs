//! Description generation, for any model behind [`DescriptionModel`]: greedy or beam
//! search, both deterministic (ties go to the lower token id), stopping at the
//! model's stop tokens. Models that offer an [`IncrementalDecoder`] (the built-in
//! captioner does) decode with a key/value cache, each step feeding only the newest
//! token of each beam; others recompute the whole sequence every step. Both give the
//! same text. With a temperature above 0, one sequence is sampled instead (top-p,
//! seeded). Qwen2-VL's cached decoder (`qwen2vl::decode`) plugs in the same way.

use std::path::Path;

use candle_core::{D, Device, IndexOp, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::captioner::{Captioner, DecodeCache};
use super::error::Result;
use super::images::load_image;
use super::sampling::{sample, top_k};
use super::tokenizer::TextTokenizer;

/// What a description model offers DEPER: image tokens, token logits for a prompt
/// whose `<subj>` embedding can be replaced, its tokenizer and prompt, and
/// description generation.
pub trait DescriptionModel {
    /// Width of the token embeddings (the adapter's output size).
    fn hidden_size(&self) -> usize;
    /// The image file at `path` prepared for [`Self::encode_image`], `[3, h, w]`
    /// (the built-in captioner: a fixed square; Qwen2-VL: sides multiples of 28, the
    /// aspect ratio kept).
    fn load_image(&self, path: &Path, device: &Device) -> Result<Tensor>;
    /// `[b, 3, h, w]` images → image tokens for [`Self::logits`]; dim 0 is the batch,
    /// the rest is the model's (`[b, n, d]` for the captioner, `[b, rows, cols, d]`
    /// for Qwen2-VL, whose positions follow the merged patch grid).
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor>;
    /// Token ids that precede a description of an image with these tokens
    /// (`[1, ...]`); `personalized`: whether a subject embedding will fill `<subj>`.
    fn start_ids(&self, image_tokens: &Tensor, personalized: bool) -> Result<Vec<u32>>;
    /// Tokens that end a description.
    fn stop_ids(&self) -> Vec<u32>;
    /// A description of one image (`image_tokens` `[1, ...]`), personalized when
    /// `subj` `[1, hidden]` is given. Returns the text and the number of tokens.
    fn describe(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)>;
    /// `[b, s]` token ids → `[b, s, vocab]` logits; `subj` `[b, hidden]` replaces `<subj>`.
    fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor>;
    fn tokenizer(&self) -> &TextTokenizer;
    fn prompt(&self) -> &str;
    fn max_positions(&self) -> usize;
    /// A decoder with a key/value cache for one image (`[1, n, d]` tokens) and
    /// optional `subj` `[1, hidden]`, if the model has one.
    fn incremental_decoder<'a>(
        &'a self,
        _image_tokens: &Tensor,
        _subj: Option<&Tensor>,
    ) -> Option<Box<dyn IncrementalDecoder + 'a>> {
        None
    }
}

/// Step-by-step decoding of a batch of sequences that share an image.
pub trait IncrementalDecoder {
    /// Feeds the next tokens `[b, t]` of each sequence; returns the logits of the last
    /// one, `[b, vocab]`.
    fn feed(&mut self, ids: &Tensor) -> candle_core::Result<Tensor>;
    /// Keeps the sequences `rows` (u32 `[n]`), in that order, for the next feed.
    fn select_rows(&mut self, rows: &Tensor) -> candle_core::Result<()>;
}

/// [`IncrementalDecoder`] of the built-in captioner.
struct CaptionerDecoder<'a> {
    describer: &'a BuiltinDescriber,
    image_tokens: Tensor,
    subj: Option<Tensor>,
    cache: DecodeCache,
}

impl IncrementalDecoder for CaptionerDecoder<'_> {
    fn feed(&mut self, ids: &Tensor) -> candle_core::Result<Tensor> {
        let logits = self.describer.model.logits_cached(
            &self.image_tokens,
            ids,
            self.describer.tokenizer.subj_id,
            self.subj.as_ref(),
            &mut self.cache,
        )?;
        let t = logits.dim(1)?;
        logits.i((.., t - 1, ..))
    }

    fn select_rows(&mut self, rows: &Tensor) -> candle_core::Result<()> {
        self.cache.select_rows(rows)
    }
}

/// A [`Captioner`] with its tokenizer.
#[derive(Debug, Clone)]
pub struct BuiltinDescriber {
    pub model: Captioner,
    pub tokenizer: TextTokenizer,
}

impl DescriptionModel for BuiltinDescriber {
    fn hidden_size(&self) -> usize {
        self.model.config.width
    }
    fn load_image(&self, path: &Path, device: &Device) -> Result<Tensor> {
        load_image(path, self.model.config.image.image_size, device)
    }
    fn encode_image(&self, images: &Tensor) -> candle_core::Result<Tensor> {
        self.model.encode_image(images)
    }
    fn start_ids(&self, _image_tokens: &Tensor, _personalized: bool) -> Result<Vec<u32>> {
        // The generic description keeps `<subj>`'s own learnt embedding.
        let mut ids = self.tokenizer.encode(&self.model.config.prompt)?;
        ids.push(self.tokenizer.bos_id);
        Ok(ids)
    }
    fn stop_ids(&self) -> Vec<u32> {
        vec![self.tokenizer.eos_id]
    }
    fn describe(
        &self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)> {
        generate(self, image_tokens, subj, options)
    }
    fn logits(
        &self,
        image_tokens: &Tensor,
        input_ids: &Tensor,
        subj: Option<&Tensor>,
    ) -> candle_core::Result<Tensor> {
        self.model
            .logits(image_tokens, input_ids, self.tokenizer.subj_id, subj)
    }
    fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }
    fn prompt(&self) -> &str {
        &self.model.config.prompt
    }
    fn max_positions(&self) -> usize {
        self.model.config.max_positions
    }
    fn incremental_decoder<'a>(
        &'a self,
        image_tokens: &Tensor,
        subj: Option<&Tensor>,
    ) -> Option<Box<dyn IncrementalDecoder + 'a>> {
        Some(Box::new(CaptionerDecoder {
            describer: self,
            image_tokens: image_tokens.clone(),
            subj: subj.cloned(),
            cache: DecodeCache::default(),
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerateOptions {
    /// 1 = greedy.
    pub beam_width: usize,
    pub max_tokens: usize,
    /// Beam scores are `log p / length^length_penalty`.
    pub length_penalty: f32,
    /// Sampling temperature; 0 = deterministic search (greedy or beam); above 0 one
    /// sequence is sampled (`beam_width` is ignored).
    pub temperature: f32,
    /// Nucleus sampling: the smallest set of tokens with this much probability.
    pub top_p: f32,
    /// Seed of the sampler.
    pub seed: u64,
    /// No n-gram of this many tokens appears twice in a description (a token that
    /// would repeat one is never chosen); 0 allows repeats.
    pub no_repeat_ngram: usize,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            beam_width: 3,
            max_tokens: 48,
            length_penalty: 1.0,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            no_repeat_ngram: 3,
        }
    }
}

/// Describes one image. `image_tokens`: `[1, n, d]` from [`DescriptionModel::encode_image`];
/// `subj`: `[1, hidden]` or `None` for the generic description. Returns the text and the
/// number of tokens generated.
pub fn generate(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    options: &GenerateOptions,
) -> Result<(String, usize)> {
    let ids = generate_ids(model, image_tokens, subj, options, true)?;
    Ok((model.tokenizer().decode(&ids)?, ids.len()))
}

/// [`generate`] recomputing the whole sequence at every step, even where the model
/// has a cache (to check the two agree).
pub fn generate_uncached(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    options: &GenerateOptions,
) -> Result<(String, usize)> {
    let ids = generate_ids(model, image_tokens, subj, options, false)?;
    Ok((model.tokenizer().decode(&ids)?, ids.len()))
}

/// One hypothesis of the beam search.
#[derive(Debug, Clone)]
struct Beam {
    /// Tokens after the start.
    tokens: Vec<u32>,
    /// Summed log-probability.
    score: f32,
    finished: bool,
    /// Row of the previous step's open beams this one extends.
    parent: usize,
}

/// The generated token ids (stop token excluded). `use_cache`: decode through the
/// model's [`IncrementalDecoder`] when it has one; `false` recomputes the whole
/// sequence every step.
pub fn generate_ids(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    options: &GenerateOptions,
    use_cache: bool,
) -> Result<Vec<u32>> {
    let mut cached = if use_cache {
        model.incremental_decoder(image_tokens, subj)
    } else {
        None
    };
    let start = model.start_ids(image_tokens, subj.is_some())?;
    let stop = model.stop_ids();
    let budget = options
        .max_tokens
        .min(model.max_positions().saturating_sub(start.len()));
    let device = image_tokens.device().clone();
    let sampling = options.temperature > 0.0;
    let width = if sampling {
        1
    } else {
        options.beam_width.max(1)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut beams = vec![Beam {
        tokens: Vec::new(),
        score: 0.0,
        finished: false,
        parent: 0,
    }];
    // Log-probabilities of the next token, one row per open beam in order.
    let mut log_probs = match cached.as_mut() {
        Some(decoder) => {
            let ids = Tensor::from_slice(&start, (1, start.len()), &device)?;
            rows_of(&decoder.feed(&ids)?)?
        }
        None => next_log_probs(model, image_tokens, subj, &start, &[Vec::new()], &device)?,
    };
    for step in 0..budget {
        let mut candidates: Vec<Beam> = beams.iter().filter(|b| b.finished).cloned().collect();
        for (index, beam) in beams.iter().filter(|b| !b.finished).enumerate() {
            let row = &mut log_probs[index];
            for token in repeating_tokens(&beam.tokens, options.no_repeat_ngram) {
                if let Some(lp) = row.get_mut(token as usize) {
                    *lp = f32::NEG_INFINITY;
                }
            }
            let picks = if sampling {
                vec![sample(row, options.temperature, options.top_p, &mut rng)]
            } else {
                top_k(row, width)
            };
            let picks: Vec<(u32, f32)> =
                picks.into_iter().filter(|(_, lp)| lp.is_finite()).collect();
            for (token, lp) in picks {
                let mut tokens = beam.tokens.clone();
                tokens.push(token);
                candidates.push(Beam {
                    tokens,
                    score: beam.score + lp,
                    finished: stop.contains(&token),
                    parent: index,
                });
            }
        }
        let key = |b: &Beam| b.score / (b.tokens.len() as f32).powf(options.length_penalty);
        candidates.sort_by(|a, b| {
            key(b)
                .total_cmp(&key(a))
                .then_with(|| a.tokens.cmp(&b.tokens))
        });
        candidates.truncate(width);
        beams = candidates;
        let open: Vec<&Beam> = beams.iter().filter(|b| !b.finished).collect();
        if open.is_empty() || step + 1 == budget {
            break;
        }
        log_probs = match cached.as_mut() {
            Some(decoder) => {
                let parents: Vec<u32> = open.iter().map(|b| b.parent as u32).collect();
                decoder.select_rows(&Tensor::new(parents.as_slice(), &device)?)?;
                let last: Vec<u32> = open
                    .iter()
                    .filter_map(|b| b.tokens.last().copied())
                    .collect();
                rows_of(&decoder.feed(&Tensor::from_vec(last, (open.len(), 1), &device)?)?)?
            }
            None => {
                let continuations: Vec<Vec<u32>> = open.iter().map(|b| b.tokens.clone()).collect();
                next_log_probs(model, image_tokens, subj, &start, &continuations, &device)?
            }
        };
    }
    let best = beams
        .into_iter()
        .next()
        .map(|b| b.tokens)
        .unwrap_or_default();
    Ok(best.into_iter().take_while(|t| !stop.contains(t)).collect())
}

/// The tokens that, appended to `tokens`, would repeat an `n`-gram `tokens` already
/// holds (the token after each earlier occurrence of the last `n − 1` tokens).
pub fn repeating_tokens(tokens: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || tokens.len() + 1 < n {
        return Vec::new();
    }
    let tail = &tokens[tokens.len() + 1 - n..];
    tokens
        .windows(n)
        .filter(|w| &w[..n - 1] == tail)
        .map(|w| w[n - 1])
        .collect()
}

/// `[b, vocab]` logits → log-probabilities per row.
fn rows_of(logits: &Tensor) -> Result<Vec<Vec<f32>>> {
    Ok(candle_nn::ops::log_softmax(logits, D::Minus1)?.to_vec2::<f32>()?)
}

fn next_log_probs(
    model: &dyn DescriptionModel,
    image_tokens: &Tensor,
    subj: Option<&Tensor>,
    start: &[u32],
    continuations: &[Vec<u32>],
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    let n = continuations.len();
    let s = start.len() + continuations.first().map_or(0, Vec::len);
    let ids: Vec<u32> = continuations
        .iter()
        .flat_map(|c| start.iter().chain(c.iter()).copied())
        .collect();
    let ids = Tensor::from_vec(ids, (n, s), device)?;
    let mut dims = image_tokens.dims().to_vec();
    dims[0] = n;
    let images = image_tokens.broadcast_as(dims)?.contiguous()?;
    let subj = match subj {
        Some(z) => Some(z.broadcast_as((n, z.dim(D::Minus1)?))?.contiguous()?),
        None => None,
    };
    let logits = model.logits(&images, &ids, subj.as_ref())?;
    let last = logits.i((.., s - 1, ..))?;
    Ok(candle_nn::ops::log_softmax(&last, D::Minus1)?.to_vec2::<f32>()?)
}

#[cfg(test)]
mod tests {
    use candle_core::DType;

    use super::*;
    use crate::model::captioner::{CaptionerConfig, PROMPT};
    use crate::model::image_encoder::ImageEncoderConfig;

    /// A random captioner with random weights: its texts are nonsense, but cached and
    /// uncached decoding must agree on them token for token.
    fn random_describer() -> BuiltinDescriber {
        let texts = [
            "a red circle on the left and a blue square at the top",
            "first a green star then a small yellow heart",
            PROMPT,
        ];
        let tokenizer = TextTokenizer::train(&texts, 80).unwrap();
        let cfg = CaptionerConfig {
            vocab_size: tokenizer.vocab_size(),
            width: 32,
            layers: 2,
            heads: 4,
            max_positions: 40,
            image: ImageEncoderConfig {
                image_size: 16,
                channels: vec![8, 16],
            },
            prompt: PROMPT.into(),
        };
        let (model, _) = Captioner::build(&cfg, true, &Device::Cpu).unwrap();
        BuiltinDescriber { model, tokenizer }
    }

    #[test]
    fn repeating_tokens_are_the_continuations_of_earlier_occurrences() {
        // "a b c a b" + c would repeat "a b c".
        assert_eq!(repeating_tokens(&[1, 2, 3, 1, 2], 3), vec![3]);
        assert_eq!(repeating_tokens(&[1, 2, 3, 1, 2], 0), Vec::<u32>::new());
        assert_eq!(repeating_tokens(&[1, 2], 3), Vec::<u32>::new());
        // Bigrams: after "2", both earlier continuations of "2" are banned.
        assert_eq!(repeating_tokens(&[2, 5, 2, 7, 2], 2), vec![5, 7]);
        // Unigrams: everything already said.
        assert_eq!(repeating_tokens(&[4, 4, 9], 1), vec![4, 4, 9]);
    }

    #[test]
    fn no_description_repeats_a_trigram() {
        let describer = random_describer();
        let device = Device::Cpu;
        for seed in 0..4 {
            let image = Tensor::full(seed as f32 * 0.7 - 1.0, (1, 3, 16, 16), &device).unwrap();
            let tokens = describer.encode_image(&image).unwrap();
            for (beam_width, temperature) in [(1, 0.0), (3, 0.0), (1, 1.0)] {
                let options = GenerateOptions {
                    beam_width,
                    temperature,
                    max_tokens: 30,
                    seed,
                    ..GenerateOptions::default()
                };
                let ids = generate_ids(&describer, &tokens, None, &options, true).unwrap();
                let mut seen = std::collections::HashSet::new();
                for w in ids.windows(3) {
                    assert!(seen.insert(w.to_vec()), "{ids:?} repeats {w:?}");
                }
            }
        }
    }

    #[test]
    fn cached_logits_equal_full_recomputation() {
        let describer = random_describer();
        let device = Device::Cpu;
        let image = Tensor::randn(0f32, 1.0, (1, 3, 16, 16), &device).unwrap();
        let tokens = describer.encode_image(&image).unwrap();
        let subj = Tensor::randn(0f32, 1.0, (1, 32), &device).unwrap();
        let mut ids = describer.tokenizer.encode(PROMPT).unwrap();
        ids.extend([describer.tokenizer.bos_id, 5, 9, 11]);
        let all = Tensor::from_slice(&ids, (1, ids.len()), &device).unwrap();
        let full = describer.logits(&tokens, &all, Some(&subj)).unwrap();
        let mut decoder = describer.incremental_decoder(&tokens, Some(&subj)).unwrap();
        let split = ids.len() - 3;
        let mut last = decoder.feed(&all.narrow(1, 0, split).unwrap()).unwrap();
        for i in split..ids.len() {
            let want = full.i((.., i - 1, ..)).unwrap();
            let diff = (&last - &want).unwrap().abs().unwrap().max_all().unwrap();
            assert!(diff.to_scalar::<f32>().unwrap() < 1e-4, "position {i}");
            last = decoder.feed(&all.narrow(1, i, 1).unwrap()).unwrap();
        }
        let want = full.i((.., ids.len() - 1, ..)).unwrap();
        let diff = (&last - &want).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-4);
    }

    #[test]
    fn cached_and_uncached_generation_give_the_same_text() {
        let describer = random_describer();
        let device = Device::Cpu;
        for seed in 0..3 {
            let image = Tensor::full(seed as f32 - 1.0, (1, 3, 16, 16), &device)
                .unwrap()
                .to_dtype(DType::F32)
                .unwrap();
            let tokens = describer.encode_image(&image).unwrap();
            let subj = Tensor::full(0.3 * seed as f32, (1, 32), &device).unwrap();
            for beam_width in [1, 3] {
                for subj in [None, Some(&subj)] {
                    let options = GenerateOptions {
                        beam_width,
                        max_tokens: 12,
                        ..GenerateOptions::default()
                    };
                    let cached = generate(&describer, &tokens, subj, &options).unwrap();
                    let uncached = generate_uncached(&describer, &tokens, subj, &options).unwrap();
                    assert_eq!(cached, uncached, "beam {beam_width}, image {seed}");
                    assert!(cached.1 <= 12);
                }
            }
        }
    }
}
