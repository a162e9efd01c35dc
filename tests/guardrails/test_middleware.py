from __future__ import annotations

import pytest

from featureflags.guardrails import counters
from featureflags.guardrails.attribution import evaluated_on

MIDDLEWARE = "featureflags.guardrails.middleware.ErrorGuardrailMiddleware"


@pytest.fixture
def site(settings, make_flag, client):
    settings.ROOT_URLCONF = "tests.guardrails.urls"
    settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]
    make_flag("watched", error_threshold=10)
    make_flag("unwatched")
    make_flag("watched_off", enabled=False, error_threshold=10)
    client.raise_request_exception = False
    return client


def test_an_error_in_a_request_counts_against_the_flags_on_in_it(site):
    assert site.get("/flags/?fail=1").status_code == 500
    assert counters.pending() == {("errors", "watched"): 1}
    assert site.get("/flags/?fail=1").status_code == 500
    assert counters.pending() == {("errors", "watched"): 2}
    assert evaluated_on.get() is None  # nothing leaks out of the request


def test_no_error_or_an_ignored_exception_counts_nothing(site):
    assert site.get("/flags/").status_code == 200
    assert site.get("/flags/?fail=404").status_code == 404
    assert site.get("/plain/").status_code == 500  # no flag evaluated on
    assert counters.pending() == {}


def test_opted_in_flags_and_exception_classes_are_configurable(site, settings):
    settings.FEATUREFLAGS = {
        **settings.FEATUREFLAGS,
        "GUARDRAIL_FLAGS": ["unwatched", "watched"],
        "GUARDRAIL_EXCEPTIONS": ["builtins.KeyError"],
    }
    assert site.get("/flags/?fail=1").status_code == 500  # a RuntimeError: not counted
    assert counters.pending() == {}
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "GUARDRAIL_EXCEPTIONS": ["builtins.RuntimeError"]}
    assert site.get("/flags/?fail=1").status_code == 500
    # "unwatched" opted in but has no error_threshold: nothing to count against.
    assert counters.pending() == {("errors", "watched"): 1}


def test_an_async_view_error_counts_too(site, settings):
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    client = AsyncClient(raise_request_exception=False)
    assert async_to_sync(client.get)("/async/").status_code == 500
    assert counters.pending() == {("errors", "watched"): 1}
