//! scanscribe: eye-tracking studies of how people look at images and describe them,
//! and DEPER personalized descriptions learnt from both.
//!
//! Everything lives in these modules so the binary, the app and the tests drive the
//! same code; `main.rs` only parses the command line. See `ARCHITECTURE.md` for the
//! data flow and which module may depend on which.

pub mod audio;
pub mod cli;
pub mod cohort;
pub mod dataset;
pub mod eval;
pub mod fixation;
pub mod gaze;
pub mod interop;
pub mod metrics;
pub mod model;
pub mod session;
pub mod study;
pub mod ui;
