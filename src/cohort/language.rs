//! What a simulated subject says about a picture after viewing it.
//!
//! The content comes from the gaze: the subject mentions the objects they looked at
//! longest (their `mention_fraction` of the fixated objects, at most `max_mentions`),
//! in the order they first looked at them, with an occasional swap of neighbours
//! (`order_swap_rate`). So the viewing order carries information about the
//! description, as in real look-then-describe studies. The form comes from the
//! subject's [`LanguageStyle`]: their words for shapes, colours and sizes, how often
//! they give colour, size and location, their favourite opening and sentence frame,
//! and whether they mention the background.
//!
//! Pure text generation: no samples, no files.

use rand::Rng;

use super::palette;
use super::scene::{Background, Scene, SceneObject, SizeClass};
use super::subject::{Frame, LanguageStyle, SpatialStyle};
use super::vocabulary::{article, number_word};

/// One object mentioned in a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Index of the object in the scene.
    pub object: usize,
    /// The noun phrase as it appears in the text, article included ("a big red disc").
    pub phrase: String,
}

/// A generated description and what it mentions, in text order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub text: String,
    pub mentions: Vec<Mention>,
}

/// Describes `scene` as a subject with `style` who made fixations on
/// `fixation_objects` (in viewing order) lasting `fixation_durations_ms`.
pub fn describe(
    style: &LanguageStyle,
    scene: &Scene,
    fixation_objects: &[Option<usize>],
    fixation_durations_ms: &[f64],
    rng: &mut impl Rng,
) -> Description {
    let order = mention_order(style, scene, fixation_objects, fixation_durations_ms, rng);
    let mut mentions = Vec::with_capacity(order.len());
    let mut items = Vec::with_capacity(order.len());
    let mut previous: Option<&SceneObject> = None;
    for &index in &order {
        let object = &scene.objects[index];
        let phrase = noun_phrase(style, object, rng);
        let location = location_phrase(style, object, previous, rng);
        items.push(match location {
            Some(location) => format!("{phrase} {location}"),
            None => phrase.clone(),
        });
        mentions.push(Mention {
            object: index,
            phrase,
        });
        previous = Some(object);
    }
    let background = background_phrase(style, scene, rng);
    let opening = if rng.r#gen::<f32>() < style.opening_loyalty {
        style.opening
    } else {
        style.other_opening
    };
    let frame = if rng.r#gen::<f32>() < style.frame_loyalty {
        style.frame
    } else {
        style.other_frame
    };
    let text = match frame {
        Frame::List => format!(
            "{} {}{background}.",
            opening.words(false),
            join_list(&items)
        ),
        Frame::Counting => {
            let count = number_word(scene.objects.len());
            let glue = if items.len() == scene.objects.len() {
                ":"
            } else {
                ", among them"
            };
            format!(
                "{} {count} shapes{background}{glue} {}.",
                opening.words(true),
                join_list(&items)
            )
        }
        Frame::Sentences => {
            let mut sentences = Vec::with_capacity(items.len());
            for (k, item) in items.iter().enumerate() {
                sentences.push(match k {
                    0 => format!("{} {item}{background}.", opening.words(false)),
                    _ => format!("{} {item}.", style.connector),
                });
            }
            sentences.join(" ")
        }
        Frame::Narrative => match items.as_slice() {
            [only] => format!("I noticed {only}{background}."),
            [first, second] => {
                format!("First I noticed {first}, and then {second}{background}.")
            }
            [first, middle @ .., last] => format!(
                "First I noticed {first}, then {}, and finally {last}{background}.",
                middle.join(", then ")
            ),
            [] => format!(
                "{} nothing in particular{background}.",
                opening.words(false)
            ),
        },
    };
    Description { text, mentions }
}

/// Which objects are mentioned, in mention order.
fn mention_order(
    style: &LanguageStyle,
    scene: &Scene,
    fixation_objects: &[Option<usize>],
    fixation_durations_ms: &[f64],
    rng: &mut impl Rng,
) -> Vec<usize> {
    let mut dwell_ms = vec![0.0_f64; scene.objects.len()];
    let mut first_look: Vec<usize> = Vec::new();
    for (object, duration) in fixation_objects.iter().zip(fixation_durations_ms) {
        if let Some(i) = *object {
            dwell_ms[i] += duration;
            if !first_look.contains(&i) {
                first_look.push(i);
            }
        }
    }
    if first_look.is_empty() {
        // Seen only in the periphery: the biggest object still gets named.
        let biggest = (0..scene.objects.len())
            .max_by(|&a, &b| scene.objects[a].area().total_cmp(&scene.objects[b].area()));
        first_look.extend(biggest);
    }
    let wanted = (style.mention_fraction * first_look.len() as f32).round() as usize;
    let count = wanted
        .clamp(1, style.max_mentions.max(1))
        .min(first_look.len());
    let mut by_dwell = first_look.clone();
    by_dwell.sort_by(|&a, &b| dwell_ms[b].total_cmp(&dwell_ms[a]));
    by_dwell.truncate(count);
    let mut order: Vec<usize> = first_look
        .into_iter()
        .filter(|i| by_dwell.contains(i))
        .collect();
    let mut k = 0;
    while k + 1 < order.len() {
        if rng.r#gen::<f32>() < style.order_swap_rate {
            order.swap(k, k + 1);
            k += 1;
        }
        k += 1;
    }
    order
}

fn noun_phrase(style: &LanguageStyle, object: &SceneObject, rng: &mut impl Rng) -> String {
    let mut words: Vec<&str> = Vec::with_capacity(3);
    let size_rate = match object.size {
        SizeClass::Medium => style.size_adjective_rate * 0.5,
        _ => style.size_adjective_rate,
    };
    if rng.r#gen::<f32>() < size_rate {
        words.extend(style.size_words.get(&object.size).map(String::as_str));
    }
    if rng.r#gen::<f32>() < style.colour_adjective_rate {
        words.extend(style.colour_words.get(&object.colour).map(String::as_str));
    }
    let noun = style
        .shape_words
        .get(&object.shape)
        .map_or(object.shape.name(), String::as_str);
    words.push(noun);
    let phrase = words.join(" ");
    format!("{} {phrase}", article(&phrase))
}

fn location_phrase(
    style: &LanguageStyle,
    object: &SceneObject,
    previous: Option<&SceneObject>,
    rng: &mut impl Rng,
) -> Option<String> {
    if style.spatial == SpatialStyle::None || rng.r#gen::<f32>() >= style.spatial_rate {
        return None;
    }
    let region = object.region();
    let absolute = style.region_words.phrase(region.column, region.row);
    match (style.spatial, previous) {
        (SpatialStyle::Relative, Some(previous)) => {
            let dx = object.centre[0] - previous.centre[0];
            let dy = object.centre[1] - previous.centre[1];
            Some(
                if dx.abs() > dy.abs() {
                    if dx > 0.0 {
                        "to the right of it"
                    } else {
                        "to the left of it"
                    }
                } else if dy > 0.0 {
                    "below it"
                } else {
                    "above it"
                }
                .into(),
            )
        }
        _ => Some(absolute),
    }
}

fn background_phrase(style: &LanguageStyle, scene: &Scene, rng: &mut impl Rng) -> String {
    if rng.r#gen::<f32>() >= style.background_rate {
        return String::new();
    }
    let colour = palette::rough_name(scene.background.main_rgb());
    let kind = scene.background.kind_word();
    let noun = &style.background_word;
    let words = match scene.background {
        Background::Gradient { .. } => format!("{colour} {kind} {noun}"),
        _ => format!("{kind} {colour} {noun}"),
    };
    format!(" on {} {words}", article(&words))
}

/// "a", "a and b", "a, b and c".
fn join_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::scene::generate_scene;
    use crate::cohort::subject::generate_subjects;
    use rand::SeedableRng;

    #[test]
    fn descriptions_follow_the_viewing_order_and_use_the_subjects_words() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let scene = generate_scene(&mut rng);
        let subjects = generate_subjects(3, 6, 0);
        let n = scene.objects.len();
        // Looked at every object in reverse index order, 300 ms each.
        let objects: Vec<Option<usize>> = (0..n).rev().map(Some).collect();
        let durations = vec![300.0; n];
        for subject in &subjects {
            let mut style = subject.style.clone();
            style.order_swap_rate = 0.0;
            style.mention_fraction = 1.0;
            style.max_mentions = 8;
            let d = describe(&style, &scene, &objects, &durations, &mut rng);
            let order: Vec<usize> = d.mentions.iter().map(|m| m.object).collect();
            assert_eq!(order, (0..n).rev().collect::<Vec<_>>(), "{}", d.text);
            let mut from = 0;
            for m in &d.mentions {
                let at = d.text[from..]
                    .find(&m.phrase)
                    .unwrap_or_else(|| panic!("{:?} not in order in {:?}", m.phrase, d.text));
                from += at + m.phrase.len();
                let noun = &style.shape_words[&scene.objects[m.object].shape];
                assert!(m.phrase.ends_with(noun.as_str()), "{} / {noun}", m.phrase);
            }
            assert!(d.text.ends_with('.'));
            assert!(d.text.chars().next().unwrap().is_uppercase(), "{}", d.text);
        }
    }

    #[test]
    fn longest_looked_at_objects_are_the_ones_mentioned() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let scene = generate_scene(&mut rng);
        let mut style = generate_subjects(3, 1, 0)[0].style.clone();
        style.max_mentions = 2;
        style.mention_fraction = 1.0;
        style.order_swap_rate = 0.0;
        let objects = [Some(0), Some(1), Some(2)];
        let d = describe(&style, &scene, &objects, &[100.0, 900.0, 600.0], &mut rng);
        let order: Vec<usize> = d.mentions.iter().map(|m| m.object).collect();
        assert_eq!(order, vec![1, 2], "{}", d.text);
    }
}
