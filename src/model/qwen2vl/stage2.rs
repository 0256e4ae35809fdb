//! Qwen2-VL as stage 2's frozen description model: `L_des` is Qwen2-VL's
//! cross-entropy on the target description (and the closing `<|im_end|>`) after the
//! chat prompt with the image and `<subj>`, whose input embedding is the DEPER
//! adapter's output. Image tokens come from the frozen vision tower once per image,
//! without a graph, and are kept for every epoch.
//!
//! Memory: the weights are constants (bf16 on a GPU), never tracked. By default the
//! loss runs through [`recompute`](super::recompute): micro-batches of
//! `micro_batch` sequences, each decoder layer recomputed in the backward pass with a
//! hand-written input gradient, the vocabulary projection on the description's
//! positions only; the gradients of the micro-batches
//! are accumulated at the subject vectors, so the effective batch is the whole batch.
//! The returned loss carries that gradient into the DEPER graph through the surrogate
//! `z · g − stop_gradient(z · g) + L`. The plain path (`checkpoint_layers: false`)
//! builds the whole graph of every sequence, as stage 2 first did; it is kept as the
//! reference the checkpointed path is tested against. [`memory`](super::memory)
//! estimates the peak of either before training starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::describer::{PERSONAL_PROMPT, Qwen2VlDescriber};
use super::recompute::{PhaseTimes, TrainingSequence, micro_batch_loss};
use crate::model::captioner::masked_cross_entropy;
use crate::model::error::{ModelError, Result};
use crate::model::generate::DescriptionModel;

/// How stage 2 bounds its memory through Qwen2-VL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage2Memory {
    /// Sequences per forward/backward pass (gradients accumulate over the batch).
    pub micro_batch: usize,
    /// Recompute each decoder layer in the backward pass instead of keeping the
    /// whole graph (false: the unbounded reference path).
    pub checkpoint_layers: bool,
}

impl Default for Stage2Memory {
    fn default() -> Self {
        Self {
            micro_batch: 8,
            checkpoint_layers: true,
        }
    }
}

/// The frozen Qwen2-VL with the image tokens of the training and validation images.
#[derive(Debug)]
pub struct QwenTarget {
    pub describer: Qwen2VlDescriber,
    images: HashMap<PathBuf, Tensor>,
    /// Descriptions are cut to this many tokens.
    pub max_description_tokens: usize,
    pub memory: Stage2Memory,
    /// When set, checkpointed steps add where their time goes (`bench stage2`).
    pub phase_times: Option<std::sync::Mutex<PhaseTimes>>,
}

impl QwenTarget {
    pub fn new(describer: Qwen2VlDescriber) -> Self {
        Self {
            describer,
            images: HashMap::new(),
            max_description_tokens: 64,
            memory: Stage2Memory::default(),
            phase_times: None,
        }
    }

    /// Computes (once) the image tokens of each image at `paths`.
    pub fn add_images(&mut self, paths: &[PathBuf], device: &Device) -> Result<()> {
        for path in paths {
            if self.images.contains_key(path) {
                continue;
            }
            let values = self.describer.load_image(path, device)?.unsqueeze(0)?;
            let tokens = self.describer.encode_image(&values)?.detach();
            self.images.insert(path.clone(), tokens);
        }
        Ok(())
    }

    /// The cached image tokens, `[1, rows, cols, hidden]` each.
    pub fn image_tokens(&self) -> impl Iterator<Item = &Tensor> {
        self.images.values()
    }

    fn image(&self, path: &Path) -> Result<&Tensor> {
        self.images.get(path).ok_or_else(|| {
            ModelError::Data(format!(
                "{}: no Qwen2-VL image tokens (image not added)",
                path.display()
            ))
        })
    }

    /// The teacher-forced sequence of `text` about the image at `path`.
    fn sequence(&self, path: &Path, text: &str) -> Result<TrainingSequence> {
        let d = &self.describer;
        let image = self.image(path)?;
        let prompt = d.chat_ids(image.dim(1)? * image.dim(2)?, PERSONAL_PROMPT)?;
        let prompt_len = prompt.len();
        let mut ids = prompt;
        ids.extend(
            d.tokenizer
                .encode(text)?
                .into_iter()
                .take(self.max_description_tokens),
        );
        ids.push(d.tokenizer.eos_id);
        Ok(TrainingSequence {
            ids,
            prompt_len,
            image: image.clone(),
        })
    }

    /// Mean `L_des` over the descriptions `texts` of the images `paths`, each
    /// conditioned on its row of `subj` `[b, hidden]`. The gradient reaches `subj`
    /// when it is tracked (training); otherwise only the value is computed.
    pub fn description_loss(
        &self,
        paths: &[PathBuf],
        texts: &[&str],
        subj: &Tensor,
    ) -> Result<Tensor> {
        if paths.is_empty() {
            return Err(ModelError::Data("empty batch".into()));
        }
        let sequences = paths
            .iter()
            .zip(texts)
            .map(|(path, text)| self.sequence(path, text))
            .collect::<Result<Vec<_>>>()?;
        if !self.memory.checkpoint_layers {
            return self.plain_loss(&sequences, subj);
        }
        let d = &self.describer;
        let want_grad = subj.track_op();
        let z = subj.detach();
        let mut loss = 0.0;
        let mut grads: Vec<Option<Tensor>> = vec![None; sequences.len()];
        for group in micro_batches(&sequences, self.memory.micro_batch)? {
            let rows: Vec<&TrainingSequence> = group.iter().map(|&i| &sequences[i]).collect();
            let index: Vec<u32> = group.iter().map(|&i| i as u32).collect();
            let z_rows = z.index_select(&Tensor::new(index.as_slice(), z.device())?, 0)?;
            let part = micro_batch_loss(
                &d.model,
                &rows,
                &z_rows,
                d.tokenizer.subj_id,
                d.tokenizer.eos_id,
                sequences.len(),
                want_grad,
                self.phase_times.as_ref(),
            )?;
            loss += part.loss;
            if let Some(g) = part.subj_grad {
                for (k, &i) in group.iter().enumerate() {
                    grads[i] = Some(g.get(k)?);
                }
            }
        }
        let value = Tensor::new(loss as f32, subj.device())?;
        if !want_grad {
            return Ok(value);
        }
        let grads = grads
            .into_iter()
            .map(|g| g.ok_or_else(|| ModelError::Data("internal: a row got no gradient".into())))
            .collect::<Result<Vec<_>>>()?;
        let grad = Tensor::stack(&grads, 0)?;
        let surrogate = (subj.to_dtype(DType::F32)? * grad)?.sum_all()?;
        Ok(((&surrogate - surrogate.detach())? + value)?)
    }

    /// The unbounded reference: every sequence's whole graph, logits at every position.
    fn plain_loss(&self, sequences: &[TrainingSequence], subj: &Tensor) -> Result<Tensor> {
        let d = &self.describer;
        let device = subj.device();
        let mut total: Option<Tensor> = None;
        for (i, sequence) in sequences.iter().enumerate() {
            let ids = &sequence.ids;
            let s = ids.len() - 1;
            let inputs = Tensor::new(&ids[..s], device)?.unsqueeze(0)?;
            let targets = Tensor::new(&ids[1..], device)?.unsqueeze(0)?;
            let mask: Vec<f32> = (0..s)
                .map(|p| {
                    if p + 1 >= sequence.prompt_len {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let mask = Tensor::from_vec(mask, (1, s), device)?;
            let z = subj.narrow(0, i, 1)?;
            let logits = d
                .model
                .logits(
                    &inputs,
                    Some(&sequence.image),
                    Some((&z, d.tokenizer.subj_id)),
                )?
                .to_dtype(DType::F32)?;
            let loss = masked_cross_entropy(&logits, &targets, &mask)?;
            total = Some(match total {
                Some(t) => (t + loss)?,
                None => loss,
            });
        }
        let total = total.ok_or_else(|| ModelError::Data("empty batch".into()))?;
        Ok((total / sequences.len() as f64)?)
    }

    /// The longest training sequence any cached image gives (prompt, the longest
    /// description allowed and the end token).
    pub fn longest_sequence(&self) -> Result<usize> {
        let mut longest = 0;
        for image in self.images.values() {
            let n = image.dim(1)? * image.dim(2)?;
            let prompt = self.describer.chat_ids(n, PERSONAL_PROMPT)?.len();
            longest = longest.max(prompt + self.max_description_tokens + 1);
        }
        Ok(longest)
    }
}

/// Groups of at most `size` sequence indices sharing one image grid, in batch order
/// within each grid.
fn micro_batches(sequences: &[TrainingSequence], size: usize) -> Result<Vec<Vec<usize>>> {
    if size == 0 {
        return Err(ModelError::Data(
            "--micro-batch must be at least 1 sequence".into(),
        ));
    }
    let mut by_grid: Vec<((usize, usize), Vec<usize>)> = Vec::new();
    for (i, s) in sequences.iter().enumerate() {
        let grid = (s.image.dim(1)?, s.image.dim(2)?);
        match by_grid.iter_mut().find(|(g, _)| *g == grid) {
            Some((_, members)) => members.push(i),
            None => by_grid.push((grid, vec![i])),
        }
    }
    Ok(by_grid
        .into_iter()
        .flat_map(|(_, members)| {
            members
                .chunks(size)
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    /// The tiny fixture Qwen2-VL with its test image's tokens cached, and that image.
    fn fixture_target() -> (QwenTarget, PathBuf) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl");
        let describer = Qwen2VlDescriber::load(&dir.join("model"), &Device::Cpu).unwrap();
        let mut target = QwenTarget::new(describer);
        let image = dir.join("image.png");
        target
            .add_images(std::slice::from_ref(&image), &Device::Cpu)
            .unwrap();
        (target, image)
    }

    #[test]
    fn description_loss_reaches_only_the_injected_embedding() {
        let (target, image) = fixture_target();
        let subj =
            Var::from_tensor(&Tensor::zeros((2, 64), DType::F32, &Device::Cpu).unwrap()).unwrap();
        let paths = vec![image.clone(), image];
        let loss = target
            .description_loss(&paths, &["a red circle", "a blue square"], subj.as_tensor())
            .unwrap();
        let value = loss.to_scalar::<f32>().unwrap();
        assert!(value.is_finite() && value > 0.0, "{value}");
        let grads = loss.backward().unwrap();
        let g = grads
            .get(subj.as_tensor())
            .expect("no gradient reaches <subj>");
        let per_row = g.abs().unwrap().sum(1).unwrap().to_vec1::<f32>().unwrap();
        assert!(per_row.iter().all(|&v| v > 0.0), "{per_row:?}");
        // A step along the gradient lowers the loss.
        let stepped = (subj.as_tensor() - (g * 0.5).unwrap()).unwrap();
        let after = target
            .description_loss(&paths, &["a red circle", "a blue square"], &stepped)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(after < value, "{after} !< {value}");
    }

    /// Loss and gradient at `<subj>` of the checkpointed path at `micro_batch`, and
    /// of the plain whole-graph path, for the same batch.
    fn loss_and_grad(target: &mut QwenTarget, memory: Stage2Memory, subj: &Var) -> (f32, Vec<f32>) {
        target.memory = memory;
        let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl/image.png");
        let paths = vec![image.clone(), image.clone(), image];
        // Descriptions of different lengths, so micro-batches are padded.
        let texts = [
            "a red circle",
            "a blue square beside a small green triangle",
            "two",
        ];
        let loss = target
            .description_loss(&paths, &texts, subj.as_tensor())
            .unwrap();
        let grads = loss.backward().unwrap();
        let g = grads.get(subj.as_tensor()).unwrap();
        (
            loss.to_scalar::<f32>().unwrap(),
            g.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        )
    }

    #[test]
    fn checkpointed_loss_and_gradient_equal_the_whole_graph() {
        let (mut target, _) = fixture_target();
        let subj =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (3, 64), &Device::Cpu).unwrap()).unwrap();
        let plain = Stage2Memory {
            micro_batch: 1,
            checkpoint_layers: false,
        };
        let (plain_loss, plain_grad) = loss_and_grad(&mut target, plain, &subj);
        let norm = plain_grad.iter().map(|g| g * g).sum::<f32>().sqrt();
        assert!(norm > 0.0);
        for micro_batch in [1, 2, 3, 8] {
            let memory = Stage2Memory {
                micro_batch,
                checkpoint_layers: true,
            };
            let (loss, grad) = loss_and_grad(&mut target, memory, &subj);
            assert!(
                (loss - plain_loss).abs() <= 1e-5 * plain_loss.abs(),
                "micro-batch {micro_batch}: loss {loss} vs plain {plain_loss}"
            );
            let diff = grad
                .iter()
                .zip(&plain_grad)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
                .sqrt();
            assert!(
                diff <= 1e-4 * norm,
                "micro-batch {micro_batch}: gradient differs by {diff} (norm {norm})"
            );
        }
    }

    #[test]
    fn without_a_tracked_subject_only_the_value_is_computed() {
        let (mut target, image) = fixture_target();
        let subj = Tensor::randn(0f32, 1.0, (1, 64), &Device::Cpu).unwrap();
        let value = target
            .description_loss(std::slice::from_ref(&image), &["a red circle"], &subj)
            .unwrap();
        assert!(!value.track_op());
        target.memory.checkpoint_layers = false;
        let plain = target
            .description_loss(&[image], &["a red circle"], &subj)
            .unwrap();
        let (a, b) = (
            value.to_scalar::<f32>().unwrap(),
            plain.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() <= 1e-5 * b.abs(), "{a} vs {b}");
    }

    #[test]
    fn the_estimate_grows_with_the_micro_batch_and_is_larger_without_recomputation() {
        let (mut target, _) = fixture_target();
        let at = |target: &mut QwenTarget, micro_batch, checkpoint_layers| {
            target.memory = Stage2Memory {
                micro_batch,
                checkpoint_layers,
            };
            crate::model::qwen2vl::memory::estimate(target, 16).unwrap()
        };
        let one = at(&mut target, 1, true);
        let eight = at(&mut target, 8, true);
        let plain = at(&mut target, 1, false);
        assert!(one.total() < eight.total(), "{one} vs {eight}");
        assert!(eight.total() < plain.total(), "{eight} vs {plain}");
        assert_eq!(one.weights, plain.weights);
        assert!(one.weights > 0 && one.image_tokens > 0);
    }
}
