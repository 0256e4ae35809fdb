//! Does personalization help? For subjects the model never saw in training: enroll
//! each from its first `shots` trials, describe every other image it viewed twice
//! (generic, and personalized with its `z_s`), and score both against what the
//! subject actually said: corpus BLEU-4 (COCO tokenization) and the Object Sequence
//! Score, i.e. whether the objects are mentioned in the subject's order.
//!
//! This is the quick check `scanscribe demo` prints; the full tables with ablations
//! are the evaluation module's job.

use std::collections::BTreeMap;

use super::data::Trials;
use super::enroll::{TrainedModel, enroll};
use crate::metrics::bleu::bleu;
use crate::metrics::ngrams::Corpus;
use crate::metrics::nouns::NounExtractor;
use crate::metrics::oss::{OssWeights, object_sequence_score};
use crate::metrics::tokenize::coco_tokenize;
use crate::metrics::wordnet::Lexicon;
use crate::model::error::{ModelError, Result};
use crate::model::generate::GenerateOptions;

/// One query image of an enrolled subject, described both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryDescriptions {
    pub subject: String,
    /// Image path as in the records.
    pub image: String,
    /// What the subject said.
    pub said: String,
    pub generic: String,
    pub personalized: String,
}

/// Means over all query images of all enrolled subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalizationScores {
    pub subjects: usize,
    pub queries: usize,
    pub bleu4_generic: f64,
    pub bleu4_personalized: f64,
    /// `None` without a WordNet lexicon.
    pub oss_generic: Option<f64>,
    pub oss_personalized: Option<f64>,
}

/// Enrolls each of `subjects` from its first `shots` trials in `trials` and describes
/// its remaining images. `progress(done, total)` after each image.
pub fn describe_unseen(
    model: &TrainedModel,
    trials: &Trials,
    subjects: &[String],
    shots: usize,
    options: &GenerateOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<QueryDescriptions>> {
    let mut plan = Vec::new();
    for subject in subjects {
        let profile = enroll(model, trials, subject, shots)?;
        let support: Vec<&str> = profile.trials.iter().map(|t| t.image.as_str()).collect();
        let queries: Vec<usize> = (0..trials.records.len())
            .filter(|&i| {
                let r = &trials.records[i];
                r.subject == *subject && !support.contains(&r.image.as_str())
            })
            .collect();
        if queries.is_empty() {
            return Err(ModelError::Data(format!(
                "subject `{subject}` has no trials left after the {shots} enrollment trials"
            )));
        }
        plan.push((profile, queries));
    }
    let total: usize = plan.iter().map(|(_, q)| q.len()).sum();
    let mut generic_by_image: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(total);
    for (profile, queries) in &plan {
        for &i in queries {
            let record = &trials.records[i];
            let path = trials.image_path(i);
            let generic = match generic_by_image.get(&record.image) {
                Some(text) => text.clone(),
                None => {
                    let (text, _) = model.describe(&path, None, options)?;
                    generic_by_image.insert(record.image.clone(), text.clone());
                    text
                }
            };
            let (personalized, _) = model.describe(&path, Some(&profile.z_s), options)?;
            out.push(QueryDescriptions {
                subject: profile.subject.clone(),
                image: record.image.clone(),
                said: record.description.clone(),
                generic,
                personalized,
            });
            progress(out.len(), total);
        }
    }
    Ok(out)
}

/// Scores generic and personalized descriptions against what the subjects said.
pub fn score(queries: &[QueryDescriptions], lexicon: Option<&Lexicon>) -> PersonalizationScores {
    let bleu4 = |pick: fn(&QueryDescriptions) -> &str| {
        let corpus = Corpus::from_tokenized(
            queries
                .iter()
                .map(|q| (coco_tokenize(pick(q)), [coco_tokenize(&q.said)])),
        );
        bleu(&corpus).corpus[3]
    };
    let oss = |pick: fn(&QueryDescriptions) -> &str| {
        let lexicon = lexicon?;
        let nouns = NounExtractor::new(lexicon);
        let weights = OssWeights::default();
        let sum: f64 = queries
            .iter()
            .map(|q| {
                object_sequence_score(
                    &nouns.nouns(pick(q)),
                    &nouns.nouns(&q.said),
                    lexicon,
                    &weights,
                )
                .score
            })
            .sum();
        Some(sum / queries.len().max(1) as f64)
    };
    let subjects: std::collections::BTreeSet<&str> =
        queries.iter().map(|q| q.subject.as_str()).collect();
    PersonalizationScores {
        subjects: subjects.len(),
        queries: queries.len(),
        bleu4_generic: bleu4(|q| &q.generic),
        bleu4_personalized: bleu4(|q| &q.personalized),
        oss_generic: oss(|q| &q.generic),
        oss_personalized: oss(|q| &q.personalized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(said: &str, generic: &str, personalized: &str) -> QueryDescriptions {
        QueryDescriptions {
            subject: "s01".into(),
            image: "a.png".into(),
            said: said.into(),
            generic: generic.into(),
            personalized: personalized.into(),
        }
    }

    #[test]
    fn the_description_closer_to_the_subjects_words_scores_higher() {
        let mut lexicon = Lexicon::empty();
        for noun in ["star", "circle", "square"] {
            lexicon.add_word(crate::metrics::wordnet::Pos::Noun, noun, 1, &[noun]);
        }
        let queries = [
            query(
                "first i noticed a red star and then a blue circle on the left",
                "a blue circle and a red star",
                "first i noticed a red star and then a blue circle on the left",
            ),
            query(
                "first i noticed a square and then a small star at the bottom",
                "a small star and a square",
                "first i noticed a square and then a star at the bottom",
            ),
        ];
        let scores = score(&queries, Some(&lexicon));
        assert_eq!((scores.subjects, scores.queries), (1, 2));
        assert!(scores.bleu4_personalized > 0.8, "{scores:?}");
        assert!(scores.bleu4_generic < 0.3, "{scores:?}");
        // Same objects, reversed order: the generic side loses on OSS.
        let (generic, personal) = (
            scores.oss_generic.unwrap(),
            scores.oss_personalized.unwrap(),
        );
        assert!((personal - 1.0).abs() < 1e-9, "{scores:?}");
        assert!(generic < personal, "{scores:?}");
        assert_eq!(score(&queries, None).oss_generic, None);
    }
}
