//! Finding and loading the Tobii Pro SDK C library at run time, so scanscribe builds
//! and runs where the SDK is absent.
//!
//! The library is looked for at the path in `SCANSCRIBE_TOBII_LIB` when that is set
//! (and only there), otherwise next to the executable, through the system loader's
//! search, then in the usual install folders. Its SDK version is checked first (only
//! 2.x is accepted), then every entry point we use is resolved once into [`Api`].
//!
//! A loaded library is never unloaded: the SDK runs threads of its own that must not
//! outlive its code. Each file is loaded at most once per process.
//!
//! Owns loading and symbol resolution only; calls are made by the other modules.

use std::ffi::{OsStr, c_char, c_float, c_void};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use libloading::Library;

use super::error::TobiiError;
use super::ffi::{
    EyeTrackerPtr, GazeDataCallback, NotificationCallback, RawStatus, StreamErrorCallback,
    TobiiResearchCalibrationResult, TobiiResearchEyeTrackers, TobiiResearchGazeOutputFrequencies,
    TobiiResearchSdkVersion,
};
use super::status;

/// The environment variable that names the SDK library file to load.
pub const LIBRARY_ENV: &str = "SCANSCRIBE_TOBII_LIB";

/// The SDK library's file name on this platform.
#[cfg(target_os = "macos")]
pub const LIBRARY_NAME: &str = "libtobii_research.dylib";
#[cfg(windows)]
pub const LIBRARY_NAME: &str = "tobii_research.dll";
#[cfg(not(any(target_os = "macos", windows)))]
pub const LIBRARY_NAME: &str = "libtobii_research.so";

/// Folders the SDK's installers and users commonly put the library in.
#[cfg(target_os = "macos")]
const INSTALL_DIRS: &[&str] = &["/usr/local/lib", "/opt/homebrew/lib", "/Library/Frameworks"];
#[cfg(windows)]
const INSTALL_DIRS: &[&str] = &[
    "C:\\Program Files\\Tobii\\Tobii Pro SDK\\lib",
    "C:\\Program Files\\Tobii Pro SDK\\lib",
];
#[cfg(not(any(target_os = "macos", windows)))]
const INSTALL_DIRS: &[&str] = &[
    "/usr/local/lib",
    "/usr/lib",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/opt/tobii_research/lib",
    "/opt/TobiiProSDK/lib",
];

/// One place to look for the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A file; skipped when it does not exist.
    File(PathBuf),
    /// A bare name handed to the system loader (`LD_LIBRARY_PATH`, `PATH`, ...).
    SystemSearch(&'static str),
}

impl Candidate {
    fn describe(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::SystemSearch(name) => format!("the system loader's search path for {name}"),
        }
    }
}

/// Where to look, in order: only the override when one is given, else next to the
/// executable, the system loader's search, the install folders.
pub fn candidates(env_override: Option<&OsStr>, exe_dir: Option<&Path>) -> Vec<Candidate> {
    if let Some(path) = env_override.filter(|p| !p.is_empty()) {
        return vec![Candidate::File(PathBuf::from(path))];
    }
    let mut out = Vec::new();
    if let Some(dir) = exe_dir {
        out.push(Candidate::File(dir.join(LIBRARY_NAME)));
    }
    out.push(Candidate::SystemSearch(LIBRARY_NAME));
    out.extend(
        INSTALL_DIRS
            .iter()
            .map(|dir| Candidate::File(Path::new(dir).join(LIBRARY_NAME))),
    );
    out
}

macro_rules! sdk_api {
    ($($field:ident : fn($($arg:ty),*) $(-> $ret:ty)?;)*) => {
        /// Every SDK entry point scanscribe calls, resolved once. Field names are the
        /// C names without the `tobii_research_` prefix.
        pub struct Api {
            $(pub $field: unsafe extern "C" fn($($arg),*) $(-> $ret)?,)*
            pub path: PathBuf,
            pub version: TobiiResearchSdkVersion,
            _library: Library,
        }

        impl Api {
            fn resolve(
                library: Library,
                path: PathBuf,
                version: TobiiResearchSdkVersion,
            ) -> Result<Self, TobiiError> {
                $(
                    let name = concat!("tobii_research_", stringify!($field));
                    // SAFETY: the type is the function's prototype in the 2.x headers
                    // (see ffi.rs); the pointer stays valid because `library` is kept
                    // in the returned `Api`, which is never dropped (see `load_from`).
                    let $field = unsafe {
                        library.get::<unsafe extern "C" fn($($arg),*) $(-> $ret)?>(name)
                    }
                    .map(|symbol| *symbol)
                    .map_err(|error| TobiiError::MissingSymbol {
                        path: path.clone(),
                        symbol: name.to_string(),
                        reason: error.to_string(),
                    })?;
                )*
                Ok(Self { $($field,)* path, version, _library: library })
            }
        }
    };
}

sdk_api! {
    find_all_eyetrackers: fn(*mut *mut TobiiResearchEyeTrackers) -> RawStatus;
    free_eyetrackers: fn(*mut TobiiResearchEyeTrackers);
    get_eyetracker: fn(*const c_char, *mut EyeTrackerPtr) -> RawStatus;
    get_system_time_stamp: fn(*mut i64) -> RawStatus;
    free_string: fn(*mut c_char);
    get_address: fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;
    get_serial_number: fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;
    get_device_name: fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;
    get_model: fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;
    get_firmware_version: fn(EyeTrackerPtr, *mut *mut c_char) -> RawStatus;
    get_capabilities: fn(EyeTrackerPtr, *mut u32) -> RawStatus;
    get_all_gaze_output_frequencies:
        fn(EyeTrackerPtr, *mut *mut TobiiResearchGazeOutputFrequencies) -> RawStatus;
    free_gaze_output_frequencies: fn(*mut TobiiResearchGazeOutputFrequencies);
    get_gaze_output_frequency: fn(EyeTrackerPtr, *mut c_float) -> RawStatus;
    set_gaze_output_frequency: fn(EyeTrackerPtr, c_float) -> RawStatus;
    subscribe_to_gaze_data: fn(EyeTrackerPtr, GazeDataCallback, *mut c_void) -> RawStatus;
    unsubscribe_from_gaze_data: fn(EyeTrackerPtr, GazeDataCallback) -> RawStatus;
    subscribe_to_stream_errors: fn(EyeTrackerPtr, StreamErrorCallback, *mut c_void) -> RawStatus;
    unsubscribe_from_stream_errors: fn(EyeTrackerPtr, StreamErrorCallback) -> RawStatus;
    subscribe_to_notifications:
        fn(EyeTrackerPtr, NotificationCallback, *mut c_void) -> RawStatus;
    unsubscribe_from_notifications: fn(EyeTrackerPtr, NotificationCallback) -> RawStatus;
    screen_based_calibration_enter_calibration_mode: fn(EyeTrackerPtr) -> RawStatus;
    screen_based_calibration_leave_calibration_mode: fn(EyeTrackerPtr) -> RawStatus;
    screen_based_calibration_collect_data: fn(EyeTrackerPtr, c_float, c_float) -> RawStatus;
    screen_based_calibration_discard_data: fn(EyeTrackerPtr, c_float, c_float) -> RawStatus;
    screen_based_calibration_compute_and_apply:
        fn(EyeTrackerPtr, *mut *mut TobiiResearchCalibrationResult) -> RawStatus;
    free_screen_based_calibration_result: fn(*mut TobiiResearchCalibrationResult);
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("path", &self.path)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A loaded, version-checked SDK library. Cheap to copy; lives for the process.
#[derive(Clone, Copy)]
pub struct TobiiLibrary {
    pub(crate) api: &'static Api,
}

impl std::fmt::Debug for TobiiLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TobiiLibrary")
            .field("path", &self.api.path)
            .field("version", &self.version_string())
            .finish()
    }
}

/// Libraries loaded so far, by the name or path they were loaded from.
static LOADED: Mutex<Vec<(PathBuf, &'static Api)>> = Mutex::new(Vec::new());

impl TobiiLibrary {
    /// Loads the SDK from `SCANSCRIBE_TOBII_LIB` or the standard locations.
    pub fn load() -> Result<Self, TobiiError> {
        let env_override = std::env::var_os(LIBRARY_ENV);
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf));
        let mut looked_in = Vec::new();
        for candidate in candidates(env_override.as_deref(), exe_dir.as_deref()) {
            let described = candidate.describe();
            match candidate {
                Candidate::File(path) if path.is_file() => return Self::load_from(&path),
                Candidate::File(_) => {}
                Candidate::SystemSearch(name) => match Self::load_from(Path::new(name)) {
                    Err(TobiiError::LoadFailed { .. }) => {}
                    other => return other,
                },
            }
            looked_in.push(if env_override.is_some() {
                format!("{described} (from {LIBRARY_ENV})")
            } else {
                described
            });
        }
        Err(TobiiError::SdkNotInstalled {
            library_name: LIBRARY_NAME,
            looked_in,
        })
    }

    /// Loads the SDK library at `path` (a bare file name goes through the system
    /// loader's search). Refuses anything but SDK 2.x.
    pub fn load_from(path: &Path) -> Result<Self, TobiiError> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut loaded = LOADED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, api)) = loaded.iter().find(|(p, _)| *p == key) {
            return Ok(Self { api });
        }
        // SAFETY: loading runs the library's initializers; this is the file the user
        // pointed at (or the SDK's standard name), which is the code we mean to run.
        let library = unsafe { Library::new(path) }.map_err(|error| TobiiError::LoadFailed {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        let version = read_version(&library, path)?;
        if version.major != 2 {
            return Err(TobiiError::UnsupportedSdkVersion {
                path: path.to_path_buf(),
                version: format_version(&version),
            });
        }
        let api: &'static Api = Box::leak(Box::new(Api::resolve(
            library,
            path.to_path_buf(),
            version,
        )?));
        tracing::info!(path = %path.display(), version = %format_version(&version), "loaded the Tobii Pro SDK");
        loaded.push((key, api));
        Ok(Self { api })
    }

    pub fn path(&self) -> &Path {
        &self.api.path
    }

    /// `major.minor.revision.build`.
    pub fn version_string(&self) -> String {
        format_version(&self.api.version)
    }

    /// `tobii_research_get_system_time_stamp`: microseconds on the clock the SDK
    /// stamps `system_time_stamp` with (`CLOCK_MONOTONIC` on Linux).
    pub fn system_time_stamp_us(&self) -> Result<i64, TobiiError> {
        let mut time_us = 0_i64;
        // SAFETY: the pointer is to a live local the function writes one i64 to.
        let raw = unsafe { (self.api.get_system_time_stamp)(&mut time_us) };
        status::check(raw).map_err(TobiiError::call("tobii_research_get_system_time_stamp"))?;
        Ok(time_us)
    }
}

fn read_version(library: &Library, path: &Path) -> Result<TobiiResearchSdkVersion, TobiiError> {
    let name = "tobii_research_get_sdk_version";
    // SAFETY: the prototype of `tobii_research_get_sdk_version` in tobii_research.h,
    // unchanged between SDK 1.x and 2.x; the symbol is used while `library` lives.
    let get_version = unsafe {
        library.get::<unsafe extern "C" fn(*mut TobiiResearchSdkVersion) -> RawStatus>(name)
    }
    .map_err(|error| TobiiError::MissingSymbol {
        path: path.to_path_buf(),
        symbol: name.to_string(),
        reason: error.to_string(),
    })?;
    let mut version = TobiiResearchSdkVersion::default();
    // SAFETY: the pointer is to a live local of the struct the function fills.
    let raw = unsafe { get_version(&mut version) };
    status::check(raw).map_err(TobiiError::call(name))?;
    Ok(version)
}

fn format_version(version: &TobiiResearchSdkVersion) -> String {
    format!(
        "{}.{}.{}.{}",
        version.major, version.minor, version.revision, version.build
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_is_the_only_place_looked() {
        let found = candidates(Some(OsStr::new("/x/libfake.so")), Some(Path::new("/app")));
        assert_eq!(found, vec![Candidate::File(PathBuf::from("/x/libfake.so"))]);
    }

    #[test]
    fn without_override_the_exe_dir_comes_first_then_the_system_search() {
        let found = candidates(None, Some(Path::new("/app")));
        assert_eq!(
            found[0],
            Candidate::File(Path::new("/app").join(LIBRARY_NAME))
        );
        assert_eq!(found[1], Candidate::SystemSearch(LIBRARY_NAME));
        assert!(found.len() > 2, "install folders follow");
        let empty_override = candidates(Some(OsStr::new("")), None);
        assert_eq!(empty_override[0], Candidate::SystemSearch(LIBRARY_NAME));
    }

    #[test]
    fn a_missing_file_is_a_load_failure_naming_it() {
        let error =
            TobiiLibrary::load_from(Path::new("/nonexistent/libtobii_research.so")).unwrap_err();
        assert!(matches!(error, TobiiError::LoadFailed { .. }));
        assert!(
            error
                .to_string()
                .contains("/nonexistent/libtobii_research.so")
        );
    }
}
