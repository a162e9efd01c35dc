#!/usr/bin/env bash
# Creates .venv-bench: the project's requirements plus the peers of
# benchmarks/requirements-peers.txt, so the test venv never holds them.
#   bash benchmarks/setup-peers.sh && .venv-bench/bin/python -m benchmarks.peers
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv-bench/bin/python ]; then
  "$PYTHON" -m venv .venv-bench
fi
.venv-bench/bin/pip install -q --upgrade pip
.venv-bench/bin/pip install -q -r requirements.txt -r benchmarks/requirements-peers.txt
.venv-bench/bin/python -c "import waffle, flags, hanoi; print('peers installed:', waffle.__name__, flags.__name__, hanoi.__name__)"
