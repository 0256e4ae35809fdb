//! One stage-2 step through Qwen2-VL, measured: the loss of a batch of descriptions
//! of one image, its gradient at the `<subj>` embeddings, the wall time of each step
//! (device synchronized) and the peak memory (the GPU's used memory polled from a
//! thread, or the process's peak resident memory on the CPU). `scanscribe bench
//! stage2` prints it; `scripts/gpu-check.sh` compares it with a PyTorch step.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::memory::{Stage2Estimate, estimate};
use super::recompute::PhaseTimes;
use super::stage2::QwenTarget;
use crate::model::error::{ModelError, Result};

/// Words the synthetic descriptions cycle through.
const WORDS: [&str; 12] = [
    "a", "red", "circle", "sits", "left", "of", "the", "small", "blue", "square", "near", "edge",
];

/// What `steps` stage-2 steps measured.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub losses: Vec<f32>,
    pub step_seconds: Vec<f64>,
    /// L2 norm of the gradient at the subject embeddings, first step.
    pub grad_norm: f32,
    pub estimate: Stage2Estimate,
    /// Peak memory in bytes: the GPU's used memory, or the process's peak RSS.
    pub peak_bytes: Option<u64>,
    pub sequence_tokens: usize,
    /// Where the time of the steps after the first went (checkpointed path only).
    pub phases: Option<PhaseTimes>,
}

/// Runs `steps` steps of `batch` descriptions of `words` words each about `image`.
pub fn run(
    target: &mut QwenTarget,
    image: &Path,
    batch: usize,
    words: usize,
    steps: usize,
    seed: u64,
    device: &Device,
) -> Result<StepReport> {
    target.add_images(&[image.to_path_buf()], device)?;
    let texts: Vec<String> = (0..batch)
        .map(|row| {
            (0..words)
                .map(|w| WORDS[(w + row) % WORDS.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let paths = vec![image.to_path_buf(); batch];
    let hidden = target.describer.model.config.text.hidden_size;
    // Drawn on the CPU from a seeded generator: the same step on every device.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0f32, 0.02).map_err(|e| ModelError::Data(e.to_string()))?;
    let values: Vec<f32> = (0..batch * hidden)
        .map(|_| normal.sample(&mut rng))
        .collect();
    let subj = Var::from_tensor(&Tensor::from_vec(values, (batch, hidden), device)?)?;
    let estimate = estimate(target, batch)?;
    let sequence_tokens = target.longest_sequence()?;
    let poller = MemoryPoller::start(device);
    let mut losses = Vec::new();
    let mut step_seconds = Vec::new();
    let mut grad_norm = 0.0;
    for step in 0..steps.max(1) {
        if step == 1 && target.memory.checkpoint_layers {
            target.phase_times = Some(std::sync::Mutex::new(PhaseTimes::default()));
        }
        let clock = Instant::now();
        let loss = target.description_loss(&paths, &texts, subj.as_tensor())?;
        let grads = loss.backward()?;
        let grad = grads.get(subj.as_tensor()).cloned();
        device.synchronize()?;
        step_seconds.push(clock.elapsed().as_secs_f64());
        losses.push(loss.to_scalar::<f32>()?);
        if step == 0
            && let Some(g) = grad
        {
            grad_norm = g
                .to_dtype(DType::F32)?
                .sqr()?
                .sum_all()?
                .sqrt()?
                .to_scalar()?;
        }
    }
    Ok(StepReport {
        losses,
        step_seconds,
        grad_norm,
        estimate,
        peak_bytes: poller.stop(),
        sequence_tokens,
        phases: target.phase_times.take().and_then(|t| t.into_inner().ok()),
    })
}

/// Polls the GPU's used memory every 10 ms until stopped; on the CPU reads the
/// process's peak resident memory at the end.
struct MemoryPoller {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    cpu: bool,
}

impl MemoryPoller {
    fn start(device: &Device) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let thread = gpu_used_bytes(device).map(|read| {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(used) = read() {
                        peak.fetch_max(used, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        });
        if device.is_cpu() {
            // Restart the peak from the current resident size, so that loading the
            // weights (the file read next to its tensors) does not count as the step.
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
        Self {
            stop,
            peak,
            thread,
            cpu: device.is_cpu(),
        }
    }

    fn stop(mut self) -> Option<u64> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
            return Some(self.peak.load(Ordering::Relaxed));
        }
        if self.cpu {
            return peak_resident_bytes();
        }
        None
    }
}

type UsedReader = Box<dyn Fn() -> Option<u64> + Send>;

/// A reader of the GPU's used memory (total − free), where the device is a GPU.
fn gpu_used_bytes(device: &Device) -> Option<UsedReader> {
    match device {
        #[cfg(feature = "cuda")]
        Device::Cuda(cuda) => {
            let context = cuda.cuda_stream().context().clone();
            Some(Box::new(move || {
                context
                    .mem_get_info()
                    .ok()
                    .map(|(free, total)| (total - free) as u64)
            }))
        }
        _ => None,
    }
}

/// `VmHWM` of this process (Linux), in bytes.
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
