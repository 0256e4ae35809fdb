//! The subject's screen: a separate egui viewport (full screen by default) showing
//! what the session thread asks for: calibration targets, instructions, the fixation
//! cross, the stimulus, the description prompt or dictation indicator with the time
//! left, breaks, the pause screen and the TIPI questionnaire. Space continues, Escape
//! asks to pause (with a confirmation), never on top of a stimulus, the fixation cross
//! or a calibration target: Escape during one is remembered and asked after it.
//!
//! The study's screen is drawn in the largest rectangle of its aspect ratio inside the
//! window (letterboxed), so display-normalized coordinates mean the same here, in the
//! recorded gaze and in the analysis; the pointer's position in that rectangle feeds
//! the mouse source. The first frame showing a stimulus is reported with the time its
//! present call returned, on the gaze clock. In a BubbleView study the stimulus is
//! blurred and a press on it opens a sharp bubble there (see `bubble_view.rs`).

use crate::session::analysis::placement_of;
use crate::session::bubbles::BubbleClick;
use crate::session::runner::Response;
use crate::study::{LoadedStudy, tipi};
use crate::ui::command::{Command, CommandQueue};

use super::bubble_view::{self, Bubbles};
use super::command::SessionCommand;
use super::handling::frame_time_us;
use super::protocol::{StopOrigin, SubjectScreen, ToSession};
use super::state::{PauseState, RunningSession, SessionState};

pub const VIEWPORT_TITLE: &str = "scanscribe: subject screen";
/// The presentation's size when it is embedded in the main window (tests, backends
/// without multiple windows).
const EMBEDDED_SIZE: egui::Vec2 = egui::vec2(512.0, 288.0);
/// Passes of the main window before the presentation window may open.
const MAIN_WINDOW_PASSES_FIRST: u64 = 10;
/// The accessible name of a BubbleView stimulus.
pub const BUBBLE_VIEW_LABEL: &str = "Blurred picture: click where you want to see it sharply";
const BACKGROUND: egui::Color32 = egui::Color32::from_gray(96);
const TEXT: egui::Color32 = egui::Color32::from_gray(245);
/// Base of the description field's hint colour (egui greys it further).
const HINT: egui::Color32 = egui::Color32::from_gray(60);

/// Shows the subject's screen while a session runs; call every frame.
pub fn presentation_viewport(
    ctx: &egui::Context,
    state: &mut SessionState,
    study: Option<&LoadedStudy>,
    commands: &mut CommandQueue,
) {
    let (Some(running), Some(study)) = (state.running.as_mut(), study) else {
        return;
    };
    if running.is_finished() {
        state.feed.set_outside();
        return;
    }
    // eframe holds the main window's first texture uploads (the font atlas) until it
    // first paints; a second window painting before that fails on the atlas.
    if ctx.cumulative_pass_nr() < MAIN_WINDOW_PASSES_FIRST {
        ctx.request_repaint_after(std::time::Duration::from_millis(16));
        return;
    }
    let feed = state.feed.clone();
    let full_screen = running.full_screen;
    let mut draw = |ui: &mut egui::Ui, class: egui::ViewportClass| {
        let size = if class == egui::ViewportClass::EmbeddedWindow {
            EMBEDDED_SIZE
        } else {
            ui.available_size()
        };
        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
        if class == egui::ViewportClass::Immediate && ui.input(|i| i.viewport().close_requested()) {
            ui.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            running.pause = PauseState::Confirming;
        }
        let display = letterbox(rect, study.study.screen.resolution_px);
        feed.set(ui.input(|i| i.pointer.hover_pos()).and_then(|p| {
            display.contains(p).then(|| {
                [
                    (p.x - display.left()) / display.width(),
                    (p.y - display.top()) / display.height(),
                ]
            })
        }));
        ui.painter().rect_filled(rect, 0.0, egui::Color32::BLACK);
        ui.painter().rect_filled(display, 0.0, BACKGROUND);
        let mut content = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(display.shrink(display.width() * 0.06))
                .layout(egui::Layout::top_down(egui::Align::Center)),
        );
        content.visuals_mut().override_text_color = Some(TEXT);
        // Read before the widgets: a focused text field takes Escape for itself.
        let keys = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Escape),
                i.key_pressed(egui::Key::Enter),
            )
        });
        let drew = screen_ui(&mut content, display, running, study, commands);
        pause_overlay_ui(&mut content, running, commands, keys);
        drew
    };
    let drew_stimulus = if ctx.embed_viewports() {
        // No second window here (tests, single-window backends): a fixed window in the
        // bottom right corner, clear of the experimenter's controls.
        egui::Window::new(VIEWPORT_TITLE)
            .anchor(egui::Align2::RIGHT_BOTTOM, [-16.0, -16.0])
            .resizable(false)
            .collapsible(false)
            .show(ctx, |ui| draw(ui, egui::ViewportClass::EmbeddedWindow))
            .and_then(|shown| shown.inner)
            .flatten()
    } else {
        let builder = egui::ViewportBuilder::default()
            .with_title(VIEWPORT_TITLE)
            .with_inner_size([1024.0, 640.0])
            .with_fullscreen(full_screen);
        ctx.show_viewport_immediate(
            egui::ViewportId::from_hash_of("presentation"),
            builder,
            draw,
        )
    };
    if let Some(trial_index) = drew_stimulus
        && running.stimulus_reported != Some(trial_index)
    {
        // The frame with the stimulus has been handed to the display just now.
        running.stimulus_reported = Some(trial_index);
        running.stimulus_frame_pending = None;
        commands.send(Command::Session(SessionCommand::StimulusPresented {
            trial_index,
            present_us: frame_time_us(),
        }));
    }
}

/// The largest rectangle of the screen's aspect ratio inside `rect`, centred.
pub fn letterbox(rect: egui::Rect, resolution_px: (u32, u32)) -> egui::Rect {
    let aspect = resolution_px.0.max(1) as f32 / resolution_px.1.max(1) as f32;
    let width = rect.width().min(rect.height() * aspect);
    egui::Rect::from_center_size(rect.center(), egui::vec2(width, width / aspect))
}

fn send(commands: &mut CommandQueue, message: ToSession) {
    commands.send(Command::Session(SessionCommand::Send(message)));
}

/// How the subject gives a description in this session, shown under the study's
/// instructions (which may say "aloud" when no microphone was chosen).
pub fn answer_hint(typed: bool) -> &'static str {
    if typed {
        "No microphone is used: you will type each description. When a picture \
         disappears, type what you saw and press Enter."
    } else {
        "When a picture disappears, describe it aloud; press space when you are done."
    }
}

/// Draws the current screen; returns the trial index when it drew a stimulus.
fn screen_ui(
    ui: &mut egui::Ui,
    display: egui::Rect,
    running: &mut RunningSession,
    study: &LoadedStudy,
    commands: &mut CommandQueue,
) -> Option<usize> {
    let space = ui.input(|i| i.key_pressed(egui::Key::Space));
    let overlay_open = running.pause == PauseState::Confirming;
    let elapsed_ms = running.screen_elapsed_ms();
    let painter = ui.painter().clone();
    let to_screen = |p: [f32; 2]| {
        egui::pos2(
            display.left() + p[0] * display.width(),
            display.top() + p[1] * display.height(),
        )
    };
    match running.screen.clone() {
        SubjectScreen::Blank => {}
        SubjectScreen::CalibrationTarget {
            target_display,
            shrink_ms,
            ..
        } => {
            let t = (elapsed_ms as f32 / shrink_ms.max(1) as f32).min(1.0);
            let radius = display.height() * (0.035 - 0.027 * t);
            let centre = to_screen(target_display);
            painter.circle_filled(centre, radius, egui::Color32::from_rgb(230, 60, 50));
            painter.circle_filled(centre, 2.5, egui::Color32::BLACK);
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(16));
        }
        SubjectScreen::Instructions(text) => {
            ui.add_space(display.height() * 0.2);
            ui.label(egui::RichText::new(&text).size(22.0));
            if study.study.trials.iter().any(|t| t.dictation.is_some()) {
                ui.add_space(16.0);
                ui.label(egui::RichText::new(answer_hint(running.typed_descriptions)).size(18.0));
            }
            if !text.to_lowercase().contains("space") {
                ui.add_space(24.0);
                ui.label(
                    egui::RichText::new("Press space to begin.")
                        .size(18.0)
                        .strong(),
                );
            }
            if space && !overlay_open {
                send(commands, ToSession::Continue);
            }
        }
        SubjectScreen::FixationCross { .. } => {
            let centre = display.center();
            let arm = display.height() * 0.025;
            let stroke = egui::Stroke::new(3.0, egui::Color32::BLACK);
            painter.hline(centre.x - arm..=centre.x + arm, centre.y, stroke);
            painter.vline(centre.x, centre.y - arm..=centre.y + arm, stroke);
        }
        SubjectScreen::Stimulus {
            trial_index,
            study_index,
            ..
        } => {
            let size = study
                .image_sizes_px
                .get(study_index)
                .copied()
                .unwrap_or((1, 1));
            let rect_display = placement_of(&study.study.screen, size).rect_display;
            let [x0, y0, x1, y1] = rect_display;
            let rect = egui::Rect::from_min_max(to_screen([x0, y0]), to_screen([x1, y1]));
            if let Some(settings) = study.study.attention.bubble_view() {
                let drew = bubble_stimulus_ui(
                    ui,
                    (rect, rect_display, display),
                    running,
                    study,
                    settings,
                    (trial_index, study_index),
                    commands,
                );
                return drew.then_some(trial_index);
            }
            match running.stimuli.get(study_index).and_then(Option::as_ref) {
                Some(texture) => {
                    painter.image(
                        texture.id(),
                        rect,
                        egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                        egui::Color32::WHITE,
                    );
                    return Some(trial_index);
                }
                None => {
                    painter.rect_filled(rect, 0.0, egui::Color32::from_gray(60));
                }
            }
        }
        SubjectScreen::Describe { .. } => describe_ui(ui, display, running, commands),
        SubjectScreen::Dictating {
            level,
            max_length_ms,
            ..
        } => {
            ui.add_space(display.height() * 0.3);
            ui.label(
                egui::RichText::new("Recording: describe the picture aloud")
                    .size(24.0)
                    .color(egui::Color32::from_rgb(240, 80, 70)),
            );
            let left_s = u64::from(max_length_ms).saturating_sub(elapsed_ms) / 1000;
            ui.label(egui::RichText::new(format!("{left_s} s left")).size(18.0));
            super::setup::level_meter_ui(ui, level.rms_dbfs(), level.peak_dbfs());
            ui.label("Press space when you are done.");
            if space && !overlay_open {
                send(commands, ToSession::DictationDone);
            }
        }
        SubjectScreen::Break { message } => {
            ui.add_space(display.height() * 0.3);
            ui.label(egui::RichText::new(message).size(22.0));
            if space && !overlay_open {
                send(commands, ToSession::Continue);
            }
        }
        SubjectScreen::Paused => paused_ui(ui, display, commands, space),
        SubjectScreen::Questionnaire => questionnaire_ui(ui, running, commands),
    }
    None
}

/// A BubbleView stimulus: the blurred image with the open bubbles; a press on the
/// image opens a bubble there and is sent to the session thread. `true` when the
/// image was drawn.
fn bubble_stimulus_ui(
    ui: &mut egui::Ui,
    (image_rect, image_rect_display, display): (egui::Rect, [f32; 4], egui::Rect),
    running: &mut RunningSession,
    study: &LoadedStudy,
    settings: &crate::study::BubbleView,
    (trial_index, study_index): (usize, usize),
    commands: &mut CommandQueue,
) -> bool {
    let textures = (
        running.stimuli.get(study_index).and_then(Option::as_ref),
        running
            .blurred_stimuli
            .get(study_index)
            .and_then(Option::as_ref),
    );
    let (Some(sharp), Some(blurred)) = textures else {
        ui.painter()
            .rect_filled(image_rect, 0.0, egui::Color32::from_gray(60));
        return false;
    };
    let response = ui.interact(
        image_rect,
        ui.scope_id().with(("bubble-view", trial_index)),
        egui::Sense::click(),
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, BUBBLE_VIEW_LABEL));
    if response.hovered() {
        ui.ctx().set_cursor_icon(egui::CursorIcon::Crosshair);
    }
    // From the events: a press and its release in one frame leave no press origin.
    let presses: Vec<egui::Pos2> = ui.input(|i| {
        i.events
            .iter()
            .filter_map(|event| match event {
                egui::Event::PointerButton {
                    pos,
                    button: egui::PointerButton::Primary,
                    pressed: true,
                    ..
                } => Some(*pos),
                _ => None,
            })
            .collect()
    });
    for at in presses {
        if !image_rect.contains(at) || running.pause == PauseState::Confirming {
            continue;
        }
        let position_display = [
            (at.x - display.left()) / display.width(),
            (at.y - display.top()) / display.height(),
        ];
        running.bubble_clicks.push(position_display);
        let click = BubbleClick {
            time_us: frame_time_us(),
            position_display,
        };
        send(commands, ToSession::BubbleClick { trial_index, click });
    }
    let bubbles = Bubbles::new(study, settings, &running.bubble_clicks);
    bubble_view::paint(
        ui.painter(),
        sharp.id(),
        blurred.id(),
        image_rect,
        image_rect_display,
        &bubbles,
    );
    true
}

fn describe_ui(
    ui: &mut egui::Ui,
    display: egui::Rect,
    running: &mut RunningSession,
    commands: &mut CommandQueue,
) {
    ui.add_space(display.height() * 0.25);
    ui.label(egui::RichText::new("Describe the picture you just saw.").size(24.0));
    ui.add_space(12.0);
    // The hint takes the weak text colour, which derives from the screen's light
    // text colour: on the field's light background it needs a dark one.
    let field = ui
        .scope(|ui| {
            ui.visuals_mut().override_text_color = Some(HINT);
            ui.add(
                egui::TextEdit::singleline(&mut running.description_text)
                    .id_salt("description")
                    .hint_text("Type here, then press Enter")
                    .desired_width(display.width() * 0.7)
                    .text_color(egui::Color32::BLACK)
                    .background_color(egui::Color32::from_gray(235)),
            )
        })
        .inner;
    if running.pause != PauseState::Confirming && !field.has_focus() && !field.lost_focus() {
        field.request_focus();
    }
    ui.label("Press Enter when you are done.");
    if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
        let text = running.description_text.trim().to_owned();
        let response = if text.is_empty() {
            Response::Nothing
        } else {
            Response::Text(text)
        };
        send(commands, ToSession::Describe(response));
    }
}

fn paused_ui(ui: &mut egui::Ui, display: egui::Rect, commands: &mut CommandQueue, space: bool) {
    ui.add_space(display.height() * 0.3);
    ui.label(egui::RichText::new("The session is paused.").size(24.0));
    ui.add_space(12.0);
    let stop = ui.input(|i| i.key_pressed(egui::Key::S));
    if ui.button("Continue (space)").clicked() || space {
        send(
            commands,
            ToSession::Resume {
                at_us: frame_time_us(),
            },
        );
    }
    if ui.button("Stop the session (S)").clicked() || stop {
        send(
            commands,
            ToSession::Stop {
                by: StopOrigin::SubjectScreen,
            },
        );
    }
}

fn questionnaire_ui(ui: &mut egui::Ui, running: &mut RunningSession, commands: &mut CommandQueue) {
    ui.label(egui::RichText::new("Last step: about you").size(22.0));
    ui.label(format!(
        "{} Rate each item from 1 ({}) to 7 ({}).",
        tipi::STEM,
        tipi::SCALE[0],
        tipi::SCALE[6]
    ));
    egui::ScrollArea::vertical()
        .max_height(ui.available_height() - 40.0)
        .show(ui, |ui| {
            egui::Grid::new("tipi")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for (item, answer) in tipi::ITEMS.iter().zip(running.questionnaire.iter_mut()) {
                        ui.label(*item);
                        ui.horizontal(|ui| {
                            for rating in 1..=7_u8 {
                                ui.radio_value(answer, Some(rating), rating.to_string())
                                    .on_hover_text(tipi::SCALE[usize::from(rating - 1)]);
                            }
                        });
                        ui.end_row();
                    }
                });
        });
    let ratings: Option<Vec<u8>> = running.questionnaire.iter().copied().collect();
    ui.horizontal(|ui| {
        let all = ratings
            .as_ref()
            .and_then(|r| <[u8; 10]>::try_from(r.as_slice()).ok());
        if ui
            .add_enabled(all.is_some(), egui::Button::new("Done"))
            .clicked()
        {
            send(commands, ToSession::Questionnaire(all));
        }
        if ui.button("I prefer not to answer").clicked() {
            send(commands, ToSession::Questionnaire(None));
        }
    });
}

/// Whether `screen` is one whose gaze is recorded and must stay uncovered.
pub fn shows_recorded_screen(screen: &SubjectScreen) -> bool {
    matches!(
        screen,
        SubjectScreen::Stimulus { .. }
            | SubjectScreen::FixationCross { .. }
            | SubjectScreen::CalibrationTarget { .. }
    )
}

/// The pause question after Escape, asked once no recorded screen is showing;
/// `(escape, enter)`: those keys were pressed.
fn pause_overlay_ui(
    ui: &mut egui::Ui,
    running: &mut RunningSession,
    commands: &mut CommandQueue,
    (escape, enter): (bool, bool),
) {
    let pausable = !matches!(
        running.screen,
        SubjectScreen::Paused | SubjectScreen::Questionnaire
    );
    // Nothing may cover what is being recorded: the question waits until the
    // stimulus (or the cross, or a calibration target) is gone.
    let recorded = shows_recorded_screen(&running.screen);
    match running.pause {
        PauseState::Running if escape && pausable => running.pause = PauseState::Confirming,
        PauseState::Confirming | PauseState::Requested if recorded => {}
        PauseState::Confirming => {
            let mut decision = None;
            egui::Frame::popup(ui.style()).show(ui, |ui| {
                ui.visuals_mut().override_text_color = None;
                ui.label(egui::RichText::new("Pause the session?").strong());
                ui.label("The current trial finishes first; the session then waits.");
                ui.horizontal(|ui| {
                    if ui.button("Pause (Enter)").clicked() || enter {
                        decision = Some(true);
                    }
                    if ui.button("Keep going (Esc)").clicked() || escape {
                        decision = Some(false);
                    }
                });
            });
            match decision {
                Some(true) => send(
                    commands,
                    ToSession::Pause {
                        at_us: frame_time_us(),
                    },
                ),
                Some(false) => running.pause = PauseState::Running,
                None => {}
            }
        }
        PauseState::Requested => {
            ui.label("Pausing after this trial…");
        }
        PauseState::Running => {}
    }
}
