"""``flags purge KEY`` / ``flags purge --expired`` / ``flags purge --list``: archived flags, gone for good."""

from __future__ import annotations

from django.core.management.base import CommandError

from ._common import actor, add_json, print_json, write_call

help = "Remove archived (deleted) flags and their user lists for good: KEY, --expired, or --list them."


def add_arguments(parser) -> None:
    parser.add_argument("key", nargs="?", help="An archived flag.")
    parser.add_argument(
        "--expired", action="store_true", help="Every flag archived longer than PURGE_ARCHIVED_AFTER_DAYS."
    )
    parser.add_argument("--list", action="store_true", help="List the archived flags, purge nothing.")
    add_json(parser)


def handle(command, options) -> None:
    from featureflags import services
    from featureflags.conf import flag_settings

    if options["list"]:
        rows = [
            {"key": f.key, "archived_at": f.archived_at, "archived_by": f.archived_by}
            for f in services.archived_flags()
        ]
        if options["json"]:
            print_json(command, rows)
        for row in [] if options["json"] else rows:
            command.stdout.write(
                f"{row['key']:<40} archived {row['archived_at']:%Y-%m-%d %H:%M} by {row['archived_by']}"
            )
        return
    if options["expired"] == bool(options["key"]):
        raise CommandError("Name one archived flag, or pass --expired (not both).")
    if options["expired"]:
        if flag_settings.PURGE_ARCHIVED_AFTER_DAYS is None:
            raise CommandError("PURGE_ARCHIVED_AFTER_DAYS is None: archived flags are purged only one by one.")
        keys = write_call(
            lambda **kwargs: services.purge_expired(actor=kwargs["actor"], source=kwargs["source"]),
            actor=actor(options),
        )
        command.stdout.write(command.style.SUCCESS(f"Purged {len(keys)} flag(s): {', '.join(keys) or 'none'}."))
        return
    ids = write_call(services.purge_flag, options["key"], actor=actor(options))
    command.stdout.write(command.style.SUCCESS(f"Purged {options['key']} and its {ids} user id(s)."))
