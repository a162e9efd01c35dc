"""The load benchmark's short form runs end to end: gunicorn (4 workers, --preload)
serves both views under wrk with no failed request, and the figures are printed.

The ratio itself is a benchmark figure (benchmarks/README.md), not asserted here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from benchmarks._django import ROOT
from tests.conftest import IN_CI

pytestmark = pytest.mark.slow


def test_load_short_form_runs_without_failed_requests():
    for binary in ("wrk", "redis-server"):
        if shutil.which(binary) is None:
            if IN_CI:
                pytest.fail(f"{binary} is not installed (CI=true: it is required)")
            pytest.skip(f"{binary} is not installed")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "--short", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"load --short: {figures}")
    assert figures["errors"] == 0
    for side in ("flags", "plain"):
        assert figures[side]["requests"] > 0 and figures[side]["errors"] == 0
        assert figures[side]["p99_ms"] >= figures[side]["p50_ms"] > 0
    assert figures["ratio"] > 0
