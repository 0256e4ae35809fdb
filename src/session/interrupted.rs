//! What a resume does with a trial that a crash, a kill or a stop interrupted: show it
//! again from the start (the default), or skip it. Nothing recorded is dropped either
//! way: a trial shown again first has its earlier files moved into
//! `trials/<id>/interrupted-<n>/`, so its fresh showing starts with empty files and
//! the earlier samples stay on disk beside it.

use std::path::Path;

/// The experimenter's choice for interrupted trials when a session is resumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InterruptedTrials {
    /// Present the trial again from its fixation cross.
    #[default]
    ShowAgain,
    /// Keep it as interrupted (its samples are exported as they are) and go on.
    Skip,
}

/// The name of the subfolder the earlier showing's files went to, when there were any.
pub fn set_aside(trial_dir: &Path) -> std::io::Result<Option<String>> {
    let Ok(entries) = std::fs::read_dir(trial_dir) else {
        return Ok(None);
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        // Earlier showings' folders stay where they are; everything else moves
        // (links move as links: a rename never follows them).
        if !entry.file_type()?.is_dir() {
            files.push(entry.file_name());
        }
    }
    if files.is_empty() {
        return Ok(None);
    }
    let name = (1_u32..)
        .map(|n| format!("interrupted-{n}"))
        .find(|name| !trial_dir.join(name).exists())
        .unwrap_or_else(|| "interrupted".to_owned());
    let aside = trial_dir.join(&name);
    std::fs::create_dir(&aside)?;
    for file in files {
        std::fs::rename(trial_dir.join(&file), aside.join(&file))?;
    }
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_earlier_showing_gets_its_own_folder_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let trial = dir.path().join("t1");
        assert_eq!(set_aside(&trial).unwrap(), None, "no folder yet");
        std::fs::create_dir(&trial).unwrap();
        assert_eq!(set_aside(&trial).unwrap(), None, "an empty folder");
        std::fs::write(trial.join("gaze.chunks"), b"first").unwrap();
        std::fs::write(trial.join("audio.wav"), b"sound").unwrap();
        assert_eq!(set_aside(&trial).unwrap().as_deref(), Some("interrupted-1"));
        std::fs::write(trial.join("gaze.chunks"), b"second").unwrap();
        assert_eq!(set_aside(&trial).unwrap().as_deref(), Some("interrupted-2"));
        let read = |p: &str| std::fs::read_to_string(trial.join(p)).unwrap();
        assert_eq!(read("interrupted-1/gaze.chunks"), "first");
        assert_eq!(read("interrupted-1/audio.wav"), "sound");
        assert_eq!(read("interrupted-2/gaze.chunks"), "second");
        assert!(!trial.join("gaze.chunks").exists());
    }
}
