//! Where a simulated subject looks, and for how long: the viewing plan of one trial.
//!
//! Every trial starts on the central fixation cross. The subject then picks objects
//! in the order of their [`OrderStrategy`] (followed with probability
//! `order_adherence`, otherwise the eye goes to a salient object at random, weighted
//! by size), makes one or more fixations on each (more on big objects), sometimes
//! returns to an object seen before or looks at the background, until the viewing
//! time is used. Fixation durations follow the subject's gamma distribution.
//!
//! The plan is in image-normalized coordinates and knows nothing of samples, screens
//! or words: [`super::stream`] turns it into gaze samples.

use rand::Rng;
use rand_distr::{Distribution, Gamma, Normal};
use serde::{Deserialize, Serialize};

use super::palette::ColourName;
use super::scene::{Scene, SceneObject};
use super::subject::ViewingHabits;

/// Shortest and longest planned fixation, ms.
const FIXATION_RANGE_MS: (f32, f32) = (80.0, 1200.0);

/// The rule by which a subject chooses the next object to look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderStrategy {
    /// Largest unvisited object first.
    BiggestFirst,
    /// Reading order by columns: leftmost unvisited object first.
    LeftToRight,
    /// Topmost unvisited object first.
    TopToBottom,
    /// Closest to the image centre first, spiralling outwards.
    CentreOut,
    /// Objects of one colour first (biggest first among them), then biggest first.
    ColourFirst(ColourName),
    /// Wanders to the unvisited object nearest to where the eye is now.
    NearestNeighbour,
}

impl OrderStrategy {
    /// A short name for tables and logs.
    pub fn label(self) -> String {
        match self {
            Self::BiggestFirst => "biggest-first".into(),
            Self::LeftToRight => "left-to-right".into(),
            Self::TopToBottom => "top-to-bottom".into(),
            Self::CentreOut => "centre-out".into(),
            Self::ColourFirst(c) => format!("{}-first", c.name()),
            Self::NearestNeighbour => "nearest-neighbour".into(),
        }
    }

    /// The object this rule picks next among `unvisited`, with the eye at `gaze_image`.
    pub fn pick_next(
        self,
        objects: &[SceneObject],
        unvisited: &[usize],
        gaze_image: [f32; 2],
    ) -> Option<usize> {
        let distance = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).hypot(a[1] - b[1]);
        let key = |i: usize| -> f32 {
            let o = &objects[i];
            match self {
                Self::BiggestFirst => -o.area(),
                Self::LeftToRight => o.centre[0],
                Self::TopToBottom => o.centre[1],
                Self::CentreOut => distance(o.centre, [0.5, 0.5]),
                Self::ColourFirst(colour) => {
                    let first = if o.colour == colour { -10.0 } else { 0.0 };
                    first - o.area()
                }
                Self::NearestNeighbour => distance(o.centre, gaze_image),
            }
        };
        unvisited
            .iter()
            .copied()
            .min_by(|&a, &b| key(a).total_cmp(&key(b)))
    }

    /// The first object the rule picks in a scene, starting from the centre cross.
    pub fn first_pick(self, scene: &Scene) -> Option<usize> {
        let all: Vec<usize> = (0..scene.objects.len()).collect();
        self.pick_next(&scene.objects, &all, [0.5, 0.5])
    }
}

/// One planned fixation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedFixation {
    /// Where the subject aims, image-normalized.
    pub target_image: [f32; 2],
    pub duration_ms: f32,
    /// The object aimed at; `None` for the background and the fixation cross.
    pub object: Option<usize>,
}

/// The viewing plan of one trial.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewingPlan {
    pub fixations: Vec<PlannedFixation>,
    /// How long the subject looks at the image (self-paced), ms.
    pub viewing_time_ms: f32,
}

/// What the eye does next.
enum Move {
    New,
    Revisit,
    Background,
}

/// Plans a trial for a subject with `habits` on `scene`.
pub fn plan_viewing(habits: &ViewingHabits, scene: &Scene, rng: &mut impl Rng) -> ViewingPlan {
    let objects = &scene.objects;
    let crowding = 1.0 + 0.05 * (objects.len() as f32 - 5.0);
    let viewing_time_ms = habits.viewing_time_ms * rng.gen_range(0.85..1.15) * crowding;
    let mut durations = FixationDurations::new(habits);

    let centre = [0.5, 0.5];
    let latency_ms = (habits.first_fixation_latency_ms * rng.gen_range(0.8..1.2)).max(100.0);
    let mut fixations = vec![PlannedFixation {
        target_image: centre,
        duration_ms: latency_ms,
        object: objects
            .iter()
            .position(|o| o.signed_distance_px(centre) < 0.0),
    }];
    let mut elapsed_ms = latency_ms;
    let mut unvisited: Vec<usize> = (0..objects.len()).collect();
    let mut visited: Vec<usize> = Vec::new();
    let mut gaze = centre;
    // Plan a little past the viewing time; the stream cuts at the end.
    while elapsed_ms < viewing_time_ms + 500.0 {
        let roll: f32 = rng.r#gen();
        let next = if roll < habits.background_interest {
            Move::Background
        } else if !visited.is_empty()
            && (unvisited.is_empty()
                || roll < habits.background_interest + habits.revisit_probability)
        {
            Move::Revisit
        } else if !unvisited.is_empty() {
            Move::New
        } else {
            Move::Background
        };
        let (object, count) = match next {
            Move::Background => (None, 1),
            Move::Revisit => {
                let candidates: Vec<usize> = visited
                    .iter()
                    .copied()
                    .filter(|&i| fixations.last().and_then(|f| f.object) != Some(i))
                    .collect();
                let pool = if candidates.is_empty() {
                    &visited
                } else {
                    &candidates
                };
                (
                    Some(by_salience(objects, pool, rng)),
                    1 + usize::from(rng.gen_bool(0.3)),
                )
            }
            Move::New => {
                let pick = if rng.r#gen::<f32>() < habits.order_adherence {
                    habits.order.pick_next(objects, &unvisited, gaze)
                } else {
                    Some(by_salience(objects, &unvisited, rng))
                };
                let Some(pick) = pick else { break };
                unvisited.retain(|&i| i != pick);
                visited.push(pick);
                let size_factor = (objects[pick].area() / 0.04).sqrt().clamp(0.5, 1.6);
                let extra = habits.refixations_per_object * size_factor * rng.gen_range(0.0..2.0);
                (Some(pick), 1 + extra.round() as usize)
            }
        };
        for _ in 0..count {
            let target_image = match object {
                Some(i) => point_on(&objects[i], rng),
                None => background_point(objects, rng),
            };
            let duration_ms = durations.sample(rng);
            fixations.push(PlannedFixation {
                target_image,
                duration_ms,
                object,
            });
            gaze = target_image;
            // ~40 ms for the saccade before it.
            elapsed_ms += duration_ms + 40.0;
        }
    }
    ViewingPlan {
        fixations,
        viewing_time_ms,
    }
}

/// The subject's fixation-duration distribution (gamma, clamped).
struct FixationDurations {
    gamma: Option<Gamma<f32>>,
    mean_ms: f32,
}

impl FixationDurations {
    fn new(habits: &ViewingHabits) -> Self {
        let shape = habits.fixation_gamma_shape.max(1.0);
        Self {
            gamma: Gamma::new(shape, habits.fixation_mean_ms / shape).ok(),
            mean_ms: habits.fixation_mean_ms,
        }
    }

    fn sample(&mut self, rng: &mut impl Rng) -> f32 {
        let raw = self.gamma.map_or(self.mean_ms, |g| g.sample(rng));
        raw.clamp(FIXATION_RANGE_MS.0, FIXATION_RANGE_MS.1)
    }
}

/// An object chosen at random, weighted by the square root of its area (bigger
/// objects draw the eye, but not overwhelmingly).
fn by_salience(objects: &[SceneObject], pool: &[usize], rng: &mut impl Rng) -> usize {
    let weights: Vec<f32> = pool.iter().map(|&i| objects[i].area().sqrt()).collect();
    let total: f32 = weights.iter().sum();
    let mut pick = rng.gen_range(0.0..total.max(f32::MIN_POSITIVE));
    for (&i, w) in pool.iter().zip(&weights) {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    pool.last().copied().unwrap_or(0)
}

/// A landing point on an object: around its centre, inside its box.
fn point_on(object: &SceneObject, rng: &mut impl Rng) -> [f32; 2] {
    let spread = Normal::new(0.0, 0.3 * object.radius).ok();
    let [x0, y0, x1, y1] = object.bbox;
    let (mx, my) = (0.15 * (x1 - x0), 0.15 * (y1 - y0));
    let jitter = |rng: &mut dyn rand::RngCore| spread.map_or(0.0, |n| n.sample(rng));
    [
        (object.centre[0] + jitter(rng)).clamp(x0 + mx, x1 - mx),
        (object.centre[1] + jitter(rng)).clamp(y0 + my, y1 - my),
    ]
}

/// A point on the image away from every object.
fn background_point(objects: &[SceneObject], rng: &mut impl Rng) -> [f32; 2] {
    let mut point = [0.5, 0.5];
    for _ in 0..40 {
        point = [rng.gen_range(0.05..0.95), rng.gen_range(0.05..0.95)];
        let clear = objects.iter().all(|o| {
            let [x0, y0, x1, y1] = o.bbox;
            point[0] < x0 - 0.04
                || point[0] > x1 + 0.04
                || point[1] < y0 - 0.04
                || point[1] > y1 + 0.04
        });
        if clear {
            break;
        }
    }
    point
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::scene::generate_scene;
    use crate::cohort::subject::generate_subjects;
    use rand::SeedableRng;

    #[test]
    fn plans_start_at_the_cross_and_visit_objects_in_rule_order_mostly() {
        let subjects = generate_subjects(11, 12, 0);
        let mut followed = 0;
        let mut total = 0;
        for (k, subject) in subjects.iter().enumerate() {
            for image in 0..20 {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(image);
                let scene = generate_scene(&mut rng);
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + k as u64 * 100 + image);
                let plan = plan_viewing(&subject.habits, &scene, &mut rng);
                assert_eq!(plan.fixations[0].target_image, [0.5, 0.5]);
                let planned_ms: f32 = plan.fixations.iter().map(|f| f.duration_ms).sum();
                assert!(planned_ms > plan.viewing_time_ms * 0.8);
                let first = plan.fixations[1..].iter().find_map(|f| f.object);
                total += 1;
                followed += usize::from(first == subject.habits.order.first_pick(&scene));
            }
        }
        // Adherence is 0.7–0.95, and chance picks sometimes agree with the rule.
        assert!(followed * 100 > total * 70, "{followed} of {total}");
    }
}
