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
        self.weights
            .saturating_add(self.image_tokens)
            .saturating_add(self.layer_inputs)
            .saturating_add(self.working_set)
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

/// Estimated peak of a stage-2 step of `batch` descriptions. Computed in f64 (a
/// hostile `config.json` may hold any sizes; the result saturates, never overflows).
pub fn estimate(target: &QwenTarget, batch: usize) -> Result<Stage2Estimate> {
    let model = &target.describer.model;
    let cfg = &model.config;
    let t = &cfg.text;
    let n = |x: usize| x as f64;
    let e = dtype_bytes(model.text().dtype()) as f64;
    let (per_layer, rest) = model.text().parameter_counts();
    let layers = n(t.num_hidden_layers);
    let v = &cfg.vision;
    let vision_width = n(v.embed_dim);
    let merged = vision_width * n(v.spatial_merge_size).powi(2);
    let vision_params = n(v.depth)
        * (4.0 * vision_width * vision_width + 2.0 * vision_width * n(v.mlp_hidden()))
        + n(v.patch_values()) * vision_width
        + merged * merged
        + merged * n(t.hidden_size);
    let weights = (n(per_layer) * layers + n(rest) + vision_params) * e;
    let image_tokens: f64 = target.image_tokens().map(|x| n(x.elem_count()) * e).sum();

    let s = n(target.longest_sequence()?);
    let hidden = n(t.hidden_size);
    let inter = n(t.intermediate_size);
    let heads = n(t.num_attention_heads);
    let kv = n(t.num_key_value_heads) * n(cfg.head_dim());
    let vocab = n(t.vocab_size);
    let description = n(target.max_description_tokens + 1);
    let mem = target.memory;
    let m = if mem.checkpoint_layers {
        n(mem.micro_batch.min(batch).max(1))
    } else {
        1.0
    };
    let tokens = m * s;
    // One layer per token: the f32 norms, q/k/v and their rotary copies, the expanded
    // keys and values, the scores (model dtype and f32, masked, softmax), the MLP's
    // intermediate tensors, residuals; doubled for kernel temporaries. Conservative:
    // measured peaks were 0.7–1.0× the whole estimate (ARCHITECTURE.md).
    let attention = heads * s * (3.0 * 4.0 + 3.0 * e);
    let per_token = 2.0
        * (attention
            + 4.0 * inter * e
            + hidden * (2.0 * 12.0 + 12.0 * e)
            + (hidden + kv) * 5.0 * 4.0
            + 2.0 * kv * e);
    // The head: logits, log-probabilities, probabilities and their gradient in f32.
    let head = m * description * vocab * 4.0 * 4.0 + vocab * hidden * e;
    let (layer_inputs, working_set) = if mem.checkpoint_layers {
        // One layer's activations and the gradients pulled through them.
        let layer = 2.0 * per_token * tokens + n(per_layer) * e;
        ((layers + 1.0) * tokens * hidden * e, layer.max(head))
    } else {
        // Every sequence of the batch keeps its whole graph, and the head runs over
        // every position.
        let graph = n(batch) * s * (per_token * layers + vocab * 4.0 * 3.0);
        (0.0, graph + per_token * s + n(per_layer) * e)
    };
    Ok(Stage2Estimate {
        weights: weights as u64,
        image_tokens: image_tokens as u64,
        layer_inputs: layer_inputs as u64,
        working_set: working_set as u64,
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

/// An error when what a step still has to allocate exceeds what `device` has free,
/// naming the estimate, the free memory and the flags that lower it. Called with the
/// weights and image tokens already loaded, so those are not counted twice.
pub fn check_fits(target: &QwenTarget, batch: usize, device: &Device) -> Result<Stage2Estimate> {
    let estimate = estimate(target, batch)?;
    refuse_when_short(target, &estimate, free_bytes(device))?;
    Ok(estimate)
}

fn refuse_when_short(
    target: &QwenTarget,
    estimate: &Stage2Estimate,
    free: Option<u64>,
) -> Result<()> {
    let still_needed = estimate.layer_inputs.saturating_add(estimate.working_set);
    if let Some(free) = free
        && still_needed > free
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
            "stage 2 through Qwen2-VL needs an estimated {estimate}, {} of it beyond the loaded weights and image tokens, but the device has {} free: {advice}",
            gib(still_needed),
            gib(free)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::qwen2vl::Qwen2VlDescriber;

    #[test]
    fn a_step_that_cannot_fit_is_refused_with_the_estimate_and_the_flag() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl");
        let describer = Qwen2VlDescriber::load(&dir.join("model"), &Device::Cpu).unwrap();
        let mut target = QwenTarget::new(describer);
        target
            .add_images(&[dir.join("image.png")], &Device::Cpu)
            .unwrap();
        let estimate = estimate(&target, 16).unwrap();
        let message = refuse_when_short(&target, &estimate, Some(1))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("--micro-batch (now 8") && message.contains("GiB"),
            "{message}"
        );
        target.memory.checkpoint_layers = false;
        let message = refuse_when_short(&target, &estimate, Some(1))
            .unwrap_err()
            .to_string();
        assert!(message.contains("--no-grad-checkpoint"), "{message}");
        assert!(refuse_when_short(&target, &estimate, Some(u64::MAX)).is_ok());
        assert!(refuse_when_short(&target, &estimate, None).is_ok());
    }
}
