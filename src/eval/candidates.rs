//! The descriptions each row of a table puts forward for the queries of an evaluation
//! set: generated (generic or personalized with a subject's profile) or copied (the
//! trivial baseline).

use std::collections::HashMap;

use candle_core::{D, Tensor};

use super::EvalError;
use super::sets::EvalSet;
use crate::metrics::captions::CaptionRecord;
use crate::model::GenerateOptions;
use crate::model::captioner::Captioner;
use crate::model::deper::data::Trials;
use crate::model::deper::enroll::TrainedModel;
use crate::model::images::load_image;

/// Trials per forward pass when computing profiles.
const PROFILE_CHUNK: usize = 32;

fn candidate(trials: &Trials, index: usize, description: String) -> CaptionRecord {
    let r = &trials.records[index];
    CaptionRecord {
        image: r.image.clone(),
        subject: r.subject.clone(),
        description,
    }
}

/// The generic description of every query image (one generation per image, cached
/// across sets in `cache`). `tick` is called once per query.
pub fn generic(
    model: &TrainedModel,
    trials: &Trials,
    set: &EvalSet,
    options: &GenerateOptions,
    cache: &mut HashMap<String, String>,
    tick: &mut dyn FnMut(),
) -> Result<Vec<CaptionRecord>, EvalError> {
    let mut out = Vec::with_capacity(set.query_count());
    for subject in &set.subjects {
        for &q in &subject.queries {
            let image = &trials.records[q].image;
            let text = match cache.get(image) {
                Some(text) => text.clone(),
                None => {
                    let (text, _) = model.describe(&trials.image_path(q), None, options)?;
                    cache.insert(image.clone(), text.clone());
                    text
                }
            };
            out.push(candidate(trials, q, text));
            tick();
        }
    }
    Ok(out)
}

/// The mean `z_s` of a subject over `support` (indices into `trials`).
pub fn profile(
    model: &TrainedModel,
    trials: &Trials,
    support: &[usize],
) -> Result<Vec<f32>, EvalError> {
    let mut sum: Option<Tensor> = None;
    for chunk in support.chunks(PROFILE_CHUNK) {
        let part = model.subject_embeddings(trials, chunk)?.sum(0)?;
        sum = Some(match sum {
            Some(s) => (s + part)?,
            None => part,
        });
    }
    let sum = sum.ok_or_else(|| EvalError::Data("a subject with no support trials".into()))?;
    Ok((sum / support.len() as f64)?.to_vec1::<f32>()?)
}

/// Personalized descriptions: each subject's profile from their support records,
/// then one generation per query.
pub fn personalized(
    model: &TrainedModel,
    trials: &Trials,
    set: &EvalSet,
    options: &GenerateOptions,
    tick: &mut dyn FnMut(),
) -> Result<Vec<CaptionRecord>, EvalError> {
    let mut out = Vec::with_capacity(set.query_count());
    for subject in &set.subjects {
        let z_s = profile(model, trials, &subject.support)?;
        for &q in &subject.queries {
            let (text, _) = model.describe(&trials.image_path(q), Some(&z_s), options)?;
            out.push(candidate(trials, q, text));
            tick();
        }
    }
    Ok(out)
}

/// Image vectors for the trivial baseline: the frozen image encoder's tokens,
/// mean-pooled and L2-normalized, by image path (relative, as in the records).
#[derive(Debug, Default)]
pub struct ImageVectors(HashMap<String, Vec<f32>>);

impl ImageVectors {
    /// Encodes every image of `trials` the records mention.
    pub fn compute(
        captioner: &Captioner,
        trials: &Trials,
        device: &candle_core::Device,
    ) -> Result<Self, EvalError> {
        let mut images: Vec<(String, std::path::PathBuf)> = (0..trials.records.len())
            .map(|i| (trials.records[i].image.clone(), trials.image_path(i)))
            .collect();
        images.sort();
        images.dedup();
        let size = captioner.config.image.image_size;
        let mut map = HashMap::new();
        for chunk in images.chunks(16) {
            let pixels = chunk
                .iter()
                .map(|(_, p)| load_image(p, size, device))
                .collect::<Result<Vec<_>, _>>()?;
            let pooled = captioner
                .image_features(&Tensor::stack(&pixels, 0)?)?
                .mean(1)?;
            let norm = pooled.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?;
            let unit = pooled.broadcast_div(&(norm + 1e-8)?)?.to_vec2::<f32>()?;
            for ((name, _), v) in chunk.iter().zip(unit) {
                map.insert(name.clone(), v);
            }
        }
        Ok(Self(map))
    }

    fn similarity(&self, a: &str, b: &str) -> f32 {
        match (self.0.get(a), self.0.get(b)) {
            (Some(x), Some(y)) => x.iter().zip(y).map(|(p, q)| p * q).sum(),
            _ => f32::NEG_INFINITY,
        }
    }
}

/// The trivial baseline: for each query, the subject's own description of the support
/// image most similar to the query image (ties to the earlier record).
pub fn trivial(vectors: &ImageVectors, trials: &Trials, set: &EvalSet) -> Vec<CaptionRecord> {
    let mut out = Vec::with_capacity(set.query_count());
    for subject in &set.subjects {
        for &q in &subject.queries {
            let query_image = &trials.records[q].image;
            let mut best: Option<(usize, f32)> = None;
            for &s in &subject.support {
                let sim = vectors.similarity(query_image, &trials.records[s].image);
                if best.is_none_or(|(_, b)| sim > b) {
                    best = Some((s, sim));
                }
            }
            let text =
                best.map_or_else(String::new, |(s, _)| trials.records[s].description.clone());
            out.push(candidate(trials, q, text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetRecord, Split};
    use crate::eval::sets::{Setting, SubjectQueries};

    #[test]
    fn trivial_copies_the_own_description_of_the_most_similar_support_image() {
        let record = |image: &str, subject: &str, text: &str| DatasetRecord {
            image: image.into(),
            subject: subject.into(),
            description: text.into(),
            trajectory: Vec::new(),
            split: Some(Split::Train),
            session: None,
            trial: None,
            objects: None,
        };
        let trials = Trials {
            root: ".".into(),
            records: vec![
                record("a.png", "s1", "mine about a"),
                record("b.png", "s1", "mine about b"),
                record("b.png", "s2", "theirs about b"),
                record("q.png", "s1", "query"),
            ],
        };
        let mut vectors = ImageVectors::default();
        vectors.0.insert("a.png".into(), vec![1.0, 0.0]);
        vectors.0.insert("b.png".into(), vec![0.0, 1.0]);
        vectors.0.insert("q.png".into(), vec![0.1, 0.9]);
        let set = EvalSet {
            setting: Setting::Seen,
            subjects: vec![SubjectQueries {
                subject: "s1".into(),
                support: vec![0, 1],
                queries: vec![3],
            }],
        };
        let out = trivial(&vectors, &trials, &set);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].description, "mine about b");
        assert_eq!(
            (out[0].image.as_str(), out[0].subject.as_str()),
            ("q.png", "s1")
        );
    }
}
