//! `scanscribe demo`: the whole loop on a simulated study, headless: the demo cohort
//! and model (built once, cached), few-shot enrollment of subjects the model never
//! saw, their descriptions side by side, and whether personalization helped.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::eval::grounding::{self, object_labels};
use crate::metrics::repetition::share_repeating_trigram;
use crate::metrics::wordnet::{DEFAULT_WORDNET_DIR, Lexicon};
use crate::model::deper::data::Trials;
use crate::model::deper::demo_model::{
    DemoModel, DemoProgress, DemoSpec, default_demo_dir, ensure_demo_model,
};
use crate::model::deper::enroll::TrainedModel;
use crate::model::deper::personalization::{QueryDescriptions, describe_unseen, score};
use crate::model::{DeviceChoice, GenerateOptions, pick_device};

/// Simulate a study, train (cached), enroll unseen subjects, compare descriptions
///
/// Builds the demo on first run: a simulated cohort of 24 subjects (6 held out of
/// training) viewing 20 scenes, and a DEPER model trained on it in three stages
/// (captioner, stage 1, stage 2) with progress bars; about 8 minutes on 2 cores.
/// Both are cached in --out, so later runs take seconds; an interrupted run resumes.
/// Then, for every held-out subject: enrolls it from its first --shots trials,
/// describes its other images generically and personalized, prints a few side by
/// side with what the subject said, and scores both against the subject's words
/// (corpus BLEU-4; OSS, the order of mentioned objects, when WordNet is installed:
/// Debian package wordnet-base), then what the descriptions name against what is in
/// the pictures: the share of named objects that are not there (hallucinated), the
/// share of the subject's own objects named, their order (Kendall τ), and the share
/// of descriptions that repeat three words.
///
/// Examples:
///   scanscribe demo
///   scanscribe demo --out /tmp/demo --preset tiny --subject s21
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DemoArgs {
    /// Cache folder of the demo cohort and model [default: $SCANSCRIBE_DEMO_DIR, else
    /// ~/.cache/scanscribe/demo]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Model sizes (see `scanscribe train --help`); a folder keeps the preset it was
    /// built with.
    #[arg(long, default_value = "small")]
    pub preset: String,
    /// The held-out subject shown side by side (default: the first); all held-out
    /// subjects are scored.
    #[arg(long)]
    pub subject: Option<String>,
    /// Enrollment trials per subject.
    #[arg(long, default_value_t = 5)]
    pub shots: usize,
    /// Images shown side by side.
    #[arg(long, default_value_t = 4)]
    pub show: usize,
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let device = pick_device(args.device)?;
    let root = args.out.clone().unwrap_or_else(default_demo_dir);
    let spec = DemoSpec {
        preset: args.preset.clone(),
        ..DemoSpec::default()
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{prefix:>14} {bar:30} {pos}/{len} {msg}",
    )?);
    let started = std::time::Instant::now();
    let demo = ensure_demo_model(&root, &spec, &device, &mut |p| match p {
        DemoProgress::Simulating { done, total } => {
            bar.set_prefix("simulating");
            bar.set_length(*total);
            bar.set_position(*done);
        }
        DemoProgress::Training(p) => {
            bar.set_prefix(format!("{} {}/{}", p.stage.name(), p.epoch + 1, p.epochs));
            bar.set_length(p.batches as u64);
            bar.set_position(p.batch as u64);
            bar.set_message(format!("loss {:.4}", p.loss));
        }
    })
    .with_context(|| format!("building the demo in {}", root.display()))?;
    bar.finish_and_clear();
    outln!(
        "demo cohort and model in {} (ready after {:.0} s)",
        root.display(),
        started.elapsed().as_secs_f64()
    );
    let model = TrainedModel::load(&demo.model, &device)?;
    let mut unseen = demo.unseen_subjects();
    if let Some(subject) = &args.subject {
        let Some(at) = unseen.iter().position(|s| s == subject) else {
            anyhow::bail!(
                "--subject {subject}: not a held-out subject of the demo (held out: {})",
                unseen.join(", ")
            );
        };
        unseen.swap(0, at);
    }
    let all = Trials {
        root: demo.data.clone(),
        records: demo.records.clone(),
    };
    let options = GenerateOptions::default();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "{prefix:>14} {bar:30} {pos}/{len}",
    )?);
    bar.set_prefix("describing");
    let queries = describe_unseen(
        &model,
        &all,
        &unseen,
        args.shots,
        &options,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    let shown = unseen.first().map(String::as_str).unwrap_or_default();
    outln!(
        "{shown} was held out of training, enrolled from {} trials; model {}\n",
        args.shots,
        model.fingerprint
    );
    for q in queries
        .iter()
        .filter(|q| q.subject == shown)
        .take(args.show)
    {
        outln!("{}", q.image);
        outln!("  said         {}", q.said);
        outln!("  generic      {}", q.generic);
        outln!("  personalized {}\n", q.personalized);
    }
    let lexicon = Lexicon::load(std::path::Path::new(DEFAULT_WORDNET_DIR)).ok();
    let scores = score(&queries, lexicon.as_ref());
    outln!(
        "against what the subjects said ({} held-out subjects, {} images, {}-shot):",
        scores.subjects,
        scores.queries,
        args.shots
    );
    outln!("                BLEU-4   OSS");
    let oss = |v: Option<f64>| v.map_or_else(|| "n/a (no WordNet)".into(), |v| format!("{v:.3}"));
    outln!(
        "  generic       {:.3}    {}",
        scores.bleu4_generic,
        oss(scores.oss_generic)
    );
    outln!(
        "  personalized  {:.3}    {}",
        scores.bleu4_personalized,
        oss(scores.oss_personalized)
    );
    print_grounding(&queries, &demo, lexicon.as_ref())?;
    Ok(())
}

/// What the descriptions name against what is in the pictures: hallucinated objects,
/// objects the subject named, their order, and looping, with the subjects' own rates.
fn print_grounding(
    queries: &[QueryDescriptions],
    demo: &DemoModel,
    lexicon: Option<&Lexicon>,
) -> anyhow::Result<()> {
    let labels = object_labels(&demo.records, &demo.data)?;
    let empty = Lexicon::empty();
    let scorer = grounding::scorer(&labels, lexicon.unwrap_or(&empty));
    if scorer.is_empty() {
        return Ok(());
    }
    let triples = |text: fn(&QueryDescriptions) -> &str| -> Vec<(&str, &str, &str)> {
        queries
            .iter()
            .map(|q| (q.image.as_str(), text(q), q.said.as_str()))
            .collect()
    };
    let cell = |v: Option<f64>| v.map_or_else(|| "  —  ".into(), |v| format!("{v:.3}"));
    outln!("\nwhat they name (objects in the pictures; Rep3: repeats three words):");
    outln!("                hallucinated  subject's objects  order τ   Rep3");
    type Text = fn(&QueryDescriptions) -> &str;
    let rows: [(&str, Text); 3] = [
        ("generic", |q| &q.generic),
        ("personalized", |q| &q.personalized),
        ("subject", |q| &q.said),
    ];
    for (name, text) in rows {
        let scores = scorer.score(&triples(text));
        let (recall, tau) = if name == "subject" {
            ("(all)".to_owned(), "(1)".to_owned())
        } else {
            (cell(scores.recall), cell(scores.order_tau))
        };
        outln!(
            "  {name:<13} {:>12}  {recall:>17}  {tau:>7}  {:.3}",
            cell(scores.hallucination),
            share_repeating_trigram(queries.iter().map(text))
        );
    }
    Ok(())
}
