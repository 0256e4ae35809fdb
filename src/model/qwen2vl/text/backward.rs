//! The backward pass of one decoder layer with respect to its input only, written out
//! by hand for checkpointed stage-2 training: the layer's forward is recomputed, then
//! the gradient is pulled back through the MLP, the post-attention norm, attention
//! (softmax, rotary embeddings, grouped keys and values) and the input norm. The frozen
//! weights get no gradient at all, so no weight-shaped product is computed (autograd
//! through candle would form one per linear layer, a third of the backward's matrix
//! work) and no autograd graph is built.
//!
//! Precision follows the forward: matrix products and the MLP's element-wise work in
//! the model's dtype, norms, softmax and rotary embeddings in f32. `tests` checks every path against candle's autograd.

use candle_core::{D, DType, Module, Result, Tensor};
use candle_nn::Linear;

use super::{DecoderLayer, RmsNorm, rotate, softmax_last};
use crate::model::qwen2vl::rope::rotate_half;

// The tests below check each hand-written gradient against candle's autograd.

/// `dL/dx` of `y = x W^T (+ b)` for `dy` `[.., out]`: `dy W`, as one 2-D product.
fn linear_input_grad(linear: &Linear, dy: &Tensor) -> Result<Tensor> {
    let dims = dy.dims().to_vec();
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let out = dy
        .reshape((rows, dims[dims.len() - 1]))?
        .matmul(linear.weight())?;
    let mut shape = dims;
    let last = shape.len() - 1;
    shape[last] = linear.weight().dim(1)?;
    out.reshape(shape)
}

/// The gradient of `x·cos + rotate_half(x)·sin` (f32): `d·cos − rotate_half(d·sin)`,
/// since `rotate_half` transposed is its negative.
fn unrotate(d: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    d.broadcast_mul(cos)? - rotate_half(&d.broadcast_mul(sin)?)?
}

impl RmsNorm {
    /// `dL/dx` of `y = x / rms(x) · w` for `dy`, in f32.
    fn input_grad(&self, x: &Tensor, dy: &Tensor) -> Result<Tensor> {
        let x = x.to_dtype(DType::F32)?;
        let g = dy
            .to_dtype(DType::F32)?
            .broadcast_mul(&self.weight.to_dtype(DType::F32)?)?;
        let inv = (x.sqr()?.mean_keepdim(D::Minus1)? + self.eps)?
            .sqrt()?
            .recip()?;
        let dot = (&g * &x)?.mean_keepdim(D::Minus1)?;
        let first = g.broadcast_mul(&inv)?;
        let second = x.broadcast_mul(&(dot * inv.powf(3.0)?)?)?;
        first - second
    }
}

impl DecoderLayer {
    /// `dL/dx` (f32) of this layer at input `x` `[b, s, hidden]` given `dL/dy` `dy`.
    pub(super) fn input_grad(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        dy: &Tensor,
    ) -> Result<Tensor> {
        let dtype = x.dtype();
        let f32 = |t: &Tensor| t.to_dtype(DType::F32);
        let (b, s, hidden) = x.dims3()?;
        let (heads, kv_heads, hd) = (self.heads, self.kv_heads, self.head_dim);
        let rep = heads / kv_heads;
        let split = |t: Tensor, n: usize| -> Result<Tensor> {
            t.reshape((b, s, n, hd))?.transpose(1, 2)?.contiguous()
        };
        let merge = |t: &Tensor, n: usize| -> Result<Tensor> {
            t.transpose(1, 2)?.contiguous()?.reshape((b, s, n * hd))
        };
        let expand = |t: &Tensor| -> Result<Tensor> {
            if rep == 1 {
                return Ok(t.clone());
            }
            t.unsqueeze(2)?
                .broadcast_as((b, kv_heads, rep, s, hd))?
                .reshape((b, heads, s, hd))
        };
        let fold = |t: &Tensor| -> Result<Tensor> {
            if rep == 1 {
                return Ok(t.clone());
            }
            t.reshape((b, kv_heads, rep, s, hd))?.sum(2)
        };

        // The forward, keeping what the backward reads.
        let n1 = self.input_norm.forward(x)?;
        let q = rotate(&f32(&split(self.q.forward(&n1)?, heads)?)?, cos, sin)?.to_dtype(dtype)?;
        let k =
            rotate(&f32(&split(self.k.forward(&n1)?, kv_heads)?)?, cos, sin)?.to_dtype(dtype)?;
        let v = split(self.v.forward(&n1)?, kv_heads)?;
        let (k, v) = (expand(&k)?.contiguous()?, expand(&v)?.contiguous()?);
        let scale = 1.0 / (hd as f64).sqrt();
        let mut scores = f32(&(q.matmul(&k.t()?.contiguous()?)? * scale)?)?;
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        let p = softmax_last(&scores)?;
        drop(scores);
        let p_low = p.to_dtype(dtype)?;
        let attended = merge(&p_low.matmul(&v)?, heads)?;
        let h = (x + self.o.forward(&attended)?)?;
        drop(attended);
        let n2 = self.post_norm.forward(&h)?;
        let gate = self.gate.forward(&n2)?;
        let up = self.up.forward(&n2)?;

        // MLP: y = h + down(silu(gate) · up), in the model's dtype (bf16 on a GPU, as
        // PyTorch's bf16 backward): these are the layer's largest tensors.
        let dy_low = dy.to_dtype(dtype)?;
        let dm = linear_input_grad(&self.down, &dy_low)?;
        let sig = candle_nn::ops::sigmoid(&gate)?;
        let silu = (&gate * &sig)?;
        let dsilu = (&sig * ((&gate * (1.0 - &sig)?)? + 1.0)?)?;
        let dgate = ((&dm * &up)? * dsilu)?;
        let dup = (dm * silu)?;
        drop((gate, up, sig));
        let dn2 = (linear_input_grad(&self.gate, &dgate)? + linear_input_grad(&self.up, &dup)?)?;
        let dh = (f32(dy)? + self.post_norm.input_grad(&h, &dn2)?)?;

        // Attention: h = x + o(softmax(q kᵀ·scale + mask) v).
        let dattended = linear_input_grad(&self.o, &dh.to_dtype(dtype)?)?;
        let dout = split(dattended, heads)?;
        let dp = f32(&dout.matmul(&v.t()?.contiguous()?)?)?;
        let dv = p_low.t()?.contiguous()?.matmul(&dout)?;
        let row_dot = (&dp * &p)?.sum_keepdim(D::Minus1)?;
        let dscores = ((p * dp.broadcast_sub(&row_dot)?)? * scale)?.to_dtype(dtype)?;
        let dq = dscores.matmul(&k)?;
        let dk = dscores.t()?.contiguous()?.matmul(&q)?;
        drop(dscores);
        let dq = unrotate(&f32(&dq)?, cos, sin)?.to_dtype(dtype)?;
        let dk = unrotate(&f32(&fold(&dk)?)?, cos, sin)?.to_dtype(dtype)?;
        let dv = fold(&dv)?;
        let dn1 = ((linear_input_grad(&self.q, &merge(&dq, heads)?)?
            + linear_input_grad(&self.k, &merge(&dk, kv_heads)?)?)?
            + linear_input_grad(&self.v, &merge(&dv, kv_heads)?)?)?;
        let dx = (dh + self.input_norm.input_grad(x, &dn1)?)?;
        debug_assert_eq!(dx.dims3()?, (b, s, hidden));
        Ok(dx)
    }
}

impl super::TextModel {
    /// The weighted cross-entropy of the head at hidden rows `x` `[n, hidden]`,
    /// `−Σ weightᵢ · log softmax(head(xᵢ))[targetᵢ]`, and the log-probabilities.
    pub fn head_loss(
        &self,
        x: &Tensor,
        targets: &Tensor,
        weights: &Tensor,
    ) -> Result<(f32, Tensor)> {
        let log_probs = candle_nn::ops::log_softmax(&self.head(x)?, D::Minus1)?;
        let picked = log_probs.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)?;
        let loss = (picked * weights)?.sum_all()?.neg()?.to_scalar::<f32>()?;
        Ok((loss, log_probs))
    }

    /// The weighted cross-entropy of the head at hidden rows `x` `[n, hidden]`
    /// (`−Σ weightᵢ · log softmax(head(xᵢ))[targetᵢ]`) and its gradient with respect to
    /// `x` (f32), by hand: `(softmax − onehot) · weight` through the vocabulary
    /// projection and the final norm.
    pub fn head_loss_and_input_grad(
        &self,
        x: &Tensor,
        targets: &Tensor,
        weights: &Tensor,
    ) -> Result<(f32, Tensor)> {
        let dtype = x.dtype();
        let (loss, log_probs) = self.head_loss(x, targets, weights)?;
        let targets = targets.unsqueeze(1)?;
        let weights = weights.unsqueeze(1)?;
        let probs = log_probs.exp()?.broadcast_mul(&weights)?;
        drop(log_probs);
        let dlogits = probs.scatter_add(&targets, &weights.neg()?, 1)?;
        let dnormed = dlogits.to_dtype(dtype)?.matmul(self.lm_head.weight())?;
        Ok((loss, self.norm.input_grad(x, &dnormed)?))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};
    use candle_nn::VarBuilder;

    use super::super::TextModel;
    use super::*;
    use crate::model::qwen2vl::config::Qwen2VlConfig;
    use crate::model::qwen2vl::text::causal_mask;

    #[test]
    fn the_hand_written_gradient_equals_autograd() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl/model");
        let config =
            Qwen2VlConfig::from_json(&std::fs::read_to_string(dir.join("config.json")).unwrap())
                .unwrap();
        let device = Device::Cpu;
        let tensors =
            candle_core::safetensors::load(dir.join("model.safetensors"), &device).unwrap();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let text = TextModel::new(&config, vb.pp("model"), vb.clone()).unwrap();
        let (b, s, hidden) = (2, 7, config.text.hidden_size);
        let hd = config.head_dim();
        let angles = Tensor::randn(0f32, 1.0, (b, 1, s, hd), &device).unwrap();
        let (cos, sin) = (angles.cos().unwrap(), angles.sin().unwrap());
        let mask = causal_mask(s, 0, &device).unwrap();
        let x =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (b, s, hidden), &device).unwrap()).unwrap();
        let dy = Tensor::randn(0f32, 1.0, (b, s, hidden), &device).unwrap();
        for layer in 0..text.num_layers() {
            let y = text
                .layer_forward(layer, x.as_tensor(), &cos, &sin, Some(&mask))
                .unwrap();
            let grads = (y * &dy).unwrap().sum_all().unwrap().backward().unwrap();
            let want = grads.get(x.as_tensor()).unwrap();
            let got = text
                .layer_input_grad(layer, x.as_tensor(), &cos, &sin, Some(&mask), &dy)
                .unwrap();
            let diff = (&got - want)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .sqrt()
                .unwrap();
            let norm = want.sqr().unwrap().sum_all().unwrap().sqrt().unwrap();
            let (diff, norm) = (
                diff.to_scalar::<f32>().unwrap(),
                norm.to_scalar::<f32>().unwrap(),
            );
            assert!(diff <= 1e-5 * norm, "layer {layer}: {diff} vs norm {norm}");
        }
        // The head: loss and gradient against autograd through log-softmax.
        let rows =
            Var::from_tensor(&Tensor::randn(0f32, 1.0, (5, hidden), &device).unwrap()).unwrap();
        let targets = Tensor::new(&[1u32, 7, 0, 300, 9], &device).unwrap();
        let weights = Tensor::new(&[0.5f32, 0.25, 1.0, 0.1, 0.3], &device).unwrap();
        let log_probs =
            candle_nn::ops::log_softmax(&text.head(rows.as_tensor()).unwrap(), D::Minus1).unwrap();
        let picked = log_probs
            .gather(&targets.unsqueeze(1).unwrap(), 1)
            .unwrap()
            .squeeze(1)
            .unwrap();
        let loss = (picked * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .neg()
            .unwrap();
        let want = loss
            .backward()
            .unwrap()
            .get(rows.as_tensor())
            .unwrap()
            .clone();
        let (value, got) = text
            .head_loss_and_input_grad(rows.as_tensor(), &targets, &weights)
            .unwrap();
        assert!((value - loss.to_scalar::<f32>().unwrap()).abs() < 1e-5);
        let diff = (&got - &want).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-5);
    }
}
