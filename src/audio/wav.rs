//! The dictation WAV: 16 kHz, mono, 16-bit PCM (what Whisper and every analysis tool
//! read). The header is rewritten at each flush, so after a crash the file is valid
//! up to the last flush.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::resample::TARGET_RATE_HZ;

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("{path}: {message}")]
    Wav { path: PathBuf, message: String },
}

fn wav_error(path: &Path, e: impl std::fmt::Display) -> WavError {
    WavError::Wav {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes 16 kHz mono samples in `[-1, 1]` as 16-bit PCM.
pub struct WavSink {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    samples_written: u64,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink")
            .field("path", &self.path)
            .field("samples_written", &self.samples_written)
            .finish()
    }
}

impl WavSink {
    pub fn create(path: &Path) -> Result<Self, WavError> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: TARGET_RATE_HZ,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|e| wav_error(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            samples_written: 0,
        })
    }

    pub fn write(&mut self, samples: &[f32]) -> Result<(), WavError> {
        for &s in samples {
            let value = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
            self.writer
                .write_sample(value)
                .map_err(|e| wav_error(&self.path, e))?;
        }
        self.samples_written += samples.len() as u64;
        Ok(())
    }

    /// Writes buffered samples and updates the header so the file is valid as is.
    pub fn flush(&mut self) -> Result<(), WavError> {
        self.writer.flush().map_err(|e| wav_error(&self.path, e))
    }

    pub fn finish(self) -> Result<u64, WavError> {
        let path = self.path.clone();
        self.writer.finalize().map_err(|e| wav_error(&path, e))?;
        Ok(self.samples_written)
    }

    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }
}

/// Reads a WAV file of any rate, channel count and sample format as interleaved f32
/// in `[-1, 1]`, with its rate and channel count.
pub fn read_wav(path: &Path) -> Result<(Vec<f32>, u32, u16), WavError> {
    let mut reader = hound::WavReader::open(path).map_err(|e| wav_error(path, e))?;
    let spec = reader.spec();
    let samples: Result<Vec<f32>, _> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1_i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect()
        }
    };
    let samples = samples.map_err(|e| wav_error(path, e))?;
    Ok((samples, spec.sample_rate, spec.channels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flushed_file_is_readable_before_it_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dictation.wav");
        let mut sink = WavSink::create(&path).unwrap();
        sink.write(&[0.0, 0.5, -0.5, 1.0]).unwrap();
        sink.flush().unwrap();
        // The writer is still open, as after a crash: the file must read back.
        let (samples, rate, channels) = read_wav(&path).unwrap();
        assert_eq!((rate, channels, samples.len()), (16_000, 1, 4));
        assert!((samples[1] - 0.5).abs() < 1e-3 && (samples[3] - 1.0).abs() < 1e-3);
        assert_eq!(sink.finish().unwrap(), 4);
    }

    #[test]
    fn unreadable_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("noise.wav");
        std::fs::write(&path, b"RIFF....").unwrap();
        let message = read_wav(&path).unwrap_err().to_string();
        assert!(message.contains("noise.wav"), "{message}");
    }
}
