//! Interoperability: exports of sessions to the formats researchers use (BIDS
//! eye-tracking, TSV/CSV, dataset records) and imports of public datasets.
//!
//! No UI and no ML here.

pub mod bids;
mod bids_events;
mod bids_files;
pub mod localized_narratives;
pub mod records;
pub mod stimulus;
pub mod tables;
pub mod trial_notes;
