//! The native "Open study" dialog (rfd), run on a worker thread so the UI keeps
//! drawing while it is open.

use std::path::PathBuf;

/// Asks for a `.ron` study file; `None` when the user cancels or no dialog could be
/// shown (rfd logs why: no desktop portal and no zenity, for instance).
pub fn pick_study_file(folder: Option<PathBuf>) -> Option<PathBuf> {
    let mut dialog = rfd::FileDialog::new()
        .set_title("Open study")
        .add_filter("Study file (RON)", &["ron"]);
    if let Some(folder) = folder {
        dialog = dialog.set_directory(folder);
    }
    dialog.pick_file()
}
