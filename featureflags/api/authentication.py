"""``Authorization: Bearer <token>``: the request acts as the token, within its scope."""

from __future__ import annotations

import threading
import time

from django.db import DatabaseError
from rest_framework import authentication, exceptions

from .models import ApiToken, hash_secret

# Tokens seen recently, by digest: used only while the database cannot be reached, so that
# the evaluate endpoints keep answering from memory (a revocation takes effect once it is back).
RECENT_TOKEN_SECONDS = 15 * 60
_recent: dict[str, tuple[float, ApiToken]] = {}
_recent_lock = threading.Lock()


def _remember(token: ApiToken, digest: str) -> None:
    with _recent_lock:
        if len(_recent) > 10_000:
            _recent.clear()
        _recent[digest] = (time.monotonic(), token)


def _recalled(digest: str) -> ApiToken | None:
    with _recent_lock:
        found = _recent.get(digest)
    if found is None or time.monotonic() - found[0] > RECENT_TOKEN_SECONDS:
        return None
    return found[1]


class TokenUser:
    """The ``request.user`` of a token request: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = token.actor

    def __str__(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj=None) -> bool:
        return False


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>' with one token.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("A token is ASCII.") from None
        return self.authenticate_secret(secret)

    def authenticate_secret(self, secret: str):
        """The token whose secret this is (a 401 when none), or, with the database down, one seen recently."""
        digest = hash_secret(secret)
        try:
            token = ApiToken.objects.authenticate(secret)
        except DatabaseError:
            token = _recalled(digest)
            if token is None:
                raise  # answered 503 with Retry-After (featureflags.api.errors)
            return TokenUser(token), token
        if token is not None:
            _remember(token, digest)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return self.keyword
