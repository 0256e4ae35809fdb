//! Cross-modality personalization retrieval (`papers/cross-modality-*`): given one
//! person's gaze on an image, find their description of it among 15 candidates, and
//! the other way round (tasks g2t and t2g).
//!
//! Each modality is embedded twice ([`encoder`]): a **content** space where trials of
//! the same image are close and a **style** space where trials of the same user are
//! close (cross-modal triplet losses, margin 0.2). A candidate's score is
//! `w · content similarity + (1 − w) · style similarity`, `w` chosen per task and
//! split on the validation users from 0, 0.1, …, 1 by the one-standard-error rule
//! ([`weight`]: content alone unless another weight beats it beyond noise), so
//! that the choice carries over to new users. Baselines: content only
//! (`w = 1`) and style only (`w = 0`). Results are the mean over user-disjoint
//! splits ([`protocol`]); everything is seeded.
//!
//! Personality tasks (g2p, p2g, t2p, p2t) need questionnaire scores that belong to the
//! people; dataset records carry none, and the simulated cohort's subjects have no
//! personality (the simulated TIPI answers are a hash of the subject index, unrelated
//! to behaviour), so they are not run here.

pub mod encoder;
pub mod features;
pub mod protocol;
pub mod weight;

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::Serialize;

use self::encoder::{EncoderConfig, train};
use self::features::{GAZE_WIDTH, SmallImage, Vocabulary, gaze_features};
use self::protocol::{CANDIDATES, CandidateSet, TrialKey, candidate_sets, user_splits};
use self::weight::choose_content_weight;
use super::EvalError;
use crate::dataset::DatasetRecord;
use crate::metrics::retrieval::{rank_of_positive, summarize};

#[derive(Debug, Clone, PartialEq)]
pub struct RetrievalOptions {
    pub splits: usize,
    pub seed: u64,
    pub encoder: EncoderConfig,
}

impl Default for RetrievalOptions {
    fn default() -> Self {
        Self {
            splits: 5,
            seed: 7,
            encoder: EncoderConfig::default(),
        }
    }
}

/// One method on one task, over the splits.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodResult {
    pub method: String,
    pub top1: f64,
    pub top3: f64,
    pub mean_rank: f64,
    /// Standard deviation of top-3 over the splits.
    pub top3_std: f64,
    /// Queries over all splits.
    pub queries: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskResult {
    pub task: String,
    pub methods: Vec<MethodResult>,
    /// The content weight chosen on validation, per split.
    pub weights: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalReport {
    pub users: usize,
    pub trials: usize,
    pub splits: usize,
    pub seed: u64,
    pub candidates: usize,
    pub chance_top1: f64,
    pub chance_top3: f64,
    pub chance_mean_rank: f64,
    pub tasks: Vec<TaskResult>,
}

/// Gaze → text or text → gaze.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    G2t,
    T2g,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Self::G2t => "g2t",
            Self::T2g => "t2g",
        }
    }
}

/// Embeddings of every trial, as host vectors.
struct Embedded {
    gaze_content: Vec<Vec<f32>>,
    gaze_style: Vec<Vec<f32>>,
    text_content: Vec<Vec<f32>>,
    text_style: Vec<Vec<f32>>,
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum()
}

impl Embedded {
    /// Ranks of the positives of `sets` with content weight `w`.
    fn ranks(&self, task: Task, sets: &[CandidateSet], w: f64) -> Vec<usize> {
        let (qc, qs, cc, cs) = match task {
            Task::G2t => (
                &self.gaze_content,
                &self.gaze_style,
                &self.text_content,
                &self.text_style,
            ),
            Task::T2g => (
                &self.text_content,
                &self.text_style,
                &self.gaze_content,
                &self.gaze_style,
            ),
        };
        sets.iter()
            .map(|set| {
                let scores: Vec<f64> = set
                    .candidates
                    .iter()
                    .map(|&c| {
                        w * dot(&qc[set.query], &cc[c]) + (1.0 - w) * dot(&qs[set.query], &cs[c])
                    })
                    .collect();
                rank_of_positive(&scores, 0)
            })
            .collect()
    }
}

/// Standardizes the columns of `rows` with the mean and deviation of `fit` rows.
fn standardize(rows: &mut [Vec<f32>], fit: &[usize]) {
    let width = rows.first().map_or(0, Vec::len);
    for c in 0..width {
        let n = fit.len().max(1) as f32;
        let mean = fit.iter().map(|&i| rows[i][c]).sum::<f32>() / n;
        let var = fit
            .iter()
            .map(|&i| (rows[i][c] - mean).powi(2))
            .sum::<f32>()
            / n;
        let std = var.sqrt().max(1e-3);
        for row in rows.iter_mut() {
            row[c] = (row[c] - mean) / std;
        }
    }
}

fn tensor(rows: &[Vec<f32>], device: &Device) -> candle_core::Result<Tensor> {
    let width = rows.first().map_or(0, Vec::len);
    Tensor::from_vec(rows.concat(), (rows.len(), width), device)
}

/// Runs g2t and t2g over `options.splits` user splits of `records` (images relative
/// to `root`). `progress(done, total)` is called after each split.
pub fn run_retrieval(
    records: &[DatasetRecord],
    root: &Path,
    options: &RetrievalOptions,
    device: &Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<RetrievalReport, EvalError> {
    let mut users: BTreeMap<&str, usize> = BTreeMap::new();
    let mut images: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records {
        users.entry(r.subject.as_str()).or_insert(0);
        images.entry(r.image.as_str()).or_insert(0);
    }
    for (i, v) in users.values_mut().enumerate() {
        *v = i;
    }
    for (i, v) in images.values_mut().enumerate() {
        *v = i;
    }
    let mut seen = std::collections::HashSet::new();
    let kept: Vec<&DatasetRecord> = records
        .iter()
        .filter(|r| seen.insert((r.subject.as_str(), r.image.as_str())))
        .collect();
    let keys: Vec<TrialKey> = kept
        .iter()
        .map(|r| TrialKey {
            user: users[r.subject.as_str()],
            image: images[r.image.as_str()],
        })
        .collect();
    let splits = user_splits(users.len(), options.splits, options.seed).ok_or_else(|| {
        EvalError::Data(format!(
            "retrieval needs at least {} subjects (3 validation, 3 test, 2 training), found {}",
            protocol::MIN_USERS,
            users.len()
        ))
    })?;
    let small: BTreeMap<&str, SmallImage> = images
        .keys()
        .map(|&name| Ok((name, SmallImage::load(&root.join(name))?)))
        .collect::<Result<_, EvalError>>()?;
    let raw_gaze: Vec<Vec<f32>> = kept
        .iter()
        .map(|r| gaze_features(r, &small[r.image.as_str()]))
        .collect();
    debug_assert!(raw_gaze.iter().all(|g| g.len() == GAZE_WIDTH));

    let tasks = [Task::G2t, Task::T2g];
    let weights_grid: Vec<f64> = (0..=10).map(|k| f64::from(k) / 10.0).collect();
    // ranks[task][method] over all splits; top3 per split for the deviation.
    let mut ranks: Vec<[Vec<usize>; 3]> = vec![Default::default(); tasks.len()];
    let mut top3s: Vec<[Vec<f64>; 3]> = vec![Default::default(); tasks.len()];
    let mut chosen: Vec<Vec<f64>> = vec![Vec::new(); tasks.len()];
    for (k, split) in splits.iter().enumerate() {
        let in_users = |set: &[usize]| -> Vec<usize> {
            (0..keys.len())
                .filter(|&t| set.contains(&keys[t].user))
                .collect()
        };
        let train_trials = in_users(&split.train);
        let vocab = Vocabulary::build(train_trials.iter().map(|&t| kept[t].description.as_str()));
        let text_rows: Vec<Vec<f32>> = kept
            .iter()
            .map(|r| vocab.features(&r.description))
            .collect();
        let mut gaze_rows = raw_gaze.clone();
        standardize(&mut gaze_rows, &train_trials);
        let gaze = tensor(&gaze_rows, device)?;
        let text = tensor(&text_rows, device)?;
        let seed = options.seed.wrapping_mul(7919).wrapping_add(k as u64);
        let model = train(
            &gaze,
            &text,
            &keys,
            &train_trials,
            &options.encoder,
            seed,
            device,
        )?;
        let g = model.gaze.forward(&gaze)?;
        let t = model.text.forward(&text)?;
        let embedded = Embedded {
            gaze_content: g.content.to_vec2()?,
            gaze_style: g.style.to_vec2()?,
            text_content: t.content.to_vec2()?,
            text_style: t.style.to_vec2()?,
        };
        for (ti, &task) in tasks.iter().enumerate() {
            let task_seed = seed.wrapping_mul(31).wrapping_add(ti as u64);
            let val_sets = candidate_sets(&keys, &split.val, task_seed);
            let test_sets = candidate_sets(&keys, &split.test, task_seed.wrapping_add(1));
            let val_users: Vec<usize> = val_sets.iter().map(|set| keys[set.query].user).collect();
            let best_w = choose_content_weight(&weights_grid, &val_users, |w| {
                embedded.ranks(task, &val_sets, w)
            });
            chosen[ti].push(best_w);
            for (m, w) in [1.0, 0.0, best_w].into_iter().enumerate() {
                let r = embedded.ranks(task, &test_sets, w);
                top3s[ti][m].push(summarize(&r).top3);
                ranks[ti][m].extend(r);
            }
        }
        progress(k + 1, splits.len());
    }
    let task_results = tasks
        .iter()
        .enumerate()
        .map(|(ti, task)| TaskResult {
            task: task.name().into(),
            methods: ["content", "style", "combined"]
                .iter()
                .enumerate()
                .map(|(m, name)| {
                    let s = summarize(&ranks[ti][m]);
                    let t3 = &top3s[ti][m];
                    let mean = t3.iter().sum::<f64>() / t3.len().max(1) as f64;
                    let var =
                        t3.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / t3.len().max(1) as f64;
                    MethodResult {
                        method: (*name).into(),
                        top1: s.top1,
                        top3: s.top3,
                        mean_rank: s.mean_rank,
                        top3_std: var.sqrt(),
                        queries: s.queries,
                    }
                })
                .collect(),
            weights: chosen[ti].clone(),
        })
        .collect();
    Ok(RetrievalReport {
        users: users.len(),
        trials: keys.len(),
        splits: splits.len(),
        seed: options.seed,
        candidates: CANDIDATES,
        chance_top1: 1.0 / CANDIDATES as f64,
        chance_top3: 3.0 / CANDIDATES as f64,
        chance_mean_rank: (CANDIDATES as f64 + 1.0) / 2.0,
        tasks: task_results,
    })
}

/// The report as a Markdown table.
pub fn markdown(report: &RetrievalReport) -> String {
    let mut out = format!(
        "# scanscribe retrieve\n\n{} users, {} trials; {} user-disjoint splits (70/10/20), \
         {} candidates per query (1 positive, 2 same image, 12 other images), seed {}.\n\
         Chance: top-1 {:.3}, top-3 {:.3}, mean rank {:.1}. Pooled over the splits; ± is \
         the standard deviation of top-3 across splits.\n\n",
        report.users,
        report.trials,
        report.splits,
        report.candidates,
        report.seed,
        report.chance_top1,
        report.chance_top3,
        report.chance_mean_rank
    );
    out +=
        "| task | method | top-1 | top-3 | mean rank | queries |\n|---|---|---:|---:|---:|---:|\n";
    for task in &report.tasks {
        for m in &task.methods {
            out += &format!(
                "| {} | {} | {:.3} | {:.3} ± {:.3} | {:.2} | {} |\n",
                task.task, m.method, m.top1, m.top3, m.top3_std, m.mean_rank, m.queries
            );
        }
    }
    out += "\nContent weight of `combined`, chosen on validation per split (content \
            alone unless another weight beats it by more than one standard error):\n";
    for task in &report.tasks {
        let w: Vec<String> = task.weights.iter().map(|w| format!("{w:.1}")).collect();
        out += &format!("- {}: {}\n", task.task, w.join(", "));
    }
    out
}
