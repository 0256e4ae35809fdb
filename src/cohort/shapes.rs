//! The shapes objects can take, as signed distance functions.
//!
//! Each shape lives in a local frame where it fits the unit disc (x right, y down,
//! origin at its centre). A signed distance below zero is inside. The renderer turns
//! distance into anti-aliased coverage, and the scene generator measures boxes with
//! it, so a shape is defined in exactly one place. Formulas follow Inigo Quilez's 2D
//! distance functions. Nothing here draws or picks at random.

use serde::{Deserialize, Serialize};

/// An object's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Star,
    Diamond,
    Heart,
    Cross,
    Ring,
}

impl Shape {
    pub const ALL: [Self; 8] = [
        Self::Circle,
        Self::Square,
        Self::Triangle,
        Self::Star,
        Self::Diamond,
        Self::Heart,
        Self::Cross,
        Self::Ring,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Circle => "circle",
            Self::Square => "square",
            Self::Triangle => "triangle",
            Self::Star => "star",
            Self::Diamond => "diamond",
            Self::Heart => "heart",
            Self::Cross => "cross",
            Self::Ring => "ring",
        }
    }

    /// The largest rotation (degrees, either way) that keeps the shape recognisable
    /// as itself (a square turned 45° would read as a diamond).
    pub fn max_rotation_deg(self) -> f32 {
        match self {
            Self::Circle | Self::Ring => 0.0,
            Self::Square | Self::Diamond | Self::Heart => 10.0,
            Self::Triangle | Self::Cross => 12.0,
            Self::Star => 20.0,
        }
    }

    /// Signed distance from a point in the shape's local frame (unit disc, y down).
    pub fn signed_distance(self, p: [f32; 2]) -> f32 {
        match self {
            Self::Circle => length(p) - 1.0,
            Self::Ring => (length(p) - 0.78).abs() - 0.22,
            Self::Square => rounded_box(p, [0.82, 0.82], 0.06),
            Self::Diamond => rhombus(p, [0.78, 1.0]),
            Self::Cross => rounded_box(p, [0.95, 0.3], 0.02).min(rounded_box(p, [0.3, 0.95], 0.02)),
            // Apex up: the formula's frame is y up, centred on the centroid; shift so
            // the box is centred (the triangle spans 1.5 of the local frame's height).
            Self::Triangle => equilateral_triangle([p[0], -p[1] + 0.25], 0.866),
            // The lower points reach 0.81 below the centre; shift to centre the box.
            Self::Star => star5([p[0], -p[1] + 0.095], 1.0, 0.45),
            Self::Heart => {
                let scale = 0.6;
                heart([p[0] * scale, -p[1] * scale + 0.552]) / scale
            }
        }
    }
}

fn length(p: [f32; 2]) -> f32 {
    (p[0] * p[0] + p[1] * p[1]).sqrt()
}

fn dot(a: [f32; 2], b: [f32; 2]) -> f32 {
    a[0] * b[0] + a[1] * b[1]
}

fn rounded_box(p: [f32; 2], half: [f32; 2], corner: f32) -> f32 {
    let dx = p[0].abs() - (half[0] - corner);
    let dy = p[1].abs() - (half[1] - corner);
    length([dx.max(0.0), dy.max(0.0)]) + dx.max(dy).min(0.0) - corner
}

/// Rhombus with half-diagonals `half`: exact near the edges, where it matters.
fn rhombus(p: [f32; 2], half: [f32; 2]) -> f32 {
    let [a, b] = half;
    (p[0].abs() / a + p[1].abs() / b - 1.0) / (1.0 / (a * a) + 1.0 / (b * b)).sqrt()
}

/// Equilateral triangle, apex up in a y-up frame, `r` = half the side.
fn equilateral_triangle(p: [f32; 2], r: f32) -> f32 {
    let k = 3.0_f32.sqrt();
    let mut x = p[0].abs() - r;
    let mut y = p[1] + r / k;
    if x + k * y > 0.0 {
        (x, y) = ((x - k * y) / 2.0, (-k * x - y) / 2.0);
    }
    x -= x.clamp(-2.0 * r, 0.0);
    -length([x, y]) * y.signum()
}

/// Five-pointed star, a point up in a y-up frame; `r` outer radius, `rf` inner ratio.
fn star5(p: [f32; 2], r: f32, rf: f32) -> f32 {
    let k1 = [0.809_017, -0.587_785_24];
    let k2 = [-k1[0], k1[1]];
    let mut p = [p[0].abs(), p[1]];
    let d1 = 2.0 * dot(k1, p).max(0.0);
    p = [p[0] - d1 * k1[0], p[1] - d1 * k1[1]];
    let d2 = 2.0 * dot(k2, p).max(0.0);
    p = [p[0] - d2 * k2[0], p[1] - d2 * k2[1]];
    p = [p[0].abs(), p[1] - r];
    let ba = [rf * -k1[1], rf * k1[0] - 1.0];
    let h = (dot(p, ba) / dot(ba, ba)).clamp(0.0, r);
    let q = [p[0] - ba[0] * h, p[1] - ba[1] * h];
    length(q) * (p[1] * ba[0] - p[0] * ba[1]).signum()
}

/// Heart, tip at the origin, lobes up, in a y-up frame (about 1.2 wide, 1.1 tall).
fn heart(p: [f32; 2]) -> f32 {
    let p = [p[0].abs(), p[1]];
    if p[1] + p[0] > 1.0 {
        return length([p[0] - 0.25, p[1] - 0.75]) - std::f32::consts::SQRT_2 / 4.0;
    }
    let m = 0.5 * (p[0] + p[1]).max(0.0);
    let a = [p[0], p[1] - 1.0];
    let b = [p[0] - m, p[1] - m];
    dot(a, a).min(dot(b, b)).sqrt() * (p[0] - p[1]).signum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Extent of the inside region on a fine grid over `[-1.2, 1.2]²`.
    fn extent(shape: Shape) -> [f32; 4] {
        let mut e = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for i in 0..=240 {
            for j in 0..=240 {
                let p = [i as f32 / 100.0 - 1.2, j as f32 / 100.0 - 1.2];
                if shape.signed_distance(p) < 0.0 {
                    e = [
                        e[0].min(p[0]),
                        e[1].min(p[1]),
                        e[2].max(p[0]),
                        e[3].max(p[1]),
                    ];
                }
            }
        }
        e
    }

    #[test]
    fn every_shape_fits_the_unit_disc_box_and_is_roughly_centred() {
        for shape in Shape::ALL {
            let [x0, y0, x1, y1] = extent(shape);
            assert!(
                x0 >= -1.02 && y0 >= -1.02 && x1 <= 1.02 && y1 <= 1.02,
                "{shape:?} {x0} {y0} {x1} {y1}"
            );
            assert!(x1 - x0 > 1.2 && y1 - y0 > 1.2, "{shape:?} is too small");
            assert!(
                (x0 + x1).abs() < 0.1 && (y0 + y1).abs() < 0.15,
                "{shape:?} off centre"
            );
            assert!(shape.signed_distance([1.15, 1.15]) > 0.0);
        }
    }

    #[test]
    fn shapes_point_the_way_people_expect() {
        // Triangle and star apex up (y down): a point above the centre is inside,
        // the same distance below near the corners is not.
        assert!(Shape::Triangle.signed_distance([0.0, -0.7]) < 0.0);
        assert!(Shape::Triangle.signed_distance([0.6, -0.6]) > 0.0);
        assert!(Shape::Star.signed_distance([0.0, -0.9]) < 0.0);
        assert!(Shape::Star.signed_distance([0.0, 0.9]) > 0.0);
        // Heart: lobes on top, tip at the bottom.
        assert!(Shape::Heart.signed_distance([0.5, -0.5]) < 0.0);
        assert!(Shape::Heart.signed_distance([0.5, 0.7]) > 0.0);
        // Ring: hollow.
        assert!(Shape::Ring.signed_distance([0.0, 0.0]) > 0.0);
        assert!(Shape::Ring.signed_distance([0.8, 0.0]) < 0.0);
    }
}
