//! Study files: the schema an experimenter writes in RON, loading with validation that
//! reports every problem with its file, line or field, and what was expected, and the
//! per-subject trial order.
//!
//! Owns no UI and no ML; the app, the session runner and the CLI all load studies here.

pub mod geometry;
mod load;
pub mod schema;
pub mod tipi;
mod unknown_fields;

pub use geometry::ScreenGeometry;
pub(crate) use load::fnv1a;
pub use load::{LoadedStudy, Problem, StudyError, load_study};
pub use schema::{
    AttentionMode, Breaks, BubbleView, CalibrationPlan, Dictation, GazeSourceKind, Questionnaire,
    Randomization, Study, Trial,
};
