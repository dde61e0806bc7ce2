"""Privacy: serving requests writes no file, and the URL endpoint's log lines carry no path,
query, fragment or userinfo of the URL.

gunicorn runs here in an empty working directory, with empty TMPDIR and HOME and its metrics
folder named, all fresh temporary folders. After start-up and a warm-up request, every file
under them and under the package's source tree is recorded (path, size, mtime); then a mix of
uploads and URL fetches, good and bad; then the tree is compared. Only the Prometheus counter
files may change (numbers, never request data), and they are checked to be only that.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import synthetic
from tests.support.http_helpers import multipart
from tests.support.live_server import GUNICORN, ROOT, LiveServer, free_port, wait_until_healthy
from tests.support.origin import Origin

pytestmark = pytest.mark.integration

SECRET_PARTS = ("s3cret-user", "pa55word", "private-path", "hunter2", "frag-ment")


def snapshot(*folders: Path) -> dict[str, tuple[int, int, str]]:
    """Size, mtime and content hash of every file (mtime alone misses writes through mmap,
    which is how prometheus_client updates its counter files)."""
    found = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
                found[str(path)] = (stat.st_size, stat.st_mtime_ns, digest)
    return found


@pytest.fixture
def isolated(tmp_path: Path, origin_server: Origin) -> Iterator[tuple[LiveServer, dict[str, Path]]]:
    folders = {name: tmp_path / name for name in ("cwd", "tmp", "home", "metrics")}
    for folder in folders.values():
        folder.mkdir()
    log_path = tmp_path / "gunicorn.log"  # outside every watched folder
    port = free_port()
    env = {
        **os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2",
        "TMPDIR": str(folders["tmp"]), "HOME": str(folders["home"]),
        "PROMETHEUS_MULTIPROC_DIR": str(folders["metrics"]), "CACHE_ENABLED": "false",
        "ENABLE_DETAILED_LOGGING": "true",
        "URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin_server.port}",
    }  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "--config", str(ROOT / "gunicorn.conf.py")],
            cwd=folders["cwd"], env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(port, process)
            server = LiveServer(port, process)
            server.log_path = log_path  # type: ignore[attr-defined]
            yield server, folders
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def requests(server: LiveServer, origin: Origin) -> list[int]:
    rgb = synthetic.textured_photo(300, 200, seed=9)
    uploads = [
        (synthetic.jpeg(rgb), "image/jpeg"), (synthetic.png(rgb), "image/png"),
        (synthetic.png(rgb)[:500], "image/png"), (b"not an image", "image/png"),
        (synthetic.png_header_only(30000, 30000), "image/png"), (b"", "image/jpeg"),
        (b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024), "image/jpeg"),
    ]  # fmt: skip
    statuses = []
    for data, content_type in uploads:
        body, headers = multipart([("image", data, content_type)])
        statuses.append(server.request("POST", "/v1/image/analysis?metrics=histogram", body, headers)[0])
    host = f"127.0.0.1:{origin.port}"
    urls = [
        f"http://s3cret-user:pa55word@{host}/image.png?token=hunter2#frag-ment",
        f"http://{host}/private-path/missing.png?token=hunter2",
        f"http://{host}/redirect?to=http://127.0.0.2:{origin.port}/private-path?hunter2",
        f"http://{host}/text?hunter2", f"http://{host}/empty?hunter2",
        "http://s3cret-user@127.0.0.1:1/private-path?token=hunter2",
        "ftp://s3cret-user:pa55word@example.com/private-path",
    ]
    for url in urls:
        body = json.dumps({"url": url, "metrics": "brightness"}).encode()
        statuses.append(server.request("POST", "/v1/image/analysis/url", body,
                                       {"Content-Type": "application/json"})[0])  # fmt: skip
    return statuses


def test_no_request_writes_a_file(
    isolated: tuple[LiveServer, dict[str, Path]], origin_server: Origin
) -> None:
    server, folders = isolated
    requests(server, origin_server)  # warm-up: every code path imported, counters created
    watched = [*folders.values(), ROOT / "python"]
    before = snapshot(*watched)
    statuses = requests(server, origin_server)
    time.sleep(0.3)
    after = snapshot(*watched)
    assert 200 in statuses and 400 in statuses and 413 in statuses
    changed = {path for path in after if before.get(path) != after[path]}
    new_or_changed_outside_metrics = {
        path for path in changed if not path.startswith(str(folders["metrics"]) + os.sep)
    }
    assert new_or_changed_outside_metrics == set()
    # The snapshot does see writes: the counter files changed while the requests were served.
    assert changed - new_or_changed_outside_metrics, "no change seen at all: the watch is blind"
    for name in ("cwd", "tmp", "home"):
        assert list(folders[name].iterdir()) == [], name
    # The metrics folder holds prometheus_client's counter files and nothing else, and none
    # of them carries a byte of what the requests sent.
    for path in folders["metrics"].iterdir():
        assert path.suffix == ".db", path
        content = path.read_bytes()
        assert not any(secret.encode() in content for secret in SECRET_PARTS), path


def test_url_log_lines_carry_no_path_query_or_userinfo(
    isolated: tuple[LiveServer, dict[str, Path]], origin_server: Origin
) -> None:
    server, _ = isolated
    requests(server, origin_server)
    time.sleep(0.3)
    log = server.log_path.read_text()  # type: ignore[attr-defined]
    url_lines = [line for line in log.splitlines() if "/v1/image/analysis/url" in line]
    assert len(url_lines) >= 7, log
    for secret in SECRET_PARTS:
        assert secret not in log, secret
    assert "127.0.0.2" not in log and "example.com" not in log
