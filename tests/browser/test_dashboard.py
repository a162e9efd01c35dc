"""The dashboard in a real browser: an operator's whole journey, and what viewers and kill-only operators may do."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from featureflags import services
from featureflags.models import AuditEntry, Flag, FlagUser
from tests.dashboard.conftest import make_operator

from .conftest import accept_dialogs, log_in, screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def demo_state(page, key: str):
    """The demo home page's cell saying whether ``key`` is on for this visitor."""
    return page.locator("tr", has=page.locator("code", has_text=re.compile(f"^{re.escape(key)}$"))).locator("td").nth(1)


def test_operator_journey(new_context, live_server):
    make_operator("alice", "view_flag", "change_flag", "add_flag", "kill_flag")  # password "pw-alice"
    customer = User.objects.create_user("customer", password="x")
    services.create_flag("search_v2", actor="bob", owner="search", enabled=True, percentage=50, tags=["search"])
    services.create_flag("dark_mode", actor="bob", owner="web", enabled=True, kind="ops", description="Dark theme.")
    services.create_flag("legacy_export", actor="carol", owner="data", kind="permission")

    page = new_context().new_page()
    accept_dialogs(page)
    log_in(page, "alice", "pw-alice")
    expect(page.locator("h1")).to_have_text("Flags")

    # Create a flag.
    page.click("text=+ New flag")
    page.fill("#id_key", "new_checkout")
    page.fill("#id_owner", "payments")
    page.fill("#id_description", "The one-page checkout.")
    page.click("button:has-text('Create flag')")
    expect(page).to_have_url(re.compile(r"/flags/new_checkout/settings/$"))
    expect(page.locator(".state-big")).to_have_text("OFF")

    # Set 30 % (the slider follows the number), then switch on.
    page.fill("#id_percentage", "30")
    expect(page.locator("[data-slider] input[type=range]")).to_have_value("30")
    page.click("button:has-text('Save changes')")
    expect(page.locator(".msg-success")).to_contain_text("percentage")
    page.click("[data-action=switch-on]")
    expect(page.locator(".state-big")).to_have_text("ON · 30 %")
    assert Flag.objects.get(key="new_checkout").percentage == 30
    screenshot(page, "flag-page")

    # Add a user: the customer always gets it.
    page.click("nav.tabs >> text=Users")
    page.fill("#ids", str(customer.pk))
    page.click("button[name=action][value=add]")
    expect(page.locator("[data-count]")).to_have_text("1")
    expect(page.locator(f"tr[data-user='{customer.pk}']")).to_be_visible()
    assert FlagUser.objects.filter(flag__key="new_checkout", user_id=str(customer.pk)).exists()

    # Add a rule and see the tester mark ids.
    page.click("nav.tabs >> text=Rules")
    page.fill("#pattern", "01$")
    page.click("button:has-text('Add rule')")
    expect(page.locator("tr[data-rule='0']")).to_contain_text("01$")
    page.fill("#tester-ids", "443301\n444401\n12345")
    expect(page.locator("[data-results] li[data-id='443301']")).to_have_class(re.compile("match"))
    expect(page.locator("[data-results] li[data-id='444401']")).to_contain_text("rule 1")
    expect(page.locator("[data-results] li[data-id='12345']")).to_have_class(re.compile("nomatch"))

    # Explain a user.
    page.click("nav.tabs >> text=Explain")
    page.fill("#id_user_id", "443301")
    page.click("button:has-text('Explain')")
    expect(page.locator("[data-reason]")).to_have_text("RULE")
    expect(page.locator("[data-decision]")).to_have_text("ON")
    expect(page.locator(".steps li")).not_to_have_count(0)
    screenshot(page, "explain")

    # The customer, in another browser context, sees the flag on on the demo page.
    visitor = new_context(user=customer).new_page()
    visitor.goto("/")
    expect(demo_state(visitor, "new_checkout")).to_have_text("on")

    # Kill it from the list (with confirmation): the customer's page changes.
    page.goto("/flags/")
    screenshot(page, "flag-list")
    page.click("tr[data-flag='new_checkout'] [data-action=kill]")
    expect(page.locator("tr[data-flag='new_checkout'] .state")).to_have_text("OFF")
    visitor.reload()
    expect(demo_state(visitor, "new_checkout")).to_have_text("off")
    kill = AuditEntry.objects.filter(flag_key="new_checkout").first()
    assert (kill.action, kill.actor, kill.source) == ("kill", "alice", "dashboard")

    # Revert from history to the version before the kill; the revert is audited too.
    page.goto("/flags/new_checkout/history/")
    expect(page.locator("tr[data-action=kill]")).to_be_visible()
    before_kill = kill.before["version"]
    page.click(f"[data-revert='{before_kill}']")
    expect(page.locator(".msg-success")).to_contain_text(f"version {before_kill}")
    expect(page.locator(".state-big")).to_have_text("ON · 30 %")
    revert = AuditEntry.objects.filter(flag_key="new_checkout").first()
    assert (revert.action, revert.actor) == ("revert", "alice")
    visitor.reload()
    expect(demo_state(visitor, "new_checkout")).to_have_text("on")


def test_form_errors_show_on_the_field(new_context):
    operator = make_operator("alice", "view_flag", "change_flag")
    services.create_flag("f")
    page = new_context(user=operator).new_page()
    page.goto("/flags/f/")
    page.fill("#id_percentage", "101")
    page.fill("[name=variants-0-name]", "a")
    page.fill("[name=variants-0-weight]", "60")
    expect(page.locator("[data-weight-sum]")).to_have_text("60 / 100")
    page.click("button:has-text('Save changes')")
    expect(page.locator(".errorbox")).to_contain_text("Not saved")
    expect(page.locator(".field.has-error #id_percentage")).to_be_visible()
    expect(page.locator("[data-formset=variants] .errorlist")).to_contain_text("add up to 60")
    assert Flag.objects.get(key="f").percentage == 100


def test_viewer_cannot_change_anything(new_context):
    viewer = make_operator("vera", "view_flag")
    services.create_flag("f", enabled=True, percentage=40, rules=["^9"])
    page = new_context(user=viewer).new_page()
    page.goto("/flags/")
    expect(page.locator("tr[data-flag='f'] .state")).to_have_text("ON · 40 %")
    expect(page.locator("[data-action=kill]")).to_have_count(0)
    expect(page.locator("text=+ New flag")).to_have_count(0)
    page.goto("/flags/f/")
    expect(page.locator("#id_percentage")).to_be_disabled()
    expect(page.locator("button:has-text('Save changes')")).to_have_count(0)
    expect(page.locator("[data-action]")).to_have_count(0)
    page.goto("/flags/f/users/")
    expect(page.locator("form[data-upload]")).to_have_count(0)
    page.goto("/flags/f/rules/")
    expect(page.locator("#pattern")).to_have_count(0)
    page.goto("/flags/f/history/")
    expect(page.locator("[data-revert]")).to_have_count(0)
    # A forged write is refused by the server too.
    response = page.request.post("/flags/f/switch/", form={"enabled": "0"})
    assert response.status == 403
    assert Flag.objects.get(key="f").enabled is True


def test_kill_only_operator_can_kill_but_not_edit(new_context):
    killer = make_operator("kim", "view_flag", "kill_flag")
    services.create_flag("f", enabled=True)
    page = new_context(user=killer).new_page()
    accept_dialogs(page)
    page.goto("/flags/f/")
    expect(page.locator("#id_percentage")).to_be_disabled()
    expect(page.locator("button:has-text('Save changes')")).to_have_count(0)
    page.click("[data-action=kill]")
    expect(page.locator(".state-big")).to_have_text("OFF")
    expect(page.locator("[data-action=switch-on]")).to_have_count(0)
    assert Flag.objects.get(key="f").enabled is False
    assert AuditEntry.objects.filter(flag_key="f").first().actor == "kim"


def test_upload_shows_progress_and_the_new_count(new_context):
    operator = make_operator("alice", "view_flag", "change_flag")
    services.create_flag("f")
    page = new_context(user=operator).new_page()
    page.goto("/flags/f/users/")
    content = "".join(f"u{i}\n" for i in range(20_000)).encode()
    page.set_input_files("#file", files=[{"name": "ids.txt", "mimeType": "text/plain", "buffer": content}])
    page.click("form[data-upload] button[type=submit]")
    expect(page.locator("[data-count]")).to_have_text("20,000")
    expect(page.locator(".msg-success")).to_contain_text("20,000")
    # One bad line: the message says which, and nothing changes.
    page.set_input_files("#file", files=[{"name": "bad.txt", "mimeType": "text/plain", "buffer": b"a\n\x01b\n"}])
    page.click("form[data-upload] button[type=submit]")
    expect(page.locator("[data-status]")).to_contain_text("line 2")
    assert FlagUser.objects.filter(flag__key="f").count() == 20_000
    screenshot(page, "users")


def test_operator_input_is_shown_as_text_never_run(new_context):
    operator = make_operator("alice", "view_flag", "change_flag")
    attack = "<img src=x onerror=\"document.title='pwned'\">"
    services.create_flag("f", description=attack, owner=attack, rules=[attack])
    services.add_users("f", [attack])
    page = new_context(user=operator).new_page()
    for path in ("/flags/", "/flags/f/", "/flags/f/users/", "/flags/f/rules/", "/flags/f/history/"):
        page.goto(path)
        assert page.title() != "pwned", path
        assert page.locator("img[src=x]").count() == 0, path
    page.goto("/flags/f/rules/")
    page.fill("#tester-ids", attack)
    expect(page.locator("[data-results] li")).to_contain_text("onerror")
    assert page.locator("img[src=x]").count() == 0 and page.title() != "pwned"
    page.goto("/flags/f/users/")
    expect(page.locator("td.mono")).to_have_text(attack)
