//! Dataset records: the one JSONL format that recordings, imports and the simulated
//! cohort all produce and that DEPER training reads.
//!
//! One JSON object a line:
//! `{"image": "images/x.png", "subject": "s07", "description": "...",
//!   "trajectory": [{"box": [x0, y0, x1, y1], "duration_ms": 312.0}, ...]}`
//! with optional `split` (`train`, `val`, `test`), `session`, `trial` and `objects`
//! (labels of what is in the image: `["red circle", "house"]`). Boxes are
//! normalized to the stimulus image, origin top-left; `image` is relative to the
//! records file's folder. The reader validates every line and reports all problems
//! with their line numbers.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One fixation of an attention trajectory: where (a box on the image) and how long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrajectoryStep {
    /// `[x0, y0, x1, y1]`, normalized to the image, origin top-left.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    pub duration_ms: f32,
}

/// Which part of an experiment a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Val,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Self::Train => "train",
            Self::Val => "val",
            Self::Test => "test",
        }
    }
}

/// One trial as DEPER sees it: image, subject, what they said, where they looked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetRecord {
    /// Image path relative to the records file's folder.
    pub image: String,
    /// Pseudonymous subject code.
    pub subject: String,
    pub description: String,
    /// Fixations in viewing order.
    pub trajectory: Vec<TrajectoryStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<String>,
    /// What is in the image, one label per object: an optional colour and a noun
    /// (`"red circle"`, `"house"`, `"traffic light"`). `eval` uses them for the
    /// content-grounded columns (hallucination, object recall, order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<String>>,
}

impl DatasetRecord {
    /// Every problem with this record's values, as `(field, message)` pairs.
    /// Image existence is checked by [`read_records`], which knows the folder.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.image.trim().is_empty() {
            problems.push(("image".into(), "expected an image path".into()));
        }
        if self.subject.trim().is_empty() {
            problems.push(("subject".into(), "expected a subject code".into()));
        }
        if self.description.trim().is_empty() {
            problems.push((
                "description".into(),
                "expected a non-empty description".into(),
            ));
        }
        for (i, label) in self.objects.iter().flatten().enumerate() {
            if label.trim().is_empty() {
                problems.push((
                    format!("objects[{i}]"),
                    "expected an object label such as \"red circle\"".into(),
                ));
            }
        }
        for (i, step) in self.trajectory.iter().enumerate() {
            let [x0, y0, x1, y1] = step.bbox;
            let inside = step
                .bbox
                .iter()
                .all(|v| v.is_finite() && (0.0..=1.0).contains(v));
            if !inside {
                problems.push((
                    format!("trajectory[{i}].box"),
                    format!("expected coordinates in [0, 1], found [{x0}, {y0}, {x1}, {y1}]"),
                ));
            } else if !(x0 < x1 && y0 < y1) {
                problems.push((
                    format!("trajectory[{i}].box"),
                    format!("expected x0 < x1 and y0 < y1, found [{x0}, {y0}, {x1}, {y1}]"),
                ));
            }
            let d = step.duration_ms;
            if !(d.is_finite() && d > 0.0) {
                problems.push((
                    format!("trajectory[{i}].duration_ms"),
                    format!("expected a finite positive duration, found {d}"),
                ));
            }
        }
        problems
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {} problem(s):\n{}{}", problems.len().min(MAX_REPORTED), list(problems), more(problems))]
    Invalid {
        path: PathBuf,
        /// `(line, message)`, line 1-based.
        problems: Vec<(usize, String)>,
    },
}

/// At most this many problems are listed in the message (all are kept in the error).
const MAX_REPORTED: usize = 50;

fn list(problems: &[(usize, String)]) -> String {
    problems
        .iter()
        .take(MAX_REPORTED)
        .map(|(line, message)| format!("  line {line}: {message}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn more(problems: &[(usize, String)]) -> String {
    if problems.len() > MAX_REPORTED {
        format!("\n  ... and {} more", problems.len() - MAX_REPORTED)
    } else {
        String::new()
    }
}

/// Reads and validates a records file. Blank lines are skipped. Images are resolved
/// against the file's folder and must exist.
pub fn read_records(path: &Path) -> Result<Vec<DatasetRecord>, RecordsError> {
    let io = |source| RecordsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let folder = path.parent().unwrap_or(Path::new("."));
    let reader = BufReader::new(File::open(path).map_err(io)?);
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let record: DatasetRecord = match serde_json::from_str(&line) {
            Ok(record) => record,
            Err(e) => {
                problems.push((line_number, format!("not a valid record: {e}")));
                continue;
            }
        };
        for (field, message) in record.problems() {
            problems.push((line_number, format!("{field}: {message}")));
        }
        if !record.image.trim().is_empty() && !folder.join(&record.image).is_file() {
            problems.push((
                line_number,
                format!("image: {} not found", folder.join(&record.image).display()),
            ));
        }
        records.push(record);
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(RecordsError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// Writes records, one JSON object a line, to a temporary file renamed into place, so
/// a crash never leaves a half-written file.
pub fn write_records(path: &Path, records: &[DatasetRecord]) -> Result<(), RecordsError> {
    let io = |source| RecordsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let temporary = path.with_extension("jsonl.partial");
    {
        let mut out = BufWriter::new(File::create(&temporary).map_err(io)?);
        for record in records {
            serde_json::to_writer(&mut out, record).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
        }
        out.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
    }
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(image: &str) -> DatasetRecord {
        DatasetRecord {
            image: image.into(),
            subject: "s07".into(),
            description: "A red circle left of a blue square.".into(),
            trajectory: vec![
                TrajectoryStep {
                    bbox: [0.1, 0.2, 0.3, 0.4],
                    duration_ms: 312.0,
                },
                TrajectoryStep {
                    bbox: [0.5, 0.5, 0.7, 0.75],
                    duration_ms: 180.5,
                },
            ],
            split: Some(Split::Train),
            session: None,
            trial: Some("t01".into()),
            objects: None,
        }
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("images")).unwrap();
        std::fs::write(dir.path().join("images/x.png"), b"png").unwrap();
        let path = dir.path().join("records.jsonl");
        let records = vec![record("images/x.png"), record("images/x.png")];
        write_records(&path, &records).unwrap();
        assert_eq!(read_records(&path).unwrap(), records);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains(r#""box":[0.1,0.2,0.3,0.4]"#),
            "{text}"
        );
        assert!(
            !text.contains("session"),
            "absent optional fields are not written"
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.png"), b"png").unwrap();
        let path = dir.path().join("records.jsonl");
        let good = serde_json::to_string(&record("x.png")).unwrap();
        let lines = [
            good.clone(),
            good.replace("[0.1,0.2,0.3,0.4]", "[0.3,0.2,0.1,0.4]"),
            good.replace("312.0", "-1.0"),
            good.replace(r#""split":"train""#, r#""split":"holdout""#),
            good.replace("x.png", "missing.png"),
            good.replace("A red circle left of a blue square.", " "),
            "{not json".to_owned(),
            good.replace("[0.1,0.2,0.3,0.4]", "[0.1,0.2,1.3,0.4]"),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let RecordsError::Invalid { problems, .. } = read_records(&path).unwrap_err() else {
            panic!("expected validation problems");
        };
        let at = |line: usize| -> String {
            problems
                .iter()
                .filter(|(l, _)| *l == line)
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(at(1).is_empty());
        assert!(at(2).contains("x0 < x1"), "{}", at(2));
        assert!(at(3).contains("duration_ms"), "{}", at(3));
        assert!(at(4).contains("holdout"), "{}", at(4));
        assert!(at(5).contains("missing.png not found"), "{}", at(5));
        assert!(at(6).contains("non-empty description"), "{}", at(6));
        assert!(at(7).contains("not a valid record"), "{}", at(7));
        assert!(at(8).contains("[0, 1]"), "{}", at(8));
    }
}
