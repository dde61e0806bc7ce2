"""The `image-insights` console script, run as a user runs it: a subprocess of the installed
entry point, on images generated into tmp_path."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import image_insights
from tests.support.http_helpers import encode, gradient
from tests.support.live_server import free_port, wait_until_healthy
from tests.support.origin import Origin

SCRIPT = Path(sys.executable).with_name("image-insights")
ALL_METRICS = "brightness,median,histogram"


def run(
    *args: str, stdin: bytes = b"", cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(SCRIPT), *args], input=stdin, capture_output=True, cwd=cwd, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


def run_with_terminal_stderr(*args: str) -> tuple[int, str]:
    """Runs the script with stdout to a pipe and stderr to a pseudo-terminal."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=terminal, stdin=subprocess.DEVNULL
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.stdout is not None
    process.stdout.read()
    process.stdout.close()
    os.close(controller)
    return process.wait(timeout=60), b"".join(chunks).decode()


@pytest.fixture
def folder(tmp_path: Path) -> dict[str, bytes]:
    """A tree of images whose names do not tell their type, plus files that are not images.
    Returns the images' bytes by the path the tool prints."""
    images = {
        "photos/a.jpg": encode(gradient(640, 400), "JPEG", quality=90),
        "photos/nested/deeper/b.data": encode(gradient(90, 120), "PNG"),
        "photos/c.png": encode(gradient(33, 20, "L"), "PNG"),
        "photos/nested/d": encode(gradient(200, 50), "JPEG"),
        "photos/e.PNG": encode(gradient(64, 64, "RGBA"), "PNG"),
    }
    for name, data in images.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "photos/notes.txt").write_text("not an image")
    (tmp_path / "photos/nested/fake.jpg").write_bytes(b"BM" + b"\0" * 20)  # a BMP: no format
    return {str(Path(name)): data for name, data in images.items()}


def assert_matches_library(
    record: dict[str, Any], data: bytes, metrics: str, edge: str | None
) -> None:
    expected = image_insights.analyze(data, metrics, edge)
    assert {k: record[k] for k in expected} == expected


def test_folder_as_json_equals_the_library(tmp_path: Path, folder: dict[str, bytes]) -> None:
    result = run("analyze", "photos", "--metrics", ALL_METRICS, "--edge-mode", "all",
                 "--format", "json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["file"] for r in records] == sorted(folder), "found by content, in path order"
    for record in records:
        assert_matches_library(record, folder[record["file"]], ALL_METRICS, "all")
    assert "[#" not in result.stderr, "no progress bar when stderr is not a terminal"


def test_table_is_the_default(tmp_path: Path, folder: dict[str, bytes]) -> None:
    result = run("analyze", "photos", "--metrics", "brightness,median", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["file", "size", "score", "average", "median"]
    assert len(rows) == len(folder)
    by_file = {row.split()[0]: row.split()[1:] for row in rows}
    for name, data in folder.items():
        expected = image_insights.analyze(data, "brightness,median")
        assert by_file[name] == [
            f"{expected['width']}x{expected['height']}",
            str(expected["brightness_score"]),
            f"{expected['average_luminance']:.2f}",
            f"{expected['median_luminance']:.2f}",
        ]


def test_jsonl_and_csv(tmp_path: Path, folder: dict[str, bytes]) -> None:
    jsonl = run("analyze", "photos", "--metrics", ALL_METRICS, "--format", "jsonl", cwd=tmp_path)
    assert jsonl.returncode == 0, jsonl.stderr
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(lines) == len(folder)
    for record in lines:
        assert_matches_library(record, folder[record["file"]], ALL_METRICS, None)

    table = run("analyze", "photos", "--metrics", ALL_METRICS, "--format", "csv", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(rows) == len(folder)
    for row in rows:
        expected = image_insights.analyze(folder[row["file"]], ALL_METRICS)
        assert float(row["average_luminance"]) == expected["average_luminance"]
        assert float(row["median_luminance"]) == expected["median_luminance"]
        assert [float(row[f"histogram_{b['range']}"]) for b in expected["histogram"]] == [
            b["percent"] for b in expected["histogram"]
        ]


def test_failures_are_reported_and_do_not_stop_the_others(tmp_path: Path) -> None:
    good = encode(gradient(50, 40), "PNG")
    (tmp_path / "good.png").write_bytes(good)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    (tmp_path / "good2.jpg").write_bytes(encode(gradient(60, 30), "JPEG"))
    names = ["broken.png", "good.png", "missing.jpg", "empty.jpg", "text.jpg", "good2.jpg"]
    result = run("analyze", *names, "--format", "jsonl", cwd=tmp_path)
    assert result.returncode == 1
    records = {r["file"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert_matches_library(records["good.png"], good, "brightness", None)
    assert "brightness_score" in records["good2.jpg"]
    assert records["broken.png"]["error"].startswith("invalid or corrupted image file")
    assert records["empty.jpg"]["error"] == "empty image"
    not_an_image = (
        "invalid or corrupted image file: not a JPEG, PNG, WebP, AVIF, HEIF, GIF or TIFF image"
    )
    assert records["text.jpg"]["error"] == not_an_image
    errors = result.stderr.splitlines()
    for name in ("broken.png", "missing.jpg", "empty.jpg", "text.jpg"):
        assert any(line.startswith(f"image-insights: {name}: ") for line in errors), name
    assert "image-insights: missing.jpg: no such file or directory" in errors
    assert errors[-1] == "image-insights: 4 of 6 inputs failed"


def test_standard_input(tmp_path: Path) -> None:
    data = encode(gradient(120, 80), "JPEG", quality=80)
    result = run("analyze", "-", "--format", "json", "--edge-mode", "LEFT_RIGHT", stdin=data)
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    assert record["file"] == "-"
    assert_matches_library(record, data, "brightness", "left_right")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--metrics", "brightness,colour", "invalid metrics: colour"),
     ("--edge-mode", "diagonal", "invalid edge_mode: 'diagonal'"),
     ("--regions", "top;upper", "invalid regions (a rectangle is four decimals"),
     ("--placeholder-components", "4x0", "invalid placeholder_components: '4x0'")],
)  # fmt: skip
def test_bad_options_are_usage_errors(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    (tmp_path / "a.png").write_bytes(encode(gradient(8, 8), "PNG"))
    result = run("analyze", "a.png", option, value, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_regions_text_and_placeholder_as_the_library_gives_them(tmp_path: Path) -> None:
    data = encode(gradient(120, 80), "PNG")
    (tmp_path / "a.png").write_bytes(data)
    spec = "top:25;caption=0.1,0.6,0.8,0.3"
    result = run("analyze", "a.png", "--metrics", "brightness,text,placeholder", "--regions", spec,
                 "--placeholder-components", "5x4", "--format", "json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    [record] = json.loads(result.stdout)
    expected = image_insights.analyze(data, "brightness,text,placeholder", regions=spec,
                                      placeholder_components="5x4")  # fmt: skip
    assert record == {"file": "a.png", **expected}
    assert [r["name"] for r in record["regions"]] == ["top", "caption"]
    on_dask = run("analyze", "a.png", "--regions", "top", "--dask", "local", cwd=tmp_path)
    assert on_dask.returncode == 2 and "do not run on Dask" in on_dask.stderr


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    for index in range(6):
        Image.new("RGB", (40 + index, 30), (index * 40, 90, 10)).save(tmp_path / f"{index}.png")
    status, stderr = run_with_terminal_stderr("analyze", str(tmp_path))
    assert status == 0, stderr
    assert "6/6 images" in stderr and "[#####" in stderr
    status, stderr = run_with_terminal_stderr("analyze", str(tmp_path), "--quiet")
    assert status == 0 and "images" not in stderr
    status, stderr = run_with_terminal_stderr("analyze", str(tmp_path / "0.png"))
    assert status == 0 and "images" not in stderr, "no bar for a few files"


def test_histogram_bars(tmp_path: Path) -> None:
    # Three flat bands: 50% dark, 30% mid, 20% bright (by rows).
    image = Image.new("L", (100, 100), 10)
    image.paste(140, (0, 50, 100, 80))
    image.paste(250, (0, 80, 100, 100))
    (tmp_path / "bands.png").write_bytes(encode(image, "PNG"))
    result = run("histogram", "bands.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    title, *rows = result.stdout.splitlines()
    assert title.startswith("bands.png: 100x100")
    assert len(rows) == 10
    bars = {row.split()[0]: row for row in rows}
    assert bars["0-24"].rstrip().endswith("50.0%") and bars["128-152"].rstrip().endswith("30.0%")
    assert bars["230-255"].rstrip().endswith("20.0%") and bars["25-50"].rstrip().endswith("0.0%")
    lengths = {name: max(row.count("\u2588"), row.count("#")) for name, row in bars.items()}
    assert lengths["0-24"] == 40 and lengths["128-152"] == 24 and lengths["230-255"] == 16
    assert lengths["25-50"] == 0

    broken = run("histogram", "-", stdin=b"not an image")
    assert broken.returncode == 1 and "invalid or corrupted image file" in broken.stderr


@pytest.mark.parametrize("command", ["analyze", "serve", "histogram"])
def test_help_has_examples(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert f"image-insights {command}" in result.stdout.split("examples:")[1]


def test_top_level_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("analyze", "serve", "histogram"):
        assert command in result.stdout


@pytest.mark.integration
def test_serve_runs_gunicorn_with_the_package_settings(tmp_path: Path) -> None:
    """From a folder without a gunicorn.conf.py: the package's own settings module."""
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port), "--workers", "1", "--host", "127.0.0.1"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until_healthy(port, process)
        # The script replaced itself with gunicorn (same process id).
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"gunicorn" in cmdline and b"--config" in cmdline
        config = cmdline[cmdline.index(b"--config") + 1].decode()
        assert config == "python:image_insights.serving.gunicorn_config"
        text = (tmp_path / "serve.log").read_text()
        assert f"bind=127.0.0.1:{port} workers=1" in text, text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_serve_with_a_missing_settings_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("serve", "--config", str(tmp_path / "absent.py"))
    assert result.returncode == 2 and "cannot find the gunicorn settings file" in result.stderr


@pytest.mark.integration
def test_a_url_is_downloaded_and_analysed(origin_server: Origin) -> None:
    """As the service downloads it: allowed by URL_FETCH_ALLOWLIST, vetted otherwise."""
    url = f"{origin_server.base}/image.png"
    allowed = run("analyze", url, "--format", "json", "--metrics", ALL_METRICS,
                  env={"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}"})  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    [record] = json.loads(allowed.stdout)
    assert record["file"] == url
    expected = image_insights.analyze(origin_server.png, ALL_METRICS)
    assert {k: record[k] for k in expected} == expected
    histogram = run("histogram", url, env={"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}"})
    assert histogram.returncode == 0 and "average luminance" in histogram.stdout


def test_a_private_url_is_refused_as_the_service_refuses_it() -> None:
    result = run("analyze", "http://127.0.0.1:9/image.png", "http://10.0.0.1/x.jpg")
    assert result.returncode == 1
    assert result.stderr.count("URL refused: the URL points to a private or local network") == 2
    assert "2 of 2 inputs failed" in result.stderr
