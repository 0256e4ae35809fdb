//! `eval --seeds N`: the result tables as mean ± sd over DEPER training seeds.
//!
//! The main model is the first seed. Each further seed is `MODEL/seeds/seed-S/`: the
//! main model's captioner (the frozen description model, shared as in the paper)
//! and a DEPER trained by stages 1 and 2 with `train_config.json`'s seed set to `S`,
//! which changes both the starting weights and the batches (cached like ablations).
//! Every seed's model is evaluated as `eval` does one, and each cell of the table
//! becomes the mean and sample standard deviation over the seeds. Rows that do not
//! depend on DEPER (generic, trivial) are the same for every seed: their sd is 0.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::sets::Setting;
use super::table::{EvalReport, Row, SetTable, human_row};
use crate::metrics::grounding::GroundingScores;

/// Where the model of training seed `seed` is cached beside `model_dir`.
pub fn seed_dir(model_dir: &Path, seed: u64) -> PathBuf {
    model_dir.join("seeds").join(format!("seed-{seed}"))
}

/// One column: table header, JSON name, and the row's value.
pub type Column = (&'static str, &'static str, fn(&Row) -> Option<f64>);

/// The columns of a row, with their table headers and JSON names.
pub const COLUMNS: [Column; 9] = [
    ("B4", "bleu4", |r| r.bleu4),
    ("CIDEr", "cider", |r| r.cider),
    ("OSS", "oss", |r| r.oss),
    ("CLS", "cls", |r| r.cls),
    ("HC", "hc", |r| r.hc),
    ("Rep3", "rep3", |r| r.rep3),
    ("Hal", "hallucination", |r| r.hallucination),
    ("ObjR", "object_recall", |r| r.object_recall),
    ("τ", "order_tau", |r| r.order_tau),
];

/// Mean and sample standard deviation of one cell over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one value or equal values.
    pub sd: f64,
    /// Seeds that had a value.
    pub n: usize,
}

impl Spread {
    /// `None` when no value is present.
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if values.iter().any(|v| *v != values[0]) {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, sd, n })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedRow {
    pub key: String,
    pub label: String,
    /// Seeds at which the row was scored.
    pub scored: usize,
    pub cls_chance: Option<f64>,
    /// Column JSON name → spread.
    pub cells: BTreeMap<String, Spread>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedSet {
    pub setting: Setting,
    pub title: String,
    pub subjects: usize,
    pub queries: usize,
    pub rows: Vec<SeedRow>,
    pub human_hc: f64,
    pub human_rep3: f64,
    pub human_grounding: GroundingScores,
}

/// What `eval --seeds` writes to `eval.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedReport {
    pub model: String,
    pub data: String,
    pub seeds: Vec<u64>,
    pub sets: Vec<SeedSet>,
    pub per_seed: Vec<EvalReport>,
}

/// Aggregates the reports of the seeds (same data, same rows) into mean ± sd.
pub fn aggregate(seeds: Vec<u64>, reports: Vec<EvalReport>) -> SeedReport {
    let first = reports.first();
    let sets = first
        .map(|r| {
            r.sets
                .iter()
                .map(|set| aggregate_set(set, &reports))
                .collect()
        })
        .unwrap_or_default();
    SeedReport {
        model: first.map(|r| r.model.clone()).unwrap_or_default(),
        data: first.map(|r| r.data.clone()).unwrap_or_default(),
        seeds,
        sets,
        per_seed: reports,
    }
}

fn aggregate_set(set: &SetTable, reports: &[EvalReport]) -> SeedSet {
    let rows_of = |key: &str| -> Vec<&Row> {
        reports
            .iter()
            .filter_map(|r| r.sets.iter().find(|s| s.setting == set.setting))
            .filter_map(|s| s.rows.iter().find(|row| row.key == key))
            .filter(|row| row.is_scored())
            .collect()
    };
    let rows = set
        .rows
        .iter()
        .map(|row| {
            let scored = rows_of(&row.key);
            let cells = COLUMNS
                .iter()
                .filter_map(|(_, name, get)| {
                    let values: Vec<f64> = scored.iter().filter_map(|r| get(r)).collect();
                    Spread::of(&values).map(|s| ((*name).to_owned(), s))
                })
                .collect();
            SeedRow {
                key: row.key.clone(),
                label: row.label.clone(),
                scored: scored.len(),
                cls_chance: scored.iter().find_map(|r| r.cls_chance),
                cells,
            }
        })
        .collect();
    SeedSet {
        setting: set.setting,
        title: set.title.clone(),
        subjects: set.subjects,
        queries: set.queries,
        rows,
        human_hc: set.human_hc,
        human_rep3: set.human_rep3,
        human_grounding: set.human_grounding,
    }
}

/// The per-row means as an ordinary report (for the chart).
pub fn mean_report(report: &SeedReport, beam_width: usize, shots: usize) -> EvalReport {
    let mut mean = report.per_seed.first().cloned().unwrap_or(EvalReport {
        model: report.model.clone(),
        data: report.data.clone(),
        shots,
        beam_width,
        sets: Vec::new(),
    });
    for (set, seeds) in mean.sets.iter_mut().zip(&report.sets) {
        for (row, seed_row) in set.rows.iter_mut().zip(&seeds.rows) {
            let m = |name: &str| seed_row.cells.get(name).map(|s| s.mean);
            row.bleu4 = m("bleu4");
            row.cider = m("cider");
            row.oss = m("oss");
            row.cls = m("cls");
            row.hc = m("hc");
            row.rep3 = m("rep3");
            row.hallucination = m("hallucination");
            row.object_recall = m("object_recall");
            row.order_tau = m("order_tau");
        }
    }
    mean
}

fn spread_cell(spread: Option<&Spread>) -> String {
    spread.map_or_else(|| "—".into(), |s| format!("{:.3} ± {:.3}", s.mean, s.sd))
}

/// The tables as Markdown, each cell `mean ± sd` over the seeds.
pub fn markdown(report: &SeedReport) -> String {
    let seeds: Vec<String> = report.seeds.iter().map(u64::to_string).collect();
    let mut out = String::from("# scanscribe eval over training seeds\n\n");
    out += &format!(
        "Model `{}`, data `{}`; DEPER trained with seeds {} (the captioner is shared). \
         Each cell: mean ± sample sd over the seeds. Columns as in a single `eval`.\n",
        report.model,
        report.data,
        seeds.join(", ")
    );
    let header: Vec<&str> = COLUMNS.iter().map(|(h, _, _)| *h).collect();
    for set in &report.sets {
        out += &format!(
            "\n## {}\n\n{} subjects, {} (image, subject) queries.\n\n",
            set.title, set.subjects, set.queries
        );
        out += &format!("| method | {} |\n", header.join(" | "));
        out += &format!("|---|{}\n", "---:|".repeat(header.len()));
        for row in &set.rows {
            if row.scored == 0 {
                out += &format!("| {} | not trained |{}\n", row.label, " |".repeat(8));
                continue;
            }
            let cells: Vec<String> = COLUMNS
                .iter()
                .map(|(h, name, _)| {
                    let text = spread_cell(row.cells.get(*name));
                    match (*h, row.cls_chance) {
                        ("CLS", Some(chance)) => format!("{text} ({chance:.3})"),
                        _ => text,
                    }
                })
                .collect();
            out += &format!("| {} | {} |\n", row.label, cells.join(" | "));
        }
        out += &human_row(set.human_hc, set.human_rep3, set.human_grounding);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::methods::Method;
    use crate::eval::table::{NOT_TRAINED, SCORED};

    fn report(b4: f64) -> EvalReport {
        let scored = |method, b4| Row {
            bleu4: Some(b4),
            cls: Some(0.5),
            cls_chance: Some(0.25),
            status: SCORED.into(),
            ..Row::missing(method, SCORED)
        };
        EvalReport {
            model: "m".into(),
            data: "d".into(),
            shots: 5,
            beam_width: 1,
            sets: vec![SetTable {
                setting: Setting::Seen,
                title: "Seen".into(),
                subjects: 2,
                queries: 4,
                rows: vec![
                    scored(Method::Generic, 0.1),
                    Row::missing(Method::Deper("no-film"), NOT_TRAINED),
                    scored(Method::Deper("full"), b4),
                ],
                human_hc: 0.2,
                human_rep3: 0.0,
                human_grounding: GroundingScores::default(),
            }],
        }
    }

    #[test]
    fn spread_is_the_sample_sd_and_empty_is_none() {
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[2.0]).unwrap().sd, 0.0);
        let s = Spread::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((s.mean, s.sd, s.n), (2.0, 1.0, 3));
    }

    #[test]
    fn seeds_aggregate_per_row_and_the_table_shows_mean_and_sd() {
        let summary = aggregate(vec![7, 8, 9], vec![report(0.3), report(0.4), report(0.5)]);
        let rows = &summary.sets[0].rows;
        assert_eq!(
            rows[0].cells["bleu4"].sd, 0.0,
            "generic does not depend on the seed"
        );
        let full = rows[2].cells["bleu4"];
        assert!((full.mean - 0.4).abs() < 1e-12 && (full.sd - 0.1).abs() < 1e-12);
        assert_eq!(rows[1].scored, 0);
        let md = markdown(&summary);
        assert!(md.contains("| DEPER full | 0.400 ± 0.100 |"), "{md}");
        assert!(md.contains("0.500 ± 0.000 (0.250)"), "{md}");
        assert!(md.contains("| DEPER w/o FiLM | not trained |"), "{md}");
        assert!(md.contains("seeds 7, 8, 9"), "{md}");
        let mean = mean_report(&summary, 1, 5);
        assert!((mean.sets[0].rows[2].bleu4.unwrap() - 0.4).abs() < 1e-12);
    }
}
