"""gunicorn.conf.py's CPU check, read from a cpuinfo file of the test's making."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ["avx2", "fma", "bmi2"]
OTHER_FLAGS = "fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ssse3 sse4_1 sse4_2 avx bmi1"


def load_config(tmp_path: Path, cpuinfo: str) -> subprocess.CompletedProcess[str]:
    """Evaluates gunicorn.conf.py as gunicorn does, reading the CPU flags from `cpuinfo`."""
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    return subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"],
        cwd=ROOT,
        env={"IMAGE_INSIGHTS_CPUINFO": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def cpuinfo_with(flags: list[str]) -> str:
    line = " ".join([*OTHER_FLAGS.split(), *flags])
    return f"processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: {line}\n\nprocessor\t: 1\n"


def test_starts_on_a_cpu_with_avx2_fma_and_bmi2(tmp_path: Path) -> None:
    result = load_config(tmp_path, cpuinfo_with(REQUIRED))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", REQUIRED)
def test_refuses_a_cpu_without_one_of_them(tmp_path: Path, missing: str) -> None:
    result = load_config(tmp_path, cpuinfo_with([flag for flag in REQUIRED if flag != missing]))
    assert result.returncode == 1
    assert f"this CPU lacks {missing.upper()}, which this build requires" in result.stderr


def test_names_every_missing_extension(tmp_path: Path) -> None:
    result = load_config(tmp_path, cpuinfo_with([]))
    assert result.returncode == 1
    assert "this CPU lacks AVX2, FMA, BMI2," in result.stderr


def test_a_flag_must_match_whole(tmp_path: Path) -> None:
    # "avx2" inside another flag's name (avx2_vnni) does not count as AVX2.
    result = load_config(tmp_path, cpuinfo_with(["avx2_vnni", "fma", "bmi2"]))
    assert result.returncode == 1
    assert "lacks AVX2," in result.stderr


def test_starts_when_cpuinfo_lists_no_flags(tmp_path: Path) -> None:
    # A cpuinfo without a flags line says nothing either way (other architectures' format).
    result = load_config(tmp_path, "processor\t: 0\nmodel name\t: unknown\n")
    assert result.returncode == 0, result.stderr
