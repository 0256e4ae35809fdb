//! Loading a study file on a worker thread: validation through
//! [`crate::study::load_study`], plus, when it fails, the text of the lines the
//! problems point at so the report can quote them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::study::{StudyError, load_study};

use super::WorkerEvent;
use crate::ui::app_state::LoadFailure;

/// Quoted lines longer than this are cut (with an ellipsis).
const MAX_QUOTED_CHARS: usize = 160;

pub fn load(generation: u64, path: PathBuf) -> WorkerEvent {
    let absolute_path = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    let outcome = load_study(&path).map(Box::new).map_err(|error| {
        let quoted_lines = quote_lines(&path, &error_lines(&error));
        Box::new(LoadFailure {
            path: path.clone(),
            error,
            quoted_lines,
        })
    });
    WorkerEvent::StudyLoaded {
        generation,
        path,
        absolute_path,
        outcome,
    }
}

/// The 1-based lines an error points at.
fn error_lines(error: &StudyError) -> Vec<usize> {
    match error {
        StudyError::Io { .. } => Vec::new(),
        StudyError::Syntax { line, .. } => vec![*line],
        StudyError::Invalid { problems, .. } => problems.iter().filter_map(|p| p.line).collect(),
    }
}

/// Reads the file again and keeps the wanted lines; empty if it cannot be read.
fn quote_lines(path: &Path, lines: &[usize]) -> BTreeMap<usize, String> {
    if lines.is_empty() {
        return BTreeMap::new();
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(number, _)| lines.contains(number))
        .map(|(number, line)| (number, shorten(line)))
        .collect()
}

fn shorten(line: &str) -> String {
    let line = line.trim_end();
    if line.chars().count() <= MAX_QUOTED_CHARS {
        return line.to_owned();
    }
    let cut: String = line.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_quotes_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.ron");
        std::fs::write(&path, "Study(\n    id: \"x\",\n    title: oops,\n)\n").unwrap();
        let WorkerEvent::StudyLoaded { outcome, .. } = load(7, path) else {
            panic!("expected a StudyLoaded event");
        };
        let failure = outcome.err().unwrap();
        let StudyError::Syntax { line, .. } = failure.error else {
            panic!("expected a syntax error, got {}", failure.error);
        };
        assert_eq!(failure.quoted_lines.get(&line).unwrap(), "    title: oops,");
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "x".repeat(500);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(short.ends_with('…'));
    }
}
