//! The check that every float in a safetensors file is finite, run on the file's bytes
//! before any tensor is made: a NaN or an infinity in the weights would otherwise give
//! an empty or garbage description with exit status 0.
//!
//! It reads the exponent bits only (all ones means NaN or infinity), a few hundred
//! megabytes per second per core even in the dev build, so it runs on every load.

use candle_core::{DType, Device, Tensor};
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
        if !may_hold_non_finite(data, view.dtype()) {
            continue;
        }
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

/// A fast screen through candle's optimized sums (a NaN or an infinity makes the sum
/// non-finite), so the byte scan below runs only on suspects: the scan itself is slow
/// where this crate is built without optimization. A sum may overflow with no bad
/// element (a false alarm the scan then clears), never the reverse.
fn may_hold_non_finite(data: &[u8], dtype: Dtype) -> bool {
    let sum_is_finite = |bytes: &[u8], dtype: DType| -> bool {
        let count = bytes.len() / dtype.size_in_bytes();
        let bytes = &bytes[..count * dtype.size_in_bytes()];
        Tensor::from_raw_buffer(bytes, dtype, &[count], &Device::Cpu)
            .and_then(|t| t.sum_all())
            .and_then(|t| t.to_dtype(DType::F64))
            .and_then(|t| t.to_scalar::<f64>())
            .is_ok_and(f64::is_finite)
    };
    match dtype {
        Dtype::F64 => !sum_is_finite(data, DType::F64),
        Dtype::F32 => !sum_is_finite(data, DType::F32),
        // Two bf16 read as one little-endian f32: the f32's sign and exponent are the
        // second bf16's, so the f32s from byte 0 screen the odd elements and those
        // from byte 2 the even ones from the third; the first two and the last two
        // elements are read exactly.
        Dtype::BF16 => {
            let head = &data[..data.len().min(4)];
            let tail = &data[data.len().saturating_sub(4)..];
            !sum_is_finite(data, DType::F32)
                || !sum_is_finite(data.get(2..).unwrap_or_default(), DType::F32)
                || first_with_exponent::<2>(head, 0x7F80).is_some()
                || first_with_exponent::<2>(tail, 0x7F80).is_some()
        }
        _ => true,
    }
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
    fn a_nan_at_any_position_of_short_bf16_tensors_is_found() {
        let device = Device::Cpu;
        for len in 1..=9 {
            for at in 0..len {
                let mut values = vec![1.5_f32; len];
                values[at] = f32::NAN;
                let t = Tensor::new(values.as_slice(), &device)
                    .unwrap()
                    .to_dtype(candle_core::DType::BF16)
                    .unwrap();
                let found = first_non_finite(&file_of(&[("t", t)])).unwrap();
                assert_eq!(found, Some(("t".to_owned(), at)), "{len} {at}");
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
