//! The space fixation thresholds are measured in: degrees of visual angle on a screen
//! of known geometry, or pixels for traces without one (imported mouse traces).
//!
//! Points stay display-normalized everywhere; only distances and the per-axis
//! coordinates used for dispersion go through here. Owns no detection logic.

use serde::{Deserialize, Serialize};

use super::error::FixationError;
use crate::study::ScreenGeometry;

/// Where distances are measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Space {
    /// Degrees of visual angle (the eye on the normal through the screen centre at the
    /// viewing distance); velocities in °/s.
    Visual(ScreenGeometry),
    /// Pixels of a screen of this resolution; velocities in px/s.
    Pixels { resolution_px: (u32, u32) },
}

impl Space {
    /// Width and height of the screen in pixels.
    pub fn resolution_px(&self) -> (u32, u32) {
        match self {
            Self::Visual(screen) => screen.resolution_px,
            Self::Pixels { resolution_px } => *resolution_px,
        }
    }

    /// The unit of distances: `°` or `px`.
    pub fn unit(&self) -> &'static str {
        match self {
            Self::Visual(_) => "°",
            Self::Pixels { .. } => "px",
        }
    }

    /// The distance between two display-normalized points: the angle between the two
    /// lines of sight in degrees ([`ScreenGeometry::angle_between_deg`]), or pixels.
    #[inline]
    pub fn distance(&self, a: [f32; 2], b: [f32; 2]) -> f64 {
        match self {
            Self::Visual(screen) => screen.angle_between_deg(
                [f64::from(a[0]), f64::from(a[1])],
                [f64::from(b[0]), f64::from(b[1])],
            ),
            Self::Pixels { resolution_px } => {
                let dx = (f64::from(a[0]) - f64::from(b[0])) * f64::from(resolution_px.0);
                let dy = (f64::from(a[1]) - f64::from(b[1])) * f64::from(resolution_px.1);
                (dx * dx + dy * dy).sqrt()
            }
        }
    }

    /// Per-axis coordinates for dispersion: degrees of visual angle along x and y,
    /// `atan(offset from the screen centre / viewing distance)` for each axis (as
    /// pymovements' `pix2deg`), or pixels from the top-left corner.
    #[inline]
    pub fn axes(&self, point: [f32; 2]) -> [f64; 2] {
        match self {
            Self::Visual(screen) => {
                let [x_mm, y_mm] =
                    screen.mm_from_normalized([f64::from(point[0]), f64::from(point[1])]);
                let d = screen.viewing_distance_mm;
                [x_mm.atan2(d).to_degrees(), y_mm.atan2(d).to_degrees()]
            }
            Self::Pixels { resolution_px } => [
                f64::from(point[0]) * f64::from(resolution_px.0),
                f64::from(point[1]) * f64::from(resolution_px.1),
            ],
        }
    }

    /// An error naming the first impossible field, if any.
    pub fn validate(&self) -> Result<(), FixationError> {
        match self {
            Self::Visual(screen) => match screen.problems().into_iter().next() {
                Some((field, message)) => Err(FixationError::InvalidOption { field, message }),
                None => Ok(()),
            },
            Self::Pixels {
                resolution_px: (w, h),
            } if *w == 0 || *h == 0 => Err(FixationError::InvalidOption {
                field: "resolution_px",
                message: format!("expected a width and height above 0, found ({w}, {h})"),
            }),
            Self::Pixels { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_axes_match_pymovements_pix2deg() {
        // pymovements: pix2deg([(123, 865)], (1280, 1024), (38, 30) cm, 68 cm, 'upper left')
        // = [-12.70732231, 8.65963972], with pixel centres at (px - (W - 1) / 2).
        let screen = ScreenGeometry {
            resolution_px: (1280, 1024),
            size_mm: (380.0, 300.0),
            viewing_distance_mm: 680.0,
        };
        let point = [(123.0 + 0.5) / 1280.0, (865.0 + 0.5) / 1024.0];
        let [x, y] = Space::Visual(screen).axes(point);
        assert!((x - -12.70732231).abs() < 1e-6, "{x}");
        assert!((y - 8.65963972).abs() < 1e-6, "{y}");
    }

    #[test]
    fn pixel_distances_use_the_resolution() {
        let space = Space::Pixels {
            resolution_px: (1000, 500),
        };
        assert!((space.distance([0.0, 0.0], [0.3, 0.8]) - 500.0).abs() < 1e-3);
        assert_eq!(space.axes([0.5, 0.5]), [500.0, 250.0]);
        assert!(
            Space::Pixels {
                resolution_px: (0, 5)
            }
            .validate()
            .is_err()
        );
    }
}
