# syntax=docker/dockerfile:1
# Image Insights API: the gunicorn service, for linux/amd64 (Cloudflare Containers).
#   docker build --platform linux/amd64 -t image-insights .
# Verified on machines without a Docker engine by scripts/test-image.sh (`make test-image`);
# docs/CONTAINER.md has the measured size and start-up time.
#
# Stages: `rust` only lends its toolchain; `builder` compiles the Rust core into an abi3
# wheel with maturin, builds pillow-simd (AVX2, WebP) from source and installs both, with the
# AVIF and HEIF plugin wheels, into a venv; `runtime` is the slim Python image with that venv,
# the shared libraries it needs and gunicorn.conf.py: no compiler, no Rust, no sources, no pip.

FROM rust:1.95-slim-bookworm AS rust

FROM python:3.11-slim-bookworm AS builder
# The first two repeat pyproject.toml and requirements/dev.txt (scripts/test-image.sh checks).
ARG PILLOW_SIMD_VERSION=12.1.1.post0
ARG MATURIN_VERSION=1.16.0
ARG PIP_VERSION=26.3
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# Versions come from the pinned Debian release of the base image; pinning each package's
# Debian revision would break the build at every security update.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
        libjpeg62-turbo-dev zlib1g-dev libpng-dev libwebp-dev \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir "pip==${PIP_VERSION}" "maturin==${MATURIN_VERSION}"

# pillow-simd depends only on its version and the system libraries above, so it comes before
# any project file: editing the sources never rebuilds it. No pip cache: a wheel pip built
# before libwebp-dev was installed would come back from it without WebP (the venv's check
# below fails the build on a wheel without it).
RUN CC="cc -mavx2" /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-binary pillow-simd \
        --wheel-dir /wheels "pillow-simd==${PILLOW_SIMD_VERSION}"

# The AVIF and HEIF plugins: binary wheels that bundle libavif and libheif, fetched without
# their dependency on plain Pillow, which must never be installed beside pillow-simd.
COPY requirements/formats.txt /tmp/
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/build/bin/pip download --no-deps --only-binary=:all: --dest /plugins \
        -r /tmp/formats.txt

COPY --from=rust /usr/local/rustup /usr/local/rustup
COPY --from=rust /usr/local/cargo /usr/local/cargo
ENV RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH

WORKDIR /src
# The Swagger UI and ReDoc files that /docs and /redoc serve are not in git: the project's
# script fetches them from the npm registry and checks them against pinned hashes.
COPY scripts/fetch_doc_assets.py /tmp/
RUN python /tmp/fetch_doc_assets.py python/image_insights/static/vendor

COPY Cargo.toml Cargo.lock pyproject.toml README.md ./
COPY .cargo .cargo
COPY rust_core rust_core
COPY python python
# The crate registry and target/ live in build caches, so a source change recompiles only
# the crate itself. The wheel is written outside target/, which is not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    /opt/build/bin/maturin build --release --locked --compatibility linux \
        --interpreter /opt/build/bin/python --out /wheels

# The runtime venv, filled here and copied whole: the two wheels above, and the other
# dependencies as binary wheels at the versions pyproject.toml pins, then the plugins without
# dependencies. Its python is /usr/local/bin/python, the same in both stages. The venv must
# decode WebP and load both plugins; pip goes once the venv is filled.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install --disable-pip-version-check --only-binary=:all: /wheels/*.whl \
    && /opt/venv/bin/pip install --disable-pip-version-check --no-deps --no-index \
        /plugins/*.whl \
    && /opt/venv/bin/python -c "import pillow_avif, pillow_heif, PIL.features as f; \
        assert f.check('webp')" \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools

FROM python:3.11-slim-bookworm AS runtime
# Only the shared libraries the wheels link against: pillow-simd needs libjpeg and zlib (it
# reads PNG through zlib; nothing links libpng), and libwebp, libwebpmux and libwebpdemux for
# its WebP module; the plugin wheels bring their own codecs. scripts/test-image.sh checks
# with ldd.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjpeg62-turbo zlib1g \
        libwebp7 libwebpmux3 libwebpdemux2 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY gunicorn.conf.py ./

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080
USER 10001:10001
EXPOSE 8080
# For Docker and compatible engines. On Cloudflare, readiness is the Worker's Container class
# probing /ready (worker/src/container.ts); neither @cloudflare/containers nor Cloudflare's
# container documentation reads this instruction. No curl in the image: the venv's Python asks
# /health on the port the service listens on.
HEALTHCHECK --interval=30s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health', timeout=2)"]
# gunicorn reads ./gunicorn.conf.py, which re-exports the package's settings
# (image_insights.serving.gunicorn_config: workers, bind, the AVX2 check, wsgi_app).
CMD ["gunicorn"]
