# Image Insights: every command a developer or CI needs. `make test` and `make serve` set up
# everything themselves on a fresh machine (Debian packages, .venv, pillow-simd, the Rust core).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PILLOW_SIMD_VERSION := 12.1.1.post0
# pillow-simd's optional modules the service decodes with (webp: WebP, animated included).
# The wheel folder is named after them, so a wheel built without one is never reused, and
# scripts/build-pillow-simd.sh checks each wheel it builds or finds for them.
PILLOW_SIMD_MODULES := webp
WHEELS := .cache/wheels-$(subst $() ,-,$(PILLOW_SIMD_MODULES))
# Debian packages: build deps of pillow-simd (libwebp-dev brings libwebp, libwebpmux and
# libwebpdemux: Pillow's WebP module needs all three), and the JPEG tools the tests use.
SYSTEM_PACKAGES := libjpeg62-turbo-dev zlib1g-dev libpng-dev libwebp-dev libjpeg-turbo-progs
# Encoders and reference decoders of the formats besides JPEG and PNG, for their tests, the
# fuzzing seeds (fuzz/seeds.py leaves out a format whose tool is missing) and benches: webp
# (cwebp, dwebp, img2webp, webpmux), libavif-bin (avifenc, avifdec), libheif-examples
# (heif-enc, heif-convert, heif-info), gifsicle, libtiff-tools (tiffcp, tiffinfo).
FORMAT_TOOLS := webp libavif-bin libheif-examples gifsicle libtiff-tools
# Debian packages only the tests need: Chromium for the page's browser test, wrk for the short
# load campaigns, the format tools, and libgs10-common for Ghostscript's CMYK ICC profile
# (tests/test_cmyk_profiles.py).
TEST_PACKAGES := chromium chromium-driver wrk libgs10-common $(FORMAT_TOOLS)
BENCH_PACKAGES := wrk hyperfine $(FORMAT_TOOLS)
STAMP := $(VENV)/.stamp
# Seconds each fuzzing harness runs: briefly in `make test`, longer in `make fuzz`.
FUZZ_SECONDS_IN_TEST ?= 20
FUZZ_SECONDS ?= 600
RUST_SOURCES := $(shell find rust_core/src -name '*.rs') rust_core/Cargo.toml Cargo.toml .cargo/config.toml

.PHONY: setup test test-rust test-python test-worker test-image fuzz stress serve bench clean

setup: $(STAMP)-core

$(STAMP)-system:
	scripts/apt-install.sh $(SYSTEM_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

# pillow-simd is reinstalled from the wheel folder even when the same version is there (it
# may be a build without WebP), and must then have every module of PILLOW_SIMD_MODULES. The
# AVIF and HEIF plugins of requirements/formats.txt come without their dependencies, which
# would install plain Pillow beside pillow-simd.
$(STAMP)-deps: $(STAMP)-system pyproject.toml requirements/dev.txt requirements/formats.txt \
		scripts/build-pillow-simd.sh scripts/fetch_doc_assets.py
	scripts/build-pillow-simd.sh $(PY) $(PILLOW_SIMD_VERSION) $(WHEELS) $(PILLOW_SIMD_MODULES)
	$(PY) -m pip install --quiet --force-reinstall --no-deps --find-links $(WHEELS) --no-index \
		"pillow-simd==$(PILLOW_SIMD_VERSION)"
	$(PY) -c 'import sys; from PIL import features; \
		missing = [m for m in sys.argv[1:] if not features.check(m)]; \
		sys.exit(f"pillow-simd lacks {missing}" if missing else None)' $(PILLOW_SIMD_MODULES)
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -r requirements/formats.txt
	$(PY) scripts/fetch_doc_assets.py python/image_insights/static/vendor
	touch $@

$(STAMP)-core: $(STAMP)-deps $(RUST_SOURCES) $(shell find python -name '*.py' -o -name '*.pyi')
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --quiet --release
	touch $@

test: test-rust test-python test-worker test-image

test-rust:
	cargo test --quiet --workspace

test-python: setup
	scripts/apt-install.sh $(TEST_PACKAGES)
	$(VENV)/bin/mypy
	cd python && ../$(VENV)/bin/lint-imports ../pyproject.toml
	$(PY) -m mypy.stubtest image_insights._core
	cd tests/node && npm ci --no-audit --no-fund
	$(PY) -m pytest -q
	scripts/fuzz.sh $(FUZZ_SECONDS_IN_TEST)

# The Cloudflare Worker: type-check, bundle (no Docker needed), unit tests in workerd and the
# end-to-end test through `wrangler dev` against the real service.
test-worker: setup
	cd worker && npm ci --no-audit --no-fund && npm run typecheck && npm run build && npm test

# The container image: base-image stand-ins, podman build of the real Dockerfile, then the
# image's own command served from its exported root filesystem (see docs/CONTAINER.md).
test-image: setup
	scripts/test-image.sh

# Long campaigns: every fuzzing harness for FUZZ_SECONDS each; the load and fault campaigns
# that write docs/RELIABILITY.md.
fuzz: setup
	scripts/apt-install.sh $(FORMAT_TOOLS)
	scripts/fuzz.sh $(FUZZ_SECONDS)

stress: setup
	scripts/apt-install.sh wrk
	$(PY) -m scripts.stress

serve: setup
	$(VENV)/bin/gunicorn --config gunicorn.conf.py

# The HTTP comparison with the sharp peer (benches/peer, Node) and the reference app; its
# Markdown table is also written to BENCH_HTTP_REPORT.
BENCH_HTTP_REPORT ?= .benchmarks/http.md

bench: setup
	scripts/apt-install.sh $(BENCH_PACKAGES)
	cd benches/peer && npm ci --no-audit --no-fund && npm test
	cargo bench --quiet -p image_insights_core --bench luminance --bench resize -- --noplot
	$(PY) -m scripts.png_bench_inputs target/png-bench
	PNG_BENCH_DIR=target/png-bench cargo bench --quiet -p image_insights_core --bench png_decoders -- --noplot
	$(PY) -m pytest benches -q -p no:cacheprovider --benchmark-columns=median,iqr,rounds \
		--benchmark-sort=name
	mkdir -p $(dir $(BENCH_HTTP_REPORT))
	$(PY) -m benches.load.run_http --output $(BENCH_HTTP_REPORT)

clean:
	rm -rf $(VENV) target .pytest_cache .hypothesis .benchmarks
