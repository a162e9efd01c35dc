"""The engine package: its public names, and that it stays pure Python (no Django)."""

import subprocess
import sys
from pathlib import Path

import featureflags.engine as engine

ROOT = Path(__file__).resolve().parents[2]


def test_public_names():
    assert set(engine.__all__) == {
        "CompiledFlag",
        "Context",
        "Decision",
        "DefinitionError",
        "Explanation",
        "InvalidDefinition",
        "Reason",
        "Snapshot",
        "Step",
        "validate_definition",
        "validate_definitions",
    }
    assert all(hasattr(engine, name) for name in engine.__all__)


def test_importing_and_evaluating_never_imports_django():
    code = (
        "import sys\n"
        "from featureflags.engine import Context, Snapshot\n"
        "s = Snapshot.from_definitions([{'key': 'f', 'enabled': True, 'percentage': 50, 'rules': ['1$'],"
        " 'constraints': [{'attribute': 'v', 'operator': 'SEMVER_GT', 'values': ['1.0.0']}]}])\n"
        "s.explain('f', Context(user_id='41', attributes={'v': '2.0.0'}))\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
