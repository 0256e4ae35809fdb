//! Raw binocular gaze samples from a viewing plan, as a screen-based tracker would
//! deliver them, with the ground-truth fixations behind them.
//!
//! The eye alternates fixations and saccades. During a fixation it drifts slowly
//! (the subject's `drift_deg_per_s`) around where the saccade landed (target plus
//! a landing error). Saccades follow the main sequence, duration = 2.2 ms/° ×
//! amplitude + 21 ms, along a slightly curved path with a minimum-jerk (bell-shaped)
//! velocity profile. The tracker adds the subject's constant calibration offset and
//! white measurement noise per eye, sized so the averaged point has the subject's
//! RMS precision; the two eyes also disagree by a small fixed vergence offset.
//! Blinks (100–300 ms, both eyes lost, a Poisson process at the subject's rate) and
//! sporadic invalid single samples (one or both eyes) are added. Timestamps: system
//! µs with a few µs of delivery jitter; device µs on the tracker's own clock, with
//! its own epoch and a 20 ppm rate difference.
//!
//! Ground truth: each fixation is the run of its valid samples, split where the
//! data has a gap over 75 ms (a blink, as Tobii's I-VT gap fill would leave it);
//! pieces shorter than 50 ms are not fixations. Its position is the mean, and its box
//! the bounding box, of those samples' averaged gaze points.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::subject::ViewingHabits;
use super::viewing::ViewingPlan;
use crate::fixation::{Fixation, ImagePlacement};
use crate::gaze::GazeSample;
use crate::study::ScreenGeometry;

/// A gap in valid data longer than this splits a ground-truth fixation, µs.
const MAX_GAP_US: i64 = 75_000;
/// Ground-truth fixations shorter than this are dropped, µs.
const MIN_FIXATION_US: i64 = 50_000;
/// Half the angle between the two eyes' gaze estimates, degrees.
const VERGENCE_OFFSET_DEG: f32 = 0.08;
/// Rate difference of the tracker clock from the system clock, parts per million.
const DEVICE_CLOCK_PPM: f64 = 20.0;

/// Where and how the stream is recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamSettings {
    pub rate_hz: f64,
    pub screen: ScreenGeometry,
    pub placement: ImagePlacement,
    /// System-clock time of the first sample, µs.
    pub start_us: i64,
    /// Device-clock time of the first sample, µs.
    pub device_start_us: i64,
}

/// A synthesized trial stream.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthesizedStream {
    pub samples: Vec<GazeSample>,
    /// Ground-truth fixations in viewing order.
    pub fixations: Vec<Fixation>,
    /// The object each ground-truth fixation was aimed at (`None`: background, cross).
    pub fixation_objects: Vec<Option<usize>>,
    /// Number of blinks in the stream.
    pub blink_count: usize,
}

#[derive(Debug, Clone, Copy)]
enum Segment {
    Fixation {
        start_ms: f64,
        end_ms: f64,
        /// Landing point, display-normalized (true eye position, no tracker error).
        centre: [f64; 2],
        /// Drift velocity, display-normalized units per ms.
        drift: [f64; 2],
        plan_index: usize,
    },
    Saccade {
        start_ms: f64,
        end_ms: f64,
        from: [f64; 2],
        to: [f64; 2],
        /// Peak sideways deviation as a fraction of the amplitude.
        curvature: f64,
    },
}

impl Segment {
    fn end_ms(&self) -> f64 {
        match self {
            Self::Fixation { end_ms, .. } | Self::Saccade { end_ms, .. } => *end_ms,
        }
    }
}

fn gaussian<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// Synthesizes the samples of one trial.
pub fn synthesize_stream(
    plan: &ViewingPlan,
    habits: &ViewingHabits,
    settings: &StreamSettings,
    rng: &mut impl Rng,
) -> SynthesizedStream {
    let per_deg = settings.screen.normalized_from_degrees(1.0);
    let segments = build_segments(plan, habits, settings, per_deg, rng);
    let blinks = schedule_blinks(
        plan.viewing_time_ms.into(),
        habits.blinks_per_minute.into(),
        rng,
    );

    let period_us = 1e6 / settings.rate_hz;
    let count = (f64::from(plan.viewing_time_ms) * 1000.0 / period_us).floor() as usize;
    let offset = [0, 1].map(|a| f64::from(habits.calibration_offset_deg[a]) * per_deg[a]);
    let eye_noise = [0, 1].map(|a| f64::from(habits.noise_rms_deg) * per_deg[a]);
    let vergence = [0, 1].map(|a| f64::from(VERGENCE_OFFSET_DEG) * per_deg[a]);
    let jitter_us = (period_us * 0.02).min(30.0) as i64;
    let pupil_phase = rng.gen_range(0.0..std::f64::consts::TAU);

    let mut samples = Vec::with_capacity(count);
    // For each sample: the plan index of the fixation it belongs to (None in saccades).
    let mut sample_fixation: Vec<Option<usize>> = Vec::with_capacity(count);
    let mut segment_index = 0;
    let mut blink_index = 0;
    for i in 0..count {
        let t_ms = i as f64 * period_us / 1000.0;
        while segment_index + 1 < segments.len() && segments[segment_index].end_ms() <= t_ms {
            segment_index += 1;
        }
        while blink_index < blinks.len() && blinks[blink_index].1 <= t_ms {
            blink_index += 1;
        }
        let system_time_us = settings.start_us
            + (i as f64 * period_us).round() as i64
            + if jitter_us > 0 {
                rng.gen_range(-jitter_us..=jitter_us)
            } else {
                0
            };
        let device_time_us = settings.device_start_us
            + (i as f64 * period_us * (1.0 + DEVICE_CLOCK_PPM * 1e-6)).round() as i64;
        let (eye, fixation) = eye_position(&segments[segment_index], t_ms);
        sample_fixation.push(fixation);
        let blinking = blinks
            .get(blink_index)
            .is_some_and(|&(start, end)| start <= t_ms && t_ms < end);
        if blinking {
            let mut lost = GazeSample::lost(system_time_us);
            lost.device_time_us = device_time_us;
            samples.push(lost);
            continue;
        }
        let measured = |side: f64, rng: &mut dyn rand::RngCore| -> [f32; 2] {
            let x = eye[0] + offset[0] + side * vergence[0] + eye_noise[0] * gaussian(rng);
            let y = eye[1] + offset[1] + side * vergence[1] + eye_noise[1] * gaussian(rng);
            [x as f32, y as f32]
        };
        let mut sample = GazeSample::binocular(system_time_us, measured(-1.0, rng));
        sample.device_time_us = device_time_us;
        sample.right.gaze_point_display = measured(1.0, rng);
        let pupil = f64::from(habits.pupil_diameter_mm)
            + 0.15 * (t_ms / 4000.0 * std::f64::consts::TAU + pupil_phase).sin();
        sample.left.pupil_diameter_mm = (pupil + 0.02 * gaussian(rng)) as f32;
        sample.right.pupil_diameter_mm = (pupil + 0.05 + 0.02 * gaussian(rng)) as f32;
        let head_x = 4.0 * (t_ms / 7000.0 + pupil_phase).sin();
        let distance = settings.screen.viewing_distance_mm + 6.0 * (t_ms / 9000.0).cos();
        sample.left.gaze_origin_mm = [(head_x - 31.0) as f32, 0.0, distance as f32];
        sample.right.gaze_origin_mm = [(head_x + 31.0) as f32, 0.0, distance as f32];
        if rng.r#gen::<f32>() < habits.invalid_sample_rate {
            let which = rng.gen_range(0..3);
            if which != 1 {
                sample.left.gaze_point_valid = false;
                sample.left.pupil_valid = false;
            }
            if which != 0 {
                sample.right.gaze_point_valid = false;
                sample.right.pupil_valid = false;
            }
        }
        samples.push(sample);
    }
    let (fixations, fixation_objects) = ground_truth(plan, &samples, &sample_fixation);
    SynthesizedStream {
        samples,
        fixations,
        fixation_objects,
        blink_count: blinks.len(),
    }
}

fn build_segments(
    plan: &ViewingPlan,
    habits: &ViewingHabits,
    settings: &StreamSettings,
    per_deg: [f64; 2],
    rng: &mut impl Rng,
) -> Vec<Segment> {
    let end_of_viewing_ms = f64::from(plan.viewing_time_ms);
    let mut segments = Vec::with_capacity(plan.fixations.len() * 2);
    let mut t_ms = 0.0;
    let mut previous: Option<[f64; 2]> = None;
    for (plan_index, planned) in plan.fixations.iter().enumerate() {
        if t_ms >= end_of_viewing_ms {
            break;
        }
        let target = settings.placement.display_from_image(planned.target_image);
        let target = [f64::from(target[0]), f64::from(target[1])];
        let centre = match previous {
            // The trial starts with the eye on the cross, no saccade.
            None => target,
            Some(from) => {
                let error = f64::from(habits.landing_error_deg);
                let landing = [0, 1].map(|a| target[a] + error * per_deg[a] * gaussian(rng));
                let amplitude_deg = settings.screen.angle_between_deg(from, landing);
                let duration_ms = 2.2 * amplitude_deg + 21.0;
                segments.push(Segment::Saccade {
                    start_ms: t_ms,
                    end_ms: t_ms + duration_ms,
                    from,
                    to: landing,
                    curvature: 0.08 * gaussian(rng),
                });
                t_ms += duration_ms;
                landing
            }
        };
        let direction = rng.gen_range(0.0..std::f64::consts::TAU);
        let speed = f64::from(habits.drift_deg_per_s) / 1000.0;
        let duration_ms = f64::from(planned.duration_ms);
        segments.push(Segment::Fixation {
            start_ms: t_ms,
            end_ms: t_ms + duration_ms,
            centre,
            drift: [
                speed * direction.cos() * per_deg[0],
                speed * direction.sin() * per_deg[1],
            ],
            plan_index,
        });
        t_ms += duration_ms;
        previous = Some(centre);
    }
    segments
}

/// True eye position at `t_ms` within a segment, and the plan index when fixating.
fn eye_position(segment: &Segment, t_ms: f64) -> ([f64; 2], Option<usize>) {
    match *segment {
        Segment::Fixation {
            start_ms,
            centre,
            drift,
            plan_index,
            ..
        } => {
            let dt = (t_ms - start_ms).max(0.0);
            (
                [centre[0] + drift[0] * dt, centre[1] + drift[1] * dt],
                Some(plan_index),
            )
        }
        Segment::Saccade {
            start_ms,
            end_ms,
            from,
            to,
            curvature,
        } => {
            let tau = ((t_ms - start_ms) / (end_ms - start_ms)).clamp(0.0, 1.0);
            // Minimum-jerk position profile: bell-shaped velocity.
            let s = tau * tau * tau * (10.0 - 15.0 * tau + 6.0 * tau * tau);
            let d = [to[0] - from[0], to[1] - from[1]];
            let bend = curvature * (std::f64::consts::PI * tau).sin();
            (
                [
                    from[0] + d[0] * s - d[1] * bend,
                    from[1] + d[1] * s + d[0] * bend,
                ],
                None,
            )
        }
    }
}

/// Blink intervals `(start_ms, end_ms)`, a Poisson process, none in the first 150 ms.
fn schedule_blinks(viewing_ms: f64, per_minute: f64, rng: &mut impl Rng) -> Vec<(f64, f64)> {
    let mut blinks = Vec::new();
    let mean_gap_ms = 60_000.0 / per_minute.max(0.1);
    let mut t_ms = 150.0;
    loop {
        let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
        t_ms += -mean_gap_ms * u.ln();
        if t_ms >= viewing_ms {
            break;
        }
        let duration_ms = rng.gen_range(100.0..300.0);
        blinks.push((t_ms, t_ms + duration_ms));
        t_ms += duration_ms + 100.0;
    }
    blinks
}

fn ground_truth(
    plan: &ViewingPlan,
    samples: &[GazeSample],
    sample_fixation: &[Option<usize>],
) -> (Vec<Fixation>, Vec<Option<usize>>) {
    let mut fixations = Vec::new();
    let mut objects = Vec::new();
    let mut run: Vec<(i64, [f32; 2])> = Vec::new();
    let mut run_plan: Option<usize> = None;
    let mut flush = |run: &mut Vec<(i64, [f32; 2])>, plan_index: Option<usize>| {
        if let (Some(first), Some(last), Some(index)) = (run.first(), run.last(), plan_index)
            && last.0 - first.0 >= MIN_FIXATION_US
        {
            fixations.push(summarize(run));
            objects.push(plan.fixations[index].object);
        }
        run.clear();
    };
    for (sample, &fixation) in samples.iter().zip(sample_fixation) {
        if fixation != run_plan {
            flush(&mut run, run_plan);
            run_plan = fixation;
        }
        if fixation.is_none() {
            continue;
        }
        let Some(point) = sample.average_point() else {
            continue;
        };
        if run
            .last()
            .is_some_and(|&(t, _)| sample.system_time_us - t > MAX_GAP_US)
        {
            flush(&mut run, run_plan);
        }
        run.push((sample.system_time_us, point));
    }
    flush(&mut run, run_plan);
    (fixations, objects)
}

fn summarize(run: &[(i64, [f32; 2])]) -> Fixation {
    let n = run.len() as f64;
    let mut sum = [0.0_f64; 2];
    let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for &(_, [x, y]) in run {
        sum[0] += f64::from(x);
        sum[1] += f64::from(y);
        bbox = [
            bbox[0].min(x),
            bbox[1].min(y),
            bbox[2].max(x),
            bbox[3].max(y),
        ];
    }
    Fixation {
        start_us: run.first().map_or(0, |r| r.0),
        end_us: run.last().map_or(0, |r| r.0),
        position_display: [(sum[0] / n) as f32, (sum[1] / n) as f32],
        bbox_display: bbox,
        sample_count: run.len() as u32,
    }
}
