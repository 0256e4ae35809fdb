#![allow(clippy::unwrap_used)]
//! BubbleView costs: blurring a stimulus on the session thread (once per image when a
//! session starts) at the demo study's size (448 × 448 px, σ 0.6° ≈ 12.7 image px) and
//! at a full-HD photo (1920 × 1080, σ 25 px), and building one bubble's mesh (every
//! frame, per open bubble).
//!
//! Run: `cargo bench --bench bubble_view` (release), or `cargo bench --profile dev
//! --bench bubble_view` for the dev build the app runs.

use criterion::{Criterion, criterion_group, criterion_main};
use scanscribe::ui::session::blur::blurred_stimulus;
use scanscribe::ui::session::bubble_view::disc_mesh;

fn image(width: u32, height: u32) -> image::RgbaImage {
    let pixels = (0..width as usize * height as usize * 4)
        .map(|i| ((i * 2_654_435_761) >> 13) as u8)
        .collect();
    image::RgbaImage::from_raw(width, height, pixels).unwrap()
}

fn bench(c: &mut Criterion) {
    let demo = image(448, 448);
    c.bench_function("blur 448x448 sigma 12.7 px", |b| {
        b.iter(|| blurred_stimulus(&demo, 12.7));
    });
    let photo = image(1920, 1080);
    c.bench_function("blur 1920x1080 sigma 25 px", |b| {
        b.iter(|| blurred_stimulus(&photo, 25.0));
    });
    let rect = egui::Rect::from_min_size(egui::pos2(100.0, 50.0), egui::vec2(864.0, 864.0));
    c.bench_function("bubble mesh", |b| {
        b.iter(|| disc_mesh(egui::TextureId::default(), rect, [0.4, 0.6], [0.07, 0.07]));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
