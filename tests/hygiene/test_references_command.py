from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from featureflags import services

SAMPLE = Path(__file__).parent / "sample_project"
VIEWS = SAMPLE / "shop" / "views.py"
TEMPLATE = SAMPLE / "shop" / "templates" / "shop" / "home.html"
CONFIG = SAMPLE / "flags.json"  # a features_config.json-style file: flags defined outside the database


@pytest.fixture
def defined(db):
    for key in ("new_checkout", "pricing_test", "new_search", "new_banner", "unused_flag", "another_unused"):
        services.create_flag(key)


def references(*args: str) -> str:
    out = StringIO()
    call_command("flags", "references", *args, stdout=out)
    return out.getvalue()


def test_the_sample_project_shows_each_kind_of_problem(defined):
    out = references(str(SAMPLE))
    assert "Used but not defined (3):" in out
    assert f"{VIEWS}:12: ghost_checkout (report_error)" in out
    assert f"{VIEWS}:22: typo_flag (flag_required)" in out
    assert f"{TEMPLATE}:4: missing_banner (if_feature)" in out
    assert "Defined but never referenced (2):\n  another_unused\n  unused_flag" in out
    for used in ("new_checkout", "pricing_test", "new_search", "new_banner"):
        assert f": {used} (" not in out and f"  {used}\n" not in out


def test_fail_on_unknown_for_ci(defined):
    with pytest.raises(
        CommandError, match="3 flags are used but not defined: ghost_checkout, missing_banner, typo_flag"
    ):
        references(str(SAMPLE), "--fail-on-unknown")
    # Every key in views.py is defined in the file: CI passes.
    assert "Used but not defined" not in references(str(VIEWS), "--fail-on-unknown", "--defined-in", str(CONFIG))


def test_json_output_and_a_definitions_file(defined):
    data = json.loads(references(str(SAMPLE), "--json", "--defined-in", str(CONFIG)))
    assert sorted(data["undefined"]) == ["missing_banner", "new_banner"]
    assert data["undefined"]["new_banner"] == [{"path": str(TEMPLATE), "line": 3, "kind": "if_feature"}]
    assert data["unreferenced"] == ["retired_flag"]


def test_bad_arguments_are_named(db):
    with pytest.raises(CommandError, match="No such file or directory: nowhere"):
        references("nowhere")
    with pytest.raises(CommandError, match="--defined-in"):
        references(str(SAMPLE), "--defined-in", str(VIEWS))
