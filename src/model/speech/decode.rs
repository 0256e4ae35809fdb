//! Greedy Whisper decoding over 30 s windows.
//!
//! Each window gets the Whisper prompt (`<|startoftranscript|>`, then the language
//! and `<|transcribe|>` for multilingual models, then `<|notimestamps|>`); tokens
//! are chosen greedily with the suppression rules of the config (`suppress_tokens`,
//! `begin_suppress_tokens` on the first token, and every special token except
//! `<|endoftext|>`), until `<|endoftext|>` or the length limit. Recordings longer
//! than 30 s are cut at the quietest moment of each window's last six seconds. A
//! window judged silent (Whisper's no-speech rule, or digital silence) gives no text.
//! A greedy loop (the same 1–8 tokens four times in a row) is cut to one copy.
//!
//! Owns inference; it must not read files other than through [`super::load`].

use std::ops::Range;
use std::path::Path;

use candle_core::{IndexOp, Tensor};
use candle_transformers::models::whisper::model::Whisper;

use super::SpeechError;
use super::load::{self, LoadedWhisper, WhisperConfig};
use super::mel::{HOP_LENGTH, MelFrontEnd, SAMPLE_RATE_HZ, WINDOW_SAMPLES};
use super::text_decoder::CachedTextDecoder;
use super::tokenizer::WhisperTokenizer;
use crate::audio::resample::{Resampler, TARGET_RATE_HZ};

/// Decoding settings.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// Spoken language code for multilingual models (`en`, `de`, …); ignored by
    /// English-only models.
    pub language: String,
    /// Most tokens generated per 30 s window (Whisper uses 224).
    pub max_new_tokens: usize,
    /// Stop when the same 1–8 tokens repeat four times in a row, keeping one copy.
    pub cut_repetition_loops: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            language: "en".into(),
            max_new_tokens: 224,
            cut_repetition_loops: true,
        }
    }
}

/// The text of one window of audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_ms: f64,
    pub end_ms: f64,
    pub text: String,
    /// Generated tokens, without the prompt and `<|endoftext|>`.
    pub tokens: Vec<u32>,
    /// Probability of `<|nospeech|>` right after the start token.
    pub no_speech_probability: f32,
    pub average_log_probability: f32,
}

/// A transcription: the joined text and the windows it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    pub segments: Vec<Segment>,
    pub audio_duration_ms: f64,
}

/// A loaded Whisper model ready to transcribe 16 kHz mono audio.
pub struct WhisperModel {
    model: Whisper,
    config: WhisperConfig,
    tokenizer: WhisperTokenizer,
    decoder: CachedTextDecoder,
    mel: MelFrontEnd,
    options: DecodeOptions,
    prompt: Vec<u32>,
    end_of_text: u32,
    no_speech: Option<u32>,
    /// Per token id: never generate it.
    suppressed: Vec<bool>,
    /// Token ids not allowed first.
    begin_suppressed: Vec<u32>,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("config", &self.config)
            .field("options", &self.options)
            .field("prompt", &self.prompt)
            .finish_non_exhaustive()
    }
}

impl WhisperModel {
    /// Loads a Hugging Face–layout folder on the default device.
    pub fn load(dir: &Path, options: DecodeOptions) -> Result<Self, SpeechError> {
        let loaded = load::load_folder(dir, &load::default_device())?;
        Self::from_loaded(loaded, options)
    }

    pub fn from_loaded(loaded: LoadedWhisper, options: DecodeOptions) -> Result<Self, SpeechError> {
        let LoadedWhisper {
            model,
            config,
            tokenizer,
            tokenizer_path,
            decoder,
            device,
        } = loaded;
        let token = |text: &str| {
            tokenizer
                .token_id(text)
                .ok_or_else(|| SpeechError::MissingToken {
                    path: tokenizer_path.clone(),
                    token: text.to_string(),
                })
        };
        let end_of_text = token("<|endoftext|>")?;
        let mut prompt = vec![token("<|startoftranscript|>")?];
        if config.is_multilingual() {
            prompt.push(token(&format!("<|{}|>", options.language))?);
            prompt.push(token("<|transcribe|>")?);
        }
        prompt.push(token("<|notimestamps|>")?);
        let no_speech = tokenizer
            .token_id("<|nospeech|>")
            .or_else(|| tokenizer.token_id("<|nocaptions|>"));
        let vocab_size = config.model.vocab_size;
        let mut suppressed: Vec<bool> = (0..vocab_size as u32)
            .map(|id| id != end_of_text && tokenizer.is_special(id))
            .collect();
        for &id in &config.suppress_tokens {
            if let Some(flag) = suppressed.get_mut(id as usize) {
                *flag = true;
            }
        }
        let mut begin_suppressed = config.begin_suppress_tokens.clone();
        if begin_suppressed.is_empty() {
            begin_suppressed.push(end_of_text);
            begin_suppressed.extend(tokenizer.token_id("Ġ"));
        }
        let mel = MelFrontEnd::new(config.model.num_mel_bins, &device)?;
        Ok(Self {
            model,
            config,
            tokenizer,
            decoder,
            mel,
            options,
            prompt,
            end_of_text,
            no_speech,
            suppressed,
            begin_suppressed,
        })
    }

    pub fn config(&self) -> &WhisperConfig {
        &self.config
    }

    pub fn tokenizer(&self) -> &WhisperTokenizer {
        &self.tokenizer
    }

    /// The prompt every window starts with.
    pub fn prompt(&self) -> &[u32] {
        &self.prompt
    }

    /// Reads a WAV of any rate and channel count, converts it to 16 kHz mono and
    /// transcribes it.
    pub fn transcribe_wav(&mut self, path: &Path) -> Result<Transcript, SpeechError> {
        let samples = read_wav_16k_mono(path)?;
        self.transcribe(&samples)
    }

    /// Transcribes 16 kHz mono samples.
    pub fn transcribe(&mut self, samples: &[f32]) -> Result<Transcript, SpeechError> {
        let mut segments = Vec::new();
        for range in split_windows(samples) {
            let window = &samples[range.clone()];
            let start_ms = range.start as f64 * 1000.0 / f64::from(SAMPLE_RATE_HZ);
            let end_ms = range.end as f64 * 1000.0 / f64::from(SAMPLE_RATE_HZ);
            if rms(window) < 1e-4 {
                continue;
            }
            let mut segment = self.decode_window(window)?;
            segment.start_ms = start_ms;
            segment.end_ms = end_ms;
            if segment.no_speech_probability > 0.6 && segment.average_log_probability < -1.0 {
                segment.text.clear();
            }
            segments.push(segment);
        }
        let text = segments
            .iter()
            .map(|s| s.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Transcript {
            text,
            segments,
            audio_duration_ms: samples.len() as f64 * 1000.0 / f64::from(SAMPLE_RATE_HZ),
        })
    }

    /// Greedy decoding of one window (at most 30 s of samples).
    pub fn decode_window(&mut self, samples: &[f32]) -> Result<Segment, SpeechError> {
        let started = std::time::Instant::now();
        let mel = self.mel.window_features(samples)?;
        let mel_done = started.elapsed();
        let audio_features = self.model.encoder.forward(&mel, true)?;
        let encoder_done = started.elapsed();
        let max_tokens = self
            .config
            .model
            .max_target_positions
            .min(self.prompt.len() + self.options.max_new_tokens);
        let mut tokens = self.prompt.clone();
        let mut state = self.decoder.start(&audio_features)?;
        let mut pending = self.prompt.clone();
        let mut sum_log_probability = 0.0f32;
        let mut no_speech_probability = 0.0f32;
        let mut step = 0;
        while tokens.len() < max_tokens {
            let hidden = self.decoder.forward(&pending, &mut state)?;
            let last = hidden.dim(1)? - 1;
            if step == 0
                && let Some(no_speech) = self.no_speech
            {
                let logits = self.logits(&hidden, 0)?;
                no_speech_probability = softmax_at(&logits, no_speech as usize);
            }
            let mut logits = self.logits(&hidden, last)?;
            self.suppress(&mut logits, step == 0);
            let (next, log_probability) = argmax_with_log_probability(&logits);
            sum_log_probability += log_probability;
            step += 1;
            if next == self.end_of_text {
                break;
            }
            tokens.push(next);
            pending = vec![next];
            let generated = &tokens[self.prompt.len()..];
            if self.options.cut_repetition_loops
                && let Some(keep) = repetition_loop_start(generated)
            {
                // Greedy decoding stuck in a loop: keep one copy and stop.
                tokens.truncate(self.prompt.len() + keep);
                break;
            }
        }
        let generated = tokens[self.prompt.len()..].to_vec();
        tracing::debug!(
            mel_ms = mel_done.as_secs_f64() * 1e3,
            encoder_ms = (encoder_done - mel_done).as_secs_f64() * 1e3,
            decoder_ms = (started.elapsed() - encoder_done).as_secs_f64() * 1e3,
            tokens = generated.len(),
            "decoded a window"
        );
        Ok(Segment {
            start_ms: 0.0,
            end_ms: 0.0,
            text: self.tokenizer.decode(&generated),
            average_log_probability: sum_log_probability / (generated.len() + 1) as f32,
            tokens: generated,
            no_speech_probability,
        })
    }

    /// Logits at one position of the decoder output: the tied output projection as
    /// a matrix–vector product (`vocab × d` times `d`).
    fn logits(&self, hidden: &Tensor, position: usize) -> Result<Vec<f32>, SpeechError> {
        let state = hidden.i((0, position))?.unsqueeze(1)?;
        let embedding = self.decoder.token_embedding();
        Ok(embedding.matmul(&state)?.squeeze(1)?.to_vec1()?)
    }

    fn suppress(&self, logits: &mut [f32], first: bool) {
        for (logit, &suppressed) in logits.iter_mut().zip(&self.suppressed) {
            if suppressed {
                *logit = f32::NEG_INFINITY;
            }
        }
        if first {
            for &id in &self.begin_suppressed {
                if let Some(logit) = logits.get_mut(id as usize) {
                    *logit = f32::NEG_INFINITY;
                }
            }
        }
    }
}

/// Reads a WAV file as 16 kHz mono.
pub fn read_wav_16k_mono(path: &Path) -> Result<Vec<f32>, SpeechError> {
    let (interleaved, rate_hz, channels) = crate::audio::wav::read_wav(path)?;
    if rate_hz == TARGET_RATE_HZ && channels == 1 {
        return Ok(interleaved);
    }
    let mut resampler = Resampler::new(rate_hz, channels, TARGET_RATE_HZ);
    let mut out = Vec::with_capacity(interleaved.len() * 16_000 / rate_hz.max(1) as usize + 64);
    resampler.process(&interleaved, &mut out);
    resampler.finish(&mut out);
    Ok(out)
}

/// Splits a recording into windows of at most 30 s, cutting each window that is
/// not the last at the quietest 100 ms of its final 6 s.
pub fn split_windows(samples: &[f32]) -> Vec<Range<usize>> {
    let mut windows = Vec::new();
    let mut start = 0;
    let block = 10 * HOP_LENGTH; // 100 ms
    while samples.len() - start > WINDOW_SAMPLES {
        let search_from = start + WINDOW_SAMPLES - 6 * SAMPLE_RATE_HZ as usize;
        let search_to = start + WINDOW_SAMPLES;
        let mut best_end = search_to;
        let mut best_energy = f32::INFINITY;
        let mut block_start = search_from;
        while block_start + block <= search_to {
            let energy = rms(&samples[block_start..block_start + block]);
            if energy < best_energy {
                best_energy = energy;
                best_end = block_start + block / 2;
            }
            block_start += block / 2;
        }
        windows.push(start..best_end);
        start = best_end;
    }
    if start < samples.len() || windows.is_empty() {
        windows.push(start..samples.len());
    }
    windows
}

/// Times a trailing group of tokens must repeat to count as a decoding loop.
const LOOP_REPEATS: usize = 4;

/// If `tokens` ends with the same group of 1–8 tokens repeated [`LOOP_REPEATS`]
/// times, the length that keeps the first of those copies.
fn repetition_loop_start(tokens: &[u32]) -> Option<usize> {
    (1..=8).find_map(|period| {
        let span = period * LOOP_REPEATS;
        if tokens.len() < span {
            return None;
        }
        let tail = &tokens[tokens.len() - span..];
        let group = &tail[..period];
        tail.chunks_exact(period)
            .all(|chunk| chunk == group)
            .then(|| tokens.len() - span + period)
    })
}

fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|x| x * x).sum::<f32>() / samples.len() as f32).sqrt()
}

fn softmax_at(logits: &[f32], index: usize) -> f32 {
    let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let total: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    logits.get(index).map_or(0.0, |&l| (l - max).exp() / total)
}

/// The best token and its log-probability among the (suppressed) logits.
fn argmax_with_log_probability(logits: &[f32]) -> (u32, f32) {
    let (best, best_logit) =
        logits
            .iter()
            .enumerate()
            .fold((0usize, f32::NEG_INFINITY), |(bi, bl), (i, &l)| {
                if l > bl { (i, l) } else { (bi, bl) }
            });
    let total: f32 = logits.iter().map(|&l| (l - best_logit).exp()).sum();
    (best as u32, -total.ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_recordings_are_one_window() {
        assert_eq!(split_windows(&[0.1; 16_000]), vec![0..16_000]);
        assert_eq!(split_windows(&[]), vec![0..0]);
    }

    #[test]
    fn long_recordings_are_cut_in_a_quiet_moment() {
        // 70 s of tone with a silent gap at 27–27.5 s and at 55–55.3 s.
        let mut samples: Vec<f32> = (0..70 * 16_000)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        for s in &mut samples[27 * 16_000..27 * 16_000 + 8_000] {
            *s = 0.0;
        }
        for s in &mut samples[55 * 16_000..55 * 16_000 + 4_800] {
            *s = 0.0;
        }
        let windows = split_windows(&samples);
        assert_eq!(windows.len(), 3, "{windows:?}");
        assert!(windows.iter().all(|w| w.len() <= WINDOW_SAMPLES));
        let first_cut_s = windows[0].end as f32 / 16_000.0;
        assert!(
            (27.0..27.5).contains(&first_cut_s),
            "cut at {first_cut_s} s"
        );
        let second_cut_s = windows[1].end as f32 / 16_000.0;
        assert!(
            (55.0..55.3).contains(&second_cut_s),
            "cut at {second_cut_s} s"
        );
        assert_eq!(windows[2].end, samples.len());
    }

    #[test]
    fn a_repetition_loop_is_cut_to_one_copy() {
        // "a b c" then "d e" four times: keep "a b c d e".
        let looping = [1, 2, 3, 4, 5, 4, 5, 4, 5, 4, 5];
        assert_eq!(repetition_loop_start(&looping), Some(5));
        assert_eq!(repetition_loop_start(&[7, 7, 7, 7]), Some(1));
        // Three copies, or ordinary text, is not a loop.
        assert_eq!(repetition_loop_start(&[1, 4, 5, 4, 5, 4, 5]), None);
        assert_eq!(repetition_loop_start(&[1, 2, 3, 4, 5, 6, 7, 8, 9]), None);
    }

    #[test]
    fn argmax_reports_the_log_probability_of_the_choice() {
        let (best, log_p) = argmax_with_log_probability(&[0.0, 2.0_f32.ln(), f32::NEG_INFINITY]);
        assert_eq!(best, 1);
        assert!((log_p - (2.0f32 / 3.0).ln()).abs() < 1e-6);
    }
}
