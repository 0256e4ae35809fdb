//! The content-grounded columns of the result tables: where each image's object
//! labels come from, and the scores of a row and of the human descriptions
//! (see [`crate::metrics::grounding`]).
//!
//! Labels come from the records' `objects` field; a records file with none falls back
//! to the `scenes.json` that `scanscribe simulate` writes beside it (cohorts written
//! before records carried objects). With neither, the columns stay empty.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::EvalError;
use crate::dataset::DatasetRecord;
use crate::metrics::captions::CaptionRecord;
use crate::metrics::grounding::{GroundingScorer, GroundingScores};
use crate::metrics::wordnet::Lexicon;

/// Each image's object labels, from the records or from `scenes.json` in `root`.
pub fn object_labels(
    records: &[DatasetRecord],
    root: &Path,
) -> Result<HashMap<String, Vec<String>>, EvalError> {
    let mut labels: HashMap<String, Vec<String>> = HashMap::new();
    for record in records {
        if let Some(objects) = &record.objects {
            labels
                .entry(record.image.clone())
                .or_insert_with(|| objects.clone());
        }
    }
    if labels.is_empty() {
        let scenes = root.join("scenes.json");
        if scenes.is_file() {
            labels = scene_labels(&scenes)?;
        }
    }
    Ok(labels)
}

#[derive(Deserialize)]
struct ScenesFile {
    scenes: Vec<SceneEntry>,
}

#[derive(Deserialize)]
struct SceneEntry {
    image: String,
    objects: Vec<SceneObject>,
}

#[derive(Deserialize)]
struct SceneObject {
    shape: String,
    colour: String,
}

/// The labels ("red circle") of a cohort's `scenes.json`.
fn scene_labels(path: &Path) -> Result<HashMap<String, Vec<String>>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(EvalError::io(path))?;
    let file: ScenesFile = serde_json::from_str(&text).map_err(|e| {
        EvalError::Data(format!(
            "{}: not a scenes file (expected {{\"scenes\": [{{\"image\", \"objects\": [{{\"shape\", \"colour\"}}]}}]}}): {e}",
            path.display()
        ))
    })?;
    Ok(file
        .scenes
        .into_iter()
        .map(|s| {
            let labels = s
                .objects
                .iter()
                .map(|o| format!("{} {}", o.colour, o.shape))
                .collect();
            (s.image, labels)
        })
        .collect())
}

/// The scorer over `labels`, with WordNet synonyms for nouns the cohort does not know.
pub fn scorer(labels: &HashMap<String, Vec<String>>, lexicon: &Lexicon) -> GroundingScorer {
    let mut images: Vec<(&String, &Vec<String>)> = labels.iter().collect();
    images.sort(); // class numbering must not depend on hash order
    GroundingScorer::new(
        images.into_iter().map(|(i, l)| (i.as_str(), l.as_slice())),
        Some(lexicon),
    )
}

/// A row's scores: its descriptions against the subject's own real description.
pub fn row_scores(
    scorer: &GroundingScorer,
    candidates: &[CaptionRecord],
    references: &[CaptionRecord],
) -> GroundingScores {
    let own: HashMap<(&str, &str), &str> = references
        .iter()
        .map(|r| {
            (
                (r.image.as_str(), r.subject.as_str()),
                r.description.as_str(),
            )
        })
        .collect();
    let triples: Vec<(&str, &str, &str)> = candidates
        .iter()
        .filter_map(|c| {
            own.get(&(c.image.as_str(), c.subject.as_str()))
                .map(|r| (c.image.as_str(), c.description.as_str(), *r))
        })
        .collect();
    scorer.score(&triples)
}

/// The human descriptions' own rates: their hallucination, and how well another
/// subject's description of the same image recalls and orders what this one named
/// (the level a description that knows nothing of the subject reaches by content).
pub fn human_scores(scorer: &GroundingScorer, references: &[CaptionRecord]) -> GroundingScores {
    let hallucination = scorer.hallucination(
        references
            .iter()
            .map(|r| (r.image.as_str(), r.description.as_str())),
    );
    let mut by_image: HashMap<&str, Vec<&CaptionRecord>> = HashMap::new();
    for r in references {
        by_image.entry(r.image.as_str()).or_default().push(r);
    }
    let triples = references.iter().flat_map(|r| {
        by_image[r.image.as_str()]
            .iter()
            .filter(move |o| o.subject != r.subject)
            .map(move |o| {
                (
                    r.image.as_str(),
                    o.description.as_str(),
                    r.description.as_str(),
                )
            })
    });
    let (recall, order_tau) = scorer.agreement(triples);
    GroundingScores {
        hallucination,
        recall,
        order_tau,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(image: &str, subject: &str, text: &str) -> CaptionRecord {
        CaptionRecord {
            image: image.into(),
            subject: subject.into(),
            description: text.into(),
        }
    }

    #[test]
    fn scenes_json_gives_colour_and_shape_labels_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenes.json");
        std::fs::write(
            &path,
            r#"{"seed": 1, "scenes": [{"image": "images/a.png", "split": "train",
                "objects": [{"shape": "circle", "colour": "red", "size": "small"}]}]}"#,
        )
        .unwrap();
        let labels = object_labels(&[], dir.path()).unwrap();
        assert_eq!(labels["images/a.png"], ["red circle"]);
        std::fs::write(&path, "{\"scenes\": 3}").unwrap();
        let err = object_labels(&[], dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("scenes.json") && err.contains("not a scenes file"),
            "{err}"
        );
    }

    #[test]
    fn a_row_is_scored_against_its_own_subject_and_humans_against_each_other() {
        let labels: HashMap<String, Vec<String>> = [(
            "i".to_owned(),
            vec!["red circle".to_owned(), "blue square".to_owned()],
        )]
        .into();
        let scorer = scorer(&labels, &Lexicon::empty());
        let refs = vec![
            c("i", "a", "a red circle and a blue square"),
            c("i", "b", "a blue square, then a red circle"),
        ];
        let copy = row_scores(&scorer, &refs, &refs);
        assert_eq!(copy.hallucination, Some(0.0));
        assert_eq!((copy.recall, copy.order_tau), (Some(1.0), Some(1.0)));
        let human = human_scores(&scorer, &refs);
        assert_eq!(human.recall, Some(1.0));
        assert_eq!(
            human.order_tau,
            Some(-1.0),
            "the two subjects name them in opposite order"
        );
        let wrong = vec![c("i", "a", "a green star")];
        assert_eq!(row_scores(&scorer, &wrong, &refs).hallucination, None);
        let wrong = vec![c("i", "a", "a green circle")];
        assert_eq!(row_scores(&scorer, &wrong, &refs).hallucination, Some(1.0));
    }
}
