//! A trial's scanpath prepared for drawing: fixations in image coordinates with their
//! times from stimulus onset, and the decimated gaze trace. Built once when a session
//! loads; a frame only asks "what is visible at time t" (binary searches), so drawing
//! cost depends on what is shown, never on the sampling rate.

use crate::fixation::{Fixation, ImagePlacement};

/// A fixation on the image, times in ms from stimulus onset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanFixation {
    pub start_ms: f32,
    pub end_ms: f32,
    /// Image-normalized, origin top-left (may lie outside `[0, 1]`: off the image).
    pub center_image: [f32; 2],
}

impl ScanFixation {
    pub fn duration_ms(&self) -> f32 {
        self.end_ms - self.start_ms
    }

    /// How long the fixation has lasted at playback time `t_ms` (0 before it starts).
    pub fn elapsed_ms(&self, t_ms: f32) -> f32 {
        (t_ms.min(self.end_ms) - self.start_ms).max(0.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scanpath {
    /// In time order.
    pub fixations: Vec<ScanFixation>,
    /// `(time ms, image-normalized point)`, in time order, one point per 10 ms at most.
    pub trace: Vec<(f32, [f32; 2])>,
}

impl Scanpath {
    pub fn new(
        fixations: &[Fixation],
        stimulus_on_us: i64,
        placement: &ImagePlacement,
        trace: Vec<(f32, [f32; 2])>,
    ) -> Self {
        let ms = |us: i64| ((us - stimulus_on_us) as f64 / 1000.0) as f32;
        let fixations = fixations
            .iter()
            .map(|f| ScanFixation {
                start_ms: ms(f.start_us),
                end_ms: ms(f.end_us),
                center_image: placement.image_from_display(f.position_display),
            })
            .collect();
        Self { fixations, trace }
    }

    /// How many fixations have started at `t_ms` (they are the first ones).
    pub fn started_count(&self, t_ms: f32) -> usize {
        self.fixations.partition_point(|f| f.start_ms <= t_ms)
    }

    /// How many fixations have ended at `t_ms` (they are the first ones: fixations do
    /// not overlap, so their ends are in order too).
    pub fn settled_count(&self, t_ms: f32) -> usize {
        self.fixations.partition_point(|f| f.end_ms <= t_ms)
    }

    /// The first fixation still visible with a trail of `trail_ms` (`None`: everything
    /// from the start): fixations that ended before `t_ms - trail_ms` are hidden.
    pub fn first_in_trail(&self, t_ms: f32, trail_ms: Option<f32>) -> usize {
        match trail_ms {
            None => 0,
            // Fixations do not overlap, so their ends are in order too.
            Some(trail) => self.fixations.partition_point(|f| f.end_ms < t_ms - trail),
        }
    }

    /// The gaze point at `t_ms`: the trace point at or just before it, when it is at
    /// most `max_gap_ms` old (otherwise the eyes were not tracked then).
    pub fn gaze_at(&self, t_ms: f32, max_gap_ms: f32) -> Option<[f32; 2]> {
        let after = self.trace.partition_point(|(time, _)| *time <= t_ms);
        let (time, point) = *self.trace.get(after.checked_sub(1)?)?;
        (t_ms - time <= max_gap_ms).then_some(point)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixation(start_ms: f32, end_ms: f32) -> ScanFixation {
        ScanFixation {
            start_ms,
            end_ms,
            center_image: [0.5, 0.5],
        }
    }

    #[test]
    fn what_is_visible_follows_the_playhead() {
        let path = Scanpath {
            fixations: vec![
                fixation(0.0, 200.0),
                fixation(250.0, 600.0),
                fixation(700.0, 900.0),
            ],
            trace: vec![(0.0, [0.1, 0.1]), (10.0, [0.2, 0.2]), (500.0, [0.9, 0.9])],
        };
        assert_eq!(path.started_count(-1.0), 0);
        assert_eq!(path.started_count(250.0), 2);
        assert_eq!(path.started_count(5000.0), 3);
        assert_eq!(path.settled_count(250.0), 1);
        assert_eq!(path.settled_count(600.0), 2);
        assert_eq!(path.first_in_trail(800.0, None), 0);
        assert_eq!(path.first_in_trail(800.0, Some(300.0)), 1);
        assert_eq!(path.fixations[1].elapsed_ms(400.0), 150.0);
        assert_eq!(path.fixations[1].elapsed_ms(100.0), 0.0);
        assert_eq!(path.gaze_at(15.0, 50.0), Some([0.2, 0.2]));
        assert_eq!(path.gaze_at(300.0, 50.0), None, "no sample near 300 ms");
        assert_eq!(path.gaze_at(-5.0, 50.0), None);
    }
}
