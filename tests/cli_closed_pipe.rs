//! Every subcommand that prints stops quietly when its reader goes away
//! (`scanscribe validate s.ron | head -1`): no panic, no error message, status 0.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};

#[test]
fn a_closed_stdout_pipe_ends_the_command_quietly() {
    let root = env!("CARGO_MANIFEST_DIR");
    for args in [
        vec!["validate", "studies/demo.ron"],
        vec!["validate", "studies/demo-bubbleview.ron"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_scanscribe"))
            .args(&args)
            .current_dir(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command has printed anything.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(status.success(), "{args:?}: {status:?} {stderr}");
    }
}
