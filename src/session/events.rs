//! Presentation events (`events.jsonl`): what the subject saw and did, on the gaze
//! clock, one JSON object a line, appended and flushed as they happen.
//!
//! A line looks like `{"time_us": 123, "trial": "scene-01", "kind": "stimulus_on"}`.
//! The reader tolerates a torn last line (a crash mid-write) and reports it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    SessionStart,
    SessionResume,
    SessionEnd,
    FixationCrossOn,
    StimulusOn {
        image: String,
    },
    StimulusOff,
    /// The display presented the first frame showing the stimulus (`time_us` is that
    /// frame's present time; logged by displays that know it, after `stimulus_off`).
    StimulusPresented {
        image: String,
    },
    DictationStart,
    DictationStop,
    KeyPress {
        key: String,
    },
    BreakStart,
    BreakEnd,
    Pause,
    Continue,
    QuestionnaireStart,
    QuestionnaireEnd,
    /// A BubbleView click on the stimulus; `order` counts from 1 within the trial.
    BubbleClick {
        order: u32,
        position_display: [f32; 2],
        position_image: [f32; 2],
    },
    /// The gaze source lost the device; samples are missing until `GazeRestored`.
    GazeLost,
    GazeRestored,
    /// Samples dropped by the source's queue.
    SamplesDropped {
        count: u64,
    },
    Note {
        text: String,
    },
}

/// One event on the gaze clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time_us: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: not a valid event: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// Appends events, flushing each one to the OS.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    file: File,
}

impl EventLog {
    pub fn open(path: &Path) -> Result<Self, EventsError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| EventsError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn append(&mut self, event: &Event) -> Result<(), EventsError> {
        let mut line = serde_json::to_vec(event).map_err(|e| EventsError::Io {
            path: self.path.clone(),
            source: e.into(),
        })?;
        line.push(b'\n');
        // One write call per line, so a crash tears at most the last line.
        self.file
            .write_all(&line)
            .map_err(|source| EventsError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// Events read back, and whether the last line was torn.
#[derive(Debug, Clone, Default)]
pub struct EventReadout {
    pub events: Vec<Event>,
    pub torn_last_line: bool,
}

/// Reads an events file. A malformed line other than the last is an error.
pub fn read_events(path: &Path) -> Result<EventReadout, EventsError> {
    let io = |source| EventsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let lines: Vec<String> = BufReader::new(File::open(path).map_err(io)?)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(io)?;
    let mut readout = EventReadout::default();
    let last = lines.len().saturating_sub(1);
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(event) => readout.events.push(event),
            Err(_) if index == last => readout.torn_last_line = true,
            Err(e) => {
                return Err(EventsError::Parse {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(readout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_a_torn_last_line_is_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let events = [
            Event {
                time_us: 10,
                trial: Some("t1".into()),
                kind: EventKind::StimulusOn {
                    image: "a.png".into(),
                },
            },
            Event {
                time_us: 20,
                trial: None,
                kind: EventKind::KeyPress {
                    key: "space".into(),
                },
            },
        ];
        let mut log = EventLog::open(&path).unwrap();
        for event in &events {
            log.append(event).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(r#"{"time_us":10,"trial":"t1","kind":"stimulus_on","image":"a.png"}"#),
            "{text}"
        );
        std::fs::write(&path, format!("{text}{{\"time_us\":3")).unwrap();
        let readout = read_events(&path).unwrap();
        assert_eq!(readout.events, events);
        assert!(readout.torn_last_line);

        std::fs::write(&path, format!("oops\n{text}")).unwrap();
        let message = read_events(&path).unwrap_err().to_string();
        assert!(message.contains("line 1: not a valid event"), "{message}");
    }
}
