"""Secure mode: a public (evaluate-scope) key evaluates a user only with the backend's signature.

The backend signs the user id it vouches for and hands it to the page; the browser
sends it back with the id. Without the secret, nobody can ask about another user::

    # a view or template of your site
    featureflags.secure_hash(str(request.user.pk))      # or {% feature_flags_secure_hash user_id %}

The secret is ``FEATUREFLAGS["SECURE_MODE_SECRET"]``; unset, one derived from
``SECRET_KEY`` (so it works out of the box, and changes when SECRET_KEY does).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

from .conf import flag_settings

_DERIVATION_SALT = b"featureflags.secure_mode"


def _secret() -> bytes:
    configured = flag_settings.SECURE_MODE_SECRET
    if configured:
        return configured.encode("utf-8") if isinstance(configured, str) else bytes(configured)
    return hashlib.sha256(_DERIVATION_SALT + settings.SECRET_KEY.encode("utf-8")).digest()


def secure_hash(user_id: object) -> str:
    """HMAC-SHA256 of the user id with the secure-mode secret, hex: what the browser sends as ``user_hash``.

    >>> featureflags.secure_hash("42")
    '5f0c...'
    """
    return hmac.new(_secret(), str(user_id).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def verify(user_id: object, signature: object) -> bool:
    """Is ``signature`` the backend's for ``user_id``? Constant time; False for anything malformed."""
    if not isinstance(signature, str) or not signature or len(signature) > 128:
        return False
    return hmac.compare_digest(
        secure_hash(user_id).encode("ascii"), signature.strip().lower().encode("utf-8", "replace")
    )
