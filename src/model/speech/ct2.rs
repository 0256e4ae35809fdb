//! Reader for CTranslate2's `model.bin` (binary versions 4 to 6, as written by
//! `ctranslate2.specs.ModelSpec._serialize`).
//!
//! Layout, all little-endian: `u32` binary version; the spec name as a string
//! (`u16` length counting a trailing NUL, the bytes, the NUL); `u32` spec revision;
//! `u32` variable count, then per variable its name, `u8` rank, `rank × u32` dims,
//! `u8` dtype id (float32, int8, int16, int32, float16, bfloat16) and `u32` byte
//! count followed by the data; finally `u32` alias count and (alias, target) name
//! pairs for variables stored once and shared (tied embeddings, for instance).
//! Quantized weights (`int8`, `int16`) come with a `<name>_scale` variable.
//!
//! Owns parsing and dequantising; it must not know which model the variables form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

/// Why a `model.bin` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("cannot read {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: file ends at byte {offset} while reading {what}")]
    Truncated {
        path: PathBuf,
        offset: usize,
        what: String,
    },
    #[error("{path}: binary version {found} is not supported (expected 4 to 6)")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: variable `{name}` has unknown dtype id {id}")]
    DType { path: PathBuf, name: String, id: u8 },
    #[error(
        "{path}: variable `{name}` has {found} bytes, but shape {shape:?} of {dtype:?} needs {expected}"
    )]
    Size {
        path: PathBuf,
        name: String,
        shape: Vec<usize>,
        dtype: Ct2DType,
        expected: usize,
        found: usize,
    },
    #[error("{path}: no variable `{name}`")]
    Missing { path: PathBuf, name: String },
    #[error("{path}: variable `{name}`: {message}")]
    Convert {
        path: PathBuf,
        name: String,
        message: String,
    },
}

/// Element types, in the order of CTranslate2's `DataType` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Ct2DType {
    fn from_id(id: u8) -> Option<Self> {
        [
            Self::F32,
            Self::I8,
            Self::I16,
            Self::I32,
            Self::F16,
            Self::BF16,
        ]
        .get(usize::from(id))
        .copied()
    }

    pub fn size_bytes(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One stored variable.
#[derive(Debug, Clone)]
pub struct Ct2Variable {
    pub shape: Vec<usize>,
    pub dtype: Ct2DType,
    pub data: Vec<u8>,
}

impl Ct2Variable {
    /// The value of a scalar integer or boolean variable (such as `num_heads`).
    pub fn scalar_i64(&self) -> Option<i64> {
        if !self.shape.is_empty() {
            return None;
        }
        let d = &self.data;
        match self.dtype {
            Ct2DType::I8 => d.first().map(|&b| i64::from(b as i8)),
            Ct2DType::I16 => d
                .get(..2)
                .map(|b| i64::from(i16::from_le_bytes([b[0], b[1]]))),
            Ct2DType::I32 => d
                .get(..4)
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
            _ => None,
        }
    }
}

/// A parsed `model.bin`.
#[derive(Debug, Clone)]
pub struct Ct2Model {
    pub path: PathBuf,
    pub binary_version: u32,
    pub spec_name: String,
    pub spec_revision: u32,
    pub variables: BTreeMap<String, Ct2Variable>,
    pub aliases: BTreeMap<String, String>,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    offset: usize,
    path: &'a Path,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .offset
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(Ct2Error::Truncated {
                path: self.path.to_path_buf(),
                offset: self.bytes.len(),
                what: what.to_string(),
            });
        };
        let slice = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(slice)
    }

    fn u8(&mut self, what: &str) -> Result<u8, Ct2Error> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, Ct2Error> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, Ct2Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, what: &str) -> Result<String, Ct2Error> {
        let len = usize::from(self.u16(what)?);
        let bytes = self.take(len, what)?;
        let text = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        Ok(String::from_utf8_lossy(text).into_owned())
    }
}

impl Ct2Model {
    pub fn read(path: &Path) -> Result<Self, Ct2Error> {
        let bytes = std::fs::read(path).map_err(|error| Ct2Error::Read {
            path: path.to_path_buf(),
            error,
        })?;
        Self::parse(&bytes, path)
    }

    /// Parses the bytes of a `model.bin`; `path` only names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, Ct2Error> {
        let mut cursor = Cursor {
            bytes,
            offset: 0,
            path,
        };
        let binary_version = cursor.u32("the binary version")?;
        if !(4..=6).contains(&binary_version) {
            return Err(Ct2Error::Version {
                path: path.to_path_buf(),
                found: binary_version,
            });
        }
        let spec_name = cursor.string("the spec name")?;
        let spec_revision = cursor.u32("the spec revision")?;
        let count = cursor.u32("the variable count")?;
        let mut variables = BTreeMap::new();
        for index in 0..count {
            let name = cursor.string(&format!("the name of variable {index}"))?;
            let rank = cursor.u8(&format!("the rank of `{name}`"))?;
            let shape = (0..rank)
                .map(|_| {
                    cursor
                        .u32(&format!("the shape of `{name}`"))
                        .map(|d| d as usize)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let id = cursor.u8(&format!("the dtype of `{name}`"))?;
            let dtype = Ct2DType::from_id(id).ok_or_else(|| Ct2Error::DType {
                path: path.to_path_buf(),
                name: name.clone(),
                id,
            })?;
            let byte_count = cursor.u32(&format!("the size of `{name}`"))? as usize;
            let expected = shape.iter().product::<usize>() * dtype.size_bytes();
            if byte_count != expected {
                return Err(Ct2Error::Size {
                    path: path.to_path_buf(),
                    name,
                    shape,
                    dtype,
                    expected,
                    found: byte_count,
                });
            }
            let data = cursor.take(byte_count, &format!("the data of `{name}`"))?;
            variables.insert(
                name,
                Ct2Variable {
                    shape,
                    dtype,
                    data: data.to_vec(),
                },
            );
        }
        let mut aliases = BTreeMap::new();
        // Files from before aliases existed may end here.
        if cursor.offset < bytes.len() {
            let alias_count = cursor.u32("the alias count")?;
            for _ in 0..alias_count {
                let alias = cursor.string("an alias name")?;
                let target = cursor.string(&format!("the target of alias `{alias}`"))?;
                aliases.insert(alias, target);
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            binary_version,
            spec_name,
            spec_revision,
            variables,
            aliases,
        })
    }

    /// A variable by name, following aliases.
    pub fn get(&self, name: &str) -> Option<&Ct2Variable> {
        let mut name = name;
        for _ in 0..8 {
            if let Some(variable) = self.variables.get(name) {
                return Some(variable);
            }
            name = self.aliases.get(name)?;
        }
        None
    }

    pub fn require(&self, name: &str) -> Result<&Ct2Variable, Ct2Error> {
        self.get(name).ok_or_else(|| Ct2Error::Missing {
            path: self.path.clone(),
            name: name.to_string(),
        })
    }

    /// A floating-point variable as a CPU tensor, keeping f32/f16/bf16 as stored and
    /// dequantising int8/int16 weights with their `<name>_scale` to f32.
    pub fn tensor(&self, name: &str) -> Result<Tensor, Ct2Error> {
        let variable = self.require(name)?;
        let convert = |e: candle_core::Error| Ct2Error::Convert {
            path: self.path.clone(),
            name: name.to_string(),
            message: e.to_string(),
        };
        let raw = |dtype| {
            Tensor::from_raw_buffer(&variable.data, dtype, &variable.shape, &Device::Cpu)
                .map_err(convert)
        };
        match variable.dtype {
            Ct2DType::F32 => raw(DType::F32),
            Ct2DType::F16 => raw(DType::F16),
            Ct2DType::BF16 => raw(DType::BF16),
            Ct2DType::I8 | Ct2DType::I16 => self.dequantize(name, variable),
            Ct2DType::I32 => Err(Ct2Error::Convert {
                path: self.path.clone(),
                name: name.to_string(),
                message: "int32 variables are not weights".into(),
            }),
        }
    }

    fn dequantize(&self, name: &str, variable: &Ct2Variable) -> Result<Tensor, Ct2Error> {
        let error = |message: String| Ct2Error::Convert {
            path: self.path.clone(),
            name: name.to_string(),
            message,
        };
        let values: Vec<f32> = match variable.dtype {
            Ct2DType::I8 => variable.data.iter().map(|&b| f32::from(b as i8)).collect(),
            _ => variable
                .data
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
                .collect(),
        };
        let scale_name = format!("{name}_scale");
        let scale = self
            .tensor(&scale_name)
            .map_err(|e| error(format!("quantized weight without a usable scale: {e}")))?;
        let scale: Vec<f32> = scale
            .to_dtype(DType::F32)
            .and_then(|s| s.flatten_all())
            .and_then(|s| s.to_vec1())
            .map_err(|e| error(e.to_string()))?;
        let rows = variable.shape.first().copied().unwrap_or(1).max(1);
        let row_len = values.len() / rows;
        let values: Vec<f32> = values
            .iter()
            .enumerate()
            .map(|(i, &q)| {
                let s = if scale.len() == 1 {
                    scale[0]
                } else {
                    scale.get(i / row_len.max(1)).copied().unwrap_or(1.0)
                };
                q / s
            })
            .collect();
        if scale.len() != 1 && scale.len() != rows {
            return Err(error(format!(
                "scale has {} values for {rows} rows",
                scale.len()
            )));
        }
        Tensor::from_vec(values, variable.shape.clone(), &Device::Cpu)
            .map_err(|e| error(e.to_string()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a model.bin the way CTranslate2's `_serialize` does.
    pub(crate) fn serialize<S: AsRef<str>>(
        variables: &[(S, Vec<u32>, u8, Vec<u8>)],
        aliases: &[(&str, &str)],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let string = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        };
        out.extend_from_slice(&6u32.to_le_bytes());
        string(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(variables.len() as u32).to_le_bytes());
        for (name, shape, dtype, data) in variables {
            string(&mut out, name.as_ref());
            out.push(shape.len() as u8);
            for d in shape {
                out.extend_from_slice(&d.to_le_bytes());
            }
            out.push(*dtype);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (alias, target) in aliases {
            string(&mut out, alias);
            string(&mut out, target);
        }
        out
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn reads_variables_scalars_and_aliases() {
        let bytes = serialize(
            &[
                (
                    "dec/embeddings/weight",
                    vec![2, 2],
                    0,
                    f32_bytes(&[1.0, 2.0, 3.0, 4.0]),
                ),
                ("dec/num_heads", vec![], 2, 6i16.to_le_bytes().to_vec()),
            ],
            &[("dec/projection/weight", "dec/embeddings/weight")],
        );
        let model = Ct2Model::parse(&bytes, Path::new("model.bin")).unwrap();
        assert_eq!(
            (
                model.binary_version,
                model.spec_name.as_str(),
                model.spec_revision
            ),
            (6, "WhisperSpec", 3)
        );
        assert_eq!(
            model.require("dec/num_heads").unwrap().scalar_i64(),
            Some(6)
        );
        let tied = model.tensor("dec/projection/weight").unwrap();
        assert_eq!(
            tied.to_vec2::<f32>().unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.0]]
        );
    }

    #[test]
    fn int8_weights_are_dequantized_per_row() {
        let bytes = serialize(
            &[
                ("w/weight", vec![2, 2], 1, vec![10u8, (-20i8) as u8, 127, 0]),
                ("w/weight_scale", vec![2], 0, f32_bytes(&[10.0, 127.0])),
            ],
            &[],
        );
        let model = Ct2Model::parse(&bytes, Path::new("model.bin")).unwrap();
        let w = model.tensor("w/weight").unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(w, vec![vec![1.0, -2.0], vec![1.0, 0.0]]);
    }

    #[test]
    fn a_truncated_file_names_what_was_being_read() {
        let bytes = serialize(&[("enc/conv1/bias", vec![4], 0, f32_bytes(&[0.0; 4]))], &[]);
        let error =
            Ct2Model::parse(&bytes[..bytes.len() - 10], Path::new("m/model.bin")).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("m/model.bin") && message.contains("enc/conv1/bias"),
            "{message}"
        );
    }
}
