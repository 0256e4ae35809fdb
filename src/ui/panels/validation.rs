//! The validation report: why a study file did not load, problem by problem (line,
//! field, what was expected, the offending line quoted), with Reload after fixing.

use crate::study::{Problem, StudyError};
use crate::ui::app_state::LoadFailure;
use crate::ui::command::{Command, CommandQueue};

pub fn validation_ui(ui: &mut egui::Ui, failure: &LoadFailure, commands: &mut CommandQueue) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.add_space(4.0);
        ui.heading(
            egui::RichText::new(headline(&failure.error)).color(ui.visuals().error_fg_color),
        );
        ui.monospace(failure.path.display().to_string());
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui
                .button("Reload")
                .on_hover_text("Read the file again after fixing it")
                .clicked()
            {
                commands.send(Command::ReloadStudy);
            }
            if ui.button("Open another study…").clicked() {
                commands.send(Command::PickStudyFile);
            }
        });
        ui.add_space(10.0);
        match &failure.error {
            StudyError::Io { source, .. } => {
                ui.label(format!("The file cannot be read: {source}."));
                ui.label("Check the path, or open another study.");
            }
            StudyError::Syntax {
                line,
                column,
                message,
                ..
            } => syntax_error_ui(ui, failure, *line, *column, message),
            StudyError::Invalid { problems, .. } => {
                for problem in problems {
                    problem_ui(ui, failure, problem);
                    ui.add_space(6.0);
                }
            }
        }
        ui.add_space(10.0);
        ui.horizontal_wrapped(|ui| {
            ui.weak("The same report on the command line:");
            ui.monospace(format!("scanscribe validate {}", failure.path.display()));
        });
    });
}

fn headline(error: &StudyError) -> String {
    match error {
        StudyError::Io { .. } => "The study file cannot be read".to_owned(),
        StudyError::Syntax { .. } => "The study file is not valid RON".to_owned(),
        StudyError::Invalid { problems, .. } if problems.len() == 1 => {
            "The study file has 1 problem".to_owned()
        }
        StudyError::Invalid { problems, .. } => {
            format!("The study file has {} problems", problems.len())
        }
    }
}

fn syntax_error_ui(
    ui: &mut egui::Ui,
    failure: &LoadFailure,
    line: usize,
    column: usize,
    message: &str,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.strong(format!("Line {line}, column {column}"));
        });
        ui.label(message);
        if let Some(text) = failure.quoted_lines.get(&line) {
            let gutter = format!("{line} │ ");
            let caret_indent = " ".repeat(gutter.chars().count() + column.saturating_sub(1));
            ui.monospace(format!("{gutter}{text}\n{caret_indent}^"));
        }
    });
}

fn problem_ui(ui: &mut egui::Ui, failure: &LoadFailure, problem: &Problem) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            match problem.line {
                Some(line) => ui.strong(format!("Line {line}")),
                None => ui.weak("Line unknown"),
            };
            ui.label(egui::RichText::new(&problem.field).monospace().strong());
        });
        ui.label(&problem.message);
        if let Some(text) = problem.line.and_then(|line| {
            failure
                .quoted_lines
                .get(&line)
                .map(|text| format!("{line} │ {}", text.trim()))
        }) {
            ui.weak(egui::RichText::new(text).monospace());
        }
    });
}
