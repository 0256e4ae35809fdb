//! The gaze-sample CSV that scanscribe reads and writes (cohort streams, `fixations
//! --input`, exports), so other tools' recordings can be fed in and ours read out.
//!
//! One header line, then one sample a line, comma-separated:
//!
//! | column | unit | meaning |
//! |---|---|---|
//! | `system_time_us` | µs | system monotonic clock |
//! | `device_time_us` | µs | tracker clock (may equal the system time) |
//! | `left_x`, `left_y` | display-normalized | left gaze point, origin top-left |
//! | `left_valid` | 0/1 | left gaze point validity |
//! | `left_pupil_mm` | mm | left pupil diameter (empty when unknown) |
//! | `right_x`, `right_y`, `right_valid`, `right_pupil_mm` | | the same for the right eye |
//!
//! Only `system_time_us` and one eye's `x`, `y` are required; missing columns are
//! treated as "not measured": a missing `*_valid` means valid when `x`, `y` are
//! finite, a missing `device_time_us` copies the system time. Empty cells, `NaN`
//! and `nan` read as not-a-number (an invalid sample, never an error).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::sample::{EyeSample, GazeSample};

/// The header line [`write_samples`] produces.
pub const HEADER: &str = "system_time_us,device_time_us,left_x,left_y,left_valid,left_pupil_mm,right_x,right_y,right_valid,right_pupil_mm";

#[derive(Debug, thiserror::Error)]
pub enum GazeCsvError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the file is empty (expected a header line starting with system_time_us)")]
    Empty { path: PathBuf },
    #[error("{path}: line 1: the header has no `{column}` column (expected e.g. `{HEADER}`)")]
    MissingColumn { path: PathBuf, column: &'static str },
    #[error("{path}: line {line}: column `{column}`: {message}")]
    Cell {
        path: PathBuf,
        line: usize,
        column: String,
        message: String,
    },
}

struct Columns {
    system: usize,
    device: Option<usize>,
    left: EyeColumns,
    right: EyeColumns,
}

#[derive(Default)]
struct EyeColumns {
    x: Option<usize>,
    y: Option<usize>,
    valid: Option<usize>,
    pupil: Option<usize>,
}

impl EyeColumns {
    fn find(header: &[&str], side: &str) -> Self {
        let at = |name: &str| header.iter().position(|h| *h == format!("{side}_{name}"));
        Self {
            x: at("x"),
            y: at("y"),
            valid: at("valid"),
            pupil: at("pupil_mm"),
        }
    }

    fn present(&self) -> bool {
        self.x.is_some() && self.y.is_some()
    }
}

/// Reads a gaze CSV (see the module docs for the columns).
pub fn read_samples(path: &Path) -> Result<Vec<GazeSample>, GazeCsvError> {
    let io = |source| GazeCsvError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(io)?);
    let mut lines = reader.lines();
    let header_line = match lines.next() {
        Some(line) => line.map_err(io)?,
        None => {
            return Err(GazeCsvError::Empty {
                path: path.to_path_buf(),
            });
        }
    };
    // A byte order mark (spreadsheet exports) is not part of the first column's name.
    let header_line = header_line.trim_start_matches('\u{feff}');
    let header: Vec<&str> = header_line.trim().split(',').map(str::trim).collect();
    let missing = |column| GazeCsvError::MissingColumn {
        path: path.to_path_buf(),
        column,
    };
    let columns = Columns {
        system: header
            .iter()
            .position(|h| *h == "system_time_us")
            .ok_or_else(|| missing("system_time_us"))?,
        device: header.iter().position(|h| *h == "device_time_us"),
        left: EyeColumns::find(&header, "left"),
        right: EyeColumns::find(&header, "right"),
    };
    if !columns.left.present() && !columns.right.present() {
        return Err(missing("left_x/left_y or right_x/right_y"));
    }

    let mut samples = Vec::new();
    for (index, line) in lines.enumerate() {
        let line = line.map_err(io)?;
        let line_number = index + 2;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell_error = |column: &str, message: String| GazeCsvError::Cell {
            path: path.to_path_buf(),
            line: line_number,
            column: column.to_owned(),
            message,
        };
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let time = |i: usize, name: &str| -> Result<i64, GazeCsvError> {
            cell(i).parse::<i64>().map_err(|_| {
                cell_error(
                    name,
                    format!(
                        "expected an integer number of microseconds, found {:?}",
                        cell(i)
                    ),
                )
            })
        };
        let system_time_us = time(columns.system, "system_time_us")?;
        let device_time_us = match columns.device {
            Some(i) => time(i, "device_time_us")?,
            None => system_time_us,
        };
        let eye = |c: &EyeColumns, side: &str| -> Result<EyeSample, GazeCsvError> {
            if !c.present() {
                return Ok(EyeSample::INVALID);
            }
            let float = |i: Option<usize>, name: &str| -> Result<f32, GazeCsvError> {
                let Some(i) = i else { return Ok(f32::NAN) };
                let text = cell(i);
                if text.is_empty() || text.eq_ignore_ascii_case("nan") {
                    return Ok(f32::NAN);
                }
                text.parse::<f32>().map_err(|_| {
                    cell_error(
                        &format!("{side}_{name}"),
                        format!("expected a number, found {text:?}"),
                    )
                })
            };
            let x = float(c.x, "x")?;
            let y = float(c.y, "y")?;
            let pupil = float(c.pupil, "pupil_mm")?;
            let valid = match c.valid.map(cell) {
                None => x.is_finite() && y.is_finite(),
                Some("1" | "true") => true,
                Some("0" | "false" | "") => false,
                Some(other) => {
                    return Err(cell_error(
                        &format!("{side}_valid"),
                        format!("expected 0 or 1, found {other:?}"),
                    ));
                }
            };
            Ok(EyeSample {
                gaze_point_display: [x, y],
                gaze_point_valid: valid,
                pupil_diameter_mm: pupil,
                pupil_valid: pupil.is_finite(),
                gaze_origin_mm: [f32::NAN; 3],
                gaze_origin_valid: false,
            })
        };
        samples.push(GazeSample {
            system_time_us,
            device_time_us,
            left: eye(&columns.left, "left")?,
            right: eye(&columns.right, "right")?,
        });
    }
    Ok(samples)
}

/// Writes samples with [`HEADER`]; invalid values are written as empty cells.
pub fn write_samples(path: &Path, samples: &[GazeSample]) -> Result<(), GazeCsvError> {
    let io = |source| GazeCsvError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(io)?);
    write_samples_to(&mut out, samples).map_err(io)?;
    out.flush().map_err(io)
}

/// Writes samples with [`HEADER`] to any writer.
pub fn write_samples_to(out: &mut impl Write, samples: &[GazeSample]) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for s in samples {
        write!(out, "{},{}", s.system_time_us, s.device_time_us)?;
        for eye in [&s.left, &s.right] {
            let [x, y] = eye.gaze_point_display;
            write!(
                out,
                ",{},{},{},{}",
                finite_or_empty(x),
                finite_or_empty(y),
                u8::from(eye.gaze_point_valid),
                finite_or_empty(eye.pupil_diameter_mm)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn finite_or_empty(value: f32) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_valid_and_invalid_samples() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gaze.csv");
        let mut samples = vec![
            GazeSample::binocular(1_000, [0.25, 0.5]),
            GazeSample::lost(2_667),
        ];
        samples[0].right.gaze_point_valid = false;
        write_samples(&path, &samples).unwrap();
        let back = read_samples(&path).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].left.point(), Some([0.25, 0.5]));
        assert_eq!(back[0].right.point(), None);
        assert_eq!(back[1].system_time_us, 2_667);
        assert_eq!(back[1].average_point(), None);
    }

    #[test]
    fn minimal_columns_and_nan_cells_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mouse.csv");
        std::fs::write(
            &path,
            "system_time_us,left_x,left_y\n0,0.1,0.2\n16667,NaN,\n",
        )
        .unwrap();
        let back = read_samples(&path).unwrap();
        assert_eq!(back[0].average_point(), Some([0.1, 0.2]));
        assert_eq!(back[1].average_point(), None);
        assert_eq!(back[1].device_time_us, 16_667);
    }

    #[test]
    fn a_byte_order_mark_before_the_header_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("excel.csv");
        std::fs::write(&path, "\u{feff}system_time_us,left_x,left_y\n0,0.1,0.2\n").unwrap();
        let back = read_samples(&path).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].system_time_us, 0);
    }

    #[test]
    fn bad_cells_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.csv");
        std::fs::write(
            &path,
            "system_time_us,left_x,left_y\n0,0.1,0.2\n12.5,0.1,0.2\n",
        )
        .unwrap();
        let message = read_samples(&path).unwrap_err().to_string();
        assert!(
            message.contains("bad.csv: line 3: column `system_time_us`"),
            "{message}"
        );

        std::fs::write(&path, "time,x,y\n").unwrap();
        let message = read_samples(&path).unwrap_err().to_string();
        assert!(message.contains("no `system_time_us` column"), "{message}");
    }
}
