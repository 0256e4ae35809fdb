//! Decoding side of Whisper's byte-level BPE tokenizer, read from a Hugging Face
//! `tokenizer.json`: the BPE vocabulary plus the added (special) tokens. Decoding
//! maps ids to their strings and the byte-level unicode alphabet back to bytes.
//!
//! Owns only id ↔ string mapping; it must not encode text (Whisper decoding never
//! needs it) nor know about models.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why a `tokenizer.json` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("cannot read tokenizer file {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path} is not valid JSON: {error}")]
    Json {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error("{path}: expected {field}")]
    Field { path: PathBuf, field: &'static str },
    #[error("{path}: token id {id} is used twice (\"{first}\" and \"{second}\")")]
    DuplicateId {
        path: PathBuf,
        id: u32,
        first: String,
        second: String,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    text: String,
    special: bool,
}

/// Maps token ids to text for one Whisper vocabulary.
#[derive(Debug, Clone)]
pub struct WhisperTokenizer {
    by_id: HashMap<u32, Entry>,
    by_text: HashMap<String, u32>,
    byte_of_char: HashMap<char, u8>,
}

impl WhisperTokenizer {
    /// Reads `tokenizer.json` (the Hugging Face `tokenizers` format, BPE model).
    pub fn from_file(path: &Path) -> Result<Self, TokenizerError> {
        let text = std::fs::read_to_string(path).map_err(|error| TokenizerError::Read {
            path: path.to_path_buf(),
            error,
        })?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|error| TokenizerError::Json {
                path: path.to_path_buf(),
                error,
            })?;
        Self::from_json(&json, path)
    }

    /// Builds the tokenizer from parsed `tokenizer.json` content; `path` only names
    /// the source in errors.
    pub fn from_json(json: &serde_json::Value, path: &Path) -> Result<Self, TokenizerError> {
        let field = |field| TokenizerError::Field {
            path: path.to_path_buf(),
            field,
        };
        let vocab = json
            .pointer("/model/vocab")
            .and_then(|v| v.as_object())
            .ok_or_else(|| field("an object at model.vocab (token string → id)"))?;
        let mut tokens: Vec<(u32, Entry)> = Vec::with_capacity(vocab.len() + 128);
        for (text, id) in vocab {
            let id = id
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| field("non-negative integer ids in model.vocab"))?;
            tokens.push((
                id,
                Entry {
                    text: text.clone(),
                    special: false,
                },
            ));
        }
        if let Some(added) = json.get("added_tokens") {
            let added = added
                .as_array()
                .ok_or_else(|| field("an array at added_tokens"))?;
            for token in added {
                let id = token
                    .get("id")
                    .and_then(|v| v.as_u64())
                    .and_then(|id| u32::try_from(id).ok())
                    .ok_or_else(|| field("an integer id in each added_tokens entry"))?;
                let content = token
                    .get("content")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| field("a string content in each added_tokens entry"))?;
                let special = token
                    .get("special")
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                tokens.push((
                    id,
                    Entry {
                        text: content.to_string(),
                        special,
                    },
                ));
            }
        }
        let mut by_id: HashMap<u32, Entry> = HashMap::with_capacity(tokens.len());
        let mut by_text = HashMap::with_capacity(tokens.len());
        for (id, entry) in tokens {
            if let Some(previous) = by_id.get(&id) {
                // An added token may repeat a vocabulary entry with the same text.
                if previous.text != entry.text {
                    return Err(TokenizerError::DuplicateId {
                        path: path.to_path_buf(),
                        id,
                        first: previous.text.clone(),
                        second: entry.text,
                    });
                }
            }
            by_text.insert(entry.text.clone(), id);
            by_id.insert(id, entry);
        }
        let byte_of_char = byte_level_alphabet()
            .into_iter()
            .enumerate()
            .map(|(byte, c)| (c, byte as u8))
            .collect();
        Ok(Self {
            by_id,
            by_text,
            byte_of_char,
        })
    }

    /// The id of an exact token string, such as `<|endoftext|>`.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.by_text.get(text).copied()
    }

    /// The token string of an id, in the byte-level alphabet.
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.by_id.get(&id).map(|entry| entry.text.as_str())
    }

    /// Whether an id is a special token (or unknown, such as Whisper's timestamp
    /// tokens, which `tokenizer.json` may leave out).
    pub fn is_special(&self, id: u32) -> bool {
        self.by_id.get(&id).is_none_or(|entry| entry.special)
    }

    /// Largest id the file defines, plus one.
    pub fn id_count(&self) -> u32 {
        self.by_id.keys().max().map_or(0, |max| max + 1)
    }

    /// Decodes ids to text, leaving out special and unknown tokens. Bytes that do not
    /// form valid UTF-8 become U+FFFD.
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            let Some(entry) = self.by_id.get(&id) else {
                continue;
            };
            if entry.special {
                continue;
            }
            for c in entry.text.chars() {
                match self.byte_of_char.get(&c) {
                    Some(&byte) => bytes.push(byte),
                    None => {
                        let mut buffer = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                    }
                }
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// GPT-2's byte-level alphabet: the character each byte value is written as.
/// Printable Latin-1 bytes stand for themselves; the others are shifted to 256 + n.
pub fn byte_level_alphabet() -> Vec<char> {
    let printable = |b: u32| {
        (u32::from(b'!')..=u32::from(b'~')).contains(&b)
            || (0xA1..=0xAC).contains(&b)
            || (0xAE..=0xFF).contains(&b)
    };
    let mut shifted = 0u32;
    (0u32..256)
        .map(|b| {
            let code = if printable(b) {
                b
            } else {
                shifted += 1;
                255 + shifted
            };
            char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WhisperTokenizer {
        let json = serde_json::json!({
            "model": {"type": "BPE", "vocab": {
                "Ġa": 0, "Ġred": 1, "Ġcirc": 2, "le": 3, ".": 4, "Ã©": 5, "Ġcaf": 6, "Ċ": 7
            }},
            "added_tokens": [
                {"id": 8, "content": "<|endoftext|>", "special": true},
                {"id": 9, "content": "<|startoftranscript|>", "special": true}
            ]
        });
        WhisperTokenizer::from_json(&json, Path::new("tokenizer.json")).unwrap()
    }

    #[test]
    fn alphabet_maps_space_and_newline_like_gpt2() {
        let alphabet = byte_level_alphabet();
        assert_eq!(alphabet[usize::from(b' ')], 'Ġ');
        assert_eq!(alphabet[usize::from(b'\n')], 'Ċ');
        assert_eq!(alphabet[usize::from(b'a')], 'a');
        let unique: std::collections::HashSet<_> = alphabet.iter().collect();
        assert_eq!(unique.len(), 256);
    }

    #[test]
    fn decodes_words_bytes_and_skips_special_tokens() {
        let tokenizer = tiny();
        assert_eq!(
            tokenizer.decode(&[9, 0, 1, 2, 3, 4, 8]),
            " a red circle.",
            "special tokens are left out"
        );
        assert_eq!(tokenizer.decode(&[6, 5, 7]), " café\n");
        assert_eq!(tokenizer.decode(&[12345]), "", "unknown ids are skipped");
        assert_eq!(tokenizer.token_id("<|endoftext|>"), Some(8));
        assert!(tokenizer.is_special(9) && tokenizer.is_special(777) && !tokenizer.is_special(3));
    }

    #[test]
    fn a_file_without_a_vocabulary_names_the_field() {
        let json = serde_json::json!({"model": {"type": "BPE"}});
        let error = WhisperTokenizer::from_json(&json, Path::new("x/tokenizer.json")).unwrap_err();
        assert!(error.to_string().contains("model.vocab"), "{error}");
        assert!(error.to_string().contains("x/tokenizer.json"), "{error}");
    }
}
