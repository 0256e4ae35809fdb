//! The base stage: the built-in captioner trained on the training descriptions, then
//! frozen for DEPER. Most sequences see the plain prompt (the generic, group-level
//! model); a share [`TrainConfig::base_style_exemplars`] see a *style exemplar* in the
//! `<subj>` slot instead: the mean word embedding of [`STYLE_EXEMPLARS`] other
//! descriptions by the same subject, of other images. Their content mostly cancels
//! and their wording does not, so the decoder learns to read the slot as "say it like
//! this" — what the paper's instruction-tuned VLM understands from its prompt, and
//! what a soft prompt cannot teach a model this small (prompt tuning only steers
//! frozen models of billions of parameters, Lester et al. 2021). Stage 2 then trains
//! the adapter to write into that space from `z_s`.
//!
//! Beside the description loss, the image features must predict which *content
//! words* each description uses (see [`crate::model::content_words`]: words that
//! people who see the same image share), weighted by
//! [`TrainConfig::base_content_weight`]: without labels, this makes the encoder see
//! the objects and colours a picture holds, which a decoder trained on a few hundred
//! descriptions otherwise guesses from what captions usually say.

use std::collections::HashMap;
use std::time::Instant;

use candle_core::{Device, Tensor};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::data::Trials;
use super::optim::AdamW;
use super::run_state::{OutDir, Stage, Totals, log_epoch, resume, save_checkpoint};
use super::train::{Progress, TrainConfig};
use crate::model::captioner::{Captioner, sequence_batch};
use crate::model::checkpoint::{PartlyFrozen, trainable_vars};
use crate::model::content_words::{ContentHead, ContentWords};
use crate::model::error::Result;
use crate::model::images::ImageCache;
use crate::model::tokenizer::TextTokenizer;

/// How many other descriptions make one style exemplar.
pub const STYLE_EXEMPLARS: usize = 2;

pub(super) fn train_base(
    out: &OutDir,
    train: &Trials,
    val: &Trials,
    cfg: &TrainConfig,
    device: &Device,
    progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let stage = Stage::Base;
    let tokenizer_path = out.0.join("checkpoints").join("tokenizer.json");
    let tokenizer = if tokenizer_path.is_file() {
        TextTokenizer::load(&tokenizer_path)?
    } else {
        let mut texts: Vec<&str> = train
            .records
            .iter()
            .map(|r| r.description.as_str())
            .collect();
        texts.push(&cfg.captioner.prompt);
        let t = TextTokenizer::train(&texts, cfg.vocab_size)?;
        t.save(&tokenizer_path)?;
        t
    };
    let mut ccfg = cfg.captioner.clone();
    ccfg.vocab_size = tokenizer.vocab_size();
    let (model, varmap) = Captioner::build(&ccfg, false, device)?;
    let store = PartlyFrozen::new(varmap, &[]);
    let content = ContentWords::select(
        train
            .records
            .iter()
            .map(|r| (r.image.as_str(), r.description.as_str())),
        cfg.base_content_words,
    );
    let head = if cfg.base_content_weight > 0.0 && !content.is_empty() {
        tracing::info!(
            "base: content loss over {} words ({})",
            content.len(),
            content.words().join(" ")
        );
        Some(ContentHead::new(
            ccfg.image.width(),
            content.len(),
            store.var_builder(device).pp("content_head"),
        )?)
    } else {
        None
    };
    let mut opt = AdamW::new(trainable_vars(&store), cfg.base_lr)?;
    let start = resume(out, stage, &store, &mut opt)?;
    let mut images = ImageCache::new(ccfg.image.image_size);
    let same_subject = same_subject_index(train);
    // `exemplars`: draws which sequences get a style exemplar and which (training);
    // `None` for validation, which measures the generic mode.
    let step = |trials: &Trials,
                batch: &[usize],
                images: &mut ImageCache,
                exemplars: Option<&mut ChaCha8Rng>|
     -> Result<Tensor> {
        let pixels = batch
            .iter()
            .map(|&i| images.get(&trials.image_path(i), device))
            .collect::<Result<Vec<_>>>()?;
        let texts: Vec<&str> = batch
            .iter()
            .map(|&i| trials.records[i].description.as_str())
            .collect();
        let seq = sequence_batch(&tokenizer, &ccfg.prompt, &texts, ccfg.max_positions, device)?;
        let features = model.image_features(&Tensor::stack(&pixels, 0)?)?;
        let tokens = model.project_image_features(&features)?;
        // The content loss trains; validation measures the description loss alone.
        let content_loss = match (&head, &exemplars) {
            (Some(head), Some(_)) => {
                let targets: Vec<f32> = texts.iter().flat_map(|t| content.targets(t)).collect();
                let targets = Tensor::from_vec(targets, (texts.len(), content.len()), device)?;
                Some(ContentHead::loss(&head.forward(&features)?, &targets)?)
            }
            _ => None,
        };
        let slot = match exemplars {
            Some(rng) if cfg.base_style_exemplars > 0.0 => {
                let share = cfg.base_style_exemplars.min(1.0);
                let picks: Vec<Option<String>> = batch
                    .iter()
                    .map(|&i| {
                        if rng.gen_bool(share) {
                            style_exemplar(trials, &same_subject, i, rng)
                        } else {
                            None
                        }
                    })
                    .collect();
                let fill: Vec<bool> = picks.iter().map(Option::is_some).collect();
                // Rows without an exemplar keep `<subj>`'s embedding; their text is
                // only a placeholder.
                let exemplar_texts: Vec<&str> = picks
                    .iter()
                    .zip(&texts)
                    .map(|(pick, own)| pick.as_deref().unwrap_or(own))
                    .collect();
                let exemplar_seq = sequence_batch(
                    &tokenizer,
                    &ccfg.prompt,
                    &exemplar_texts,
                    ccfg.max_positions,
                    device,
                )?;
                Some(model.text_slot(&exemplar_seq, tokenizer.subj_id, &fill)?)
            }
            _ => None,
        };
        let loss = model.description_loss(&tokens, &seq, tokenizer.subj_id, slot.as_ref())?;
        Ok(match content_loss {
            Some(extra) => (loss + (extra * cfg.base_content_weight)?)?,
            None => loss,
        })
    };
    for epoch in start..cfg.base_epochs {
        let clock = Instant::now();
        let mut order: Vec<usize> = (0..train.records.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed + epoch as u64));
        let batches: Vec<&[usize]> = order.chunks(cfg.base_batch.max(1)).collect();
        let mut totals = Totals::default();
        let mut exemplar_rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5107 ^ epoch as u64);
        for (b, batch) in batches.iter().enumerate() {
            let loss = step(train, batch, &mut images, Some(&mut exemplar_rng))?;
            let value = loss.to_scalar::<f32>()?;
            opt.backward_step(&loss)?;
            totals.loss += f64::from(value);
            totals.batches += 1;
            progress(&Progress {
                stage,
                epoch,
                epochs: cfg.base_epochs,
                batch: b + 1,
                batches: batches.len(),
                loss: value,
            });
        }
        let mut val_totals = Totals::default();
        let val_order: Vec<usize> = (0..val.records.len()).collect();
        for batch in val_order.chunks(cfg.base_batch.max(1)) {
            val_totals.loss += f64::from(step(val, batch, &mut images, None)?.to_scalar::<f32>()?);
            val_totals.batches += 1;
        }
        save_checkpoint(out, stage, &store, &opt, epoch + 1)?;
        log_epoch(
            out,
            stage,
            epoch,
            &totals,
            &val_totals,
            clock.elapsed().as_secs_f64(),
        )?;
    }
    model.save(&store.varmap, &tokenizer, &out.captioner())
}

/// Record indices of each subject's trials.
fn same_subject_index(trials: &Trials) -> HashMap<&str, Vec<usize>> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, record) in trials.records.iter().enumerate() {
        index.entry(record.subject.as_str()).or_default().push(i);
    }
    index
}

/// [`STYLE_EXEMPLARS`] descriptions by the subject of record `row`, of images other
/// than its own, joined; `None` when the subject has no other image.
fn style_exemplar(
    trials: &Trials,
    same_subject: &HashMap<&str, Vec<usize>>,
    row: usize,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    let record = &trials.records[row];
    let others: Vec<usize> = same_subject
        .get(record.subject.as_str())?
        .iter()
        .copied()
        .filter(|&j| trials.records[j].image != record.image)
        .collect();
    let picked: Vec<&str> = others
        .choose_multiple(rng, STYLE_EXEMPLARS)
        .map(|&j| trials.records[j].description.as_str())
        .collect();
    (!picked.is_empty()).then(|| picked.join(" "))
}
