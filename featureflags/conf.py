"""The ``FEATUREFLAGS`` setting: one dict, documented defaults, reloaded by ``override_settings``.

FEATUREFLAGS = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ENVIRONMENT": "production",
}

from featureflags.conf import flag_settings
flag_settings.MAX_STALENESS
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # Redis that mirrors the flags between processes; None: an in-process
    # mirror fed by the database (single-process sites, development). Falls back
    # to the REDIS_URL environment variable.
    "REDIS_URL": None,
    # Prefix of every Redis key and of the pub/sub channel.
    "KEY_PREFIX": "featureflags",
    # Seconds between two checks of the database's head by each process (one primary-key
    # query): the longest a change may take to reach every process when Redis, its
    # pub/sub or the writer fails. Normally a change arrives by pub/sub in milliseconds.
    "MAX_STALENESS": 1.0,
    # Socket timeout (seconds) of the mirror's Redis calls; never on the hot path.
    "REDIS_TIMEOUT": 0.5,
    # Redis Sentinel: ["host:port", ...] of the sentinels; the mirror then talks to
    # the current primary of REDIS_SENTINEL_SERVICE (db and password from REDIS_URL).
    "REDIS_SENTINELS": None,
    "REDIS_SENTINEL_SERVICE": "mymaster",
    # REDIS_URL names a node of a Redis Cluster (the mirror's keys share one hash slot).
    "REDIS_CLUSTER": False,
    # The last-known-good file, read only when neither Redis nor the database answers at
    # start-up: None, a file in the temporary directory named after the database and the
    # prefix; a path; or False (no file).
    "SNAPSHOT_FILE": None,
    # This deployment's environment name (flags limited to environments use it).
    "ENVIRONMENT": None,
    # Attribute of request.user used as the user id: "pk", "username", "email",
    # or a dotted path to a callable taking the user.
    "USER_ID_ATTRIBUTE": "pk",
    # Dotted path to a callable (request) -> dict of extra context attributes.
    "CONTEXT": None,
    # Cookie that keeps an anonymous visitor's id (signed, HttpOnly).
    "ANONYMOUS_COOKIE": "featureflags_aid",
    "ANONYMOUS_COOKIE_MAX_AGE": 60 * 60 * 24 * 365,
    # Files and directories the system check W001 scans for flag keys; None: the
    # template DIRS and the installed apps inside BASE_DIR (tests are skipped).
    "REFERENCE_PATHS": None,
    # Keep the snapshot current from a background thread (pub/sub, or polling the
    # database without Redis). Off only for test suites and one-shot scripts.
    "SYNC_THREAD": True,
    # Who is named in the audit log when no actor is given.
    "DEFAULT_ACTOR": "system",
    # Guardrails (featureflags.guardrails). Flags whose errors the middleware
    # attributes: None means every flag with an error_threshold, else a list of keys.
    "GUARDRAIL_FLAGS": None,
    # Exception classes (dotted paths) that count against a flag, and those that never do.
    "GUARDRAIL_EXCEPTIONS": ["builtins.Exception"],
    "GUARDRAIL_IGNORED_EXCEPTIONS": [
        "django.http.Http404",
        "django.core.exceptions.PermissionDenied",
        "django.core.exceptions.SuspiciousOperation",
    ],
    # Called when a guardrail turns a flag off: dotted paths of callables (trip) -> None.
    "GUARDRAIL_NOTIFIERS": [
        "featureflags.guardrails.notifiers.log_trip",
        "featureflags.guardrails.notifiers.post_webhook",
    ],
    # The webhook notifier: POSTs JSON, signed with HMAC-SHA256 of the body in X-Featureflags-Signature.
    "GUARDRAIL_WEBHOOK_URL": None,
    "GUARDRAIL_WEBHOOK_SECRET": None,
    "GUARDRAIL_WEBHOOK_TIMEOUT": 2.0,
    # Seconds between sending batched error/slow-call counts to Redis (never one round trip per call).
    "GUARDRAIL_FLUSH_INTERVAL": 0.25,
    # Count evaluations per flag (featureflags.usage): in-process, flushed to Redis in the background.
    "USAGE_COUNTING": True,
    "USAGE_FLUSH_INTERVAL": 10.0,
    # Experiments (featureflags.experiments): record each unit's first exposure to a variant
    # (needs Redis or a hook); queued in-process, sent every EXPERIMENT_FLUSH_INTERVAL seconds.
    "EXPOSURES": True,
    # Dotted path to a callable (list of Exposure) -> None that forwards exposures to your analytics.
    "EXPOSURE_HOOK": None,
    "EXPERIMENT_FLUSH_INTERVAL": 1.0,
    # Days experiment data lives in Redis after its last write.
    "EXPERIMENT_DATA_DAYS": 90,
    # Fewer exposures than this in a variant: the results page warns that the sample is too small.
    "EXPERIMENT_MIN_SAMPLE": 100,
    # -- security (docs/security.md) --
    # Attributes a browser may send to the client endpoint (e.g. ["region", "plan"]). The ones
    # that identify or privilege the user (user_id, is_staff, is_superuser, groups, ip, what
    # CONTEXT derives) always come from the server and are never taken from the browser.
    "CLIENT_ATTRIBUTES": [],
    # The HMAC-SHA256 secret of secure mode (featureflags.secure_hash); None: derived from SECRET_KEY.
    "SECURE_MODE_SECRET": None,
    # Rate limits of the public endpoints (client, evaluate with an evaluate-scope key or a
    # session), DRF's "number/period" syntax, counted in RATE_LIMIT_CACHE; None turns one off.
    "RATE_LIMIT_PER_KEY": "1200/min",
    "RATE_LIMIT_PER_ADDRESS": "600/min",
    "RATE_LIMIT_CACHE": "default",
    # Serve /api/schema/ and /api/docs/ to anyone (False: a read-scope token or staff with view_flag).
    "PUBLIC_API_SCHEMA": False,
    # Days an archived (deleted) flag and its user lists are kept before `flags purge --expired`
    # removes them; None: only an explicit `flags purge KEY`.
    "PURGE_ARCHIVED_AFTER_DAYS": 30,
}

IMPORT_STRINGS = ("CONTEXT",)


class FlagSettings:
    """Attribute access to ``settings.FEATUREFLAGS`` merged over :data:`DEFAULTS`."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "FEATUREFLAGS", {}) or {}
        unknown = set(value) - set(DEFAULTS)
        if unknown:
            raise ImproperlyConfigured(
                f"Unknown FEATUREFLAGS setting(s): {', '.join(sorted(unknown))}. Known: {', '.join(sorted(DEFAULTS))}."
            )
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid FEATUREFLAGS setting: {name!r}")
        if name in self._cache:
            return self._cache[name]
        user_settings = self.user_settings
        value = user_settings.get(name, DEFAULTS[name])
        if name == "REDIS_URL" and name not in user_settings:
            value = os.environ.get("REDIS_URL") or None  # an explicit None keeps Redis off
        if name in IMPORT_STRINGS and isinstance(value, str):
            value = import_string(value, name)
        self._cache[name] = value
        return value

    def reload(self) -> None:
        self._cache.clear()


def import_string(path: str, setting: str) -> Any:
    module_path, _, attribute = path.rpartition(".")
    try:
        return getattr(import_module(module_path), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImproperlyConfigured(f"FEATUREFLAGS[{setting!r}]: cannot import {path!r}: {exc}") from exc


flag_settings = FlagSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "FEATUREFLAGS":
        flag_settings.reload()  # the store listens to the same signal and starts again


setting_changed.connect(_reload)
