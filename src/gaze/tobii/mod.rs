//! Tobii Pro screen-based eye trackers through our own bindings to the Tobii Pro SDK
//! **2.x** C API, loaded at run time: scanscribe builds and runs where the SDK is
//! absent, and says so plainly when asked for a tracker.
//!
//! - [`discover`]: the trackers the SDK finds (an "SDK not installed" error, never a
//!   panic, when the library is missing).
//! - [`TobiiTracker`]: one tracker as a [`GazeSource`](crate::gaze::GazeSource) and a
//!   [`ScreenCalibration`](crate::gaze::ScreenCalibration).
//! - [`TobiiLibrary`]: the loaded library (`SCANSCRIBE_TOBII_LIB` or the standard
//!   locations; SDK 1.x is refused).
//!
//! This is the only module of the crate allowed `unsafe`; every block carries a
//! `// SAFETY:` comment. It must not depend on UI or ML code.
#![allow(unsafe_code)]

mod calibration;
mod device;
mod error;
pub mod ffi;
mod library;
pub mod status;
mod stream;
mod tracker;

pub use calibration::TobiiCalibrator;
pub use error::TobiiError;
pub use library::{Candidate, LIBRARY_ENV, LIBRARY_NAME, TobiiLibrary, candidates};
pub use stream::{StreamSink, convert_gaze_data};
pub use tracker::{TobiiTracker, TrackerOptions};

use crate::gaze::DeviceInfo;

/// The Tobii trackers reachable now, found through the SDK from `SCANSCRIBE_TOBII_LIB`
/// or the standard locations. `Err(TobiiError::SdkNotInstalled)` when there is no SDK;
/// an empty list when there is an SDK but no tracker.
pub fn discover() -> Result<Vec<DeviceInfo>, TobiiError> {
    TobiiLibrary::load()?.find_all()
}
