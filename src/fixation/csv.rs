//! The fixation CSV that `scanscribe fixations` writes: one header line, then one
//! fixation a line, in time order.
//!
//! | column | unit | meaning |
//! |---|---|---|
//! | `index` | | 0-based fixation number |
//! | `start_us`, `end_us` | µs | times of the first and last sample (the input's clock) |
//! | `duration_ms` | ms | `end_us − start_us` |
//! | `x`, `y` | display-normalized | mean gaze point, origin top-left |
//! | `x_px`, `y_px` | px | the same in screen pixels |
//! | `x0`, `y0`, `x1`, `y1` | display-normalized | bounding box of the samples |
//! | `sample_count` | | samples in the fixation (gap-filled ones included) |
//!
//! For example:
//!
//! ```text
//! index,start_us,end_us,duration_ms,x,y,x_px,y_px,x0,y0,x1,y1,sample_count
//! 0,1000000,1248333,248.333,0.412345,0.598765,791.70,646.67,0.410012,0.596543,0.414321,0.601234,299
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Fixation;

/// The header line.
pub const FIXATION_CSV_HEADER: &str =
    "index,start_us,end_us,duration_ms,x,y,x_px,y_px,x0,y0,x1,y1,sample_count";

#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot write the fixations: {io}")]
pub struct FixationCsvError {
    pub path: PathBuf,
    pub io: std::io::Error,
}

/// Writes the fixations to `path`; `resolution_px` turns positions into pixels.
pub fn write_fixations(
    path: &Path,
    fixations: &[Fixation],
    resolution_px: (u32, u32),
) -> Result<(), FixationCsvError> {
    let error = |io| FixationCsvError {
        path: path.to_path_buf(),
        io,
    };
    let mut out = BufWriter::new(File::create(path).map_err(error)?);
    write_fixations_to(&mut out, fixations, resolution_px).map_err(error)?;
    out.flush().map_err(error)
}

/// Writes the fixations, header first, to any writer.
pub fn write_fixations_to(
    out: &mut impl Write,
    fixations: &[Fixation],
    resolution_px: (u32, u32),
) -> std::io::Result<()> {
    writeln!(out, "{FIXATION_CSV_HEADER}")?;
    let (w, h) = (f64::from(resolution_px.0), f64::from(resolution_px.1));
    for (index, f) in fixations.iter().enumerate() {
        let [x, y] = f.position_display;
        let [x0, y0, x1, y1] = f.bbox_display;
        writeln!(
            out,
            "{index},{},{},{:.3},{x:.6},{y:.6},{:.2},{:.2},{x0:.6},{y0:.6},{x1:.6},{y1:.6},{}",
            f.start_us,
            f.end_us,
            f.duration_ms(),
            f64::from(x) * w,
            f64::from(y) * h,
            f.sample_count
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_follow_the_documented_columns() {
        let fixation = Fixation {
            start_us: 1_000_000,
            end_us: 1_248_333,
            position_display: [0.25, 0.5],
            bbox_display: [0.24, 0.49, 0.26, 0.51],
            sample_count: 299,
        };
        let mut text = Vec::new();
        write_fixations_to(&mut text, &[fixation], (1920, 1080)).unwrap();
        let text = String::from_utf8(text).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], FIXATION_CSV_HEADER);
        assert_eq!(
            lines[1],
            "0,1000000,1248333,248.333,0.250000,0.500000,480.00,540.00,0.240000,0.490000,0.260000,0.510000,299"
        );
    }
}
