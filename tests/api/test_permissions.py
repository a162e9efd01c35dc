"""A token never sees more than its scope; session users need staff rights."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from featureflags import services
from featureflags.api.models import ApiToken

pytestmark = pytest.mark.django_db

READS = [
    "/api/flags/",
    "/api/flags/f/",
    "/api/flags/f/users/",
    "/api/flags/f/users/count/",
    "/api/flags/audit",
    "/api/flags/f/rules/",
    "/api/flags/f/variants/",
    "/api/flags/f/constraints/",
]
WRITES = [
    ("post", "/api/flags/", {"key": "g"}),
    ("patch", "/api/flags/f/", {"version": 2, "enabled": False}),
    ("delete", "/api/flags/f/", None),
    ("post", "/api/flags/f/users/", {"users": ["1"]}),
    ("put", "/api/flags/f/users/", {"users": ["1"]}),
    ("post", "/api/flags/f/users/remove/", {"users": ["1"]}),
    ("put", "/api/flags/f/rules/", {"version": 2, "rules": ["x"]}),
]


@pytest.fixture(autouse=True)
def flag():
    services.create_flag("f", enabled=True)


@pytest.mark.parametrize("path", READS)
def test_reads_need_read_scope(client_for, path):
    assert client_for("evaluate").get(path).status_code == 403
    assert client_for("read").get(path).status_code == 200
    assert client_for("write").get(path).status_code == 200
    assert APIClient().get(path).status_code == 401


@pytest.mark.parametrize("method,path,body", WRITES)
def test_writes_need_write_scope(client_for, method, path, body):
    for scope in ("evaluate", "read"):
        response = getattr(client_for(scope), method)(path, body, format="json")
        assert response.status_code == 403, (scope, response.content)
        assert response.json()["error"] == "permission_denied"
    # Nothing changed: the flag is still at the version its creation gave it.
    assert client_for("write").get("/api/flags/f/").json()["version"] == 2
    assert getattr(client_for("write"), method)(path, body, format="json").status_code in (200, 201, 204)


def test_evaluate_scope_may_evaluate(client_for):
    assert client_for("evaluate").post("/api/flags/evaluate", {"keys": ["f"]}, format="json").status_code == 200
    assert client_for("evaluate").get("/api/flags/client").status_code == 200
    assert APIClient().post("/api/flags/evaluate", {}, format="json").status_code == 401


def test_unknown_and_revoked_tokens_are_refused(client_for):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ff_nope")
    assert client.get("/api/flags/").status_code == 401
    token, secret = ApiToken.objects.issue("gone", "write")
    token.revoked = True
    token.save()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.get("/api/flags/")
    assert response.status_code == 401 and response.json()["error"] == "authentication_failed"


def test_tokens_are_stored_hashed():
    token, secret = ApiToken.objects.issue("ci", "read")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in [str(v) for v in stored.values()]
    assert ApiToken.objects.authenticate(secret) == token
    assert ApiToken.objects.authenticate(secret + "x") is None


def test_session_users_need_staff_and_permissions():
    client = APIClient()
    user = User.objects.create_user("ann", password="pw")
    client.force_login(user)
    assert client.get("/api/flags/").status_code == 403
    assert client.get("/api/flags/client").status_code == 200  # her own decisions
    assert (
        client.post("/api/flags/evaluate", {"context": {"user_id": "1"}}, format="json").status_code == 403
    )  # others'

    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_flag"))
    client.force_login(User.objects.get(pk=user.pk))
    assert client.get("/api/flags/").status_code == 200
    assert client.post("/api/flags/evaluate", {"context": {"user_id": "1"}}, format="json").status_code == 200
    assert client.post("/api/flags/", {"key": "g"}, format="json").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_flag"))
    client.force_login(User.objects.get(pk=user.pk))
    client.enforce_csrf_checks = False
    # change_flag alone neither creates nor deletes (issue 15): add_flag and delete_flag do.
    assert client.post("/api/flags/", {"key": "g"}, format="json").status_code == 403
    assert client.delete("/api/flags/f/").status_code == 403
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_flag", "delete_flag"]))
    client.force_login(User.objects.get(pk=user.pk))
    response = client.post("/api/flags/", {"key": "g"}, format="json")
    assert response.status_code == 201
    assert client.delete("/api/flags/g/").status_code == 204
    from featureflags.models import AuditEntry

    assert AuditEntry.objects.get(flag_key="g", action="create").actor == "ann"
