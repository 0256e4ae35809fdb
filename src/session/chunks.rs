//! Crash-safe storage of gaze samples: an append-only file of checksummed chunks.
//!
//! File layout: the 8-byte file header `SSGAZE01`, then chunks, each
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `CHNK` |
//! | 4 | sample count `n` (u32, little-endian) |
//! | 4 | CRC-32 of the payload (u32, little-endian) |
//! | 66·n | payload: `n` samples, [`SAMPLE_BYTES`] each, little-endian |
//!
//! A sample is `system_time_us` (i64), `device_time_us` (i64), then per eye (left,
//! right): gaze x, y, pupil diameter mm, gaze origin x, y, z mm (six f32) and a flags
//! byte (bit 0 gaze point valid, bit 1 pupil valid, bit 2 origin valid).
//!
//! The writer appends one chunk per flush; the caller flushes at least every 100 ms,
//! so a crash loses at most the samples of the last, unwritten interval. The reader
//! keeps every intact chunk, reports a chunk whose checksum fails and resynchronizes
//! at the next magic, and ignores a torn final chunk (reporting it).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::gaze::{EyeSample, GazeSample};

/// The file header.
pub const FILE_MAGIC: &[u8; 8] = b"SSGAZE01";
const CHUNK_MAGIC: &[u8; 4] = b"CHNK";
const CHUNK_HEADER_BYTES: usize = 12;
/// Encoded size of one sample.
pub const SAMPLE_BYTES: usize = 16 + 2 * EYE_BYTES;
const EYE_BYTES: usize = 6 * 4 + 1;
/// Chunks claiming more samples than this are treated as corrupt (10 min at 1200 Hz).
const MAX_SAMPLES_PER_CHUNK: u32 = 720_000;

#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a scanscribe gaze file (expected the header SSGAZE01)")]
    NotAGazeFile { path: PathBuf },
}

/// Something the reader found wrong and stepped over.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkDamage {
    /// A chunk whose checksum did not match; its samples were skipped.
    Corrupt { offset: u64, claimed_samples: u32 },
    /// Bytes that were not a chunk, skipped while looking for the next one.
    Garbage { offset: u64, bytes: u64 },
    /// The final chunk was cut short (a crash during its write); its samples are lost.
    Torn { offset: u64, bytes: u64 },
}

/// Samples read back, with what had to be skipped.
#[derive(Debug, Clone, Default)]
pub struct ChunkReadout {
    pub samples: Vec<GazeSample>,
    pub damage: Vec<ChunkDamage>,
}

/// Appends samples to a chunk file.
#[derive(Debug)]
pub struct ChunkWriter {
    path: PathBuf,
    out: BufWriter<File>,
    pending: Vec<u8>,
    pending_samples: u32,
    written_samples: u64,
    sync_to_disk: bool,
}

impl ChunkWriter {
    /// Creates the file, or opens an existing one for appending (after a resume).
    /// With `sync_to_disk`, every flush also asks the OS to write through to the
    /// device (`fdatasync`), so even a power cut keeps the flushed samples.
    pub fn open(path: &Path, sync_to_disk: bool) -> Result<Self, ChunkError> {
        let io = |source| ChunkError::Io {
            path: path.to_path_buf(),
            source,
        };
        let exists = path.exists() && std::fs::metadata(path).map_err(io)?.len() > 0;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let mut out = BufWriter::new(file);
        if !exists {
            out.write_all(FILE_MAGIC).map_err(io)?;
            out.flush().map_err(io)?;
        }
        Ok(Self {
            path: path.to_path_buf(),
            out,
            pending: Vec::with_capacity(SAMPLE_BYTES * 256),
            pending_samples: 0,
            written_samples: 0,
            sync_to_disk,
        })
    }

    /// Buffers one sample; nothing reaches the file before [`Self::flush`].
    pub fn push(&mut self, sample: &GazeSample) {
        encode_sample(sample, &mut self.pending);
        self.pending_samples += 1;
    }

    /// Writes the buffered samples as one chunk and flushes it to the OS (and the disk
    /// when asked). On error the samples stay buffered, so a later flush can retry.
    pub fn flush(&mut self) -> Result<(), ChunkError> {
        if self.pending_samples == 0 {
            return Ok(());
        }
        let io = |source| ChunkError::Io {
            path: self.path.clone(),
            source,
        };
        let mut header = [0_u8; CHUNK_HEADER_BYTES];
        header[..4].copy_from_slice(CHUNK_MAGIC);
        header[4..8].copy_from_slice(&self.pending_samples.to_le_bytes());
        header[8..12].copy_from_slice(&crc32fast::hash(&self.pending).to_le_bytes());
        self.out.write_all(&header).map_err(io)?;
        self.out.write_all(&self.pending).map_err(io)?;
        self.out.flush().map_err(io)?;
        if self.sync_to_disk {
            self.out.get_ref().sync_data().map_err(io)?;
        }
        self.written_samples += u64::from(self.pending_samples);
        self.pending.clear();
        self.pending_samples = 0;
        Ok(())
    }

    /// Samples written to the file by this writer so far.
    pub fn written_samples(&self) -> u64 {
        self.written_samples
    }

    /// Samples buffered and not yet written.
    pub fn pending_samples(&self) -> u32 {
        self.pending_samples
    }
}

/// Reads every intact sample of a chunk file.
pub fn read_chunks(path: &Path) -> Result<ChunkReadout, ChunkError> {
    let io = |source| ChunkError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(io)?
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() < FILE_MAGIC.len() || &bytes[..FILE_MAGIC.len()] != FILE_MAGIC {
        return Err(ChunkError::NotAGazeFile {
            path: path.to_path_buf(),
        });
    }
    Ok(decode_chunks(&bytes, FILE_MAGIC.len()))
}

fn decode_chunks(bytes: &[u8], start: usize) -> ChunkReadout {
    let mut readout = ChunkReadout::default();
    let mut at = start;
    let mut garbage_from: Option<usize> = None;
    let end_garbage = |readout: &mut ChunkReadout, garbage_from: &mut Option<usize>, at: usize| {
        if let Some(from) = garbage_from.take() {
            readout.damage.push(ChunkDamage::Garbage {
                offset: from as u64,
                bytes: (at - from) as u64,
            });
        }
    };
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < CHUNK_HEADER_BYTES || &rest[..4] != CHUNK_MAGIC {
            if rest.len() < CHUNK_HEADER_BYTES
                && rest.starts_with(&CHUNK_MAGIC[..rest.len().min(4)])
            {
                end_garbage(&mut readout, &mut garbage_from, at);
                readout.damage.push(ChunkDamage::Torn {
                    offset: at as u64,
                    bytes: rest.len() as u64,
                });
                return readout;
            }
            garbage_from.get_or_insert(at);
            at += 1;
            continue;
        }
        let count = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        let crc = u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if count == 0 || count > MAX_SAMPLES_PER_CHUNK {
            garbage_from.get_or_insert(at);
            at += 1;
            continue;
        }
        let payload_len = count as usize * SAMPLE_BYTES;
        if rest.len() < CHUNK_HEADER_BYTES + payload_len {
            end_garbage(&mut readout, &mut garbage_from, at);
            readout.damage.push(ChunkDamage::Torn {
                offset: at as u64,
                bytes: rest.len() as u64,
            });
            return readout;
        }
        let payload = &rest[CHUNK_HEADER_BYTES..CHUNK_HEADER_BYTES + payload_len];
        end_garbage(&mut readout, &mut garbage_from, at);
        if crc32fast::hash(payload) == crc {
            readout
                .samples
                .extend(payload.chunks_exact(SAMPLE_BYTES).map(decode_sample));
        } else {
            readout.damage.push(ChunkDamage::Corrupt {
                offset: at as u64,
                claimed_samples: count,
            });
        }
        at += CHUNK_HEADER_BYTES + payload_len;
    }
    end_garbage(&mut readout, &mut garbage_from, at);
    readout
}

fn encode_sample(sample: &GazeSample, out: &mut Vec<u8>) {
    out.extend_from_slice(&sample.system_time_us.to_le_bytes());
    out.extend_from_slice(&sample.device_time_us.to_le_bytes());
    for eye in [&sample.left, &sample.right] {
        let values = [
            eye.gaze_point_display[0],
            eye.gaze_point_display[1],
            eye.pupil_diameter_mm,
            eye.gaze_origin_mm[0],
            eye.gaze_origin_mm[1],
            eye.gaze_origin_mm[2],
        ];
        for value in values {
            out.extend_from_slice(&value.to_le_bytes());
        }
        let flags = u8::from(eye.gaze_point_valid)
            | (u8::from(eye.pupil_valid) << 1)
            | (u8::from(eye.gaze_origin_valid) << 2);
        out.push(flags);
    }
}

fn decode_sample(bytes: &[u8]) -> GazeSample {
    let i64_at = |at: usize| {
        let mut buffer = [0_u8; 8];
        buffer.copy_from_slice(&bytes[at..at + 8]);
        i64::from_le_bytes(buffer)
    };
    let f32_at =
        |at: usize| f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let eye = |base: usize| {
        let flags = bytes[base + 24];
        EyeSample {
            gaze_point_display: [f32_at(base), f32_at(base + 4)],
            gaze_point_valid: flags & 1 != 0,
            pupil_diameter_mm: f32_at(base + 8),
            pupil_valid: flags & 2 != 0,
            gaze_origin_mm: [f32_at(base + 12), f32_at(base + 16), f32_at(base + 20)],
            gaze_origin_valid: flags & 4 != 0,
        }
    };
    GazeSample {
        system_time_us: i64_at(0),
        device_time_us: i64_at(8),
        left: eye(16),
        right: eye(16 + EYE_BYTES),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(range: std::ops::Range<i64>) -> Vec<GazeSample> {
        range
            .map(|t| {
                let mut s = GazeSample::binocular(t * 833, [t as f32 / 1000.0, 0.5]);
                if t % 7 == 0 {
                    s.right = EyeSample::INVALID;
                }
                s
            })
            .collect()
    }

    fn write(path: &Path, batches: &[Vec<GazeSample>]) {
        let mut writer = ChunkWriter::open(path, false).unwrap();
        for batch in batches {
            for s in batch {
                writer.push(s);
            }
            writer.flush().unwrap();
        }
    }

    fn same(a: &[GazeSample], b: &[GazeSample]) -> bool {
        // NaN != NaN, so compare the encodings.
        let encode = |v: &[GazeSample]| {
            let mut out = Vec::new();
            v.iter().for_each(|s| encode_sample(s, &mut out));
            out
        };
        encode(a) == encode(b)
    }

    #[test]
    fn chunks_round_trip_and_appending_after_reopen_continues_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gaze.chunks");
        write(&path, &[samples(0..100), samples(100..130)]);
        write(&path, &[samples(130..200)]);
        let readout = read_chunks(&path).unwrap();
        assert!(readout.damage.is_empty(), "{:?}", readout.damage);
        assert!(same(&readout.samples, &samples(0..200)));
    }

    #[test]
    fn a_corrupt_chunk_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gaze.chunks");
        write(&path, &[samples(0..10), samples(10..20), samples(20..30)]);
        let mut bytes = std::fs::read(&path).unwrap();
        let second_payload = 8 + CHUNK_HEADER_BYTES + 10 * SAMPLE_BYTES + CHUNK_HEADER_BYTES;
        bytes[second_payload + 5] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let readout = read_chunks(&path).unwrap();
        assert_eq!(readout.damage.len(), 1);
        assert!(matches!(
            readout.damage[0],
            ChunkDamage::Corrupt {
                claimed_samples: 10,
                ..
            }
        ));
        let mut expected = samples(0..10);
        expected.extend(samples(20..30));
        assert!(same(&readout.samples, &expected));
    }

    #[test]
    fn a_torn_final_chunk_and_garbage_are_reported_and_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gaze.chunks");
        write(&path, &[samples(0..10), samples(10..20)]);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        let readout = read_chunks(&path).unwrap();
        assert!(same(&readout.samples, &samples(0..10)));
        assert!(matches!(readout.damage[..], [ChunkDamage::Torn { .. }]));

        let mut bytes = FILE_MAGIC.to_vec();
        bytes.extend_from_slice(b"junk!");
        let mut chunk = Vec::new();
        samples(0..3)
            .iter()
            .for_each(|s| encode_sample(s, &mut chunk));
        bytes.extend_from_slice(CHUNK_MAGIC);
        bytes.extend_from_slice(&3_u32.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&chunk).to_le_bytes());
        bytes.extend_from_slice(&chunk);
        let readout = decode_chunks(&bytes, FILE_MAGIC.len());
        assert_eq!(readout.samples.len(), 3);
        assert_eq!(
            readout.damage,
            [ChunkDamage::Garbage {
                offset: 8,
                bytes: 5
            }]
        );
    }

    #[test]
    fn other_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello").unwrap();
        let message = read_chunks(&path).unwrap_err().to_string();
        assert!(
            message.contains("notes.txt") && message.contains("SSGAZE01"),
            "{message}"
        );
    }
}
