//! Colours of the synthetic world: the named object colours (what subjects call
//! them), muted background colours, and the rough name of any colour (for "a pale
//! blue background").
//!
//! Owns colour arithmetic only; it draws nothing and knows no shapes.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// A colour an object is painted in, by the name a speaker would use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourName {
    Red,
    Orange,
    Yellow,
    Green,
    Blue,
    Purple,
    Pink,
    Brown,
    Black,
    White,
    Grey,
}

impl ColourName {
    pub const ALL: [Self; 11] = [
        Self::Red,
        Self::Orange,
        Self::Yellow,
        Self::Green,
        Self::Blue,
        Self::Purple,
        Self::Pink,
        Self::Brown,
        Self::Black,
        Self::White,
        Self::Grey,
    ];

    /// The saturated colours: more frequent in scenes, and the ones a subject may
    /// prefer to look at first.
    pub const CHROMATIC: [Self; 7] = [
        Self::Red,
        Self::Orange,
        Self::Yellow,
        Self::Green,
        Self::Blue,
        Self::Purple,
        Self::Pink,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Red => "red",
            Self::Orange => "orange",
            Self::Yellow => "yellow",
            Self::Green => "green",
            Self::Blue => "blue",
            Self::Purple => "purple",
            Self::Pink => "pink",
            Self::Brown => "brown",
            Self::Black => "black",
            Self::White => "white",
            Self::Grey => "grey",
        }
    }

    /// The canonical sRGB value; objects get a small random shade around it.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Red => [214, 39, 40],
            Self::Orange => [245, 135, 30],
            Self::Yellow => [240, 210, 40],
            Self::Green => [44, 160, 70],
            Self::Blue => [40, 90, 205],
            Self::Purple => [128, 60, 175],
            Self::Pink => [240, 120, 180],
            Self::Brown => [125, 78, 40],
            Self::Black => [28, 28, 30],
            Self::White => [248, 248, 245],
            Self::Grey => [128, 128, 132],
        }
    }

    /// Picks an object colour: chromatic colours four times as likely as the others.
    pub fn sample(rng: &mut impl Rng) -> Self {
        let weight = |c: &Self| if Self::CHROMATIC.contains(c) { 4 } else { 1 };
        let total: u32 = Self::ALL.iter().map(weight).sum();
        let mut pick = rng.gen_range(0..total);
        for colour in Self::ALL {
            if pick < weight(&colour) {
                return colour;
            }
            pick -= weight(&colour);
        }
        Self::Grey
    }
}

/// `colour` with each channel moved by up to `amount` at random (a shade of it).
pub fn shade(colour: [u8; 3], amount: i32, rng: &mut impl Rng) -> [u8; 3] {
    colour.map(|c| (i32::from(c) + rng.gen_range(-amount..=amount)).clamp(0, 255) as u8)
}

/// Scales a colour towards black (`factor` < 1).
pub fn darken(colour: [u8; 3], factor: f32) -> [u8; 3] {
    colour.map(|c| (f32::from(c) * factor).round().clamp(0.0, 255.0) as u8)
}

/// Euclidean distance in sRGB, 0–441.
pub fn distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    let d: i32 = (0..3)
        .map(|i| {
            let d = i32::from(a[i]) - i32::from(b[i]);
            d * d
        })
        .sum();
    (d as f32).sqrt()
}

/// HSV (hue in degrees, saturation and value in `[0, 1]`) to sRGB.
pub fn from_hsv(hue_deg: f32, saturation: f32, value: f32) -> [u8; 3] {
    let h = hue_deg.rem_euclid(360.0) / 60.0;
    let c = value * saturation;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = value - c;
    [r, g, b].map(|v| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8)
}

/// A muted background colour: low saturation, mostly light.
pub fn muted(rng: &mut impl Rng) -> [u8; 3] {
    let value = if rng.gen_bool(0.8) {
        rng.gen_range(0.72..0.96)
    } else {
        rng.gen_range(0.35..0.55)
    };
    from_hsv(rng.gen_range(0.0..360.0), rng.gen_range(0.08..0.35), value)
}

/// A rough everyday name of any colour ("pale blue", "dark grey", "beige"), used
/// when subjects mention the background.
pub fn rough_name(colour: [u8; 3]) -> String {
    let [r, g, b] = colour.map(|c| f32::from(c) / 255.0);
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let saturation = if max > 0.0 { (max - min) / max } else { 0.0 };
    let lightness = if max > 0.8 {
        "pale "
    } else if max < 0.5 {
        "dark "
    } else {
        ""
    };
    if saturation < 0.12 {
        return match lightness {
            "pale " => "white".into(),
            "dark " => "dark grey".into(),
            _ => "grey".into(),
        };
    }
    let hue = if max == r {
        60.0 * ((g - b) / (max - min)).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / (max - min) + 2.0)
    } else {
        60.0 * ((r - g) / (max - min) + 4.0)
    };
    let hue_name = match hue as u32 {
        0..=14 | 345..=360 => "red",
        15..=44 => {
            if lightness == "pale " {
                return "beige".into();
            }
            "brown"
        }
        45..=69 => "yellow",
        70..=164 => "green",
        165..=194 => "turquoise",
        195..=254 => "blue",
        255..=289 => "purple",
        _ => "pink",
    };
    format!("{lightness}{hue_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rough_names_match_what_people_would_say() {
        assert_eq!(rough_name([200, 220, 250]), "pale blue");
        assert_eq!(rough_name([40, 40, 42]), "dark grey");
        assert_eq!(rough_name([245, 235, 215]), "beige");
        assert_eq!(rough_name([60, 140, 60]), "green");
        assert_eq!(rough_name(from_hsv(0.0, 0.0, 1.0)), "white");
    }

    #[test]
    fn chromatic_colours_dominate_samples() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let chromatic = (0..1000)
            .filter(|_| ColourName::CHROMATIC.contains(&ColourName::sample(&mut rng)))
            .count();
        // 28 of 32 weight units are chromatic: 875 expected.
        assert!((820..930).contains(&chromatic), "{chromatic}");
    }
}
