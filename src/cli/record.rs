//! `scanscribe record`: run a whole session of a study without a display, with a
//! simulated subject as the participant.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use std::path::Path;
use std::time::Duration;

use crate::cohort::DEMO_SEED;
use crate::gaze::clock::SessionClock;
use crate::model::speech::{DecodeOptions, Transcriber};
use crate::session::SessionFolder;
use crate::session::analysis::analyze_trial;
use crate::session::interrupted::InterruptedTrials;
use crate::session::runner::{DescriptionSource, TrialDescription};
use crate::session::runner::{Progress, Runner, RunnerOptions};
use crate::session::simulated_subject::SimulatedParticipant;
use crate::study::load_study;

/// Record a session headless: fixation cross, stimulus, gaze, description, for every
/// trial of a study, into a crash-safe session folder.
///
/// The participant is a simulated subject of the cohort (the study's images must be
/// cohort scenes, like the bundled demo images): it looks at each image with its own
/// viewing habits and describes it in its own words, or speaks the WAV file
/// `<speech-dir>/<trial id>.wav` when one is given (transcribed with --whisper). Each
/// trial gets its gaze samples, fixations (I-VT), attention trajectory and data-quality
/// report. In a BubbleView study the subject also clicks where it looks, and the
/// clicks are the fixations (and `clicks.csv`). A killed recording is resumed with
/// --resume: the trial it cut short is shown again (or skipped with --interrupted skip),
/// and a line says what was kept.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    scanscribe record --study studies/demo.ron --subject s01\n  \
    scanscribe record --study studies/demo.ron --subject s02 --cohort-subject 5 --speed 4 --sessions out/sessions\n  \
    scanscribe record --study studies/demo-bubbleview.ron --subject s03 --speed 8\n  \
    scanscribe record --study studies/demo.ron --resume sessions/demo/s01_20261122-101500\n  \
    scanscribe record --study studies/demo.ron --resume sessions/demo/s01_20261122-101500 --interrupted skip")]
pub struct RecordArgs {
    /// The study file.
    #[arg(long)]
    pub study: PathBuf,
    /// Pseudonymous subject code for the session (letters, digits, '-', '_', with a digit).
    #[arg(long, required_unless_present = "resume")]
    pub subject: Option<String>,
    /// The gaze source. Only `simulated` runs without a display; the app records with
    /// the mouse or a Tobii tracker.
    #[arg(long, default_value = "simulated", value_parser = ["simulated"])]
    pub source: String,
    /// Seed of the cohort the study's images come from (the demo images: 2026).
    #[arg(long, default_value_t = DEMO_SEED)]
    pub cohort_seed: u64,
    /// Which simulated subject of the cohort takes part (1-based).
    #[arg(long, default_value_t = 1)]
    pub cohort_subject: usize,
    /// Gaze sampling rate of the simulated tracker, Hz.
    #[arg(long, default_value_t = 300.0)]
    pub rate_hz: f64,
    /// Run this many times faster than real time (pilots and tests). The session clock
    /// runs faster too, so the recorded timestamps keep real-time spacing.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Folder under which sessions are created.
    #[arg(long, default_value = "sessions")]
    pub sessions: PathBuf,
    /// Folder of WAV files `<trial id>.wav` the subject speaks instead of typing.
    #[arg(long)]
    pub speech_dir: Option<PathBuf>,
    /// Continue an interrupted session (its folder) at its next trial.
    #[arg(long, conflicts_with = "subject")]
    pub resume: Option<PathBuf>,
    /// With --resume: what to do with a trial the interruption cut short. `show-again`
    /// presents it again from the start (its earlier samples are kept in
    /// `trials/<id>/interrupted-<n>/`); `skip` keeps it as interrupted and goes on.
    #[arg(long, value_enum, default_value = "show-again", requires = "resume")]
    pub interrupted: InterruptedChoice,
    /// Whisper model folder (Hugging Face layout, see `scanscribe models import-ct2`):
    /// dictations are transcribed between trials into transcript.txt and the
    /// description.
    #[arg(long, value_name = "DIR")]
    pub whisper: Option<PathBuf>,
    /// Do not force every flush through to the disk (faster; a power cut may then lose
    /// more than the last 50 ms).
    #[arg(long)]
    pub no_sync: bool,
}

/// What `--resume` does with an interrupted trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InterruptedChoice {
    ShowAgain,
    Skip,
}

pub fn run(args: &RecordArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.speed > 0.0 && args.speed.is_finite(),
        "--speed: expected a positive number, found {}",
        args.speed
    );
    anyhow::ensure!(args.cohort_subject >= 1, "--cohort-subject counts from 1");
    let study = load_study(&args.study)?;
    let clock = match &args.resume {
        // A sped-up session goes on after its last recorded time, never below it.
        Some(dir) => SessionClock::sped_up(args.speed).not_before(
            SessionFolder::latest_time_us_in(dir)
                .with_context(|| format!("resuming {}", dir.display()))?,
        ),
        None => SessionClock::sped_up(args.speed),
    };
    let participant = SimulatedParticipant::new(
        &study,
        args.cohort_seed,
        args.cohort_subject - 1,
        args.rate_hz,
        clock,
    )?;
    let mut source = participant.gaze_source();
    let mut subject = participant.subject(&study, args.speech_dir.as_deref());
    let options = RunnerOptions {
        sessions_root: args.sessions.clone(),
        sync_to_disk: !args.no_sync,
        clock,
        interrupted: match args.interrupted {
            InterruptedChoice::ShowAgain => InterruptedTrials::ShowAgain,
            InterruptedChoice::Skip => InterruptedTrials::Skip,
        },
        ..RunnerOptions::default()
    };
    let runner = match (&args.resume, &args.subject) {
        (Some(dir), _) => Runner::resume(&study, dir, &mut source, options)
            .with_context(|| format!("resuming {}", dir.display()))?,
        (None, Some(code)) => Runner::start(&study, code, &mut source, options)?,
        (None, None) => anyhow::bail!("--subject or --resume is required"),
    };
    let root = runner.folder().root().to_path_buf();
    let screen = study.study.screen;
    let pending = runner
        .folder()
        .meta()
        .trials
        .iter()
        .filter(|t| t.state == crate::session::TrialState::Pending)
        .count();
    eprintln!(
        "recording into {} (participant: simulated subject {})",
        root.display(),
        participant.cohort_subject_id()
    );
    for line in runner.resume_lines() {
        eprintln!("{line}");
    }
    let bar = ProgressBar::new(pending as u64);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} {msg:24} [{bar:30}] {pos}/{len} trials",
    )?);
    let mut transcriber = match &args.whisper {
        Some(dir) => Some(
            Transcriber::spawn(dir, DecodeOptions::default())
                .with_context(|| format!("loading the Whisper model {}", dir.display()))?,
        ),
        None => None,
    };
    let meta = runner.run(
        &mut subject,
        &mut |trial| {
            analyze_trial(trial, &study, &screen)?;
            match transcriber.as_mut() {
                Some(transcriber) => transcribe_dictation(transcriber, &trial.dir),
                None => Ok(()),
            }
        },
        &mut |progress| match progress {
            Progress::TrialStarted { id, .. } => bar.set_message(id),
            Progress::TrialFinished { .. } => bar.inc(1),
            Progress::Notice(text) => bar.println(text),
        },
    )?;
    bar.finish_and_clear();
    outln!(
        "{}: {:?}, {} trials",
        root.display(),
        meta.status,
        meta.trials.len()
    );
    Ok(())
}

/// Transcribes a trial's dictation (if it has one) and puts the text into
/// `transcript.txt` and the description.
fn transcribe_dictation(transcriber: &mut Transcriber, trial_dir: &Path) -> Result<(), String> {
    let description_path = trial_dir.join("description.json");
    let audio = trial_dir.join("audio.wav");
    let Ok(text) = std::fs::read_to_string(&description_path) else {
        return Ok(());
    };
    let mut description: TrialDescription =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", description_path.display()))?;
    if description.source != DescriptionSource::Dictated || !audio.exists() {
        return Ok(());
    }
    transcriber.submit(&audio).map_err(|e| e.to_string())?;
    let result = transcriber
        .wait_result(Duration::from_secs(900))
        .ok_or_else(|| {
            format!(
                "{}: transcription did not finish in 15 minutes",
                audio.display()
            )
        })?;
    let transcript = result
        .outcome
        .map_err(|e| format!("{}: {e}", audio.display()))?;
    let write = |path: &Path, bytes: &[u8]| {
        crate::session::meta::write_atomically(path, bytes)
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    write(
        &trial_dir.join("transcript.txt"),
        transcript.text.as_bytes(),
    )?;
    description.text = transcript.text.trim().to_owned();
    let json = serde_json::to_string_pretty(&description).map_err(|e| e.to_string())?;
    write(&description_path, json.as_bytes())
}
