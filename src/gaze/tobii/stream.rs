//! The SDK's streams: the gaze callback, the notification and stream-error callbacks,
//! and the [`StreamSink`] they write into.
//!
//! The gaze callback runs on the SDK's thread up to 1200 times a second: it only
//! converts the C struct and copies it into the preallocated
//! [`SampleQueue`](crate::gaze::queue::SampleQueue) (no allocation, no I/O, no lock
//! beyond the push). A full queue counts the sample as dropped; the count comes out
//! as [`Notification::SamplesDropped`]. Notifications and stream errors are rare and
//! may allocate (their message text).
//!
//! Owns the callbacks and the sample conversion; subscribing is done by `tracker.rs`.

use std::collections::VecDeque;
use std::ffi::{CStr, c_char, c_void};
use std::sync::Mutex;

use super::error::TobiiError;
use super::ffi::{
    self, TobiiResearchEyeData, TobiiResearchGazeData, TobiiResearchNotification,
    TobiiResearchStreamErrorData, notification_type as kind,
};
use super::library::Api;
use super::status;
use crate::gaze::queue::SampleQueue;
use crate::gaze::{EyeSample, GazeSample, Notification};

/// Notifications kept until drained; past this the oldest are discarded (they are
/// rare, so this only bounds memory when nobody drains).
const NOTIFICATION_CAPACITY: usize = 1024;

/// One eye of a sample, as scanscribe stores it.
fn convert_eye(eye: &TobiiResearchEyeData) -> EyeSample {
    let point = eye.gaze_point.position_on_display_area;
    let origin = eye.gaze_origin.position_in_user_coordinates;
    EyeSample {
        gaze_point_display: [point.x, point.y],
        gaze_point_valid: eye.gaze_point.validity == ffi::VALIDITY_VALID,
        pupil_diameter_mm: eye.pupil_data.diameter_mm,
        pupil_valid: eye.pupil_data.validity == ffi::VALIDITY_VALID,
        gaze_origin_mm: [origin.x, origin.y, origin.z],
        gaze_origin_valid: eye.gaze_origin.validity == ffi::VALIDITY_VALID,
    }
}

/// A raw SDK sample as a [`GazeSample`]; `clock_offset_us` moves the SDK's system
/// time stamp onto [`crate::gaze::clock::system_time_us`] (0 on Linux).
pub fn convert_gaze_data(raw: &TobiiResearchGazeData, clock_offset_us: i64) -> GazeSample {
    GazeSample {
        system_time_us: raw.system_time_stamp + clock_offset_us,
        device_time_us: raw.device_time_stamp,
        left: convert_eye(&raw.left_eye),
        right: convert_eye(&raw.right_eye),
    }
}

/// Where the callbacks of one tracker deliver.
#[derive(Debug)]
pub struct StreamSink {
    samples: SampleQueue,
    notifications: Mutex<VecDeque<Notification>>,
    clock_offset_us: i64,
}

impl StreamSink {
    /// A sink whose sample queue holds `queue_capacity` samples, allocated now.
    pub fn new(queue_capacity: usize, clock_offset_us: i64) -> Self {
        Self {
            samples: SampleQueue::with_capacity(queue_capacity),
            notifications: Mutex::new(VecDeque::with_capacity(16)),
            clock_offset_us,
        }
    }

    /// What the gaze callback does: convert and push; `false` when the queue was full
    /// and the sample was counted as dropped.
    #[inline]
    pub fn on_gaze_data(&self, raw: &TobiiResearchGazeData) -> bool {
        self.samples
            .push(convert_gaze_data(raw, self.clock_offset_us))
    }

    pub fn samples(&self) -> &SampleQueue {
        &self.samples
    }

    /// Moves the queued samples to `out`; returns how many.
    pub fn drain_samples(&self, out: &mut Vec<GazeSample>) -> usize {
        self.samples.drain_into(out)
    }

    /// Moves pending notifications to `out`, a `SamplesDropped` first when samples
    /// were lost since the last call.
    pub fn drain_notifications(&self, out: &mut Vec<Notification>) {
        let dropped = self.samples.take_dropped();
        if dropped > 0 {
            out.push(Notification::SamplesDropped {
                at_us: crate::gaze::clock::system_time_us(),
                count: dropped,
            });
        }
        let mut pending = self
            .notifications
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        out.extend(pending.drain(..));
    }

    fn push_notification(&self, notification: Notification) {
        let mut pending = self
            .notifications
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if pending.len() >= NOTIFICATION_CAPACITY {
            pending.pop_front();
        }
        pending.push_back(notification);
    }

    /// Maps an SDK notification; types scanscribe does not act on are only logged.
    pub fn on_notification(&self, raw: &TobiiResearchNotification) {
        let at_us = raw.system_time_stamp + self.clock_offset_us;
        let notification = match raw.notification_type {
            kind::CONNECTION_LOST => Notification::ConnectionLost { at_us },
            kind::CONNECTION_RESTORED => Notification::ConnectionRestored { at_us },
            kind::CALIBRATION_MODE_ENTERED => Notification::CalibrationModeEntered { at_us },
            kind::CALIBRATION_MODE_LEFT => Notification::CalibrationModeLeft { at_us },
            kind::DISPLAY_AREA_CHANGED => Notification::DisplayAreaChanged { at_us },
            kind::GAZE_OUTPUT_FREQUENCY_CHANGED => Notification::GazeOutputFrequencyChanged {
                at_us,
                // SAFETY: the SDK sets `output_frequency` for this notification type.
                frequency_hz: unsafe { raw.value.output_frequency },
            },
            kind::DEVICE_FAULTS | kind::DEVICE_WARNINGS | kind::STREAM_BUFFER_OVERFLOW => {
                let what = match raw.notification_type {
                    kind::DEVICE_FAULTS => "the tracker reports faults",
                    kind::DEVICE_WARNINGS => "the tracker reports warnings",
                    _ => "the SDK's stream buffer overflowed (a callback was too slow)",
                };
                // SAFETY: the SDK sets the `text` member for these three types.
                let text = unsafe { &raw.value.text };
                Notification::StreamError {
                    at_us,
                    message: format!("{what}: {}", text_from_array(text)),
                }
            }
            other => {
                tracing::debug!(notification_type = other, "Tobii notification not mapped");
                return;
            }
        };
        self.push_notification(notification);
    }

    /// Maps an SDK stream error to [`Notification::StreamError`].
    pub fn on_stream_error(&self, raw: &TobiiResearchStreamErrorData, message: &str) {
        self.push_notification(Notification::StreamError {
            at_us: raw.system_time_stamp + self.clock_offset_us,
            message: format!(
                "{} in {}: {message}",
                stream_error_name(raw.error),
                stream_error_source_name(raw.source)
            ),
        });
    }
}

/// The text of a `TobiiResearchNotificationString`, up to its NUL.
fn text_from_array(text: &[c_char; ffi::NOTIFICATION_TEXT_LEN]) -> String {
    let bytes: Vec<u8> = text
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c.to_ne_bytes()[0])
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn stream_error_name(error: i32) -> &'static str {
    use ffi::stream_error::*;
    match error {
        CONNECTION_LOST => "connection lost",
        INSUFFICIENT_LICENSE => "insufficient license",
        NOT_SUPPORTED => "stream not supported",
        TOO_MANY_SUBSCRIBERS => "too many subscribers",
        INTERNAL_ERROR => "internal error",
        USER_ERROR => "error in a callback",
        _ => "unknown stream error",
    }
}

fn stream_error_source_name(source: i32) -> &'static str {
    use ffi::stream_error_source::*;
    match source {
        USER => "a user callback",
        STREAM_PUMP => "the stream pump",
        SUBSCRIPTION_GAZE_DATA => "the gaze data subscription",
        SUBSCRIPTION_EXTERNAL_SIGNAL => "the external signal subscription",
        SUBSCRIPTION_TIME_SYNCHRONIZATION_DATA => "the time synchronization subscription",
        SUBSCRIPTION_EYE_IMAGE => "the eye image subscription",
        SUBSCRIPTION_NOTIFICATION => "the notification subscription",
        SUBSCRIPTION_USER_POSITION_GUIDE => "the user position guide subscription",
        _ => "an unknown source",
    }
}

/// `tobii_research_gaze_data_callback`; `user_data` is a `*const StreamSink`.
pub(crate) unsafe extern "C" fn gaze_callback(data: *mut TobiiResearchGazeData, user: *mut c_void) {
    // SAFETY: `user` is the sink registered with this callback, kept alive by its
    // tracker until after unsubscribing; `data` is valid for this call (SDK contract).
    if let (Some(sink), Some(data)) = unsafe { (user.cast::<StreamSink>().as_ref(), data.as_ref()) }
    {
        sink.on_gaze_data(data);
    }
}

/// `tobii_research_notification_callback`; `user_data` is a `*const StreamSink`.
pub(crate) unsafe extern "C" fn notification_callback(
    data: *mut TobiiResearchNotification,
    user: *mut c_void,
) {
    // SAFETY: as in `gaze_callback`.
    if let (Some(sink), Some(data)) = unsafe { (user.cast::<StreamSink>().as_ref(), data.as_ref()) }
    {
        sink.on_notification(data);
    }
}

/// `tobii_research_stream_error_callback`; `user_data` is a `*const StreamSink`.
pub(crate) unsafe extern "C" fn stream_error_callback(
    data: *mut TobiiResearchStreamErrorData,
    user: *mut c_void,
) {
    // SAFETY: as in `gaze_callback`.
    let Some((sink, data)) = (unsafe { user.cast::<StreamSink>().as_ref().zip(data.as_ref()) })
    else {
        return;
    };
    let message = if data.message.is_null() {
        String::new()
    } else {
        // SAFETY: a non-null message is a NUL-terminated string valid for this call.
        unsafe { CStr::from_ptr(data.message) }
            .to_string_lossy()
            .into_owned()
    };
    sink.on_stream_error(data, &message);
}

/// Which of a tracker's streams a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Gaze,
    Notifications,
    Errors,
}

/// Subscribes `sink` to one stream of `tracker`.
///
/// The caller must keep `sink` alive (and at the same address) until
/// [`unsubscribe`] for the same stream returned.
pub(crate) fn subscribe(
    api: &Api,
    tracker: super::device::TrackerHandle,
    stream: Stream,
    sink: *const StreamSink,
) -> Result<(), TobiiError> {
    let user = sink.cast_mut().cast::<c_void>();
    let t = tracker.ptr();
    // SAFETY: each callback matches its typedef in tobii_research_streams.h, and
    // `user` outlives the subscription (caller's contract above).
    let (code, function) = unsafe {
        match stream {
            Stream::Gaze => (
                (api.subscribe_to_gaze_data)(t, gaze_callback, user),
                "tobii_research_subscribe_to_gaze_data",
            ),
            Stream::Notifications => (
                (api.subscribe_to_notifications)(t, notification_callback, user),
                "tobii_research_subscribe_to_notifications",
            ),
            Stream::Errors => (
                (api.subscribe_to_stream_errors)(t, stream_error_callback, user),
                "tobii_research_subscribe_to_stream_errors",
            ),
        }
    };
    status::check(code).map_err(TobiiError::call(function))
}

/// Ends one subscription; after it returns the SDK no longer calls back for it.
pub(crate) fn unsubscribe(
    api: &Api,
    tracker: super::device::TrackerHandle,
    stream: Stream,
) -> Result<(), TobiiError> {
    let t = tracker.ptr();
    // SAFETY: the callbacks are the ones registered in `subscribe`.
    let (code, function) = unsafe {
        match stream {
            Stream::Gaze => (
                (api.unsubscribe_from_gaze_data)(t, gaze_callback),
                "tobii_research_unsubscribe_from_gaze_data",
            ),
            Stream::Notifications => (
                (api.unsubscribe_from_notifications)(t, notification_callback),
                "tobii_research_unsubscribe_from_notifications",
            ),
            Stream::Errors => (
                (api.unsubscribe_from_stream_errors)(t, stream_error_callback),
                "tobii_research_unsubscribe_from_stream_errors",
            ),
        }
    };
    status::check(code).map_err(TobiiError::call(function))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gaze::tobii::ffi::{TobiiResearchNotificationValue, notification_type};

    fn raw_sample(t_us: i64) -> TobiiResearchGazeData {
        let mut raw = TobiiResearchGazeData::default();
        raw.left_eye.gaze_point.position_on_display_area.x = 0.25;
        raw.left_eye.gaze_point.position_on_display_area.y = 0.75;
        raw.left_eye.gaze_point.validity = ffi::VALIDITY_VALID;
        raw.left_eye.pupil_data.diameter_mm = 3.5;
        raw.left_eye.pupil_data.validity = ffi::VALIDITY_VALID;
        raw.right_eye.gaze_point.validity = ffi::VALIDITY_INVALID;
        raw.right_eye.gaze_origin.position_in_user_coordinates.z = 600.0;
        raw.right_eye.gaze_origin.validity = ffi::VALIDITY_VALID;
        raw.device_time_stamp = 7;
        raw.system_time_stamp = t_us;
        raw
    }

    #[test]
    fn a_sample_keeps_its_eyes_validity_and_clock() {
        let sample = convert_gaze_data(&raw_sample(1_000), 5);
        assert_eq!(sample.system_time_us, 1_005);
        assert_eq!(sample.device_time_us, 7);
        assert_eq!(sample.left.point(), Some([0.25, 0.75]));
        assert!(sample.left.pupil_valid && sample.left.pupil_diameter_mm == 3.5);
        assert_eq!(sample.right.point(), None);
        assert!(sample.right.gaze_origin_valid && sample.right.gaze_origin_mm[2] == 600.0);
        assert_eq!(sample.average_point(), Some([0.25, 0.75]));
    }

    #[test]
    fn a_full_sink_reports_the_drops_once() {
        let sink = StreamSink::new(2, 0);
        for t in 0..5 {
            sink.on_gaze_data(&raw_sample(t));
        }
        let mut notes = Vec::new();
        sink.drain_notifications(&mut notes);
        assert!(matches!(
            notes[..],
            [Notification::SamplesDropped { count: 3, .. }]
        ));
        notes.clear();
        sink.drain_notifications(&mut notes);
        assert!(notes.is_empty());
    }

    #[test]
    fn notifications_map_to_scanscribe_ones() {
        let sink = StreamSink::new(2, 0);
        let mut text = [0 as c_char; ffi::NOTIFICATION_TEXT_LEN];
        for (i, b) in b"fan".iter().enumerate() {
            text[i] = *b as c_char;
        }
        let raw = |notification_type, value| TobiiResearchNotification {
            system_time_stamp: 10,
            notification_type,
            value,
        };
        let freq = TobiiResearchNotificationValue {
            output_frequency: 600.0,
        };
        let texted = TobiiResearchNotificationValue { text };
        sink.on_notification(&raw(notification_type::CONNECTION_LOST, freq));
        sink.on_notification(&raw(notification_type::GAZE_OUTPUT_FREQUENCY_CHANGED, freq));
        sink.on_notification(&raw(notification_type::DEVICE_FAULTS, texted));
        sink.on_notification(&raw(notification_type::CALIBRATION_CHANGED, freq));
        let mut notes = Vec::new();
        sink.drain_notifications(&mut notes);
        assert_eq!(
            notes.len(),
            3,
            "calibration-changed is not surfaced: {notes:?}"
        );
        assert_eq!(notes[0], Notification::ConnectionLost { at_us: 10 });
        assert_eq!(
            notes[1],
            Notification::GazeOutputFrequencyChanged {
                at_us: 10,
                frequency_hz: 600.0
            }
        );
        assert!(
            matches!(&notes[2], Notification::StreamError { message, .. } if message.ends_with("faults: fan"))
        );
    }
}
