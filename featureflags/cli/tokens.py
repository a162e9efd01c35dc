"""``flags tokens list|create NAME --scope S|revoke NAME``: API tokens (the secret is shown once)."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError

from ._common import actor, add_json, print_json

help = "Manage API tokens: list, create NAME --scope evaluate|read|write, revoke NAME."


def add_arguments(parser) -> None:
    parser.add_argument("action", choices=("list", "create", "revoke"))
    parser.add_argument("name", nargs="?")
    parser.add_argument("--scope", choices=("evaluate", "read", "write"), default="read")
    add_json(parser)


NOT_INSTALLED = (
    "API tokens belong to the REST API app: pip install 'featureflags[api]', add \"rest_framework\" and "
    '"featureflags.api" to INSTALLED_APPS, then run manage.py migrate.'
)


def handle(command, options) -> None:
    if not apps.is_installed("featureflags.api"):
        raise CommandError(NOT_INSTALLED)
    try:
        _handle(command, options)
    except DatabaseError as error:  # installed, but its table is missing
        raise CommandError(f"The API tokens table cannot be read ({error}); run manage.py migrate.") from error


def _handle(command, options) -> None:
    from featureflags.api.models import ApiToken  # only importable with the app installed

    action, name = options["action"], options["name"]
    if action == "list":
        rows = [
            {"name": t.name, "scope": t.scope, "hint": t.hint, "revoked": t.revoked, "last_used_at": t.last_used_at}
            for t in ApiToken.objects.all()
        ]
        if options["json"]:
            print_json(command, rows)
        for row in [] if options["json"] else rows:
            state = "revoked" if row["revoked"] else "active"
            command.stdout.write(f"{row['name']:<30} {row['scope']:<9} {row['hint']}…  {state}")
        return
    if not name:
        raise CommandError(f"tokens {action} needs a NAME.")
    if action == "create":
        try:
            token, secret = ApiToken.objects.issue(name, options["scope"], created_by=actor(options), source="cli")
        except IntegrityError as error:
            raise CommandError(f"A token called {name!r} exists already.") from error
        if options["json"]:
            print_json(command, {"name": token.name, "scope": token.scope, "token": secret})
        else:
            command.stdout.write(f"{secret}\n(scope {token.scope}; shown once, store it now)")
        return
    if ApiToken.objects.revoke(name, actor=actor(options), source="cli") is None:
        raise CommandError(f"No token is called {name!r}.")
    command.stdout.write(command.style.SUCCESS(f"Revoked {name}."))
