//! The Ten-Item Personality Inventory (TIPI; Gosling, Rentfrow & Swann, 2003), the
//! short Big-Five questionnaire a study can ask at the end of a session.
//!
//! Each item is rated 1 (disagree strongly) to 7 (agree strongly) and completes the
//! sentence "I see myself as:". Each trait is the mean of one item and one
//! reverse-scored item (8 − rating).

use serde::{Deserialize, Serialize};

/// The sentence every item completes.
pub const STEM: &str = "I see myself as:";

/// The ten items, in the order they are asked.
pub const ITEMS: [&str; 10] = [
    "Extraverted, enthusiastic.",
    "Critical, quarrelsome.",
    "Dependable, self-disciplined.",
    "Anxious, easily upset.",
    "Open to new experiences, complex.",
    "Reserved, quiet.",
    "Sympathetic, warm.",
    "Disorganized, careless.",
    "Calm, emotionally stable.",
    "Conventional, uncreative.",
];

/// The labels of the 7-point scale, 1 first.
pub const SCALE: [&str; 7] = [
    "Disagree strongly",
    "Disagree moderately",
    "Disagree a little",
    "Neither agree nor disagree",
    "Agree a little",
    "Agree moderately",
    "Agree strongly",
];

/// The Big-Five scores computed from the ten ratings, each in `[1, 7]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TipiScores {
    pub extraversion: f32,
    pub agreeableness: f32,
    pub conscientiousness: f32,
    pub emotional_stability: f32,
    pub openness: f32,
}

/// Scores ten ratings (items in [`ITEMS`] order, each 1–7); `None` if any rating is
/// out of range.
pub fn score(ratings: &[u8; 10]) -> Option<TipiScores> {
    if ratings.iter().any(|r| !(1..=7).contains(r)) {
        return None;
    }
    let item = |n: usize| f32::from(ratings[n - 1]);
    let reversed = |n: usize| 8.0 - item(n);
    Some(TipiScores {
        extraversion: (item(1) + reversed(6)) / 2.0,
        agreeableness: (reversed(2) + item(7)) / 2.0,
        conscientiousness: (item(3) + reversed(8)) / 2.0,
        emotional_stability: (reversed(4) + item(9)) / 2.0,
        openness: (item(5) + reversed(10)) / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_items_are_reversed() {
        let scores = score(&[7, 1, 7, 1, 7, 1, 7, 1, 7, 1]).unwrap();
        assert_eq!(scores.extraversion, 7.0);
        assert_eq!(scores.agreeableness, 7.0);
        assert_eq!(scores.openness, 7.0);
        let neutral = score(&[4; 10]).unwrap();
        assert_eq!(neutral.conscientiousness, 4.0);
        assert!(score(&[0, 1, 7, 1, 7, 1, 7, 1, 7, 1]).is_none());
    }
}
