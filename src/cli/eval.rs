//! `scanscribe eval`: the DEPER result tables (seen subjects, unseen subjects k-shot)
//! as Markdown, JSON and a PNG chart, with a progress bar.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::eval::chart::write_chart;
use crate::eval::seeds::{markdown as seeds_markdown, mean_report};
use crate::eval::table::markdown;
use crate::eval::{EvalOptions, EvalProgress, evaluate, evaluate_seeds};
use crate::metrics::wordnet::DEFAULT_WORDNET_DIR;
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Result tables of a trained model: seen subjects and unseen subjects enrolled k-shot
///
/// For the test split of the records, writes the paper's table twice: for **seen
/// subjects** (subjects with training records, described on the held-out test images;
/// profile = mean z_s over their training records) and for **unseen subjects** (no
/// training records; enrolled from their first --shots records, the rest are queries).
///
/// Rows: generic (zero-shot), trivial baseline (the subject's own description of the
/// most similar image they stand for), DEPER text-only, w/o dynamics, w/o
/// reconstruction, w/o contrastive, w/o FiLM, + saliency, full. Columns: B4, CIDEr,
/// OSS, CLS (with chance), HC (BLEU-4 against the other subjects' descriptions),
/// Rep3 (share of descriptions repeating three words) and, where the images' objects
/// are known (records' `objects` field, or the cohort's scenes.json beside them):
/// Hal (share of named objects not in the image, after CHAIR), ObjR (share of the
/// subject's named objects also named) and τ (Kendall τ of their order). The human
/// row gives the real descriptions' own rates.
///
/// Ablation rows use MODEL/ablations/NAME/; without --train-ablations, rows whose
/// model is absent say "not trained". --train-ablations trains them (stages 1 and 2
/// with MODEL/train_config.json, the ablation switched, on --data; cached).
///
/// --seeds N reports every cell as mean ± sd over N DEPER training seeds: the main
/// model is the first; the others (seed + 1, ...) are trained with the main model's
/// train_config.json and cached under MODEL/seeds/seed-S/ (the captioner is shared,
/// so the generic and trivial rows do not vary). --train-ablations then trains the
/// ablations of every seed.
///
/// Writes OUT/eval.md, OUT/eval.json, OUT/eval.png and OUT/descriptions.jsonl
/// (default OUT: MODEL/eval).
///
/// Examples:
///   scanscribe eval --model models/demo --data cohort/
///   scanscribe eval --model models/demo --data cohort/ --train-ablations
///   scanscribe eval --model models/demo --data cohort/ --train-ablations --only text-only,no-film
///   scanscribe eval --model models/demo --data cohort/ --seeds 3
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// A trained model folder (`scanscribe train --out`).
    #[arg(long)]
    pub model: PathBuf,
    /// The records the model was trained on: a records file or a folder holding
    /// `records.jsonl`.
    #[arg(long)]
    pub data: PathBuf,
    /// Output folder (default: MODEL/eval).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Support trials per unseen subject.
    #[arg(long, default_value_t = 5)]
    pub shots: usize,
    /// Train the missing ablation models (cached under MODEL/ablations/).
    #[arg(long)]
    pub train_ablations: bool,
    /// With --train-ablations: train only these (comma-separated ablation names).
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Training seeds to report mean ± sd over (1: the model alone).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub seeds: u64,
    /// Beam width of generation (1 = greedy).
    #[arg(long, default_value_t = 1)]
    pub beam_width: usize,
    /// The WordNet database folder (for OSS).
    #[arg(long, default_value = DEFAULT_WORDNET_DIR)]
    pub wordnet: PathBuf,
    /// auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    if let Some(only) = &args.only {
        for name in only {
            anyhow::ensure!(
                crate::eval::methods::DEPER_ROWS.contains(&name.as_str()),
                "--only: expected ablation names among {}, found `{name}`",
                crate::eval::methods::DEPER_ROWS.join(", ")
            );
        }
    }
    let device = pick_device(args.device)?;
    let options = EvalOptions {
        shots: args.shots,
        generate: GenerateOptions {
            beam_width: args.beam_width.max(1),
            ..GenerateOptions::default()
        },
        wordnet: args.wordnet.clone(),
        train_ablations: args.train_ablations,
        only: args.only.clone(),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{msg:>40} {bar:30} {pos}/{len} {elapsed_precise}",
    )?);
    let mut show = |p: &EvalProgress| {
        bar.set_message(p.phase.clone());
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let out = args.out.clone().unwrap_or_else(|| args.model.join("eval"));
    let write = |name: &str, text: String| -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let mut lines = String::new();
    let (md, chart) = if args.seeds > 1 {
        let (report, descriptions) = evaluate_seeds(
            &args.model,
            &args.data,
            &options,
            args.seeds as usize,
            &device,
            &mut show,
        )?;
        write("eval.json", serde_json::to_string_pretty(&report)? + "\n")?;
        for (seed, d) in &descriptions {
            let mut value = serde_json::to_value(d)?;
            value["seed"] = (*seed).into();
            lines += &serde_json::to_string(&value)?;
            lines.push('\n');
        }
        let chart = mean_report(&report, options.generate.beam_width, args.shots);
        (seeds_markdown(&report), chart)
    } else {
        let output = evaluate(&args.model, &args.data, &options, &device, &mut show)?;
        write(
            "eval.json",
            serde_json::to_string_pretty(&output.report)? + "\n",
        )?;
        for d in &output.descriptions {
            lines += &serde_json::to_string(d)?;
            lines.push('\n');
        }
        (markdown(&output.report), output.report)
    };
    bar.finish_and_clear();
    write("eval.md", md.clone())?;
    write("descriptions.jsonl", lines)?;
    write_chart(&chart, &out.join("eval.png"))?;
    out!("{md}");
    outln!(
        "\nwrote {0}/eval.md, eval.json, eval.png, descriptions.jsonl",
        out.display()
    );
    Ok(())
}
