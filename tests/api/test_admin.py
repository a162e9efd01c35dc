"""Tokens in the admin: the secret shown once, on the page that created it (never in a cookie),
only its hash stored; creation and revocation audited."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages

from featureflags.api.models import ApiToken
from featureflags.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_create_a_token_in_the_admin(admin_client):
    response = admin_client.post("/admin/featureflags_api/apitoken/add/", {"name": "frontend", "scope": "evaluate"})
    assert response.status_code == 200  # the page itself, no redirect carrying the secret
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(name="frontend")
    secret = re.search(r'id="token-secret"[^>]*>(ff_[^<]+)<', response.content.decode()).group(1)
    assert ApiToken.objects.authenticate(secret) == token and token.scope == "evaluate"
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert not list(get_messages(response.wsgi_request))
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert all(secret not in morsel.value for morsel in admin_client.cookies.values())
    again = admin_client.get(f"/admin/featureflags_api/apitoken/{token.pk}/change/")
    assert secret not in again.content.decode()  # shown once
    entry = AuditEntry.objects.get(action="token_create")
    assert entry.source == "admin" and entry.source_detail == "token:frontend" and secret not in str(entry.after)


def test_revoke_in_the_admin(admin_client):
    token, secret = ApiToken.objects.issue("old", "read")
    admin_client.post(
        f"/admin/featureflags_api/apitoken/{token.pk}/change/", {"name": "old", "scope": "read", "revoked": "on"}
    )
    assert ApiToken.objects.authenticate(secret) is None
    revoke = AuditEntry.objects.get(action="token_revoke")
    assert revoke.actor == "admin" and revoke.before["revoked"] is False and revoke.after["revoked"] is True


def test_delete_in_the_admin_is_audited(admin_client):
    token, _secret = ApiToken.objects.issue("gone", "write")
    admin_client.post(f"/admin/featureflags_api/apitoken/{token.pk}/delete/", {"post": "yes"})
    assert not ApiToken.objects.exists()
    assert AuditEntry.objects.filter(action="token_delete", source_detail="token:gone").exists()
