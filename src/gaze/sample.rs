//! One gaze sample as every source delivers it: both eyes, on the display area.
//!
//! Coordinates follow the Tobii Pro convention: the gaze point is normalized to the
//! display area, origin top-left, `[0, 1]²` when on screen (values outside mean the
//! subject looked beside the screen). Gaze origins are in millimetres in the tracker's
//! user coordinate system. Timestamps are microseconds: `system_time_us` on the system
//! monotonic clock (see [`super::clock`]), `device_time_us` on the tracker's own clock.

use serde::{Deserialize, Serialize};

/// What one eye contributed to a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EyeSample {
    /// Gaze point on the display area, normalized, origin top-left.
    pub gaze_point_display: [f32; 2],
    pub gaze_point_valid: bool,
    pub pupil_diameter_mm: f32,
    pub pupil_valid: bool,
    /// Position of the eye in the tracker's user coordinate system, millimetres.
    pub gaze_origin_mm: [f32; 3],
    pub gaze_origin_valid: bool,
}

impl EyeSample {
    /// An eye the tracker did not see (blink, looking away, lost track).
    pub const INVALID: Self = Self {
        gaze_point_display: [f32::NAN, f32::NAN],
        gaze_point_valid: false,
        pupil_diameter_mm: f32::NAN,
        pupil_valid: false,
        gaze_origin_mm: [f32::NAN, f32::NAN, f32::NAN],
        gaze_origin_valid: false,
    };

    /// The gaze point when it is flagged valid and finite.
    pub fn point(&self) -> Option<[f32; 2]> {
        let [x, y] = self.gaze_point_display;
        (self.gaze_point_valid && x.is_finite() && y.is_finite()).then_some([x, y])
    }
}

/// One binocular sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GazeSample {
    /// Microseconds on the system monotonic clock (the clock all events share).
    pub system_time_us: i64,
    /// Microseconds on the device's clock (gaps here reveal dropped samples).
    pub device_time_us: i64,
    pub left: EyeSample,
    pub right: EyeSample,
}

impl GazeSample {
    /// A sample in which both eyes look at the same point (mouse, simulation).
    pub fn binocular(system_time_us: i64, point_display: [f32; 2]) -> Self {
        let eye = EyeSample {
            gaze_point_display: point_display,
            gaze_point_valid: true,
            pupil_diameter_mm: 3.0,
            pupil_valid: true,
            gaze_origin_mm: [0.0, 0.0, 650.0],
            gaze_origin_valid: true,
        };
        Self {
            system_time_us,
            device_time_us: system_time_us,
            left: eye,
            right: eye,
        }
    }

    /// A sample with neither eye seen.
    pub fn lost(system_time_us: i64) -> Self {
        Self {
            system_time_us,
            device_time_us: system_time_us,
            left: EyeSample::INVALID,
            right: EyeSample::INVALID,
        }
    }

    /// The average of the valid eyes' gaze points (Tobii I-VT "average" eye selection);
    /// one eye alone when only one is valid; `None` when neither is.
    pub fn average_point(&self) -> Option<[f32; 2]> {
        match (self.left.point(), self.right.point()) {
            (Some(l), Some(r)) => Some([(l[0] + r[0]) * 0.5, (l[1] + r[1]) * 0.5]),
            (Some(p), None) | (None, Some(p)) => Some(p),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_point_uses_the_valid_eyes() {
        let mut s = GazeSample::binocular(0, [0.2, 0.4]);
        s.right.gaze_point_display = [0.4, 0.6];
        let p = s.average_point().unwrap();
        assert!((p[0] - 0.3).abs() < 1e-6 && (p[1] - 0.5).abs() < 1e-6);
        s.left.gaze_point_valid = false;
        assert_eq!(s.average_point(), Some([0.4, 0.6]));
        s.right.gaze_point_display = [f32::NAN, 0.5];
        assert_eq!(s.average_point(), None, "NaN counts as invalid");
    }
}
