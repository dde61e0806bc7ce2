//! Criterion benchmarks of `resize::resize` to the analysis size, on the synthetic photos of
//! luminance.rs's generator, in every layout. The comparison with Pillow on the same images
//! is benches/test_png_bench.py's.

use _core::deadline::Deadline;
use _core::pixels::Pixels;
use _core::resize::{analysis_size, resize};
use _core::Layout;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A deterministic textured image of `channels` bytes per pixel: gradients plus xorshift noise.
fn synthetic(width: usize, height: usize, channels: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(width * height * channels);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state & 0x3f) as usize;
            for c in 0..channels {
                out.push((((x + c * y) * 255 / (width + c * height) + noise) % 256) as u8);
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("resize_to_analysis");
    for (width, height) in [(1280, 853), (5000, 3330)] {
        for layout in [Layout::L, Layout::La, Layout::Rgb, Layout::Rgba] {
            let data = synthetic(width, height, layout.channels());
            group.throughput(Throughput::Bytes(data.len() as u64));
            let image = Pixels {
                width,
                height,
                layout,
                data,
            };
            let (target_width, target_height) = analysis_size(width, height);
            group.bench_function(format!("{width}x{height}/{layout:?}"), |b| {
                b.iter(|| resize(&image, target_width, target_height, &Deadline::none()).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
