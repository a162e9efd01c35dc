"""Each in-process benchmark still runs and prints its figures (``--quick``); the figures
themselves are read by people, never asserted (see benchmarks/README.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "engine": "10,000 flags from their Redis form",
    "usage": "evaluations counted in the last 'on' round",
    "exposures": "recording adds",
    "templatetag": "cost per {% if_feature %} tag",
    "request_cost": "returning (signed cookie)",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_benchmark_runs_and_prints_its_figures(name):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert EXPECTED[name] in done.stdout, done.stdout[-3000:]
