#!/usr/bin/env bash
# Builds the pillow-simd wheel with AVX2 against the system libjpeg-turbo, zlib and libpng,
# into the folder given, unless a wheel of that version is already there.
# Usage: build-pillow-simd.sh PYTHON VERSION WHEEL_DIR
set -euo pipefail
python=$1 version=$2 wheel_dir=$3
if compgen -G "$wheel_dir/pillow_simd-$version-*.whl" >/dev/null; then
    exit 0
fi
mkdir -p "$wheel_dir"
echo "building pillow-simd $version with AVX2 (about 2 minutes, once)" >&2
CC="${CC:-cc} -mavx2" "$python" -m pip wheel --quiet --no-deps --no-binary pillow-simd \
    --wheel-dir "$wheel_dir" "pillow-simd==$version"
