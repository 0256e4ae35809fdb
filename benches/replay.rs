//! UI CPU time per frame of the Replay screen on long recordings: four subjects, each
//! a 10-minute trial at 1200 Hz (720 000 samples, ~1 900 fixations each), playhead at
//! the end so every fixation is drawn, heat map on (its kernels are built on the CPU
//! each frame; the GPU work is not part of this figure). A frame is the whole screen's
//! `ui` pass plus tessellation, measured on this thread's CPU time (target ≤ 8 ms on
//! one core). Loading (fixations, decimated trace) happens once, before; its time is
//! printed. The settled fixations are tessellated once and cached
//! (`ui::replay::settled_mesh`); the `playing` and `seeking` cases measure extending
//! that cache as playback goes on, and a frame that has to rebuild it.
//!
//! Run: `cargo bench --bench replay` (`-- --quick` for a short run).
#![allow(clippy::unwrap_used)]

#[path = "../tests/synth/mod.rs"]
mod synth;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use scanscribe::fixation::ImagePlacement;
use scanscribe::study::ScreenGeometry;
use scanscribe::ui::command::CommandQueue;
use scanscribe::ui::replay::data::{Attention, ReplaySession, trial_from_samples};
use scanscribe::ui::replay::disc_atlas::DiscAtlas;
use scanscribe::ui::replay::state::{Layout, ReplayState, StimulusTexture};
use scanscribe::ui::replay::{add_session, screen::replay_ui};
use synth::{SynthOptions, generate};

const SUBJECTS: usize = 4;

#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    static ANCHOR: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(std::time::Instant::now).elapsed()
}

fn state_with_sessions(ctx: &egui::Context) -> ReplayState {
    let screen = ScreenGeometry::default();
    let placement = ImagePlacement {
        rect_display: [0.0, 0.0, 1.0, 1.0],
    };
    let image = PathBuf::from("scene.png");
    let mut state = ReplayState::default();
    for subject in 0..SUBJECTS {
        let samples = generate(
            &screen,
            &SynthOptions::clean(1200.0, 600.0, 7 + subject as u64),
        )
        .samples;
        let on_us = samples[0].system_time_us;
        let off_us = samples[samples.len() - 1].system_time_us;
        let started = Instant::now();
        let trial = trial_from_samples(
            "long",
            &image,
            &screen,
            placement,
            &samples,
            (on_us, off_us),
            Attention::Gaze,
        )
        .unwrap();
        println!(
            "subject {subject}: {} samples → {} fixations, {} trace points, prepared in {:?}",
            samples.len(),
            trial.fixations.len(),
            trial.scanpath.trace.len(),
            started.elapsed()
        );
        add_session(
            &mut state,
            ReplaySession {
                root: PathBuf::from(format!("/sessions/bench/s{subject:02}")),
                subject: format!("s{subject:02}"),
                study_id: "bench".to_owned(),
                screen,
                clicks: false,
                trials: vec![trial],
            },
        );
    }
    let pixels = egui::ColorImage::filled([960, 540], egui::Color32::from_gray(120));
    let texture = ctx.load_texture("scene", pixels, egui::TextureOptions::LINEAR);
    state
        .textures
        .insert(image, StimulusTexture::Ready(texture));
    state.heatmap_gpu = true;
    state.view.heatmap.enabled = true;
    state.playback.time_ms = state.duration_ms();
    state
}

fn input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 900.0),
        )),
        ..Default::default()
    }
}

/// One frame: the screen's UI pass and the tessellation of what it drew.
fn frame(ctx: &egui::Context, state: &mut ReplayState) -> usize {
    let mut commands = CommandQueue::default();
    let mut output = ctx.run_ui(input(), |ui| replay_ui(ui, state, &mut commands));
    // No renderer here: the textures are not uploaded.
    output.textures_delta.clear();
    ctx.tessellate(output.shapes, output.pixels_per_point).len()
}

fn replay_frames(c: &mut Criterion) {
    let ctx = egui::Context::default();
    let mut state = state_with_sessions(&ctx);
    // Warm-up: fonts, layout caches.
    for _ in 0..3 {
        frame(&ctx, &mut state);
    }
    let mut group = c.benchmark_group("replay_frame_4x10min_1200hz");
    group.sample_size(20);
    for (name, layout, trail_s) in [
        ("side_by_side_all", Layout::SideBySide, None),
        ("overlay_all", Layout::Overlay, None),
        ("side_by_side_trail_10s", Layout::SideBySide, Some(10.0)),
    ] {
        state.layout = layout;
        state.view.trail_s = trail_s;
        group.bench_function(format!("{name}_cpu"), |b| {
            b.iter_custom(|iterations| {
                let start = thread_cpu_time();
                for _ in 0..iterations {
                    black_box(frame(&ctx, &mut state));
                }
                thread_cpu_time() - start
            });
        });
    }
    // Playing: the playhead moves a 60 Hz frame each time, so the settled meshes are
    // extended rather than rebuilt (from mid-trial, wrapping back there at the end).
    state.layout = Layout::SideBySide;
    state.view.trail_s = None;
    let half_ms = state.duration_ms() / 2.0;
    state.playback.time_ms = half_ms;
    group.bench_function("side_by_side_all_playing_cpu", |b| {
        b.iter_custom(|iterations| {
            let start = thread_cpu_time();
            for _ in 0..iterations {
                state.playback.time_ms += 1000.0 / 60.0;
                if state.playback.time_ms > state.duration_ms() {
                    state.playback.time_ms = half_ms;
                }
                black_box(frame(&ctx, &mut state));
            }
            thread_cpu_time() - start
        });
    });
    // Worst case: every frame starts with an empty cache, so all fixations are
    // tessellated again (what one frame after a seek back or a window resize costs).
    state.playback.time_ms = state.duration_ms();
    group.bench_function("side_by_side_all_uncached_cpu", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                state.settled_meshes.clear_meshes();
                let start = thread_cpu_time();
                black_box(frame(&ctx, &mut state));
                total += thread_cpu_time() - start;
            }
            total
        });
    });
    group.finish();
    // Built once per display scale, on the first replay frame.
    c.bench_function("replay_disc_atlas_build", |b| {
        b.iter(|| black_box(DiscAtlas::new(1.5).cells.len()));
    });
}

criterion_group!(benches, replay_frames);
criterion_main!(benches);
