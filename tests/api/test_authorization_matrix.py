"""Who may call what, generated from the URLconf: every endpoint under ``api/`` and each of
its methods, against every principal, checked against the table below.

An endpoint (or a method) the URLconf has and the table lacks fails the test, and so
does an entry for one that no longer exists: a new endpoint cannot ship unjudged.
"Allowed" means the request got past authentication and authorisation (any status but
401 and 403: a 400 for the made-up body, a 404, a 409 are all the view's own answer).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from featureflags import services
from featureflags.api.models import ApiToken

pytestmark = pytest.mark.django_db

SESSIONS = ("plain", "staff_none", "staff_view", "staff_change", "staff_kill", "staff_add", "staff_delete", "superuser")
TOKENS = ("token_evaluate", "token_read", "token_write", "token_revoked", "token_garbage")
PRINCIPALS = ("anonymous",) + SESSIONS + TOKENS

VIEWERS = {"staff_view", "staff_change", "superuser", "token_read", "token_write"}
CHANGERS = {"staff_change", "superuser", "token_write"}
CREATORS = {"staff_add", "superuser", "token_write"}
DELETERS = {"staff_delete", "superuser", "token_write"}
SIGNED_IN = set(SESSIONS)
EVERYONE = set(PRINCIPALS)

# (route, method) -> the principals allowed. Routes as the URLconf spells them.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("api/flags/", "GET"): VIEWERS,
    ("api/flags/", "POST"): CREATORS,
    ("api/flags/evaluate", "POST"): VIEWERS | {"token_evaluate"},
    ("api/flags/client", "GET"): SIGNED_IN | {"token_evaluate", "token_read", "token_write"},
    ("api/flags/audit", "GET"): VIEWERS,
    ("api/flags/<str:key>/", "GET"): VIEWERS,
    ("api/flags/<str:key>/", "PATCH"): CHANGERS,
    ("api/flags/<str:key>/", "PUT"): CHANGERS,
    ("api/flags/<str:key>/", "DELETE"): DELETERS,
    ("api/flags/<str:key>/restore/", "POST"): DELETERS,
    ("api/flags/<str:key>/users/", "GET"): VIEWERS,
    ("api/flags/<str:key>/users/", "POST"): CHANGERS,
    ("api/flags/<str:key>/users/", "PUT"): CHANGERS,
    ("api/flags/<str:key>/users/remove/", "POST"): CHANGERS,
    ("api/flags/<str:key>/users/count/", "GET"): VIEWERS,
    ("api/flags/<str:key>/rules/", "GET"): VIEWERS,
    ("api/flags/<str:key>/rules/", "PUT"): CHANGERS,
    ("api/flags/<str:key>/variants/", "GET"): VIEWERS,
    ("api/flags/<str:key>/variants/", "PUT"): CHANGERS,
    ("api/flags/<str:key>/constraints/", "GET"): VIEWERS,
    ("api/flags/<str:key>/constraints/", "PUT"): CHANGERS,
    # OFREP: public keys and sessions get the public answer (client-side flags), server tokens all flags.
    ("api/ofrep/v1/evaluate/flags", "POST"): SIGNED_IN | {"token_evaluate", "token_read", "token_write"},
    ("api/ofrep/v1/evaluate/flags/<str:key>", "POST"): SIGNED_IN | {"token_evaluate", "token_read", "token_write"},
    ("api/schema/", "GET"): VIEWERS,
    ("api/docs/", "GET"): VIEWERS,
    # Plain Django views of featureflags.experiments (not DRF): the CSV export reads experiment data;
    # the feedback form is for end users (anyone, CSRF-protected in a browser).
    ("api/experiments/<str:key>/<str:kind>.csv", "GET"): VIEWERS,
    ("api/experiments/<str:key>/feedback/", "POST"): EVERYONE,
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_endpoints() -> list[tuple[str, object]]:
    return [(route, callback) for route, callback in _walk(get_resolver().url_patterns) if route.startswith("api/")]


def _methods_of(route: str, callback) -> list[str]:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        return [m for m in METHODS if hasattr(view_class, m.lower())]
    # A plain function view: its methods are those not answered 405.
    url = _url(route)
    return [m for m in METHODS if getattr(Client(), m.lower())(url).status_code != 405]


def _url(route: str) -> str:
    path = re.sub(r"<str:kind>", "feedback", route)
    return "/" + re.sub(r"<str:key>", "matrix", path)


def discovered() -> set[tuple[str, str]]:
    return {(route, method) for route, callback in api_endpoints() for method in _methods_of(route, callback)}


def test_every_endpoint_and_method_has_an_entry():
    found = discovered()
    missing = sorted(found - set(ALLOWED))
    stale = sorted(set(ALLOWED) - found)
    assert not missing, f"Endpoints without an authorisation entry (add them to ALLOWED): {missing}"
    assert not stale, f"Entries for endpoints that do not exist: {stale}"


def _user(name: str, *codenames: str, staff: bool = True, superuser: bool = False) -> User:
    user = User.objects.create_user(name, is_staff=staff, is_superuser=superuser)  # no password: no hashing
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="featureflags", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def _token(name: str, scope: str, revoked: bool = False) -> str:
    _token, secret = ApiToken.objects.issue(name, scope)
    if revoked:
        ApiToken.objects.revoke(name)
    return secret


@pytest.fixture
def principals() -> dict[str, APIClient]:
    users = {
        "plain": _user("plain", staff=False),
        "staff_none": _user("staff_none"),
        "staff_view": _user("staff_view", "view_flag"),
        "staff_change": _user("staff_change", "change_flag"),
        "staff_kill": _user("staff_kill", "kill_flag"),
        "staff_add": _user("staff_add", "add_flag"),
        "staff_delete": _user("staff_delete", "delete_flag"),
        "superuser": _user("superuser", superuser=True),
    }
    secrets = {
        "token_evaluate": _token("t-evaluate", "evaluate"),
        "token_read": _token("t-read", "read"),
        "token_write": _token("t-write", "write"),
        "token_revoked": _token("t-revoked", "write", revoked=True),
        "token_garbage": "ff_" + "x" * 43,
    }
    clients: dict[str, APIClient] = {"anonymous": APIClient()}
    for name, user in users.items():
        clients[name] = APIClient()
        clients[name].force_login(user)
    for name, secret in secrets.items():
        clients[name] = APIClient()
        clients[name].credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return clients


BODIES = {
    "POST": {"key": "made-by-matrix", "users": ["1"], "keys": ["matrix"], "context": {}},
    "PUT": {"version": 999, "users": ["1"], "rules": [], "variants": [], "constraints": []},
    "PATCH": {"version": 999},
    "DELETE": None,
    "GET": None,
}


@pytest.mark.parametrize("route,method", sorted(ALLOWED))
def test_authorization(route, method, principals):
    services.create_flag("matrix", enabled=True, client_side=True, actor="test")
    url = _url(route)
    wrong = []
    for principal in PRINCIPALS:
        client = principals[principal]
        body = BODIES[method]
        response = (
            getattr(client, method.lower())(url, body, format="json") if body else getattr(client, method.lower())(url)
        )
        allowed = principal in ALLOWED[(route, method)]
        got_in = response.status_code not in (401, 403)
        assert response.status_code < 500, (principal, method, url, response.status_code)
        if allowed != got_in:
            wrong.append(f"{principal}: {'allowed' if allowed else 'refused'} expected, got {response.status_code}")
    assert not wrong, f"{method} {url}: " + "; ".join(wrong)
