//! The experimenter's calibration screen: calibrate, validate, redo only the failing
//! points, and accept (the validation goes into the session metadata) or skip. The
//! targets appear on the subject's screen; this screen shows per-point results (the
//! mean gaze of each eye against its target) and accuracy and precision in degrees
//! against the study's thresholds.

use crate::study::LoadedStudy;
use crate::ui::command::{Command, CommandQueue};

use super::command::SessionCommand;
use super::protocol::{CalibrationKind, CalibrationOutcome, PointPlot, TargetPhase, ToSession};
use super::state::RunningSession;

const LEFT_EYE: egui::Color32 = egui::Color32::from_rgb(60, 130, 230);
const RIGHT_EYE: egui::Color32 = egui::Color32::from_rgb(230, 120, 40);

pub fn calibration_ui(
    ui: &mut egui::Ui,
    running: &RunningSession,
    study: &LoadedStudy,
    commands: &mut CommandQueue,
) {
    let send =
        |commands: &mut CommandQueue, m| commands.send(Command::Session(SessionCommand::Send(m)));
    let plan = &study.study.calibration;
    ui.heading("Calibration and validation");
    match &running.source {
        Some((info, rate_hz, CalibrationKind::Device)) => {
            ui.label(format!(
                "{} {} at {rate_hz:.0} Hz: the tracker's own calibration.",
                info.model, info.serial_number
            ));
        }
        Some((info, rate_hz, CalibrationKind::Software)) => {
            ui.label(format!("{} at {rate_hz:.0} Hz.", info.device_name));
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "Software calibration: no eye tracker, so it only measures how close the \
                 stand-in gaze comes to each target and changes nothing. Use it to train \
                 experimenters; with the mouse, point at each dot as it shrinks.",
            );
        }
        None => {
            ui.label("Opening the gaze source…");
        }
    }
    ui.add_space(8.0);
    let busy = running.calibration_busy.is_some();
    let failing = |outcome: &Option<CalibrationOutcome>| {
        outcome
            .as_ref()
            .map_or(0, |o| o.report.points_to_redo.len())
    };
    ui.horizontal_wrapped(|ui| {
        ui.add_enabled_ui(!busy, |ui| {
            if ui
                .button(format!("Calibrate ({} points)", plan.points))
                .clicked()
            {
                send(
                    commands,
                    ToSession::Calibrate {
                        redo_failing: false,
                    },
                );
            }
            let redo = failing(&running.calibration);
            if redo > 0
                && ui
                    .button(format!("Redo {redo} failing calibration point(s)"))
                    .clicked()
            {
                send(commands, ToSession::Calibrate { redo_failing: true });
            }
            if ui
                .button(format!(
                    "Validate ({} points)",
                    plan.validation_points.len()
                ))
                .clicked()
            {
                send(
                    commands,
                    ToSession::Validate {
                        redo_failing: false,
                    },
                );
            }
            let redo = failing(&running.validation);
            if redo > 0
                && ui
                    .button(format!("Redo {redo} failing validation point(s)"))
                    .clicked()
            {
                send(commands, ToSession::Validate { redo_failing: true });
            }
            let validated = running.validation.is_some();
            if ui
                .add_enabled(validated, egui::Button::new("Accept and start the trials"))
                .on_disabled_hover_text("Validate first")
                .clicked()
            {
                send(commands, ToSession::AcceptCalibration);
            }
            if ui
                .button("Skip calibration")
                .on_hover_text(
                    "Start the trials; the session records that no calibration was accepted",
                )
                .clicked()
            {
                send(commands, ToSession::SkipCalibration);
            }
        });
    });
    if let Some(phase) = running.calibration_busy {
        ui.horizontal(|ui| {
            ui.add(egui::Spinner::new());
            ui.label(match phase {
                TargetPhase::Calibration => "Calibrating: targets are on the subject's screen…",
                TargetPhase::Validation => "Validating: targets are on the subject's screen…",
            });
        });
    }
    ui.add_space(8.0);
    ui.columns(2, |columns| {
        outcome_ui(
            &mut columns[0],
            "Calibration",
            running.calibration.as_ref(),
            study,
        );
        outcome_ui(
            &mut columns[1],
            "Validation",
            running.validation.as_ref(),
            study,
        );
    });
}

fn outcome_ui(
    ui: &mut egui::Ui,
    title: &str,
    outcome: Option<&CalibrationOutcome>,
    study: &LoadedStudy,
) {
    ui.strong(title);
    let Some(outcome) = outcome else {
        ui.weak("Not run yet.");
        return;
    };
    let report = &outcome.report;
    let verdict = if report.passed() {
        format!("{title} passed")
    } else {
        format!("{title}: {} point(s) failed", report.points_to_redo.len())
    };
    let color = if report.passed() {
        egui::Color32::from_rgb(60, 170, 80)
    } else {
        ui.visuals().error_fg_color
    };
    ui.colored_label(color, verdict);
    plot_ui(ui, &outcome.points, study.study.screen.resolution_px);
    ui.horizontal(|ui| {
        ui.colored_label(LEFT_EYE, "left eye");
        ui.colored_label(RIGHT_EYE, "right eye");
        ui.weak("+ target");
    });
    let degrees = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.2}°"));
    ui.label(format!(
        "Accuracy {} (limit {:.2}°), precision RMS {} (limit {:.2}°)",
        degrees(report.mean_average.accuracy_deg),
        report.max_accuracy_deg,
        degrees(report.mean_average.precision_rms_deg),
        report.max_precision_rms_deg
    ));
    egui::Grid::new(format!("{title}_points"))
        .num_columns(5)
        .striped(true)
        .show(ui, |ui| {
            for header in ["Point", "Left", "Right", "Precision", "Result"] {
                ui.strong(header);
            }
            ui.end_row();
            for (i, point) in report.points.iter().enumerate() {
                ui.label(format!("{}", i + 1));
                ui.label(degrees(point.left.accuracy_deg));
                ui.label(degrees(point.right.accuracy_deg));
                ui.label(degrees(point.average.precision_rms_deg));
                if point.passed() {
                    ui.label("passed");
                } else {
                    let problems: Vec<String> =
                        point.problems.iter().map(ToString::to_string).collect();
                    ui.colored_label(ui.visuals().error_fg_color, "failed")
                        .on_hover_text(problems.join("; "));
                }
                ui.end_row();
            }
        });
    for problem in &outcome.problems {
        ui.colored_label(ui.visuals().warn_fg_color, problem);
    }
}

/// The display with each target and the mean gaze of each eye there.
fn plot_ui(ui: &mut egui::Ui, points: &[PointPlot], resolution_px: (u32, u32)) {
    let width = ui.available_width().min(420.0);
    let aspect = resolution_px.1.max(1) as f32 / resolution_px.0.max(1) as f32;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, width * aspect), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, egui::Color32::from_gray(40));
    let at = |p: [f32; 2]| {
        egui::pos2(
            rect.left() + p[0] * rect.width(),
            rect.top() + p[1] * rect.height(),
        )
    };
    for point in points {
        let target = at(point.target_display);
        let color = if point.passed {
            egui::Color32::from_gray(230)
        } else {
            egui::Color32::from_rgb(240, 70, 60)
        };
        let arm = 6.0;
        painter.hline(
            target.x - arm..=target.x + arm,
            target.y,
            egui::Stroke::new(1.5, color),
        );
        painter.vline(
            target.x,
            target.y - arm..=target.y + arm,
            egui::Stroke::new(1.5, color),
        );
        for (eye, eye_color) in [
            (point.left_display, LEFT_EYE),
            (point.right_display, RIGHT_EYE),
        ] {
            if let Some(eye) = eye {
                let p = at(eye);
                painter.line_segment([target, p], egui::Stroke::new(1.0, eye_color));
                painter.circle_filled(p, 3.0, eye_color);
            }
        }
    }
}
