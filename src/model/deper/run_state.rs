//! The output folder of a training run and its bookkeeping: where each stage's model
//! and checkpoint go, resuming from a checkpoint (weights, AdamW state, epochs done),
//! making later stages' checkpoints stale when an earlier stage trains again, and the
//! per-epoch CSV log.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::optim::AdamW;
use crate::model::checkpoint::{self, PartlyFrozen};
use crate::model::error::{ModelError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    Base,
    One,
    Two,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::One => "stage1",
            Self::Two => "stage2",
        }
    }
}

/// Sums over an epoch's batches.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub loss: f64,
    pub con: f64,
    pub traj: f64,
    pub cls: f64,
    pub des: f64,
    pub correct: usize,
    pub trials: usize,
    pub batches: usize,
}

impl Totals {
    pub fn mean(&self, v: f64) -> f64 {
        v / self.batches.max(1) as f64
    }
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.trials.max(1) as f64
    }
}

/// Paths of a training output folder.
#[derive(Debug, Clone)]
pub struct OutDir(pub PathBuf);

impl OutDir {
    pub fn captioner(&self) -> PathBuf {
        self.0.join("captioner")
    }
    pub fn deper(&self) -> PathBuf {
        self.0.join("deper")
    }
    pub fn checkpoint(&self, stage: Stage, what: &str) -> PathBuf {
        self.0
            .join("checkpoints")
            .join(format!("{}.{what}", stage.name()))
    }
    pub fn log(&self) -> PathBuf {
        self.0.join("train_log.csv")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StageState {
    epochs_done: usize,
}

/// Loads the stage's checkpoint into `varmap`/`opt`; returns the epochs already done.
pub fn resume(out: &OutDir, stage: Stage, store: &PartlyFrozen, opt: &mut AdamW) -> Result<usize> {
    let state_path = out.checkpoint(stage, "state.json");
    if !state_path.is_file() {
        return Ok(0);
    }
    let state: StageState = checkpoint::read_config(&state_path)?;
    checkpoint::load_into(&store.varmap, &out.checkpoint(stage, "weights.safetensors"))?;
    opt.load(&out.checkpoint(stage, "optim.safetensors"))?;
    tracing::info!(
        "{}: resuming after epoch {}",
        stage.name(),
        state.epochs_done
    );
    Ok(state.epochs_done)
}

/// A stage that trains again makes the checkpoints of the stages after it stale.
fn invalidate_later_stages(out: &OutDir, stage: Stage) -> Result<()> {
    let later: &[Stage] = match stage {
        Stage::Base => &[Stage::One, Stage::Two],
        Stage::One => &[Stage::Two],
        Stage::Two => &[],
    };
    for &s in later {
        let path = out.checkpoint(s, "state.json");
        if path.is_file() {
            std::fs::remove_file(&path).map_err(ModelError::io(&path))?;
        }
    }
    Ok(())
}

pub fn save_checkpoint(
    out: &OutDir,
    stage: Stage,
    store: &PartlyFrozen,
    opt: &AdamW,
    epochs_done: usize,
) -> Result<()> {
    invalidate_later_stages(out, stage)?;
    checkpoint::save_varmap(&store.varmap, &out.checkpoint(stage, "weights.safetensors"))?;
    opt.save(&out.checkpoint(stage, "optim.safetensors"))?;
    checkpoint::write_config(
        &StageState { epochs_done },
        &out.checkpoint(stage, "state.json"),
    )
}

pub fn log_epoch(
    out: &OutDir,
    stage: Stage,
    epoch: usize,
    train: &Totals,
    val: &Totals,
    seconds: f64,
) -> Result<()> {
    let path = out.log();
    let new = !path.is_file();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(ModelError::io(&path))?;
    let mut text = String::new();
    if new {
        text.push_str(
            "stage,epoch,loss,l_con,l_traj,l_cls,l_des,train_acc,val_loss,val_acc,seconds\n",
        );
    }
    text.push_str(&format!(
        "{},{},{:.5},{:.5},{:.5},{:.5},{:.5},{:.4},{:.5},{:.4},{:.2}\n",
        stage.name(),
        epoch,
        train.mean(train.loss),
        train.mean(train.con),
        train.mean(train.traj),
        train.mean(train.cls),
        train.mean(train.des),
        train.accuracy(),
        val.mean(val.loss),
        val.accuracy(),
        seconds
    ));
    file.write_all(text.as_bytes())
        .map_err(ModelError::io(&path))
}
