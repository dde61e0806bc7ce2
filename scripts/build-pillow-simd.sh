#!/usr/bin/env bash
# Builds the pillow-simd wheel with AVX2 against the system libjpeg-turbo, zlib, libpng and
# libwebp, into the folder given, unless a wheel of that version with every module named is
# already there. A module is one of Pillow's optional compiled modules by its feature name
# (webp is PIL/_webp): a wheel without one of them, built on a machine that lacked its
# headers, is removed and rebuilt, and a fresh build without one fails.
# Usage: build-pillow-simd.sh PYTHON VERSION WHEEL_DIR [MODULE...]
set -euo pipefail
python=$1 version=$2 wheel_dir=$3
shift 3
modules=("$@")

# The first module of the list that the wheel lacks, or nothing when it has them all.
lacking() {  # $1 = wheel
    "$python" - "$1" "${modules[@]}" <<'EOF'
import re, sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for module in sys.argv[2:]:
    if not any(re.fullmatch(rf"PIL/_{module}\..*\.so", name) for name in names):
        print(module)
        break
EOF
}

for wheel in "$wheel_dir"/pillow_simd-"$version"-*.whl; do
    [[ -e $wheel ]] || continue
    missing=$(lacking "$wheel")
    [[ -n $missing ]] || exit 0
    echo "$wheel has no $missing module: building it again" >&2
    rm -f "$wheel"
done
mkdir -p "$wheel_dir"
echo "building pillow-simd $version with AVX2 and ${modules[*]:-no optional module}" \
    "(about 2 minutes, once)" >&2
# --no-cache-dir: pip's own wheel cache could hand back a build made without libwebp.
CC="${CC:-cc} -mavx2" "$python" -m pip wheel --quiet --no-cache-dir --no-deps \
    --no-binary pillow-simd --wheel-dir "$wheel_dir" "pillow-simd==$version"
for wheel in "$wheel_dir"/pillow_simd-"$version"-*.whl; do
    missing=$(lacking "$wheel")
    if [[ -n $missing ]]; then
        echo "pillow-simd $version was built without its $missing module: are its Debian" \
            "-dev packages (the Makefile's SYSTEM_PACKAGES) installed?" >&2
        rm -f "$wheel"
        exit 1
    fi
done
