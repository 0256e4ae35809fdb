//! Dictation capture: the microphone (cpal) or a WAV file stands as the input; a worker
//! thread converts to 16 kHz mono, meters the level and writes the WAV, flushing at
//! least every 100 ms. The first sample is stamped on the gaze clock.
//!
//! The audio callback only copies samples into a bounded, preallocated queue; overflow
//! is counted, never silent. No microphone is a clear error: the session goes on with
//! typed descriptions.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::level::LevelMeter;
use super::resample::{Resampler, TARGET_RATE_HZ};
use super::wav::{WavError, WavSink, read_wav};
use crate::gaze::clock::system_time_us;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("no microphone is available ({0}); the session can continue with typed descriptions")]
    NoInputDevice(String),
    #[error("no microphone named {wanted:?}; available: {available}")]
    UnknownDevice { wanted: String, available: String },
    #[error("the microphone could not be started: {0}")]
    Stream(String),
    #[error(transparent)]
    Wav(#[from] WavError),
    #[error("the dictation worker stopped unexpectedly")]
    Worker,
}

/// Names of the input devices the audio host offers (empty when there are none).
pub fn input_device_names() -> Vec<String> {
    let host = cpal::default_host();
    host.input_devices()
        .map(|devices| devices.map(|d| d.to_string()).collect())
        .unwrap_or_default()
}

/// What a finished dictation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct DictationSummary {
    pub wav_path: PathBuf,
    /// Gaze-clock time of the first captured sample, µs (`None`: nothing captured).
    pub first_sample_us: Option<i64>,
    pub samples_16k: u64,
    pub input_rate_hz: u32,
    /// Input samples lost to queue overflow.
    pub dropped_input_samples: u64,
}

impl DictationSummary {
    pub fn duration_ms(&self) -> f64 {
        self.samples_16k as f64 * 1000.0 / f64::from(TARGET_RATE_HZ)
    }
}

/// Interleaved input samples between the audio callback and the worker.
#[derive(Debug)]
struct InputQueue {
    samples: Mutex<VecDeque<f32>>,
    capacity: usize,
    dropped: AtomicU64,
}

impl InputQueue {
    fn new(capacity: usize) -> Self {
        Self {
            samples: Mutex::new(VecDeque::with_capacity(capacity)),
            capacity,
            dropped: AtomicU64::new(0),
        }
    }

    fn push(&self, block: impl ExactSizeIterator<Item = f32>) {
        let len = block.len();
        match self.samples.lock() {
            Ok(mut samples) => {
                let room = self.capacity - samples.len().min(self.capacity);
                samples.extend(block.take(room));
                if len > room {
                    self.dropped
                        .fetch_add((len - room) as u64, Ordering::Relaxed);
                }
            }
            Err(_) => {
                self.dropped.fetch_add(len as u64, Ordering::Relaxed);
            }
        }
    }

    fn drain_into(&self, out: &mut Vec<f32>) {
        if let Ok(mut samples) = self.samples.lock() {
            out.extend(samples.drain(..));
        }
    }
}

/// A running dictation. Stop it with [`Dictation::stop`]; dropping it also stops it.
pub struct Dictation {
    level: LevelMeter,
    first_sample_us: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
    /// Set when a file input has delivered its last sample (never for a microphone).
    input_finished: Arc<AtomicBool>,
    worker: Option<JoinHandle<Result<DictationSummary, AudioError>>>,
    _stream: Option<cpal::Stream>,
}

impl std::fmt::Debug for Dictation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictation")
            .field("level_dbfs", &self.level.rms_dbfs())
            .finish()
    }
}

const NO_SAMPLE_YET: i64 = i64::MIN;

impl Dictation {
    /// Starts recording from the named microphone (or the default one) into `wav_path`.
    pub fn from_microphone(device_name: Option<&str>, wav_path: &Path) -> Result<Self, AudioError> {
        let host = cpal::default_host();
        let device = match device_name {
            None => host.default_input_device().ok_or_else(|| {
                AudioError::NoInputDevice("the audio host reports no input device".into())
            })?,
            Some(wanted) => host
                .input_devices()
                .map_err(|e| AudioError::NoInputDevice(e.to_string()))?
                .find(|d| d.to_string() == wanted)
                .ok_or_else(|| AudioError::UnknownDevice {
                    wanted: wanted.to_owned(),
                    available: input_device_names().join(", "),
                })?,
        };
        // With no sound card, cpal still names a default device; the failure comes here.
        let config = device
            .default_input_config()
            .map_err(|e| AudioError::NoInputDevice(format!("{device}: {e}")))?;
        let rate = config.sample_rate();
        let channels = config.channels();
        let queue = Arc::new(InputQueue::new(rate as usize * usize::from(channels) * 10));
        let first_sample_us = Arc::new(AtomicI64::new(NO_SAMPLE_YET));
        let stream = build_stream(&device, &config, queue.clone(), first_sample_us.clone())?;
        stream
            .play()
            .map_err(|e| AudioError::Stream(e.to_string()))?;
        let mut dictation = Self::with_worker(queue, rate, channels, wav_path, first_sample_us)?;
        dictation._stream = Some(stream);
        Ok(dictation)
    }

    /// Plays a WAV file through the same pipeline, as if a subject spoke it: at real
    /// time (`realtime`) or as fast as possible. The first sample is stamped now.
    pub fn from_wav_file(
        input: &Path,
        wav_path: &Path,
        realtime: bool,
    ) -> Result<Self, AudioError> {
        let (samples, rate, channels) = read_wav(input)?;
        let queue = Arc::new(InputQueue::new(samples.len().max(1)));
        let first_sample_us = Arc::new(AtomicI64::new(NO_SAMPLE_YET));
        let dictation = Self::with_worker(
            queue.clone(),
            rate,
            channels,
            wav_path,
            first_sample_us.clone(),
        )?;
        let block = (rate as usize / 50).max(1) * usize::from(channels.max(1));
        if !realtime {
            first_sample_us.store(system_time_us(), Ordering::Relaxed);
            queue.push(samples.iter().copied());
            dictation.input_finished.store(true, Ordering::Relaxed);
            return Ok(dictation);
        }
        let (stop, finished) = (dictation.stop.clone(), dictation.input_finished.clone());
        std::thread::spawn(move || {
            let start_us = system_time_us();
            let block_us = 1e6 * (block / usize::from(channels.max(1))) as f64 / f64::from(rate);
            for (k, chunk) in samples.chunks(block).enumerate() {
                // Deliver each block when it would have been spoken, on absolute deadlines.
                let due_us = start_us + (k as f64 * block_us) as i64;
                let wait_us = due_us - system_time_us();
                if wait_us > 0 {
                    std::thread::sleep(Duration::from_micros(wait_us.unsigned_abs()));
                }
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let _ = first_sample_us.compare_exchange(
                    NO_SAMPLE_YET,
                    start_us,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                queue.push(chunk.iter().copied());
            }
            finished.store(true, Ordering::Relaxed);
        });
        Ok(dictation)
    }

    fn with_worker(
        queue: Arc<InputQueue>,
        rate: u32,
        channels: u16,
        wav_path: &Path,
        first_sample_us: Arc<AtomicI64>,
    ) -> Result<Self, AudioError> {
        let mut sink = WavSink::create(wav_path)?;
        let level = LevelMeter::default();
        let stop = Arc::new(AtomicBool::new(false));
        let worker = {
            let (level, stop, first) = (level.clone(), stop.clone(), first_sample_us.clone());
            let wav_path = wav_path.to_path_buf();
            std::thread::spawn(move || {
                let mut resampler = Resampler::new(rate, channels, TARGET_RATE_HZ);
                let (mut input, mut output) = (Vec::new(), Vec::new());
                let mut since_flush = Duration::ZERO;
                loop {
                    let stopping = stop.load(Ordering::Relaxed);
                    input.clear();
                    output.clear();
                    queue.drain_into(&mut input);
                    resampler.process(&input, &mut output);
                    if stopping {
                        resampler.finish(&mut output);
                    }
                    level.update(&output);
                    sink.write(&output)?;
                    since_flush += Duration::from_millis(20);
                    if since_flush >= Duration::from_millis(100) {
                        sink.flush()?;
                        since_flush = Duration::ZERO;
                    }
                    if stopping {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let samples_16k = sink.finish()?;
                let first = first.load(Ordering::Relaxed);
                Ok(DictationSummary {
                    wav_path,
                    first_sample_us: (first != NO_SAMPLE_YET).then_some(first),
                    samples_16k,
                    input_rate_hz: rate,
                    dropped_input_samples: queue.dropped.load(Ordering::Relaxed),
                })
            })
        };
        Ok(Self {
            level,
            first_sample_us,
            stop,
            input_finished: Arc::new(AtomicBool::new(false)),
            worker: Some(worker),
            _stream: None,
        })
    }

    /// The live input level for a meter.
    pub fn level(&self) -> &LevelMeter {
        &self.level
    }

    /// Gaze-clock time of the first sample, once one has arrived.
    pub fn first_sample_us(&self) -> Option<i64> {
        let first = self.first_sample_us.load(Ordering::Relaxed);
        (first != NO_SAMPLE_YET).then_some(first)
    }

    /// A file input has delivered everything (a microphone never has).
    pub fn input_finished(&self) -> bool {
        self.input_finished.load(Ordering::Relaxed)
    }

    /// Stops capture, writes the rest and closes the WAV.
    pub fn stop(mut self) -> Result<DictationSummary, AudioError> {
        self._stream = None; // stops the callback before the last drain
        self.stop.store(true, Ordering::Relaxed);
        self.worker
            .take()
            .ok_or(AudioError::Worker)?
            .join()
            .map_err(|_| AudioError::Worker)?
    }
}

impl Drop for Dictation {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn build_stream(
    device: &cpal::Device,
    config: &cpal::SupportedStreamConfig,
    queue: Arc<InputQueue>,
    first_sample_us: Arc<AtomicI64>,
) -> Result<cpal::Stream, AudioError> {
    fn build<T>(
        device: &cpal::Device,
        config: &cpal::StreamConfig,
        queue: Arc<InputQueue>,
        first_sample_us: Arc<AtomicI64>,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: cpal::SizedSample,
        f32: cpal::FromSample<T>,
    {
        device.build_input_stream(
            *config,
            move |data: &[T], info: &cpal::InputCallbackInfo| {
                if first_sample_us.load(Ordering::Relaxed) == NO_SAMPLE_YET {
                    let timestamp = info.timestamp();
                    let latency_us = timestamp
                        .callback
                        .saturating_duration_since(timestamp.capture)
                        .as_micros();
                    let stamp = system_time_us() - i64::try_from(latency_us).unwrap_or(0);
                    first_sample_us.store(stamp, Ordering::Relaxed);
                }
                queue.push(
                    data.iter()
                        .map(|&s| <f32 as cpal::FromSample<T>>::from_sample_(s)),
                );
            },
            |e| tracing::warn!("microphone stream error: {e}"),
            None,
        )
    }
    let stream_config = config.config();
    let result = match config.sample_format() {
        cpal::SampleFormat::F32 => build::<f32>(device, &stream_config, queue, first_sample_us),
        cpal::SampleFormat::I16 => build::<i16>(device, &stream_config, queue, first_sample_us),
        cpal::SampleFormat::U16 => build::<u16>(device, &stream_config, queue, first_sample_us),
        cpal::SampleFormat::I32 => build::<i32>(device, &stream_config, queue, first_sample_us),
        other => {
            return Err(AudioError::Stream(format!(
                "unsupported sample format {other}"
            )));
        }
    };
    result.map_err(|e| AudioError::Stream(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wav_file_plays_through_the_pipeline_into_a_16k_mono_wav() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("speech.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&input, spec).unwrap();
        for i in 0..44_100 {
            let v = ((i as f32 * 0.05).sin() * 8000.0) as i16;
            writer.write_sample(v).unwrap();
            writer.write_sample(v).unwrap();
        }
        writer.finalize().unwrap();
        let output = dir.path().join("dictation.wav");
        let before = system_time_us();
        let dictation = Dictation::from_wav_file(&input, &output, false).unwrap();
        let summary = dictation.stop().unwrap();
        assert!(summary.first_sample_us.unwrap() >= before);
        assert!(
            (summary.duration_ms() - 1000.0).abs() < 10.0,
            "{}",
            summary.duration_ms()
        );
        assert_eq!(summary.dropped_input_samples, 0);
        let (samples, rate, channels) = read_wav(&output).unwrap();
        assert_eq!((rate, channels), (16_000, 1));
        assert_eq!(samples.len() as u64, summary.samples_16k);
    }

    #[test]
    fn an_unknown_microphone_lists_the_available_ones() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            Dictation::from_microphone(Some("no such microphone"), &dir.path().join("x.wav"))
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("no such microphone") || error.contains("typed descriptions"),
            "{error}"
        );
    }
}
