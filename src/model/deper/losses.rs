//! DEPER's losses: supervised contrastive `L_con` (Khosla et al. 2020, temperature τ)
//! over a batch's `z_s`, subject classification `L_cls`, and trajectory
//! reconstruction `L_traj` = masked smooth-L1 on boxes + BCE on slot validity.
//! All built from differentiable tensor primitives.

use candle_core::{D, DType, Result, Tensor};

/// SupCon over `z` `[b, h]` with integer `labels`: for each anchor with at least one
/// positive, `−mean_p log softmax_{a≠i}(z_i·z_a/τ)[p]`; averaged over those anchors.
/// Returns zero when no anchor has a positive (the P×K sampler prevents that).
pub fn supcon(z: &Tensor, labels: &[u32], temperature: f64) -> Result<Tensor> {
    let b = labels.len();
    let device = z.device();
    let norm = z.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.maximum(1e-8)?;
    let z = z.broadcast_div(&norm)?;
    let sim = (z.matmul(&z.t()?)? / temperature)?;
    let not_self: Vec<f32> = (0..b * b)
        .map(|k| if k / b == k % b { 0.0 } else { 1.0 })
        .collect();
    let positive: Vec<f32> = (0..b * b)
        .map(|k| {
            let (i, j) = (k / b, k % b);
            if i != j && labels[i] == labels[j] {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let anchors: Vec<f32> = (0..b)
        .map(|i| {
            let count: f32 = positive[i * b..(i + 1) * b].iter().sum();
            if count > 0.0 { 1.0 / count } else { 0.0 }
        })
        .collect();
    let anchor_count = anchors.iter().filter(|&&w| w > 0.0).count();
    if anchor_count == 0 {
        return Tensor::zeros((), DType::F32, device);
    }
    let not_self = Tensor::from_vec(not_self, (b, b), device)?;
    let positive = Tensor::from_vec(positive, (b, b), device)?;
    let anchors = Tensor::from_vec(anchors, (b, 1), device)?;
    // Stable log-sum-exp over a ≠ i: subtract the (detached) row maximum.
    let row_max = sim.max_keepdim(D::Minus1)?.detach();
    let shifted = sim.broadcast_sub(&row_max)?;
    let denominator = (shifted.exp()? * &not_self)?
        .sum_keepdim(D::Minus1)?
        .log()?;
    let log_prob = shifted.broadcast_sub(&denominator)?;
    let per_anchor = (log_prob * positive)?
        .sum_keepdim(D::Minus1)?
        .mul(&anchors)?;
    per_anchor.sum_all()?.neg()? / anchor_count as f64
}

/// Cross-entropy of `logits` `[b, classes]` against `labels`.
pub fn classification(logits: &Tensor, labels: &[u32]) -> Result<Tensor> {
    let targets = Tensor::from_slice(labels, labels.len(), logits.device())?;
    candle_nn::loss::cross_entropy(logits, &targets)
}

/// Masked smooth-L1 (β = 1) on valid slots' boxes plus BCE-with-logits on validity.
/// `pred_boxes`, `target_boxes`: `[b, m, 4]`; `valid_logits`, `target_valid`: `[b, m]`.
pub fn trajectory(
    pred_boxes: &Tensor,
    valid_logits: &Tensor,
    target_boxes: &Tensor,
    target_valid: &Tensor,
) -> Result<Tensor> {
    let diff = (pred_boxes - target_boxes)?.abs()?;
    let small = diff.minimum(1.0)?;
    let huber = ((small.sqr()? * 0.5)? + (diff - &small)?)?;
    let mask = target_valid.unsqueeze(D::Minus1)?;
    let count = (mask.sum_all()? * 4.0)?.maximum(1.0)?;
    let box_loss = huber.broadcast_mul(&mask)?.sum_all()?.div(&count)?;
    // BCE with logits: max(x, 0) − x·y + log(1 + e^{−|x|}).
    let x = valid_logits;
    let bce = ((x.relu()? - (x * target_valid)?)? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    box_loss + bce.mean_all()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn scalar(t: Tensor) -> f32 {
        t.to_scalar::<f32>().unwrap()
    }

    #[test]
    fn supcon_prefers_clustered_embeddings() {
        let d = Device::Cpu;
        let labels = [0, 0, 1, 1];
        let clustered =
            Tensor::new(&[[1f32, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], &d).unwrap();
        let mixed = Tensor::new(&[[1f32, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9]], &d).unwrap();
        let good = scalar(supcon(&clustered, &labels, 0.07).unwrap());
        let bad = scalar(supcon(&mixed, &labels, 0.07).unwrap());
        assert!(good < 0.1 && bad > 5.0, "{good} {bad}");
        assert_eq!(
            scalar(supcon(&clustered, &[0, 1, 2, 3], 0.07).unwrap()),
            0.0
        );
    }

    #[test]
    fn trajectory_loss_ignores_invalid_slots() {
        let d = Device::Cpu;
        let target = Tensor::new(&[[[0.1f32, 0.1, 0.3, 0.3], [0.0, 0.0, 0.0, 0.0]]], &d).unwrap();
        let valid = Tensor::new(&[[1f32, 0.0]], &d).unwrap();
        let confident = Tensor::new(&[[20f32, -20.0]], &d).unwrap();
        let exact = Tensor::new(&[[[0.1f32, 0.1, 0.3, 0.3], [0.9, 0.9, 1.0, 1.0]]], &d).unwrap();
        let loss = scalar(trajectory(&exact, &confident, &target, &valid).unwrap());
        assert!(loss < 1e-6, "{loss}");
        let off = Tensor::new(&[[[0.3f32, 0.1, 0.3, 0.3], [0.9, 0.9, 1.0, 1.0]]], &d).unwrap();
        let loss = scalar(trajectory(&off, &confident, &target, &valid).unwrap());
        assert!((loss - 0.5 * 0.04 / 4.0).abs() < 1e-5, "{loss}");
    }
}
