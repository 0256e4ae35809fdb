//! What an export says about a trial beyond its numbers, so that nothing is lost or
//! left out silently: parts of its gaze file skipped as damaged, and a trial still in
//! progress (the session is recording now, or was killed and not yet resumed).

use crate::session::chunks::{ChunkDamage, ChunkReadout};
use crate::session::meta::{TrialEntry, TrialState};

/// The notes of `trial` of session `session` whose gaze file read back as `readout`.
pub fn trial_notes(session: &str, trial: &TrialEntry, readout: &ChunkReadout) -> Vec<String> {
    let mut notes = Vec::new();
    if trial.state == TrialState::InProgress {
        notes.push(format!(
            "{session}/{}: still in progress (the session is recording, or was interrupted \
             and not yet resumed): the {} samples flushed so far are exported",
            trial.id,
            readout.samples.len()
        ));
    }
    if !readout.damage.is_empty() {
        notes.push(format!(
            "{session}/{}: {} samples kept; skipped as damaged: {}",
            trial.id,
            readout.samples.len(),
            damage_summary(&readout.damage)
        ));
    }
    notes
}

/// "2 corrupt chunk(s) (about 120 samples), 300 bytes of garbage, a torn final chunk".
pub fn damage_summary(damage: &[ChunkDamage]) -> String {
    let (mut corrupt, mut lost, mut garbage, mut torn) = (0usize, 0u64, 0u64, false);
    for d in damage {
        match d {
            ChunkDamage::Corrupt {
                claimed_samples, ..
            } => {
                corrupt += 1;
                lost += u64::from(*claimed_samples);
            }
            ChunkDamage::Garbage { bytes, .. } => garbage = garbage.saturating_add(*bytes),
            ChunkDamage::Torn { .. } => torn = true,
        }
    }
    let mut parts = Vec::new();
    if corrupt > 0 {
        parts.push(format!(
            "{corrupt} corrupt chunk(s) (about {lost} samples by their headers)"
        ));
    }
    if garbage > 0 {
        parts.push(format!("{garbage} bytes that were not chunks"));
    }
    if torn {
        parts.push("a torn final chunk".to_owned());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damage_and_unfinished_trials_are_said() {
        let trial = TrialEntry {
            id: "t1".into(),
            image: "a.png".into(),
            state: TrialState::InProgress,
            started_us: None,
            ended_us: None,
            skipped: false,
        };
        let readout = ChunkReadout {
            samples: Vec::new(),
            damage: vec![
                ChunkDamage::Corrupt {
                    offset: 0,
                    claimed_samples: 60,
                },
                ChunkDamage::Garbage {
                    offset: 10,
                    bytes: 20,
                },
                ChunkDamage::Torn {
                    offset: 40,
                    bytes: 7,
                },
            ],
        };
        let notes = trial_notes("s", &trial, &readout);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("s/t1: still in progress"), "{notes:?}");
        assert!(
            notes[1].contains("1 corrupt chunk(s) (about 60 samples")
                && notes[1].contains("20 bytes")
                && notes[1].contains("torn"),
            "{notes:?}"
        );
        let done = TrialEntry {
            state: TrialState::Complete,
            ..trial
        };
        assert!(trial_notes("s", &done, &ChunkReadout::default()).is_empty());
    }
}
