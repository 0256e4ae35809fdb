//! Reading descriptions to score: JSON lines of `{"image", "subject", "description"}`,
//! the dataset record format (`crate::dataset`) with every other field ignored, so
//! dataset files, model outputs and hand-made files all work.
//!
//! Errors name the file and the line. One description per (image, subject) in a file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ngrams::FastMap;

/// One description of an image by a subject.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CaptionRecord {
    pub image: String,
    pub subject: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CaptionsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}: expected a JSON object with string fields \"image\", \"subject\" \
         and \"description\": {message}"
    )]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{path}:{line}: a second description of image {image:?} by subject {subject:?} \
         (the first is on line {first_line}); expected one per (image, subject)"
    )]
    Duplicate {
        path: PathBuf,
        line: usize,
        first_line: usize,
        image: String,
        subject: String,
    },
}

/// Reads a JSON-lines file of descriptions; blank lines are skipped.
pub fn read_captions(path: &Path) -> Result<Vec<CaptionRecord>, CaptionsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CaptionsError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_captions(path, &text)
}

/// Parses JSON-lines text read from `path` (used in messages only).
pub fn parse_captions(path: &Path, text: &str) -> Result<Vec<CaptionRecord>, CaptionsError> {
    let mut records = Vec::new();
    let mut first_line: FastMap<(String, String), usize> = FastMap::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: CaptionRecord =
            serde_json::from_str(line).map_err(|e| CaptionsError::Parse {
                path: path.to_owned(),
                line: i + 1,
                message: e.to_string(),
            })?;
        let key = (record.image.clone(), record.subject.clone());
        if let Some(&first) = first_line.get(&key) {
            return Err(CaptionsError::Duplicate {
                path: path.to_owned(),
                line: i + 1,
                first_line: first,
                image: record.image,
                subject: record.subject,
            });
        }
        first_line.insert(key, i + 1);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignores_extra_fields_and_blank_lines() {
        let text = concat!(
            r#"{"image":"a.png","subject":"s1","description":"a dog","trajectory":[],"split":"test"}"#,
            "\n\n",
            r#"{"image":"a.png","subject":"s2","description":"a cat"}"#,
            "\n"
        );
        let records = parse_captions(Path::new("c.jsonl"), text).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].description, "a cat");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let text = "{\"image\":\"a\",\"subject\":\"s\",\"description\":\"x\"}\n{\"image\":\"a\"}\n";
        let message = parse_captions(Path::new("c.jsonl"), text)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("c.jsonl:2: expected a JSON object"),
            "{message}"
        );
        assert!(message.contains("subject"), "{message}");

        let text = "{\"image\":\"a\",\"subject\":\"s\",\"description\":\"x\"}\n\
                    {\"image\":\"a\",\"subject\":\"s\",\"description\":\"y\"}\n";
        let message = parse_captions(Path::new("c.jsonl"), text)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("c.jsonl:2:") && message.contains("line 1"),
            "{message}"
        );
    }
}
