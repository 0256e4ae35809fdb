//! Machine-learning models, all on candle. Owns model loading, inference and the
//! numeric preprocessing each model needs; it must not touch the UI.

pub mod speech;
