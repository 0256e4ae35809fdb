//! The check that every float in a safetensors file is finite, run on the file's bytes
//! before any tensor is made: a NaN or an infinity in the weights would otherwise give
//! an empty or garbage description with exit status 0.
//!
//! It reads the exponent bits only (all ones means NaN or infinity), a few hundred
//! megabytes per second per core even in the dev build, so it runs on every load.

use safetensors::{Dtype, SafeTensors};

/// The first non-finite value of a safetensors buffer: the tensor's name and the
/// element's flat index. Integer and boolean tensors are not checked.
pub fn first_non_finite(bytes: &[u8]) -> Result<Option<(String, usize)>, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut names: Vec<String> = file.names().into_iter().map(str::to_owned).collect();
    // The file's own order is a hash map's; a sorted one names the same tensor each time.
    names.sort();
    for name in names {
        let view = file.tensor(&name).map_err(|e| e.to_string())?;
        let data = view.data();
        let found = match view.dtype() {
            Dtype::F64 => first_with_exponent::<8>(data, 0x7FF0_0000_0000_0000),
            Dtype::F32 => first_with_exponent::<4>(data, 0x7F80_0000),
            Dtype::BF16 => first_with_exponent::<2>(data, 0x7F80),
            Dtype::F16 => first_with_exponent::<2>(data, 0x7C00),
            _ => None,
        };
        if let Some(index) = found {
            return Ok(Some((name, index)));
        }
    }
    Ok(None)
}

/// The index of the first little-endian `N`-byte value whose `exponent_mask` bits are
/// all set.
fn first_with_exponent<const N: usize>(data: &[u8], exponent_mask: u64) -> Option<usize> {
    let is_special = |value: &[u8]| {
        let mut word = [0_u8; 8];
        word[..N].copy_from_slice(value);
        u64::from_le_bytes(word) & exponent_mask == exponent_mask
    };
    // Blocks first (an `any` over a block vectorizes), then the element inside one.
    const BLOCK: usize = 256;
    let block_bytes = BLOCK * N;
    for (block_index, block) in data.chunks(block_bytes).enumerate() {
        if block.chunks_exact(N).any(is_special) {
            let within = block.chunks_exact(N).position(is_special).unwrap_or(0);
            return Some(block_index * BLOCK + within);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn file_of(tensors: &[(&str, Tensor)]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let map: std::collections::HashMap<String, Tensor> = tensors
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect();
        candle_core::safetensors::save(&map, &path).unwrap();
        std::fs::read(&path).unwrap()
    }

    #[test]
    fn finds_nan_and_infinity_in_every_float_dtype_and_names_the_element() {
        let device = Device::Cpu;
        for dtype in [
            candle_core::DType::F64,
            candle_core::DType::F32,
            candle_core::DType::BF16,
            candle_core::DType::F16,
        ] {
            let mut values = vec![0.5_f32; 1000];
            let clean = Tensor::new(values.as_slice(), &device)
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            assert_eq!(first_non_finite(&file_of(&[("a", clean)])).unwrap(), None);
            for (at, bad) in [
                (0, f32::NAN),
                (777, f32::INFINITY),
                (999, f32::NEG_INFINITY),
            ] {
                values.fill(-3.25);
                values[at] = bad;
                let t = Tensor::new(values.as_slice(), &device)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let ok = Tensor::zeros(4, dtype, &device).unwrap();
                let found = first_non_finite(&file_of(&[("a.ok", ok), ("b.bad", t)])).unwrap();
                assert_eq!(found, Some(("b.bad".to_owned(), at)), "{dtype:?} {bad}");
            }
        }
    }

    #[test]
    fn the_largest_finite_values_pass() {
        let device = Device::Cpu;
        let t = Tensor::new(&[f32::MAX, f32::MIN, f32::MIN_POSITIVE, -0.0], &device).unwrap();
        assert_eq!(first_non_finite(&file_of(&[("t", t)])).unwrap(), None);
        let ints = Tensor::new(&[u32::MAX, 0x7F80_0000], &device).unwrap();
        assert_eq!(first_non_finite(&file_of(&[("i", ints)])).unwrap(), None);
    }
}
