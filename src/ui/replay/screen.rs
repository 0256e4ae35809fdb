//! The Replay screen's panels: sessions (open by dialog or typed path, close), trials
//! and view options on the left, descriptions and transcripts on the right, the
//! timeline at the bottom, the views in the middle. Panels read the state, change view
//! options in place and send [`ReplayCommand`]s for everything else.

use std::path::PathBuf;

use super::ReplayCommand;
use super::heatmap::ColorMap;
use super::scene;
use super::state::{Layout, ReplayState, SPEEDS};
use crate::ui::command::{Command, CommandQueue};

pub fn replay_ui(ui: &mut egui::Ui, state: &mut ReplayState, commands: &mut CommandQueue) {
    let mut send = |command: ReplayCommand| commands.send(Command::Replay(command));
    state.advance(ui.input(|i| i.stable_dt));
    if state.playback.playing {
        ui.ctx().request_repaint();
    }
    egui::Panel::top("replay_sessions").show(ui, |ui| sessions_ui(ui, state, &mut send));
    if state.subjects.is_empty() {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.add_space(12.0);
            ui.heading("Replay recorded sessions");
            ui.label(
                "Open one or several session folders of the same study (e.g. \
                 sessions/demo/s01_20261122-101500) to play their scanpaths back.",
            );
        });
        state.views_rect = None;
        return;
    }
    egui::Panel::left("replay_controls")
        .default_size(220.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| controls_ui(ui, state, &mut send));
        });
    egui::Panel::right("replay_text")
        .default_size(260.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| descriptions_ui(ui, state));
        });
    egui::Panel::bottom("replay_timeline").show(ui, |ui| timeline_ui(ui, state, &mut send));
    egui::CentralPanel::default().show(ui, |ui| {
        // The title band is part of the exported picture: what, who and when.
        let title = ui.strong(view_title(state)).rect;
        let views = scene::views_ui(ui, state);
        state.views_rect = Some(title.union(views));
    });
}

/// "study · trial · subjects · 0.00–1.25 s": the title band above the views, which the
/// PNG export keeps.
pub fn view_title(state: &ReplayState) -> String {
    let study = state
        .subjects
        .first()
        .map_or("", |s| s.session.study_id.as_str());
    let subjects: Vec<&str> = state
        .current_trials()
        .iter()
        .map(|(s, _)| s.session.subject.as_str())
        .collect();
    let end_s = state.playback.time_ms / 1000.0;
    let start_s = state
        .view
        .trail_s
        .map_or(0.0, |trail| (end_s - trail).max(0.0));
    format!(
        "{study} · trial {} · {} · {start_s:.2}–{end_s:.2} s after stimulus onset",
        state.trial_id.as_deref().unwrap_or("—"),
        subjects.join(", ")
    )
}

fn sessions_ui(ui: &mut egui::Ui, state: &mut ReplayState, send: &mut impl FnMut(ReplayCommand)) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let label = if state.dialog_open {
            "Choosing folders…"
        } else {
            "Open sessions…"
        };
        if ui
            .add_enabled(!state.dialog_open, egui::Button::new(label))
            .on_hover_text("Choose one or several session folders of the same study")
            .clicked()
        {
            send(ReplayCommand::PickSessions);
        }
        let label = ui.label("Session folder");
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut state.path_input)
                    .hint_text("sessions/demo/s01_…")
                    .desired_width(320.0),
            )
            .labelled_by(label.id);
        let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        let path = state.path_input.trim().to_owned();
        let clicked = ui
            .add_enabled(!path.is_empty(), egui::Button::new("Add"))
            .clicked();
        if (clicked || entered) && !path.is_empty() {
            send(ReplayCommand::OpenSessions(vec![PathBuf::from(path)]));
            state.path_input.clear();
        }
        if !state.loading.is_empty() {
            ui.add(egui::Spinner::new());
            ui.weak(format!("reading {} session(s)…", state.loading.len()));
        }
    });
    ui.horizontal_wrapped(|ui| {
        for subject in &state.subjects {
            let (swatch, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
            ui.painter().rect_filled(swatch, 2.0, subject.color);
            ui.label(&subject.session.subject)
                .on_hover_text(subject.session.root.display().to_string());
            if ui
                .small_button(format!("Close {}", subject.session.subject))
                .clicked()
            {
                send(ReplayCommand::CloseSession(subject.session.root.clone()));
            }
            ui.separator();
        }
    });
    if !state.errors.is_empty() {
        for error in &state.errors {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if ui.small_button("Dismiss").clicked() {
            send(ReplayCommand::DismissErrors);
        }
    }
    ui.add_space(4.0);
}

fn controls_ui(ui: &mut egui::Ui, state: &mut ReplayState, send: &mut impl FnMut(ReplayCommand)) {
    ui.heading("Trials");
    for id in state.trial_ids() {
        let selected = state.trial_id.as_deref() == Some(id.as_str());
        if ui.selectable_label(selected, &id).clicked() && !selected {
            send(ReplayCommand::SelectTrial(id));
        }
    }
    ui.separator();
    ui.heading("View");
    ui.horizontal(|ui| {
        ui.radio_value(&mut state.layout, Layout::SideBySide, "Side by side");
        ui.radio_value(&mut state.layout, Layout::Overlay, "Overlay");
    });
    let view = &mut state.view;
    ui.checkbox(&mut view.fixations, "Fixations");
    ui.checkbox(&mut view.saccades, "Saccades");
    ui.checkbox(&mut view.gaze_point, "Gaze point");
    let mut trail = view.trail_s.is_some();
    if ui.checkbox(&mut trail, "Only the last seconds").changed() {
        view.trail_s = trail.then_some(5.0);
    }
    if let Some(seconds) = &mut view.trail_s {
        ui.add(
            egui::Slider::new(seconds, 0.5..=60.0)
                .logarithmic(true)
                .suffix(" s"),
        );
    }
    ui.separator();
    let heat = &mut view.heatmap;
    ui.checkbox(&mut heat.enabled, "Heat map");
    ui.add_enabled_ui(heat.enabled, |ui| {
        ui.add(
            egui::Slider::new(&mut heat.sigma_deg, 0.25..=4.0)
                .text("Kernel σ")
                .suffix("°"),
        )
        .on_hover_text("Standard deviation of each fixation's Gaussian, degrees of visual angle");
        ui.add(egui::Slider::new(&mut heat.opacity, 0.0..=1.0).text("Opacity"));
        egui::ComboBox::from_label("Colour map")
            .selected_text(heat.color_map.label())
            .show_ui(ui, |ui| {
                for map in ColorMap::ALL {
                    ui.selectable_value(&mut heat.color_map, map, map.label());
                }
            });
    });
    ui.separator();
    ui.heading("Export");
    let label = ui.label("Export folder");
    ui.add(egui::TextEdit::singleline(&mut state.export_dir_input).desired_width(200.0))
        .labelled_by(label.id);
    ui.horizontal(|ui| {
        if ui
            .button("Export PNG")
            .on_hover_text("Save the views as shown now")
            .clicked()
        {
            send(ReplayCommand::ExportView);
        }
        if ui
            .button("Export fixations CSV")
            .on_hover_text("Save each subject's fixations of this trial")
            .clicked()
        {
            send(ReplayCommand::ExportFixations);
        }
    });
    if let Some(message) = &state.export_message {
        ui.add(egui::Label::new(message).wrap());
    }
}

fn descriptions_ui(ui: &mut egui::Ui, state: &ReplayState) {
    let Some(trial_id) = &state.trial_id else {
        return;
    };
    ui.heading(trial_id);
    for (subject, trial) in state.current_trials() {
        ui.add_space(6.0);
        ui.colored_label(
            subject.color,
            egui::RichText::new(&subject.session.subject).strong(),
        );
        ui.weak("Description");
        match &trial.description {
            Some(text) => ui.add(egui::Label::new(text).wrap()),
            None => ui.weak("(none)"),
        };
        ui.weak("Transcript");
        match &trial.transcript {
            Some(text) => ui.add(egui::Label::new(text).wrap()),
            None => ui.weak("(none)"),
        };
        for warning in &trial.warnings {
            ui.colored_label(ui.visuals().warn_fg_color, warning);
        }
    }
}

fn timeline_ui(ui: &mut egui::Ui, state: &mut ReplayState, send: &mut impl FnMut(ReplayCommand)) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let playing = state.playback.playing;
        if ui.button(if playing { "Pause" } else { "Play" }).clicked() {
            send(if playing {
                ReplayCommand::Pause
            } else {
                ReplayCommand::Play
            });
        }
        egui::ComboBox::from_label("Speed")
            .selected_text(speed_label(state.playback.speed))
            .width(70.0)
            .show_ui(ui, |ui| {
                for speed in SPEEDS {
                    if ui
                        .selectable_label(state.playback.speed == speed, speed_label(speed))
                        .clicked()
                    {
                        send(ReplayCommand::SetSpeed {
                            percent: (speed * 100.0).round() as u32,
                        });
                    }
                }
            });
        let duration_ms = state.duration_ms();
        ui.label(format!(
            "{:.2} s / {:.2} s",
            state.playback.time_ms / 1000.0,
            duration_ms / 1000.0
        ));
        let mut time_ms = state.playback.time_ms;
        ui.spacing_mut().slider_width = (ui.available_width() - 16.0).max(80.0);
        let slider = egui::Slider::new(&mut time_ms, 0.0..=duration_ms.max(1.0)).show_value(false);
        if ui.add(slider).on_hover_text("Drag to scrub").changed() {
            send(ReplayCommand::Seek {
                time_ms: time_ms.max(0.0).round() as u64,
            });
        }
    });
    ui.add_space(4.0);
}

fn speed_label(speed: f32) -> String {
    format!("{speed}×")
}
