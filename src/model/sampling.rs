//! Picking next tokens from log-probabilities: the `k` best (greedy and beam search,
//! ties to the lower token id) or one drawn from the temperature-scaled top-p nucleus
//! with a seeded ChaCha8 (sampling).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The `k` best `(token, log p)`, ties to the lower id.
pub fn top_k(log_probs: &[f32], k: usize) -> Vec<(u32, f32)> {
    let k = k.min(log_probs.len());
    if k == 0 {
        return Vec::new();
    }
    let best_first =
        |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0));
    let mut order: Vec<(u32, f32)> = log_probs
        .iter()
        .enumerate()
        .map(|(i, &p)| (i as u32, p))
        .collect();
    // Partition around the k-th best (linear in the vocabulary), then sort only the k:
    // a full sort of 150k entries per beam and step cost milliseconds per token.
    if k < order.len() {
        order.select_nth_unstable_by(k - 1, best_first);
        order.truncate(k);
    }
    order.sort_by(best_first);
    order
}

/// One token drawn from `softmax(log p / temperature)` restricted to the top-p nucleus.
pub fn sample(log_probs: &[f32], temperature: f32, top_p: f32, rng: &mut ChaCha8Rng) -> (u32, f32) {
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn log_probs(p: &[f32]) -> Vec<f32> {
        p.iter().map(|x| x.ln()).collect()
    }

    #[test]
    fn top_k_orders_by_probability_with_ties_to_the_lower_id() {
        let lp = log_probs(&[0.1, 0.4, 0.1, 0.4]);
        let ids: Vec<u32> = top_k(&lp, 3).iter().map(|p| p.0).collect();
        assert_eq!(ids, [1, 3, 0]);
    }

    #[test]
    fn sampling_follows_the_distribution_within_the_nucleus() {
        let lp = log_probs(&[0.6, 0.3, 0.05, 0.05]);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[sample(&lp, 1.0, 1.0, &mut rng).0 as usize] += 1;
        }
        let share = |i: usize| counts[i] as f32 / 4000.0;
        assert!((share(0) - 0.6).abs() < 0.03, "{counts:?}");
        assert!((share(1) - 0.3).abs() < 0.03, "{counts:?}");
        // top-p 0.8: only the two likeliest tokens can be drawn.
        let mut counts = [0usize; 4];
        for _ in 0..2000 {
            counts[sample(&lp, 1.0, 0.8, &mut rng).0 as usize] += 1;
        }
        assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
        assert!(counts[1] > 0);
        // A low temperature sharpens towards the best token.
        let (token, log_p) = sample(&lp, 0.01, 1.0, &mut rng);
        assert_eq!(token, 0);
        assert_eq!(log_p, lp[0], "the score is the model's own log-probability");
    }

    #[test]
    fn the_same_seed_draws_the_same_tokens() {
        let lp = log_probs(&[0.25, 0.25, 0.25, 0.25]);
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| sample(&lp, 1.0, 1.0, &mut rng).0)
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
