//! Which records an evaluation scores, and which records stand for each subject.
//!
//! - **Seen subjects** are the subjects with training records (split `train`, or no
//!   split). Their *test split* is their records of held-out images (split `test`):
//!   images no one was trained on, described by people the model was trained on. A
//!   seen subject's profile (`z_s`) is the mean over their training records, and the
//!   trivial baseline may copy any of their training descriptions.
//! - **Unseen subjects** have no training records at all (the cohort's held-out
//!   subjects: every record in `test`). Each is enrolled *k*-shot from their first
//!   *k* records in file order (the support trials, as `scanscribe enroll` does); their
//!   remaining records are the queries. Only the support trials stand for the subject.
//!
//! Validation records are used by neither set.

use std::collections::BTreeMap;

use crate::dataset::{DatasetRecord, Split};

/// The two evaluation settings of the paper's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    Seen,
    Unseen,
}

impl Setting {
    pub fn title(self, shots: usize) -> String {
        match self {
            Self::Seen => "Seen subjects, held-out images (test split)".into(),
            Self::Unseen => format!("Unseen subjects, enrolled {shots}-shot"),
        }
    }
}

/// One subject of an evaluation set: the records that stand for them (profile and
/// trivial baseline) and the records to describe.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectQueries {
    pub subject: String,
    /// Indices into the records: training records (seen) or support trials (unseen).
    pub support: Vec<usize>,
    /// Indices into the records: the (image, subject) pairs to describe.
    pub queries: Vec<usize>,
}

/// An evaluation set: its subjects, in code order.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalSet {
    pub setting: Setting,
    pub subjects: Vec<SubjectQueries>,
}

impl EvalSet {
    pub fn query_count(&self) -> usize {
        self.subjects.iter().map(|s| s.queries.len()).sum()
    }
}

/// Splits `records` into the seen and the unseen evaluation sets (see the module
/// docs). Unseen subjects with no record left after `shots` support trials are
/// dropped; so are seen subjects without test records.
pub fn eval_sets(records: &[DatasetRecord], shots: usize) -> [EvalSet; 2] {
    let mut by_subject: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        by_subject.entry(r.subject.as_str()).or_default().push(i);
    }
    let is_train = |i: &usize| matches!(records[*i].split, None | Some(Split::Train));
    let is_test = |i: &usize| records[*i].split == Some(Split::Test);
    let mut seen = Vec::new();
    let mut unseen = Vec::new();
    for (subject, indices) in by_subject {
        let train: Vec<usize> = indices.iter().copied().filter(is_train).collect();
        let test: Vec<usize> = indices.iter().copied().filter(is_test).collect();
        if !train.is_empty() {
            if !test.is_empty() {
                seen.push(SubjectQueries {
                    subject: subject.to_owned(),
                    support: train,
                    queries: test,
                });
            }
        } else if test.len() > shots && shots > 0 {
            unseen.push(SubjectQueries {
                subject: subject.to_owned(),
                support: test[..shots].to_vec(),
                queries: test[shots..].to_vec(),
            });
        }
    }
    [
        EvalSet {
            setting: Setting::Seen,
            subjects: seen,
        },
        EvalSet {
            setting: Setting::Unseen,
            subjects: unseen,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(subject: &str, image: usize, split: Split) -> DatasetRecord {
        DatasetRecord {
            image: format!("images/{image}.png"),
            subject: subject.into(),
            description: "a red circle".into(),
            trajectory: Vec::new(),
            split: Some(split),
            session: None,
            trial: None,
            objects: None,
        }
    }

    #[test]
    fn seen_queries_are_test_images_of_trained_subjects_and_unseen_keep_k_supports() {
        let mut records = Vec::new();
        for image in 0..10 {
            let split = match image {
                0..=6 => Split::Train,
                7 => Split::Val,
                _ => Split::Test,
            };
            records.push(record("a", image, split));
            records.push(record("b", image, split));
            records.push(record("u", image, Split::Test));
        }
        let [seen, unseen] = eval_sets(&records, 5);
        assert_eq!(seen.subjects.len(), 2);
        for s in &seen.subjects {
            assert_eq!(s.support.len(), 7, "all training records");
            assert_eq!(s.queries.len(), 2, "the two test images");
            assert!(
                s.queries
                    .iter()
                    .all(|&i| records[i].split == Some(Split::Test))
            );
        }
        assert_eq!(unseen.subjects.len(), 1);
        let u = &unseen.subjects[0];
        assert_eq!(u.subject, "u");
        assert_eq!(u.support.len(), 5);
        assert_eq!(u.queries.len(), 5);
        assert!(u.support.iter().all(|i| !u.queries.contains(i)));
        assert!(u.support.iter().all(|&i| records[i].subject == "u"));
        assert_eq!(unseen.query_count(), 5);
        // With 10 shots nothing would be left to describe: the subject is dropped.
        assert!(eval_sets(&records, 10)[1].subjects.is_empty());
    }
}
