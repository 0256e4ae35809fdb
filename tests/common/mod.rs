//! Shared test fixtures: a scripted gaze source, a scripted subject, small studies.

#![allow(clippy::unwrap_used, dead_code)] // test helpers may unwrap; not every test uses all

use std::path::{Path, PathBuf};

use scanscribe::gaze::clock::system_time_us;
use scanscribe::gaze::{Capabilities, DeviceInfo, GazeError, GazeSample, GazeSource, Notification};
use scanscribe::session::runner::{Response, Subject, WaitScreen};
use scanscribe::study::Trial;

/// Emits a sample every `1/rate` s on the live clock at a fixed point, and goes
/// silent (with a connection-lost notification) during `[lost_from_us, lost_to_us)`
/// after its start.
pub struct ScriptedSource {
    info: DeviceInfo,
    rate_hz: f64,
    next_us: Option<i64>,
    started_us: i64,
    pub lost_window_us: Option<(i64, i64)>,
    lost_reported: bool,
    restored_reported: bool,
    notifications: Vec<Notification>,
}

impl ScriptedSource {
    pub fn new(rate_hz: f64) -> Self {
        Self {
            info: DeviceInfo {
                address: "scripted://1".into(),
                model: "scripted".into(),
                ..DeviceInfo::default()
            },
            rate_hz,
            next_us: None,
            started_us: 0,
            lost_window_us: None,
            lost_reported: false,
            restored_reported: false,
            notifications: Vec::new(),
        }
    }
}

impl GazeSource for ScriptedSource {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn gaze_output_frequency_hz(&self) -> f32 {
        self.rate_hz as f32
    }
    fn set_gaze_output_frequency_hz(&mut self, _: f32) -> Result<(), GazeError> {
        Err(GazeError::Unsupported("fixed rate".into()))
    }
    fn start(&mut self) -> Result<(), GazeError> {
        self.started_us = system_time_us();
        self.next_us = Some(self.started_us);
        Ok(())
    }
    fn stop(&mut self) -> Result<(), GazeError> {
        self.next_us = None;
        Ok(())
    }
    fn drain_samples(&mut self, out: &mut Vec<GazeSample>) -> usize {
        let Some(mut next) = self.next_us else {
            return 0;
        };
        let now = system_time_us();
        let before = out.len();
        let period = (1e6 / self.rate_hz) as i64;
        while next <= now {
            let lost = self
                .lost_window_us
                .is_some_and(|(from, to)| (from..to).contains(&(next - self.started_us)));
            if lost && !self.lost_reported {
                self.lost_reported = true;
                self.notifications
                    .push(Notification::ConnectionLost { at_us: next });
            }
            if !lost && self.lost_reported && !self.restored_reported {
                self.restored_reported = true;
                self.notifications
                    .push(Notification::ConnectionRestored { at_us: next });
            }
            if !lost {
                out.push(GazeSample::binocular(next, [0.5, 0.5]));
            }
            next += period;
        }
        self.next_us = Some(next);
        out.len() - before
    }
    fn drain_notifications(&mut self, out: &mut Vec<Notification>) {
        out.append(&mut self.notifications);
    }
    fn dropped_samples(&self) -> u64 {
        0
    }
}

/// Continues at once, speaks the trial WAV on odd trials, types on even ones.
pub struct ScriptedSubject {
    pub speech: PathBuf,
    pub waits: Vec<WaitScreen>,
}

impl Subject for ScriptedSubject {
    fn wait_to_continue(&mut self, screen: &WaitScreen) -> bool {
        self.waits.push(screen.clone());
        true
    }
    fn respond(&mut self, trial: &Trial, trial_index: usize) -> Response {
        if trial_index % 2 == 1 {
            Response::Speech(self.speech.clone())
        } else {
            Response::Text(format!("typed description of {}", trial.id))
        }
    }
    fn questionnaire(&mut self) -> Option<[u8; 10]> {
        Some([5, 3, 6, 2, 7, 3, 6, 2, 6, 1])
    }
}

pub fn study_folder(dir: &Path, trials: usize) -> PathBuf {
    let image = image::RgbImage::from_pixel(64, 64, image::Rgb([90, 90, 200]));
    image.save(dir.join("a.png")).unwrap();
    let trial_lines: String = (0..trials)
        .map(|i| {
            format!("(id: \"t{i}\", image: \"a.png\", viewing_time_ms: 300, fixation_cross_ms: 100, dictation: (max_length_ms: 5000)),\n")
        })
        .collect();
    let text = format!(
        r#"Study(id: "runner", title: "Runner test", instructions: "Look.",
            screen: (resolution_px: (1920, 1080), size_mm: (531.0, 299.0), viewing_distance_mm: 650.0),
            trials: [{trial_lines}],
            breaks: (every_n_trials: 2, min_duration_ms: 50),
            questionnaire: Tipi)"#
    );
    let path = dir.join("study.ron");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn speech_wav(dir: &Path) -> PathBuf {
    let path = dir.join("speech.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22_050,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..(22_050 / 5) {
        writer
            .write_sample(((i as f32 * 0.07).sin() * 9000.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
    path
}

/// [`study_folder`] as a BubbleView study (default bubble and blur).
pub fn bubble_study_folder(dir: &Path, trials: usize) -> PathBuf {
    let path = study_folder(dir, trials);
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "trials: [",
        "attention: BubbleView(()), trials: [",
        1,
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// A [`ScriptedSubject`] that also clicks on each stimulus: `(ms after onset,
/// display-normalized position)`, each sent once its time has come.
pub struct ClickingSubject {
    pub inner: ScriptedSubject,
    pub clicks: Vec<(i64, [f32; 2])>,
    stimulus_on_us: Option<i64>,
    next: usize,
}

impl ClickingSubject {
    pub fn new(inner: ScriptedSubject, clicks: Vec<(i64, [f32; 2])>) -> Self {
        Self {
            inner,
            clicks,
            stimulus_on_us: None,
            next: 0,
        }
    }
}

impl Subject for ClickingSubject {
    fn stimulus_on(&mut self, _trial: &Trial, _trial_index: usize) {
        self.stimulus_on_us = Some(system_time_us());
        self.next = 0;
    }
    fn take_clicks(
        &mut self,
        _trial_index: usize,
        out: &mut Vec<scanscribe::session::bubbles::BubbleClick>,
    ) {
        let Some(on) = self.stimulus_on_us else {
            return;
        };
        let now = system_time_us();
        while let Some(&(offset_ms, position_display)) = self.clicks.get(self.next) {
            let time_us = on + offset_ms * 1000;
            if time_us > now {
                break;
            }
            out.push(scanscribe::session::bubbles::BubbleClick {
                time_us,
                position_display,
            });
            self.next += 1;
        }
    }
    fn wait_to_continue(&mut self, screen: &WaitScreen) -> bool {
        self.inner.wait_to_continue(screen)
    }
    fn respond(&mut self, trial: &Trial, trial_index: usize) -> Response {
        self.inner.respond(trial, trial_index)
    }
    fn questionnaire(&mut self) -> Option<[u8; 10]> {
        self.inner.questionnaire()
    }
}
