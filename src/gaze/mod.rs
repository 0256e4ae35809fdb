//! Gaze: the sample type every source produces, the `GazeSource` trait and its
//! implementations, the shared clock, and the gaze CSV.
//!
//! No UI and no ML here.

pub mod clock;
pub mod csv;
pub mod queue;
pub mod sample;
pub mod source;
pub mod tobii;

pub use sample::{EyeSample, GazeSample};
pub use source::{
    Capabilities, DeviceInfo, GazeError, GazeSource, Notification, ScreenCalibration,
};
