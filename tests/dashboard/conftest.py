"""Operators with different permissions, and a logged-in client for each."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Operators log in with passwords; a slow hasher would cost a second a user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_operator(username: str, *codenames: str, staff: bool = True) -> User:
    user = User.objects.create_user(username, password="pw-" + username, is_staff=staff)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="featureflags", codename__in=codenames))
    return user


@pytest.fixture
def editor(db):
    return make_operator("editor", "view_flag", "change_flag", "add_flag")


@pytest.fixture
def viewer(db):
    return make_operator("viewer", "view_flag")


@pytest.fixture
def killer(db):
    return make_operator("killer", "view_flag", "kill_flag")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def login(client, user):
    client.force_login(user)
    return client
