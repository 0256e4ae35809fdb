//! Qwen2-VL (the paper's frozen backbone) in candle, our own implementation: the
//! image processor, the vision tower (14×14 patches, temporal patch 2, 2-D rotary
//! embeddings, 2×2 patch merger), the Qwen2 language model with multimodal rotary
//! positions (M-RoPE), a key/value-cached incremental decoder for `model::generate`,
//! the chat template, and the loader of a Hugging Face folder. The input embedding
//! of `<subj>` can be replaced by any vector, which is what DEPER needs and what
//! candle-transformers' models do not offer.
//!
//! Must not touch the UI. Parity with `transformers` is tested against the fixture
//! made by `scripts/make_qwen2vl_fixture.py` (`tests/qwen2vl_parity.rs`).

pub mod config;
pub mod decode;
pub mod describer;
pub mod loader;
pub mod memory;
pub mod model;
pub mod processor;
pub mod random_model;
pub mod recompute;
pub mod rope;
pub mod stage2;
pub mod step_bench;
pub mod text;
pub mod vision;

pub use config::{PreprocessorConfig, Qwen2VlConfig};
pub use describer::Qwen2VlDescriber;
pub use loader::{LoadedQwen2Vl, load};
pub use model::Qwen2Vl;
pub use processor::ImageProcessor;
