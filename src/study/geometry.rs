//! Screen geometry and visual angle: turning display-normalized points into degrees.
//!
//! The eye is assumed on the normal through the screen centre at the viewing
//! distance (the usual lab set-up). Angles between two on-screen points are the
//! exact angle between the two lines of sight, not a small-angle approximation.

use serde::{Deserialize, Serialize};

/// The physical set-up of the stimulus screen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreenGeometry {
    /// Width and height in pixels.
    pub resolution_px: (u32, u32),
    /// Width and height of the visible display area in millimetres.
    pub size_mm: (f64, f64),
    /// Distance from the eyes to the screen centre in millimetres.
    pub viewing_distance_mm: f64,
}

impl Default for ScreenGeometry {
    /// A 24" 1920×1080 monitor at 65 cm, a common eye-tracking set-up.
    fn default() -> Self {
        Self {
            resolution_px: (1920, 1080),
            size_mm: (531.0, 299.0),
            viewing_distance_mm: 650.0,
        }
    }
}

impl ScreenGeometry {
    /// A display-normalized point (origin top-left) in millimetres from the screen
    /// centre, y down.
    pub fn mm_from_normalized(&self, point: [f64; 2]) -> [f64; 2] {
        [
            (point[0] - 0.5) * self.size_mm.0,
            (point[1] - 0.5) * self.size_mm.1,
        ]
    }

    /// The angle in degrees between the lines of sight to two display-normalized points.
    pub fn angle_between_deg(&self, a: [f64; 2], b: [f64; 2]) -> f64 {
        let [ax, ay] = self.mm_from_normalized(a);
        let [bx, by] = self.mm_from_normalized(b);
        let d = self.viewing_distance_mm;
        let dot = ax * bx + ay * by + d * d;
        let cross_sq = {
            // |a × b|² for a = (ax, ay, d), b = (bx, by, d)
            let cx = ay * d - d * by;
            let cy = d * bx - ax * d;
            let cz = ax * by - ay * bx;
            cx * cx + cy * cy + cz * cz
        };
        cross_sq.sqrt().atan2(dot).to_degrees()
    }

    /// Pixels per degree of visual angle at the screen centre (horizontal).
    pub fn px_per_degree(&self) -> f64 {
        let mm_per_degree = 2.0 * self.viewing_distance_mm * (0.5_f64).to_radians().tan();
        mm_per_degree * f64::from(self.resolution_px.0) / self.size_mm.0
    }

    /// The size of a visual angle in display-normalized units at the screen centre,
    /// `[horizontal, vertical]`.
    pub fn normalized_from_degrees(&self, degrees: f64) -> [f64; 2] {
        let mm = 2.0 * self.viewing_distance_mm * (degrees.to_radians() / 2.0).tan();
        [mm / self.size_mm.0, mm / self.size_mm.1]
    }

    /// Problems that make the geometry impossible, as `(field, message)` pairs.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let (w_px, h_px) = self.resolution_px;
        if w_px == 0 || h_px == 0 {
            problems.push((
                "screen.resolution_px",
                format!("expected a width and height above 0 pixels, found ({w_px}, {h_px})"),
            ));
        }
        let (w_mm, h_mm) = self.size_mm;
        let size_ok = w_mm.is_finite() && h_mm.is_finite() && w_mm > 0.0 && h_mm > 0.0;
        if !size_ok {
            problems.push((
                "screen.size_mm",
                format!(
                    "expected a positive width and height in millimetres, found ({w_mm}, {h_mm})"
                ),
            ));
        } else if w_mm > 10_000.0 || h_mm > 10_000.0 {
            problems.push((
                "screen.size_mm",
                format!("({w_mm}, {h_mm}) mm is over 10 m: give the size in millimetres"),
            ));
        }
        let d = self.viewing_distance_mm;
        if !(d.is_finite() && (100.0..=5_000.0).contains(&d)) {
            problems.push((
                "screen.viewing_distance_mm",
                format!("expected a distance between 100 and 5000 mm, found {d}"),
            ));
        }
        if size_ok && w_px > 0 && h_px > 0 {
            let pixel_aspect = (w_mm / f64::from(w_px)) / (h_mm / f64::from(h_px));
            if !(0.85..=1.15).contains(&pixel_aspect) {
                problems.push((
                    "screen.size_mm",
                    format!(
                        "{w_mm}×{h_mm} mm does not fit {w_px}×{h_px} px (pixels would be {pixel_aspect:.2} times wider than tall); check the order width, height"
                    ),
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_is_about_eleven_millimetres_at_65_cm() {
        let screen = ScreenGeometry::default();
        let mm = 650.0 * 2.0 * (0.5_f64.to_radians()).tan();
        let dx = mm / screen.size_mm.0;
        let angle = screen.angle_between_deg([0.5 - dx / 2.0, 0.5], [0.5 + dx / 2.0, 0.5]);
        assert!((angle - 1.0).abs() < 1e-9, "{angle}");
        assert!(
            (screen.px_per_degree() - 41.07).abs() < 0.1,
            "{}",
            screen.px_per_degree()
        );
    }

    #[test]
    fn angles_off_centre_are_smaller_for_the_same_distance_on_screen() {
        let screen = ScreenGeometry::default();
        let centre = screen.angle_between_deg([0.5, 0.5], [0.55, 0.5]);
        let edge = screen.angle_between_deg([0.95, 0.5], [1.0, 0.5]);
        assert!(edge < centre);
        assert_eq!(screen.angle_between_deg([0.2, 0.3], [0.2, 0.3]), 0.0);
    }

    #[test]
    fn impossible_geometry_is_reported() {
        let mut screen = ScreenGeometry::default();
        assert!(screen.problems().is_empty());
        screen.size_mm = (299.0, 531.0);
        assert!(screen.problems()[0].1.contains("does not fit"));
        screen.viewing_distance_mm = 0.0;
        assert!(
            screen
                .problems()
                .iter()
                .any(|(f, _)| *f == "screen.viewing_distance_mm")
        );
    }
}
