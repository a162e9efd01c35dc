"""The engine package: its public names, and that it stays pure Python (no Django)."""

import subprocess
import sys
from pathlib import Path

import featureflags.engine as engine

ROOT = Path(__file__).resolve().parents[2]


def test_public_names():
    assert set(engine.__all__) == {
        "CompiledFlag",
        "CompiledSegment",
        "Context",
        "Decision",
        "DefinitionError",
        "Explanation",
        "InvalidDefinition",
        "Reason",
        "Snapshot",
        "Step",
        "is_v2",
        "to_v2",
        "validate_definition",
        "validate_definitions",
        "validate_flag",
        "validate_flags",
        "validate_segment",
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


def test_no_import_cycle_inside_the_engine():
    """Module-level and function-level relative imports of engine/ form no cycle."""
    import ast

    package = ROOT / "featureflags" / "engine"
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text())
        graph[path.stem] = {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
            for alias in node.names
        }
    graph.pop("__init__")

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for child in graph.get(start, ()):
            if child == target or (child not in seen and reaches(child, target, seen | {child})):
                return True
        return False

    assert "snapshot" not in graph["by_id"] and "by_id" in graph["snapshot"]
    assert [m for m in graph if reaches(m, m, set())] == []
