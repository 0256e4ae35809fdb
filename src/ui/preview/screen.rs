//! Drawing the Enrollment and preview screen: on the left the model, the support
//! trials with their checkboxes and the Enroll button; in the middle the image picker,
//! the image, and three columns — what the subject said, description A, description
//! B — each with its scores and the subject's rating. Every action is a command.

use std::path::PathBuf;

use super::PreviewCommand;
use super::state::{ModelStatus, PreviewState};
use super::worker::Dialog;
use crate::ui::command::{Command, CommandQueue};

/// Draws the screen; `study_images` (the open study's trial images) are offered for
/// describing beside the support trials' images.
pub fn preview_ui(
    ui: &mut egui::Ui,
    state: &mut PreviewState,
    study_images: &[PathBuf],
    commands: &mut CommandQueue,
) {
    let mut send = |command: PreviewCommand| commands.send(Command::Preview(command));
    egui::Panel::left("preview_setup")
        .resizable(true)
        .default_size(330.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| {
                model_ui(ui, state, &mut send);
                ui.separator();
                support_ui(ui, state, &mut send);
            });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        errors_ui(ui, state, &mut send);
        egui::ScrollArea::vertical().show(ui, |ui| {
            preview_area_ui(ui, state, study_images, &mut send);
        });
    });
}

fn errors_ui(ui: &mut egui::Ui, state: &PreviewState, send: &mut impl FnMut(PreviewCommand)) {
    if state.errors.is_empty() {
        return;
    }
    for message in &state.errors {
        ui.colored_label(ui.visuals().error_fg_color, message);
    }
    if ui.button("Dismiss").clicked() {
        send(PreviewCommand::DismissErrors);
    }
    ui.separator();
}

fn model_ui(ui: &mut egui::Ui, state: &mut PreviewState, send: &mut impl FnMut(PreviewCommand)) {
    ui.heading("Model");
    match &state.model {
        ModelStatus::None => {
            ui.label("No model yet.");
        }
        ModelStatus::Loading { progress, fraction } => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(progress);
            });
            if let Some(fraction) = fraction {
                ui.add(egui::ProgressBar::new(*fraction).show_percentage());
            }
        }
        ModelStatus::Ready { label, .. } => {
            ui.label(format!("Using {label}."));
        }
    }
    let busy = matches!(state.model, ModelStatus::Loading { .. });
    if let Some(pending) = state.pending_model.clone() {
        let subject = state.profile.as_ref().map_or("", |p| p.subject.as_str());
        ui.group(|ui| {
            ui.label(replace_question(subject));
            ui.horizontal(|ui| {
                if ui.button("Replace the model").clicked() {
                    state.pending_model = None;
                    send(pending);
                }
                if ui.button("Keep this model").clicked() {
                    state.pending_model = None;
                }
            });
        });
    }
    let using_demo = state.cohort.is_some() && state.model.ready().is_some();
    ui.add_enabled_ui(!busy && state.pending_model.is_none(), |ui| {
        let demo = ui
            .add_enabled(!using_demo, egui::Button::new("Use the demo model"))
            .on_hover_text(
                "Trained on a simulated cohort the first time (about eight minutes on two \
                 cores, with progress here), then cached",
            )
            .on_disabled_hover_text("The demo model is the one in use");
        if demo.clicked() {
            change_model(state, PreviewCommand::use_default_demo_model(), send);
        }
        labelled_field(ui, "Model folder", &mut state.model_path_input);
        ui.horizontal(|ui| {
            let path = state.model_path_input.trim().to_owned();
            if ui
                .add_enabled(!path.is_empty(), egui::Button::new("Load model"))
                .clicked()
            {
                change_model(state, PreviewCommand::LoadModel(path.into()), send);
            }
            if ui
                .add_enabled(!state.dialog_open, egui::Button::new("Browse model…"))
                .clicked()
            {
                send(PreviewCommand::Pick(Dialog::ModelFolder));
            }
        });
    });
}

fn support_ui(ui: &mut egui::Ui, state: &mut PreviewState, send: &mut impl FnMut(PreviewCommand)) {
    ui.heading("Support trials");
    ui.label("A recorded session:");
    labelled_field(ui, "Session folder", &mut state.session_input);
    ui.horizontal(|ui| {
        let path = state.session_input.trim();
        if ui
            .add_enabled(!path.is_empty(), egui::Button::new("Load session"))
            .clicked()
        {
            send(PreviewCommand::LoadSession(path.into()));
        }
        if ui
            .add_enabled(!state.dialog_open, egui::Button::new("Browse session…"))
            .clicked()
        {
            send(PreviewCommand::Pick(Dialog::SessionFolder));
        }
    });
    ui.label("Or a subject of cohort records:");
    labelled_field(ui, "Records file", &mut state.records_input);
    labelled_field(ui, "Subject", &mut state.subject_input);
    if let Some((_, unseen)) = &state.cohort {
        ui.horizontal_wrapped(|ui| {
            ui.weak("Not seen in training:");
            for subject in unseen {
                if ui.small_button(subject).clicked() {
                    state.subject_input = subject.clone();
                }
            }
        });
    }
    ui.horizontal(|ui| {
        let path = state.records_input.trim();
        let subject = state.subject_input.trim();
        if ui
            .add_enabled(
                !path.is_empty() && !subject.is_empty(),
                egui::Button::new("Load records"),
            )
            .clicked()
        {
            send(PreviewCommand::LoadRecords {
                path: path.into(),
                subject: subject.to_owned(),
            });
        }
        if ui
            .add_enabled(!state.dialog_open, egui::Button::new("Browse records…"))
            .clicked()
        {
            send(PreviewCommand::Pick(Dialog::RecordsFile));
        }
    });
    if state.support_loading {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Reading the trials…");
        });
    }
    let Some(support) = &state.support else {
        return;
    };
    ui.separator();
    ui.label(format!(
        "Subject {}: {} trials. Choose the ones to enroll from.",
        support.subject,
        support.trials.records.len()
    ));
    for skipped in &support.skipped {
        ui.weak(format!("Left out: {skipped}"));
    }
    for (index, record) in support.trials.records.iter().enumerate() {
        let name = record.trial.clone().unwrap_or_else(|| {
            std::path::Path::new(&record.image)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let mut chosen = state.chosen.get(index).copied().unwrap_or(false);
        if ui
            .checkbox(&mut chosen, name)
            .on_hover_text(&record.description)
            .changed()
        {
            send(PreviewCommand::ToggleTrial(index));
        }
    }
    let count = state.chosen_indices().len();
    let can_enroll = state.model.ready().is_some() && count > 0 && !state.enrolling;
    if ui
        .add_enabled(
            can_enroll,
            egui::Button::new(format!("Enroll from {count} trials")),
        )
        .clicked()
    {
        send(PreviewCommand::Enroll);
    }
    if state.enrolling {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Enrolling…");
        });
    }
    if let Some(profile) = &state.profile
        && state.profile_loaded_from.is_none()
    {
        ui.label(format!(
            "Enrolled {} from {} trials.",
            profile.subject,
            profile.trials.len()
        ));
    }
    profile_ui(ui, state, send);
}

/// Saving the enrolled profile, or loading one saved before (for the model in use).
fn profile_ui(ui: &mut egui::Ui, state: &mut PreviewState, send: &mut impl FnMut(PreviewCommand)) {
    ui.separator();
    ui.strong("Profile");
    labelled_field(ui, "Profile file", &mut state.profile_input);
    let path = state.profile_input.trim().to_owned();
    ui.horizontal(|ui| {
        let can_save = state.profile.is_some() && !path.is_empty();
        if ui
            .add_enabled(can_save, egui::Button::new("Save profile"))
            .on_hover_text(
                "The subject's embedding and support trials, as `scanscribe enroll` writes them",
            )
            .clicked()
        {
            send(PreviewCommand::SaveProfile(path.clone().into()));
        }
        let can_load = state.model.ready().is_some() && !path.is_empty();
        if ui
            .add_enabled(can_load, egui::Button::new("Load profile"))
            .on_hover_text("A profile saved for this model: enrollment without the trials")
            .clicked()
        {
            send(PreviewCommand::LoadProfile(path.into()));
        }
    });
    if let Some(message) = &state.profile_message {
        ui.label(message);
    }
}

fn preview_area_ui(
    ui: &mut egui::Ui,
    state: &mut PreviewState,
    study_images: &[PathBuf],
    send: &mut impl FnMut(PreviewCommand),
) {
    ui.heading("Preview");
    if state.profile.is_none() {
        ui.label(
            "Choose a model and a subject's trials, then enroll them (or load a saved \
             profile) to see descriptions in their style.",
        );
        return;
    }
    let support_images = state.candidate_images();
    let study_only: Vec<PathBuf> = study_images
        .iter()
        .filter(|image| !support_images.contains(image))
        .cloned()
        .collect();
    for (heading, images) in [
        ("Their trials:", support_images),
        ("The study:", study_only),
    ] {
        if images.is_empty() {
            continue;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label(heading);
            for image in images {
                let name = image
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let selected = state.described.as_ref().is_some_and(|d| d.image == image);
                if ui
                    .add_enabled(
                        !state.describing,
                        egui::Button::new(name).selected(selected),
                    )
                    .clicked()
                {
                    send(PreviewCommand::Describe(image));
                }
            }
        });
    }
    ui.horizontal(|ui| {
        let label = ui.label("Image file");
        ui.text_edit_singleline(&mut state.image_input)
            .labelled_by(label.id);
        let path = state.image_input.trim();
        if ui
            .add_enabled(
                !path.is_empty() && !state.describing,
                egui::Button::new("Describe"),
            )
            .clicked()
        {
            send(PreviewCommand::Describe(path.into()));
        }
        if ui
            .add_enabled(!state.dialog_open, egui::Button::new("Browse image…"))
            .clicked()
        {
            send(PreviewCommand::Pick(Dialog::Image));
        }
    });
    if state.describing {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Describing…");
        });
    }
    if state.described.is_some() {
        ui.separator();
        described_ui(ui, state, send);
    }
}

fn described_ui(
    ui: &mut egui::Ui,
    state: &mut PreviewState,
    send: &mut impl FnMut(PreviewCommand),
) {
    let personalized_first = state.personalized_first();
    let in_support = state.described_image_in_support();
    let Some(described) = &state.described else {
        return;
    };
    if let Some(texture) = &state.texture {
        let size = texture.size_vec2();
        let scale = (360.0 / size.y).min(ui.available_width() / size.x).min(1.0);
        ui.image((texture.id(), size * scale));
    }
    if in_support {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "This image is one of the enrollment trials: the model has read these words, \
             so the scores flatter the personalized description.",
        );
    }
    let (bleu_a, bleu_b, oss_a, oss_b) = {
        let order = |pair: Option<(f64, f64)>| {
            pair.map(|(generic, personal)| {
                if personalized_first {
                    (personal, generic)
                } else {
                    (generic, personal)
                }
            })
        };
        let bleu = order(described.bleu4);
        let oss = order(described.oss);
        (
            bleu.map(|p| p.0),
            bleu.map(|p| p.1),
            oss.map(|p| p.0),
            oss.map(|p| p.1),
        )
    };
    let (text_a, text_b) = if personalized_first {
        (&described.personalized, &described.generic)
    } else {
        (&described.generic, &described.personalized)
    };
    let texts = [text_a.clone(), text_b.clone()];
    let scores = [(bleu_a, oss_a), (bleu_b, oss_b)];
    let said = described.said.clone();
    ui.checkbox(&mut state.reveal, "Reveal which is which (experimenter)")
        .on_hover_text("The subject rates blind; turn this on only after they have rated");
    let kinds = if personalized_first {
        ["personalized", "generic"]
    } else {
        ["generic", "personalized"]
    };
    let reveal = state.reveal;
    ui.columns(3, |columns| {
        columns[0].strong("What the subject said");
        match &said {
            Some(text) => columns[0].label(text),
            None => columns[0].weak("The subject did not describe this image."),
        };
        for shown in 0..2 {
            let ui = &mut columns[shown + 1];
            let letter = ["A", "B"][shown];
            if reveal {
                ui.strong(format!("Description {letter} ({})", kinds[shown]));
            } else {
                ui.strong(format!("Description {letter}"));
            }
            ui.label(&texts[shown]);
            let (bleu, oss) = scores[shown];
            if let Some(bleu) = bleu {
                let oss = oss.map_or("OSS needs WordNet".to_owned(), |o| format!("OSS {o:.3}"));
                ui.weak(format!("BLEU-4 {bleu:.3} · {oss}"));
            }
            ui.add_space(4.0);
            ui.label("How much does this sound like you?");
            ui.horizontal(|ui| {
                for rating in 1..=5u8 {
                    let selected = state.drafts[shown].rating == Some(rating);
                    if ui.selectable_label(selected, rating.to_string()).clicked() {
                        send(PreviewCommand::Rate { shown, rating });
                    }
                }
            });
            let label = ui.label(format!("Comment on {} (optional)", ["A", "B"][shown]));
            // As wide as its column, never wider: the B column stays inside the window.
            let width = ui.available_width();
            ui.add(
                egui::TextEdit::multiline(&mut state.drafts[shown].comment)
                    .desired_rows(2)
                    .desired_width(width),
            )
            .labelled_by(label.id);
        }
    });
    ui.add_space(6.0);
    let complete = state.drafts.iter().all(|d| d.rating.is_some());
    ui.horizontal(|ui| {
        if ui
            .add_enabled(complete && !state.saving, egui::Button::new("Save ratings"))
            .clicked()
        {
            send(PreviewCommand::SaveRatings);
        }
        if let Some(message) = &state.saved_message {
            ui.label(message);
        }
    });
}

/// Sends a model change, or, when an enrollment is on screen (which the change
/// clears), keeps it for the question "Use another model?".
pub fn change_model(
    state: &mut PreviewState,
    command: PreviewCommand,
    send: &mut impl FnMut(PreviewCommand),
) {
    if state.profile.is_some() {
        state.pending_model = Some(command);
    } else {
        send(command);
    }
}

/// What the screen asks before a model change replaces `subject`'s enrollment.
pub fn replace_question(subject: &str) -> String {
    format!(
        "Use another model? The enrollment of {subject} and the preview are cleared \
         (saved ratings and profiles stay)."
    )
}

/// A text field with its label before it (the label names it for screen readers).
fn labelled_field(ui: &mut egui::Ui, label: &str, text: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.text_edit_singleline(text).labelled_by(label.id);
    });
}
