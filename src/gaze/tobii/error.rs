//! The errors of the Tobii Pro SDK binding, and how they map onto [`GazeError`].
//!
//! Owns messages only: each names the library file or SDK function involved and what
//! was expected, so an experimenter can act on it without reading code.

use std::path::PathBuf;

use super::library::LIBRARY_ENV;
use super::status::StatusError;
use crate::gaze::GazeError;

#[derive(Debug, thiserror::Error)]
pub enum TobiiError {
    /// No SDK library could be found.
    #[error(
        "the Tobii Pro SDK is not installed: no {library_name} found (looked in: {}). \
         Install the Tobii Pro SDK 2.x C library or set {LIBRARY_ENV} to its path",
        looked_in.join("; ")
    )]
    SdkNotInstalled {
        library_name: &'static str,
        looked_in: Vec<String>,
    },
    /// A library file exists but the system loader refused it.
    #[error("could not load the Tobii Pro SDK library {path}: {reason}")]
    LoadFailed { path: PathBuf, reason: String },
    /// The library lacks an entry point every 2.x SDK exports.
    #[error("{path} is not a Tobii Pro SDK 2.x library: it does not export `{symbol}` ({reason})")]
    MissingSymbol {
        path: PathBuf,
        symbol: String,
        reason: String,
    },
    /// The library is an SDK of another major version.
    #[error(
        "{path} is Tobii Pro SDK {version}, but scanscribe needs SDK 2.x \
         (SDK 1.x lays gaze samples out differently: 136 bytes instead of 112). \
         Install the Tobii Pro SDK 2.x or point {LIBRARY_ENV} at it"
    )]
    UnsupportedSdkVersion { path: PathBuf, version: String },
    /// An SDK function returned a non-OK status.
    #[error("{function} failed: {status}")]
    Call {
        function: &'static str,
        #[source]
        status: StatusError,
    },
    /// An SDK function returned OK but an unusable value.
    #[error("{function} returned {what}")]
    InvalidResponse {
        function: &'static str,
        what: String,
    },
    /// A request the tracker cannot satisfy (checked before calling the SDK).
    #[error("{0}")]
    Unsupported(String),
}

impl TobiiError {
    pub(crate) fn call(function: &'static str) -> impl FnOnce(StatusError) -> Self {
        move |status| Self::Call { function, status }
    }
}

impl From<TobiiError> for GazeError {
    fn from(error: TobiiError) -> Self {
        let message = error.to_string();
        match error {
            TobiiError::SdkNotInstalled { .. }
            | TobiiError::LoadFailed { .. }
            | TobiiError::MissingSymbol { .. }
            | TobiiError::UnsupportedSdkVersion { .. } => GazeError::Unavailable(message),
            TobiiError::Call {
                status:
                    StatusError::SeConnectionFailed
                    | StatusError::SeNotAvailable
                    | StatusError::SeFirmwareNoResponse
                    | StatusError::SeTimedOut,
                ..
            } => GazeError::NotConnected(message),
            TobiiError::Call {
                status: StatusError::SeNotSupported | StatusError::SeInsufficientLicense,
                ..
            }
            | TobiiError::Unsupported(_) => GazeError::Unsupported(message),
            TobiiError::Call { .. } | TobiiError::InvalidResponse { .. } => {
                GazeError::Device(message)
            }
        }
    }
}
