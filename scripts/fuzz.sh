#!/usr/bin/env bash
# Runs every fuzzing harness for SECONDS each (default 60), or for FUZZ_RUNS executions each:
# the three atheris harnesses (the pipeline's analyze(), the upload endpoint through Falcon's
# TestClient, and the core's JPEG reader against libjpeg) and every cargo-fuzz target of
# rust_core/fuzz (the core's analyze, the JPEG reader on bytes and on generated structure,
# the PNG decoder and the resize of what it decodes). Seeds are
# generated into a temporary folder, removed at exit; nothing is committed. A crash stops
# the run with a non-zero status and leaves its reproducer in the artifacts folder printed
# below (kept). Nightly Rust is not needed: RUSTC_BOOTSTRAP=1 lets the stable compiler take
# cargo-fuzz's -Z flags.
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
work="$(mktemp -d -t image-insights-fuzz.XXXXXX)"
artifacts="${FUZZ_ARTIFACTS:-$root/target/fuzz-artifacts}"
mkdir -p "$artifacts"
trap 'rm -rf "$work"' EXIT

# libFuzzer flags shared by all: per-input time limit, memory cap, bounded input size.
# FUZZ_RUNS=N runs each harness for N executions instead of SECONDS (the long campaigns
# recorded in docs/RELIABILITY.md); FUZZ_ONLY="atheris-upload cargo-png ..." runs only those.
if [[ -n "${FUZZ_RUNS:-}" ]]; then
    budget=(-runs="$FUZZ_RUNS"); each="$FUZZ_RUNS runs"
else
    budget=(-max_total_time="$seconds"); each="${seconds}s"
fi
common=("${budget[@]}" -timeout=10 -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1)
# FUZZ_FORK=N runs each cargo-fuzz target as N processes sharing one corpus (libFuzzer's
# -fork; FUZZ_RUNS then counts the executions of all of them). A timeout or running out of
# memory stops the run there too, as it does without -fork.
fork=(${FUZZ_FORK:+-fork="$FUZZ_FORK" -ignore_timeouts=0 -ignore_ooms=0})
echo "fuzz: $each per harness; crashes go to $artifacts"

selected() { [[ -z "${FUZZ_ONLY:-}" || " $FUZZ_ONLY " == *" $1 "* ]]; }

for harness in analyze upload jpeg_differential; do
    selected "atheris-$harness" || continue
    corpus="$work/atheris-$harness"
    case "$harness" in
        jpeg_differential) "$python" "$root/scripts/jpeg_fuzz_seeds.py" "$corpus" ;;
        *) "$python" "$root/fuzz/seeds.py" "$corpus" ;;
    esac
    echo "fuzz: atheris $harness"
    # libFuzzer's progress lines are dropped; a crash makes the pipeline fail (pipefail).
    if ! "$python" "$root/fuzz/atheris_$harness.py" "${common[@]}" \
        -artifact_prefix="$artifacts/atheris-$harness-" "$corpus" 2>&1 | grep -v "^#[0-9]"; then
        echo "fuzz: atheris $harness found a crash"; exit 1
    fi
done

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cd "$root/rust_core"
for target in $(cargo fuzz list); do
    selected "cargo-$target" || continue
    corpus="$work/cargo-$target"
    mkdir -p "$corpus"
    case "$target" in
        analyze) "$python" "$root/fuzz/seeds.py" --core "$corpus" ;;
        jpeg_bytes) "$python" "$root/scripts/jpeg_fuzz_seeds.py" "$corpus" ;;
        png) "$python" "$root/scripts/png_fuzz_seeds.py" "$corpus" ;;
        image) "$python" "$root/fuzz/seeds.py" "$corpus" ;;
    esac
    echo "fuzz: cargo-fuzz $target"
    if ! cargo fuzz run "$target" "$corpus" -- "${common[@]}" "${fork[@]}" \
        -artifact_prefix="$artifacts/cargo-$target-" 2>&1 | grep -v "^#[0-9]"; then
        echo "fuzz: cargo-fuzz $target found a crash"; exit 1
    fi
done
echo "fuzz: every harness ran $each without a crash at $(git -C "$root" rev-parse --short HEAD)"
