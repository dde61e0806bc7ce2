//! The two maintained PNG decoders of the field on the same photo PNGs, and the core's
//! `png::decode` built on the chosen one: image-rs's `png` (rows streamed, CRC and Adler-32
//! checked), `zune-png` with and without its CRC and Adler-32 checks (it inflates the whole
//! image data at once), and `_core::png::decode` (the CRC pass, `png`, the 16-bit
//! narrowing). Inputs: the PNGs of benches/inputs.py written by scripts/png_bench_inputs.py
//! into $PNG_BENCH_DIR (nothing is benchmarked without it). The comparison with Pillow on the
//! same files is benches/test_png_bench.py's; docs/BENCHMARKS.md has the figures.

use std::io::Cursor;
use std::path::PathBuf;

use _core::deadline::Deadline;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use zune_png::zune_core::bytestream::ZCursor;
use zune_png::zune_core::options::DecoderOptions;
use zune_png::PngDecoder;

/// image-rs's decoder alone, with the transformations and checks the core uses.
fn png_crate(data: &[u8]) -> usize {
    let mut options = png::DecodeOptions::default();
    options.set_ignore_adler32(false);
    options.set_ignore_text_chunk(true);
    let mut decoder = png::Decoder::new_with_options(Cursor::new(data), options);
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut out = vec![0u8; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut out).unwrap();
    out.len()
}

fn zune(data: &[u8], checked: bool) -> usize {
    let options = DecoderOptions::default()
        .png_set_confirm_crc(checked)
        .inflate_set_confirm_adler(checked);
    let mut decoder = PngDecoder::new_with_options(ZCursor::new(data), options);
    decoder.decode_raw().unwrap().len()
}

fn core(data: &[u8]) -> usize {
    _core::png::decode(data, u64::MAX, &Deadline::none())
        .unwrap()
        .pixels
        .data
        .len()
}

/// Decodes a PNG, returning the output's length.
type Decode = fn(&[u8]) -> usize;

fn bench(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("PNG_BENCH_DIR").map(PathBuf::from) else {
        eprintln!(
            "png_decoders: set PNG_BENCH_DIR (python -m scripts.png_bench_inputs DIR writes it)"
        );
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    let mut group = c.benchmark_group("png_decode");
    for path in files {
        let data = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        group.throughput(Throughput::Bytes(data.len() as u64));
        let decoders: [(&str, Decode); 4] = [
            ("png", png_crate),
            ("zune-png", |data| zune(data, false)),
            ("zune-png-checked", |data| zune(data, true)),
            ("core", core),
        ];
        for (decoder, decode) in decoders {
            group.bench_with_input(BenchmarkId::new(decoder, &name), &data, |b, data| {
                b.iter(|| decode(data))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(15);
    targets = bench
}
criterion_main!(benches);
