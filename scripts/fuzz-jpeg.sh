#!/usr/bin/env bash
# Fuzzes the Rust JPEG DC reader (rust_core/fuzz, target jpeg_dc) for SECONDS (default 60),
# seeded with generated JPEGs. Installs cargo-fuzz when it is missing. cargo-fuzz needs
# nightly Rust's -Z flags: it uses the nightly toolchain when rustup has one, else the
# stable compiler with RUSTC_BOOTSTRAP=1 (which unlocks those flags on stable).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
corpus="$root/rust_core/fuzz/corpus/jpeg_dc"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p "$corpus"
"$python" "$root/scripts/jpeg_fuzz_seeds.py" "$corpus"

toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
cd "$root/rust_core"
# -rss_limit_mb: the target's own pixel limit keeps a run far below this.
exec cargo "${toolchain[@]}" fuzz run jpeg_dc "$corpus" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1
