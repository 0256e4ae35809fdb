//! Gaze: the sample type every source produces, the `GazeSource` trait and its
//! implementations, the shared clock, and the gaze CSV.
//!
//! No UI and no ML here.

pub mod clock;
pub mod csv;
pub mod mouse;
pub mod quality;
pub mod queue;
pub mod sample;
pub mod simulated;
pub mod software_calibration;
pub mod source;
pub mod tobii;
mod worker;

pub use mouse::{MouseSource, PointerFeed};
pub use sample::{EyeSample, GazeSample};
pub use simulated::{ReplaySpeed, SimulatedSource};
pub use software_calibration::SoftwareCalibration;
pub use source::{
    Capabilities, DeviceInfo, GazeError, GazeSource, Notification, ScreenCalibration,
};
