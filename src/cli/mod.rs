//! The `scanscribe` command line: one binary, a subcommand per headless job. Thin: each
//! subcommand parses its arguments and calls the library modules.

mod demo;
mod describe;
mod enroll;
mod train;
mod validate;

use clap::{Parser, Subcommand};

/// Eye-tracking studies of how people look at images and describe them.
///
/// With no subcommand, opens the desktop app on the bundled demo study.
#[derive(Debug, Parser)]
#[command(name = "scanscribe", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(validate::ValidateArgs),
    Demo(demo::DemoArgs),
    Train(train::TrainArgs),
    Enroll(enroll::EnrollArgs),
    Describe(describe::DescribeArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => anyhow::bail!("the desktop app is not built yet; try `scanscribe --help`"),
        Some(Command::Validate(args)) => validate::run(&args),
        Some(Command::Demo(args)) => demo::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Enroll(args)) => enroll::run(&args),
        Some(Command::Describe(args)) => describe::run(&args),
    }
}
