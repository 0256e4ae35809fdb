//! `scanscribe export`: recorded sessions to BIDS, dataset records or CSV tables.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::dataset::Split;
use crate::interop::bids::export_bids;
use crate::interop::records::export_records;
use crate::interop::tables::export_tables;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A BIDS dataset with eye-tracking physio recordings (validates with the official
    /// BIDS validator).
    Bids,
    /// Dataset records (records.jsonl + images/) for training.
    Records,
    /// CSV tables per trial: raw samples and fixations.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Train,
    Val,
    Test,
}

/// Export recorded sessions.
///
/// bids: one run per trial with the left and right eye as separate physio recordings
/// (timestamp in µs, x/y in screen pixels, pupil in mm), presentation events with the
/// screen geometry (and BubbleView clicks with order and position), the stimuli, and
/// the dictation audio and descriptions under sourcedata/. records: one dataset record
/// per finished trial with a description and a trajectory, images copied to images/.
/// csv: per trial `<session>/<trial>_samples.csv` (the gaze CSV: system_time_us,
/// device_time_us, left/right x, y, valid, pupil_mm), `<trial>_fixations.csv` (the
/// columns of `scanscribe fixations`) and, in a BubbleView session, `<trial>_clicks.csv`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    scanscribe export --format bids --out out/bids sessions/demo/*\n  \
    scanscribe export --format records --split train --out out/dataset sessions/demo/*\n  \
    scanscribe export --format csv --out out/tables sessions/demo/*")]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output folder (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Split written into every record (records only).
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// Session folders.
    #[arg(required = true)]
    pub sessions: Vec<PathBuf>,
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    match args.format {
        ExportFormat::Bids => {
            let summary = export_bids(&args.sessions, &args.out)?;
            outln!(
                "{}: BIDS dataset with {} subject(s), {} run(s), {} samples",
                args.out.display(),
                summary.subjects,
                summary.runs,
                summary.samples
            );
            for note in summary.notes {
                outln!("  note: {note}");
            }
            for skipped in summary.skipped {
                outln!("  skipped {skipped}");
            }
        }
        ExportFormat::Records => {
            let split = args.split.map(|s| match s {
                SplitArg::Train => Split::Train,
                SplitArg::Val => Split::Val,
                SplitArg::Test => Split::Test,
            });
            let summary = export_records(&args.sessions, &args.out, split)?;
            outln!(
                "{}: {} record(s)",
                args.out.join("records.jsonl").display(),
                summary.records
            );
            for skipped in summary.skipped {
                outln!("  skipped {skipped}");
            }
        }
        ExportFormat::Csv => {
            let summary = export_tables(&args.sessions, &args.out)?;
            outln!(
                "{}: {} trial(s), {} samples",
                args.out.display(),
                summary.trials,
                summary.samples
            );
            for note in summary.notes {
                outln!("  note: {note}");
            }
            for skipped in summary.skipped {
                outln!("  skipped {skipped}");
            }
        }
    }
    Ok(())
}
