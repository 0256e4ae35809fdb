//! Sessions: the crash-safe session folder a recording writes, its recovery after a
//! crash, and the dataset records exported from it.
//!
//! No UI and no ML here.

pub mod analysis;
pub mod bubbles;
pub mod chunks;
pub mod events;
pub mod folder;
pub mod interrupted;
pub mod meta;
pub mod recorder;
pub mod runner;
pub mod simulated_subject;
pub mod space_reserve;

pub use folder::{RecoveryReport, SessionError, SessionFolder, check_subject_code};
pub use meta::{SessionMeta, SessionStatus, TrialEntry, TrialState};
