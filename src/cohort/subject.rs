//! Simulated subjects: stable, distinct viewing habits and a linguistic style each,
//! drawn once from the cohort seed and kept for every image.
//!
//! The ranges follow what free-viewing studies report for adults: mean fixation
//! durations of 200–350 ms with right-skewed (gamma-like) distributions, 0.2–0.4° RMS
//! tracker precision, calibration offsets under 0.5°, 8–24 blinks a minute. Order
//! strategies are dealt round-robin over a shuffled list so every habit is present in
//! a cohort of six or more. No sampling of gaze or words happens here.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::palette::ColourName;
use super::scene::SizeClass;
use super::shapes::Shape;
use super::viewing::OrderStrategy;
use super::vocabulary::{self, CONNECTORS, Opening, RegionWords};

/// How a subject looks at pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewingHabits {
    pub order: OrderStrategy,
    /// Probability that the next new object is the one `order` picks.
    pub order_adherence: f32,
    /// Mean of the fixation-duration gamma distribution, ms.
    pub fixation_mean_ms: f32,
    /// Shape `k` of that gamma distribution (higher: less skewed).
    pub fixation_gamma_shape: f32,
    /// Time on the central cross before the first saccade, ms.
    pub first_fixation_latency_ms: f32,
    /// Self-paced viewing time for a five-object scene, ms.
    pub viewing_time_ms: f32,
    /// Mean extra fixations on an object at first visit (scaled by its size).
    pub refixations_per_object: f32,
    /// Probability that a move returns to an object seen before.
    pub revisit_probability: f32,
    /// Probability that a move goes to the background.
    pub background_interest: f32,
    /// Constant offset of the tracker's estimate for this person, degrees `[x, y]`.
    pub calibration_offset_deg: [f32; 2],
    /// Precision: RMS distance of the averaged gaze point from the true one, degrees.
    pub noise_rms_deg: f32,
    /// Slow ocular drift during fixations, degrees per second.
    pub drift_deg_per_s: f32,
    /// Standard deviation of where a saccade lands around its target, degrees.
    pub landing_error_deg: f32,
    pub blinks_per_minute: f32,
    /// Fraction of samples with one or both eyes invalid outside blinks.
    pub invalid_sample_rate: f32,
    pub pupil_diameter_mm: f32,
}

/// The sentence shape a subject favours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// "I see a red circle, a blue square and a star."
    List,
    /// "I see a red circle. There is also a blue square."
    Sentences,
    /// "I see five shapes: a red circle, a blue square and a star."
    Counting,
    /// "First I noticed a red circle, then a blue square, and finally a star."
    Narrative,
}

impl Frame {
    pub const ALL: [Self; 4] = [Self::List, Self::Sentences, Self::Counting, Self::Narrative];
}

/// How a subject says where objects are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpatialStyle {
    /// Never says where.
    None,
    /// Names the region of each object ("in the top left").
    Regions,
    /// Names the first object's region, then relates each to the previous one
    /// ("to the right of it", "below that").
    Relative,
}

/// How a subject talks about pictures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LanguageStyle {
    pub opening: Opening,
    /// Used instead of `opening` now and then.
    pub other_opening: Opening,
    /// Probability of `opening` over `other_opening`.
    pub opening_loyalty: f32,
    pub frame: Frame,
    pub other_frame: Frame,
    pub frame_loyalty: f32,
    /// The word this subject uses for each shape.
    pub shape_words: BTreeMap<Shape, String>,
    pub colour_words: BTreeMap<ColourName, String>,
    pub size_words: BTreeMap<SizeClass, String>,
    /// Probability that a mentioned object gets its colour.
    pub colour_adjective_rate: f32,
    /// Probability that a mentioned object gets its size (medium ones half as often).
    pub size_adjective_rate: f32,
    /// Most objects ever mentioned.
    pub max_mentions: usize,
    /// Fraction of the fixated objects mentioned (the longest-looked-at ones).
    pub mention_fraction: f32,
    pub spatial: SpatialStyle,
    pub region_words: RegionWords,
    /// Probability that a mention gets a location phrase.
    pub spatial_rate: f32,
    /// Joins sentences in the `Sentences` frame.
    pub connector: String,
    /// Probability of mentioning the background.
    pub background_rate: f32,
    /// "background" or "backdrop".
    pub background_word: String,
    /// Probability that two neighbouring mentions come out of viewing order.
    pub order_swap_rate: f32,
}

/// A simulated subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// Pseudonymous code, `s01`, `s02`, ...
    pub id: String,
    /// Held-out ("unseen") subjects only appear in the test split.
    pub held_out: bool,
    pub habits: ViewingHabits,
    pub style: LanguageStyle,
}

/// The order strategies dealt to subjects, one cycle.
fn strategy_deck(rng: &mut impl Rng) -> Vec<OrderStrategy> {
    let colour = *ColourName::CHROMATIC
        .choose(rng)
        .unwrap_or(&ColourName::Red);
    let mut deck = vec![
        OrderStrategy::BiggestFirst,
        OrderStrategy::LeftToRight,
        OrderStrategy::TopToBottom,
        OrderStrategy::CentreOut,
        OrderStrategy::ColourFirst(colour),
        OrderStrategy::NearestNeighbour,
    ];
    deck.shuffle(rng);
    deck
}

/// Generates `count` subjects from `seed`; `held_out` of them, chosen at random, are
/// marked held out.
pub fn generate_subjects(seed: u64, count: usize, held_out: usize) -> Vec<Subject> {
    let mut rng = ChaCha8Rng::seed_from_u64(super::derive_seed(seed, super::STREAM_SUBJECTS, 0, 0));
    let width = count.to_string().len().max(2);
    let mut deck = Vec::new();
    let mut subjects = Vec::with_capacity(count);
    for index in 0..count {
        if deck.is_empty() {
            deck = strategy_deck(&mut rng);
        }
        let order = deck.pop().unwrap_or(OrderStrategy::BiggestFirst);
        subjects.push(Subject {
            id: format!("s{:0width$}", index + 1),
            held_out: false,
            habits: habits(order, &mut rng),
            style: style(&mut rng),
        });
    }
    let mut indices: Vec<usize> = (0..count).collect();
    indices.shuffle(&mut rng);
    for &i in indices.iter().take(held_out.min(count)) {
        subjects[i].held_out = true;
    }
    subjects
}

fn habits(order: OrderStrategy, rng: &mut impl Rng) -> ViewingHabits {
    let offset_deg = rng.gen_range(0.1..0.5_f32);
    let offset_angle = rng.gen_range(0.0..std::f32::consts::TAU);
    ViewingHabits {
        order,
        order_adherence: rng.gen_range(0.72..0.95),
        fixation_mean_ms: rng.gen_range(190.0..340.0),
        fixation_gamma_shape: rng.gen_range(2.5..6.0),
        first_fixation_latency_ms: rng.gen_range(180.0..320.0),
        viewing_time_ms: rng.gen_range(3500.0..8000.0),
        refixations_per_object: rng.gen_range(0.3..1.8),
        revisit_probability: rng.gen_range(0.05..0.35),
        background_interest: rng.gen_range(0.02..0.2),
        calibration_offset_deg: [
            offset_deg * offset_angle.cos(),
            offset_deg * offset_angle.sin(),
        ],
        noise_rms_deg: rng.gen_range(0.2..0.4),
        drift_deg_per_s: rng.gen_range(0.1..0.6),
        landing_error_deg: rng.gen_range(0.15..0.45),
        blinks_per_minute: rng.gen_range(8.0..24.0),
        invalid_sample_rate: rng.gen_range(0.002..0.01),
        pupil_diameter_mm: rng.gen_range(2.6..4.5),
    }
}

fn style(rng: &mut impl Rng) -> LanguageStyle {
    let pick_two = |all: &[Opening], rng: &mut dyn rand::RngCore| {
        let mut v = all.to_vec();
        v.shuffle(rng);
        (v[0], v[1])
    };
    let (opening, other_opening) = pick_two(&Opening::ALL, rng);
    let mut frames = Frame::ALL.to_vec();
    frames.shuffle(rng);
    let spatial = match rng.gen_range(0..10) {
        0..=2 => SpatialStyle::None,
        3..=6 => SpatialStyle::Regions,
        _ => SpatialStyle::Relative,
    };
    LanguageStyle {
        opening,
        other_opening,
        opening_loyalty: rng.gen_range(0.75..0.95),
        frame: frames[0],
        other_frame: frames[1],
        frame_loyalty: rng.gen_range(0.75..0.95),
        shape_words: Shape::ALL
            .iter()
            .map(|&s| {
                (
                    s,
                    vocabulary::choose_word(vocabulary::shape_synonyms(s), rng),
                )
            })
            .collect(),
        colour_words: ColourName::ALL
            .iter()
            .map(|&c| {
                (
                    c,
                    vocabulary::choose_word(vocabulary::colour_synonyms(c), rng),
                )
            })
            .collect(),
        size_words: SizeClass::ALL
            .iter()
            .map(|&s| {
                (
                    s,
                    vocabulary::choose_word(vocabulary::size_synonyms(s), rng),
                )
            })
            .collect(),
        colour_adjective_rate: rng.gen_range(0.5..1.0),
        size_adjective_rate: if rng.gen_bool(0.3) {
            rng.gen_range(0.0..0.15)
        } else {
            rng.gen_range(0.3..0.9)
        },
        max_mentions: rng.gen_range(2..=6),
        mention_fraction: rng.gen_range(0.45..1.0),
        spatial,
        region_words: if rng.gen_bool(0.5) {
            RegionWords::Plain
        } else {
            RegionWords::Corners
        },
        spatial_rate: rng.gen_range(0.4..0.95),
        connector: (*CONNECTORS.choose(rng).unwrap_or(&CONNECTORS[0])).to_owned(),
        background_rate: if rng.gen_bool(0.4) {
            rng.gen_range(0.4..0.9)
        } else {
            rng.gen_range(0.0..0.1)
        },
        background_word: if rng.gen_bool(0.7) {
            "background".into()
        } else {
            "backdrop".into()
        },
        order_swap_rate: rng.gen_range(0.0..0.15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_reproducible_distinct_and_cover_every_strategy() {
        let a = generate_subjects(7, 24, 4);
        assert_eq!(a, generate_subjects(7, 24, 4));
        assert_ne!(a, generate_subjects(8, 24, 4));
        assert_eq!(a.iter().filter(|s| s.held_out).count(), 4);
        assert_eq!(a[0].id, "s01");
        assert_eq!(a[23].id, "s24");
        let labels: std::collections::BTreeSet<String> = a
            .iter()
            .map(|s| match s.habits.order {
                OrderStrategy::ColourFirst(_) => "colour".into(),
                o => o.label(),
            })
            .collect();
        assert_eq!(labels.len(), 6, "{labels:?}");
        for s in &a {
            let h = &s.habits;
            let offset = h.calibration_offset_deg[0].hypot(h.calibration_offset_deg[1]);
            assert!((0.1..0.5).contains(&offset));
            assert!((0.2..0.4).contains(&h.noise_rms_deg));
        }
    }
}
