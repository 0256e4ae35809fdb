//! The scanscribe desktop app (egui/eframe on wgpu).
//!
//! Split the way rerun's viewer is: `app.rs` is the shell (one frame), `app_state.rs`
//! the runtime state, `settings.rs` what is remembered between runs, `command.rs` what
//! the UI can ask for, `command_handling.rs` where commands and worker reports change
//! the state, `workers/` the background jobs (study loading, thumbnails, file
//! dialogs) reporting through a channel, and `panels/` one panel per file. The UI
//! thread never waits on the disk.
//!
//! May use every library module; no library module may use this one.

mod app;
pub mod app_state;
pub mod command;
mod command_handling;
pub mod locate;
pub mod panels;
pub mod preview;
pub mod replay;
pub mod session;
pub mod settings;
pub mod workers;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use app::App;
pub use locate::Startup;
pub use settings::Settings;

/// Opens the app window on `study`, or on the bundled demo study when `None`, and
/// returns when the window is closed. With `quick`, a session starts as soon as the
/// study is loaded (see [`App::with_quick_start`]); with `replay` sessions, the app
/// opens on the Replay screen with them (see [`App::with_replay`]).
pub fn run(
    study: Option<PathBuf>,
    quick: Option<session::QuickStart>,
    replay: Vec<PathBuf>,
) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let startup = locate::startup_study(study, &cwd, Path::new(env!("CARGO_MANIFEST_DIR")));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("scanscribe")
            .with_app_id("scanscribe")
            .with_inner_size([1200.0, 800.0])
            .with_min_inner_size([640.0, 420.0]),
        ..Default::default()
    };
    eframe::run_native(
        "scanscribe",
        options,
        Box::new(move |cc| {
            let app = App::from_creation_context(cc, startup);
            let app = match quick {
                Some(quick) => app.with_quick_start(quick),
                None => app,
            };
            Ok(Box::new(if replay.is_empty() {
                app
            } else {
                app.with_replay(replay)
            }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the app window could not be opened: {e}"))
}
