//! Errors of the fixation detectors: impossible settings and timestamps that do not
//! increase. Bad gaze values (NaN, invalid, far off screen) are never errors: they are
//! gaps in the data.

/// What stops a detector.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FixationError {
    /// Timestamps must increase strictly. The online detectors reject the sample and
    /// keep their state, so a caller may skip it and go on.
    #[error(
        "sample {index} (0-based): time {time_us} µs is not after the previous sample's {previous_us} µs (timestamps must increase strictly)"
    )]
    TimeNotIncreasing {
        /// Position of the sample in the input (every sample pushed counts).
        index: u64,
        previous_us: i64,
        time_us: i64,
    },
    /// A setting that cannot work.
    #[error("fixation option `{field}`: {message}")]
    InvalidOption {
        field: &'static str,
        message: String,
    },
}
