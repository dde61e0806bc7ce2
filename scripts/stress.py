"""The long load and fault campaigns (`make stress`): each against a fresh gunicorn on
loopback, bounded in time and requests. Prints the figures and writes them into
docs/RELIABILITY.md between its "stress" markers; exits non-zero when a campaign's
behaviour fails (the same checks as tests/test_stress_short.py, on the long runs).

Usage: python -m scripts.stress [--wrk-seconds 60] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from scripts import stress_campaigns as campaigns
from tests.support.live_server import running_service
from tests.support.origin import running_origin

ROOT = Path(__file__).resolve().parents[1]
ENV = {"CACHE_ENABLED": "false", "ENABLE_DETAILED_LOGGING": "false",
       "GUNICORN_MAX_REQUESTS": "0"}  # fmt: skip
DOC = ROOT / "docs" / "RELIABILITY.md"
BEGIN, END = "<!-- stress:begin -->", "<!-- stress:end -->"
MB = 1024 * 1024


def mb(value: int) -> str:
    return f"{value / MB:.0f} MB"


def run(wrk_seconds: int) -> tuple[dict[str, object], list[str]]:
    figures: dict[str, object] = {}
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    with running_service(ENV) as server:
        wrk = campaigns.wrk_campaign(server, seconds=wrk_seconds, warmup_seconds=10)
    figures["wrk"] = wrk
    check(wrk["non_2xx"] == 0 and wrk["socket_errors"] == 0, "wrk: errors")
    check(wrk["same_workers"] and wrk["rss_growth"] <= 0.20, "wrk: RSS grew over 20%")

    with running_service(ENV) as server:
        slow = campaigns.slowloris_campaign(server, seconds=30, clients=300)
    figures["slowloris"] = slow
    check(slow["health_failed"] == 0 and slow["health_max_s"] < 1.0, "slowloris: /health")
    check(slow["uploads_ok"] == slow["uploads"], "slowloris: uploads failed")

    with running_origin(b"", b"") as origin:
        allow = {"URL_FETCH_ALLOWLIST": f"127.0.0.1:{origin.port}"}
        with running_service({**ENV, **allow}) as server:
            slow_origins = campaigns.slow_origin_campaign(server, origin.base, seconds=30)
    figures["slow_origins"] = slow_origins
    check(slow_origins["health_failed"] == 0 and slow_origins["health_max_s"] < 1.0,
          "slow origins: /health")  # fmt: skip
    check(slow_origins["uploads_ok"] == slow_origins["uploads"], "slow origins: uploads failed")
    check(set(slow_origins["fetch_statuses"]) <= {"400", "408"}, "slow origins: fetch statuses")

    kills = []
    with running_service(ENV) as server:
        for _ in range(3):
            kills.append(campaigns.kill_worker_campaign(server, load_seconds=8))
    figures["sigkill"] = kills
    for kill in kills:
        check(kill["health_after_s"] is not None and kill["health_after_s"] < 2.0, "sigkill: 2 s")
        check(kill["failed_started_after_kill"] == 0, "sigkill: a later request failed")

    with running_service({**ENV, "GUNICORN_GRACEFUL_TIMEOUT": "20"}) as server:
        term = campaigns.sigterm_campaign(server, load_seconds=10, graceful_timeout=20)
    figures["sigterm"] = term
    check(term["exited"] and term["exit_code"] == 0 and term["exited_after_s"] < 20, "sigterm: exit")
    check(term["started_before_and_failed"] == 0, "sigterm: an in-flight request failed")

    with running_service(ENV) as server:
        images = {"png-5mb": campaigns.five_mb_png(), **campaigns.forty_mp_images()}
        memory = campaigns.memory_campaign(server, repeats=24, images=images, concurrency=4)
    figures["memory"] = memory
    statuses = memory["statuses"]
    check(set(statuses["png-5mb"]) == {200}, "memory: a 5 MB upload failed")
    check(all(set(s) <= campaigns.HEAVY_STATUSES for s in statuses.values()), "memory: status")
    check(memory["max_peak_rss"] < campaigns.RSS_CEILING_BYTES, "memory: over the ceiling")

    with running_service(ENV) as server:
        amplifiers = campaigns.amplifier_campaign(server, campaigns.amplifier_images(), 8)
    figures["amplifiers"] = amplifiers
    for name, seen in amplifiers["images"].items():
        check(set(seen["statuses"]) <= campaigns.AMPLIFIER_STATUSES[name], f"{name}: status")
        check(seen["slowest_s"] < campaigns.TIME_LIMIT_S + campaigns.ANSWER_GRACE_S,
              f"{name}: answered after the time limit")  # fmt: skip
        check(seen["health_failed"] == 0 and seen["health_max_s"] < 1.0, f"{name}: /health")
    check(amplifiers["same_workers"], "amplifiers: a worker was lost")
    check(amplifiers["max_peak_rss"] < campaigns.RSS_CEILING_BYTES, "amplifiers: over the ceiling")
    return figures, failures


def markdown(figures: dict[str, object], failures: list[str]) -> str:
    wrk = figures["wrk"]
    slow = figures["slowloris"]
    origins = figures["slow_origins"]
    kills = figures["sigkill"]
    term = figures["sigterm"]
    memory = figures["memory"]
    assert isinstance(wrk, dict) and isinstance(slow, dict) and isinstance(kills, list)
    assert isinstance(origins, dict)
    assert isinstance(term, dict) and isinstance(memory, dict)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on this machine ({platform.machine()}, 2 cores), "
        "gunicorn with 2 workers x 64 threads, cache off, worker recycling off. "
        f"Verdict: {'all campaigns held' if not failures else 'FAILED: ' + ', '.join(failures)}.",
        "",
        "| campaign | figures |",
        "|---|---|",
        f"| wrk {wrk['seconds']} s, {wrk['connections']} connections, 320x240 JPEG, "
        "metrics=brightness,median,histogram&edge_mode=all | "
        f"{wrk['requests']} requests, {wrk['requests_per_s']:.0f} req/s, p50 {wrk['p50_ms']:.1f} ms, "
        f"p99 {wrk['p99_ms']:.1f} ms, non-2xx {wrk['non_2xx']}, socket errors {wrk['socket_errors']}; "
        "worker RSS after warm-up -> after: "
        + ", ".join(f"{mb(wrk['rss_after_warmup'][pid])} -> {mb(wrk['rss_after'].get(pid, 0))}"
                    for pid in wrk["rss_after_warmup"])
        + f" (largest growth {wrk['rss_growth'] * 100:+.1f}%) |",
        f"| slowloris: {slow['clients']} clients dribbling request lines, heads, bodies, chunked "
        f"bodies, bodies after 100 Continue, or idle, for {slow['seconds']} s | "
        f"/health {slow['health_checks'] - slow['health_failed']}/{slow['health_checks']} answered, "
        f"median {slow['health_p50_s'] * 1000:.1f} ms, max {slow['health_max_s'] * 1000:.1f} ms; "
        f"uploads {slow['uploads_ok']}/{slow['uploads']} OK; slow clients cut off at their "
        f"deadline: {slow['slow_clients_cut_off']} |",
        f"| slow origins: {origins['clients']} clients asking for URLs whose origin dribbles its "
        f"headers, for {origins['seconds']} s | {origins['fetches']} downloads answered "
        + ", ".join(f"{n}x {s}" for s, n in origins["fetch_statuses"].items())
        + f"; /health {origins['health_checks'] - origins['health_failed']}/"
        f"{origins['health_checks']} answered, median {origins['health_p50_s'] * 1000:.1f} ms, "
        f"max {origins['health_max_s'] * 1000:.1f} ms; uploads {origins['uploads_ok']}/"
        f"{origins['uploads']} OK |",
    ]
    for index, kill in enumerate(kills, 1):
        lines.append(
            f"| SIGKILL of a worker under 8-thread load (#{index}) | /health answered after "
            f"{kill['health_after_s'] * 1000:.0f} ms, worker replaced after "
            f"{kill['replaced_after_s'] * 1000:.0f} ms; {kill['failed']} of {kill['requests']} "
            f"requests failed, {kill['failed_started_after_kill']} of them started after the kill |"
        )
    lines.append(
        f"| SIGTERM of the master under 8-thread load | {term['in_flight_at_sigterm']} requests "
        f"in flight, {term['in_flight_failed']} failed; exit code {term['exit_code']} after "
        f"{term['exited_after_s']:.2f} s (graceful timeout 20 s); {term['started_after']} "
        f"requests started after SIGTERM, {term['started_after_ok']} answered 200, the rest "
        f"refused at connect; connections refused after exit: {term['refused_after_exit']} |"
    )
    sizes = memory["sizes"]
    lines.append(
        "| memory: 24 uploads of each, 4 at a time: "
        + ", ".join(f"{name} ({sizes[name] / MB:.2f} MB)" for name in sizes)
        + " | statuses: "
        + ", ".join(f"{name} " + "/".join(f"{s}x{v.count(s)}" for s in sorted(set(v)))
                    for name, v in memory["statuses"].items())
        + "; "
        "peak RSS per worker (VmHWM): "
        + ", ".join(mb(v) for v in memory["peak_rss"].values())
        + f"; ceiling {mb(campaigns.RSS_CEILING_BYTES)} |"
    )
    amplifiers = figures["amplifiers"]
    assert isinstance(amplifiers, dict)
    for name, seen in amplifiers["images"].items():
        statuses = seen["statuses"]
        lines.append(
            f"| amplifier, {amplifiers['concurrency']} at once: {name} "
            f"({seen['size'] / 1024:.0f} KB) | "
            + "/".join(f"{s}x{statuses.count(s)}" for s in sorted(set(statuses)))
            + f", slowest answer {seen['slowest_s']:.2f} s; /health "
            f"{seen['health_checks'] - seen['health_failed']}/{seen['health_checks']} answered, "
            f"max {seen['health_max_s'] * 1000:.0f} ms; uploads beside it "
            f"{seen['uploads_ok']}/{seen['uploads']} OK |"
        )
    lines.append(
        "| amplifiers: peak RSS per worker (VmHWM) after all of them | "
        + ", ".join(mb(v) for v in amplifiers["peak_rss"].values())
        + f"; ceiling {mb(campaigns.RSS_CEILING_BYTES)}; workers lost: "
        + ("none" if amplifiers["same_workers"] else "SOME") + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wrk-seconds", type=int, default=60)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    figures, failures = run(args.wrk_seconds)
    text = markdown(figures, failures)
    print(text)
    print(json.dumps(figures, default=str, indent=1), file=sys.stderr)
    if not args.no_write:
        doc = DOC.read_text()
        head, rest = doc.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
