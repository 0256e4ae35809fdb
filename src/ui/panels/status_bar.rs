//! The bar at the bottom: the latest notice about an action (e.g. no file chosen),
//! visible from every screen until dismissed.

use crate::ui::command::{Command, CommandQueue};

pub fn status_bar_ui(ui: &mut egui::Ui, notice: Option<&str>, commands: &mut CommandQueue) {
    let Some(notice) = notice else { return };
    egui::Panel::bottom("status_bar").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, notice);
            if ui.small_button("Dismiss").clicked() {
                commands.send(Command::DismissNotice);
            }
        });
    });
}
