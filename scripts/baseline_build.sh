#!/usr/bin/env bash
# Builds another commit of the service into a virtual environment of its own, for
# benches/compare_builds.py: a git worktree of COMMIT in DIR, its .venv with the same
# pillow-simd wheel and the Rust extension built in release mode.
# Usage: scripts/baseline_build.sh COMMIT DIR
set -euo pipefail
commit=$1 dir=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -d "$dir" ] || git -C "$root" worktree add --detach "$dir" "$commit"
python3 -m venv "$dir/.venv"
"$dir/.venv/bin/pip" install --quiet --upgrade pip
# The wheel `make setup` built (its folder is named after the modules it has).
wheels=$(ls -d "$root"/.cache/wheels-* | head -n 1)
"$dir/.venv/bin/pip" install --quiet --find-links "$wheels" --no-index pillow-simd
"$dir/.venv/bin/pip" install --quiet maturin==1.16.0 numpy==2.4.6
(cd "$dir" && VIRTUAL_ENV="$dir/.venv" "$dir/.venv/bin/maturin" develop --quiet --release)
echo "baseline python: $dir/.venv/bin/python"
