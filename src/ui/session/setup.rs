//! The session setup: subject code, gaze source (Tobii trackers the SDK finds, else
//! the mouse or a simulated subject, labelled as such), microphone with a live level
//! meter (or none: descriptions are then typed), output folder, full screen, and the
//! study's unfinished sessions to resume.

use crate::audio::level::FLOOR_DBFS;
use crate::ui::app_state::OpenStudy;
use crate::ui::command::{Command, CommandQueue};

use super::command::SessionCommand;
use super::state::{MicChoice, SessionState};
use super::worker::SourceChoice;

pub fn setup_ui(
    ui: &mut egui::Ui,
    state: &mut SessionState,
    open: &OpenStudy,
    commands: &mut CommandQueue,
) {
    let send = |commands: &mut CommandQueue, c| commands.send(Command::Session(c));
    ui.heading(format!("New session: {}", open.loaded.study.title));
    if open.loaded.study.attention.bubble_view().is_some() {
        ui.label(
            "BubbleView study: the subject clicks on a blurred picture to see parts of it \
             sharply, and the clicks are the attention data. No calibration is needed; \
             the pointer (or an eye tracker, which is then calibrated) is recorded as well.",
        );
    }
    ui.add_space(8.0);
    egui::Grid::new("session_setup")
        .num_columns(2)
        .spacing([24.0, 10.0])
        .show(ui, |ui| {
            let label = ui.strong("Subject code");
            ui.add(
                egui::TextEdit::singleline(&mut state.form.subject)
                    .hint_text("e.g. s07 (letters, digits, - and _, with a digit; never a name)")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
            ui.end_row();

            ui.strong("Gaze source");
            ui.vertical(|ui| source_ui(ui, state));
            ui.end_row();

            let label = ui.strong("Microphone");
            ui.vertical(|ui| microphone_ui(ui, state, commands, label.id));
            ui.end_row();

            let label = ui.strong("Output folder");
            ui.horizontal(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut state.form.sessions_root).desired_width(320.0),
                )
                .labelled_by(label.id)
                .on_hover_text("Sessions go to <folder>/<study id>/<subject>_<time>/");
                if ui
                    .button("Look again")
                    .on_hover_text("Search for trackers, microphones and unfinished sessions again")
                    .clicked()
                {
                    send(commands, SessionCommand::Probe);
                }
            });
            ui.end_row();

            ui.strong("Subject's screen");
            ui.checkbox(&mut state.form.full_screen, "Full screen");
            ui.end_row();
        });
    ui.add_space(12.0);
    let ready = !state.form.subject.trim().is_empty() && !state.is_active();
    if ui
        .add_enabled(ready, egui::Button::new("Start session"))
        .on_disabled_hover_text("Type the subject code first")
        .clicked()
    {
        send(commands, SessionCommand::Start);
    }
    if let Some(problem) = &state.setup_problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
    ui.add_space(16.0);
    resume_ui(ui, state, commands);
}

fn source_ui(ui: &mut egui::Ui, state: &mut SessionState) {
    let trackers = match &state.probe {
        None => {
            ui.horizontal(|ui| {
                ui.add(egui::Spinner::new());
                ui.weak("Looking for Tobii eye trackers…");
            });
            Vec::new()
        }
        Some(report) => match &report.tobii {
            Ok(found) if found.is_empty() => {
                ui.weak("Tobii Pro SDK found, but no eye tracker is connected.");
                Vec::new()
            }
            Ok(found) => found.clone(),
            Err(why) => {
                // The first clause says what; the rest (where it looked) on hover.
                let short = why.split(':').next().unwrap_or(why);
                ui.weak(format!("No eye tracker: {short}."))
                    .on_hover_text(why);
                Vec::new()
            }
        },
    };
    for tracker in &trackers {
        let choice = SourceChoice::Tobii {
            address: tracker.address.clone(),
        };
        let text = format!(
            "{} {} ({})",
            tracker.model, tracker.serial_number, tracker.address
        );
        ui.radio_value(&mut state.form.source, choice, text);
    }
    ui.radio_value(
        &mut state.form.source,
        SourceChoice::Mouse,
        SourceChoice::Mouse.label(),
    );
    ui.radio_value(
        &mut state.form.source,
        SourceChoice::Simulated,
        SourceChoice::Simulated.label(),
    );
    if !matches!(state.form.source, SourceChoice::Tobii { .. }) {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "No eye tracker: this session records a stand-in for gaze (for pilots and training).",
        );
    }
}

fn microphone_ui(
    ui: &mut egui::Ui,
    state: &mut SessionState,
    commands: &mut CommandQueue,
    label: egui::Id,
) {
    let microphones = state
        .probe
        .as_ref()
        .map(|p| p.microphones.clone())
        .unwrap_or_default();
    let before = state.form.microphone.clone();
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt("microphone")
            .selected_text(state.form.microphone.label())
            .width(320.0)
            .show_ui(ui, |ui| {
                ui.selectable_value(
                    &mut state.form.microphone,
                    MicChoice::None,
                    MicChoice::None.label(),
                );
                ui.selectable_value(
                    &mut state.form.microphone,
                    MicChoice::Default,
                    MicChoice::Default.label(),
                );
                for name in microphones {
                    let choice = MicChoice::Named(name.clone());
                    ui.selectable_value(&mut state.form.microphone, choice, name);
                }
            })
            .response
            .labelled_by(label);
        if state.form.microphone != MicChoice::None && ui.button("Test").clicked() {
            commands.send(Command::Session(SessionCommand::TestMicrophone));
        }
    });
    if state.form.microphone != before {
        // A new choice: open it to show its level (or close the old one).
        commands.send(Command::Session(SessionCommand::TestMicrophone));
    }
    match (&state.form.microphone, &state.mic_level) {
        (MicChoice::None, _) => {
            ui.weak("Descriptions are typed by the subject in the presentation window.");
        }
        (_, None) => {
            ui.weak("Opening the microphone…");
        }
        (_, Some(Ok(level))) => level_meter_ui(ui, level.rms_dbfs(), level.peak_dbfs()),
        (_, Some(Err(why))) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("No microphone: {why}"));
            ui.weak("Choose \"No microphone\" to run the session with typed descriptions.");
        }
    }
}

/// A horizontal bar from the floor to 0 dBFS, with the peak marked.
pub fn level_meter_ui(ui: &mut egui::Ui, rms_dbfs: f32, peak_dbfs: f32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(320.0, 14.0), egui::Sense::hover());
    let fraction = |db: f32| ((db - FLOOR_DBFS) / -FLOOR_DBFS).clamp(0.0, 1.0);
    let painter = ui.painter();
    painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
    let mut filled = rect;
    filled.set_width(rect.width() * fraction(rms_dbfs));
    let color = if peak_dbfs > -1.0 {
        egui::Color32::from_rgb(220, 70, 60)
    } else {
        egui::Color32::from_rgb(70, 170, 90)
    };
    painter.rect_filled(filled, 2.0, color);
    let x = rect.left() + rect.width() * fraction(peak_dbfs);
    painter.vline(
        x,
        rect.y_range(),
        egui::Stroke::new(2.0, ui.visuals().text_color()),
    );
    ui.label(format!(
        "input level {rms_dbfs:.0} dBFS (peak {peak_dbfs:.0})"
    ));
}

fn resume_ui(ui: &mut egui::Ui, state: &SessionState, commands: &mut CommandQueue) {
    let Some(report) = &state.probe else { return };
    if report.resumable.is_empty() {
        return;
    }
    ui.heading("Unfinished sessions");
    egui::Grid::new("resumable_sessions")
        .num_columns(5)
        .spacing([16.0, 6.0])
        .striped(true)
        .show(ui, |ui| {
            for session in &report.resumable {
                ui.monospace(&session.subject);
                ui.label(format!("began {}", session.started));
                ui.label(format!(
                    "{} of {} trials",
                    session.completed_trials, session.total_trials
                ));
                ui.label(&session.status)
                    .on_hover_text(session.folder.display().to_string());
                if ui
                    .add_enabled(!state.is_active(), egui::Button::new("Resume"))
                    .on_hover_text(format!(
                        "Continue {} at its next trial",
                        session.folder.display()
                    ))
                    .clicked()
                {
                    commands.send(Command::Session(SessionCommand::Resume(
                        session.folder.clone(),
                    )));
                }
                ui.end_row();
            }
        });
}
