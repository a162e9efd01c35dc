"""System checks (``manage.py check``).

- ``featureflags.W001``: a flag named in templates or Python code does not exist.
- ``featureflags.W002``: Redis is configured but does not answer.
- ``featureflags.W003``: the template tags are used but the middleware is not installed.
"""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import Warning, register

from .conf import flag_settings
from .references import Reference, find_references
from .store import connection

MIDDLEWARE_PATH = "featureflags.middleware.FeatureFlagsMiddleware"
TEMPLATE_TAG_KINDS = frozenset({"if_feature", "variant", "feature_flags_json"})
# Tests name flags that need not exist (override_flag); they are not the project's usage:
# tests/ directories, Django's default tests.py, test_*.py, *_test(s).py and conftest.py.
_TEST_FILE = re.compile(r"(^|[/\\])(tests?[/\\]|tests?\.py$|test_[^/\\]*\.py$|[^/\\]*_tests?\.py$|conftest\.py$)")
# Forcing a flag in a test (featureflags.testing) is not a use of it, wherever the call is.
NOT_USAGE_KINDS = frozenset({"override_flag"})
SHOWN_PLACES = 3
LIBRARY_APPS = frozenset({"featureflags_dashboard"})  # shipped beside the featureflags package


def reference_paths() -> list[Path]:
    """Where W001 looks: ``FEATUREFLAGS["REFERENCE_PATHS"]``, else the project's template
    directories and the installed apps that live inside the project (``BASE_DIR``)."""
    configured = flag_settings.REFERENCE_PATHS
    if configured is not None:
        return [Path(p) for p in configured]
    base = getattr(settings, "BASE_DIR", None)
    found: list[Path] = []
    for engine in settings.TEMPLATES:
        found.extend(Path(d) for d in engine.get("DIRS", []))
    package = Path(__file__).resolve().parent
    for config in apps.get_app_configs():
        app_path = Path(config.path)
        if app_path == package or package in app_path.parents or config.name in LIBRARY_APPS:
            continue  # this library's own code is not the project's usage
        installed = "site-packages" in app_path.parts or "dist-packages" in app_path.parts
        inside_project = base is None or Path(base) in app_path.parents
        if inside_project and not installed:
            found.append(app_path)
    urlconf = getattr(settings, "ROOT_URLCONF", None)
    if urlconf:  # the project package (settings, urls, views), which is not an app
        try:
            module_file = import_module(urlconf.split(".")[0]).__file__
        except ImportError:
            module_file = None
        if module_file:
            found.append(Path(module_file).resolve().parent)
    return [p for p in dict.fromkeys(found) if p.exists()]


def project_references() -> list[Reference]:
    return [
        r for r in find_references(reference_paths()) if not _TEST_FILE.search(r.path) and r.kind not in NOT_USAGE_KINDS
    ]


@register("featureflags")
def check_unknown_flags(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W001: every key used in code or templates must name a flag in the database."""
    from django.db import DatabaseError, transaction

    from .models import Flag

    references = project_references()
    if not references:
        return []
    try:
        with transaction.atomic():  # a savepoint: a missing table must not spoil an enclosing transaction
            known = set(Flag.objects.values_list("key", flat=True))
    except DatabaseError:  # no database or no table yet (before migrate): nothing to compare with
        return []
    missing: dict[str, list[Reference]] = {}
    for reference in references:
        if reference.key not in known:
            missing.setdefault(reference.key, []).append(reference)
    warnings = []
    for key, places in sorted(missing.items()):
        where = ", ".join(f"{r.path}:{r.line}" for r in places[:SHOWN_PLACES])
        more = f" and {len(places) - SHOWN_PLACES} more" if len(places) > SHOWN_PLACES else ""
        warnings.append(
            Warning(
                f"Flag {key!r} is used ({where}{more}) but does not exist; it is always off.",
                hint=f"Create it (dashboard, API or `manage.py flags`), or fix the name at {places[0].path}.",
                obj=key,
                id="featureflags.W001",
            )
        )
    return warnings


@register("featureflags")
def check_redis(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W002: a configured Redis that does not answer (flags then come from the database)."""
    if not connection.configured():
        return []
    try:
        client = connection.new_client()
        client.ping()
        client.close()
    except Exception as exc:
        return [
            Warning(
                f"The flags' Redis ({connection.describe()}) does not answer: {exc}.",
                hint="Checks go on from the database and the last snapshot, but other processes see changes late.",
                id="featureflags.W002",
            )
        ]
    return []


@register("featureflags")
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W003: the template tags are used but FeatureFlagsMiddleware is not installed."""
    if MIDDLEWARE_PATH in getattr(settings, "MIDDLEWARE", []):
        return []
    used = [r for r in project_references() if r.kind in TEMPLATE_TAG_KINDS]
    if not used:
        return []
    return [
        Warning(
            f"The featureflags template tags are used ({used[0].path}:{used[0].line}) "
            f"but {MIDDLEWARE_PATH} is not in MIDDLEWARE.",
            hint="Add it after AuthenticationMiddleware: anonymous visitors then keep their rollout "
            "(a signed cookie) and the context is built once per request.",
            id="featureflags.W003",
        )
    ]


@register("featureflags")
def check_client_attributes(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W004: CLIENT_ATTRIBUTES names an attribute that only the server may set (it is ignored)."""
    try:
        from .api.public import PROTECTED_ATTRIBUTES
    except ImportError:  # Django REST framework is not installed: no client endpoint
        return []
    named = sorted(set(flag_settings.CLIENT_ATTRIBUTES or ()) & PROTECTED_ATTRIBUTES)
    if not named:
        return []
    return [
        Warning(
            f"FEATUREFLAGS['CLIENT_ATTRIBUTES'] names {', '.join(named)}, which only the server sets: "
            "a browser's value for them is always ignored.",
            hint="Remove them; they come from the session, the request and your CONTEXT callable.",
            id="featureflags.W004",
        )
    ]
