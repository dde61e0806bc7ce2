//! Criterion benchmarks of the core on fixed synthetic images.

use _core::{analyze, Extras, Layout};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A deterministic textured RGB image: gradients plus xorshift noise.
fn synthetic(width: usize, height: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state & 0x3f) as usize;
            out.push(((x * 255 / width + noise) % 256) as u8);
            out.push(((y * 255 / height + noise) % 256) as u8);
            out.push((((x + y) * 127 / (width + height) + noise) % 256) as u8);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("analyze_rgb");
    let variants = [
        ("luminance", Extras::default()),
        (
            "sharpness",
            Extras {
                colours: false,
                sharpness: true,
                text: false,
            },
        ),
        (
            "colours",
            Extras {
                colours: true,
                sharpness: false,
                text: false,
            },
        ),
        (
            "everything",
            Extras {
                colours: true,
                sharpness: true,
                text: false,
            },
        ),
    ];
    for (w, h) in [(536, 354), (5000, 3330)] {
        let pixels = synthetic(w, h);
        group.throughput(Throughput::Bytes(pixels.len() as u64));
        for (name, extras) in variants {
            group.bench_function(format!("{w}x{h}/{name}"), |b| {
                b.iter(|| analyze(&pixels, w, h, Layout::Rgb, extras).unwrap())
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
