//! A small convolutional image encoder: stride-2 3×3 convolutions with GELU, then the
//! final feature map read as a grid of patch tokens with a learned position
//! embedding and a layer norm. Input `[b, 3, size, size]`, output
//! `[b, (size / 2^layers)², width]`. It is trained inside the captioner's base stage
//! and then frozen; DEPER reads its tokens as the image features `V`.
//!
//! Checkpoint keys: `convs.{i}.{weight,bias}`, `position_embedding`, `norm.{weight,bias}`.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder, conv2d};
use serde::{Deserialize, Serialize};

use super::layers::{Norm, norm};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageEncoderConfig {
    /// Side of the square input in pixels; images are resized to it.
    pub image_size: usize,
    /// Output channels of each stride-2 convolution; the last is the token width.
    pub channels: Vec<usize>,
}

impl Default for ImageEncoderConfig {
    fn default() -> Self {
        Self {
            image_size: 128,
            channels: vec![32, 64, 128, 192],
        }
    }
}

impl ImageEncoderConfig {
    pub fn width(&self) -> usize {
        self.channels.last().copied().unwrap_or(3)
    }

    /// Side of the token grid.
    pub fn grid(&self) -> usize {
        self.channels
            .iter()
            .fold(self.image_size, |s, _| s.div_ceil(2))
    }

    pub fn tokens(&self) -> usize {
        self.grid() * self.grid()
    }
}

#[derive(Debug, Clone)]
pub struct ImageEncoder {
    convs: Vec<Conv2d>,
    position_embedding: Tensor,
    norm: Norm,
}

impl ImageEncoder {
    pub fn new(cfg: &ImageEncoderConfig, vb: VarBuilder) -> Result<Self> {
        let conv_cfg = Conv2dConfig {
            padding: 1,
            stride: 2,
            ..Default::default()
        };
        let mut convs = Vec::new();
        let mut input = 3;
        for (i, &out) in cfg.channels.iter().enumerate() {
            convs.push(conv2d(
                input,
                out,
                3,
                conv_cfg,
                vb.pp(format!("convs.{i}")),
            )?);
            input = out;
        }
        let position_embedding = vb.get_with_hints(
            (cfg.tokens(), cfg.width()),
            "position_embedding",
            candle_nn::Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
        )?;
        Ok(Self {
            convs,
            position_embedding,
            norm: norm(cfg.width(), vb.pp("norm"))?,
        })
    }
}

impl Module for ImageEncoder {
    /// `[b, 3, s, s]` → `[b, tokens, width]`.
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let mut x = images.clone();
        for conv in &self.convs {
            x = conv.forward(&x)?.gelu_erf()?;
        }
        let (b, c, h, w) = x.dims4()?;
        let tokens = x.reshape((b, c, h * w))?.transpose(1, 2)?;
        self.norm
            .forward(&tokens.broadcast_add(&self.position_embedding)?)
    }
}
