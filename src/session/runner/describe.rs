//! A trial's description: typed, skipped, or dictated (from a WAV file or a live
//! microphone), and the `description.json` it is saved as.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Response, RunError, Runner, Subject};
use crate::audio::Dictation;
use crate::session::events::EventKind;
use crate::study::Trial;

/// How a trial's description came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionSource {
    Typed,
    /// Spoken; the text comes from transcription (empty until transcribed).
    Dictated,
    None,
}

/// `description.json` of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialDescription {
    pub text: String,
    pub source: DescriptionSource,
    /// Edited by the experimenter or subject after the trial.
    #[serde(default)]
    pub edited: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioInfo>,
}

/// The dictation recording of a trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub file: String,
    pub first_sample_us: Option<i64>,
    pub duration_ms: f64,
    pub dropped_input_samples: u64,
}

impl Runner<'_> {
    pub(super) fn describe(
        &mut self,
        trial: &Trial,
        index: usize,
        max_length_ms: u32,
        subject: &mut dyn Subject,
        dir: &Path,
    ) -> Result<Option<TrialDescription>, RunError> {
        let response = subject.respond(trial, index);
        if response == Response::Stopped {
            return Ok(None);
        }
        self.describe_response(response, trial, index, max_length_ms, subject, dir)
            .map(Some)
    }

    fn describe_response(
        &mut self,
        response: Response,
        trial: &Trial,
        index: usize,
        max_length_ms: u32,
        subject: &mut dyn Subject,
        dir: &Path,
    ) -> Result<TrialDescription, RunError> {
        match response {
            Response::Text(text) => Ok(TrialDescription {
                text,
                source: DescriptionSource::Typed,
                edited: false,
                audio: None,
            }),
            Response::Nothing | Response::Stopped => Ok(TrialDescription {
                text: String::new(),
                source: DescriptionSource::None,
                edited: false,
                audio: None,
            }),
            Response::Microphone { device_name } => {
                self.dictate_from_microphone(trial, index, device_name, max_length_ms, subject, dir)
            }
            Response::Speech(wav) => {
                let out = dir.join("audio.wav");
                let realtime = self.options.clock.speed() <= 1.0;
                self.log(Some(&trial.id), EventKind::DictationStart)?;
                let dictation = Dictation::from_wav_file(&wav, &out, realtime)?;
                // The subject speaks until the recording ends or the maximum length.
                self.finish_dictation(&trial.id, dictation, max_length_ms, &mut |d| {
                    d.input_finished()
                })
            }
        }
    }

    fn dictate_from_microphone(
        &mut self,
        trial: &Trial,
        index: usize,
        device_name: Option<String>,
        max_length_ms: u32,
        subject: &mut dyn Subject,
        dir: &Path,
    ) -> Result<TrialDescription, RunError> {
        let out = dir.join("audio.wav");
        let dictation = match Dictation::from_microphone(device_name.as_deref(), &out) {
            Ok(dictation) => dictation,
            Err(error) => {
                // The session goes on without this dictation; the reason is kept.
                self.folder
                    .note(format!("trial {}: no dictation: {error}", trial.id))?;
                return Ok(TrialDescription {
                    text: String::new(),
                    source: DescriptionSource::None,
                    edited: false,
                    audio: None,
                });
            }
        };
        self.log(Some(&trial.id), EventKind::DictationStart)?;
        subject.dictation_started(trial, index, dictation.level());
        self.finish_dictation(&trial.id, dictation, max_length_ms, &mut |_| {
            subject.dictation_done()
        })
    }

    /// Records until `done` says so or `max_length_ms` has passed, then stops the
    /// dictation, logs it and describes its audio file.
    fn finish_dictation(
        &mut self,
        trial_id: &str,
        dictation: Dictation,
        max_length_ms: u32,
        done: &mut dyn FnMut(&Dictation) -> bool,
    ) -> Result<TrialDescription, RunError> {
        let deadline_us = self.options.clock.now_us()
            + i64::try_from(Self::ms(max_length_ms).as_micros()).unwrap_or(i64::MAX);
        while !done(&dictation) && self.options.clock.now_us() < deadline_us {
            self.wait_and_record(self.options.poll_interval, None, None)?;
        }
        let summary = dictation.stop()?;
        self.log(Some(trial_id), EventKind::DictationStop)?;
        Ok(TrialDescription {
            text: String::new(),
            source: DescriptionSource::Dictated,
            edited: false,
            audio: Some(AudioInfo {
                file: "audio.wav".into(),
                first_sample_us: summary.first_sample_us,
                duration_ms: summary.duration_ms(),
                dropped_input_samples: summary.dropped_input_samples,
            }),
        })
    }
}
