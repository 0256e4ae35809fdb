//! Retrieval summaries for the cross-modality personalization tasks (g2t, t2g, ...):
//! the rank of the positive among a query's candidates, top-k accuracy and mean rank.
//!
//! Ranks are 1-based and **pessimistic on ties**: a candidate with exactly the
//! positive's score ranks ahead of it, so a model that scores everything alike gets
//! the worst rank, not the best. A positive whose score is NaN ranks last.

/// The 1-based rank of `scores[positive]` among `scores` (higher is better).
pub fn rank_of_positive(scores: &[f64], positive: usize) -> usize {
    let Some(&p) = scores.get(positive) else {
        return scores.len() + 1;
    };
    if p.is_nan() {
        return scores.len();
    }
    1 + scores
        .iter()
        .enumerate()
        .filter(|&(k, &s)| k != positive && s >= p)
        .count()
}

/// Fraction of queries whose positive ranks within the first `k`.
pub fn top_k(ranks: &[usize], k: usize) -> f64 {
    if ranks.is_empty() {
        return 0.0;
    }
    ranks.iter().filter(|&&r| r <= k).count() as f64 / ranks.len() as f64
}

/// Mean rank of the positive (1 is perfect).
pub fn mean_rank(ranks: &[usize]) -> f64 {
    if ranks.is_empty() {
        return 0.0;
    }
    ranks.iter().sum::<usize>() as f64 / ranks.len() as f64
}

/// The numbers the cross-modality papers report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievalSummary {
    pub queries: usize,
    pub top1: f64,
    pub top3: f64,
    pub mean_rank: f64,
}

pub fn summarize(ranks: &[usize]) -> RetrievalSummary {
    RetrievalSummary {
        queries: ranks.len(),
        top1: top_k(ranks, 1),
        top3: top_k(ranks, 3),
        mean_rank: mean_rank(ranks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_count_ties_against_the_positive() {
        assert_eq!(rank_of_positive(&[0.9, 0.1, 0.5], 0), 1);
        assert_eq!(rank_of_positive(&[0.2, 0.9, 0.5], 0), 3);
        assert_eq!(rank_of_positive(&[0.5, 0.5, 0.5], 1), 3);
        assert_eq!(rank_of_positive(&[f64::NAN, 0.1], 0), 2);
    }

    #[test]
    fn summary_of_fifteen_candidate_queries() {
        let ranks = [1, 2, 3, 4, 15];
        let s = summarize(&ranks);
        assert_eq!(s.queries, 5);
        assert!((s.top1 - 0.2).abs() < 1e-12);
        assert!((s.top3 - 0.6).abs() < 1e-12);
        assert!((s.mean_rank - 5.0).abs() < 1e-12);
    }
}
