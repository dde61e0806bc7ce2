"""Runs an image's own command from its exported root filesystem, the way a container engine
would, and checks it over HTTP on loopback. The stand-in for `podman run`, which this machine
refuses (see docs/CONTAINER.md).

The command, environment, working directory and user all come from `podman image inspect`;
the process gets a private mount namespace with a fresh /proc, a minimal /dev and a /dev/shm
tmpfs, then `chroot` into the root filesystem. Only PORT (a free one) and HOST=127.0.0.1 are
added to the image's environment.

Checks: /health answers 200 JSON; one analysis of a JPEG drawn here; the image's HEALTHCHECK
command succeeds inside the root filesystem; the server runs as the image's non-root user;
with a /proc/cpuinfo that lacks AVX2 the command refuses to start, with a message. Start-up
(process start to the first 200 on /health) is measured over several starts and reported;
it is not asserted.

Usage: python run_rootfs.py ROOTFS INSPECT_JSON [--runs N] [--summary FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

# Generous: a start that takes this long is broken, not slow. The 1 s goal is only reported.
START_LIMIT_S = 30.0
STOP_LIMIT_S = 30.0
POLL_INTERVAL_S = 0.005

# Set up the container-like mounts inside the new mount namespace, then become the image's
# process. $1 = root filesystem, $2 = a file to mount over /proc/cpuinfo or "", rest = argv.
MOUNT_AND_EXEC = r"""
set -eu
root=$1 cpuinfo=$2; shift 2
mount -t proc proc "$root/proc"
[ -z "$cpuinfo" ] || mount --bind "$cpuinfo" "$root/proc/cpuinfo"
mount -t tmpfs -o mode=755,nosuid dev "$root/dev"
for node in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r name major minor <<EOF
$node
EOF
    mknod -m 666 "$root/dev/$name" c "$major" "$minor"
done
mkdir "$root/dev/shm" "$root/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
exec "$@"
"""


@dataclass(frozen=True)
class ImageConfig:
    argv: list[str]
    env: dict[str, str]
    workdir: str
    uid: int
    gid: int
    healthcheck: list[str]

    @classmethod
    def load(cls, inspect_file: Path, rootfs: Path) -> ImageConfig:
        data = json.loads(inspect_file.read_text())
        image = data[0] if isinstance(data, list) else data
        config = image["Config"]
        argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
        env = dict(item.split("=", 1) for item in config.get("Env") or [])
        uid, gid = resolve_user(config.get("User") or "0", rootfs)
        # podman keeps a docker-format image's HEALTHCHECK beside Config, docker inside it.
        test = (image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test") or []
        if test[:1] == ["CMD"]:
            healthcheck = test[1:]
        elif test[:1] == ["CMD-SHELL"]:
            healthcheck = ["/bin/sh", "-c", test[1]]
        else:
            healthcheck = []
        return cls(argv, env, config.get("WorkingDir") or "/", uid, gid, healthcheck)


def resolve_user(user: str, rootfs: Path) -> tuple[int, int]:
    """USER as `name`, `uid`, `name:group` or `uid:gid`, looked up in the image's own files."""
    name, _, group = user.partition(":")

    def lookup(table: str, key: str) -> list[str]:
        for line in (rootfs / "etc" / table).read_text().splitlines():
            fields = line.split(":")
            if fields[0] == key or fields[2] == key:
                return fields
        raise SystemExit(f"USER {user!r}: {key!r} not in the image's /etc/{table}")

    passwd = None if name.isdigit() else lookup("passwd", name)
    uid = int(name) if passwd is None else int(passwd[2])
    if group:
        gid = int(group) if group.isdigit() else int(lookup("group", group)[2])
    elif passwd is not None:
        gid = int(passwd[3])
    else:
        gid = uid
    return uid, gid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def jail_argv(rootfs: Path, config: ImageConfig, argv: list[str], cpuinfo: str = "") -> list[str]:
    """A command line that runs argv in the image as the image would: user, env, workdir."""
    env = [f"{key}={value}" for key, value in config.env.items()]
    return [
        "unshare", "--mount", "--propagation", "private",
        "sh", "-c", MOUNT_AND_EXEC, "mount-and-exec", str(rootfs), cpuinfo,
        "chroot", f"--userspec={config.uid}:{config.gid}", f"--groups={config.gid}", str(rootfs),
        "/usr/bin/env", "-i", *env, "sh", "-c", 'cd "$0" && exec "$@"', config.workdir, *argv,
    ]


class Server:
    """The image's command on a free loopback port, with its output kept in a file."""

    def __init__(self, rootfs: Path, config: ImageConfig, port: int, cpuinfo: str = "") -> None:
        self.port = port
        self.log = tempfile.TemporaryFile()
        env_config = ImageConfig(
            config.argv, {**config.env, "PORT": str(port), "HOST": "127.0.0.1"},
            config.workdir, config.uid, config.gid, config.healthcheck,
        )
        self.config = env_config
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            jail_argv(rootfs, env_config, config.argv, cpuinfo),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def wait_healthy(self) -> float:
        """Seconds from process start to the first 200 on /health."""
        while time.perf_counter() - self.started < START_LIMIT_S:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url("/health"), timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(POLL_INTERVAL_S)
        raise SystemExit(f"no 200 on /health within {START_LIMIT_S:.0f} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_LIMIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise SystemExit(f"server ignored SIGTERM for {STOP_LIMIT_S:.0f} s")
        self.log.close()


def get_ok(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, (url, response.status)
        body: bytes = response.read()
        return body


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, response.status
        body: dict[str, Any] = json.load(response)
        return body


def post_image(url: str, jpeg: bytes) -> dict[str, Any]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="image"; filename="probe.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + jpeg + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status
        result: dict[str, Any] = json.load(response)
        return result


def check_service(server: Server, rootfs: Path) -> None:
    health = get_json(server.url("/health"))
    assert health.get("status") == "healthy", health
    print(f"  GET /health: {health}")

    # The documentation pages and the files they load, which the build fetches.
    assert json.loads(get_ok(server.url("/openapi.json")))["paths"]
    for page in ("/docs", "/redoc"):
        html = get_ok(server.url(page)).decode()
        assets = [part.split('"')[0] for part in html.split('="/static/')[1:]]
        assert assets, f"{page} loads no /static files"
        sizes = [len(get_ok(server.url("/static/" + asset))) for asset in assets]
        print(f"  GET {page}: 200, and its {len(assets)} files from /static"
              f" ({sum(sizes) // 1024} KiB)")

    # A flat colour survives JPEG almost unchanged: Rec. 709 of (200, 100, 50) is 117.65.
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (200, 100, 50)).save(buffer, "JPEG", quality=95)
    result = post_image(server.url("/v1/image/analysis?metrics=brightness,median,histogram"),
                        buffer.getvalue())
    assert (result["width"], result["height"]) == (640, 360), result
    assert result["algorithm"] == "rec709", result
    assert abs(result["average_luminance"] - 117.65) < 2.0, result
    assert abs(sum(bucket["percent"] for bucket in result["histogram"]) - 100) < 0.6, result
    print(f"  POST /v1/image/analysis: average_luminance={result['average_luminance']}"
          f" median={result['median_luminance']} {result['width']}x{result['height']}"
          f" in {result['processing_time_ms']} ms")

    status = (Path("/proc") / str(server.process.pid) / "status").read_text()
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert uids[0] == str(server.config.uid) != "0", f"server runs as uid {uids}"
    print(f"  the server runs as uid {uids[0]}, gid {server.config.gid}")

    if server.config.healthcheck:
        check = subprocess.run(
            jail_argv(rootfs, server.config, server.config.healthcheck),
            capture_output=True, text=True, timeout=30,
        )
        assert check.returncode == 0, f"HEALTHCHECK failed: {check.stdout}{check.stderr}"
        print("  the image's HEALTHCHECK command passes")
    else:
        print("  the image has no HEALTHCHECK (built without --format docker?)")


def check_shared_libraries(rootfs: Path, config: ImageConfig) -> None:
    """Every compiled module under the image's Python prefix finds its libraries."""
    script = (
        'prefix=$(python -c "import sys; print(sys.prefix)")\n'
        'find "$prefix" -name "*.so" | while read -r lib; do\n'
        '    ldd "$lib" | sed "s|^|$lib: |"\n'
        'done'
    )
    result = subprocess.run(
        jail_argv(rootfs, config, ["sh", "-c", script]), capture_output=True, text=True,
        timeout=60, check=True,
    )
    lines = result.stdout.splitlines()
    missing = [line for line in lines if "not found" in line]
    assert lines and not missing, missing or result.stderr
    linked = sorted({line.split(": ", 1)[1].split()[0] for line in lines
                     if "=>" in line and "/lib" in line})
    print(f"  {len({line.split(': ')[0] for line in lines})} compiled modules; all their"
          f" libraries are in the image ({', '.join(linked)})")


def check_refuses_without_avx2(rootfs: Path, config: ImageConfig) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    fake = "\n".join(
        " ".join(word for word in line.split(" ") if word != "avx2")
        if line.startswith("flags") else line
        for line in cpuinfo.splitlines()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".cpuinfo") as file:
        file.write(fake + "\n")
        file.flush()
        os.chmod(file.name, 0o644)  # read by the image's user, as /proc/cpuinfo is
        server = Server(rootfs, config, free_port(), cpuinfo=file.name)
        try:
            code = server.process.wait(START_LIMIT_S)
        except subprocess.TimeoutExpired:
            server.stop()
            raise SystemExit("started on a CPU without AVX2 instead of refusing") from None
        output = server.output()
        server.log.close()
    assert code != 0 and "AVX2" in output, (code, output)
    print(f"  without AVX2 in /proc/cpuinfo it exits {code}: {output.strip().splitlines()[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rootfs", type=Path)
    parser.add_argument("inspect", type=Path)
    parser.add_argument("--runs", type=int, default=5, help="starts to time")
    parser.add_argument("--summary", type=Path, help="write the measurements here as JSON")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (mount namespace and chroot)")

    rootfs = args.rootfs.resolve()
    config = ImageConfig.load(args.inspect, rootfs)
    print(f"command {config.argv} in {config.workdir} as {config.uid}:{config.gid}")

    startups = []
    for run in range(args.runs):
        server = Server(rootfs, config, free_port())
        try:
            startups.append(server.wait_healthy())
            if run == 0:
                check_service(server, rootfs)
        except BaseException:
            print(server.output(), file=sys.stderr)
            raise
        finally:
            server.stop()
    check_shared_libraries(rootfs, config)
    check_refuses_without_avx2(rootfs, config)

    ms = sorted(round(s * 1000, 1) for s in startups)
    summary = {"startup_ms": ms, "startup_median_ms": statistics.median(ms)}
    print(f"  start-up to the first 200 on /health: median {summary['startup_median_ms']} ms"
          f" over {len(ms)} starts (all: {ms})")
    if args.summary:
        args.summary.write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
