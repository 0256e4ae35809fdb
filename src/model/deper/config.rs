//! DEPER's configuration (`config.json` of a DEPER folder): sizes, loss weights and
//! one switch per ablation of the paper, so each ablation is a config, not a fork.

use serde::{Deserialize, Serialize};

/// Which parts of the method are on. All on = the full model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ablation {
    /// Off = "text-only": no trajectory stream, no trajectory decoder.
    pub trajectory: bool,
    /// Off = "no dynamics": trajectory tokens carry boxes only, no duration or order.
    pub dynamics: bool,
    /// Off = "no reconstruction": no trajectory decoder loss `L_traj`.
    pub reconstruction: bool,
    /// Off = "no contrastive": no SupCon term `L_con`.
    pub contrastive: bool,
    /// Off = "no FiLM": the trajectory decoder is not modulated by `z_s`.
    pub film: bool,
    /// On = fuse the fixation density of the other subjects on the image into `V`.
    pub saliency: bool,
}

impl Default for Ablation {
    fn default() -> Self {
        Self {
            trajectory: true,
            dynamics: true,
            reconstruction: true,
            contrastive: true,
            film: true,
            saliency: false,
        }
    }
}

impl Ablation {
    /// Parses a name used on the command line: `full`, `text-only`, `no-dynamics`,
    /// `no-reconstruction`, `no-contrastive`, `no-film`, `saliency`.
    pub fn named(name: &str) -> Option<Self> {
        let full = Self::default();
        Some(match name {
            "full" => full,
            "text-only" => Self {
                trajectory: false,
                reconstruction: false,
                ..full
            },
            "no-dynamics" => Self {
                dynamics: false,
                ..full
            },
            "no-reconstruction" => Self {
                reconstruction: false,
                ..full
            },
            "no-contrastive" => Self {
                contrastive: false,
                ..full
            },
            "no-film" => Self {
                film: false,
                ..full
            },
            "saliency" => Self {
                saliency: true,
                ..full
            },
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeperConfig {
    /// Width of every DEPER token and of `z_s` (paper: 384).
    pub hidden: usize,
    /// Dual-context encoder layers.
    pub layers: usize,
    pub heads: usize,
    /// Trajectory decoder blocks.
    pub decoder_blocks: usize,
    /// `M`: trajectory slots; longer trajectories keep their first `M` fixations.
    pub trajectory_slots: usize,
    /// Description tokens read by the text stream (longer ones are cut).
    pub max_text_tokens: usize,
    pub vocab_size: usize,
    /// Width and count of the frozen image encoder's tokens.
    pub image_width: usize,
    pub image_tokens: usize,
    /// Width of the description model's token embeddings (adapter output).
    pub describer_width: usize,
    /// Training subjects (classifier classes), in the order of `subjects`.
    pub subjects: Vec<String>,
    pub supcon_temperature: f64,
    /// λ, the weight of `L_con` in both stages.
    pub lambda_con: f64,
    /// Durations are divided by this before the linear input layer.
    pub duration_scale_ms: f64,
    /// Side of the saliency grid (fixation density of other subjects).
    pub saliency_grid: usize,
    pub ablation: Ablation,
}

impl Default for DeperConfig {
    fn default() -> Self {
        Self {
            hidden: 384,
            layers: 4,
            heads: 6,
            decoder_blocks: 2,
            trajectory_slots: 32,
            max_text_tokens: 64,
            vocab_size: 1000,
            image_width: 192,
            image_tokens: 64,
            describer_width: 256,
            subjects: Vec::new(),
            supcon_temperature: 0.07,
            lambda_con: 0.1,
            duration_scale_ms: 1000.0,
            saliency_grid: 8,
            ablation: Ablation::default(),
        }
    }
}
