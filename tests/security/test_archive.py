"""Deleting is archiving: the flag and its user lists leave evaluation and every list, can be
restored by someone allowed to delete, and are purged only after PURGE_ARCHIVED_AFTER_DAYS
or by an explicit purge. Permissions come from one table on every surface."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from featureflags import permissions, services
from featureflags.engine import Context
from featureflags.models import AuditEntry, Flag, FlagUser
from featureflags.store import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed():
    services.create_flag("listed", enabled=True, percentage=0)
    services.add_users("listed", [str(i) for i in range(1000)])
    runtime.refresh()
    return "listed"


def staff(*codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user("-".join(codenames) or "nobody", is_staff=staff)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="featureflags", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def test_archive_keeps_the_lists_and_restore_brings_the_flag_back_off(listed):
    assert runtime.current().is_enabled("listed", Context(user_id="5")) is True
    services.delete_flag("listed", actor="alice")
    runtime.refresh()
    assert runtime.current().evaluate("listed", Context(user_id="5")).reason.value == "UNKNOWN_FLAG"
    assert not Flag.objects.filter(key="listed").exists()
    assert Flag.all_objects.get(key="listed").archived_by == "alice"
    assert FlagUser.objects.filter(flag__key="listed").count() == 1000  # kept until purged
    with pytest.raises(services.FlagNotFound):
        services.update_flag("listed", {"enabled": True})
    with pytest.raises(ValidationError, match="archived"):
        services.create_flag("listed")
    restored = services.restore_flag("listed", actor="bob")
    assert restored.enabled is False  # a restore never switches anything on
    services.set_enabled("listed", True)
    runtime.refresh()
    assert runtime.current().is_enabled("listed", Context(user_id="5")) is True
    actions = list(AuditEntry.objects.filter(flag_key="listed").order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["delete", "restore", "enable"]


def test_purge_removes_the_flag_and_its_lists_for_good(listed):
    with pytest.raises(services.FlagNotFound):
        services.purge_flag("listed")  # only archived flags
    services.delete_flag("listed")
    assert services.purge_flag("listed", actor="carol") == 1000
    assert not Flag.all_objects.filter(key="listed").exists()
    assert not FlagUser.objects.exists()
    purge = AuditEntry.objects.get(flag_key="listed", action="purge")
    assert purge.before["user_ids"] == 1000
    services.create_flag("listed")  # the key is free again


def test_purge_after_the_stated_time(listed, settings, capsys):
    services.create_flag("recent")
    services.delete_flag("listed")
    services.delete_flag("recent")
    Flag.all_objects.filter(key="listed").update(archived_at=timezone.now() - timedelta(days=31))
    call_command("flags", "purge", "--expired")
    assert "Purged 1 flag(s): listed." in capsys.readouterr().out
    assert list(Flag.all_objects.values_list("key", flat=True)) == ["recent"]
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "PURGE_ARCHIVED_AFTER_DAYS": None}
    with pytest.raises(CommandError, match="only one by one"):
        call_command("flags", "purge", "--expired")
    call_command("flags", "purge", "recent")
    assert not Flag.all_objects.exists()


def test_importing_an_archived_flag_restores_it(listed):
    from featureflags.formats.loading import load

    services.delete_flag("listed")
    assert load({"listed": {"enabled": True, "percentage": 5}}) == {"listed": "updated"}
    flag = Flag.objects.get(key="listed")
    assert (flag.enabled, flag.percentage, FlagUser.objects.filter(flag=flag).count()) == (True, 5, 1000)


def test_cli_delete_and_restore(listed, capsys):
    call_command("flags", "delete", "listed")
    call_command("flags", "purge", "--list")
    assert "listed" in capsys.readouterr().out
    call_command("flags", "restore", "listed")
    assert Flag.objects.filter(key="listed").exists()
    with pytest.raises(CommandError, match="No flag"):
        call_command("flags", "restore", "listed")


def test_prerequisites_guard_archive_restore_and_purge():
    services.create_flag("parent")
    services.create_flag("child", prerequisites=["parent"])
    with pytest.raises(ValidationError, match="prerequisite of child"):
        services.delete_flag("parent")
    services.delete_flag("child")
    services.delete_flag("parent")
    with pytest.raises(ValidationError, match="purge those first"):
        services.purge_flag("parent")
    with pytest.raises(ValidationError, match="restore those first"):
        services.restore_flag("child")
    services.restore_flag("parent")
    services.restore_flag("child")


def test_the_api_archives_lists_and_restores(listed, client_for):
    writer = client_for("write")
    assert writer.delete("/api/flags/listed/").status_code == 204
    assert writer.get("/api/flags/listed/").status_code == 404
    assert [f["key"] for f in writer.get("/api/flags/").json()["results"]] == []
    assert [f["key"] for f in writer.get("/api/flags/?archived=true").json()["results"]] == ["listed"]
    restored = writer.post("/api/flags/listed/restore/")
    assert restored.status_code == 200 and restored.json()["user_count"] == 1000


# -- one permission table, every surface ------------------------------------------------------------------


@pytest.mark.parametrize(
    "codenames,expected",
    [
        ((), set()),
        (("view_flag",), {"view"}),
        (("change_flag",), {"view", "change", "kill"}),
        (("kill_flag",), {"kill"}),
        (("add_flag",), {"create"}),
        (("delete_flag",), {"delete", "restore", "purge"}),
    ],
)
def test_the_permission_table(codenames, expected):
    user = staff(*codenames)
    assert {action for action in permissions.ACTIONS if permissions.allowed(user, action)} == expected
    user.is_staff = False
    assert not any(permissions.allowed(user, action) for action in permissions.ACTIONS)


def test_change_alone_neither_creates_nor_deletes_in_the_session_api(listed):
    client = APIClient()
    client.force_login(staff("change_flag"))
    assert client.post("/api/flags/", {"key": "new"}, format="json").status_code == 403
    assert client.delete("/api/flags/listed/").status_code == 403
    assert Flag.objects.filter(key="listed").exists()


def test_the_admin_archives_and_asks_for_delete_flag(listed):
    client = Client()
    client.force_login(staff("view_flag", "change_flag"))
    pk = Flag.objects.get(key="listed").pk
    assert client.post(f"/admin/featureflags/flag/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/featureflags/flag/add/").status_code == 403
    client.force_login(staff("view_flag", "change_flag", "delete_flag"))
    page = client.get(f"/admin/featureflags/flag/{pk}/delete/")
    assert "restorable until purged" in page.content.decode()
    assert client.post(f"/admin/featureflags/flag/{pk}/delete/", {"post": "yes"}).status_code == 302
    assert Flag.all_objects.get(pk=pk).archived_at is not None
    assert FlagUser.objects.filter(flag_id=pk).count() == 1000
    changelist = "/admin/featureflags/flag/?archived=yes"
    assert "listed" in client.get(changelist).content.decode()
    assert "listed" not in client.get("/admin/featureflags/flag/").content.decode()
    action = {"action": "restore_archived", "_selected_action": [pk]}
    assert client.post(changelist, action).status_code == 302
    assert Flag.objects.filter(pk=pk).exists()
    services.delete_flag("listed")
    client.post(changelist, {"action": "purge_archived", "_selected_action": [pk]})
    assert not Flag.all_objects.filter(pk=pk).exists()


def test_the_dashboard_create_needs_add_flag():
    client = Client()
    client.force_login(staff("view_flag", "change_flag"))
    assert client.post("/flags/new/", {"key": "made", "kind": "release"}).status_code == 403
    client.force_login(staff("view_flag", "add_flag"))
    assert client.post("/flags/new/", {"key": "made", "kind": "release"}).status_code == 302


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)  # the mirror publishes after commit
def test_archive_and_restore_travel_through_redis(redis_flags, redis_url, key_prefix):
    import json

    import redis

    from featureflags.store import changes
    from featureflags.store.redis_mirror import RedisMirror

    client = redis.Redis.from_url(redis_url)
    services.create_flag("mirrored", enabled=True, client_side=True)
    defs_key = RedisMirror(client, key_prefix, changes.head().deployment).defs_key
    assert json.loads(client.hget(defs_key, "mirrored"))["client_side"] is True
    services.delete_flag("mirrored")
    assert client.hget(defs_key, "mirrored") is None
    assert runtime.current().evaluate("mirrored").reason.value == "UNKNOWN_FLAG"
    services.restore_flag("mirrored")
    definition = json.loads(client.hget(defs_key, "mirrored"))
    assert (definition["enabled"], definition["client_side"]) == (False, True)


def test_a_system_check_warns_about_protected_client_attributes(settings):
    from featureflags.checks import check_client_attributes

    assert check_client_attributes() == []
    settings.FEATUREFLAGS = {**settings.FEATUREFLAGS, "CLIENT_ATTRIBUTES": ["region", "is_staff", "ip"]}
    (warning,) = check_client_attributes()
    assert warning.id == "featureflags.W004" and "ip, is_staff" in warning.msg
