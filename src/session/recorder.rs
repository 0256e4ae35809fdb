//! Recording one trial's gaze: samples drained from the source are buffered and
//! written to `gaze.chunks` as a checksummed chunk at least every flush interval
//! (50 ms by default, so a crash loses at most that much), and kept in memory for
//! the fixation filter at the end of the trial.
//!
//! A write error (disk full, folder gone, permission) stops the recorder: everything
//! flushed before it stays on disk and the error says which file failed.

use std::path::{Path, PathBuf};

use super::chunks::{ChunkError, ChunkWriter};
use super::folder::GAZE_FILE;
use crate::gaze::GazeSample;

/// Default time between two flushes of the gaze file.
pub const DEFAULT_FLUSH_INTERVAL_US: i64 = 50_000;

/// Writes one trial's samples as they arrive.
#[derive(Debug)]
pub struct TrialRecorder {
    path: PathBuf,
    writer: ChunkWriter,
    samples: Vec<GazeSample>,
    flush_interval_us: i64,
    last_flush_us: i64,
}

impl TrialRecorder {
    /// Opens (or, on resume, appends to) the trial's gaze file.
    pub fn open(
        trial_dir: &Path,
        flush_interval_us: i64,
        sync_to_disk: bool,
        now_us: i64,
    ) -> Result<Self, ChunkError> {
        let path = trial_dir.join(GAZE_FILE);
        Ok(Self {
            writer: ChunkWriter::open(&path, sync_to_disk)?,
            path,
            samples: Vec::new(),
            flush_interval_us,
            last_flush_us: now_us,
        })
    }

    /// Buffers samples and flushes when the interval has passed.
    pub fn record(&mut self, samples: &[GazeSample], now_us: i64) -> Result<(), ChunkError> {
        for sample in samples {
            self.writer.push(sample);
        }
        self.samples.extend_from_slice(samples);
        if now_us - self.last_flush_us >= self.flush_interval_us {
            self.flush(now_us)?;
        }
        Ok(())
    }

    /// Writes whatever is buffered now.
    pub fn flush(&mut self, now_us: i64) -> Result<(), ChunkError> {
        self.writer.flush()?;
        self.last_flush_us = now_us;
        Ok(())
    }

    /// Flushes and returns every sample of the trial.
    pub fn finish(mut self, now_us: i64) -> Result<Vec<GazeSample>, ChunkError> {
        self.flush(now_us)?;
        Ok(self.samples)
    }

    /// Samples recorded so far (flushed or not).
    pub fn samples(&self) -> &[GazeSample] {
        &self.samples
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::chunks::read_chunks;

    #[test]
    fn samples_reach_the_file_within_the_flush_interval() {
        let dir = tempfile::tempdir().unwrap();
        let mut recorder = TrialRecorder::open(dir.path(), 50_000, false, 0).unwrap();
        recorder
            .record(&[GazeSample::binocular(1_000, [0.5, 0.5])], 1_000)
            .unwrap();
        assert!(
            read_chunks(recorder.path()).unwrap().samples.is_empty(),
            "not due yet"
        );
        recorder
            .record(&[GazeSample::binocular(50_000, [0.5, 0.5])], 50_000)
            .unwrap();
        assert_eq!(read_chunks(recorder.path()).unwrap().samples.len(), 2);
        let all = recorder.finish(60_000).unwrap();
        assert_eq!(all.len(), 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_stops_with_a_message_naming_the_file_and_keeps_what_was_written() {
        // /dev/full accepts opens and fails every write with ENOSPC; the file header
        // is the first write, so opening already fails.
        let message = ChunkWriter::open(Path::new("/dev/full"), false)
            .unwrap_err()
            .to_string();
        assert!(message.contains("/dev/full"), "{message}");
        assert!(message.contains("No space left"), "{message}");
    }
}
