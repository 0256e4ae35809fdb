//! DEPER, the DEscription–PERception persona encoder (see `PAPER-NOTES.md`): from an
//! (image, description, attention trajectory) trial it computes a subject embedding
//! `z_s` that stays the same for one person across images and differs between
//! people; a one-layer adapter turns `z_s` into the `<subj>` embedding of the frozen
//! description model.
//!
//! Parts, each in its own file: [`encoder`] (dual-context encoder), [`extractor`]
//! (subject query, classifier), [`decoder`] (trajectory reconstruction with FiLM),
//! [`losses`], [`data`] (batches, P×K sampler, saliency maps), [`train`] (stages
//! base, 1, 2), [`enroll`] (profiles of new subjects), [`optim`] (AdamW with saved state).
//!
//! Folder: `config.json`, `model.safetensors`, `tokenizer.json`; keys `encoder.*`,
//! `extractor.*`, `decoder.*`, `adapter.*`.

pub mod base_stage;
pub mod config;
pub mod data;
pub mod decoder;
pub mod demo_model;
pub mod encoder;
pub mod enroll;
pub mod extractor;
pub mod losses;
pub mod optim;
pub mod personalization;
pub mod run_state;
pub mod synthetic;
pub mod train;

#[cfg(test)]
mod tests;

use std::path::Path;

use candle_core::{Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder, VarMap, linear};

pub use config::{Ablation, DeperConfig};
pub use encoder::{DeperInputs, Encoded};

use self::decoder::TrajectoryDecoder;
use self::encoder::DualContextEncoder;
use self::extractor::SubjectExtractor;
use super::checkpoint::{self, PartlyFrozen};
use super::error::{ModelError, Result};

/// Stage 1 trains everything but the adapter (which it does not use).
pub const STAGE1_FROZEN: &[&str] = &["adapter."];
/// Stage 2 freezes the dual-context encoder (and the unused trajectory decoder).
pub const STAGE2_FROZEN: &[&str] = &["encoder.", "decoder."];
/// Inference: nothing trains.
pub const ALL_FROZEN: &[&str] = &[""];

#[derive(Debug, Clone)]
pub struct Deper {
    pub config: DeperConfig,
    pub encoder: DualContextEncoder,
    pub extractor: SubjectExtractor,
    /// Present when the trajectory stream and reconstruction are on.
    pub decoder: Option<TrajectoryDecoder>,
    pub adapter: Linear,
}

/// Stage-1 loss and its parts (the parts as plain numbers for the log).
#[derive(Debug, Clone)]
pub struct Stage1Loss {
    pub total: Tensor,
    pub con: f32,
    pub traj: f32,
    pub cls: f32,
    /// Correct subject predictions in the batch.
    pub correct: usize,
}

impl Deper {
    pub fn new(cfg: &DeperConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let with_decoder = cfg.ablation.trajectory && cfg.ablation.reconstruction;
        Ok(Self {
            config: cfg.clone(),
            encoder: DualContextEncoder::new(cfg, vb.pp("encoder"))?,
            extractor: SubjectExtractor::new(cfg, vb.pp("extractor"))?,
            decoder: if with_decoder {
                Some(TrajectoryDecoder::new(cfg, vb.pp("decoder"))?)
            } else {
                None
            },
            adapter: linear(cfg.hidden, cfg.describer_width, vb.pp("adapter"))?,
        })
    }

    /// Builds the model in a fresh store with the given frozen prefixes.
    pub fn build(
        cfg: &DeperConfig,
        frozen: &[&str],
        device: &Device,
    ) -> Result<(Self, PartlyFrozen)> {
        Self::build_seeded(cfg, frozen, 0, device)
    }

    /// [`Self::build`] with initial weights drawn with `init_seed` (0: by name alone).
    pub fn build_seeded(
        cfg: &DeperConfig,
        frozen: &[&str],
        init_seed: u64,
        device: &Device,
    ) -> Result<(Self, PartlyFrozen)> {
        let store = PartlyFrozen::new(VarMap::new(), frozen).with_init_seed(init_seed);
        let model = Self::new(cfg, store.var_builder(device))?;
        Ok((model, store))
    }

    /// Loads a DEPER folder's config and weights.
    pub fn load(dir: &Path, frozen: &[&str], device: &Device) -> Result<(Self, PartlyFrozen)> {
        let cfg: DeperConfig = checkpoint::read_config(&dir.join("config.json"))?;
        let (model, store) = Self::build(&cfg, frozen, device)?;
        checkpoint::load_into(&store.varmap, &dir.join("model.safetensors"))?;
        Ok((model, store))
    }

    pub fn save(&self, varmap: &VarMap, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
        checkpoint::write_config(&self.config, &dir.join("config.json"))?;
        checkpoint::save_varmap(varmap, &dir.join("model.safetensors"))
    }

    /// `Z_dual` and `z_s` `[b, hidden]`.
    pub fn subject_embedding(
        &self,
        inputs: &DeperInputs,
    ) -> candle_core::Result<(Encoded, Tensor)> {
        let encoded = self.encoder.forward(inputs)?;
        let z_s = self.extractor.forward(&encoded.z_dual, &encoded.z_valid)?;
        Ok((encoded, z_s))
    }

    /// The `<subj>` embedding for the description model, `[b, describer_width]`.
    pub fn adapt(&self, z_s: &Tensor) -> candle_core::Result<Tensor> {
        self.adapter.forward(z_s)
    }

    /// `λ·L_con + L_cls` on a batch's `z_s` (the part both stages share), with the
    /// number of correct classifications.
    pub fn discriminative_loss(
        &self,
        z_s: &Tensor,
        labels: &[u32],
    ) -> candle_core::Result<(Tensor, f32, f32, usize)> {
        let logits = self.extractor.classify(z_s)?;
        let cls = losses::classification(&logits, labels)?;
        let predicted = logits.argmax(1)?.to_vec1::<u32>()?;
        let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
        let mut total = cls.clone();
        let mut con_value = 0.0;
        if self.config.ablation.contrastive {
            let con = losses::supcon(z_s, labels, self.config.supcon_temperature)?;
            con_value = con.to_scalar::<f32>()?;
            total = (total + (con * self.config.lambda_con)?)?;
        }
        Ok((total, con_value, cls.to_scalar::<f32>()?, correct))
    }

    /// Stage 1: `L = λ·L_con + L_traj + L_cls` (terms dropped by the ablation switches).
    pub fn stage1_loss(
        &self,
        inputs: &DeperInputs,
        labels: &[u32],
    ) -> candle_core::Result<Stage1Loss> {
        let (encoded, z_s) = self.subject_embedding(inputs)?;
        let (mut total, con, cls, correct) = self.discriminative_loss(&z_s, labels)?;
        let mut traj = 0.0;
        if let Some(decoder) = &self.decoder {
            let prediction = decoder.forward(&encoded, &z_s)?;
            let l = losses::trajectory(
                &prediction.boxes,
                &prediction.valid_logits,
                &inputs.boxes,
                &inputs.trajectory_valid,
            )?;
            traj = l.to_scalar::<f32>()?;
            total = (total + l)?;
        }
        Ok(Stage1Loss {
            total,
            con,
            traj,
            cls,
            correct,
        })
    }
}
