//! The words simulated subjects choose from: synonyms for shapes, colours and sizes,
//! opening phrases, connectors and region phrases.
//!
//! Each list starts with the most common word; [`choose_word`] favours the head of a
//! list, so most subjects say "circle" and a few say "disc" or "round shape", as in
//! real picture descriptions. Only word lists and their choice here; sentences are
//! built in [`super::language`].

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::palette::ColourName;
use super::scene::SizeClass;
use super::shapes::Shape;

pub fn shape_synonyms(shape: Shape) -> &'static [&'static str] {
    match shape {
        Shape::Circle => &["circle", "disc", "round shape", "dot", "ball"],
        Shape::Square => &["square", "box", "block", "square shape"],
        Shape::Triangle => &["triangle", "triangular shape", "wedge", "pyramid"],
        Shape::Star => &["star", "five-pointed star", "star shape"],
        Shape::Diamond => &["diamond", "rhombus", "diamond shape", "lozenge"],
        Shape::Heart => &["heart", "heart shape", "love heart"],
        Shape::Cross => &["cross", "plus sign", "plus"],
        Shape::Ring => &["ring", "donut", "hoop", "circle outline"],
    }
}

pub fn colour_synonyms(colour: ColourName) -> &'static [&'static str] {
    match colour {
        ColourName::Red => &["red", "crimson", "scarlet", "bright red"],
        ColourName::Orange => &["orange", "tangerine", "amber"],
        ColourName::Yellow => &["yellow", "golden", "lemon-yellow", "mustard"],
        ColourName::Green => &["green", "emerald", "grass-green", "dark green"],
        ColourName::Blue => &["blue", "navy", "royal blue", "cobalt"],
        ColourName::Purple => &["purple", "violet", "lilac", "plum"],
        ColourName::Pink => &["pink", "rose", "magenta", "hot pink"],
        ColourName::Brown => &["brown", "chocolate", "tan", "chestnut"],
        ColourName::Black => &["black", "dark", "jet-black"],
        ColourName::White => &["white", "ivory", "snow-white", "off-white"],
        ColourName::Grey => &["grey", "gray", "silver", "ash-grey"],
    }
}

pub fn size_synonyms(size: SizeClass) -> &'static [&'static str] {
    match size {
        SizeClass::Large => &["big", "large", "huge", "giant"],
        SizeClass::Medium => &["medium", "medium-sized", "mid-sized", "average-sized"],
        SizeClass::Small => &["small", "little", "tiny", "smallish"],
    }
}

/// Picks a word, the first of the list about half the time, later ones less often.
pub fn choose_word(words: &[&str], rng: &mut impl Rng) -> String {
    // Weights 6, 3, 2, 1, 1, ...
    let weight = |i: usize| match i {
        0 => 6,
        1 => 3,
        2 => 2,
        _ => 1,
    };
    let total: u32 = (0..words.len()).map(weight).sum();
    let mut pick = rng.gen_range(0..total.max(1));
    for (i, word) in words.iter().enumerate() {
        if pick < weight(i) {
            return (*word).to_owned();
        }
        pick -= weight(i);
    }
    words.first().map_or_else(String::new, |w| (*w).to_owned())
}

/// How a description begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opening {
    ISee,
    ThereIs,
    PictureShows,
    ICanSee,
    ImageHas,
    HereWeHave,
    InThisImage,
}

impl Opening {
    pub const ALL: [Self; 7] = [
        Self::ISee,
        Self::ThereIs,
        Self::PictureShows,
        Self::ICanSee,
        Self::ImageHas,
        Self::HereWeHave,
        Self::InThisImage,
    ];

    /// The opening words before a noun phrase or a list (`plural` when the list has
    /// more than one item or is a count).
    pub fn words(self, plural: bool) -> &'static str {
        match (self, plural) {
            (Self::ISee, _) => "I see",
            (Self::ThereIs, false) => "There is",
            (Self::ThereIs, true) => "There are",
            (Self::PictureShows, _) => "This picture shows",
            (Self::ICanSee, _) => "I can see",
            (Self::ImageHas, _) => "The image has",
            (Self::HereWeHave, _) => "Here we have",
            (Self::InThisImage, false) => "In this image there is",
            (Self::InThisImage, true) => "In this image there are",
        }
    }
}

/// Ways of adding one more object in a description told sentence by sentence.
pub const CONNECTORS: [&str; 6] = [
    "There is also",
    "I also see",
    "Next to it is",
    "Then there is",
    "And",
    "Besides that, there is",
];

/// How a subject says where something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionWords {
    /// "in the top left", "on the right", "in the middle".
    Plain,
    /// "in the upper-left corner", "on the right-hand side", "in the centre".
    Corners,
}

impl RegionWords {
    /// A location phrase for a region (`column`, `row` in thirds, 0 = left/top).
    pub fn phrase(self, column: u8, row: u8) -> String {
        match self {
            Self::Plain => {
                let r = ["top", "", "bottom"][usize::from(row.min(2))];
                let c = ["left", "", "right"][usize::from(column.min(2))];
                match (r.is_empty(), c.is_empty()) {
                    (true, true) => "in the middle".into(),
                    (true, false) => format!("on the {c}"),
                    (false, true) => format!("at the {r}"),
                    (false, false) => format!("in the {r} {c}"),
                }
            }
            Self::Corners => {
                let r = ["upper", "", "lower"][usize::from(row.min(2))];
                let c = ["left", "", "right"][usize::from(column.min(2))];
                match (r.is_empty(), c.is_empty()) {
                    (true, true) => "in the centre".into(),
                    (true, false) => format!("on the {c}-hand side"),
                    (false, true) => format!(
                        "near the {}",
                        ["top", "", "bottom"][usize::from(row.min(2))]
                    ),
                    (false, false) => format!("in the {r}-{c} corner"),
                }
            }
        }
    }
}

/// English number words for counts up to twelve.
pub fn number_word(n: usize) -> String {
    const WORDS: [&str; 13] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| (*w).to_owned())
}

/// "a" or "an" before a word.
pub fn article(next_word: &str) -> &'static str {
    match next_word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_phrases_and_articles_read_naturally() {
        assert_eq!(RegionWords::Plain.phrase(0, 0), "in the top left");
        assert_eq!(RegionWords::Plain.phrase(1, 1), "in the middle");
        assert_eq!(
            RegionWords::Corners.phrase(2, 2),
            "in the lower-right corner"
        );
        assert_eq!(RegionWords::Corners.phrase(0, 1), "on the left-hand side");
        assert_eq!(article("orange"), "an");
        assert_eq!(article("big"), "a");
        assert_eq!(number_word(5), "five");
    }

    #[test]
    fn the_common_word_is_chosen_most_often() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let words = shape_synonyms(Shape::Circle);
        let circles = (0..1300)
            .filter(|_| choose_word(words, &mut rng) == "circle")
            .count();
        // weight 6 of 13
        assert!((500..700).contains(&circles), "{circles}");
    }
}
