//! Shown while a worker reads and validates a study file.

use std::path::Path;

pub fn loading_ui(ui: &mut egui::Ui, path: &Path) {
    ui.add_space(24.0);
    ui.horizontal(|ui| {
        ui.add(egui::Spinner::new().size(20.0));
        ui.label(format!("Loading {}…", path.display()));
    });
}
