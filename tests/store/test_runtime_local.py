"""The in-process mirror (no Redis): loading, applying writes, polling the database."""

from __future__ import annotations

import time

import pytest
from django.db.models import F

import featureflags
from featureflags import services
from featureflags.engine import Reason
from featureflags.models import Flag, MirrorState
from featureflags.store import runtime


@pytest.mark.django_db
def test_loads_flags_from_the_database_on_first_use():
    services.create_flag("f", enabled=True, percentage=100)
    assert featureflags.is_enabled("f", "1") is True
    assert runtime.status()["mode"] == "local"
    assert runtime.current().version == MirrorState.objects.get(pk=1).version


@pytest.mark.django_db
def test_writes_are_applied_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_flag("f", enabled=True)
    assert featureflags.is_enabled("f") is True
    with django_capture_on_commit_callbacks(execute=True):
        services.kill("f")
    assert featureflags.evaluate("f").reason is Reason.OFF
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_flag("f")
    assert featureflags.evaluate("f").reason is Reason.UNKNOWN_FLAG


@pytest.mark.django_db
def test_unknown_flag_gives_the_default():
    assert featureflags.is_enabled("nope", "1") is False
    assert featureflags.is_enabled("nope", "1", default=True) is True
    assert featureflags.variant("nope", "1", default="control") == "control"


@pytest.mark.django_db
def test_a_big_list_is_compiled_once_and_reused(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_flag("big", enabled=True, percentage=0)
        services.add_users("big", (str(i) for i in range(20_000)))
    assert featureflags.evaluate("big", "19999").reason is Reason.TARGETED
    assert featureflags.evaluate("big", "20000").reason is Reason.NO_MATCH
    cached = dict(runtime._state.id_sets)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_percentage("big", 100)
    assert featureflags.evaluate("big", "20000").enabled is True
    assert all(runtime._state.id_sets[k] is v for k, v in cached.items())


@pytest.mark.django_db(transaction=True)
def test_the_thread_polls_the_database_for_changes_made_elsewhere(settings):
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "SYNC_THREAD": True, "MAX_STALENESS": 0.1}
    services.create_flag("f", enabled=True, percentage=0)
    assert featureflags.is_enabled("f", "someone") is False
    # Another process's write: the rows change and the version rises, no announcement here.
    MirrorState.objects.filter(pk=1).update(version=F("version") + 1)
    version = MirrorState.objects.get(pk=1).version
    Flag.objects.filter(key="f").update(percentage=100, mirror_version=version)
    deadline = time.monotonic() + 5
    while not featureflags.is_enabled("f", "someone") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert featureflags.is_enabled("f", "someone") is True
    assert runtime.current().version == version


def test_no_database_means_no_flags_and_no_exception(settings):
    # Without the django_db mark every query raises: the snapshot is empty, checks answer.
    assert featureflags.is_enabled("anything", "1") is False
    assert featureflags.evaluate("anything").reason is Reason.UNKNOWN_FLAG
    assert runtime.current().version == -1
