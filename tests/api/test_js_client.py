"""featureflags/static/featureflags/featureflags.js in headless Chromium against the live server."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from featureflags import secure_hash, services
from featureflags.api.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = "/static/featureflags/featureflags.js"


@pytest.fixture
def flags():
    services.create_flag("new_ui", enabled=True, percentage=0, client_side=True)
    services.add_users("new_ui", ["42"])
    services.create_flag("checkout", enabled=True, variants=["blue", "green"], client_side=True)
    services.create_flag("server_only", enabled=True)  # not client-side: the browser never sees it
    _token, secret = ApiToken.objects.issue("browser", "evaluate")
    return {"key": secret, "hash42": secure_hash("42"), "hash7": secure_hash("7")}


def _page(new_context, user=None):
    page = new_context(user=user).new_page()
    page.goto("/static/featureflags/featureflags.js")  # any page of the site: the script runs same-origin
    page.add_script_tag(url=SCRIPT)
    return page


def test_is_enabled_and_variant_with_a_key(new_context, flags):
    page = _page(new_context)
    page.evaluate(
        "f => { window.flags = featureflags.init({key: f.key, context: {user_id: '42'}, userHash: f.hash42, "
        "refreshInterval: 0}); return window.flags.ready; }",
        flags,
    )
    assert page.evaluate("flags.isEnabled('new_ui')") is True
    assert page.evaluate("flags.variant('checkout')") in ("blue", "green")
    assert page.evaluate("flags.isEnabled('missing')") is False
    assert page.evaluate("flags.isEnabled('missing', true)") is True
    assert page.evaluate("flags.variant('new_ui', 'control')") == "control"
    assert page.evaluate("Object.keys(flags.all()).sort()") == ["checkout", "new_ui"]
    other = page.evaluate(
        "f => { const c = featureflags.init({key: f.key, context: {user_id: '7'}, userHash: f.hash7, "
        "refreshInterval: 0}); return c.ready.then(() => c.isEnabled('new_ui')); }",
        flags,
    )
    assert other is False


def test_refreshes_on_an_interval_and_uses_the_etag(new_context, flags):
    page = _page(new_context)
    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if "/api/flags/client" in r.url else None)
    page.evaluate(
        "f => { window.changes = 0; window.flags = featureflags.init({key: f.key, context: {user_id: '42'}, "
        "userHash: f.hash42, refreshInterval: 0.2}); flags.onChange(() => window.changes++); return flags.ready; }",
        flags,
    )
    assert page.evaluate("flags.isEnabled('new_ui')") is True
    page.wait_for_timeout(600)
    assert 304 in statuses  # nothing changed: the refreshes were answered without a body
    services.kill("new_ui", actor="test")
    page.wait_for_function("() => flags.isEnabled('new_ui') === false", timeout=5000)
    assert page.evaluate("window.changes") == 2
    page.evaluate("flags.stop()")


def test_session_user_without_a_key(new_context, flags):
    user = User.objects.create_user("ann", password="pw")
    services.add_users("new_ui", [str(user.pk)])
    page = _page(new_context, user=user)
    page.evaluate("() => { window.flags = featureflags.init({refreshInterval: 0}); return flags.ready; }")
    assert page.evaluate("flags.isEnabled('new_ui')") is True
    assert page.evaluate("flags.error") is None


def test_a_failed_refresh_keeps_the_last_results(new_context, flags):
    page = _page(new_context)
    page.evaluate(
        "f => { window.flags = featureflags.init({key: f.key, context: {user_id: '42'}, userHash: f.hash42, "
        "refreshInterval: 0}); return flags.ready; }",
        flags,
    )
    page.route("**/api/flags/client*", lambda route: route.fulfill(status=503, body="down"))
    page.evaluate("flags.refresh()")
    assert page.evaluate("flags.isEnabled('new_ui')") is True
    assert "503" in page.evaluate("String(flags.error)")


def test_without_the_signature_the_key_gets_nothing(new_context, flags):
    page = _page(new_context)
    page.evaluate(
        "f => { window.flags = featureflags.init({key: f.key, context: {user_id: '42'}, refreshInterval: 0}); "
        "return flags.ready; }",
        flags,
    )
    assert page.evaluate("flags.isEnabled('new_ui')") is False
    assert "403" in page.evaluate("String(flags.error)")


def test_value_serves_the_typed_value_of_a_client_side_flag(new_context, flags):
    layouts = [{"name": "single", "value": "single_page"}, {"name": "two", "value": {"steps": 2}}]
    services.create_flag("checkout_layout", enabled=True, value_type="json", variants=layouts, client_side=True)
    services.update_flag("checkout_layout", {"pinned_variants": {"42": "two"}})
    page = _page(new_context)
    page.evaluate(
        "f => { window.flags = featureflags.init({key: f.key, context: {user_id: '42'}, userHash: f.hash42, "
        "refreshInterval: 0}); return window.flags.ready; }",
        flags,
    )
    assert page.evaluate("flags.value('checkout_layout')") == {"steps": 2}
    # A copy: changing the answer does not change the next one.
    assert page.evaluate(
        "(() => { flags.value('checkout_layout').steps = 9; return flags.value('checkout_layout'); })()"
    ) == {"steps": 2}
    assert page.evaluate("flags.value('new_ui', false)") is True  # a boolean flag without values: on
    assert page.evaluate("flags.value('server_only', 'fallback')") == "fallback"  # never shown to browsers
    assert page.evaluate("flags.value('missing')") is None
