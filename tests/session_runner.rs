//! The headless session runner on a scripted gaze source: the folder it leaves, the
//! events on the gaze clock, dictation, breaks, the questionnaire, a tracker that
//! disconnects mid-trial, resuming an interrupted session.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod common;

use std::path::Path;

use common::{ScriptedSource, ScriptedSubject, speech_wav, study_folder};
use scanscribe::gaze::{DeviceInfo, GazeSample};
use scanscribe::session::chunks::read_chunks;
use scanscribe::session::events::{EventKind, read_events};
use scanscribe::session::runner::{Progress, RecordedTrial, Runner, RunnerOptions};
use scanscribe::session::{SessionFolder, SessionStatus, TrialState};
use scanscribe::study::load_study;

fn options(root: &Path) -> RunnerOptions {
    RunnerOptions {
        sessions_root: root.join("sessions"),
        sync_to_disk: false,
        ..RunnerOptions::default()
    }
}

#[test]
fn a_whole_session_leaves_a_complete_folder() {
    let dir = tempfile::tempdir().unwrap();
    let study = load_study(&study_folder(dir.path(), 3)).unwrap();
    let mut source = ScriptedSource::new(300.0);
    let mut subject = ScriptedSubject {
        speech: speech_wav(dir.path()),
        waits: Vec::new(),
    };
    let runner = Runner::start(&study, "s01", &mut source, options(dir.path())).unwrap();
    let root = runner.folder().root().to_path_buf();
    let mut analysed = Vec::new();
    let mut progress = Vec::new();
    let meta = runner
        .run(
            &mut subject,
            &mut |trial: &RecordedTrial| {
                analysed.push((
                    trial.index,
                    trial.samples.len(),
                    trial.stimulus_off_us - trial.stimulus_on_us,
                ));
                Ok(())
            },
            &mut |p| progress.push(p),
        )
        .unwrap();

    assert_eq!(meta.status, SessionStatus::Complete);
    assert!(meta.trials.iter().all(|t| t.state == TrialState::Complete));
    assert!(!root.join("session.lock").exists(), "the lock is released");
    assert_eq!(
        subject.waits.len(),
        2,
        "instructions and one break: {:?}",
        subject.waits
    );
    assert!(matches!(
        progress[0],
        Progress::TrialStarted {
            index: 0,
            of: 3,
            ..
        }
    ));

    for (index, samples, stimulus_us) in &analysed {
        // 400 ms of recording at 300 Hz (cross + stimulus), with scheduling slack.
        assert!(
            (100..=160).contains(samples),
            "trial {index}: {samples} samples"
        );
        assert!(
            (300_000..360_000).contains(stimulus_us),
            "trial {index}: {stimulus_us} us"
        );
    }
    let trial_dir = root.join("trials").join(&meta.trials[0].id);
    let on_disk = read_chunks(&trial_dir.join("gaze.chunks")).unwrap();
    assert_eq!(on_disk.samples.len(), analysed[0].1);
    assert!(on_disk.damage.is_empty());

    let events = read_events(&root.join("events.jsonl")).unwrap().events;
    let times: Vec<i64> = events.iter().map(|e| e.time_us).collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "events in clock order"
    );
    let count = |kind: fn(&EventKind) -> bool| events.iter().filter(|e| kind(&e.kind)).count();
    assert_eq!(count(|k| matches!(k, EventKind::StimulusOn { .. })), 3);
    assert_eq!(count(|k| matches!(k, EventKind::DictationStart)), 1);
    assert_eq!(count(|k| matches!(k, EventKind::BreakStart)), 1);

    let spoken = meta.trials[1].id.clone();
    let description: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("trials").join(&spoken).join("description.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(description["source"], "dictated");
    assert!(
        (description["audio"]["duration_ms"].as_f64().unwrap() - 200.0).abs() < 5.0,
        "{description}"
    );
    assert!(root.join("trials").join(&spoken).join("audio.wav").exists());
    let typed = std::fs::read_to_string(
        root.join("trials")
            .join(&meta.trials[0].id)
            .join("description.json"),
    )
    .unwrap();
    assert!(typed.contains("typed description of"), "{typed}");

    let questionnaire = std::fs::read_to_string(root.join("questionnaire.json")).unwrap();
    assert!(
        questionnaire.contains("\"extraversion\":5.0"),
        "{questionnaire}"
    );
}

#[test]
fn a_tracker_lost_mid_trial_is_logged_as_a_gap_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let study = load_study(&study_folder(dir.path(), 1)).unwrap();
    let mut source = ScriptedSource::new(300.0);
    source.lost_window_us = Some((150_000, 300_000));
    let mut subject = ScriptedSubject {
        speech: speech_wav(dir.path()),
        waits: Vec::new(),
    };
    let runner = Runner::start(&study, "s02", &mut source, options(dir.path())).unwrap();
    let root = runner.folder().root().to_path_buf();
    let mut samples = 0;
    let meta = runner
        .run(
            &mut subject,
            &mut |trial: &RecordedTrial| {
                samples = trial.samples.len();
                Ok(())
            },
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(meta.status, SessionStatus::Complete);
    assert!(
        (60..=110).contains(&samples),
        "{samples} samples, 150 ms of 400 lost"
    );
    let events = read_events(&root.join("events.jsonl")).unwrap().events;
    let lost = events
        .iter()
        .position(|e| e.kind == EventKind::GazeLost)
        .expect("gaze lost is logged");
    let restored = events
        .iter()
        .position(|e| e.kind == EventKind::GazeRestored)
        .expect("restored is logged");
    assert!(lost < restored);
}

#[test]
fn an_interrupted_session_resumes_showing_the_interrupted_trial_again() {
    let dir = tempfile::tempdir().unwrap();
    let study = load_study(&study_folder(dir.path(), 3)).unwrap();
    // Simulate a crash: a session that started trial 0 and was never closed.
    let root = {
        let mut folder = SessionFolder::create(
            &dir.path().join("sessions"),
            &study,
            "s03",
            DeviceInfo::default(),
            120.0,
            0,
        )
        .unwrap();
        let trial_dir = folder.start_trial(0, 10).unwrap();
        let mut recorder =
            scanscribe::session::recorder::TrialRecorder::open(&trial_dir, 0, false, 0).unwrap();
        recorder
            .record(&[GazeSample::binocular(1, [0.4, 0.4])], 1)
            .unwrap();
        let root = folder.root().to_path_buf();
        std::mem::forget(recorder);
        std::fs::write(root.join("session.lock"), "999999999").unwrap(); // a pid that is not running
        std::mem::forget(folder);
        root
    };
    let (folder, report) = SessionFolder::open(&root).unwrap();
    assert!(report.was_interrupted);
    assert_eq!(
        report.interrupted_trials[0].1, 1,
        "the flushed sample is kept"
    );
    assert_eq!(folder.meta().status, SessionStatus::Interrupted);
    assert_eq!(folder.meta().trials[0].state, TrialState::Interrupted);
    drop(folder);

    let mut source = ScriptedSource::new(120.0);
    let mut subject = ScriptedSubject {
        speech: speech_wav(dir.path()),
        waits: Vec::new(),
    };
    let runner = Runner::resume(&study, &root, &mut source, options(dir.path())).unwrap();
    let mut ran = Vec::new();
    let meta = runner
        .run(
            &mut subject,
            &mut |t: &RecordedTrial| {
                ran.push(t.index);
                Ok(())
            },
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(
        ran,
        [0, 1, 2],
        "the interrupted trial is shown again (the default), the session goes on"
    );
    assert_eq!(meta.status, SessionStatus::Complete);
    assert_eq!(meta.trials[0].state, TrialState::Complete);
    let aside = root
        .join("trials")
        .join(&meta.trials[0].id)
        .join("interrupted-1/gaze.chunks");
    assert_eq!(
        scanscribe::session::chunks::read_chunks(&aside)
            .unwrap()
            .samples
            .len(),
        1,
        "the interrupted showing's sample is kept aside"
    );
    assert!(
        meta.notes.iter().any(|n| n.contains("resumed at trial")),
        "{:?}",
        meta.notes
    );
}
