//! The text tokenizer: a byte-pair encoding trained on the training descriptions with
//! the Hugging Face `tokenizers` crate, saved and loaded as `tokenizer.json` (the
//! format every Hugging Face model folder uses), lower-cased, Metaspace pre-tokenized
//! so decoding gives back the spacing.
//!
//! Special tokens: `<pad>` (0), `<bos>`, `<eos>`, `<unk>`, `<subj>` (the slot whose
//! input embedding the DEPER adapter replaces).

use std::path::Path;

use tokenizers::decoders::metaspace::Metaspace as MetaspaceDecoder;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::utils::Lowercase;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::{AddedToken, Tokenizer};

use super::error::{ModelError, Result};

pub const PAD: &str = "<pad>";
pub const BOS: &str = "<bos>";
pub const EOS: &str = "<eos>";
pub const UNK: &str = "<unk>";
pub const SUBJ: &str = "<subj>";

/// Names of the special tokens of a tokenizer: padding, start and end of a
/// description, and the subject slot.
#[derive(Debug, Clone, Copy)]
pub struct SpecialTokens<'a> {
    pub pad: &'a str,
    pub bos: &'a str,
    pub eos: &'a str,
    pub subj: &'a str,
}

/// The special tokens of the tokenizers trained here.
pub const BUILTIN_SPECIALS: SpecialTokens<'static> = SpecialTokens {
    pad: PAD,
    bos: BOS,
    eos: EOS,
    subj: SUBJ,
};

/// A loaded tokenizer with the ids of its special tokens.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    pub pad_id: u32,
    pub bos_id: u32,
    pub eos_id: u32,
    pub subj_id: u32,
}

impl TextTokenizer {
    /// Trains a BPE of at most `vocab_size` tokens on `texts`.
    pub fn train<S: AsRef<str> + Send + Sync>(texts: &[S], vocab_size: usize) -> Result<Self> {
        let err = |e: tokenizers::Error| ModelError::TokenizerTraining(e.to_string());
        let specials: Vec<AddedToken> = [PAD, BOS, EOS, UNK, SUBJ]
            .iter()
            .map(|t| AddedToken::from(*t, true))
            .collect();
        let bpe = BPE::builder().unk_token(UNK.into()).build().map_err(err)?;
        let mut tokenizer = Tokenizer::new(bpe);
        tokenizer
            .with_normalizer(Some(Lowercase))
            .with_pre_tokenizer(Some(Metaspace::new('▁', PrependScheme::Always, true)))
            .with_decoder(Some(MetaspaceDecoder::new(
                '▁',
                PrependScheme::Always,
                true,
            )));
        let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(1)
            .show_progress(false)
            .special_tokens(specials)
            .build()
            .into();
        tokenizer
            .train(&mut trainer, texts.iter().map(|t| t.as_ref().to_owned()))
            .map_err(err)?;
        Self::from_tokenizer(tokenizer, &BUILTIN_SPECIALS).map_err(ModelError::TokenizerTraining)
    }

    fn from_tokenizer(
        inner: Tokenizer,
        specials: &SpecialTokens,
    ) -> std::result::Result<Self, String> {
        let id = |token: &str| {
            inner
                .token_to_id(token)
                .ok_or_else(|| format!("special token `{token}` is not in the vocabulary"))
        };
        Ok(Self {
            pad_id: id(specials.pad)?,
            bos_id: id(specials.bos)?,
            eos_id: id(specials.eos)?,
            subj_id: id(specials.subj)?,
            inner,
        })
    }

    /// Loads a `tokenizer.json`.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_with(path, &BUILTIN_SPECIALS, false)
    }

    /// Loads a `tokenizer.json` whose special tokens have other names (a pretrained
    /// model's); `add_subj`: a missing subject token is added as a new special token.
    pub fn load_with(path: &Path, specials: &SpecialTokens, add_subj: bool) -> Result<Self> {
        if !path.is_file() {
            return Err(ModelError::MissingFile {
                path: path.to_path_buf(),
                what: "tokenizer.json of the model folder".into(),
            });
        }
        let tok = |message: String| ModelError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let mut inner = Tokenizer::from_file(path).map_err(|e| tok(e.to_string()))?;
        if add_subj && inner.token_to_id(specials.subj).is_none() {
            inner.add_special_tokens(&[AddedToken::from(specials.subj, true)]);
        }
        Self::from_tokenizer(inner, specials).map_err(tok)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        self.inner
            .save(path, true)
            .map_err(|e| ModelError::Tokenizer {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Id of `token`, if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Token ids of `text`, special tokens (such as `<subj>`) recognized, no extras added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode(text, false)
            .map_err(|e| ModelError::TokenizerTraining(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Text of `ids`, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let text = self
            .inner
            .decode(ids, true)
            .map_err(|e| ModelError::TokenizerTraining(e.to_string()))?;
        Ok(text.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trained_tokenizer_round_trips_text_and_keeps_subj_whole() {
        let texts = [
            "A red circle left of a blue square.",
            "The blue square is above the green triangle.",
            "I see a red circle and a small green triangle.",
        ];
        let tok = TextTokenizer::train(&texts, 120).unwrap();
        let ids = tok.encode("a red circle left of a blue square.").unwrap();
        assert_eq!(
            tok.decode(&ids).unwrap(),
            "a red circle left of a blue square."
        );
        let prompt = tok.encode("in the style of <subj>").unwrap();
        assert_eq!(prompt.iter().filter(|&&i| i == tok.subj_id).count(), 1);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        tok.save(&path).unwrap();
        let loaded = TextTokenizer::load(&path).unwrap();
        assert_eq!(
            loaded.encode("blue triangle").unwrap(),
            tok.encode("blue triangle").unwrap()
        );
        assert_eq!(loaded.vocab_size(), tok.vocab_size());

        let missing = TextTokenizer::load(&dir.path().join("nope.json")).unwrap_err();
        assert!(missing.to_string().contains("nope.json"), "{missing}");
        std::fs::write(&path, "{ not json").unwrap();
        let corrupt = TextTokenizer::load(&path).unwrap_err();
        assert!(corrupt.to_string().contains("tokenizer.json"), "{corrupt}");
    }
}
