"""``flags import FILE [--format native|config] [--dry-run]`` and ``flags import --format hanoi --redis-url URL``.

All or nothing: every error of every flag is listed and nothing changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from featureflags import services
from featureflags.formats import config_file, hanoi_redis, native
from featureflags.formats.loading import load

from ._common import actor, add_json, print_json
from ._progress import progress

help = "Import flags from a native export, a features_config.json (--format config) or a hanoi Redis (--format hanoi)."


def add_arguments(parser) -> None:
    parser.add_argument("file", nargs="?", help="The file to import ('-' for standard input).")
    parser.add_argument("--format", choices=("native", "config", "hanoi"), default=None, help="Default: guessed.")
    parser.add_argument("--dry-run", action="store_true", help="Print what would change; change nothing.")
    parser.add_argument("--redis-url", help="hanoi: the Redis holding rollout:* keys.")
    parser.add_argument("--key-prefix", default="", help="hanoi: a prefix before rollout:.")
    parser.add_argument("--no-progress", action="store_true")
    add_json(parser)


def handle(command, options) -> None:
    definitions, source_detail = _read(options)
    progress = None if options["no_progress"] or options["json"] else _progress
    try:
        report = load(
            definitions,
            dry_run=options["dry_run"],
            actor=actor(options),
            source_detail=source_detail,
            progress=progress,
        )
    except ValidationError as error:
        raise CommandError(_errors(error)) from error
    if options["json"]:
        print_json(command, {"dry_run": options["dry_run"], "flags": report})
        return
    for key, status in report.items():
        command.stdout.write(f"{status:<10} {key}")
    counts = {s: list(report.values()).count(s) for s in ("created", "updated", "unchanged")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    prefix = "Dry run, nothing changed: " if options["dry_run"] else "Imported: "
    command.stdout.write(command.style.SUCCESS(prefix + summary + "."))


def _read(options) -> tuple[dict, str]:
    fmt = options["format"]
    try:
        if fmt == "hanoi":
            if not options["redis_url"]:
                raise CommandError("--format hanoi needs --redis-url.")
            import redis

            client = redis.Redis.from_url(options["redis_url"])
            detail = f"hanoi {options['redis_url']} {options['key_prefix']}".strip()
            return hanoi_redis.read_keyspace(client, options["key_prefix"]), detail
        if not options["file"]:
            raise CommandError("Name the file to import.")
        data = _load_json(options["file"])
        if fmt is None:
            fmt = "native" if isinstance(data, dict) and data.get("format") == native.FORMAT_NAME else "config"
        detail = Path(options["file"]).name if options["file"] != "-" else "stdin"
        if fmt == "native":
            return native.parse_export(data), detail
        return _read_config(data), detail
    except ValidationError as error:
        raise CommandError(_errors(error)) from error


def _read_config(data) -> dict:
    """features_config.json definitions; with a bad field, the other flags' problems are listed too."""
    definitions, errors = config_file.read_config(data)
    if errors:
        try:
            services.apply_definitions(definitions, dry_run=True)
        except ValidationError as more:
            for field, messages in more.message_dict.items():
                errors.setdefault(field, []).extend(m for m in messages if m not in errors.get(field, []))
        raise ValidationError(errors)
    return definitions


def _load_json(path: str):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error}") from error
    except ValueError as error:  # UnicodeDecodeError too: the file is not UTF-8
        raise CommandError(f"{path} is not JSON: {error}") from error
    except RecursionError:
        raise CommandError(f"{path} is nested too deeply to be a flag file.") from None


def _errors(error: ValidationError) -> str:
    lines = [f"  {field}: {' '.join(messages)}" for field, messages in sorted(error.message_dict.items())]
    return "Nothing was imported. Errors:\n" + "\n".join(lines)


def _progress(ids, total: int, label: str):
    return progress(ids, label, total=total, minimum=10_000)
