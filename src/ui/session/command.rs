//! What the session screens ask for. Panels push these inside
//! [`Command::Session`](crate::ui::command::Command::Session); `handling.rs` applies
//! them after the frame.

use std::path::PathBuf;

use super::protocol::ToSession;

#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Show the session setup for the open study (and probe the devices once).
    OpenSetup,
    /// Look for trackers, microphones and resumable sessions again.
    Probe,
    /// Open the chosen microphone and show its level (stops the previous test).
    TestMicrophone,
    /// Start a new session with the setup form.
    Start,
    /// Continue the interrupted session in this folder.
    Resume(PathBuf),
    /// Pass a message to the session thread.
    Send(ToSession),
    /// The first frame of this trial's stimulus was presented at `present_us`.
    StimulusPresented { trial_index: usize, present_us: i64 },
    /// Forget the finished session and show the setup again.
    Dismiss,
}
