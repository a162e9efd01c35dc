"""Tokens of each scope and API clients that send them."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from featureflags.api.models import ApiToken
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _unavailable, new_context  # noqa: F401  shared Chromium setup


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


@pytest.fixture(scope="module")
def browser():
    """Chromium for one module only: while Playwright's sync API is open, this thread has a running
    event loop, and a later test's ``asyncio.run()`` would fail."""
    import os

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
