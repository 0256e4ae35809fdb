//! Safe calls about one eye tracker: discovery, connecting by address, device info,
//! capabilities and gaze output frequencies. Every string, list and array the SDK
//! allocates is copied and handed back to the SDK's own free function here.
//!
//! Owns these one-shot calls only; streams are in `stream.rs`, calibration in
//! `calibration.rs`.

use std::ffi::{CStr, CString, c_char};
use std::ptr::NonNull;

use super::error::TobiiError;
use super::ffi::{self, EyeTrackerPtr, RawStatus, TobiiResearchEyeTracker};
use super::library::{Api, TobiiLibrary};
use super::status;
use crate::gaze::DeviceInfo;

/// A tracker object owned by the SDK (it is never freed by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackerHandle(NonNull<TobiiResearchEyeTracker>);

// SAFETY: the handle is an opaque token the SDK accepts from any thread (it already
// calls us back on threads of its own while we call it from ours); we never
// dereference it.
unsafe impl Send for TrackerHandle {}
// SAFETY: as above; shared use only passes the token to SDK functions.
unsafe impl Sync for TrackerHandle {}

impl TrackerHandle {
    pub(crate) fn ptr(self) -> EyeTrackerPtr {
        self.0.as_ptr()
    }
}

type StringGetter = unsafe extern "C" fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;

/// Calls one of the `tobii_research_get_<string>` functions and frees its result.
fn get_string(
    api: &Api,
    tracker: TrackerHandle,
    getter: StringGetter,
    function: &'static str,
) -> Result<String, TobiiError> {
    let mut raw: *mut c_char = std::ptr::null_mut();
    // SAFETY: `tracker` came from the SDK; `raw` is a live out-pointer.
    let code = unsafe { getter(tracker.ptr(), &mut raw) };
    status::check(code).map_err(TobiiError::call(function))?;
    if raw.is_null() {
        return Err(TobiiError::InvalidResponse {
            function,
            what: "OK with no string".to_string(),
        });
    }
    // SAFETY: on OK the SDK returns a NUL-terminated string it allocated; it is
    // copied before being freed, once, with the SDK's free function.
    let text = unsafe { CStr::from_ptr(raw) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: `raw` came from the SDK's allocator and is not used afterwards.
    unsafe { (api.free_string)(raw) };
    Ok(text)
}

pub(crate) fn device_info(api: &Api, tracker: TrackerHandle) -> Result<DeviceInfo, TobiiError> {
    Ok(DeviceInfo {
        address: get_string(api, tracker, api.get_address, "tobii_research_get_address")?,
        serial_number: get_string(
            api,
            tracker,
            api.get_serial_number,
            "tobii_research_get_serial_number",
        )?,
        model: get_string(api, tracker, api.get_model, "tobii_research_get_model")?,
        device_name: get_string(
            api,
            tracker,
            api.get_device_name,
            "tobii_research_get_device_name",
        )?,
        firmware_version: get_string(
            api,
            tracker,
            api.get_firmware_version,
            "tobii_research_get_firmware_version",
        )?,
    })
}

/// `tobii_research_get_eyetracker`: the tracker at `address` (`tobii-prp://...`).
pub(crate) fn connect(api: &Api, address: &str) -> Result<TrackerHandle, TobiiError> {
    let function = "tobii_research_get_eyetracker";
    let c_address = CString::new(address).map_err(|_| {
        TobiiError::Unsupported(format!("tracker address {address:?} contains a NUL byte"))
    })?;
    let mut raw: EyeTrackerPtr = std::ptr::null_mut();
    // SAFETY: a NUL-terminated address and a live out-pointer.
    let code = unsafe { (api.get_eyetracker)(c_address.as_ptr(), &mut raw) };
    status::check(code).map_err(TobiiError::call(function))?;
    NonNull::new(raw)
        .map(TrackerHandle)
        .ok_or_else(|| TobiiError::InvalidResponse {
            function,
            what: format!("no tracker for {address}"),
        })
}

/// `tobii_research_find_all_eyetrackers`, with each tracker's info; the list is
/// freed before returning.
pub(crate) fn find_all(api: &Api) -> Result<Vec<DeviceInfo>, TobiiError> {
    let mut list: *mut ffi::TobiiResearchEyeTrackers = std::ptr::null_mut();
    // SAFETY: a live out-pointer; the SDK allocates the list.
    let code = unsafe { (api.find_all_eyetrackers)(&mut list) };
    status::check(code).map_err(TobiiError::call("tobii_research_find_all_eyetrackers"))?;
    if list.is_null() {
        return Ok(Vec::new());
    }
    let trackers: Vec<TrackerHandle> = {
        // SAFETY: on OK `list` points to the SDK's list, alive until freed below.
        let list_ref = unsafe { &*list };
        if list_ref.eyetrackers.is_null() || list_ref.count == 0 {
            Vec::new()
        } else {
            // SAFETY: the SDK promises `count` tracker pointers at `eyetrackers`.
            unsafe { std::slice::from_raw_parts(list_ref.eyetrackers, list_ref.count) }
                .iter()
                .filter_map(|&ptr| NonNull::new(ptr).map(TrackerHandle))
                .collect()
        }
    };
    let infos = trackers
        .into_iter()
        .map(|tracker| device_info(api, tracker))
        .collect();
    // SAFETY: frees the list the SDK gave us, once; its tracker pointers are no
    // longer used (each was read above).
    unsafe { (api.free_eyetrackers)(list) };
    infos
}

/// The device's `TobiiResearchCapabilities` bits.
pub(crate) fn capabilities(api: &Api, tracker: TrackerHandle) -> Result<u32, TobiiError> {
    let mut bits = 0_u32;
    // SAFETY: the SDK writes one 4-byte enum value through the live out-pointer.
    let code = unsafe { (api.get_capabilities)(tracker.ptr(), &mut bits) };
    status::check(code).map_err(TobiiError::call("tobii_research_get_capabilities"))?;
    Ok(bits)
}

/// Every gaze output frequency the tracker offers, Hz.
pub(crate) fn all_frequencies_hz(
    api: &Api,
    tracker: TrackerHandle,
) -> Result<Vec<f32>, TobiiError> {
    let mut raw: *mut ffi::TobiiResearchGazeOutputFrequencies = std::ptr::null_mut();
    // SAFETY: a live out-pointer; the SDK allocates the array.
    let code = unsafe { (api.get_all_gaze_output_frequencies)(tracker.ptr(), &mut raw) };
    status::check(code).map_err(TobiiError::call(
        "tobii_research_get_all_gaze_output_frequencies",
    ))?;
    if raw.is_null() {
        return Ok(Vec::new());
    }
    let frequencies = {
        // SAFETY: on OK `raw` points to the SDK's struct, alive until freed below.
        let list = unsafe { &*raw };
        if list.frequencies.is_null() {
            Vec::new()
        } else {
            // SAFETY: the SDK promises `frequency_count` floats at `frequencies`.
            unsafe { std::slice::from_raw_parts(list.frequencies, list.frequency_count) }.to_vec()
        }
    };
    // SAFETY: frees the SDK's allocation once; nothing points into it any more.
    unsafe { (api.free_gaze_output_frequencies)(raw) };
    Ok(frequencies)
}

pub(crate) fn frequency_hz(api: &Api, tracker: TrackerHandle) -> Result<f32, TobiiError> {
    let mut hz = 0.0_f32;
    // SAFETY: a live out-pointer to one float.
    let code = unsafe { (api.get_gaze_output_frequency)(tracker.ptr(), &mut hz) };
    status::check(code).map_err(TobiiError::call("tobii_research_get_gaze_output_frequency"))?;
    Ok(hz)
}

pub(crate) fn set_frequency_hz(
    api: &Api,
    tracker: TrackerHandle,
    hz: f32,
) -> Result<(), TobiiError> {
    // SAFETY: plain values only.
    let code = unsafe { (api.set_gaze_output_frequency)(tracker.ptr(), hz) };
    status::check(code).map_err(TobiiError::call("tobii_research_set_gaze_output_frequency"))
}

impl TobiiLibrary {
    /// Every tracker the SDK finds (USB and network), with its info.
    pub fn find_all(&self) -> Result<Vec<DeviceInfo>, TobiiError> {
        find_all(self.api)
    }
}
