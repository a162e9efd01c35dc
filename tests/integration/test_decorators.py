"""flag_required, variant_view, FlagRequiredMixin, flagged_path (sync and async), check, choose."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from featureflags.context import current_context
from featureflags.decorators import FlagDisabled, check, choose
from featureflags.engine import Context

pytestmark = pytest.mark.urls("tests.integration.urls")


@pytest.mark.parametrize("url", ["/required/", "/mixin/", "/flagged/"])
def test_views_behind_a_flag_404_when_off(client, db, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url,body", [("/required/", b"page"), ("/mixin/", b"mixin"), ("/flagged/", b"page")])
def test_views_behind_a_flag_when_on(client, make_flag, url, body):
    make_flag("new_ui")
    response = client.get(url)
    assert response.status_code == 200 and response.content == body


def test_redirect_and_fallback(client, db):
    response = client.get("/redirect/")
    assert response.status_code == 302 and response["Location"] == "/elsewhere/"
    assert client.get("/fallback/").content == b"old page"


def test_async_mixin(make_flag):
    response = async_to_sync(AsyncClient().get)("/mixin-async/")
    assert response.status_code == 302
    make_flag("new_ui")
    assert async_to_sync(AsyncClient().get)("/mixin-async/").content == b"async mixin"


def test_variant_view(client, make_flag):
    assert client.get("/variant/").content == b"old page"  # off: the default view
    make_flag("exp", variants=[{"name": "green", "weight": 1}])
    assert client.get("/variant/").content == b"green"
    assert async_to_sync(AsyncClient().get)("/variant-async/").content == b"async green"


def test_variant_view_without_default_404s(db):
    assert async_to_sync(AsyncClient().get)("/variant-async/").status_code == 404


def test_check_by_argument_name_position_and_current_context(make_flag):
    make_flag("fast", percentage=0, users=["1"])

    @check("fast", arg="user")
    def search(query, user):
        return f"fast {query}"

    assert search("q", user="1") == "fast q"
    assert search("q", "1") == "fast q"
    with pytest.raises(FlagDisabled):
        search("q", "2")

    @check("fast", arg="user", fallback=lambda query, user: "slow")
    def search2(query, user):
        return "fast"

    assert search2("q", "2") == "slow"

    @check("fast")
    def current():
        return "yes"

    token = current_context.set(Context("1"))
    try:
        assert current() == "yes"
    finally:
        current_context.reset(token)
    assert current() == "yes"  # no current context: the global switch (on)


def test_check_async(make_flag):
    make_flag("fast", percentage=0)

    @check("fast", arg=0)
    async def work(user):
        return "done"

    with pytest.raises(FlagDisabled):
        asyncio.run(work("9"))


def test_choose(make_flag):
    make_flag("fast", percentage=0, users=["1"])
    assert choose("fast", on="new", off="old", who="1") == "new"
    assert choose("fast", on="new", off="old", who="2") == "old"
    assert choose("missing", on="new", off="old") == "old"
