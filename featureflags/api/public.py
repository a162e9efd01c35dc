"""What a public caller (a browser: an evaluate-scope key or a session) may learn, and about whom.

- Only client-side flags (``Flag.client_side``), evaluated; any other key asked for reads as off,
  exactly like an unknown one, so the answer does not even say which flags exist.
- The user is the session's, or, with a key and no session, the ``user_id`` the backend signed
  (secure mode, :mod:`featureflags.secure_mode`); a missing or forged signature is a 403.
- The attributes that identify or privilege someone come from the server (the request, the
  signed-in user, the project's ``CONTEXT`` callable); the browser's pass only when named in
  ``CLIENT_ATTRIBUTES``, and never over a server-side one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import PermissionDenied

from featureflags import secure_mode
from featureflags.conf import flag_settings
from featureflags.context import context_from_request
from featureflags.engine import Context
from featureflags.store import runtime

from .models import ApiToken

# Never taken from a browser, whatever CLIENT_ATTRIBUTES says.
PROTECTED_ATTRIBUTES = frozenset(
    {
        "user_id",
        "anonymous_id",
        "environment",
        "is_authenticated",
        "is_staff",
        "is_superuser",
        "is_active",
        "groups",
        "ip",
        "user_agent",
        "language",
    }
)
OFF = {"enabled": False, "variant": None, "value": None}


def allowed_attributes(claimed: Mapping[str, Any], server: Mapping[str, Any]) -> dict[str, Any]:
    """The browser's attributes that the allow-list lets through (server-derived names never)."""
    allow = set(flag_settings.CLIENT_ATTRIBUTES or ()) - PROTECTED_ATTRIBUTES
    return {name: value for name, value in claimed.items() if name in allow and name not in server}


def public_context(
    request,
    *,
    user_id: Any = None,
    user_hash: Any = None,
    anonymous_id: Any = None,
    attributes: Mapping[str, Any] | None = None,
) -> Context:
    """The context a public caller is evaluated in; PermissionDenied for an unsigned ``user_id``."""
    server = context_from_request(_as_the_server_knows_it(request))  # the user, the address, CONTEXT's attributes
    if server.user_id is None and user_id not in (None, ""):
        # No session: the key may name a user only with the backend's signature of that id.
        if user_hash in (None, ""):
            raise PermissionDenied("Evaluating a user_id with a public key needs its user_hash (secure mode).")
        if not secure_mode.verify(user_id, user_hash):
            raise PermissionDenied("The user_hash is not the signature of this user_id.")
        chosen_user = str(user_id)
    else:
        chosen_user = server.user_id  # a session asks about itself only
    chosen_anonymous = server.anonymous_id or (str(anonymous_id) if anonymous_id not in (None, "") else None)
    return Context(
        user_id=chosen_user,
        anonymous_id=chosen_anonymous,
        attributes={**allowed_attributes(attributes or {}, server.attributes), **server.attributes},
        environment=server.environment,
    )


class _KeyCaller:
    """The request of a caller that presented a key: nobody is signed in (DRF put the token's own
    user on the request), and the middleware's context, with the anonymous id it minted for this
    one request, is not the visitor's (the page's own id, from its cookie or its parameter, is)."""

    user = AnonymousUser()

    def __init__(self, request: Any) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_featureflags"):
            raise AttributeError(name)
        return getattr(self._request, name)


def _as_the_server_knows_it(request) -> Any:
    django_request = request._request
    return _KeyCaller(django_request) if isinstance(request.auth, ApiToken) else django_request


def client_decisions(keys: Iterable[str] | None, context: Context) -> tuple[int, dict[str, dict[str, Any]]]:
    """The snapshot's version and ``{key: {"enabled", "variant", "value"}}`` for client-side flags only."""
    snapshot = runtime.current()
    visible = {key for key, flag in snapshot.flags.items() if flag.client_side}
    wanted = sorted(visible) if keys is None else list(dict.fromkeys(keys))
    results: dict[str, dict[str, Any]] = {}
    for key in wanted:
        if key in visible:
            decision = snapshot.evaluate(key, context)
            results[key] = {"enabled": decision.enabled, "variant": decision.variant, "value": decision.value}
        else:
            results[key] = dict(OFF)
    return snapshot.version, results
