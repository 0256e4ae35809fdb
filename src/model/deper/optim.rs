//! AdamW (Loshchilov & Hutter; the same update as `candle_nn::AdamW`) over a named
//! list of variables, with its moments and step count saved to and restored from a
//! safetensors file, so an interrupted training resumes exactly.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor, Var, backprop::GradStore};

use crate::model::checkpoint::{read_safetensors, save_tensors};
use crate::model::error::{ModelError, Result};

#[derive(Debug)]
pub struct AdamW {
    vars: Vec<(String, Var)>,
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    step: usize,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamW {
    /// Only `vars` are ever updated: pass the trainable ones.
    pub fn new(vars: Vec<(String, Var)>, lr: f64) -> Result<Self> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let first = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let second = vars
            .iter()
            .map(|(_, v)| zeros(v))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            vars,
            first,
            second,
            step: 0,
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(|(n, _)| n.as_str())
    }

    /// Backward pass of `loss` and one update.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let correction1 = 1.0 - self.beta1.powi(t);
        let correction2 = 1.0 - self.beta2.powi(t);
        for (i, (_, var)) in self.vars.iter().enumerate() {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let m = ((&self.first[i] * self.beta1)? + (grad * (1.0 - self.beta1))?)?;
            let v = ((&self.second[i] * self.beta2)? + (grad.sqr()? * (1.0 - self.beta2))?)?;
            let m_hat = (&m / correction1)?;
            let v_hat = (&v / correction2)?;
            let decayed = (var.as_tensor() * (1.0 - self.lr * self.weight_decay))?;
            let update = (m_hat / (v_hat.sqrt()? + self.eps)?)?;
            var.set(&(decayed - (update * self.lr)?)?)?;
            self.first[i] = m;
            self.second[i] = v;
        }
        Ok(())
    }

    /// Saves moments (`m.<name>`, `v.<name>`) and the step count (`step`).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = HashMap::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            tensors.insert(format!("m.{name}"), self.first[i].clone());
            tensors.insert(format!("v.{name}"), self.second[i].clone());
        }
        let device = self
            .first
            .first()
            .map_or(candle_core::Device::Cpu, |t| t.device().clone());
        tensors.insert("step".into(), Tensor::new(&[self.step as f64], &device)?);
        save_tensors(&tensors, path)
    }

    /// Restores what [`Self::save`] wrote for the same variables.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let device = self
            .first
            .first()
            .map_or(candle_core::Device::Cpu, |t| t.device().clone());
        let tensors = read_safetensors(path, &device)?;
        let get = |name: String, like: &Tensor| -> Result<Tensor> {
            let t = tensors
                .get(&name)
                .ok_or_else(|| ModelError::MissingTensor {
                    path: path.to_path_buf(),
                    name: name.clone(),
                })?;
            if t.dims() != like.dims() {
                return Err(ModelError::WrongShape {
                    path: path.to_path_buf(),
                    name,
                    expected: like.dims().to_vec(),
                    found: t.dims().to_vec(),
                });
            }
            Ok(t.to_dtype(DType::F32)?)
        };
        let mut first = Vec::new();
        let mut second = Vec::new();
        for (i, (name, _)) in self.vars.iter().enumerate() {
            first.push(get(format!("m.{name}"), &self.first[i])?);
            second.push(get(format!("v.{name}"), &self.second[i])?);
        }
        let step = get("step".into(), &Tensor::zeros(1, DType::F64, &device)?)?;
        self.step = step.to_vec1::<f32>()?.first().copied().unwrap_or(0.0) as usize;
        self.first = first;
        self.second = second;
        Ok(())
    }
}
