"""``Authorization: Bearer <token>``: the request acts as the token, within its scope."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from .models import ApiToken


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
        token = ApiToken.objects.authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return self.keyword
