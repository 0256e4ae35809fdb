//! Import of Localized Narratives (Pont-Tuset et al., 2020: COCO, Flickr30k, ADE20k
//! and Open Images annotations) into dataset records.
//!
//! Each input line is one narrative: `{"dataset_id", "image_id", "annotator_id",
//! "caption", "timed_caption": [{"utterance", "start_time", "end_time"}], "traces":
//! [[{"x", "y", "t"}, ...], ...]}`, with trace points normalized to the image (they may
//! stray outside `[0, 1]`) and `t` in seconds. The mouse trace is what the annotator
//! pointed at while speaking: it runs through the fixation pipeline in pixel space
//! (I-DT, thresholds in image pixels, since viewing geometry is unknown) and becomes a
//! trajectory like a recorded one. The subject is `ln<annotator_id>`.
//!
//! Images are looked up in the images folder as `<image_id>.jpg|.jpeg|.png`, or the
//! 12-digit zero-padded COCO name (`000000137576.jpg`); a missing image is reported
//! with the line number and the names tried.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dataset::{DatasetRecord, Split, write_records};
use crate::fixation::online::{Method, detect_fixations};
use crate::fixation::space::Space;
use crate::fixation::{ImagePlacement, TrajectoryOptions, build_trajectory};
use crate::gaze::GazeSample;
use crate::study::ScreenGeometry;

/// Boxes grow to at least this share of the image's longer side (the mouse pointer
/// marks a region, not a point).
pub const MIN_BOX_FRACTION: f64 = 0.05;

#[derive(Debug, Deserialize)]
struct TracePoint {
    x: f64,
    y: f64,
    t: f64,
}

#[derive(Debug, Deserialize)]
struct Narrative {
    #[serde(default)]
    dataset_id: String,
    image_id: serde_json::Value,
    annotator_id: serde_json::Value,
    caption: String,
    #[serde(default)]
    traces: Vec<Vec<TracePoint>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {} problem(s):\n{}", problems.len(), problems.iter().map(|(l, m)| format!("  line {l}: {m}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        path: PathBuf,
        problems: Vec<(usize, String)>,
    },
    #[error(transparent)]
    Records(#[from] crate::dataset::RecordsError),
}

/// What an import produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportSummary {
    pub records: usize,
    pub trace_points: usize,
    pub mean_trajectory_steps: f64,
}

/// Reads an objects file: a JSON object from image id to the labels of what is in
/// that image (`{"137576": ["red house", "tree"]}`), for the records' `objects`.
pub fn read_objects(path: &Path) -> Result<HashMap<String, Vec<String>>, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let objects: HashMap<String, Vec<String>> =
        serde_json::from_str(&text).map_err(|e| ImportError::Invalid {
            path: path.to_path_buf(),
            problems: vec![(
                e.line(),
                format!(
                    "expected a JSON object from image id to a list of object labels, \
                     e.g. {{\"137576\": [\"red house\", \"tree\"]}}: {e}"
                ),
            )],
        })?;
    Ok(objects)
}

/// Reads a Localized Narratives JSONL file and writes `out/records.jsonl`, copying the
/// images it uses to `out/images/`. Every record gets `split` when given, and the
/// labels `objects` gives for its image id.
pub fn import_localized_narratives(
    narratives: &Path,
    images: &Path,
    out: &Path,
    split: Option<Split>,
    objects: &HashMap<String, Vec<String>>,
) -> Result<ImportSummary, ImportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Io { path, source }
    };
    let file = std::fs::File::open(narratives).map_err(io(narratives))?;
    let out_images = out.join("images");
    std::fs::create_dir_all(&out_images).map_err(io(&out_images))?;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut summary = ImportSummary::default();
    let mut sizes: HashMap<PathBuf, (u32, u32)> = HashMap::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line_number = index + 1;
        let line = line.map_err(io(narratives))?;
        if line.trim().is_empty() {
            continue;
        }
        let narrative: Narrative = match serde_json::from_str(&line) {
            Ok(n) => n,
            Err(e) => {
                problems.push((
                    line_number,
                    format!("not a Localized Narratives record: {e}"),
                ));
                continue;
            }
        };
        if narrative.caption.trim().is_empty() {
            problems.push((
                line_number,
                "empty caption: a record needs the annotator's description".to_owned(),
            ));
            continue;
        }
        let image_id = id_text(&narrative.image_id);
        let Some(image_path) = find_image(images, &image_id) else {
            problems.push((line_number, format!("image {image_id} not found in {} (tried {image_id}.jpg/.jpeg/.png and the 12-digit COCO name)", images.display())));
            continue;
        };
        let size = match sizes.get(&image_path) {
            Some(size) => *size,
            None => match image::image_dimensions(&image_path) {
                Ok(size) => {
                    sizes.insert(image_path.clone(), size);
                    size
                }
                Err(e) => {
                    problems.push((
                        line_number,
                        format!("{}: not a readable image: {e}", image_path.display()),
                    ));
                    continue;
                }
            },
        };
        let samples = trace_samples(&narrative.traces);
        if let Some(bad) = samples
            .windows(2)
            .position(|w| w[1].system_time_us < w[0].system_time_us)
        {
            problems.push((
                line_number,
                format!(
                    "trace time goes backwards at point {} (t in seconds must not decrease)",
                    bad + 1
                ),
            ));
            continue;
        }
        summary.trace_points += samples.len();
        let trajectory = match trace_trajectory(&samples, size) {
            Ok(t) => t,
            Err(e) => {
                problems.push((line_number, e));
                continue;
            }
        };
        let file_name = image_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = out_images.join(&file_name);
        if !target.exists() {
            std::fs::copy(&image_path, &target).map_err(io(&target))?;
        }
        records.push(DatasetRecord {
            image: format!("images/{file_name}"),
            subject: format!("ln{}", id_text(&narrative.annotator_id)),
            description: narrative.caption.trim().to_owned(),
            trajectory,
            split,
            session: (!narrative.dataset_id.is_empty()).then_some(narrative.dataset_id),
            objects: objects.get(&image_id).cloned(),
            trial: Some(image_id),
        });
    }
    if !problems.is_empty() {
        return Err(ImportError::Invalid {
            path: narratives.to_path_buf(),
            problems,
        });
    }
    summary.records = records.len();
    summary.mean_trajectory_steps = records.iter().map(|r| r.trajectory.len()).sum::<usize>()
        as f64
        / records.len().max(1) as f64;
    write_records(&out.join("records.jsonl"), &records)?;
    Ok(summary)
}

fn id_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn find_image(folder: &Path, image_id: &str) -> Option<PathBuf> {
    let mut names: Vec<String> = ["jpg", "jpeg", "png"]
        .iter()
        .map(|e| format!("{image_id}.{e}"))
        .collect();
    if let Ok(number) = image_id.parse::<u64>() {
        names.push(format!("{number:012}.jpg"));
    }
    names
        .into_iter()
        .map(|n| folder.join(n))
        .find(|p| p.is_file())
}

/// The trace as mouse "gaze" samples: image-normalized points (the image is the whole
/// display here), µs timestamps. Points are binocular stand-ins; NaN stays invalid.
fn trace_samples(traces: &[Vec<TracePoint>]) -> Vec<GazeSample> {
    traces
        .iter()
        .flatten()
        .map(|p| {
            let t_us = (p.t * 1e6).round() as i64;
            if p.x.is_finite() && p.y.is_finite() {
                GazeSample::binocular(t_us, [p.x as f32, p.y as f32])
            } else {
                GazeSample::lost(t_us)
            }
        })
        .collect()
}

/// Fixations of a trace in image pixels, then the trajectory on the image.
fn trace_trajectory(
    samples: &[GazeSample],
    image_size_px: (u32, u32),
) -> Result<Vec<crate::dataset::TrajectoryStep>, String> {
    let space = Space::Pixels {
        resolution_px: image_size_px,
    };
    let fixations =
        detect_fixations(samples, &Method::idt_for(&space), space).map_err(|e| e.to_string())?;
    let screen = ScreenGeometry {
        resolution_px: image_size_px,
        ..ScreenGeometry::default()
    };
    let options = TrajectoryOptions {
        min_box_px: Some(MIN_BOX_FRACTION * f64::from(image_size_px.0.max(image_size_px.1))),
        ..TrajectoryOptions::default()
    };
    let whole_display = ImagePlacement {
        rect_display: [0.0, 0.0, 1.0, 1.0],
    };
    Ok(build_trajectory(
        &fixations,
        &whole_display,
        &screen,
        &options,
    ))
}
