"""The last-known-good file: written whole, read back, and never taken from another user."""

from __future__ import annotations

import os

import pytest

from featureflags.store import lkg
from featureflags.store.changes import Head

HEAD = Head("d1", 7, "t7")
DEFINITIONS = {"new_ui": {"key": "new_ui", "enabled": True, "percentage": 30}}


@pytest.fixture
def snapshot_file(settings, tmp_path):
    target = tmp_path / "lkg.json"
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SNAPSHOT_FILE": str(target)}
    return target


def test_written_then_read_back(snapshot_file):
    assert lkg.write(HEAD, DEFINITIONS) is True
    head, definitions = lkg.read()
    assert head == HEAD
    assert definitions["new_ui"]["enabled"] is True and definitions["new_ui"]["percentage"] == 30


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_a_file_others_may_write_is_not_served(snapshot_file):
    lkg.write(HEAD, DEFINITIONS)
    os.chmod(snapshot_file, 0o666)
    assert lkg.read() is None
    os.chmod(snapshot_file, 0o600)
    assert lkg.read() is not None
