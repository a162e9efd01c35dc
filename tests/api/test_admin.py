"""Tokens in the admin: created there, the secret shown once, only its hash stored."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from featureflags.api.models import ApiToken

pytestmark = pytest.mark.django_db


def test_create_a_token_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/featureflags_api/apitoken/add/", {"name": "frontend", "scope": "evaluate"}, follow=True
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="frontend")
    shown = [str(m) for m in get_messages(response.wsgi_request)] + [response.content.decode()]
    secret = next(word for text in shown for word in text.split() if word.startswith("ff_"))
    assert ApiToken.objects.authenticate(secret) == token and token.scope == "evaluate"
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert ApiToken.objects.count() == 1


def test_revoke_in_the_admin(admin_client):
    token, secret = ApiToken.objects.issue("old", "read")
    admin_client.post(
        f"/admin/featureflags_api/apitoken/{token.pk}/change/", {"name": "old", "scope": "read", "revoked": "on"}
    )
    assert ApiToken.objects.authenticate(secret) is None
