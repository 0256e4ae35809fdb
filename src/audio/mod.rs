//! Audio: dictation capture from the microphone (cpal) or a WAV file, conversion to
//! 16 kHz mono, the level meter, and the dictation WAV (hound), with the first sample
//! stamped on the gaze clock.
//!
//! No UI and no ML here.

pub mod capture;
pub mod level;
pub mod resample;
pub mod wav;

pub use capture::{AudioError, Dictation, DictationSummary, input_device_names};
pub use level::LevelMeter;
