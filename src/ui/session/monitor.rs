//! The experimenter's live monitor while the trials run: the subject's screen in
//! miniature with the gaze cursor and the fixations as they form, data quality
//! (valid share, drops), trial progress, the microphone level, and the pause and stop
//! controls. Also the summary once the session has ended.

use crate::session::SessionStatus;
use crate::session::analysis::placement_of;
use crate::study::LoadedStudy;
use crate::ui::command::{Command, CommandQueue};

use super::bubble_view::{self, Bubbles};
use super::command::SessionCommand;
use super::handling::frame_time_us;
use super::live::LiveSnapshot;
use super::presentation::letterbox;
use super::protocol::{StopOrigin, SubjectScreen, ToSession};
use super::state::{PauseState, RunningSession, Stage};

const GAZE: egui::Color32 = egui::Color32::from_rgb(40, 220, 120);
const FIXATION: egui::Color32 = egui::Color32::from_rgb(250, 200, 40);

pub fn monitor_ui(
    ui: &mut egui::Ui,
    running: &RunningSession,
    study: &LoadedStudy,
    commands: &mut CommandQueue,
) {
    let live = running.live.snapshot();
    let total = running.trial_ids.len();
    ui.heading("Recording");
    if let Some(folder) = &running.folder {
        ui.horizontal(|ui| {
            ui.weak("Session folder");
            ui.monospace(folder.display().to_string());
        });
    }
    let trial_text = match running.current_trial {
        Some(index) => format!(
            "Trial {} of {total} ({})",
            index + 1,
            running.trial_ids.get(index).map_or("?", String::as_str)
        ),
        None => format!("{total} trials to run"),
    };
    ui.label(trial_text);
    ui.add(
        egui::ProgressBar::new(running.completed_trials as f32 / total.max(1) as f32)
            .text(format!(
                "{} of {total} trials done",
                running.completed_trials
            ))
            .desired_width(420.0),
    );
    ui.add_space(6.0);
    ui.horizontal_top(|ui| {
        stimulus_view_ui(ui, running, study, &live);
        ui.vertical(|ui| {
            controls_ui(ui, running, commands);
            ui.add_space(10.0);
            ui.strong("Subject's screen");
            ui.label(screen_text(&running.screen));
            ui.add_space(6.0);
            let clicks = study
                .study
                .attention
                .bubble_view()
                .map(|_| running.bubble_clicks.len());
            quality_ui(ui, &live, clicks);
            if let SubjectScreen::Dictating { level, .. } = &running.screen {
                ui.add_space(6.0);
                ui.strong("Microphone");
                super::setup::level_meter_ui(ui, level.rms_dbfs(), level.peak_dbfs());
            }
            for notice in &running.notices {
                ui.colored_label(ui.visuals().warn_fg_color, notice);
            }
        });
    });
}

fn screen_text(screen: &SubjectScreen) -> String {
    match screen {
        SubjectScreen::Blank => "(between steps)".to_owned(),
        SubjectScreen::CalibrationTarget { .. } => "calibration target".to_owned(),
        SubjectScreen::Instructions(_) => "instructions (waiting for space)".to_owned(),
        SubjectScreen::FixationCross { .. } => "fixation cross".to_owned(),
        SubjectScreen::Stimulus { .. } => "stimulus".to_owned(),
        SubjectScreen::Describe { .. } => "typing the description".to_owned(),
        SubjectScreen::Dictating { .. } => "dictating the description".to_owned(),
        SubjectScreen::Break { .. } => "break (waiting for space)".to_owned(),
        SubjectScreen::Paused => "paused".to_owned(),
        SubjectScreen::Questionnaire => "questionnaire".to_owned(),
    }
}

/// `clicks`: the BubbleView clicks of the trial, in a BubbleView study.
fn quality_ui(ui: &mut egui::Ui, live: &LiveSnapshot, clicks: Option<usize>) {
    ui.strong("Data quality (this trial)");
    egui::Grid::new("live_quality")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Valid gaze");
            ui.label(
                live.valid_percent()
                    .map_or_else(|| "—".to_owned(), |p| format!("{p:.0} %")),
            );
            ui.end_row();
            ui.label("Samples");
            ui.label(live.trial_samples.to_string());
            ui.end_row();
            ui.label("Dropped (session)");
            ui.label(live.dropped_samples.to_string());
            ui.end_row();
            match clicks {
                Some(clicks) => {
                    ui.label("Clicks");
                    ui.label(clicks.to_string());
                }
                None => {
                    ui.label("Fixations");
                    ui.label(live.fixations.len().to_string());
                }
            }
            ui.end_row();
        });
}

fn controls_ui(ui: &mut egui::Ui, running: &RunningSession, commands: &mut CommandQueue) {
    let send =
        |commands: &mut CommandQueue, m| commands.send(Command::Session(SessionCommand::Send(m)));
    match running.pause {
        PauseState::Requested => {
            ui.label("Pausing after this trial…");
        }
        PauseState::Confirming => {
            ui.label(PAUSE_ASKED);
        }
        _ if matches!(running.screen, SubjectScreen::Paused) => {
            if ui.button("Continue the session").clicked() {
                send(
                    commands,
                    ToSession::Resume {
                        at_us: frame_time_us(),
                    },
                );
            }
        }
        _ => {
            if ui.button("Pause after this trial").clicked() {
                send(
                    commands,
                    ToSession::Pause {
                        at_us: frame_time_us(),
                    },
                );
            }
        }
    }
    // Stopping asks first: a stray click must not end a study.
    let confirming_id = ui.scope_id().with("confirm-stop");
    let confirming = ui.data(|d| d.get_temp::<bool>(confirming_id).unwrap_or(false));
    if running.stop_requested {
        ui.label("Stopping after this step…");
    } else if confirming {
        ui.group(|ui| {
            ui.label(STOP_QUESTION);
            ui.horizontal(|ui| {
                if ui.button("Stop now").clicked() {
                    send(
                        commands,
                        ToSession::Stop {
                            by: StopOrigin::Experimenter,
                        },
                    );
                    ui.data_mut(|d| d.remove::<bool>(confirming_id));
                }
                if ui.button("Keep going").clicked() {
                    ui.data_mut(|d| d.remove::<bool>(confirming_id));
                }
            });
        });
    } else if ui
        .button("Stop the session…")
        .on_hover_text("Asks first. Completed trials are kept; the rest can be resumed later")
        .clicked()
    {
        ui.data_mut(|d| d.insert_temp(confirming_id, true));
    }
}

/// What the monitor says while the subject's screen asks whether to pause.
pub const PAUSE_ASKED: &str = "Escape on the subject's screen: asking whether to pause \
     (once the picture is gone)";

/// The question the monitor asks before it stops a session.
pub const STOP_QUESTION: &str = "Stop the session now? Completed trials are kept; a trial \
     not yet described is shown again when the session is resumed.";

/// The subject's screen in miniature with the gaze and the fixations.
fn stimulus_view_ui(
    ui: &mut egui::Ui,
    running: &RunningSession,
    study: &LoadedStudy,
    live: &LiveSnapshot,
) {
    let width = (ui.available_width() * 0.62).clamp(240.0, 720.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, width * 0.6), egui::Sense::hover());
    let display = letterbox(rect, study.study.screen.resolution_px);
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, egui::Color32::BLACK);
    painter.rect_filled(display, 0.0, egui::Color32::from_gray(96));
    let at = |p: [f32; 2]| {
        egui::pos2(
            display.left() + p[0] * display.width(),
            display.top() + p[1] * display.height(),
        )
    };
    if let SubjectScreen::Stimulus { study_index, .. } = running.screen
        && let Some(texture) = running.stimuli.get(study_index).and_then(Option::as_ref)
    {
        let size = study
            .image_sizes_px
            .get(study_index)
            .copied()
            .unwrap_or((1, 1));
        let rect_display = placement_of(&study.study.screen, size).rect_display;
        let [x0, y0, x1, y1] = rect_display;
        let image_rect = egui::Rect::from_min_max(at([x0, y0]), at([x1, y1]));
        let blurred = running
            .blurred_stimuli
            .get(study_index)
            .and_then(Option::as_ref);
        match (study.study.attention.bubble_view(), blurred) {
            // What the subject sees: the blur and the open bubbles.
            (Some(settings), Some(blurred)) => {
                let bubbles = Bubbles::new(study, settings, &running.bubble_clicks);
                bubble_view::paint(
                    &painter,
                    texture.id(),
                    blurred.id(),
                    image_rect,
                    rect_display,
                    &bubbles,
                );
            }
            _ => {
                painter.image(
                    texture.id(),
                    image_rect,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    egui::Color32::WHITE,
                );
            }
        }
    }
    // The attention samples as they come: fixations, or in BubbleView the clicks
    // (the pointer's own fixations would only clutter the view).
    let markers: Vec<([f32; 2], f32, bool)> = if study.study.attention.bubble_view().is_some() {
        running
            .bubble_clicks
            .iter()
            .map(|&click| (click, 7.0, true))
            .collect()
    } else {
        let radius = |f: &crate::fixation::Fixation| 4.0 + (f.duration_ms() as f32).sqrt() * 0.6;
        let settled = live
            .fixations
            .iter()
            .map(|f| (f.position_display, radius(f), true));
        let forming = live
            .provisional
            .iter()
            .map(|f| (f.position_display, radius(f), false));
        settled.chain(forming).collect()
    };
    let mut previous: Option<egui::Pos2> = None;
    for (number, &(position, radius, is_final)) in markers.iter().enumerate() {
        let centre = at(position);
        if let Some(from) = previous {
            painter.line_segment(
                [from, centre],
                egui::Stroke::new(1.0, FIXATION.gamma_multiply(0.7)),
            );
        }
        let fill = if is_final {
            FIXATION.gamma_multiply(0.45)
        } else {
            FIXATION.gamma_multiply(0.2)
        };
        painter.circle(centre, radius, fill, egui::Stroke::new(1.5, FIXATION));
        painter.text(
            centre,
            egui::Align2::CENTER_CENTER,
            (number + 1).to_string(),
            egui::FontId::proportional(11.0),
            egui::Color32::BLACK,
        );
        previous = Some(centre);
    }
    if let Some(gaze) = live.gaze_display {
        painter.circle_stroke(at(gaze), 7.0, egui::Stroke::new(2.0, GAZE));
    }
}

/// The summary once the session thread has ended.
pub fn finished_ui(ui: &mut egui::Ui, running: &RunningSession, commands: &mut CommandQueue) {
    let Stage::Finished(outcome) = &running.stage else {
        return;
    };
    ui.heading("Session ended");
    match outcome {
        Ok(meta) => {
            let done = meta
                .trials
                .iter()
                .filter(|t| t.state == crate::session::TrialState::Complete)
                .count();
            let status = match &meta.status {
                SessionStatus::Complete => "complete".to_owned(),
                SessionStatus::Stopped { reason } => {
                    format!("stopped ({reason}); it can be resumed")
                }
                other => format!("{other:?}"),
            };
            ui.label(format!("Status: {status}"));
            ui.label(format!("{done} of {} trials recorded", meta.trials.len()));
            ui.label(match &meta.calibration {
                Some(report) if report.passed() => "Calibration: accepted (passed)".to_owned(),
                Some(_) => "Calibration: accepted (with failing points)".to_owned(),
                None => "Calibration: none".to_owned(),
            });
        }
        Err(why) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The session could not run: {why}"),
            );
        }
    }
    if let Some(folder) = &running.folder {
        ui.horizontal(|ui| {
            ui.weak("Session folder");
            ui.monospace(folder.display().to_string());
        });
    }
    for notice in &running.notices {
        ui.colored_label(ui.visuals().warn_fg_color, notice);
    }
    if ui.button("New session").clicked() {
        commands.send(Command::Session(SessionCommand::Dismiss));
    }
}
