//! The `scanscribe` command line: one binary, a subcommand per headless job. Thin: each
//! subcommand parses its arguments and calls the library modules.

#[macro_use]
mod output;

mod bench;
mod demo;
mod describe;
mod enroll;
mod eval;
mod export;
mod fixations;
mod import;
mod models;
mod record;
mod retrieve;
mod score;
mod simulate;
mod train;
mod transcribe;
mod validate;

use clap::{Parser, Subcommand};

/// Eye-tracking studies of how people look at images and describe them.
///
/// With no subcommand, opens the desktop app on the bundled demo study.
#[derive(Debug, Parser)]
#[command(name = "scanscribe", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Study file the app opens (default: studies/demo.ron).
    #[arg(long, value_name = "PATH")]
    pub study: Option<std::path::PathBuf>,
    /// Open the app straight on a new session of the study for this subject code:
    /// the mouse over the subject's screen stands in for gaze, descriptions are typed,
    /// calibration is skipped (pilots, demos, the end-to-end test).
    #[arg(long, value_name = "CODE")]
    pub record_subject: Option<String>,
    /// Folder the --record-subject session goes under.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "sessions",
        requires = "record_subject"
    )]
    pub sessions: std::path::PathBuf,
    /// Open the app on the Replay screen with these session folders (one study).
    #[arg(long, value_name = "SESSION", num_args = 1.., conflicts_with = "record_subject")]
    pub replay: Vec<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(validate::ValidateArgs),
    Simulate(simulate::SimulateArgs),
    Record(record::RecordArgs),
    Fixations(Box<fixations::FixationsArgs>),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
    Transcribe(transcribe::TranscribeArgs),
    Models(models::ModelsArgs),
    Train(train::TrainArgs),
    Enroll(enroll::EnrollArgs),
    Describe(describe::DescribeArgs),
    Demo(demo::DemoArgs),
    Score(score::ScoreArgs),
    Eval(eval::EvalArgs),
    Retrieve(retrieve::RetrieveArgs),
    Bench(bench::BenchArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => crate::ui::run(
            cli.study,
            cli.record_subject
                .map(|subject| crate::ui::session::QuickStart {
                    subject,
                    sessions_root: cli.sessions,
                }),
            cli.replay,
        ),
        Some(Command::Validate(args)) => validate::run(&args),
        Some(Command::Simulate(args)) => simulate::run(&args),
        Some(Command::Record(args)) => record::run(&args),
        Some(Command::Fixations(args)) => fixations::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Import(args)) => import::run(&args),
        Some(Command::Transcribe(args)) => transcribe::run(&args),
        Some(Command::Models(args)) => models::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Enroll(args)) => enroll::run(&args),
        Some(Command::Describe(args)) => describe::run(&args),
        Some(Command::Demo(args)) => demo::run(&args),
        Some(Command::Score(args)) => score::run(&args),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Retrieve(args)) => retrieve::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
    }
}
