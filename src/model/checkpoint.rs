//! Weights on disk: safetensors save and checked load, config.json read/write, the
//! model fingerprint recorded in enrollment profiles, and the variable store that
//! lets part of a model be frozen.
//!
//! Every model here is built from a [`VarMap`] through [`PartlyFrozen`]: variables
//! under a frozen prefix are handed to the model detached, so no gradient ever
//! reaches them, and [`trainable_vars`] gives the optimizer only the others. Loading
//! checks every tensor's presence and shape before writing anything, and names the
//! file and the tensor when it cannot.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ModelError, Result};

/// A [`VarMap`] whose variables under any of `frozen` prefixes are returned detached.
#[derive(Clone)]
pub struct PartlyFrozen {
    pub varmap: VarMap,
    frozen: Vec<String>,
    /// Mixed into every new variable's initial values (0: by name alone).
    init_seed: u64,
}

impl PartlyFrozen {
    /// `frozen`: name prefixes such as `"encoder."`; `""` freezes everything.
    pub fn new(varmap: VarMap, frozen: &[&str]) -> Self {
        Self {
            varmap,
            frozen: frozen.iter().map(|s| (*s).to_owned()).collect(),
            init_seed: 0,
        }
    }

    /// New variables start from values drawn with `seed` mixed into their name's
    /// stream, so two training seeds start from different weights (0: by name alone).
    pub fn with_init_seed(mut self, seed: u64) -> Self {
        self.init_seed = seed;
        self
    }

    pub fn is_frozen(&self, name: &str) -> bool {
        self.frozen.iter().any(|p| name.starts_with(p.as_str()))
    }

    /// A builder over this store (f32).
    pub fn var_builder(&self, device: &Device) -> VarBuilder<'static> {
        VarBuilder::from_backend(Box::new(self.clone()), DType::F32, device.clone())
    }
}

impl SimpleBackend for PartlyFrozen {
    fn get(
        &self,
        s: Shape,
        name: &str,
        h: Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        if !SimpleBackend::contains_tensor(&self.varmap, name) {
            let initial = seeded_init(&s, name, self.init_seed, h, dev)?.to_dtype(dtype)?;
            let mut data = match self.varmap.data().lock() {
                Ok(data) => data,
                Err(poisoned) => poisoned.into_inner(),
            };
            data.entry(name.to_owned())
                .or_insert(Var::from_tensor(&initial)?);
        }
        let t = self.varmap.get(s, name, h, dtype, dev)?;
        Ok(if self.is_frozen(name) { t.detach() } else { t })
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let t = SimpleBackend::get_unchecked(&self.varmap, name, dtype, dev)?;
        Ok(if self.is_frozen(name) { t.detach() } else { t })
    }

    fn contains_tensor(&self, name: &str) -> bool {
        SimpleBackend::contains_tensor(&self.varmap, name)
    }
}

/// The initial value of variable `name`, drawn as `init` says from a ChaCha8 stream
/// seeded by the name (FNV-1a) and `init_seed`. candle's own initializers draw from
/// an unseeded thread RNG on the CPU, which made every training run different; with
/// this, a model's starting weights depend only on its configuration and seed.
fn seeded_init(
    shape: &Shape,
    name: &str,
    init_seed: u64,
    init: Init,
    device: &Device,
) -> candle_core::Result<Tensor> {
    use rand::SeedableRng;
    use rand_distr::Distribution;
    let n = shape.elem_count();
    let stream = crate::study::fnv1a(name.as_bytes())
        ^ init_seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(stream);
    let normal =
        |mean: f64, std: f64, rng: &mut rand_chacha::ChaCha8Rng| -> candle_core::Result<Vec<f32>> {
            let dist = rand_distr::Normal::new(mean, std)
                .map_err(|e| candle_core::Error::Msg(format!("initializing `{name}`: {e}")))?;
            Ok((0..n).map(|_| dist.sample(rng) as f32).collect())
        };
    let uniform = |lo: f64, up: f64, rng: &mut rand_chacha::ChaCha8Rng| -> Vec<f32> {
        let dist = rand_distr::Uniform::new_inclusive(lo, up);
        (0..n).map(|_| dist.sample(rng) as f32).collect()
    };
    let values = match init {
        Init::Const(v) => vec![v as f32; n],
        Init::Uniform { lo, up } => uniform(lo, up, &mut rng),
        Init::Randn { mean, stdev } => normal(mean, stdev, &mut rng)?,
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                candle_nn::init::NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    uniform(-bound, bound, &mut rng)
                }
                candle_nn::init::NormalOrUniform::Normal => normal(0.0, std, &mut rng)?,
            }
        }
    };
    Tensor::from_vec(values, shape.clone(), device)
}

/// The variables the optimizer may update: those under no frozen prefix, sorted by
/// name so runs are reproducible.
pub fn trainable_vars(store: &PartlyFrozen) -> Vec<(String, Var)> {
    let data = match store.varmap.data().lock() {
        Ok(data) => data,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut vars: Vec<(String, Var)> = data
        .iter()
        .filter(|(name, _)| !store.is_frozen(name))
        .map(|(name, var)| (name.clone(), var.clone()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// All variables, sorted by name.
pub fn all_vars(varmap: &VarMap) -> Vec<(String, Var)> {
    let data = match varmap.data().lock() {
        Ok(data) => data,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut vars: Vec<(String, Var)> = data.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

/// Reads a safetensors file into named tensors, with a clear error if it is missing
/// or corrupt.
pub fn read_safetensors(path: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    if !path.is_file() {
        return Err(ModelError::MissingFile {
            path: path.to_path_buf(),
            what: "weights (safetensors)".into(),
        });
    }
    let clock = std::time::Instant::now();
    let bytes = std::fs::read(path).map_err(ModelError::io(path))?;
    let read_s = clock.elapsed().as_secs_f64();
    let corrupt = |message: String| ModelError::CorruptWeights {
        path: path.to_path_buf(),
        message,
    };
    if let Some((name, index)) = super::finite_weights::first_non_finite(&bytes).map_err(corrupt)? {
        return Err(ModelError::NonFiniteWeight {
            path: path.to_path_buf(),
            name,
            index,
        });
    }
    let tensors = candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| {
        ModelError::CorruptWeights {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    tracing::debug!(
        "{}: {} MB read in {read_s:.3} s, {} tensors made in {:.3} s",
        path.display(),
        bytes.len() / 1_000_000,
        tensors.len(),
        clock.elapsed().as_secs_f64() - read_s
    );
    Ok(tensors)
}

/// Copies the tensors of `path` into every variable of `varmap`. Checks all names and
/// shapes first, so a bad file leaves the variables untouched.
pub fn load_into(varmap: &VarMap, path: &Path) -> Result<()> {
    let vars = all_vars(varmap);
    let device = match vars.first() {
        Some((_, v)) => v.device().clone(),
        None => Device::Cpu,
    };
    let tensors = read_safetensors(path, &device)?;
    for (name, var) in &vars {
        let Some(t) = tensors.get(name) else {
            return Err(ModelError::MissingTensor {
                path: path.to_path_buf(),
                name: name.clone(),
            });
        };
        if t.dims() != var.dims() {
            return Err(ModelError::WrongShape {
                path: path.to_path_buf(),
                name: name.clone(),
                expected: var.dims().to_vec(),
                found: t.dims().to_vec(),
            });
        }
        if !t.dtype().is_float() {
            return Err(ModelError::WrongDtype {
                path: path.to_path_buf(),
                name: name.clone(),
                found: format!("{:?}", t.dtype()),
            });
        }
    }
    for (name, var) in &vars {
        if let Some(t) = tensors.get(name) {
            var.set(&t.to_dtype(var.dtype())?)?;
        }
    }
    Ok(())
}

/// Saves tensors to `path` through a temporary file renamed into place.
pub fn save_tensors(tensors: &HashMap<String, Tensor>, path: &Path) -> Result<()> {
    let temporary = path.with_extension("safetensors.partial");
    candle_core::safetensors::save(tensors, &temporary)?;
    std::fs::rename(&temporary, path).map_err(ModelError::io(path))
}

/// Saves every variable of `varmap` to `path` (atomically).
pub fn save_varmap(varmap: &VarMap, path: &Path) -> Result<()> {
    let tensors: HashMap<String, Tensor> = all_vars(varmap)
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    save_tensors(&tensors, path)
}

/// Reads a `config.json`.
pub fn read_config<C: DeserializeOwned>(path: &Path) -> Result<C> {
    if !path.is_file() {
        return Err(ModelError::MissingFile {
            path: path.to_path_buf(),
            what: "config.json of the model folder".into(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(ModelError::io(path))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

pub fn write_config<C: Serialize>(config: &C, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(config).map_err(|e| ModelError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text).map_err(ModelError::io(path))
}

/// FNV-1a 64-bit fingerprint of some files' bytes, as 16 hex digits: identifies a
/// trained model in enrollment profiles (an identity check, not a security hash).
pub fn fingerprint(paths: &[&Path]) -> Result<String> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in paths {
        let bytes = std::fs::read(path).map_err(ModelError::io(*path))?;
        for b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    Ok(format!("{hash:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::{Module, linear};

    fn model(varmap: &VarMap) -> candle_nn::Linear {
        let vb = VarBuilder::from_varmap(varmap, DType::F32, &Device::Cpu);
        linear(3, 2, vb.pp("layer")).unwrap()
    }

    #[test]
    fn save_load_round_trips_exactly_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let a = VarMap::new();
        let la = model(&a);
        save_varmap(&a, &path).unwrap();
        let b = VarMap::new();
        let lb = model(&b);
        load_into(&b, &path).unwrap();
        let x = Tensor::randn(0f32, 1.0, (4, 3), &Device::Cpu).unwrap();
        let ya = la.forward(&x).unwrap().to_vec2::<f32>().unwrap();
        let yb = lb.forward(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(ya, yb);

        // Wrong shape: a model with another width.
        let c = VarMap::new();
        let vb = VarBuilder::from_varmap(&c, DType::F32, &Device::Cpu);
        let _ = linear(3, 5, vb.pp("layer")).unwrap();
        let err = load_into(&c, &path).unwrap_err().to_string();
        assert!(
            err.contains("model.safetensors")
                && err.contains("`layer.")
                && err.contains("expected [5"),
            "{err}"
        );

        // Missing tensor.
        let d = VarMap::new();
        let vb = VarBuilder::from_varmap(&d, DType::F32, &Device::Cpu);
        let _ = linear(3, 2, vb.pp("other")).unwrap();
        let err = load_into(&d, &path).unwrap_err().to_string();
        assert!(
            err.contains("`other.") && err.contains("is missing"),
            "{err}"
        );

        // Corrupt file.
        std::fs::write(&path, b"\x10\x00\x00\x00\x00\x00\x00\x00{garbage").unwrap();
        let err = load_into(&b, &path).unwrap_err().to_string();
        assert!(err.contains("not a valid safetensors"), "{err}");
        let err = load_into(&b, &dir.path().join("none.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("none.safetensors") && err.contains("missing"),
            "{err}"
        );
    }

    #[test]
    fn frozen_prefixes_get_no_gradient() {
        let varmap = VarMap::new();
        let store = PartlyFrozen::new(varmap.clone(), &["frozen."]);
        let vb = store.var_builder(&Device::Cpu);
        let f = linear(3, 3, vb.pp("frozen")).unwrap();
        let t = linear(3, 1, vb.pp("trained")).unwrap();
        let x = Tensor::randn(0f32, 1.0, (2, 3), &Device::Cpu).unwrap();
        let loss = t
            .forward(&f.forward(&x).unwrap())
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let trainable = trainable_vars(&store);
        assert_eq!(trainable.len(), 2);
        for (name, var) in all_vars(&varmap) {
            let has = grads.get(var.as_tensor()).is_some();
            assert_eq!(has, !name.starts_with("frozen."), "{name}");
        }
    }
}
