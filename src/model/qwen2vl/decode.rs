//! Generation with Qwen2-VL: the prompt (with its image and `<subj>`) is read once
//! into a key/value cache, then one token per step; greedy, beam search (beams share
//! the prompt's cache, reordered by parent each step; ties to the lower token id, as
//! in [`crate::model::generate`]) or temperature / top-p sampling with a seeded
//! ChaCha8. `use_cache: false` recomputes the whole sequence every step (the
//! reference the cache is checked and benchmarked against).

use candle_core::{D, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::model::Qwen2Vl;
use super::rope::ImageGrid;
use super::text::KvCache;
use crate::model::error::Result;
use crate::model::generate::{GenerateOptions, top_k};

/// What to generate from: the prompt ids, the image tokens `[1, rows, cols, hidden]`,
/// the subject embedding `[1, hidden]` and its token id.
#[derive(Debug, Clone, Copy)]
pub struct Prompt<'a> {
    pub ids: &'a [u32],
    pub image_tokens: Option<&'a Tensor>,
    pub subj: Option<(&'a Tensor, u32)>,
}

type Beam = (Vec<u32>, f32, bool);

/// Generated token ids (stop token excluded).
pub fn generate_ids(
    model: &Qwen2Vl,
    prompt: &Prompt,
    stop: &[u32],
    options: &GenerateOptions,
    use_cache: bool,
) -> Result<Vec<u32>> {
    let device = match prompt.image_tokens {
        Some(t) => t.device().clone(),
        None => candle_core::Device::Cpu,
    };
    let grid = match prompt.image_tokens {
        Some(t) => Some(ImageGrid {
            rows: t.dim(1)?,
            cols: t.dim(2)?,
        }),
        None => None,
    };
    let ids = Tensor::new(prompt.ids, &device)?.unsqueeze(0)?;
    let (positions, next) = model.positions(&ids, grid)?;
    let next_pos = next.first().copied().unwrap_or(0);
    let embeds = model.input_embeddings(&ids, prompt.image_tokens, prompt.subj)?;
    let mut cache = KvCache::default();
    let first =
        model.forward_embeddings(&embeds, &positions, use_cache.then_some(&mut cache), true)?;
    let sampling = options.temperature > 0.0;
    let width = if sampling {
        1
    } else {
        options.beam_width.max(1)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut beams: Vec<Beam> = vec![(Vec::new(), 0.0, false)];
    let mut log_probs = log_softmax_rows(&first)?;
    for step in 0..options.max_tokens {
        let open: Vec<usize> = (0..beams.len()).filter(|&i| !beams[i].2).collect();
        if open.is_empty() {
            break;
        }
        let mut candidates: Vec<(Beam, usize)> = beams
            .iter()
            .filter(|b| b.2)
            .cloned()
            .map(|b| (b, usize::MAX))
            .collect();
        for (row, &i) in open.iter().enumerate() {
            let (tokens, score, _) = &beams[i];
            let picks = if sampling {
                vec![sample(
                    &log_probs[row],
                    options.temperature,
                    options.top_p,
                    &mut rng,
                )]
            } else {
                top_k(&log_probs[row], width)
            };
            for (token, lp) in picks {
                let mut next = tokens.clone();
                next.push(token);
                candidates.push(((next, score + lp, stop.contains(&token)), row));
            }
        }
        let key = |c: &Beam| c.1 / (c.0.len() as f32).powf(options.length_penalty);
        candidates.sort_by(|a, b| {
            key(&b.0)
                .total_cmp(&key(&a.0))
                .then_with(|| a.0.0.cmp(&b.0.0))
        });
        candidates.truncate(width);
        let parents: Vec<u32> = candidates
            .iter()
            .filter(|(b, _)| !b.2)
            .map(|(_, row)| *row as u32)
            .collect();
        beams = candidates.into_iter().map(|(b, _)| b).collect();
        if parents.is_empty() || step + 1 == options.max_tokens {
            break;
        }
        let open_beams: Vec<&Beam> = beams.iter().filter(|b| !b.2).collect();
        let n = open_beams.len();
        let logits = if use_cache {
            cache.select(&Tensor::new(parents.as_slice(), &device)?)?;
            let last: Vec<u32> = open_beams.iter().map(|b| b.0[b.0.len() - 1]).collect();
            let last = Tensor::from_vec(last, (n, 1), &device)?;
            let pos = next_pos + step as u32;
            let step_positions = vec![[vec![pos], vec![pos], vec![pos]]; n];
            let embeds = model.embed_ids(&last)?;
            model.forward_embeddings(&embeds, &step_positions, Some(&mut cache), true)?
        } else {
            let rows: Vec<u32> = open_beams
                .iter()
                .flat_map(|b| prompt.ids.iter().chain(b.0.iter()).copied())
                .collect();
            let s = rows.len() / n;
            let ids = Tensor::from_vec(rows, (n, s), &device)?;
            let images = match prompt.image_tokens {
                Some(t) => {
                    let mut dims = t.dims().to_vec();
                    dims[0] = n;
                    Some(t.broadcast_as(dims)?.contiguous()?)
                }
                None => None,
            };
            let subj = match prompt.subj {
                Some((z, id)) => Some((z.broadcast_as((n, z.dim(D::Minus1)?))?.contiguous()?, id)),
                None => None,
            };
            let embeds = model.input_embeddings(
                &ids,
                images.as_ref(),
                subj.as_ref().map(|(z, id)| (z, *id)),
            )?;
            let (positions, _) = model.positions(&ids, grid)?;
            model.forward_embeddings(&embeds, &positions, None, true)?
        };
        log_probs = log_softmax_rows(&logits)?;
    }
    let best = beams.into_iter().next().map(|b| b.0).unwrap_or_default();
    Ok(best.into_iter().take_while(|t| !stop.contains(t)).collect())
}

/// `[b, 1, vocab]` logits → per-row log-probabilities.
fn log_softmax_rows(logits: &Tensor) -> Result<Vec<Vec<f32>>> {
    let last = logits.squeeze(1)?;
    Ok(candle_nn::ops::log_softmax(&last, D::Minus1)?.to_vec2::<f32>()?)
}

/// One token drawn from `softmax(log p / temperature)` restricted to the top-p nucleus.
fn sample(log_probs: &[f32], temperature: f32, top_p: f32, rng: &mut ChaCha8Rng) -> (u32, f32) {
    let mut order: Vec<(u32, f32)> = log_probs
        .iter()
        .enumerate()
        .map(|(i, &p)| (i as u32, p / temperature))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top = order.first().map_or(0.0, |o| o.1);
    let weights: Vec<f32> = order.iter().map(|o| (o.1 - top).exp()).collect();
    let total: f32 = weights.iter().sum();
    let mut kept = 0;
    let mut mass = 0.0;
    for w in &weights {
        kept += 1;
        mass += w / total;
        if mass >= top_p {
            break;
        }
    }
    let kept_total: f32 = weights[..kept].iter().sum();
    let mut draw = rng.gen_range(0.0..kept_total);
    for (i, w) in weights[..kept].iter().enumerate() {
        if draw < *w {
            let token = order[i].0;
            return (token, log_probs[token as usize]);
        }
        draw -= w;
    }
    let token = order[kept.saturating_sub(1)].0;
    (token, log_probs[token as usize])
}
