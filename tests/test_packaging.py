"""The package as others use it: a library that leaves the process's Pillow settings alone, a
gunicorn master that loads neither Pillow nor the extension, and a wheel that serves once
installed anywhere."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.support.http_helpers import multipart
from tests.support.live_server import ROOT, free_port, running_service, stop, wait_until_healthy

# Pillow's process-wide settings a library could be tempted to change.
_PILLOW_GLOBALS = """
import json, sys, warnings
from PIL import Image, ImageFile
def snapshot():
    return {
        "MAX_IMAGE_PIXELS": Image.MAX_IMAGE_PIXELS,
        "LOAD_TRUNCATED_IMAGES": ImageFile.LOAD_TRUNCATED_IMAGES,
        "ERRORS": sorted(map(str, ImageFile.ERRORS.items())),
        "warning_filters": len(warnings.filters),
    }
"""


def test_using_the_library_leaves_pillows_global_settings_as_they_were(png_bytes: bytes) -> None:
    script = _PILLOW_GLOBALS + f"""
before = snapshot()
import image_insights
from image_insights.app import create_app
from image_insights.config import Settings
create_app(Settings())
image_insights.analyze({png_bytes!r})
print(json.dumps({{"before": before, "after": snapshot()}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout)
    assert result["before"]["MAX_IMAGE_PIXELS"] is not None
    assert result["after"] == result["before"]


def test_the_pixel_ceiling_is_applied_per_call_without_the_pillow_guard() -> None:
    # Pillow's own guard stays at its default, yet the library's ceiling is the caller's.
    script = """
import io
from PIL import Image
import image_insights
buf = io.BytesIO(); Image.new("L", (300, 200), 90).save(buf, "PNG")
try:
    image_insights.analyze(buf.getvalue(), max_pixels=300 * 200 - 1)
except image_insights.ImageTooLarge:
    print("refused", Image.MAX_IMAGE_PIXELS)
print(image_insights.analyze(buf.getvalue(), max_pixels=300 * 200)["brightness_score"])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    lines = out.stdout.split()
    assert lines[0] == "refused" and int(lines[1]) > 0
    assert lines[2] == str(round(90 / 255 * 100))


def _mapped_files(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps") as maps:
        return {line.split(maxsplit=5)[5].strip() for line in maps if len(line.split(maxsplit=5)) == 6}


def test_the_gunicorn_master_loads_neither_pillow_nor_the_core(png_bytes: bytes) -> None:
    with running_service() as server:
        body, headers = multipart([("image", png_bytes, "image/png")])
        status, _, _ = server.request("POST", "/v1/image/analysis", body, headers)
        assert status == 200
        master = _mapped_files(server.process.pid)
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(server.process.pid)], capture_output=True, text=True, check=True
        ).stdout.split()
        worker_maps = set().union(*(_mapped_files(int(pid)) for pid in children))
    core = [path for path in worker_maps if "_core" in path and path.endswith(".so")]
    assert core, "a worker that served an analysis should have the core mapped"
    assert not [path for path in master if "_core" in path or "/PIL/" in path]


def _fresh_environment(tmp_path: Path) -> Path:
    """A new virtual environment holding only the built wheel; the third-party packages come
    from the development environment through a .pth file, so nothing is downloaded."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [str(Path(sys.executable).with_name("maturin")), "build", "--release", "--quiet", "-o", str(wheel_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = wheel_dir.glob("image_insights-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "development-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def test_the_built_wheel_serves_an_analysis_from_a_fresh_environment(tmp_path: Path, png_bytes: bytes) -> None:
    env_dir = _fresh_environment(tmp_path)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    located = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import image_insights._core as c; print(c.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert located.startswith(str(env_dir)), located
    port = free_port()
    environment = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}
    } | {"HOST": "127.0.0.1", "PORT": str(port)}
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(env_dir / "bin" / "image-insights"), "serve", "--workers", "1"],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        try:
            wait_until_healthy(port, process)
        except RuntimeError as error:
            raise AssertionError(f"{error}: {log_path.read_text(errors='replace')[-2000:]}") from None
        body, headers = multipart([("image", png_bytes, "image/png")])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/v1/image/analysis", body, headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert response.status == 200, answer
        assert answer["algorithm"] == "rec709" and 0 <= answer["brightness_score"] <= 100
    finally:
        stop(process)


def test_the_former_names_of_the_statistics_still_answer_with_a_warning() -> None:
    import image_insights

    with pytest.warns(DeprecationWarning, match="now image_insights.ImageStatistics"):
        assert image_insights.LuminanceStats is image_insights.ImageStatistics
    with pytest.warns(DeprecationWarning, match="now image_insights.pixel_statistics"):
        assert image_insights.luminance_stats is image_insights.pixel_statistics
