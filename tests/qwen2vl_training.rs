//! The whole DEPER pipeline with Qwen2-VL as the frozen description model (the tiny
//! random one of the fixture): base, stage 1, stage 2 with `L_des` through Qwen2-VL,
//! enrollment and personalized description, the way `train`/`enroll`/`describe
//! --vlm qwen2-vl` run it.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

use std::path::Path;

use candle_core::Device;
use scanscribe::model::GenerateOptions;
use scanscribe::model::deper::data::Trials;
use scanscribe::model::deper::enroll::{TrainedModel, enroll};
use scanscribe::model::deper::synthetic::{SyntheticSpec, write_synthetic};
use scanscribe::model::deper::train::{OutDir, Stage, TrainConfig, run_stage, split_trials};
use scanscribe::model::vlm::VlmChoice;

#[test]
fn stage2_trains_the_adapter_for_qwen2vl_and_the_folder_describes_with_it() {
    let qwen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qwen2vl/model");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let spec = SyntheticSpec {
        image_size_px: 24,
        ..SyntheticSpec::default()
    };
    let records = write_synthetic(&data, &spec).unwrap();
    let (train, val) = split_trials(&data, &records);
    let out = OutDir(dir.path().join("model"));
    let mut cfg = TrainConfig::preset("tiny").unwrap();
    cfg.base_epochs = 1;
    cfg.stage1_epochs = 1;
    cfg.stage2_epochs = 1;
    cfg.vlm = VlmChoice::Qwen2Vl;
    cfg.vlm_path = Some(qwen.clone());
    let device = Device::Cpu;
    let mut stage2_losses = Vec::new();
    for stage in [Stage::Base, Stage::One, Stage::Two] {
        run_stage(&out, stage, &train, &val, &cfg, &device, &mut |p| {
            if p.stage == Stage::Two {
                stage2_losses.push(p.loss);
            }
        })
        .unwrap();
    }
    assert!(!stage2_losses.is_empty());
    assert!(stage2_losses.iter().all(|l| l.is_finite()));
    let log = std::fs::read_to_string(out.log()).unwrap();
    assert!(log.lines().any(|l| l.starts_with("stage2,")), "{log}");

    // The folder remembers Qwen2-VL; the adapter speaks its width (64).
    let model = TrainedModel::load(&out.0, &device).unwrap();
    assert!(model.vlm.is_some());
    assert_eq!(model.deper.config.describer_width, 64);
    let trials = Trials {
        root: data.clone(),
        records: records.clone(),
    };
    let subject = records[0].subject.clone();
    let profile = enroll(&model, &trials, &subject, 5).unwrap();
    let image = data.join(&records[0].image);
    let options = GenerateOptions {
        beam_width: 1,
        max_tokens: 6,
        ..GenerateOptions::default()
    };
    let personal = model
        .describe(&image, Some(&profile.z_s), &options)
        .unwrap();
    assert_eq!(
        personal,
        model
            .describe(&image, Some(&profile.z_s), &options)
            .unwrap()
    );
    let generic = model.describe(&image, None, &options).unwrap();
    assert_ne!(personal.0, generic.0);
}
