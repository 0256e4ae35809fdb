//! The evaluation protocol of the cross-modality personalization paper: user-disjoint
//! splits (70/10/20 of the users, at least 3 users in validation and test so every
//! query can have same-image distractors) and 15-candidate sets.
//!
//! For a query trial of user `a` on image `i`, the candidates are trials of the other
//! modality: the positive (user `a`, image `i`), 2 trials of *other* users on image `i`,
//! and 12 trials of *other* users on *other* images, all from the same pool of users
//! (the split's test or validation users), drawn with a seeded ChaCha8. A query whose
//! pool cannot fill a set is skipped.

use std::collections::HashMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Candidates per query and their make-up.
pub const CANDIDATES: usize = 15;
pub const SAME_IMAGE: usize = 2;
pub const OTHER_IMAGE: usize = CANDIDATES - 1 - SAME_IMAGE;

/// A trial as the protocol sees it: who and which image (indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrialKey {
    pub user: usize,
    pub image: usize,
}

/// The users of one split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSplit {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// Users needed for a split: 3 validation, 3 test, 2 training.
pub const MIN_USERS: usize = 8;

/// `count` random user splits of `users` users (70/10/20, validation and test at
/// least 3 users), split `k` seeded by `seed` and `k`.
pub fn user_splits(users: usize, count: usize, seed: u64) -> Option<Vec<UserSplit>> {
    if users < MIN_USERS {
        return None;
    }
    let n_test = ((users as f64 * 0.2).round() as usize).max(3);
    let n_val = ((users as f64 * 0.1).round() as usize).max(3);
    Some(
        (0..count)
            .map(|k| {
                let mut order: Vec<usize> = (0..users).collect();
                order.shuffle(&mut ChaCha8Rng::seed_from_u64(
                    seed.wrapping_mul(1000).wrapping_add(k as u64),
                ));
                let mut test = order[..n_test].to_vec();
                let mut val = order[n_test..n_test + n_val].to_vec();
                let mut train = order[n_test + n_val..].to_vec();
                test.sort_unstable();
                val.sort_unstable();
                train.sort_unstable();
                UserSplit { train, val, test }
            })
            .collect(),
    )
}

/// One query with its candidates (indices into the trials); `candidates[0]` is the
/// positive, then the same-image and the other-image ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateSet {
    pub query: usize,
    pub candidates: Vec<usize>,
}

/// The candidate sets of every trial of `pool` users (indices into `trials`).
pub fn candidate_sets(trials: &[TrialKey], pool: &[usize], seed: u64) -> Vec<CandidateSet> {
    let in_pool: Vec<usize> = (0..trials.len())
        .filter(|&t| pool.contains(&trials[t].user))
        .collect();
    let by_key: HashMap<TrialKey, usize> = in_pool.iter().map(|&t| (trials[t], t)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sets = Vec::new();
    for &q in &in_pool {
        let TrialKey { user, image } = trials[q];
        let Some(&positive) = by_key.get(&TrialKey { user, image }) else {
            continue;
        };
        let mut same: Vec<usize> = in_pool
            .iter()
            .copied()
            .filter(|&t| trials[t].image == image && trials[t].user != user)
            .collect();
        let mut other: Vec<usize> = in_pool
            .iter()
            .copied()
            .filter(|&t| trials[t].image != image && trials[t].user != user)
            .collect();
        if same.len() < SAME_IMAGE || other.len() < OTHER_IMAGE {
            continue;
        }
        same.shuffle(&mut rng);
        other.shuffle(&mut rng);
        let mut candidates = vec![positive];
        candidates.extend(&same[..SAME_IMAGE]);
        candidates.extend(&other[..OTHER_IMAGE]);
        sets.push(CandidateSet {
            query: q,
            candidates,
        });
    }
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(users: usize, images: usize) -> Vec<TrialKey> {
        (0..users)
            .flat_map(|user| (0..images).map(move |image| TrialKey { user, image }))
            .collect()
    }

    #[test]
    fn splits_are_user_disjoint_70_10_20_and_seeded() {
        let splits = user_splits(24, 5, 3).unwrap();
        assert_eq!(splits.len(), 5);
        for s in &splits {
            assert_eq!((s.train.len(), s.val.len(), s.test.len()), (16, 3, 5));
            let mut all: Vec<usize> = s
                .train
                .iter()
                .chain(&s.val)
                .chain(&s.test)
                .copied()
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..24).collect::<Vec<_>>(), "every user exactly once");
        }
        assert_ne!(splits[0].test, splits[1].test, "splits differ");
        assert_eq!(user_splits(24, 5, 3).unwrap(), splits, "seeded");
        let big = user_splits(50, 1, 0).unwrap();
        assert_eq!(
            (big[0].train.len(), big[0].val.len(), big[0].test.len()),
            (35, 5, 10)
        );
        assert!(user_splits(7, 1, 0).is_none());
    }

    #[test]
    fn each_set_has_one_positive_two_same_image_and_twelve_other_image_candidates() {
        let trials = grid(10, 8);
        let pool = [1, 4, 6, 9];
        let sets = candidate_sets(&trials, &pool, 11);
        assert_eq!(sets.len(), 4 * 8, "every pool trial is a query");
        for set in &sets {
            let q = trials[set.query];
            assert!(pool.contains(&q.user));
            assert_eq!(set.candidates.len(), CANDIDATES);
            let mut unique = set.candidates.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), CANDIDATES, "no candidate twice");
            let keys: Vec<TrialKey> = set.candidates.iter().map(|&c| trials[c]).collect();
            assert!(
                keys.iter().all(|k| pool.contains(&k.user)),
                "candidates from the pool"
            );
            let positives = keys.iter().filter(|&&k| k == q).count();
            let same_image = keys
                .iter()
                .filter(|k| k.image == q.image && k.user != q.user)
                .count();
            let other_image = keys
                .iter()
                .filter(|k| k.image != q.image && k.user != q.user)
                .count();
            assert_eq!((positives, same_image, other_image), (1, 2, 12));
            assert_eq!(keys[0], q, "the positive comes first");
            assert!(!keys.iter().any(|k| k.user == q.user && k.image != q.image));
        }
        assert_eq!(candidate_sets(&trials, &pool, 11), sets, "seeded");
    }

    #[test]
    fn queries_without_enough_distractors_are_skipped() {
        // Two pool users: no query can have two same-image trials of other users.
        assert!(candidate_sets(&grid(4, 20), &[0, 1], 1).is_empty());
    }
}
