//! Which description model (vision-language model) DEPER's adapter feeds: the
//! built-in captioner of a trained folder, or a pretrained Qwen2-VL folder. The
//! choice a trained folder was made with is recorded in its `vlm.json`, so `enroll`,
//! `describe` and the app find the same backbone again.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use super::error::{ModelError, Result};
use super::qwen2vl::Qwen2VlDescriber;

/// `--vlm` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum VlmChoice {
    /// The trained folder's own captioner.
    #[default]
    #[serde(rename = "builtin")]
    Builtin,
    /// A Hugging Face Qwen2-VL folder (`--vlm-path`).
    #[serde(rename = "qwen2-vl")]
    Qwen2Vl,
}

impl std::str::FromStr for VlmChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "builtin" => Ok(Self::Builtin),
            "qwen2-vl" => Ok(Self::Qwen2Vl),
            other => Err(format!("expected builtin or qwen2-vl, found `{other}`")),
        }
    }
}

/// The record of a trained folder's description model, `vlm.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VlmRecord {
    pub vlm: VlmChoice,
    /// The Qwen2-VL folder used in training (may be overridden by `--vlm-path`).
    pub path: Option<PathBuf>,
}

impl VlmRecord {
    pub const FILE: &'static str = "vlm.json";

    /// The record of `dir`; a folder without one was trained with the built-in captioner.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(Self::FILE);
        if !path.is_file() {
            return Ok(Self {
                vlm: VlmChoice::Builtin,
                path: None,
            });
        }
        super::checkpoint::read_config(&path)
    }

    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
        super::checkpoint::write_config(self, &dir.join(Self::FILE))
    }
}

/// Loads the Qwen2-VL folder `path` (`--vlm-path`), or the one `record` names.
pub fn load_qwen(
    path: Option<&Path>,
    record: Option<&VlmRecord>,
    device: &Device,
) -> Result<Qwen2VlDescriber> {
    let dir = path
        .map(Path::to_path_buf)
        .or_else(|| record.and_then(|r| r.path.clone()))
        .ok_or_else(|| {
            ModelError::Data(
                "--vlm qwen2-vl needs --vlm-path DIR (a Hugging Face Qwen2-VL folder)".into(),
            )
        })?;
    Qwen2VlDescriber::load(&dir, device)
}
