//! Rotary position embeddings of Qwen2-VL: the rotation itself (`rotate_half`
//! convention: the head's first and second halves pair up), multimodal position ids
//! (M-RoPE: every token has a temporal, a height and a width position; text tokens
//! have all three equal, image tokens their place in the merged grid) and the
//! cos/sin tables where each third of the frequencies follows one of the three.
//! Built from differentiable operations so gradients reach a `<subj>` embedding.

use candle_core::{D, Device, Result, Tensor};

/// `x · cos + rotate_half(x) · sin`; `cos`/`sin` broadcast against `x` from the right.
pub fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    x.broadcast_mul(cos)? + rotate_half(x)?.broadcast_mul(sin)?
}

/// `[x1, x2] → [−x2, x1]` on the last dimension.
pub fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    let x1 = x.narrow(D::Minus1, 0, half)?;
    let x2 = x.narrow(D::Minus1, half, half)?;
    Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)
}

/// Where the image of a sequence sits: the run of `<|image_pad|>` tokens and the
/// merged grid (rows, columns) it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageGrid {
    pub rows: usize,
    pub cols: usize,
}

/// M-RoPE positions `[3][s]` (temporal, height, width) of one sequence, and the next
/// free position (text after the sequence continues from it).
pub fn mrope_positions(
    ids: &[u32],
    image_token_id: u32,
    grids: &[ImageGrid],
) -> Result<([Vec<u32>; 3], u32)> {
    let mut pos: [Vec<u32>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    let mut next = 0u32;
    let mut grids = grids.iter();
    let mut i = 0;
    while i < ids.len() {
        if ids[i] != image_token_id {
            for axis in &mut pos {
                axis.push(next);
            }
            next += 1;
            i += 1;
            continue;
        }
        let grid = grids.next().ok_or_else(|| {
            candle_core::Error::Msg("more image placeholder runs than images".into())
        })?;
        let n = grid.rows * grid.cols;
        if ids.len() < i + n || ids[i..i + n].iter().any(|&t| t != image_token_id) {
            return Err(candle_core::Error::Msg(format!(
                "an image of {}×{} merged patches needs {n} consecutive placeholder tokens",
                grid.rows, grid.cols
            )));
        }
        for r in 0..grid.rows {
            for c in 0..grid.cols {
                pos[0].push(next);
                pos[1].push(next + r as u32);
                pos[2].push(next + c as u32);
            }
        }
        next += grid.rows.max(grid.cols) as u32;
        i += n;
    }
    Ok((pos, next))
}

/// The language model's rotary tables.
#[derive(Debug, Clone)]
pub struct MropeTables {
    inv_freq: Vec<f32>,
    /// Axis (0 t, 1 h, 2 w) of each frequency.
    axis_of: Vec<usize>,
}

impl MropeTables {
    pub fn new(head_dim: usize, theta: f64, sections: &[usize]) -> Self {
        let inv_freq = (0..head_dim)
            .step_by(2)
            .map(|i| 1.0 / (theta as f32).powf(i as f32 / head_dim as f32))
            .collect();
        let axis_of = sections
            .iter()
            .enumerate()
            .flat_map(|(axis, &n)| std::iter::repeat_n(axis % 3, n))
            .collect();
        Self { inv_freq, axis_of }
    }

    /// cos/sin `[b, 1, s, head_dim]` for positions `[b][3][s]`.
    pub fn cos_sin(
        &self,
        positions: &[[Vec<u32>; 3]],
        device: &Device,
    ) -> Result<(Tensor, Tensor)> {
        let b = positions.len();
        let s = positions.first().map_or(0, |p| p[0].len());
        let half = self.inv_freq.len();
        let mut angles = Vec::with_capacity(b * s * 2 * half);
        for p in positions {
            for ((&t, &h), &w) in p[0].iter().zip(&p[1]).zip(&p[2]) {
                let axes = [t as f32, h as f32, w as f32];
                let row: Vec<f32> = (0..half)
                    .map(|f| axes[self.axis_of[f]] * self.inv_freq[f])
                    .collect();
                angles.extend_from_slice(&row);
                angles.extend_from_slice(&row);
            }
        }
        let angles = Tensor::from_vec(angles, (b, 1, s, 2 * half), device)?;
        Ok((angles.cos()?, angles.sin()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_tokens_take_grid_positions_and_text_resumes_after_the_longer_side() {
        let ids = [1, 2, 9, 9, 9, 9, 9, 9, 3];
        let (pos, next) = mrope_positions(&ids, 9, &[ImageGrid { rows: 2, cols: 3 }]).unwrap();
        assert_eq!(pos[0], vec![0, 1, 2, 2, 2, 2, 2, 2, 5]);
        assert_eq!(pos[1], vec![0, 1, 2, 2, 2, 3, 3, 3, 5]);
        assert_eq!(pos[2], vec![0, 1, 2, 3, 4, 2, 3, 4, 5]);
        assert_eq!(next, 6);
        assert!(mrope_positions(&[9, 9, 1], 9, &[ImageGrid { rows: 2, cols: 2 }]).is_err());
    }
}
