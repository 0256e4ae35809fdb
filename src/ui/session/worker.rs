//! The session thread: opens the chosen gaze source, decodes the trial images, runs
//! calibration and validation when the experimenter asks, then drives the
//! [`Runner`] with the app's [`AppSubject`] until the session ends. Everything slow
//! (devices, disk, the runner's timing) happens here; the UI only sends
//! [`ToSession`] messages and reads [`FromSession`] reports.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::cohort::DEMO_SEED;
use crate::gaze::clock::SessionClock;
use crate::gaze::quality::ValidationReport;
use crate::gaze::tobii::TobiiTracker;
use crate::gaze::{GazeSource, MouseSource, PointerFeed};
use crate::session::analysis::analyze_trial;
use crate::session::runner::{Progress, Runner, RunnerOptions};
use crate::session::simulated_subject::SimulatedParticipant;
use crate::study::LoadedStudy;

use super::blur::{blur_sigma_image_px, blurred_stimulus};
use super::calibrate::{Calibrated, CalibrationRun};
use super::live::{LiveMonitor, TeeSource};
use super::protocol::{CalibrationKind, FromSession, Reporter, StimulusPixels, ToSession};
use super::subject::{AppSubject, DescriptionMode};

/// Which gaze source records the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceChoice {
    /// The pointer over the presentation window stands in for gaze.
    Mouse,
    /// A simulated subject of the demo cohort looks at the (cohort) images.
    Simulated,
    /// A Tobii Pro tracker at this address.
    Tobii { address: String },
}

impl SourceChoice {
    pub fn label(&self) -> String {
        match self {
            Self::Mouse => "Mouse (pointer as gaze, no eye tracker)".to_owned(),
            Self::Simulated => "Simulated subject (demo cohort, no eye tracker)".to_owned(),
            Self::Tobii { address } => format!("Tobii Pro eye tracker ({address})"),
        }
    }
}

/// Everything the session thread needs.
pub struct SessionSpec {
    pub study: LoadedStudy,
    /// A new session for this subject, or the folder of one to resume.
    pub start: SessionStart,
    pub source: SourceChoice,
    pub description: DescriptionMode,
    pub sessions_root: PathBuf,
    /// The presentation window writes the pointer here (used by the mouse source).
    pub feed: PointerFeed,
    pub live: LiveMonitor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStart {
    New { subject: String },
    Resume { folder: PathBuf },
}

/// The UI's ends of a running session thread.
pub struct SessionLink {
    pub to_session: Sender<ToSession>,
    pub from_session: Receiver<FromSession>,
}

/// Starts the session thread.
pub fn spawn_session(spec: SessionSpec, ctx: &egui::Context) -> Result<SessionLink, String> {
    let (to_session, inbox) = channel();
    let (sender, from_session) = channel();
    let reporter = Reporter {
        sender,
        ctx: ctx.clone(),
    };
    std::thread::Builder::new()
        .name("session".to_owned())
        .spawn(move || {
            let outcome = run_session(spec, inbox, &reporter).map(Box::new);
            reporter.send(FromSession::Finished(outcome));
        })
        .map_err(|e| format!("cannot start the session thread: {e}"))?;
    Ok(SessionLink {
        to_session,
        from_session,
    })
}

fn open_source(
    spec: &SessionSpec,
    participant: Option<&SimulatedParticipant>,
) -> Result<Box<dyn GazeSource>, String> {
    Ok(match (&spec.source, participant) {
        (SourceChoice::Mouse, _) => Box::new(MouseSource::new(spec.feed.clone())),
        (SourceChoice::Simulated, Some(participant)) => Box::new(participant.gaze_source()),
        (SourceChoice::Simulated, None) => {
            return Err("the simulated subject is not available".to_owned());
        }
        (SourceChoice::Tobii { address }, _) => Box::new(
            TobiiTracker::connect(address)
                .map_err(|e| format!("cannot connect to the Tobii tracker {address}: {e}"))?,
        ),
    })
}

/// Every trial image, and in a BubbleView study its blurred version too.
fn decode_stimuli(study: &LoadedStudy) -> Vec<Result<StimulusPixels, String>> {
    let screen = &study.study.screen;
    study
        .image_paths
        .iter()
        .enumerate()
        .map(|(study_index, path)| {
            let image = image::open(path)
                .map_err(|e| format!("{}: cannot be decoded: {e}", path.display()))?
                .to_rgba8();
            let size_px = [image.width() as usize, image.height() as usize];
            let blurred_rgba = study.study.attention.bubble_view().map(|settings| {
                let sigma_px = blur_sigma_image_px(screen, settings, image.dimensions());
                let blurred = blurred_stimulus(&image, sigma_px);
                let size_px = [blurred.width() as usize, blurred.height() as usize];
                (size_px, blurred.into_raw())
            });
            Ok(StimulusPixels {
                study_index,
                size_px,
                rgba: image.into_raw(),
                blurred_rgba,
            })
        })
        .collect()
}

fn run_session(
    spec: SessionSpec,
    inbox: Receiver<ToSession>,
    reporter: &Reporter,
) -> Result<crate::session::SessionMeta, String> {
    let study = &spec.study;
    let participant = match spec.source {
        SourceChoice::Simulated => Some(
            SimulatedParticipant::new(study, DEMO_SEED, 0, 300.0, SessionClock::real_time())
                .map_err(|e| format!("the simulated subject cannot view this study: {e}"))?,
        ),
        _ => None,
    };
    let inner = open_source(&spec, participant.as_ref())?;
    let calibration = if matches!(spec.source, SourceChoice::Tobii { .. }) {
        CalibrationKind::Device
    } else {
        CalibrationKind::Software
    };
    let mut source = TeeSource::new(inner, spec.live.clone());
    source
        .start()
        .map_err(|e| format!("the gaze source did not start: {e}"))?;
    reporter.send(FromSession::SourceReady {
        info: source.info().clone(),
        rate_hz: source.gaze_output_frequency_hz(),
        calibration,
    });
    reporter.send(FromSession::Stimuli(decode_stimuli(study)));

    // BubbleView records clicks: no calibration, unless an eye tracker records gaze
    // alongside them.
    let needs_calibration = study.study.attention.bubble_view().is_none()
        || matches!(spec.source, SourceChoice::Tobii { .. });
    let accepted: Option<ValidationReport> = if needs_calibration {
        match CalibrationRun::new(study, &mut source, &inbox, reporter).run() {
            Calibrated::Accepted(report) => Some(*report),
            Calibrated::Skipped => None,
            Calibrated::Stopped => {
                let _ = source.stop();
                return Err("the session was stopped before it began".to_owned());
            }
        }
    } else {
        None
    };

    let options = RunnerOptions {
        sessions_root: spec.sessions_root.clone(),
        ..RunnerOptions::default()
    };
    let mut runner = match &spec.start {
        SessionStart::New { subject } => Runner::start(study, subject, &mut source, options),
        SessionStart::Resume { folder } => Runner::resume(study, folder, &mut source, options),
    }
    .map_err(|e| e.to_string())?;
    if let Some(report) = accepted {
        runner.set_calibration(report).map_err(|e| e.to_string())?;
    }
    reporter.send(FromSession::Started {
        folder: runner.folder().root().to_path_buf(),
        trial_ids: runner
            .folder()
            .meta()
            .trials
            .iter()
            .map(|t| t.id.clone())
            .collect(),
        completed_trials: runner
            .folder()
            .meta()
            .trials
            .iter()
            .filter(|t| t.state == crate::session::TrialState::Complete)
            .count(),
    });
    for line in runner.resume_lines() {
        reporter.send(FromSession::Progress(Progress::Notice(line.clone())));
    }
    let simulated = participant.as_ref().map(|p| p.subject(study, None));
    let mut subject = AppSubject::new(
        study,
        inbox,
        reporter.clone(),
        spec.live.clone(),
        spec.description.clone(),
        simulated,
    );
    let screen = study.study.screen;
    runner
        .run(
            &mut subject,
            &mut |trial| analyze_trial(trial, study, &screen),
            &mut |progress| {
                reporter.send(FromSession::Progress(progress));
            },
        )
        .map_err(|e| e.to_string())
}
