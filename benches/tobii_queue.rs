#![allow(clippy::unwrap_used)]
//! The Tobii gaze callback's work per sample: convert the raw SDK struct and push it
//! into the preallocated queue (what runs on the SDK's thread up to 1200 times a
//! second), and the consumer's drain of one second of 1200 Hz data.
//!
//! `cargo bench --bench tobii_queue`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scanscribe::gaze::tobii::ffi::{self, TobiiResearchGazeData};
use scanscribe::gaze::tobii::{StreamSink, convert_gaze_data};

const CAPACITY: usize = 8192;

fn raw_sample() -> TobiiResearchGazeData {
    let mut raw = TobiiResearchGazeData::default();
    for (eye, x) in [(&mut raw.left_eye, 0.40), (&mut raw.right_eye, 0.41)] {
        eye.gaze_point.position_on_display_area.x = x;
        eye.gaze_point.position_on_display_area.y = 0.5;
        eye.gaze_point.validity = ffi::VALIDITY_VALID;
        eye.pupil_data.diameter_mm = 3.1;
        eye.pupil_data.validity = ffi::VALIDITY_VALID;
        eye.gaze_origin.position_in_user_coordinates.z = 600.0;
        eye.gaze_origin.validity = ffi::VALIDITY_VALID;
    }
    raw.device_time_stamp = 1_000;
    raw.system_time_stamp = 2_000;
    raw
}

fn callback_to_queue(c: &mut Criterion) {
    let raw = raw_sample();
    let mut group = c.benchmark_group("tobii");
    group.throughput(Throughput::Elements(1));
    group.bench_function("convert", |b| {
        b.iter(|| convert_gaze_data(black_box(&raw), black_box(0)))
    });
    group.bench_function("callback_convert_and_push", |b| {
        let sink = StreamSink::new(CAPACITY, 0);
        let mut out = Vec::with_capacity(CAPACITY);
        // Pushes in chunks that fit the queue, draining (untimed) between chunks, so
        // every timed push takes the accepting path, never the full-queue one.
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let chunk = left.min(CAPACITY as u64);
                let start = Instant::now();
                for _ in 0..chunk {
                    black_box(sink.on_gaze_data(black_box(&raw)));
                }
                timed += start.elapsed();
                out.clear();
                sink.drain_samples(&mut out);
                left -= chunk;
            }
            assert_eq!(sink.samples().dropped_total(), 0);
            timed
        })
    });
    group.finish();
}

fn drain(c: &mut Criterion) {
    let raw = raw_sample();
    let mut group = c.benchmark_group("tobii");
    group.throughput(Throughput::Elements(1200));
    group.bench_function("drain_1s_at_1200hz", |b| {
        let sink = StreamSink::new(CAPACITY, 0);
        let mut out = Vec::with_capacity(CAPACITY);
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                for _ in 0..1200 {
                    sink.on_gaze_data(&raw);
                }
                out.clear();
                let start = Instant::now();
                black_box(sink.drain_samples(&mut out));
                timed += start.elapsed();
            }
            timed
        })
    });
    group.finish();
}

criterion_group!(benches, callback_to_queue, drain);
criterion_main!(benches);
