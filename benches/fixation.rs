//! Offline fixation detection throughput on a long 1200 Hz recording (10 minutes,
//! 720 000 samples, with noise, lost samples and blinks): I-VT (target ≥ 20 million
//! samples/s on one core), I-VT in pixel space, and I-DT.
//!
//! Each detector is timed twice: by the wall clock (criterion's default) and by the
//! thread's CPU time (`*_cpu`), which stays the single-core figure on a busy machine
//! where other processes take turns on the core.
//!
//! Run: `cargo bench --bench fixation` (`-- --quick` for a short run).
#![allow(clippy::unwrap_used)]

#[path = "../tests/synth/mod.rs"]
mod synth;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scanscribe::fixation::{Method, Space, detect_fixations};
use scanscribe::study::ScreenGeometry;
use synth::{SynthOptions, generate};

/// CPU time of this thread.
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Elsewhere, the wall clock since the first call.
#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    static ANCHOR: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ANCHOR.get_or_init(std::time::Instant::now).elapsed()
}

fn detection(c: &mut Criterion) {
    let screen = ScreenGeometry::default();
    let options = SynthOptions {
        loss_probability: 0.005,
        blink_probability: 0.05,
        ..SynthOptions::clean(1200.0, 600.0, 42)
    };
    let samples = generate(&screen, &options).samples;
    let visual = Space::Visual(screen);
    let pixels = Space::Pixels {
        resolution_px: screen.resolution_px,
    };

    let mut group = c.benchmark_group("fixation_offline_1200hz_10min");
    group.throughput(Throughput::Elements(samples.len() as u64));
    group.sample_size(20);
    for (name, method, space) in [
        ("ivt", Method::ivt_for(&visual), visual),
        ("ivt_pixels", Method::ivt_for(&pixels), pixels),
        ("idt", Method::idt_for(&visual), visual),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| detect_fixations(black_box(&samples), &method, space).unwrap());
        });
        group.bench_function(format!("{name}_cpu"), |b| {
            b.iter_custom(|iterations| {
                let start = thread_cpu_time();
                for _ in 0..iterations {
                    black_box(detect_fixations(black_box(&samples), &method, space).unwrap());
                }
                thread_cpu_time() - start
            });
        });
    }
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
