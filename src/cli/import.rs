//! `scanscribe import`: public datasets into dataset records.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::dataset::Split;
use crate::interop::localized_narratives::{import_localized_narratives, read_objects};

/// Import a public dataset as dataset records (records.jsonl + images/).
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Localized Narratives (COCO, Flickr30k, ADE20k, Open Images): captions with the
    /// annotator's mouse trace, which becomes the attention trajectory (I-DT in image
    /// pixels; boxes at least 5% of the image's longer side). Subjects are
    /// `ln<annotator_id>`. Images are found as <image_id>.jpg/.jpeg/.png or the 12-digit
    /// COCO name.
    #[command(after_help = "Example:\n  \
        scanscribe import localized-narratives --narratives coco_val_localized_narratives.jsonl \\\n    \
        --images val2017 --out out/ln-coco --split test --objects val2017-objects.json")]
    LocalizedNarratives {
        /// The narratives JSONL file.
        #[arg(long)]
        narratives: PathBuf,
        /// Folder with the dataset's images.
        #[arg(long)]
        images: PathBuf,
        /// Output folder for records.jsonl and images/.
        #[arg(long)]
        out: PathBuf,
        /// Split written into every record: train, val or test.
        #[arg(long, value_parser = ["train", "val", "test"])]
        split: Option<String>,
        /// What is in each image, for `eval`'s content-grounded columns: a JSON object
        /// from image id to object labels, {"137576": ["red house", "tree"]}; written
        /// into the records' `objects`.
        #[arg(long)]
        objects: Option<PathBuf>,
    },
}

pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    match &args.source {
        ImportSource::LocalizedNarratives {
            narratives,
            images,
            out,
            split,
            objects,
        } => {
            let split = match split.as_deref() {
                Some("train") => Some(Split::Train),
                Some("val") => Some(Split::Val),
                Some("test") => Some(Split::Test),
                _ => None,
            };
            let objects = match objects {
                Some(path) => read_objects(path)?,
                None => Default::default(),
            };
            let summary = import_localized_narratives(narratives, images, out, split, &objects)?;
            outln!(
                "{}: {} record(s) from {} trace points, {:.1} trajectory steps on average",
                out.join("records.jsonl").display(),
                summary.records,
                summary.trace_points,
                summary.mean_trajectory_steps
            );
            Ok(())
        }
    }
}
