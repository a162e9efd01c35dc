"""API tokens: a name, one scope, and only the SHA-256 of the secret."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a token may do; each scope includes the ones before it."""

    EVALUATE = "evaluate", _("evaluate: decisions only (client keys, may be public)")
    READ = "read", _("read: flags, lists and the audit log")
    WRITE = "write", _("write: everything")


SCOPE_ORDER = [Scope.EVALUATE, Scope.READ, Scope.WRITE]
TOKEN_PREFIX = "ff_"


def hash_secret(secret: str) -> str:
    # The secrets are 256 random bits: a fast hash is enough, no salt or stretching needed.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def audit_token(token: ApiToken, action: str, actor: str, source: str, before=None, after=None) -> None:
    """Token changes go to the audit log too (no flag: ``flag_key`` is empty, the token is named)."""
    from featureflags.models import AuditEntry

    AuditEntry.objects.create(
        actor=(actor or "system")[:200],
        source=source,
        source_detail=f"token:{token.name}"[:500],
        action=action,
        flag_key="",
        before=before,
        after=after,
    )


def token_state(token: ApiToken) -> dict[str, object]:
    return {"token": token.name, "scope": token.scope, "hint": token.hint, "revoked": token.revoked}


class ApiTokenManager(models.Manager):
    def issue(self, name: str, scope: str, created_by: str = "", source: str = "code") -> tuple[ApiToken, str]:
        """Create a token (audited as ``token_create``); returns it and its secret, which is shown
        once and never stored.

        >>> token, secret = ApiToken.objects.issue("ci", "read")
        """
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with transaction.atomic():
            token = self.create(
                name=name, scope=scope, digest=hash_secret(secret), hint=secret[:8], created_by=created_by
            )
            audit_token(token, "token_create", created_by, source, after=token_state(token))
        return token, secret

    def revoke(self, name: str, actor: str = "", source: str = "code") -> ApiToken | None:
        """Revoke the token called ``name`` (audited as ``token_revoke``); None when there is none."""
        with transaction.atomic():
            token = self.select_for_update().filter(name=name).first()
            if token is None:
                return None
            if not token.revoked:
                before = token_state(token)
                self.filter(pk=token.pk).update(revoked=True)
                token.revoked = True
                audit_token(token, "token_revoke", actor, source, before=before, after=token_state(token))
        return token

    def authenticate(self, secret: str) -> ApiToken | None:
        token = self.filter(digest=hash_secret(secret), revoked=False).first()
        if token is not None:
            now = timezone.now()
            # One write a minute at most: a busy client key must not write on every request.
            if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
                type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return token


class ApiToken(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text=_("Named in the audit log as api:<name>."))
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text=_("The first characters, to recognise it."))
    revoked = models.BooleanField(default=False)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.scope})"

    def allows(self, scope: str) -> bool:
        """Does this token's scope include ``scope``?"""
        return SCOPE_ORDER.index(Scope(self.scope)) >= SCOPE_ORDER.index(Scope(scope))

    @property
    def actor(self) -> str:
        return f"api:{self.name}"
