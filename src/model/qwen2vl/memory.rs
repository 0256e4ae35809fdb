//! The peak memory of a stage-2 step through Qwen2-VL, estimated before training so
//! that a run that cannot fit stops at once with a message naming the estimate and the
//! flag that lowers it, instead of failing with an out-of-memory error minutes later.
//!
//! The estimate adds the frozen weights, the cached image tokens, the saved layer
//! inputs of one micro-batch, and the larger of one decoder layer's forward and
//! backward working set and the head's (log-softmax over the vocabulary at the
//! description's positions). The per-token counts follow the tensors the layer code
//! creates (see `text.rs`); ARCHITECTURE.md compares the estimate with measured peaks.

use candle_core::{DType, Device};

use super::stage2::QwenTarget;
use crate::model::error::{ModelError, Result};

/// The parts of the estimate, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage2Estimate {
    pub weights: u64,
    pub image_tokens: u64,
    pub layer_inputs: u64,
    pub working_set: u64,
}

impl Stage2Estimate {
    pub fn total(&self) -> u64 {
        self.weights + self.image_tokens + self.layer_inputs + self.working_set
    }
}

impl std::fmt::Display for Stage2Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (weights {}, image tokens {}, saved layer inputs {}, working set {})",
            gib(self.total()),
            gib(self.weights),
            gib(self.image_tokens),
            gib(self.layer_inputs),
            gib(self.working_set)
        )
    }
}

/// Bytes as GiB with two decimals.
pub fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Estimated peak of a stage-2 step of `batch` descriptions.
pub fn estimate(target: &QwenTarget, batch: usize) -> Result<Stage2Estimate> {
    let model = &target.describer.model;
    let cfg = &model.config;
    let t = &cfg.text;
    let e = dtype_bytes(model.text().dtype());
    let (per_layer, rest) = model.text().parameter_counts();
    let layers = t.num_hidden_layers as u64;
    let v = &cfg.vision;
    let vision_width = v.embed_dim as u64;
    let merged = vision_width * (v.spatial_merge_size * v.spatial_merge_size) as u64;
    let vision_params = v.depth as u64
        * (4 * vision_width * vision_width + 2 * vision_width * v.mlp_hidden() as u64)
        + (v.in_channels * v.temporal_patch_size * v.patch_size * v.patch_size) as u64
            * vision_width
        + merged * merged
        + merged * t.hidden_size as u64;
    let weights = (per_layer as u64 * layers + rest as u64 + vision_params) * e;
    let image_tokens: u64 = target
        .image_tokens()
        .map(|x| x.elem_count() as u64 * e)
        .sum();

    let s = target.longest_sequence()? as u64;
    let hidden = t.hidden_size as u64;
    let inter = t.intermediate_size as u64;
    let heads = t.num_attention_heads as u64;
    let kv = (t.num_key_value_heads * cfg.head_dim()) as u64;
    let vocab = t.vocab_size as u64;
    let description = (target.max_description_tokens + 1) as u64;
    let mem = target.memory;
    let m = if mem.checkpoint_layers {
        mem.micro_batch.min(batch).max(1) as u64
    } else {
        1
    };
    let tokens = m * s;
    // One layer's graph per token: the f32 norms, q/k/v and their rotary copies, the
    // expanded keys and values, the scores (model dtype and f32, masked, softmax),
    // the MLP's four intermediate tensors, residuals.
    let attention = heads * s * (3 * 4 + 3 * e);
    let per_token =
        attention + 4 * inter * e + hidden * (2 * 12 + 12 * e) + (hidden + kv) * 5 * 4 + 2 * kv * e;
    // The count above misses the temporaries candle's kernels and backward rules make
    // (gradients of every node, broadcast copies); peaks measured on the CPU with a
    // quarter-size 2B model (ARCHITECTURE.md) were about twice it.
    let per_token = 2 * per_token;
    let head_rows = m * description;
    let head = head_rows * vocab * 4 * 4 + vocab * hidden * e;
    let (layer_inputs, working_set) = if mem.checkpoint_layers {
        // Forward graph, its gradients, and the layer's weight gradients candle forms.
        let layer = 2 * per_token * tokens + per_layer as u64 * e;
        ((layers + 1) * tokens * hidden * e, layer.max(head))
    } else {
        // Every sequence of the batch keeps its whole graph, and the head runs over
        // every position.
        let graph = batch as u64 * s * (per_token * layers + vocab * 4 * 3);
        (0, graph + per_token * s + per_layer as u64 * e)
    };
    Ok(Stage2Estimate {
        weights,
        image_tokens,
        layer_inputs,
        working_set,
    })
}

fn dtype_bytes(dtype: DType) -> u64 {
    dtype.size_in_bytes() as u64
}

/// Free memory of `device` in bytes: the GPU's free memory, or the CPU's available
/// memory (`MemAvailable`); `None` where it cannot be read.
pub fn free_bytes(device: &Device) -> Option<u64> {
    match device {
        #[cfg(feature = "cuda")]
        Device::Cuda(cuda) => cuda
            .cuda_stream()
            .context()
            .mem_get_info()
            .ok()
            .map(|(free, _)| free as u64),
        Device::Cpu => {
            let info = std::fs::read_to_string("/proc/meminfo").ok()?;
            let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// An error when the estimate exceeds what `device` has free, naming both and the
/// flags that lower it.
pub fn check_fits(target: &QwenTarget, batch: usize, device: &Device) -> Result<Stage2Estimate> {
    let estimate = estimate(target, batch)?;
    if let Some(free) = free_bytes(device)
        && estimate.total() > free
    {
        let mem = target.memory;
        let advice = if mem.checkpoint_layers {
            format!(
                "lower --micro-batch (now {}; 1 needs the least) or use a smaller model",
                mem.micro_batch
            )
        } else {
            "drop --no-grad-checkpoint (recompute layers in the backward pass)".to_owned()
        };
        return Err(ModelError::Data(format!(
            "stage 2 through Qwen2-VL needs an estimated {estimate} but the device has {} free: {advice}",
            gib(free)
        )));
    }
    Ok(estimate)
}
