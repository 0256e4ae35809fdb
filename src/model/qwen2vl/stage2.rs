//! Qwen2-VL as stage 2's frozen description model: `L_des` is Qwen2-VL's
//! cross-entropy on the target description (and the closing `<|im_end|>`) after the
//! chat prompt with the image and `<subj>`, whose input embedding is the DEPER
//! adapter's output. Image tokens come from the frozen vision tower once per image.
//!
//! Memory: the weights are constants (bf16 on a GPU), so the backward pass keeps
//! only the activations of the language model and produces gradients for the
//! injected embedding alone; each description is a separate sequence, so nothing
//! is padded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use super::describer::{PERSONAL_PROMPT, Qwen2VlDescriber};
use crate::model::captioner::masked_cross_entropy;
use crate::model::error::Result;
use crate::model::generate::DescriptionModel;

/// The frozen Qwen2-VL with the image tokens of the training and validation images.
#[derive(Debug)]
pub struct QwenTarget {
    pub describer: Qwen2VlDescriber,
    images: HashMap<PathBuf, Tensor>,
    /// Descriptions are cut to this many tokens.
    pub max_description_tokens: usize,
}

impl QwenTarget {
    pub fn new(describer: Qwen2VlDescriber) -> Self {
        Self {
            describer,
            images: HashMap::new(),
            max_description_tokens: 64,
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

    fn image(&self, path: &Path) -> Result<&Tensor> {
        self.images.get(path).ok_or_else(|| {
            crate::model::error::ModelError::Data(format!(
                "{}: no Qwen2-VL image tokens (image not added)",
                path.display()
            ))
        })
    }

    /// Mean `L_des` over the descriptions `texts` of the images `paths`, each
    /// conditioned on its row of `subj` `[b, hidden]`.
    pub fn description_loss(
        &self,
        paths: &[PathBuf],
        texts: &[&str],
        subj: &Tensor,
    ) -> Result<Tensor> {
        let d = &self.describer;
        let device = subj.device();
        let mut total: Option<Tensor> = None;
        for (i, (path, text)) in paths.iter().zip(texts).enumerate() {
            let tokens = self.image(path)?;
            let n = tokens.dim(1)? * tokens.dim(2)?;
            let prompt = d.chat_ids(n, PERSONAL_PROMPT)?;
            let mut ids = prompt.clone();
            ids.extend(
                d.tokenizer
                    .encode(text)?
                    .into_iter()
                    .take(self.max_description_tokens),
            );
            ids.push(d.tokenizer.eos_id);
            let s = ids.len() - 1;
            let inputs = Tensor::new(&ids[..s], device)?.unsqueeze(0)?;
            let targets = Tensor::new(&ids[1..], device)?.unsqueeze(0)?;
            let mask: Vec<f32> = (0..s)
                .map(|p| if p + 1 >= prompt.len() { 1.0 } else { 0.0 })
                .collect();
            let mask = Tensor::from_vec(mask, (1, s), device)?;
            let z = subj.narrow(0, i, 1)?;
            let logits = d
                .model
                .logits(&inputs, Some(tokens), Some((&z, d.tokenizer.subj_id)))?
                .to_dtype(DType::F32)?;
            let loss = masked_cross_entropy(&logits, &targets, &mask)?;
            total = Some(match total {
                Some(t) => (t + loss)?,
                None => loss,
            });
        }
        let total =
            total.ok_or_else(|| crate::model::error::ModelError::Data("empty batch".into()))?;
        Ok((total / paths.len() as f64)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    #[test]
    fn description_loss_reaches_only_the_injected_embedding() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl");
        let describer = Qwen2VlDescriber::load(&dir.join("model"), &Device::Cpu).unwrap();
        let mut target = QwenTarget::new(describer);
        let image = dir.join("image.png");
        target
            .add_images(std::slice::from_ref(&image), &Device::Cpu)
            .unwrap();
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
}
