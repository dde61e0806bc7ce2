"""Collects each benchmark's median and prints, at the end of the run, the speed ratios of
the Rust core and of `analyze()` against the NumPy reference, all from this one run.

Nothing here asserts on time: the machine is shared and noisy, so the table reports
medians and ratios, and says which of the core's speed targets (docs/BENCHMARKS.md) this run met.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benches.inputs import FAST, REFERENCE, TARGETS

#: case -> {"fast" | "reference": median seconds}, plus "bytes" for throughput.
_RESULTS = pytest.StashKey[dict[str, dict[str, float]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = {}


@pytest.fixture
def record(request: pytest.FixtureRequest, benchmark) -> Callable[..., None]:
    """Call after `benchmark(...)`: files its median under `case` as the fast or the
    reference side. `pixel_bytes` adds a throughput column."""

    def record(case: str, side: str, pixel_bytes: int | None = None) -> None:
        if benchmark.stats is None:  # --benchmark-disable: the function ran once, untimed
            return
        entry = request.config.stash[_RESULTS].setdefault(case, {})
        entry[side] = benchmark.stats.stats.median
        if pixel_bytes is not None:
            entry["bytes"] = pixel_bytes

    return record


@pytest.fixture
def measure(benchmark) -> Callable[..., object]:
    """`measure(rounds, fn, *args)`: with `rounds`, exactly that many timed calls after one
    warm-up (the slow cases, where pytest-benchmark's default of 5 rounds leaves the median
    at the mercy of the neighbours' load); without, pytest-benchmark's own calibration."""

    def measure(rounds: int | None, fn: Callable[..., object], *args: object) -> object:
        if rounds is None:
            return benchmark(fn, *args)
        return benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1, warmup_rounds=1)

    return measure


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, {})
    rows = [(case, r) for case, r in results.items() if FAST in r and REFERENCE in r]
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("speed ratios (medians of this run)")
    write(f"{'case':<48} {'fast ms':>10} {'reference ms':>13} {'ratio':>8}  target")
    for case, r in rows:
        ratio = r[REFERENCE] / r[FAST]
        target = TARGETS.get(case)
        verdict = ""
        if target is not None:
            verdict = f">= {target:g}x {'met' if ratio >= target else 'MISSED'}"
        write(
            f"{case:<48} {r[FAST] * 1e3:>10.3f} {r[REFERENCE] * 1e3:>13.3f} "
            f"{ratio:>7.1f}x  {verdict}"
        )
    for case, r in rows:
        if "bytes" in r:
            write(f"{case}: core throughput {r['bytes'] / r[FAST] / 1e9:.2f} GB/s of pixel bytes")
