//! A transcription worker: one thread owns the Whisper model; the caller submits
//! WAV paths through a channel and collects results from another, so the UI thread
//! never waits on loading or inference. Jobs run in submission order.
//!
//! Owns the thread and the channels; it must not touch the UI or the session folder.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::SpeechError;
use super::decode::{DecodeOptions, Transcript, WhisperModel};

/// The outcome of one submitted recording.
#[derive(Debug)]
pub struct TranscriptionResult {
    /// The id [`Transcriber::submit`] returned.
    pub job_id: u64,
    pub wav_path: PathBuf,
    pub outcome: Result<Transcript, SpeechError>,
    /// Wall-clock time the worker spent on this job (loading excluded).
    pub elapsed_ms: f64,
}

struct Job {
    job_id: u64,
    wav_path: PathBuf,
}

/// Handle to the transcription worker. Dropping it lets queued jobs finish, then
/// stops the thread.
pub struct Transcriber {
    jobs: Option<Sender<Job>>,
    results: Receiver<TranscriptionResult>,
    worker: Option<JoinHandle<()>>,
    next_job_id: u64,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("next_job_id", &self.next_job_id)
            .finish_non_exhaustive()
    }
}

impl Transcriber {
    /// Starts the worker, which loads the model folder (on its own thread). If
    /// loading fails, every job is answered with that error.
    pub fn spawn(model_dir: &Path, options: DecodeOptions) -> Result<Self, SpeechError> {
        let model_dir = model_dir.to_path_buf();
        Self::spawn_with(move || WhisperModel::load(&model_dir, options))
    }

    /// Starts the worker with a model built by `load` on the worker thread.
    pub fn spawn_with<F>(load: F) -> Result<Self, SpeechError>
    where
        F: FnOnce() -> Result<WhisperModel, SpeechError> + Send + 'static,
    {
        let (job_sender, job_receiver) = mpsc::channel::<Job>();
        let (result_sender, result_receiver) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("transcriber".into())
            .spawn(move || run_worker(load, job_receiver, result_sender))
            .map_err(|e| SpeechError::ModelUnavailable(format!("cannot start worker: {e}")))?;
        Ok(Self {
            jobs: Some(job_sender),
            results: result_receiver,
            worker: Some(worker),
            next_job_id: 0,
        })
    }

    /// Queues a WAV file (any rate or channel count); returns its job id at once.
    pub fn submit(&mut self, wav_path: &Path) -> Result<u64, SpeechError> {
        let job_id = self.next_job_id;
        self.next_job_id += 1;
        self.jobs
            .as_ref()
            .ok_or(SpeechError::WorkerStopped)?
            .send(Job {
                job_id,
                wav_path: wav_path.to_path_buf(),
            })
            .map_err(|_| SpeechError::WorkerStopped)?;
        Ok(job_id)
    }

    /// A finished result if one is ready; never blocks (for a UI frame).
    pub fn try_result(&self) -> Option<TranscriptionResult> {
        self.results.try_recv().ok()
    }

    /// Waits up to `timeout` for the next result (for headless callers).
    pub fn wait_result(&self, timeout: Duration) -> Option<TranscriptionResult> {
        self.results.recv_timeout(timeout).ok()
    }
}

impl Drop for Transcriber {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn run_worker<F>(load: F, jobs: Receiver<Job>, results: Sender<TranscriptionResult>)
where
    F: FnOnce() -> Result<WhisperModel, SpeechError>,
{
    let mut model = load().map_err(|e| {
        tracing::warn!("transcription model failed to load: {e}");
        e.to_string()
    });
    for job in jobs {
        let started = Instant::now();
        let outcome = match &mut model {
            Ok(model) => model.transcribe_wav(&job.wav_path),
            Err(message) => Err(SpeechError::ModelUnavailable(message.clone())),
        };
        let result = TranscriptionResult {
            job_id: job.job_id,
            wav_path: job.wav_path,
            outcome,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        if results.send(result).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_that_fails_to_load_answers_every_job_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mut transcriber = Transcriber::spawn(dir.path(), DecodeOptions::default()).unwrap();
        let first = transcriber.submit(Path::new("a.wav")).unwrap();
        let second = transcriber.submit(Path::new("b.wav")).unwrap();
        for expected in [first, second] {
            let result = transcriber.wait_result(Duration::from_secs(30)).unwrap();
            assert_eq!(result.job_id, expected);
            let message = result.outcome.unwrap_err().to_string();
            assert!(message.contains("config.json"), "{message}");
        }
    }
}
