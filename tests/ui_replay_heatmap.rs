//! The replay heat map's WGSL shader: its output, rendered offscreen and read back,
//! matches the CPU reference pixel for pixel (within 8-bit rounding and half-float
//! accumulation); and in the app (egui_kittest's wgpu renderer runs paint callbacks)
//! turning it on changes the rendered views, with an image snapshot.

#![allow(clippy::unwrap_used)] // test helpers may unwrap

mod replay_support;
mod ui_support;

use std::path::PathBuf;

use eframe::wgpu;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use replay_support::{Recorded, synthetic_session};
use scanscribe::ui::replay::heatmap::gpu::HeatmapResources;
use scanscribe::ui::replay::heatmap::{ColorMap, HeatmapInput, Kernel, cpu};
use scanscribe::ui::{App, Settings, Startup};
use ui_support::{snapshot_options, step_until};

fn render_state() -> eframe::egui_wgpu::RenderState {
    egui_kittest::wgpu::create_render_state(
        egui_kittest::wgpu::default_wgpu_setup(),
        eframe::egui_wgpu::RendererOptions::PREDICTABLE,
    )
}

/// Runs the shader's two stages into a `size` RGBA8 texture and reads it back.
fn render_on_gpu(input: &HeatmapInput, size: [u32; 2]) -> Vec<u8> {
    let state = render_state();
    let (device, queue) = (&state.device, &state.queue);
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let mut heatmap = HeatmapResources::new(device, format);
    let target = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("test-target"),
        size: wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let view = target.create_view(&wgpu::TextureViewDescriptor::default());
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    heatmap.prepare(device, queue, &mut encoder, 7, input, size);
    {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("test-pass"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                    store: wgpu::StoreOp::Store,
                },
                depth_slice: None,
            })],
            ..Default::default()
        });
        heatmap.paint(&mut pass, 7);
    }
    let row_bytes = (size[0] * 4).div_ceil(256) * 256;
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test-readback"),
        size: u64::from(row_bytes * size[1]),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        target.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &readback,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(row_bytes),
                rows_per_image: Some(size[1]),
            },
        },
        wgpu::Extent3d {
            width: size[0],
            height: size[1],
            depth_or_array_layers: 1,
        },
    );
    queue.submit([encoder.finish()]);
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(std::time::Duration::from_secs(30)),
        })
        .unwrap();
    let mapped = readback.slice(..).get_mapped_range().unwrap();
    let mut pixels = Vec::new();
    for row in 0..size[1] {
        let start = (row * row_bytes) as usize;
        pixels.extend_from_slice(&mapped[start..start + (size[0] * 4) as usize]);
    }
    pixels
}

#[test]
fn the_shader_matches_the_cpu_reference() {
    let size = [160, 90];
    for (color_map, opacity) in [(ColorMap::Viridis, 0.8), (ColorMap::Inferno, 1.0)] {
        let input = HeatmapInput {
            kernels: vec![
                Kernel {
                    center_image: [0.3, 0.4],
                    weight: 0.25,
                },
                Kernel {
                    center_image: [0.34, 0.45],
                    weight: 0.4,
                },
                Kernel {
                    center_image: [0.75, 0.6],
                    weight: 0.9,
                },
                Kernel {
                    center_image: [0.98, 0.02],
                    weight: 0.2,
                },
            ],
            sigma_image: [0.05, 0.089],
            opacity,
            color_map,
        };
        let gpu = render_on_gpu(&input, size);
        let reference = cpu::render(&input, size);
        let mut worst = 0_i32;
        for (i, expected) in reference.iter().enumerate() {
            for c in 0..4 {
                let want = (expected[c] * 255.0).round() as i32;
                let got = i32::from(gpu[i * 4 + c]);
                worst = worst.max((want - got).abs());
            }
        }
        assert!(worst <= 3, "{color_map:?}: largest difference {worst}/255");
        // Not a trivially empty picture: the peak is drawn at full opacity.
        let max_alpha = gpu.chunks(4).map(|p| p[3]).max().unwrap();
        assert_eq!(max_alpha, (opacity * 255.0).round() as u8, "{color_map:?}");
        let transparent = gpu.chunks(4).filter(|p| p[3] == 0).count();
        assert!(transparent > 100, "areas nobody looked at stay clear");
    }
}

fn heatmap_harness(app: App) -> Harness<'static, App> {
    let state = render_state();
    let mut app = app;
    app.install_gpu_resources(&state);
    Harness::builder()
        .with_size(egui::vec2(1100.0, 760.0))
        .with_options(snapshot_options())
        .renderer(egui_kittest::wgpu::WgpuTestRenderer::from_render_state(
            state,
        ))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

#[test]
fn the_heat_map_draws_over_the_views_and_snapshots() {
    let recorded = Recorded::new("replay");
    let s01 = synthetic_session(
        &recorded,
        "s01",
        &[
            ([0.3, 0.3], 400),
            ([0.6, 0.35], 250),
            ([0.62, 0.7], 600),
            ([0.3, 0.3], 300),
        ],
        "A red shape at the top left and something round below.",
    );
    let s02 = synthetic_session(
        &recorded,
        "s02",
        &[([0.5, 0.5], 300), ([0.2, 0.8], 500), ([0.8, 0.2], 450)],
        "Three things, one in each corner.",
    );
    let mut harness = heatmap_harness(App::new(
        Settings::default(),
        Startup::NotFound {
            searched: vec![PathBuf::from("/nowhere/studies/demo.ron")],
        },
    ));
    harness.get_by_label("Replay").click();
    harness.run();
    for folder in [&s01, &s02] {
        let field = harness.get_by_label("Session folder");
        field.focus();
        field.type_text(&folder.display().to_string());
        harness.run();
        harness.get_by_label("Add").click();
        harness.step();
        step_until(&mut harness, "session read", |app| {
            app.state().replay.loading.is_empty()
        });
    }
    step_until(&mut harness, "stimulus decoded", |app| {
        let replay = &app.state().replay;
        replay.subjects.len() == 2
            && replay
                .textures
                .values()
                .all(|t| matches!(t, scanscribe::ui::replay::state::StimulusTexture::Ready(_)))
    });
    // Play to the end (8×), so every fixation counts.
    harness.get_by_label("Speed").click();
    harness.run();
    harness.get_by_label("8×").click();
    harness.run();
    harness.get_by_label("Play").click();
    harness.step();
    step_until(&mut harness, "end of the trial", |app| {
        !app.state().replay.playback.playing
    });
    harness.remove_cursor();
    harness.run();
    let without = harness.render().unwrap();

    harness.get_by_label("Heat map").click();
    harness.remove_cursor();
    harness.run();
    assert!(harness.state().state().replay.view.heatmap.enabled);
    let with = harness.render().unwrap();
    let rect = harness.state().state().replay.views_rect.unwrap();
    let ppp = harness.ctx.pixels_per_point();
    let (x0, y0) = ((rect.min.x * ppp) as u32, (rect.min.y * ppp) as u32);
    let (x1, y1) = ((rect.max.x * ppp) as u32, (rect.max.y * ppp) as u32);
    let mut changed = 0;
    let mut total = 0;
    for y in y0..y1.min(with.height()) {
        for x in x0..x1.min(with.width()) {
            total += 1;
            if with.get_pixel(x, y) != without.get_pixel(x, y) {
                changed += 1;
            }
        }
    }
    assert!(
        changed * 20 > total,
        "the heat map changed only {changed} of {total} view pixels"
    );
    // The export folder field shows a temporary path: mask the text fields.
    let fields: Vec<egui::Rect> = harness
        .query_all_by_role(egui::accesskit::Role::TextInput)
        .map(|node| node.rect())
        .collect();
    for field in fields {
        harness.mask(field);
    }
    harness.snapshot("replay_heatmap");
}
