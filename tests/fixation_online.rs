//! Online equals offline: the detectors fed sample by sample, in random chunks, give
//! exactly the fixations of the whole recording, each one emitted soon after it ends
//! and never revised; a finished detector starts afresh.
#![allow(clippy::unwrap_used)]

mod synth;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scanscribe::fixation::{
    EyeSelection, Fixation, IdtOptions, IvtOptions, Method, NoiseReduction, OnlineDetector, Space,
    detect_fixations,
};
use scanscribe::gaze::GazeSample;
use scanscribe::study::ScreenGeometry;
use synth::{SynthOptions, generate};

/// The methods and settings the equality is checked for.
fn methods(space: &Space) -> Vec<Method> {
    let ivt = IvtOptions::default_for(space);
    let idt = IdtOptions::default_for(space);
    let mut median = ivt;
    median.preprocessing.noise_reduction = NoiseReduction::MovingMedian { window_samples: 5 };
    let mut left_no_fill = ivt;
    left_no_fill.preprocessing.eye = EyeSelection::Left;
    left_no_fill.preprocessing.gap_fill = false;
    let mut idt_mean = idt;
    idt_mean.preprocessing.noise_reduction = NoiseReduction::MovingAverage { window_samples: 3 };
    vec![
        Method::Ivt(ivt),
        Method::Ivt(median),
        Method::Ivt(IvtOptions {
            merge: false,
            discard_short: false,
            ..ivt
        }),
        Method::Ivt(IvtOptions {
            sampling_rate_hz: Some(300.0),
            ..ivt
        }),
        Method::Ivt(left_no_fill),
        Method::Idt(idt),
        Method::Idt(idt_mean),
    ]
}

/// Varied recordings: rates, noise, lost samples, blinks.
fn recordings(screen: &ScreenGeometry) -> Vec<Vec<GazeSample>> {
    [(60.0, 11), (300.0, 12), (1200.0, 13), (250.0, 14)]
        .into_iter()
        .map(|(rate, seed)| {
            let options = SynthOptions {
                noise_deg: 0.08,
                loss_probability: 0.02,
                blink_probability: 0.2,
                ..SynthOptions::clean(rate, 8.0, seed)
            };
            generate(screen, &options).samples
        })
        .collect()
}

/// Feeds `samples` in random chunks; returns each fixation with the time of the
/// sample whose push emitted it (`None` when `finish` did).
fn online(
    samples: &[GazeSample],
    method: &Method,
    space: Space,
    rng: &mut ChaCha8Rng,
) -> Vec<(Fixation, Option<i64>)> {
    let mut detector = OnlineDetector::new(method, space).unwrap();
    let mut emitted = Vec::new();
    let mut out = Vec::new();
    let mut rest = samples;
    while !rest.is_empty() {
        let chunk = rng.gen_range(1..=rest.len().min(500));
        let (now, later) = rest.split_at(chunk);
        for s in now {
            detector.push(s, &mut out).unwrap();
            emitted.extend(out.drain(..).map(|f| (f, Some(s.system_time_us))));
        }
        rest = later;
    }
    detector.finish(&mut out);
    emitted.extend(out.drain(..).map(|f| (f, None)));
    emitted
}

#[test]
fn online_fixations_equal_offline_ones_for_random_chunkings() {
    let screen = ScreenGeometry::default();
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for space in [
        Space::Visual(screen),
        Space::Pixels {
            resolution_px: screen.resolution_px,
        },
    ] {
        for samples in recordings(&screen) {
            for method in methods(&space) {
                let offline = detect_fixations(&samples, &method, space).unwrap();
                assert!(
                    offline.len() > 5,
                    "{method:?}: the data should have fixations"
                );
                for _ in 0..3 {
                    let online: Vec<Fixation> = online(&samples, &method, space, &mut rng)
                        .into_iter()
                        .map(|(f, _)| f)
                        .collect();
                    assert_eq!(online, offline, "{method:?}");
                }
            }
        }
    }
}

#[test]
fn fixations_are_emitted_soon_after_they_end() {
    let screen = ScreenGeometry::default();
    let space = Space::Visual(screen);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // Holding samples while a gap may still be filled (75 ms and one sample), the
    // velocity window's lead (up to 17 ms at 60 Hz) and one sample.
    let pipeline_ms = 75.0 + 17.0 + 17.0 + 17.0;
    let no_merge = Method::Ivt(IvtOptions {
        merge: false,
        ..IvtOptions::default()
    });
    for samples in recordings(&screen) {
        // After the warm-up (101 samples, for the sampling rate estimate).
        let warm_up_us = samples[101].system_time_us;
        for method in [Method::ivt_for(&space), no_merge, Method::idt_for(&space)] {
            let emitted = online(&samples, &method, space, &mut rng);
            let by_finish = emitted.iter().skip_while(|(_, at)| at.is_some());
            assert!(by_finish.clone().all(|(_, at)| at.is_none()));
            assert!(
                by_finish.count() <= 2,
                "only the last fixations wait for finish"
            );
            for (i, (fixation, at_us)) in emitted.iter().enumerate() {
                let Some(at_us) = *at_us else { continue };
                assert!(at_us > fixation.end_us);
                if fixation.end_us < warm_up_us {
                    continue;
                }
                // With merging, a fixation waits 75 ms for a run of fixation samples to
                // start, and then for that run to end: at the latest with the next
                // fixation (a run in between ends before it).
                let since_us = match method {
                    Method::Ivt(options) if options.merge => match emitted.get(i + 1) {
                        Some((next, _)) => next.end_us.max(fixation.end_us + 75_000),
                        None => continue,
                    },
                    _ => fixation.end_us,
                };
                let lag_ms = (at_us - since_us) as f64 / 1000.0;
                assert!(
                    lag_ms <= pipeline_ms,
                    "{method:?}: {lag_ms} ms after {fixation:?}"
                );
            }
        }
    }
}

#[test]
fn provisional_fixations_show_what_is_not_final_yet() {
    let screen = ScreenGeometry::default();
    let space = Space::Visual(screen);
    let samples = &recordings(&screen)[2];
    for method in [Method::ivt_for(&space), Method::idt_for(&space)] {
        let mut detector = OnlineDetector::new(&method, space).unwrap();
        let (mut out, mut provisional) = (Vec::new(), Vec::new());
        let mut seen = 0;
        for s in samples {
            detector.push(s, &mut out).unwrap();
            provisional.clear();
            detector.provisional(&mut provisional);
            seen += usize::from(!provisional.is_empty());
            for p in &provisional {
                assert!(p.end_us <= s.system_time_us);
                assert!(out.last().is_none_or(|last| last.end_us < p.start_us));
            }
        }
        // I-DT shows a fixation once it covers 100 ms, I-VT from its first sample.
        assert!(
            seen > samples.len() / 3,
            "{method:?}: {seen} of {}",
            samples.len()
        );
    }
}

#[test]
fn a_finished_detector_starts_afresh() {
    let screen = ScreenGeometry::default();
    let space = Space::Visual(screen);
    let samples = &recordings(&screen)[1];
    for method in methods(&space) {
        let mut detector = OnlineDetector::new(&method, space).unwrap();
        let mut first = Vec::new();
        detector.push_all(samples, &mut first).unwrap();
        detector.finish(&mut first);
        // The same recording again (its clock restarts): the same fixations.
        let mut second = Vec::new();
        detector.push_all(samples, &mut second).unwrap();
        detector.finish(&mut second);
        assert_eq!(first, second, "{method:?}");
    }
}
