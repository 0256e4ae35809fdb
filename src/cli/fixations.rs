//! `scanscribe fixations`: detect fixations in a gaze CSV (`gaze::csv`) with the Tobii
//! I-VT filter or I-DT and write the fixation CSV (`fixation::csv`, columns
//! `index,start_us,end_us,duration_ms,x,y,x_px,y_px,x0,y0,x1,y1,sample_count`).
//! Thin: parses flags into `fixation` options and runs the online detector over the file.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::fixation::csv::write_fixations;
use crate::fixation::{
    EyeSelection, FixationError, IdtOptions, IvtOptions, Method, NoiseReduction, OnlineDetector,
    Preprocessing, Space,
};
use crate::gaze::csv::read_samples;
use crate::study::ScreenGeometry;

/// Detect fixations in a gaze CSV (Tobii I-VT or I-DT) and write them as CSV
///
/// Input: the gaze CSV scanscribe writes (header `system_time_us,device_time_us,left_x,
/// left_y,left_valid,left_pupil_mm,right_x,...`; only system_time_us and one eye's x, y
/// are required), gaze display-normalized with the origin top-left.
///
/// Thresholds are in degrees of visual angle, from the screen geometry (--screen-px,
/// --screen-mm, --distance-mm; missing values default to a 24" 1920×1080 screen at
/// 650 mm, with a note), or in pixels with --pixels (mouse traces without viewing
/// geometry; --screen-px gives the resolution).
///
/// I-VT follows the Tobii Pro Lab "Tobii I-VT (Fixation)" preset (Olsen 2012): gap
/// fill-in ≤ 75 ms, average eye, no noise reduction, 20 ms velocity window, 30 °/s,
/// merge fixations ≤ 75 ms and ≤ 0.5° apart, discard fixations < 60 ms. I-DT follows
/// Salvucci & Goldberg (2000): dispersion ≤ 1.0°, ≥ 100 ms. Invalid, NaN or far
/// off-screen samples are gaps, never errors; a short recording gives no fixations.
///
/// Timestamps must increase strictly: a sample whose system_time_us is not after the
/// previous one stops the run with an error naming the sample and both times, unless
/// --skip-bad-timestamps drops such samples (their count is reported).
///
/// Output columns: index (from 0); start_us, end_us (first and last sample, µs);
/// duration_ms; x, y (mean gaze, display-normalized); x_px, y_px (the same in pixels);
/// x0, y0, x1, y1 (bounding box of the samples, display-normalized); sample_count.
///
/// Example: scanscribe fixations --input gaze.csv --method ivt --screen-px 1920 1080
/// --screen-mm 531 299 --distance-mm 650 --out fixations.csv
///
/// writes e.g.
///   index,start_us,end_us,duration_ms,x,y,x_px,y_px,x0,y0,x1,y1,sample_count
///   0,1000000,1248333,248.333,0.412345,0.598765,791.70,646.67,0.410012,0.596543,0.414321,0.601234,299
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct FixationsArgs {
    /// Gaze CSV to read.
    #[arg(long, value_name = "GAZE_CSV")]
    pub input: PathBuf,
    /// Fixation CSV to write.
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Detector.
    #[arg(long, value_enum, default_value_t = MethodArg::Ivt)]
    pub method: MethodArg,

    /// Screen resolution in pixels [default: 1920 1080].
    #[arg(long, num_args = 2, value_names = ["W", "H"], help_heading = "Screen")]
    pub screen_px: Option<Vec<u32>>,
    /// Visible screen size in millimetres [default: 531 299].
    #[arg(long, num_args = 2, value_names = ["W", "H"], help_heading = "Screen")]
    pub screen_mm: Option<Vec<f64>>,
    /// Eye-to-screen distance in millimetres [default: 650].
    #[arg(long, value_name = "D", help_heading = "Screen")]
    pub distance_mm: Option<f64>,
    /// Thresholds in pixels (px, px/s) instead of degrees; needs no size or distance.
    #[arg(long, conflicts_with_all = ["screen_mm", "distance_mm"], help_heading = "Screen")]
    pub pixels: bool,

    /// Eye selection.
    #[arg(long, value_enum, default_value_t = EyeArg::Average, help_heading = "Both methods")]
    pub eye: EyeArg,
    /// Do not fill gaps by interpolation.
    #[arg(long, help_heading = "Both methods")]
    pub no_gap_fill: bool,
    /// Longest gap filled in, ms; a step between samples longer than this (and than 75 ms)
    /// is a gap: raise it for event-driven mouse traces.
    #[arg(long, default_value_t = Preprocessing::default().max_gap_ms, value_name = "MS", help_heading = "Both methods")]
    pub max_gap_ms: f64,
    /// Noise reduction.
    #[arg(long, value_enum, default_value_t = NoiseArg::None, help_heading = "Both methods")]
    pub noise_reduction: NoiseArg,
    /// Noise-reduction window in samples (odd).
    #[arg(
        long,
        default_value_t = 3,
        value_name = "SAMPLES",
        help_heading = "Both methods"
    )]
    pub noise_window: usize,
    /// Drop samples whose timestamp is not after the previous one instead of stopping.
    #[arg(long, help_heading = "Both methods")]
    pub skip_bad_timestamps: bool,

    /// Velocity window, ms [default: 20].
    #[arg(long, value_name = "MS", help_heading = "I-VT")]
    pub velocity_window_ms: Option<f64>,
    /// Velocity threshold, °/s (px/s with --pixels) [default: 30; 1200 with --pixels].
    #[arg(long, value_name = "PER_S", help_heading = "I-VT")]
    pub velocity_threshold: Option<f64>,
    /// Sampling rate, Hz [default: the median of the first 100 intervals].
    #[arg(long, value_name = "HZ", help_heading = "I-VT")]
    pub sampling_rate_hz: Option<f64>,
    /// Do not merge adjacent fixations.
    #[arg(long, help_heading = "I-VT")]
    pub no_merge: bool,
    /// Merge: longest time between fixations, ms [default: 75].
    #[arg(long, value_name = "MS", help_heading = "I-VT")]
    pub merge_max_time_ms: Option<f64>,
    /// Merge: largest distance, ° (px with --pixels) [default: 0.5; 20 with --pixels].
    #[arg(long, value_name = "DIST", help_heading = "I-VT")]
    pub merge_max_distance: Option<f64>,
    /// Do not discard short fixations.
    #[arg(long, help_heading = "I-VT")]
    pub no_discard: bool,
    /// Discard fixations shorter than this, ms [default: 60].
    #[arg(long, value_name = "MS", help_heading = "I-VT")]
    pub min_fixation_ms: Option<f64>,

    /// Dispersion threshold, ° (px with --pixels) [default: 1.0; 40 with --pixels].
    #[arg(long, value_name = "DIST", help_heading = "I-DT")]
    pub dispersion_threshold: Option<f64>,
    /// Shortest fixation, ms [default: 100].
    #[arg(long, value_name = "MS", help_heading = "I-DT")]
    pub min_duration_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Tobii I-VT fixation filter (velocity threshold).
    Ivt,
    /// Dispersion threshold (Salvucci & Goldberg).
    Idt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EyeArg {
    Average,
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoiseArg {
    None,
    Median,
    Mean,
}

impl FixationsArgs {
    /// The space thresholds are measured in; notes assumed geometry on stderr.
    fn space(&self) -> anyhow::Result<Space> {
        let default = ScreenGeometry::default();
        let pair = |v: &Option<Vec<u32>>| v.as_ref().map(|v| (v[0], v[1]));
        let resolution_px = pair(&self.screen_px).unwrap_or(default.resolution_px);
        let mut assumed = Vec::new();
        if self.screen_px.is_none() {
            assumed.push(format!(
                "--screen-px {} {}",
                resolution_px.0, resolution_px.1
            ));
        }
        let space = if self.pixels {
            Space::Pixels { resolution_px }
        } else {
            let size_mm = self
                .screen_mm
                .as_ref()
                .map_or(default.size_mm, |v| (v[0], v[1]));
            if self.screen_mm.is_none() {
                assumed.push(format!("--screen-mm {} {}", size_mm.0, size_mm.1));
            }
            let viewing_distance_mm = self.distance_mm.unwrap_or(default.viewing_distance_mm);
            if self.distance_mm.is_none() {
                assumed.push(format!("--distance-mm {viewing_distance_mm}"));
            }
            Space::Visual(ScreenGeometry {
                resolution_px,
                size_mm,
                viewing_distance_mm,
            })
        };
        if !assumed.is_empty() {
            eprintln!("note: assuming {}", assumed.join(" "));
        }
        space
            .validate()
            .context("the screen given by --screen-px, --screen-mm, --distance-mm")?;
        Ok(space)
    }

    /// The detector settings: the defaults for `space`, overridden by the flags given.
    fn method(&self, space: &Space) -> anyhow::Result<Method> {
        let preprocessing = Preprocessing {
            gap_fill: !self.no_gap_fill,
            max_gap_ms: self.max_gap_ms,
            eye: match self.eye {
                EyeArg::Average => EyeSelection::Average,
                EyeArg::Left => EyeSelection::Left,
                EyeArg::Right => EyeSelection::Right,
            },
            noise_reduction: match self.noise_reduction {
                NoiseArg::None => NoiseReduction::None,
                NoiseArg::Median => NoiseReduction::MovingMedian {
                    window_samples: self.noise_window,
                },
                NoiseArg::Mean => NoiseReduction::MovingAverage {
                    window_samples: self.noise_window,
                },
            },
        };
        let ivt_flags = [
            ("--velocity-window-ms", self.velocity_window_ms.is_some()),
            ("--velocity-threshold", self.velocity_threshold.is_some()),
            ("--sampling-rate-hz", self.sampling_rate_hz.is_some()),
            ("--no-merge", self.no_merge),
            ("--merge-max-time-ms", self.merge_max_time_ms.is_some()),
            ("--merge-max-distance", self.merge_max_distance.is_some()),
            ("--no-discard", self.no_discard),
            ("--min-fixation-ms", self.min_fixation_ms.is_some()),
        ];
        let idt_flags = [
            (
                "--dispersion-threshold",
                self.dispersion_threshold.is_some(),
            ),
            ("--min-duration-ms", self.min_duration_ms.is_some()),
        ];
        let (foreign, method_name) = match self.method {
            MethodArg::Ivt => (&idt_flags[..], "ivt"),
            MethodArg::Idt => (&ivt_flags[..], "idt"),
        };
        if let Some((flag, _)) = foreign.iter().find(|(_, given)| *given) {
            anyhow::bail!("{flag} does not apply to --method {method_name}");
        }
        Ok(match self.method {
            MethodArg::Ivt => {
                let d = IvtOptions::default_for(space);
                Method::Ivt(IvtOptions {
                    preprocessing,
                    velocity_window_ms: self.velocity_window_ms.unwrap_or(d.velocity_window_ms),
                    velocity_threshold: self.velocity_threshold.unwrap_or(d.velocity_threshold),
                    sampling_rate_hz: self.sampling_rate_hz.or(d.sampling_rate_hz),
                    merge: !self.no_merge,
                    merge_max_time_ms: self.merge_max_time_ms.unwrap_or(d.merge_max_time_ms),
                    merge_max_distance: self.merge_max_distance.unwrap_or(d.merge_max_distance),
                    discard_short: !self.no_discard,
                    min_fixation_ms: self.min_fixation_ms.unwrap_or(d.min_fixation_ms),
                })
            }
            MethodArg::Idt => {
                let d = IdtOptions::default_for(space);
                Method::Idt(IdtOptions {
                    preprocessing,
                    dispersion_threshold: self
                        .dispersion_threshold
                        .unwrap_or(d.dispersion_threshold),
                    min_duration_ms: self.min_duration_ms.unwrap_or(d.min_duration_ms),
                })
            }
        })
    }
}

pub fn run(args: &FixationsArgs) -> anyhow::Result<()> {
    let space = args.space()?;
    let method = args.method(&space)?;
    let mut detector = OnlineDetector::new(&method, space).context("invalid fixation settings")?;
    let samples = read_samples(&args.input)?;
    let mut fixations = Vec::new();
    let mut skipped: Vec<FixationError> = Vec::new();
    for sample in &samples {
        match detector.push(sample, &mut fixations) {
            Ok(()) => {}
            Err(error @ FixationError::TimeNotIncreasing { .. }) if args.skip_bad_timestamps => {
                skipped.push(error);
            }
            Err(error) => {
                let hint = match error {
                    FixationError::TimeNotIncreasing { index, .. } => format!(
                        " (data row {} after the header); pass --skip-bad-timestamps to drop such samples",
                        index + 1
                    ),
                    FixationError::InvalidOption { .. } => String::new(),
                };
                anyhow::bail!("{}: {error}{hint}", args.input.display());
            }
        }
    }
    detector.finish(&mut fixations);
    write_fixations(&args.out, &fixations, space.resolution_px())?;

    if let Some(first) = skipped.first() {
        eprintln!(
            "note: skipped {} samples whose timestamp did not increase; the first: {first}",
            skipped.len()
        );
    }
    let total_ms: f64 = fixations.iter().map(|f| f.duration_ms()).sum();
    outln!(
        "{} fixations (mean {:.0} ms) from {} samples, thresholds in {} → {}",
        fixations.len(),
        total_ms / fixations.len().max(1) as f64,
        samples.len(),
        space.unit(),
        args.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::gaze::GazeSample;
    use crate::gaze::csv::write_samples;

    /// Parses `scanscribe fixations` with the flags in `line` (split at spaces).
    fn parse(line: &str) -> FixationsArgs {
        let args = ["scanscribe", "fixations"]
            .into_iter()
            .chain(line.split_whitespace());
        match Cli::try_parse_from(args).unwrap().command {
            Some(Command::Fixations(args)) => *args,
            other => panic!("{other:?}"),
        }
    }

    /// 300 Hz: 300 ms at (0.4, 0.5), a jump, 300 ms at (0.6, 0.5); input and output paths.
    fn two_fixations(dir: &std::path::Path) -> (String, String) {
        let samples: Vec<GazeSample> = (0..180)
            .map(|k| {
                let t_us = (k as f64 * 1e6 / 300.0).round() as i64;
                GazeSample::binocular(t_us, [if k < 90 { 0.4 } else { 0.6 }, 0.5])
            })
            .collect();
        let path = dir.join("gaze.csv");
        write_samples(&path, &samples).unwrap();
        let out = dir.join("fixations.csv");
        (path.display().to_string(), out.display().to_string())
    }

    #[test]
    fn writes_the_documented_csv() {
        let dir = tempfile::tempdir().unwrap();
        let (input, out) = two_fixations(dir.path());
        for method in ["ivt", "idt"] {
            run(&parse(&format!(
                "--input {input} --method {method} --screen-px 1920 1080 --screen-mm 531 299 \
                 --distance-mm 650 --out {out}"
            )))
            .unwrap();
            let text = std::fs::read_to_string(&out).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines[0], crate::fixation::csv::FIXATION_CSV_HEADER);
            assert_eq!(lines.len(), 3, "{method}: {text}");
            let cells: Vec<&str> = lines[2].split(',').collect();
            assert_eq!(&cells[4..8], ["0.600000", "0.500000", "1152.00", "540.00"]);
        }
    }

    #[test]
    fn pixel_mode_and_flag_checks() {
        let dir = tempfile::tempdir().unwrap();
        let (input, out) = two_fixations(dir.path());
        let args = parse(&format!(
            "--input {input} --out {out} --pixels --screen-px 1000 800"
        ));
        let space = args.space().unwrap();
        let resolution_px = (1000, 800);
        assert_eq!(space, Space::Pixels { resolution_px });
        let Method::Ivt(options) = args.method(&space).unwrap() else {
            panic!()
        };
        assert_eq!(options.velocity_threshold, 1200.0);
        run(&args).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);

        let args = parse(&format!(
            "--input {input} --out {out} --method idt --velocity-threshold 50"
        ));
        let message = args.method(&space).unwrap_err().to_string();
        assert_eq!(
            message,
            "--velocity-threshold does not apply to --method idt"
        );
        let args = parse(&format!(
            "--input {input} --out {out} --noise-reduction median --noise-window 4"
        ));
        assert!(format!("{:#}", run(&args).unwrap_err()).contains("odd"));
    }

    #[test]
    fn bad_timestamps_stop_the_run_or_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("gaze.csv");
        std::fs::write(
            &input,
            "system_time_us,left_x,left_y\n0,0.5,0.5\n10,0.5,0.5\n10,0.5,0.5\n20,0.5,0.5\n",
        )
        .unwrap();
        let out = dir.path().join("fixations.csv");
        let (input, out) = (input.display(), out.display());
        let message = run(&parse(&format!("--input {input} --out {out}")))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(
                "gaze.csv: sample 2 (0-based): time 10 µs is not after the previous sample's 10 µs"
            ),
            "{message}"
        );
        assert!(message.contains("--skip-bad-timestamps"), "{message}");
        run(&parse(&format!(
            "--input {input} --out {out} --skip-bad-timestamps"
        )))
        .unwrap();
    }

    #[test]
    fn help_states_the_defaults_the_detectors_use() {
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("fixations")
            .unwrap()
            .render_long_help()
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let ivt = IvtOptions::default();
        let idt = IdtOptions::default();
        let pixels = IvtOptions::default_for(&Space::Pixels {
            resolution_px: (1, 1),
        });
        for expected in [
            format!("[default: {}]", ivt.velocity_window_ms),
            format!(
                "[default: {}; {} with --pixels]",
                ivt.velocity_threshold, pixels.velocity_threshold
            ),
            format!("[default: {}]", ivt.merge_max_time_ms),
            format!(
                "[default: {}; {} with --pixels]",
                ivt.merge_max_distance, pixels.merge_max_distance
            ),
            format!("[default: {}]", ivt.min_fixation_ms),
            format!(
                "[default: {:.1}; 40 with --pixels]",
                idt.dispersion_threshold
            ),
            format!("[default: {}]", idt.min_duration_ms),
            crate::fixation::csv::FIXATION_CSV_HEADER.to_owned(),
        ] {
            assert!(help.contains(&expected), "{expected} missing from:\n{help}");
        }
    }
}
