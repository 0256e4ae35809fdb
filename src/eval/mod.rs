//! Evaluation of trained models as the papers report them: the DEPER result tables
//! (`scanscribe eval`) and cross-modality personalization retrieval
//! (`scanscribe retrieve`).
//!
//! - [`sets`] defines what "seen subjects' test split" and "unseen subjects, k-shot"
//!   mean for dataset records; [`methods`] the rows of the tables and where each
//!   row's model lives; [`ablations`] trains the ablation models (cached);
//!   [`candidates`] produces each row's descriptions; [`table`] scores them
//!   ([`grounding`]: the object columns) and
//!   writes Markdown/JSON; [`chart`] draws the PNG; [`run`] ties it together;
//!   [`seeds`] trains further DEPER seeds and reports mean ± sd over them.
//! - [`retrieval`]: content and style embedding spaces over gaze and text, the
//!   15-candidate protocol over user-disjoint splits.
//!
//! Uses `model`, `metrics` and `dataset`; no UI.

pub mod ablations;
pub mod candidates;
pub mod chart;
pub mod grounding;
pub mod methods;
pub mod retrieval;
pub mod run;
pub mod seeds;
pub mod sets;
pub mod table;

use std::path::PathBuf;

pub use run::{EvalOptions, EvalOutput, EvalProgress, evaluate, evaluate_seeds};
pub use table::EvalReport;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("data: {0}")]
    Data(String),
    #[error("{path}: cannot draw the chart: {message}")]
    Chart { path: PathBuf, message: String },
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Records(#[from] crate::dataset::RecordsError),
    #[error(transparent)]
    Score(#[from] crate::metrics::report::ScoreError),
    #[error(transparent)]
    Lexicon(#[from] crate::metrics::wordnet::LexiconError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl EvalError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
