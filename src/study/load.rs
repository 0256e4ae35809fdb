//! Loading a study file: RON parsing (past unknown fields: see [`super::unknown_fields`]),
//! then every semantic check, with all problems reported at once (file, line where it
//! can be found, field, what was expected).

use std::collections::HashSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use super::schema::Study;
use super::unknown_fields::parse_past_unknown_fields;

/// One thing wrong with a study file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// 1-based line in the study file, when the offending text could be located.
    pub line: Option<usize>,
    /// Field path, e.g. `trials[2].image`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("{path}: cannot read the study file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {} problem(s):\n{}", problems.len(), list(problems))]
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A study that passed validation, with its paths resolved.
#[derive(Debug, Clone)]
pub struct LoadedStudy {
    pub study: Study,
    /// The study file itself.
    pub path: PathBuf,
    /// The resolved image root (canonical).
    pub image_root: PathBuf,
    /// Each trial's image, resolved, in the file's trial order.
    pub image_paths: Vec<PathBuf>,
    /// Each trial's image size in pixels, in the file's trial order.
    pub image_sizes_px: Vec<(u32, u32)>,
}

impl LoadedStudy {
    /// The order in which a subject sees the trials (indices into `study.trials`):
    /// the file's order, or a shuffle seeded by the study seed and the subject code,
    /// stable across runs and machines.
    pub fn trial_order(&self, subject: &str) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.study.trials.len()).collect();
        if let Some(randomization) = &self.study.randomization {
            use rand::SeedableRng;
            use rand::seq::SliceRandom;
            let seed = randomization.seed ^ fnv1a(subject.as_bytes());
            order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        }
        order
    }
}

/// 64-bit FNV-1a: a stable hash (std's hasher may change between releases).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Reads, parses and validates a study file.
pub fn load_study(path: &Path) -> Result<LoadedStudy, StudyError> {
    let text = std::fs::read_to_string(path).map_err(|source| StudyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // A byte order mark (editors on Windows) is not RON; its absence changes no line.
    let (study, mut problems) = parse_past_unknown_fields(text.trim_start_matches('\u{feff}'))
        .map_err(|stopped| {
            let (error, set_aside) = *stopped;
            let mut message = error.code.to_string();
            if !set_aside.is_empty() {
                let lines: Vec<String> = set_aside
                    .iter()
                    .map(|p| format!("{} (line {})", p.field, p.line.unwrap_or(0)))
                    .collect();
                message += &format!("; unknown fields before it: {}", lines.join(", "));
            }
            message += "; the rest of the file was not checked";
            StudyError::Syntax {
                path: path.to_path_buf(),
                line: error.span.start.line,
                column: error.span.start.col,
                message,
            }
        })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut report = |line: Option<usize>, field: String, message: String| {
        problems.push(Problem {
            line,
            field,
            message,
        });
    };

    check_text_fields(&study, &text, &mut report);
    for (field, message) in study.screen.problems() {
        // The value's own line (`viewing_distance_mm: -3.0`), else the block's.
        let name = field.rsplit('.').next().unwrap_or(field);
        let line = line_of(&text, &format!("{name}:")).or_else(|| line_of(&text, "screen:"));
        report(line, field.to_owned(), message);
    }
    check_calibration(&study, &text, &mut report);
    check_attention(&study, &text, &mut report);

    let image_root = folder.join(&study.image_root);
    let image_root = match image_root.canonicalize() {
        Ok(root) if root.is_dir() => Some(root),
        _ => {
            report(
                line_of(&text, "image_root"),
                "image_root".to_owned(),
                format!("the folder {} does not exist", image_root.display()),
            );
            None
        }
    };

    if study.trials.is_empty() {
        report(
            line_of(&text, "trials"),
            "trials".into(),
            "expected at least one trial".into(),
        );
    }
    let mut seen_ids = HashSet::new();
    let mut sizes = std::collections::HashMap::new();
    let mut image_paths = Vec::new();
    let mut image_sizes_px = Vec::new();
    for (i, trial) in study.trials.iter().enumerate() {
        let field = |name: &str| format!("trials[{i}].{name}");
        // Lines are looked up only for a problem: a scan of the text per trial made
        // validation quadratic in the trial count.
        let id_line = || line_of(&text, &format!("\"{}\"", trial.id));
        if !is_identifier(&trial.id) {
            report(
                id_line(),
                field("id"),
                format!("expected letters, digits, '-' or '_', found {:?}", trial.id),
            );
        }
        if !seen_ids.insert(trial.id.as_str()) {
            let second = nth_line_of(&text, &format!("\"{}\"", trial.id), 1);
            report(
                second,
                field("id"),
                format!("duplicate trial id {:?}", trial.id),
            );
        }
        if trial.viewing_time_ms == 0 {
            report(
                id_line(),
                field("viewing_time_ms"),
                "expected a viewing time above 0 ms".into(),
            );
        }
        if let Some(dictation) = trial.dictation
            && dictation.max_length_ms == 0
        {
            report(
                id_line(),
                field("dictation.max_length_ms"),
                "expected a maximum above 0 ms".into(),
            );
        }
        let image_line = || line_of(&text, &trial.image.to_string_lossy());
        let Some(root) = &image_root else { continue };
        match resolve_inside(root, &trial.image) {
            Err(message) => report(image_line(), field("image"), message),
            Ok(resolved) => match image_size(&mut sizes, &resolved) {
                Ok(size) => {
                    image_paths.push(resolved);
                    image_sizes_px.push(size);
                }
                Err(e) => {
                    let message = if resolved.exists() {
                        format!("{} is not a readable image: {e}", resolved.display())
                    } else {
                        format!("image not found: {}", resolved.display())
                    };
                    report(image_line(), field("image"), message);
                }
            },
        }
    }

    if let Some(breaks) = &study.breaks
        && breaks.every_n_trials == 0
    {
        report(
            line_of(&text, "every_n_trials"),
            "breaks.every_n_trials".into(),
            "expected at least 1".into(),
        );
    }

    match image_root {
        Some(image_root) if problems.is_empty() => Ok(LoadedStudy {
            study,
            path: path.to_path_buf(),
            image_root,
            image_paths,
            image_sizes_px,
        }),
        _ => Err(StudyError::Invalid {
            path: path.to_path_buf(),
            problems,
        }),
    }
}

type Report<'a> = dyn FnMut(Option<usize>, String, String) + 'a;

fn check_text_fields(study: &Study, text: &str, report: &mut Report<'_>) {
    if !is_identifier(&study.id) {
        report(
            line_of(text, "id:"),
            "id".into(),
            format!(
                "expected a short identifier (letters, digits, '-' or '_'), found {:?}",
                study.id
            ),
        );
    }
    if study.title.trim().is_empty() {
        report(
            line_of(text, "title:"),
            "title".into(),
            "expected a non-empty title".into(),
        );
    }
}

fn check_calibration(study: &Study, text: &str, report: &mut Report<'_>) {
    let plan = &study.calibration;
    if plan.calibration_targets().is_none() {
        report(
            line_of(text, "points:"),
            "calibration.points".into(),
            format!(
                "expected 5, 9 or 13 calibration points, found {}",
                plan.points
            ),
        );
    }
    if plan.validation_points.is_empty() {
        report(
            line_of(text, "validation_points"),
            "calibration.validation_points".into(),
            "expected at least one validation point".into(),
        );
    }
    for (i, &(x, y)) in plan.validation_points.iter().enumerate() {
        if !((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)) {
            report(
                line_of(text, "validation_points"),
                format!("calibration.validation_points[{i}]"),
                format!("expected a point inside the screen, [0, 1]², found ({x}, {y})"),
            );
        }
    }
    for (field, value) in [
        ("calibration.max_accuracy_deg", plan.max_accuracy_deg),
        (
            "calibration.max_precision_rms_deg",
            plan.max_precision_rms_deg,
        ),
    ] {
        if !(value.is_finite() && value > 0.0) {
            let key = field.rsplit('.').next().unwrap_or(field);
            report(
                line_of(text, key),
                field.into(),
                format!("expected a positive number of degrees, found {value}"),
            );
        }
    }
}

fn check_attention(study: &Study, text: &str, report: &mut Report<'_>) {
    let Some(bubbles) = study.attention.bubble_view() else {
        return;
    };
    // A bubble wider than a quarter of the screen height reveals the picture at once.
    let screen = &study.screen;
    let screen_height_deg = 2.0
        * (screen.size_mm.1 / 2.0)
            .atan2(screen.viewing_distance_mm)
            .to_degrees();
    let largest_radius_deg = (screen_height_deg / 4.0).max(0.1);
    for (key, value, upper) in [
        (
            "bubble_radius_deg",
            bubbles.bubble_radius_deg,
            largest_radius_deg,
        ),
        ("blur_sigma_deg", bubbles.blur_sigma_deg, largest_radius_deg),
    ] {
        let line = line_of(text, key).or_else(|| line_of(text, "BubbleView"));
        let field = format!("attention.BubbleView.{key}");
        if !(value.is_finite() && value > 0.0) {
            report(
                line,
                field,
                format!("expected a positive number of degrees, found {value}"),
            );
        } else if value > upper {
            report(
                line,
                field,
                format!(
                    "{value}° is more than a quarter of the screen's height ({upper:.1}°); expected a few degrees"
                ),
            );
        }
    }
}

/// Joins `relative` to `root`, refusing absolute paths and `..` that leave the root.
fn resolve_inside(root: &Path, relative: &Path) -> Result<PathBuf, String> {
    let mut depth = 0_i32;
    for component in relative.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!(
                        "{} leaves the image folder {}: images must be inside it",
                        relative.display(),
                        root.display()
                    ));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "{} is an absolute path: give it relative to the image folder {}",
                    relative.display(),
                    root.display()
                ));
            }
        }
    }
    let joined = root.join(relative);
    // A symbolic link could still point outside; check the real location when it exists.
    if let Ok(real) = joined.canonicalize()
        && !real.starts_with(root)
    {
        return Err(format!(
            "{} resolves to {}, outside the image folder",
            relative.display(),
            real.display()
        ));
    }
    Ok(joined)
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The size of the image at `path`, read once per file however many trials show it.
fn image_size(
    sizes: &mut std::collections::HashMap<PathBuf, (u32, u32)>,
    path: &Path,
) -> image::ImageResult<(u32, u32)> {
    if let Some(&size) = sizes.get(path) {
        return Ok(size);
    }
    let size = image::image_dimensions(path)?;
    sizes.insert(path.to_path_buf(), size);
    Ok(size)
}

/// The 1-based line of the first occurrence of `needle`, ignoring comment lines.
fn line_of(text: &str, needle: &str) -> Option<usize> {
    nth_line_of(text, needle, 0)
}

fn nth_line_of(text: &str, needle: &str, n: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//") && line.contains(needle))
        .nth(n)
        .map(|(i, _)| i + 1)
}
