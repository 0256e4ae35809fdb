//! The session's [`Subject`] in the app: each prompt of the runner becomes a screen in
//! the presentation window, and the runner's thread waits for the subject's answer
//! (space, a typed description, the questionnaire) to come back from the UI thread.
//! Experimenter controls (pause before the next trial, stop) arrive the same way.
//! A closed channel (the app is gone) stops the session at its next step.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use crate::audio::LevelMeter;
use crate::session::bubbles::BubbleClick;
use crate::session::runner::{Response, Subject, TrialGate, WaitScreen};
use crate::session::simulated_subject::SimulatedSubject;
use crate::study::{LoadedStudy, Trial};

use super::live::LiveMonitor;
use super::protocol::{FromSession, Reporter, StopOrigin, SubjectScreen, ToSession};

/// What the subject answers with when a description is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescriptionMode {
    /// Speak into this microphone (`None`: the default input device).
    Microphone(Option<String>),
    /// Type the description in the presentation window.
    Typed,
}

/// The runner's subject, answered through the UI (see the module docs).
pub struct AppSubject<'a> {
    study: &'a LoadedStudy,
    inbox: Receiver<ToSession>,
    reporter: Reporter,
    live: LiveMonitor,
    mode: DescriptionMode,
    /// The simulated participant's gaze follows the trials when it is the source.
    simulated: Option<SimulatedSubject<'a>>,
    paused_at_us: Option<i64>,
    stop_requested: bool,
    /// `(trial index, present time)` of the latest stimulus frame the UI reported.
    presented: Option<(usize, i64)>,
    /// The trial on screen, and its BubbleView clicks not yet taken by the runner.
    current_trial: Option<usize>,
    clicks: Vec<BubbleClick>,
    dictation_done: bool,
    /// Who asked to stop first.
    stopped_by: Option<StopOrigin>,
}

/// What waiting for the UI ended with.
enum Wait {
    Answer(ToSession),
    Stop,
}

impl<'a> AppSubject<'a> {
    pub fn new(
        study: &'a LoadedStudy,
        inbox: Receiver<ToSession>,
        reporter: Reporter,
        live: LiveMonitor,
        mode: DescriptionMode,
        simulated: Option<SimulatedSubject<'a>>,
    ) -> Self {
        Self {
            study,
            inbox,
            reporter,
            live,
            mode,
            simulated,
            paused_at_us: None,
            stop_requested: false,
            presented: None,
            current_trial: None,
            clicks: Vec::new(),
            dictation_done: false,
            stopped_by: None,
        }
    }

    /// "by the experimenter" or "on the subject's screen" (a closed link: the former).
    fn stopped_by(&self) -> &'static str {
        self.stopped_by.unwrap_or(StopOrigin::Experimenter).words()
    }

    fn show(&self, screen: SubjectScreen) {
        self.reporter.send(FromSession::Screen(screen));
    }

    /// Takes in one message; returns it when it answers a prompt.
    fn absorb(&mut self, message: ToSession) -> Option<ToSession> {
        match message {
            ToSession::Pause { at_us } => {
                self.paused_at_us.get_or_insert(at_us);
                None
            }
            ToSession::Stop { by } => {
                self.stop_requested = true;
                self.stopped_by.get_or_insert(by);
                None
            }
            ToSession::Presented {
                trial_index,
                present_us,
            } => {
                self.presented = Some((trial_index, present_us));
                None
            }
            ToSession::DictationDone => {
                self.dictation_done = true;
                None
            }
            ToSession::BubbleClick { trial_index, click } => {
                // A click that reaches us after its trial ended is too late to count.
                if self.current_trial == Some(trial_index) {
                    self.clicks.push(click);
                }
                None
            }
            other => Some(other),
        }
    }

    /// Handles every message that has arrived, without waiting.
    fn pump(&mut self) {
        loop {
            match self.inbox.try_recv() {
                Ok(message) => {
                    // An answer nobody asked for (a stray key press) is dropped.
                    let _ = self.absorb(message);
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => return,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.stop_requested = true;
                    return;
                }
            }
        }
    }

    /// Waits for an answer that `accept` takes, handling control messages meanwhile.
    fn wait_for(&mut self, accept: impl Fn(&ToSession) -> bool) -> Wait {
        loop {
            if self.stop_requested {
                return Wait::Stop;
            }
            match self.inbox.recv_timeout(Duration::from_millis(50)) {
                Ok(message) => {
                    if let Some(answer) = self.absorb(message)
                        && accept(&answer)
                    {
                        return Wait::Answer(answer);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.stop_requested = true,
            }
        }
    }
}

impl Subject for AppSubject<'_> {
    fn trial_starting(&mut self, trial: &Trial, trial_index: usize) {
        self.live.start_trial(&self.study.study.screen);
        self.presented = None;
        self.current_trial = Some(trial_index);
        self.clicks.clear();
        if let Some(simulated) = self.simulated.as_mut() {
            simulated.trial_starting(trial, trial_index);
        }
    }

    fn before_trial(&mut self, _trial: &Trial, _trial_index: usize) -> TrialGate {
        self.pump();
        if self.stop_requested {
            return TrialGate::Stop {
                reason: format!("stopped {}", self.stopped_by()),
                paused_us: None,
            };
        }
        if self.paused_at_us.take().is_none() {
            return TrialGate::Go;
        }
        // Requested during the trial; the pause itself starts now.
        let paused_us = crate::gaze::clock::system_time_us();
        self.show(SubjectScreen::Paused);
        match self.wait_for(|m| matches!(m, ToSession::Resume { .. })) {
            Wait::Answer(ToSession::Resume { at_us }) => TrialGate::Paused {
                paused_us,
                resumed_us: at_us.max(paused_us),
            },
            _ => TrialGate::Stop {
                reason: format!("stopped {} during a pause", self.stopped_by()),
                paused_us: Some(paused_us),
            },
        }
    }

    fn fixation_cross_on(&mut self, trial: &Trial, trial_index: usize) {
        self.show(SubjectScreen::FixationCross {
            trial_index,
            duration_ms: trial.fixation_cross_ms,
        });
    }

    fn stimulus_on(&mut self, trial: &Trial, trial_index: usize) {
        let study_index = self
            .study
            .study
            .trials
            .iter()
            .position(|t| t.id == trial.id)
            .unwrap_or(trial_index);
        self.show(SubjectScreen::Stimulus {
            trial_index,
            study_index,
            duration_ms: trial.viewing_time_ms,
        });
    }

    fn take_clicks(&mut self, trial_index: usize, out: &mut Vec<BubbleClick>) {
        self.pump();
        out.append(&mut self.clicks);
        if let Some(simulated) = self.simulated.as_mut() {
            let before = out.len();
            simulated.take_clicks(trial_index, out);
            // The subject's screen and the monitor show the simulated subject's bubbles.
            for click in &out[before..] {
                self.reporter.send(FromSession::SimulatedClick {
                    trial_index,
                    position_display: click.position_display,
                });
            }
            out.sort_by_key(|click| click.time_us);
        }
    }

    fn stimulus_presented_us(&mut self, trial_index: usize) -> Option<i64> {
        self.pump();
        self.live.end_trial();
        self.show(SubjectScreen::Blank);
        self.presented
            .filter(|(index, _)| *index == trial_index)
            .map(|(_, present_us)| present_us)
    }

    fn dictation_started(&mut self, trial: &Trial, trial_index: usize, level: &LevelMeter) {
        self.dictation_done = false;
        let max_length_ms = trial.dictation.map_or(0, |d| d.max_length_ms);
        self.show(SubjectScreen::Dictating {
            trial_index,
            level: level.clone(),
            max_length_ms,
        });
    }

    fn dictation_done(&mut self) -> bool {
        self.pump();
        let done = self.dictation_done || self.stop_requested;
        if done {
            self.show(SubjectScreen::Blank);
        }
        done
    }

    fn wait_to_continue(&mut self, screen: &WaitScreen) -> bool {
        self.show(match screen {
            WaitScreen::Instructions(text) => SubjectScreen::Instructions(text.clone()),
            WaitScreen::Break { message, .. } => SubjectScreen::Break {
                message: message.clone(),
            },
        });
        let answer = self.wait_for(|m| matches!(m, ToSession::Continue));
        self.show(SubjectScreen::Blank);
        matches!(answer, Wait::Answer(_))
    }

    fn respond(&mut self, _trial: &Trial, trial_index: usize) -> Response {
        if let DescriptionMode::Microphone(device_name) = &self.mode {
            return Response::Microphone {
                device_name: device_name.clone(),
            };
        }
        self.show(SubjectScreen::Describe { trial_index });
        let answer = self.wait_for(|m| matches!(m, ToSession::Describe(_)));
        self.show(SubjectScreen::Blank);
        match answer {
            Wait::Answer(ToSession::Describe(response)) => response,
            _ => Response::Stopped,
        }
    }

    fn questionnaire(&mut self) -> Option<[u8; 10]> {
        self.show(SubjectScreen::Questionnaire);
        let answer = self.wait_for(|m| matches!(m, ToSession::Questionnaire(_)));
        self.show(SubjectScreen::Blank);
        match answer {
            Wait::Answer(ToSession::Questionnaire(ratings)) => ratings,
            _ => None,
        }
    }
}
