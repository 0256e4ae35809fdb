//! Caption metrics as the DEPER paper reports them: BLEU-1..4 and CIDEr-D with
//! parity to the COCO caption evaluation toolkit (pycocoevalcap), the Object Sequence
//! Score (OSS) over WordNet nouns, subject distinguishability (CLS), human consistency
//! (HC), content grounding (object hallucination, recall and order against the
//! subject, [`grounding`]), and retrieval top-k helpers.
//!
//! Pure computation on strings: no UI, no ML, no files except the WordNet database
//! that [`wordnet::Lexicon::load`] reads and the JSON lines [`captions`] reads.
//!
//! Typical use: tokenize raw captions with [`tokenize::coco_tokenize`], build a
//! [`ngrams::Corpus`] of (candidate, references) segments, then call [`bleu::bleu`]
//! and [`cider::cider_d`].

pub mod bleu;
pub mod captions;
pub mod cider;
pub mod grounding;
pub mod ngrams;
pub mod nouns;
pub mod oss;
pub mod personal;
mod ptb_words;
pub mod repetition;
pub mod report;
pub mod retrieval;
pub mod tokenize;
pub mod wordnet;
