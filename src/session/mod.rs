//! Sessions: the crash-safe session folder a recording writes, its recovery after a
//! crash, and the dataset records exported from it.
//!
//! No UI and no ML here.

pub mod chunks;
