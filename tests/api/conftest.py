"""Tokens of each scope and API clients that send them."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from featureflags.api.models import ApiToken
from tests.browser.conftest import browser, new_context  # noqa: F401  Chromium per module, shared with tests/browser


@pytest.fixture
def client_for(db):
    """``client_for("read")``: an API client sending a fresh token of that scope."""

    made = iter(range(1_000_000))

    def make(scope: str, name: str | None = None) -> APIClient:
        _token, secret = ApiToken.objects.issue(name or f"{scope}-token-{next(made)}", scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def writer(client_for):
    return client_for("write", "writer")


@pytest.fixture
def reader(client_for):
    return client_for("read", "reader")


@pytest.fixture
def evaluator(client_for):
    return client_for("evaluate", "evaluator")


@pytest.fixture(autouse=True)
def _own_rate_limit_counts(settings):
    """Each test counts rate limits in a cache of its own (never the shared Redis)."""
    settings.CACHES = {
        **settings.CACHES,
        "featureflags-rate-limits": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"rate-limits-{uuid.uuid4().hex}",
        },
    }
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "RATE_LIMIT_CACHE": "featureflags-rate-limits"}
