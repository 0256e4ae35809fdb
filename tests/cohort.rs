//! The simulated cohort behaves like a cohort: reproducible from its seed, with gaze
//! streams a tracker could have recorded, viewing habits and ways of speaking that are
//! stable within a subject and differ between subjects (measured, not assumed), and
//! descriptions that follow the viewing order. Also checks that the bundled demo
//! images are what the generator makes (`UPDATE_DEMO_ASSETS=1` rewrites them).
//!
//! Run with `--nocapture` to see the measured numbers.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use scanscribe::cohort::{
    self, Cohort, CohortConfig, OrderStrategy, Scene, Trial, palette::ColourName, render,
};
use scanscribe::dataset::{Split, read_records};
use scanscribe::fixation::Fixation;

fn cohort(seed: u64, subjects: usize, images: usize, rate_hz: f64) -> Cohort {
    Cohort::new(CohortConfig {
        seed,
        subjects,
        images,
        held_out: 1,
        rate_hz,
        ..CohortConfig::default()
    })
    .unwrap()
}

fn all_trials(cohort: &Cohort) -> Vec<Trial> {
    (0..cohort.subjects.len())
        .flat_map(|s| (0..cohort.scenes.len()).map(move |i| (s, i)))
        .map(|(s, i)| cohort.trial(s, i))
        .collect()
}

/// The object a fixation lands on, by geometry alone: the object whose box (grown
/// by 3 % of the image for tracker error) contains it, nearest centre first.
fn object_at(cohort: &Cohort, scene: &Scene, fixation: &Fixation) -> Option<usize> {
    let p = cohort
        .placement
        .image_from_display(fixation.position_display);
    let grow = 0.03;
    scene
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let [x0, y0, x1, y1] = o.bbox;
            p[0] >= x0 - grow && p[0] <= x1 + grow && p[1] >= y0 - grow && p[1] <= y1 + grow
        })
        .min_by(|(_, a), (_, b)| {
            let d = |o: &cohort::SceneObject| (o.centre[0] - p[0]).hypot(o.centre[1] - p[1]);
            d(a).total_cmp(&d(b))
        })
        .map(|(i, _)| i)
}

/// Objects in the order they were first fixated (after the fixation on the cross).
fn first_look_order(cohort: &Cohort, trial: &Trial) -> Vec<usize> {
    let scene = &cohort.scenes[trial.scene];
    let mut order = Vec::new();
    for f in trial.stream.fixations.iter().skip(1) {
        if let Some(o) = object_at(cohort, scene, f)
            && !order.contains(&o)
        {
            order.push(o);
        }
    }
    order
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_same_seed_gives_the_same_folder_byte_for_byte_and_another_seed_does_not() {
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (dir, seed) in dirs.iter().zip([7, 7, 8]) {
        let c = cohort(seed, 3, 4, 120.0);
        cohort::write_cohort(&c, dir.path(), &|_| {}).unwrap();
    }
    let files = files_under(dirs[0].path());
    assert_eq!(files, files_under(dirs[1].path()));
    // 4 images, 3×4 gaze and fixation files, records, scenes, cohort, README.
    assert_eq!(files.len(), 4 + 24 + 4, "{files:?}");
    for file in &files {
        let a = std::fs::read(dirs[0].path().join(file)).unwrap();
        let b = std::fs::read(dirs[1].path().join(file)).unwrap();
        assert!(a == b, "{} differs between two runs", file.display());
    }
    for file in [
        "records.jsonl",
        "scenes.json",
        "gaze/s01/scene-001.csv",
        "images/scene-001.png",
    ] {
        let a = std::fs::read(dirs[0].path().join(file)).unwrap();
        let c = std::fs::read(dirs[2].path().join(file)).unwrap();
        assert!(a != c, "{file} is the same for seeds 7 and 8");
    }
}

#[test]
fn written_records_are_valid_and_point_at_the_written_files() {
    let dir = tempfile::tempdir().unwrap();
    let c = cohort(5, 4, 10, 250.0);
    let summary = cohort::write_cohort(&c, dir.path(), &|_| {}).unwrap();
    let records = read_records(&dir.path().join("records.jsonl")).unwrap();
    assert_eq!(records.len(), 40);
    assert_eq!(summary.records_per_split.iter().sum::<usize>(), 40);
    let held_out: Vec<&str> = c
        .subjects
        .iter()
        .filter(|s| s.held_out)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(held_out.len(), 1);
    for record in &records {
        if held_out.contains(&record.subject.as_str()) {
            assert_eq!(record.split, Some(Split::Test));
        }
        assert!(!record.trajectory.is_empty(), "{record:?}");
        let stem = record.trial.as_deref().unwrap();
        let gaze = dir
            .path()
            .join(format!("gaze/{}/{stem}.csv", record.subject));
        let samples = scanscribe::gaze::csv::read_samples(&gaze).unwrap();
        assert!(
            samples.len() > 250,
            "{}: {} samples",
            gaze.display(),
            samples.len()
        );
        let fixations = std::fs::read_to_string(
            dir.path()
                .join(format!("fixations/{}/{stem}.csv", record.subject)),
        )
        .unwrap();
        assert!(fixations.starts_with("start_us,end_us,duration_ms,x,y,bbox_x0"));
        assert!(fixations.lines().count() > record.trajectory.len());
    }
    let scenes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("scenes.json")).unwrap())
            .unwrap();
    let objects = &scenes["scenes"][0]["objects"];
    assert!(objects.as_array().unwrap().len() >= 3);
    assert!(objects[0]["box"].as_array().unwrap().len() == 4);
    let ron_text = std::fs::read_to_string(dir.path().join("cohort.ron")).unwrap();
    assert!(
        ron_text.contains(&format!("held_out: [\n        \"{}\"", held_out[0])),
        "{ron_text}"
    );
}

#[test]
fn gaze_streams_look_like_a_tracker_recorded_them() {
    for rate_hz in [60.0, 300.0, 1200.0] {
        let c = cohort(11, 4, 6, rate_hz);
        let trials = all_trials(&c);
        let period_us = 1e6 / rate_hz;
        let mut with_blink = 0;
        let mut one_eye_invalid = 0;
        for trial in &trials {
            let samples = &trial.stream.samples;
            let mut dt: Vec<i64> = samples
                .windows(2)
                .map(|w| w[1].system_time_us - w[0].system_time_us)
                .collect();
            dt.sort_unstable();
            let median = dt[dt.len() / 2] as f64;
            assert!(
                (median - period_us).abs() < period_us * 0.02,
                "{rate_hz} Hz: median interval {median} µs"
            );
            assert!(dt[0] > 0, "system timestamps must increase");
            assert!(
                samples
                    .windows(2)
                    .all(|w| w[1].device_time_us > w[0].device_time_us)
            );
            let length_ms = samples.len() as f64 * period_us / 1000.0;
            assert!((length_ms - f64::from(trial.viewing_time_ms)).abs() < 20.0);
            // Blinks: a run of lost samples of at least 100 ms.
            let mut run = 0;
            let mut longest = 0;
            for s in samples {
                run = if s.average_point().is_none() {
                    run + 1
                } else {
                    0
                };
                longest = longest.max(run);
            }
            with_blink += usize::from(longest as f64 * period_us >= 99_000.0);
            one_eye_invalid += samples
                .iter()
                .filter(|s| s.left.point().is_some() != s.right.point().is_some())
                .count();
            // Ground-truth fixations lie on the image (within the 0.5° calibration
            // offset and noise) and each box holds its own mean.
            let [x0, y0, x1, y1] = c.placement.rect_display;
            for f in &trial.stream.fixations {
                let [x, y] = f.position_display;
                assert!(
                    x > x0 - 0.02 && x < x1 + 0.02 && y > y0 - 0.03 && y < y1 + 0.03,
                    "{f:?}"
                );
                let [bx0, by0, bx1, by1] = f.bbox_display;
                assert!(bx0 <= x && x <= bx1 && by0 <= y && y <= by1);
                assert!(f.duration_ms() >= 50.0 && f.sample_count >= 2);
            }
        }
        assert!(
            with_blink * 3 >= trials.len(),
            "{rate_hz} Hz: only {with_blink} of {} trials have a blink",
            trials.len()
        );
        assert!(
            one_eye_invalid > 0,
            "{rate_hz} Hz: no sporadic one-eye losses"
        );
    }
}

#[test]
fn precision_and_saccade_timing_match_the_subjects_settings() {
    let c = cohort(3, 6, 8, 600.0);
    let screen = c.config.screen;
    let mut saccade_errors_ms = Vec::new();
    for (s, subject) in c.subjects.iter().enumerate() {
        let (mut sum_sq, mut n) = (0.0, 0usize);
        for image in 0..c.scenes.len() {
            let trial = c.trial(s, image);
            let samples = &trial.stream.samples;
            for f in &trial.stream.fixations {
                let centre = [
                    f64::from(f.position_display[0]),
                    f64::from(f.position_display[1]),
                ];
                for sample in samples
                    .iter()
                    .filter(|x| (f.start_us..=f.end_us).contains(&x.system_time_us))
                {
                    if let Some(p) = sample.average_point() {
                        let d =
                            screen.angle_between_deg(centre, [f64::from(p[0]), f64::from(p[1])]);
                        sum_sq += d * d;
                        n += 1;
                    }
                }
            }
            for pair in trial.stream.fixations.windows(2) {
                let amplitude_deg = screen.angle_between_deg(
                    pair[0].position_display.map(f64::from),
                    pair[1].position_display.map(f64::from),
                );
                let gap_ms = (pair[1].start_us - pair[0].end_us) as f64 / 1000.0;
                // Skip pairs a blink separates.
                if amplitude_deg > 3.0 && gap_ms < 100.0 {
                    saccade_errors_ms.push(gap_ms - (2.2 * amplitude_deg + 21.0));
                }
            }
        }
        let rms = (sum_sq / n as f64).sqrt();
        let configured = f64::from(subject.habits.noise_rms_deg);
        println!(
            "{}: precision {rms:.3}° RMS measured, {configured:.3}° configured",
            subject.id
        );
        // Drift adds a little on top of the white noise.
        assert!(
            rms > configured * 0.85 && rms < configured * 1.35,
            "{}: {rms} vs {configured}",
            subject.id
        );
    }
    saccade_errors_ms.sort_by(f64::total_cmp);
    let median = saccade_errors_ms[saccade_errors_ms.len() / 2];
    println!(
        "saccade gap minus main sequence: median {median:.1} ms over {}",
        saccade_errors_ms.len()
    );
    assert!(
        median.abs() < 6.0,
        "saccade durations off the main sequence by {median} ms"
    );
}

/// Rules that could explain which object a subject looks at first.
fn candidate_rules() -> Vec<OrderStrategy> {
    let mut rules = vec![
        OrderStrategy::BiggestFirst,
        OrderStrategy::LeftToRight,
        OrderStrategy::TopToBottom,
        OrderStrategy::CentreOut,
    ];
    rules.extend(ColourName::CHROMATIC.map(OrderStrategy::ColourFirst));
    rules
}

/// Fraction of `trials` whose first fixated object is the one `rule` picks.
fn agreement(c: &Cohort, trials: &[&Trial], rule: OrderStrategy) -> f64 {
    let hits = trials
        .iter()
        .filter(|t| {
            let first = first_look_order(c, t).first().copied();
            first.is_some() && first == rule.first_pick(&c.scenes[t.scene])
        })
        .count();
    hits as f64 / trials.len() as f64
}

#[test]
fn first_fixation_habits_are_stable_within_and_differ_between_subjects() {
    let c = cohort(21, 12, 40, 60.0);
    let trials = all_trials(&c);
    let rules = candidate_rules();
    // Half A (even images) finds each subject's best rule; half B tests it.
    let half = |s: usize, parity: usize| -> Vec<&Trial> {
        trials
            .iter()
            .filter(|t| t.subject == s && t.scene % 2 == parity)
            .collect()
    };
    let best_rule: Vec<OrderStrategy> = (0..c.subjects.len())
        .map(|s| {
            let a = half(s, 0);
            *rules
                .iter()
                .max_by(|x, y| agreement(&c, &a, **x).total_cmp(&agreement(&c, &a, **y)))
                .unwrap()
        })
        .collect();
    let (mut own, mut other) = (0.0, 0.0);
    for s in 0..c.subjects.len() {
        let b = half(s, 1);
        own += agreement(&c, &b, best_rule[s]);
        let others: Vec<f64> = (0..c.subjects.len())
            .filter(|&o| o != s)
            .map(|o| agreement(&c, &b, best_rule[o]))
            .collect();
        other += others.iter().sum::<f64>() / others.len() as f64;
        println!(
            "{} ({}): learnt rule {}",
            c.subjects[s].id,
            c.subjects[s].habits.order.label(),
            best_rule[s].label()
        );
    }
    let n = c.subjects.len() as f64;
    let (own, other) = (own / n, other / n);
    println!(
        "first-fixation target predicted by the subject's own habit: {own:.2}; by other subjects' habits: {other:.2}"
    );
    assert!(own > 0.6, "own-habit agreement {own:.2}");
    assert!(own > other + 0.25, "own {own:.2} vs other {other:.2}");
}

/// Word unigrams and bigrams of a description, lower case, no punctuation.
fn style_features(text: &str) -> BTreeMap<String, f64> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut features = BTreeMap::new();
    for w in &words {
        *features.entry(w.clone()).or_insert(0.0) += 1.0;
    }
    for pair in words.windows(2) {
        *features
            .entry(format!("{} {}", pair[0], pair[1]))
            .or_insert(0.0) += 1.0;
    }
    features
}

fn cosine(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(k, v)| b.get(k).map(|w| v * w)).sum();
    let norm = |m: &BTreeMap<String, f64>| m.values().map(|v| v * v).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

#[test]
fn description_style_is_stable_within_and_differs_between_subjects() {
    let c = cohort(13, 10, 16, 60.0);
    let trials = all_trials(&c);
    let features: Vec<_> = trials
        .iter()
        .map(|t| style_features(&t.description.text))
        .collect();
    let (mut within, mut between_other_image, mut between_same_image) = (vec![], vec![], vec![]);
    for (i, a) in trials.iter().enumerate() {
        for (j, b) in trials.iter().enumerate().skip(i + 1) {
            let sim = cosine(&features[i], &features[j]);
            match (a.subject == b.subject, a.scene == b.scene) {
                (true, false) => within.push(sim),
                (false, false) => between_other_image.push(sim),
                (false, true) => between_same_image.push(sim),
                (true, true) => unreachable!(),
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (w, bo, bs) = (
        mean(&within),
        mean(&between_other_image),
        mean(&between_same_image),
    );
    println!(
        "description similarity (word 1-2-gram cosine): same subject, other images {w:.3}; other subjects, other images {bo:.3}; other subjects, same image {bs:.3}"
    );
    assert!(w > bo + 0.15, "within {w:.3} vs between {bo:.3}");
    assert!(
        w > bs,
        "style should outweigh shared content: within {w:.3} vs same image {bs:.3}"
    );
}

/// Spearman rank correlation of two orderings of the same items.
fn spearman(ranks_a: &[f64], ranks_b: &[f64]) -> f64 {
    let n = ranks_a.len() as f64;
    let d2: f64 = ranks_a
        .iter()
        .zip(ranks_b)
        .map(|(a, b)| (a - b).powi(2))
        .sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[test]
fn descriptions_mention_objects_in_roughly_the_viewing_order() {
    let c = cohort(17, 10, 20, 120.0);
    let mut correlations = Vec::new();
    for trial in all_trials(&c) {
        let text = &trial.description.text;
        // Where each mention is in the text, in order.
        let mut from = 0;
        for m in &trial.description.mentions {
            let at = text[from..]
                .find(&m.phrase)
                .unwrap_or_else(|| panic!("{:?} not in {text:?}", m.phrase));
            from += at + m.phrase.len();
        }
        let looked = first_look_order(&c, &trial);
        let mentioned: Vec<usize> = trial
            .description
            .mentions
            .iter()
            .map(|m| m.object)
            .collect();
        if mentioned.len() < 3 || !mentioned.iter().all(|o| looked.contains(o)) {
            continue;
        }
        let text_rank: Vec<f64> = (0..mentioned.len()).map(|r| r as f64).collect();
        let mut by_look = mentioned.clone();
        by_look.sort_by_key(|o| looked.iter().position(|l| l == o));
        let look_rank: Vec<f64> = mentioned
            .iter()
            .map(|o| by_look.iter().position(|x| x == o).unwrap() as f64)
            .collect();
        correlations.push(spearman(&text_rank, &look_rank));
    }
    let mean = correlations.iter().sum::<f64>() / correlations.len() as f64;
    println!(
        "mention order vs first-look order: mean Spearman ρ {mean:.2} over {} descriptions with 3+ mentions",
        correlations.len()
    );
    assert!(correlations.len() > 30);
    assert!(mean > 0.7, "mean ρ {mean:.2}");
}

#[test]
fn bundled_demo_images_are_what_the_generator_makes() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    let update = std::env::var_os("UPDATE_DEMO_ASSETS").is_some();
    for (i, scene) in cohort::demo_scenes().iter().enumerate() {
        let path = folder.join(format!("scene-{:02}.png", i + 1));
        let image = render::render_scene(scene);
        if update {
            std::fs::create_dir_all(&folder).unwrap();
            image.save(&path).unwrap();
            continue;
        }
        let bundled = image::open(&path)
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (regenerate with UPDATE_DEMO_ASSETS=1)",
                    path.display()
                )
            })
            .to_rgb8();
        assert!(
            bundled == image,
            "{} differs from the generator's output; if the generator changed on purpose, run UPDATE_DEMO_ASSETS=1 cargo test --test cohort",
            path.display()
        );
    }
}
