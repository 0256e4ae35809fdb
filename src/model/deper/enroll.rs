//! Using a trained model: enrollment of a subject from a few of their trials (the
//! mean of `z_s` over the support trials, no fine-tuning) into a RON profile that
//! records the model's fingerprint and the trials used, and personalized (or
//! generic) description of an image.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::data::{FeatureBank, Trials, deper_inputs, saliency_maps};
use super::{ALL_FROZEN, Deper};
use crate::model::captioner::Captioner;
use crate::model::checkpoint::fingerprint;
use crate::model::error::{ModelError, Result};
use crate::model::generate::{BuiltinDescriber, DescriptionModel, GenerateOptions};
use crate::model::qwen2vl::Qwen2VlDescriber;
use crate::model::vlm::{VlmChoice, VlmRecord, load_qwen};

/// A trained model folder (`captioner/`, `deper/`) loaded for inference.
#[derive(Debug)]
pub struct TrainedModel {
    pub dir: PathBuf,
    pub deper: Deper,
    /// The built-in captioner: DEPER's image features and tokenizer, and the
    /// description model unless `vlm` is set.
    pub describer: BuiltinDescriber,
    /// A pretrained Qwen2-VL the adapter feeds instead (`vlm.json` of the folder).
    pub vlm: Option<Qwen2VlDescriber>,
    /// Fingerprint of both weight files.
    pub fingerprint: String,
    pub device: Device,
}

impl TrainedModel {
    /// Loads `dir`; a folder trained for Qwen2-VL (`vlm.json`) loads the Qwen2-VL
    /// folder it names.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        Self::load_with_vlm(dir, None, device)
    }

    /// Loads `dir` with its recorded description model; `vlm_path` overrides the
    /// Qwen2-VL folder recorded in `vlm.json`.
    pub fn load_with_vlm(dir: &Path, vlm_path: Option<&Path>, device: &Device) -> Result<Self> {
        let (captioner, tokenizer, _) = Captioner::load(&dir.join("captioner"), true, device)?;
        let (deper, _) = Deper::load(&dir.join("deper"), ALL_FROZEN, device)?;
        let record = VlmRecord::read(dir)?;
        let vlm = match record.vlm {
            VlmChoice::Builtin => None,
            VlmChoice::Qwen2Vl => Some(load_qwen(vlm_path, Some(&record), device)?),
        };
        let width = vlm
            .as_ref()
            .map_or(captioner.config.width, |v| v.hidden_size());
        if deper.config.describer_width != width {
            return Err(ModelError::Config {
                path: dir.join("deper").join("config.json"),
                message: format!(
                    "describer_width {} does not match the description model's width {width}",
                    deper.config.describer_width
                ),
            });
        }
        let mut fingerprint = model_fingerprint(dir)?;
        if let Some(v) = &vlm {
            fingerprint = format!("{fingerprint}-{}", qwen_fingerprint(&v.dir)?);
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            deper,
            describer: BuiltinDescriber {
                model: captioner,
                tokenizer,
            },
            vlm,
            fingerprint,
            device: device.clone(),
        })
    }

    /// The model that writes descriptions: Qwen2-VL when the folder was trained for
    /// it, else the built-in captioner.
    pub fn description_model(&self) -> &dyn DescriptionModel {
        match &self.vlm {
            Some(v) => v,
            None => &self.describer,
        }
    }

    /// `z_s` `[n, hidden]` of the trials `indices` (saliency from all of `trials`).
    pub fn subject_embeddings(&self, trials: &Trials, indices: &[usize]) -> Result<Tensor> {
        let mut bank = FeatureBank::default();
        let chosen = Trials {
            root: trials.root.clone(),
            records: indices.iter().map(|&i| trials.records[i].clone()).collect(),
        };
        bank.add(&chosen, &self.describer.model, &self.device)?;
        let saliency = saliency_maps(&trials.records, self.deper.config.saliency_grid);
        let inputs = deper_inputs(
            trials,
            indices,
            &bank,
            &self.describer.tokenizer,
            Some(&saliency),
            &self.deper.config,
            &self.device,
        )?;
        Ok(self.deper.subject_embedding(&inputs)?.1)
    }

    /// A description of the image at `path`; personalized when `z_s` is given.
    pub fn describe(
        &self,
        path: &Path,
        z_s: Option<&[f32]>,
        options: &GenerateOptions,
    ) -> Result<(String, usize)> {
        let describer = self.description_model();
        let image = describer.load_image(path, &self.device)?.unsqueeze(0)?;
        let tokens = describer.encode_image(&image)?;
        let subj = match z_s {
            Some(z) => Some(self.deper.adapt(&Tensor::from_slice(
                z,
                (1, z.len()),
                &self.device,
            )?)?),
            None => None,
        };
        describer.describe(&tokens, subj.as_ref(), options)
    }
}

/// Identity of a Qwen2-VL folder: its `config.json` and its weight index or single
/// weight file's size (reading gigabytes of weights for an identity check is too slow).
fn qwen_fingerprint(dir: &Path) -> Result<String> {
    let files = crate::model::qwen2vl::loader::weight_files(dir)?;
    let mut sizes = String::new();
    for f in &files {
        let len = std::fs::metadata(f).map_err(ModelError::io(f))?.len();
        sizes.push_str(&format!("{len};"));
    }
    let config = fingerprint(&[&dir.join("config.json")])?;
    Ok(format!(
        "{config}{:016x}",
        sizes.len() as u64 ^ fnv(sizes.as_bytes())
    ))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Identity of a trained model folder: fingerprint of its two weight files.
pub fn model_fingerprint(dir: &Path) -> Result<String> {
    fingerprint(&[
        &dir.join("captioner").join("model.safetensors"),
        &dir.join("deper").join("model.safetensors"),
    ])
}

/// One support trial of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportTrial {
    pub image: String,
    pub trial: Option<String>,
}

/// An enrolled subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub subject: String,
    /// [`model_fingerprint`] of the model that computed `z_s`.
    pub model_fingerprint: String,
    pub model_dir: String,
    pub trials: Vec<SupportTrial>,
    /// Mean subject embedding over the support trials.
    pub z_s: Vec<f32>,
}

/// Enrolls `subject` from its first `shots` trials in `trials` (file order).
pub fn enroll(
    model: &TrainedModel,
    trials: &Trials,
    subject: &str,
    shots: usize,
) -> Result<Profile> {
    let indices: Vec<usize> = (0..trials.records.len())
        .filter(|&i| trials.records[i].subject == subject)
        .take(shots)
        .collect();
    if indices.is_empty() {
        return Err(ModelError::Data(format!(
            "no trials of subject `{subject}` in the records"
        )));
    }
    enroll_trials(model, trials, &indices)
}

/// Enrolls the subject of the trials `indices` of `trials` (all one subject's): the
/// mean of their `z_s`.
pub fn enroll_trials(model: &TrainedModel, trials: &Trials, indices: &[usize]) -> Result<Profile> {
    let Some(&first) = indices.first() else {
        return Err(ModelError::Data("no support trials chosen".into()));
    };
    let subject = &trials.records[first].subject;
    if let Some(&other) = indices
        .iter()
        .find(|&&i| trials.records[i].subject != *subject)
    {
        return Err(ModelError::Data(format!(
            "support trials of two subjects (`{subject}` and `{}`)",
            trials.records[other].subject
        )));
    }
    let z = model
        .subject_embeddings(trials, indices)?
        .mean(0)?
        .to_vec1::<f32>()?;
    Ok(Profile {
        subject: subject.clone(),
        model_fingerprint: model.fingerprint.clone(),
        model_dir: model.dir.display().to_string(),
        trials: indices
            .iter()
            .map(|&i| SupportTrial {
                image: trials.records[i].image.clone(),
                trial: trials.records[i].trial.clone(),
            })
            .collect(),
        z_s: z,
    })
}

pub fn save_profile(profile: &Profile, path: &Path) -> Result<()> {
    let text =
        ron::ser::to_string_pretty(profile, ron::ser::PrettyConfig::default()).map_err(|e| {
            ModelError::Profile {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(ModelError::io(parent))?;
    }
    std::fs::write(path, text).map_err(ModelError::io(path))
}

/// Loads a profile and refuses it if it was enrolled with another model.
pub fn load_profile(path: &Path, model: &TrainedModel) -> Result<Profile> {
    let text = std::fs::read_to_string(path).map_err(ModelError::io(path))?;
    let profile: Profile = ron::from_str(&text).map_err(|e| ModelError::Profile {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if profile.model_fingerprint != model.fingerprint {
        return Err(ModelError::ProfileMismatch {
            path: path.to_path_buf(),
            profile_model: profile.model_fingerprint,
            model: model.fingerprint.clone(),
        });
    }
    if profile.z_s.len() != model.deper.config.hidden {
        return Err(ModelError::Profile {
            path: path.to_path_buf(),
            message: format!(
                "z_s has {} values, the model expects {}",
                profile.z_s.len(),
                model.deper.config.hidden
            ),
        });
    }
    if let Some((i, v)) = profile.z_s.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ModelError::Profile {
            path: path.to_path_buf(),
            message: format!(
                "z_s[{i}] is {v}; expected a finite number (the profile is damaged: enroll the subject again)"
            ),
        });
    }
    Ok(profile)
}
