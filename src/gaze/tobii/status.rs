//! `TobiiResearchStatus`: every code of the 2.x header mapped to a named error with
//! its meaning, and [`check`] to turn a raw return value into a `Result`.
//!
//! Owns the status table only; the calls that return these codes live elsewhere.

use super::ffi::RawStatus;

macro_rules! statuses {
    ($($code:literal => $variant:ident, $c_name:literal, $meaning:literal;)*) => {
        /// A non-OK `TobiiResearchStatus`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
        pub enum StatusError {
            $(
                #[error("{} ({}, status {})", $meaning, $c_name, $code)]
                $variant,
            )*
            /// A code the 2.x header does not define.
            #[error("status {0}, which the Tobii Pro SDK 2.x headers do not define")]
            Unrecognized(i32),
        }

        impl StatusError {
            /// The error for a raw status; `None` for `TOBII_RESEARCH_STATUS_OK` (0).
            pub fn from_code(code: RawStatus) -> Option<Self> {
                match code {
                    0 => None,
                    $($code => Some(Self::$variant),)*
                    other => Some(Self::Unrecognized(other)),
                }
            }

            /// The raw code.
            pub fn code(self) -> RawStatus {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Unrecognized(code) => code,
                }
            }

            /// The enumerator's name in the C header.
            pub fn c_name(self) -> &'static str {
                match self {
                    $(Self::$variant => $c_name,)*
                    Self::Unrecognized(_) => "unrecognized",
                }
            }

            /// Every defined code (for tests and docs).
            pub const ALL: &'static [StatusError] = &[$(Self::$variant,)*];
        }
    };
}

statuses! {
    1 => FatalError, "TOBII_RESEARCH_STATUS_FATAL_ERROR", "fatal error in the SDK";
    2 => InitializeFailed, "TOBII_RESEARCH_STATUS_INITIALIZE_FAILED", "the SDK failed to initialize";
    3 => TerminateFailed, "TOBII_RESEARCH_STATUS_TERMINATE_FAILED", "the SDK failed to terminate";
    4 => LocalBrowserCreateFailed, "TOBII_RESEARCH_STATUS_LOCALBROWSER_CREATE_FAILED", "could not create the browser for local (USB) devices";
    5 => LocalBrowserPollFailed, "TOBII_RESEARCH_STATUS_LOCALBROWSER_POLL_FAILED", "could not poll local (USB) devices";
    6 => ZeroconfBrowserCreateFailed, "TOBII_RESEARCH_STATUS_ZEROCONFBROWSER_CREATE_FAILED", "could not create the zero-configuration (network) browser";
    7 => ZeroconfBrowserPollFailed, "TOBII_RESEARCH_STATUS_ZEROCONFBROWSER_POLL_FAILED", "could not poll network devices";
    8 => FileBrowserCreateFailed, "TOBII_RESEARCH_STATUS_FILEBROWSER_CREATE_FAILED", "could not create the browser for devices listed in a file";
    9 => FileBrowserPollFailed, "TOBII_RESEARCH_STATUS_FILEBROWSER_POLL_FAILED", "could not poll devices listed in a file";
    10 => InvalidParameter, "TOBII_RESEARCH_STATUS_INVALID_PARAMETER", "an invalid parameter was given";
    11 => InvalidOperation, "TOBII_RESEARCH_STATUS_INVALID_OPERATION", "the operation is invalid now";
    12 => Uninitialized, "TOBII_RESEARCH_STATUS_UNINITIALIZED", "internal SDK core error (uninitialized)";
    13 => OutOfBounds, "TOBII_RESEARCH_STATUS_OUT_OF_BOUNDS", "a parameter is out of bounds";
    14 => DisplayAreaNotValid, "TOBII_RESEARCH_STATUS_DISPLAY_AREA_NOT_VALID", "the display area is not valid: configure the tracker in Tobii Pro Eye Tracker Manager";
    15 => BufferTooSmall, "TOBII_RESEARCH_STATUS_BUFFER_TOO_SMALL", "a buffer is too small";
    16 => NotInitialized, "TOBII_RESEARCH_STATUS_NOT_INITIALIZED", "the SDK has not been initialized";
    17 => AlreadyInitialized, "TOBII_RESEARCH_STATUS_ALREADY_INITIALIZED", "the SDK is already initialized";
    18 => SavedLicenseFailedToApply, "TOBII_RESEARCH_STATUS_SAVED_LICENSE_FAILED_TO_APPLY", "the license saved on the device failed to apply (probably expired)";
    200 => SeInternal, "TOBII_RESEARCH_STATUS_SE_INTERNAL", "internal stream engine error";
    201 => SeInsufficientLicense, "TOBII_RESEARCH_STATUS_SE_INSUFFICIENT_LICENSE", "the operation needs a higher license";
    202 => SeNotSupported, "TOBII_RESEARCH_STATUS_SE_NOT_SUPPORTED", "the operation is not supported by this device or now";
    203 => SeNotAvailable, "TOBII_RESEARCH_STATUS_SE_NOT_AVAILABLE", "the device is unavailable";
    204 => SeConnectionFailed, "TOBII_RESEARCH_STATUS_SE_CONNECTION_FAILED", "the connection to the device failed";
    205 => SeTimedOut, "TOBII_RESEARCH_STATUS_SE_TIMED_OUT", "the operation timed out";
    206 => SeAllocationFailed, "TOBII_RESEARCH_STATUS_SE_ALLOCATION_FAILED", "the stream engine could not allocate memory";
    207 => SeAlreadyInitialized, "TOBII_RESEARCH_STATUS_SE_ALREADY_INITIALIZED", "the stream engine is already initialized";
    208 => SeNotInitialized, "TOBII_RESEARCH_STATUS_SE_NOT_INITIALIZED", "the stream engine is not initialized";
    209 => SeInvalidParameter, "TOBII_RESEARCH_STATUS_SE_INVALID_PARAMETER", "the stream engine got an invalid parameter";
    210 => SeCalibrationAlreadyStarted, "TOBII_RESEARCH_STATUS_SE_CALIBRATION_ALREADY_STARTED", "calibration mode was already entered";
    211 => SeCalibrationNotStarted, "TOBII_RESEARCH_STATUS_SE_CALIBRATION_NOT_STARTED", "calibration mode has not been entered";
    212 => SeAlreadySubscribed, "TOBII_RESEARCH_STATUS_SE_ALREADY_SUBSCRIBED", "already subscribed to this stream";
    213 => SeNotSubscribed, "TOBII_RESEARCH_STATUS_SE_NOT_SUBSCRIBED", "not subscribed to this stream";
    214 => SeOperationFailed, "TOBII_RESEARCH_STATUS_SE_OPERATION_FAILED", "the operation failed";
    215 => SeConflictingApiInstances, "TOBII_RESEARCH_STATUS_SE_CONFLICTING_API_INSTANCES", "conflicting SDK instances";
    216 => SeCalibrationBusy, "TOBII_RESEARCH_STATUS_SE_CALIBRATION_BUSY", "the calibration is busy";
    217 => SeCallbackInProgress, "TOBII_RESEARCH_STATUS_SE_CALLBACK_IN_PROGRESS", "a callback is in progress";
    218 => SeTooManySubscribers, "TOBII_RESEARCH_STATUS_SE_TOO_MANY_SUBSCRIBERS", "too many subscribers to this stream";
    219 => SeBufferTooSmall, "TOBII_RESEARCH_STATUS_SE_BUFFER_TOO_SMALL", "a stream engine buffer is too small";
    220 => SeFirmwareNoResponse, "TOBII_RESEARCH_STATUS_SE_FIRMWARE_NO_RESPONSE", "the firmware does not respond";
    400 => FwUpgradeInternal, "TOBII_RESEARCH_STATUS_FWUPGRADE_INTERNAL", "internal firmware-upgrade error";
    401 => FwUpgradeNotSupported, "TOBII_RESEARCH_STATUS_FWUPGRADE_NOT_SUPPORTED", "firmware upgrade is not supported";
    402 => FwUpgradeUnknownFirmwareVersion, "TOBII_RESEARCH_STATUS_FWUPGRADE_UNKNOWN_FIRMWARE_VERSION", "unknown firmware version";
    403 => FwUpgradeConnectionFailed, "TOBII_RESEARCH_STATUS_FWUPGRADE_CONNECTION_FAILED", "firmware upgrade: connection failed";
    404 => FwUpgradeInvalidParameter, "TOBII_RESEARCH_STATUS_FWUPGRADE_INVALID_PARAMETER", "firmware upgrade: invalid parameter";
    405 => FwUpgradePackageDeviceMismatch, "TOBII_RESEARCH_STATUS_FWUPGRADE_PACKAGE_DEVICE_MISMATCH", "the firmware package is not meant for this device";
    406 => FwUpgradeParseResponse, "TOBII_RESEARCH_STATUS_FWUPGRADE_PARSE_RESPONSE", "firmware upgrade: could not parse the response";
    407 => FwUpgradeOperationFailed, "TOBII_RESEARCH_STATUS_FWUPGRADE_OPERATION_FAILED", "the firmware upgrade failed";
    408 => FwUpgradeAllocationFailed, "TOBII_RESEARCH_STATUS_FWUPGRADE_ALLOCATION_FAILED", "firmware upgrade: memory allocation failed";
    409 => FwUpgradeFirmwareNoResponse, "TOBII_RESEARCH_STATUS_FWUPGRADE_FIRMWARE_NO_RESPONSE", "the firmware did not respond during the upgrade";
    410 => FwUpgradeDowngradeNotSupported, "TOBII_RESEARCH_STATUS_FWUPGRADE_DOWNGRADE_NOT_SUPPORTED", "firmware downgrade is not supported";
    1000 => Unknown, "TOBII_RESEARCH_STATUS_UNKNOWN", "unknown fatal SDK error";
    1001 => Deprecated, "TOBII_RESEARCH_DEPRECATED", "the feature is deprecated and no longer returns a value";
}

/// `Ok(())` for `TOBII_RESEARCH_STATUS_OK`, the named error otherwise.
pub fn check(code: RawStatus) -> Result<(), StatusError> {
    match StatusError::from_code(code) {
        None => Ok(()),
        Some(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_names_its_enumerator() {
        assert_eq!(
            StatusError::ALL.len(),
            52,
            "18 + 21 + 11 + 2 codes in the 2.x header"
        );
        for &status in StatusError::ALL {
            assert_eq!(StatusError::from_code(status.code()), Some(status));
            let message = status.to_string();
            assert!(message.contains(status.c_name()), "{message}");
            assert!(message.contains(&status.code().to_string()), "{message}");
        }
        assert_eq!(check(0), Ok(()));
        assert_eq!(check(204), Err(StatusError::SeConnectionFailed));
        assert_eq!(check(14).map_err(|e| e.code()), Err(14));
    }

    #[test]
    fn an_undefined_code_is_reported_not_misread() {
        let error = check(19).unwrap_err();
        assert_eq!(error, StatusError::Unrecognized(19));
        assert!(error.to_string().contains("19"));
    }
}
