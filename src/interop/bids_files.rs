//! Small writers the BIDS exporter needs: gzip-compressed headerless TSV, pretty JSON,
//! label sanitizing.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes rows as gzip-compressed TSV without a header line (BIDS continuous data).
pub fn write_tsv_gz(path: &Path, rows: &[Vec<String>]) -> Result<(), FileError> {
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut encoder = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(file),
        flate2::Compression::default(),
    );
    for row in rows {
        encoder
            .write_all(row.join("\t").as_bytes())
            .map_err(io_error(path))?;
        encoder.write_all(b"\n").map_err(io_error(path))?;
    }
    encoder
        .finish()
        .and_then(|mut w| w.flush())
        .map_err(io_error(path))
}

/// Writes a TSV with a header line.
pub fn write_tsv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<(), FileError> {
    let mut text = header.join("\t");
    text.push('\n');
    for row in rows {
        text.push_str(&row.join("\t"));
        text.push('\n');
    }
    std::fs::write(path, text).map_err(io_error(path))
}

pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), FileError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    std::fs::write(path, text + "\n").map_err(io_error(path))
}

/// A BIDS label: letters and digits only (`s-07_b` → `s07b`).
pub fn label(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// A number for a TSV cell: `n/a` when not finite.
pub fn cell(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "n/a".to_owned()
    }
}
