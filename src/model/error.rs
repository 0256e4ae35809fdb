//! The one error type of the model module: every variant names the file (and the
//! tensor or field) it is about, so a user knows what to fix.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: missing ({what})")]
    MissingFile { path: PathBuf, what: String },
    #[error("{path}: not a valid safetensors file: {message}")]
    CorruptWeights { path: PathBuf, message: String },
    #[error(
        "{path}: tensor `{name}` holds a NaN or an infinity at element {index}; the weights are damaged"
    )]
    NonFiniteWeight {
        path: PathBuf,
        name: String,
        index: usize,
    },
    #[error("{path}: tensor `{name}` is missing")]
    MissingTensor { path: PathBuf, name: String },
    #[error(
        "{path}: tensor `{name}` has shape {found:?}, expected {expected:?} (does config.json match the weights?)"
    )]
    WrongShape {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{path}: tensor `{name}` has dtype {found}, expected a float tensor")]
    WrongDtype {
        path: PathBuf,
        name: String,
        found: String,
    },
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("tokenizer: {0}")]
    TokenizerTraining(String),
    #[error("{path}: image: {message}")]
    Image { path: PathBuf, message: String },
    #[error(
        "{path}: this profile was enrolled with model {profile_model}, but the model given is {model}; enroll the subject again with this model"
    )]
    ProfileMismatch {
        path: PathBuf,
        profile_model: String,
        model: String,
    },
    #[error("{path}: not a valid profile: {message}")]
    Profile { path: PathBuf, message: String },
    #[error("data: {0}")]
    Data(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

pub type Result<T> = std::result::Result<T, ModelError>;

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
