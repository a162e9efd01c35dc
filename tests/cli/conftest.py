"""Run ``manage.py flags ...`` in-process and capture what it prints."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.fixture
def flags_cmd(db):
    def run(*args: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command("flags", "--actor", "tester", *args, stdout=out, stderr=err)
        return out.getvalue()

    return run
